"""Extract one news article (title, dates, teaser, body, event details) from the HTML of a page.

One entry point, `extract_article`, pure: HTML and URL in, an ArticleRecord (or None) out. The page is
parsed once with lxml; each concern lives in its own module:

- markup: parsing and the questions every layer asks of an element
- metadata: <meta>, JSON-LD, <title>, canonical link, dates in script blocks
- title: the headline, arbitrated between <h1>, JSON-LD headline, og:title and <title>
- listing: index pages are not articles
- pruning: hidden elements, teaser sections and furniture boxes, before the main text is read
- pubdate: the publication date (machine-readable first, then the visible date by the headline)
- maintext: the body text (trafilatura), rendered as lines that keep detail pairs
- details: event-detail pairs of the body
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

from scrapers.dates import find_dates, plausible
from scrapers.extract.details import detail_blocks, details_from_lines
from scrapers.extract.listing import looks_like_listing
from scrapers.extract.maintext import BodyLine, main_text_lines
from scrapers.extract.markup import (
    NOISE_PARTS,
    Element,
    class_parts,
    drop_tree,
    in_furniture,
    parse_html,
    text_content,
    text_of,
)
from scrapers.extract.metadata import PageMeta, machine_date, read_meta, script_date
from scrapers.extract.pruning import drop_other_articles, prune_page
from scrapers.extract.pubdate import (
    LONG_LINE,
    MODIFIED_LABEL,
    date_line,
    leading_date,
    lines_around_title,
    visible_date,
)
from scrapers.extract.title import find_title
from scrapers.records import ArticleRecord

__all__ = ["Selectors", "ExtractionError", "extract_article", "is_listing_page"]


@dataclass(frozen=True)
class Selectors:
    """Per-source CSS refinements from sources.yml; every field is optional."""

    title: str | None = None
    body: str | None = None
    date: str | None = None
    remove: tuple[str, ...] = ()


class ExtractionError(ValueError):
    """A page could not be processed; the message names the URL and the cause."""


_LEAD_PARTS = frozenset(["lead", "teaser", "intro", "summary", "abstract", "standfirst", "subline", "einleitung",
                         "excerpt", "vorspann"])


def _select(doc: Element, selector: str) -> list[Element]:
    try:
        return CSSSelector(selector, translator="html")(doc)
    except Exception as exc:  # cssselect raises its own error types for bad selectors
        raise ExtractionError(f"invalid CSS selector {selector!r}: {exc}") from exc


def is_listing_page(html: str, url: str) -> bool:
    """True for index pages (news listings, search results, tag pages) rather than one article."""
    doc = parse_html(html) if html and html.strip() else None
    return doc is not None and looks_like_listing(doc, url, read_meta(doc))


def extract_article(html: str, url: str, *, selectors: Selectors | None = None,
                    feed_date: dt.date | None = None) -> ArticleRecord | None:
    """Read the article on a page, or None when the page is not one article.

    Args:
        html: the page markup (any quality; broken markup is repaired by lxml).
        url: the canonical URL, stored on the record and used to spot pagination.
        selectors: optional per-source CSS selectors that override the generic heuristics.
        feed_date: the date the feed or sitemap gave for this URL, used when the page shows none.

    Raises:
        ExtractionError: for an invalid CSS selector, or when the markup cannot be processed.
    """
    if not html or not html.strip():
        return None
    try:
        return _extract(html, url, selectors, feed_date)
    except ExtractionError:
        raise
    except (RecursionError, ValueError, TypeError, AttributeError, LookupError, etree.Error) as exc:
        raise ExtractionError(f"cannot extract an article from {url}: {type(exc).__name__}: {exc}") from exc


def _find_teaser(doc: Element, title_el: Element | None, meta: PageMeta) -> str | None:
    """The lead paragraph the page shows by its headline, else the page's description."""
    for el in doc.iter("p", "div", "section", "strong"):
        if not class_parts(el) & _LEAD_PARTS:
            continue
        if title_el is not None and (el is title_el or any(d is title_el for d in el.iterdescendants("h1"))):
            continue
        # A teaser card of another article (a headline link) or a box around the page is no lead.
        if any(len(text_content(a).strip()) >= 15 for a in el.iter("a")) or in_furniture(el) or any(
                class_parts(a) & NOISE_PARTS for a in el.iterancestors()):
            continue
        text = text_of(el)
        if 20 <= len(text) <= 1500:
            return text
    return meta.description or None


# Over the C901 bound: the extraction steps in order, each with its fallback.
def _extract(html: str, url: str, selectors: Selectors | None, feed_date: dt.date | None) -> ArticleRecord | None:  # noqa: C901
    feed_date = plausible(feed_date, f"{url}: feed or sitemap date")
    doc = parse_html(html)
    if doc is None or doc.find("body") is None:
        return None
    meta = read_meta(doc)
    selectors = selectors or Selectors()
    # A body selector says where the article is, so the page is read even when it looks like a listing.
    if not selectors.body and looks_like_listing(doc, url, meta):
        return None
    title, title_el = None, None
    if selectors.title:
        found = [el for el in _select(doc, selectors.title) if text_of(el)]
        if found:
            title, title_el = text_of(found[0]), found[0]
    if not title:
        title, title_el = find_title(doc, meta, url)
    if not title:
        return None

    selector_date = None
    if selectors.date:
        found = _select(doc, selectors.date)
        if found:
            selector_date = machine_date(found[0].get("datetime") or found[0].get("content") or text_of(found[0]))

    for sel in selectors.remove:
        for el in _select(doc, sel):
            if el.getparent() is not None:
                drop_tree(el)
    if selectors.body:
        found = _select(doc, selectors.body)
        if found:
            body = doc.find("body")
            for child in list(body):
                body.remove(child)
            body.append(found[0])
    furniture = prune_page(doc, title_el)
    teaser = _find_teaser(doc, title_el, meta)
    facts = detail_blocks(doc)

    # Date: what the page states for machines, then the visible date by the title, then a script block,
    # then the feed's date; htmldate's reading of the whole page only when all of these are silent.
    nearby, time_date = lines_around_title(doc, title_el, teaser)
    reference = meta.published or feed_date
    shown, shown_modified = visible_date(nearby, reference, teaser)
    # A visible "Stand: ..." is the day of the version shown, the best date a page without any other has.
    published = (selector_date or meta.published or time_date or shown or script_date(doc) or feed_date
                 or shown_modified)
    modified = meta.modified or shown_modified

    lines = [ln for ln in main_text_lines(doc, url)
             if ln.pair or not _in_furniture_box(ln.text, furniture)]
    body_lines, modified = _clean_body(lines, title, teaser, published, reference, modified)
    if not body_lines:
        return None
    in_body = {ln.text for ln in body_lines}
    body_lines += [BodyLine(f"{k}: {v}", pair=True) for k, v in facts if f"{k}: {v}" not in in_body]
    details = details_from_lines((ln.text, ln.pair) for ln in body_lines)
    if published is None:
        published = _page_date(doc, url, body_lines, reference)
    # The page's rel=canonical names the article's identity; the caller decides whether to trust it.
    canonical = urljoin(url, meta.canonical) if meta.canonical else url
    return ArticleRecord(
        url=canonical if urlsplit(canonical).scheme in ("http", "https") else url,
        title=title,
        body_text="\n".join(ln.text for ln in body_lines),
        published_date=published,
        teaser=teaser,
        modified_date=modified,
        author=meta.author,
        language=meta.language,
        details=details,
    )


def _in_furniture_box(line: str, boxes: list[str]) -> bool:
    """The line is a furniture box's text, or a sentence-sized piece of one (a word such as a name in a
    share bar may also stand alone in the article)."""
    if len(line) > 300:
        return False
    return any(line == box or (len(line) >= 30 and line in box) for box in boxes)


_REPEATED_DATELINES = 5


def _clean_body(lines: list[BodyLine], title: str, teaser: str | None, published: dt.date | None,
                reference: dt.date | None, modified: dt.date | None) -> tuple[list[BodyLine], dt.date | None]:
    """The body without its title, the date lines by the title and page furniture lines."""
    kept: list[BodyLine] = []
    in_head = True  # before the first running text: where title, date and byline lines stand
    title_norm = " ".join(title.split()).lower()
    for ln in lines:
        text = ln.text
        if in_head and text.lower() == title_norm:
            continue
        if not text or (len(text) <= 2 and not text.isalnum()):
            continue
        if not ln.pair and len(text) <= LONG_LINE and any(c.isdigit() for c in text):
            # Past the head only a "last changed" line is metadata; date_line needs the same label to say so.
            dated = date_line(text, reference) if in_head or MODIFIED_LABEL.search(text) else None
            if dated and (in_head or dated[1]):
                # a date line by the title, or a "Stand: ..." line anywhere: metadata, not text
                if dated[1] and modified is None:
                    modified = dated[0]
                continue
        lead = (leading_date(text, reference) if not ln.pair and in_head and published is not None
                and any(c.isdigit() for c in text[:80]) else None)
        if lead and lead[0] == published:
            text = text[lead[1]:].strip()
            # Some CMS print the date prefix twice ("12.12.2025 — 12.12.2025 — Text"); a few more repeats are
            # cut too, but not thousands, each of which would copy the rest of the line.
            for _ in range(_REPEATED_DATELINES):
                again = leading_date(text, reference)
                if not again or again[0] != published:
                    break
                text = text[again[1]:].strip()
            if not text:
                continue
            ln = BodyLine(text, ln.pair)
        if len(text) >= LONG_LINE and text != teaser:
            in_head = False
        kept.append(ln)
    return kept, modified


def _page_date(doc: Element, url: str, body_lines: list[BodyLine], reference: dt.date | None) -> dt.date | None:
    """htmldate's reading of the page (URL, headers, copyright lines, text) less the teasers of other
    articles; never a date that the article's own text or detail pairs name (an event's date).
    Changes `doc`."""
    drop_other_articles(doc)
    found = _htmldate(doc, url)
    if found is None:
        return None
    named: set[dt.date] = set()
    for ln in body_lines:
        if ln.pair or len(ln.text) >= LONG_LINE:
            dateline = None if ln.pair else leading_date(ln.text, reference)
            # A dateline opening a paragraph ("Berlin, 10.11.2021 – ...") dates the article, not an event.
            named.update(span.date for span in find_dates(ln.text[dateline[1] if dateline else 0:], reference))
    return None if found in named else found


def _htmldate(doc: Element, url: str) -> dt.date | None:
    """htmldate's quick reading (URL, header, marked-up dates). Its search of the page's text finds a few more
    dates on real pages but doubles the cost of the pages that need it, and reads event dates out of the text."""
    try:
        from htmldate import find_date
    except ImportError:  # optional fallback
        return None
    try:
        found = find_date(doc, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises assorted errors on odd markup; the date just stays unknown
        return None
    return machine_date(found) if found else None
