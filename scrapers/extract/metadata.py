"""What a page says about itself: <meta> tags, JSON-LD, <title>, canonical link and dates in script blocks."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

from scrapers.dates import parse_date, plausible
from scrapers.extract.markup import Element, squash, text_content

logger = logging.getLogger(__name__)

__all__ = ["PageMeta", "read_meta", "machine_date", "script_date"]

ARTICLE_TYPES = frozenset({"newsarticle", "article", "blogposting", "reportagenewsarticle", "report",
                           "analysisnewsarticle", "pressrelease", "scholarlyarticle", "techarticle",
                           "opinionnewsarticle", "backgroundnewsarticle", "liveblogposting", "socialmediaposting",
                           "discussionforumposting", "recipe", "howto"})
LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage"})
_META_ATTRS = ("property", "name", "itemprop", "http-equiv")
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})(?!\d)")
_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:\D|$)")
_OTHER_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NUMERIC_DATE = re.compile(r"(?<![\d.])(0?[1-9]|[12]\d|3[01])\.(0?[1-9]|1[0-2])\.((?:19|20)\d{2})(?!\d)")
# Publication dates that sites write into data layers and app state instead of JSON-LD.
_SCRIPT_DATE = re.compile(
    r"""["']?(?:datePublished|publishDate|publishedDate|publicationDate|pubDate|published_at|publishedAt"""
    r"""|date_published|first_published_at|firstPublished|publish_date|publication_date)["']?\s*[:=]\s*"""
    r"""["']([^"'<>]{6,40})["']""")


@dataclass
class PageMeta:
    """The page's statements about itself; None where it says nothing."""

    headline: str | None = None
    published: dt.date | None = None
    modified: dt.date | None = None
    author: str | None = None
    language: str | None = None
    description: str | None = None
    og_title: str | None = None
    html_title: str | None = None
    site_name: str | None = None
    is_article: bool = False  # JSON-LD names an article type
    is_listing: bool = False  # JSON-LD names a collection, item list or search result page
    og_article: bool = False
    canonical: str | None = None
    types: set[str] = field(default_factory=set)


def machine_date(value: object, origin: str = "markup") -> dt.date | None:
    """A date written for machines: ISO 8601, RFC 2822 ("Tue, 12 Mar 2024 10:00:00 +0100"), English month
    names ("March 12, 2024"), compact 20240312, or German ("12. März 2024"); None when it is none of them.

    An impossible day ("2025-02-31") or a date outside the plausible window (scrapers.dates) is no date
    either, with a warning naming the value and `origin` (the field it was read from).
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 80:
        return None
    m = _ISO_DATE.search(value) or _COMPACT_DATE.match(value)
    if m:
        try:
            return plausible(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))), origin)
        except ValueError:
            logger.warning("%s: %r names no real day and is taken as no date", origin, value)
            return None
    german = parse_date(value)
    if german is not None:
        return german
    # Dates the readers above refuse on purpose: placeholders such as "0001-01-01" or "9999-12-31", and
    # day-month-years that do not exist or lie outside the plausible window. Said, since the page meant them.
    m = _OTHER_ISO_DATE.match(value)
    numeric = None if m else _NUMERIC_DATE.search(value)
    parts = m.groups() if m else tuple(reversed(numeric.groups())) if numeric else None
    if parts:
        year, month, day = parts
        if int(year) == int(month) == 0:
            return None  # "0000-00-00": a CMS writing null, not a date to warn about
        try:
            return plausible(dt.date(int(year), int(month), int(day)), origin)
        except ValueError:
            logger.warning("%s: %r names no real day and is taken as no date", origin, value)
            return None
    try:
        return plausible(parsedate_to_datetime(value).date(), origin)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    if not re.search(r"[A-Za-z]{3}", value) or not re.search(r"\d", value):
        return None  # dateutil reads bare numbers as dates of its own choosing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown zone names ("CET") only cost the time of day
        try:
            return plausible(dateutil_parser.parse(value, ignoretz=True, fuzzy=False).date(), origin)
        except (ValueError, OverflowError, TypeError):
            return None


def _refuse_impossible_days_in_htmldate() -> None:
    """Make htmldate take an impossible day for no date: it reads "31.02.2025" (or 2025-02-31) as 1 February
    2025, falling back to the month when the whole date does not exist. extract._page_date asks htmldate
    when the page states no date of its own, so this is where such a day became a publication date.

    htmldate has no option for it, so its candidate generator is wrapped once, when this module is imported
    (before any worker thread runs); if a later htmldate renames what is wrapped, nothing is wrapped and
    tests/test_safety_dates.py fails.
    """
    try:
        from htmldate import extractors
    except ImportError:  # htmldate is an optional fallback (extract._htmldate)
        return
    candidates = getattr(extractors, "_date_candidates", None)
    full_date = getattr(extractors, "YMD_PATTERN", None)
    build_dmy = getattr(extractors, "_build_dmy", None)
    if candidates is None or full_date is None or build_dmy is None or hasattr(candidates, "refuses_impossible"):
        return

    def whole_days_only(string: str) -> Iterator[dt.datetime | None]:
        match = full_date.search(string)
        if match:
            try:
                if match.lastgroup == "day":  # the same reading htmldate makes of the match
                    dt.datetime(int(match.group("year")), int(match.group("month")), int(match.group("day")))
                else:
                    build_dmy(int(match.group("day2")), int(match.group("month2")), int(match.group("year2")))
            except ValueError:
                logger.warning("htmldate: %r names no real day and is taken as no date", string[:80])
                return
        yield from candidates(string)

    whole_days_only.refuses_impossible = True  # type: ignore[attr-defined]
    extractors._date_candidates = whole_days_only


_refuse_impossible_days_in_htmldate()


def _json_ld_objects(doc: Element) -> Iterator[dict]:
    for script in doc.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            # Broken JSON-LD is common: a trailing comma or an HTML comment around it.
            cleaned = re.sub(r",\s*([}\]])", r"\1", raw.replace("<!--", "").replace("-->", ""))
            try:
                data = json.loads(cleaned, strict=False)
            except ValueError:
                continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                for key in ("@graph", "mainEntity", "mainEntityOfPage"):
                    if isinstance(item.get(key), (dict, list)):
                        stack.append(item[key])


def _ld_types(obj: dict) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def _ld_name(value: object) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_ld_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        return squash(str(value.get("name") or "")) or None
    if isinstance(value, str):
        return squash(value) or None
    return None


class _MetaTags:
    """Every <meta> of a page read once: the first non-empty content per (attribute, lower-case name)."""

    def __init__(self, doc: Element):
        self.first: dict[tuple[str, str], str] = {}
        for tag in doc.iter("meta"):
            content = (tag.get("content") or "").strip()
            if not content:
                continue
            for attr in _META_ATTRS:
                value = tag.get(attr)
                if value:
                    self.first.setdefault((attr, value.strip().lower()), content)

    def content(self, *names: str) -> str | None:
        for name in names:
            for attr in _META_ATTRS:
                hit = self.first.get((attr, name))
                if hit:
                    return hit
        return None


def read_meta(doc: Element) -> PageMeta:
    """Everything the page states about itself; JSON-LD article objects outrank the WebPage around them."""
    meta = PageMeta()
    for obj in _json_ld_objects(doc):
        types = _ld_types(obj)
        meta.types |= types
        if types & LISTING_TYPES:
            meta.is_listing = True
        is_article = bool(types & ARTICLE_TYPES)
        if not is_article and "webpage" not in types:
            continue
        meta.is_article |= is_article
        if obj.get("headline") and isinstance(obj["headline"], str) and (is_article or not meta.headline):
            meta.headline = squash(obj["headline"]) or meta.headline
        if obj.get("datePublished") and (is_article or not meta.published):
            meta.published = machine_date(obj.get("datePublished"), "JSON-LD datePublished") or meta.published
        if obj.get("dateModified") and (is_article or not meta.modified):
            meta.modified = machine_date(obj.get("dateModified"), "JSON-LD dateModified") or meta.modified
        meta.author = meta.author or _ld_name(obj.get("author"))
        if isinstance(obj.get("inLanguage"), str):
            meta.language = meta.language or obj["inLanguage"]
        if isinstance(obj.get("description"), str):
            meta.description = meta.description or squash(obj["description"]) or None
    tags = _MetaTags(doc)
    meta.published = meta.published or machine_date(tags.content(
        "article:published_time", "og:published_time", "datepublished", "dc.date.issued", "dcterms.issued",
        "dc.date", "dcterms.date", "date", "publish-date", "pubdate", "publishdate", "parsely-pub-date",
        "sailthru.date"), "<meta> publication date")
    meta.modified = meta.modified or machine_date(tags.content(
        "article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified"),
        "<meta> modification date")
    meta.author = meta.author or tags.content("author", "article:author", "dc.creator", "parsely-author")
    if meta.author and re.fullmatch(r"https?://\S+", meta.author):
        meta.author = None
    meta.og_title = squash(tags.content("og:title", "twitter:title")) or None
    meta.site_name = squash(tags.content("og:site_name", "application-name")) or None
    meta.description = meta.description or squash(tags.content("og:description", "description")) or None
    meta.og_article = (tags.content("og:type") or "").lower() == "article"
    head = doc.find("head")
    title_el = head.find("title") if head is not None else None
    if title_el is None:
        title_el = next(doc.iter("title"), None)
    if title_el is not None:
        meta.html_title = squash(text_content(title_el)) or None
    for link in doc.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            meta.canonical = link.get("href").strip()
            break
    language = meta.language or doc.get("lang") or tags.content("content-language", "language", "og:locale")
    if language:
        meta.language = language.strip().split("-")[0].split("_")[0].lower()[:3] or None
    return meta


def script_date(doc: Element) -> dt.date | None:
    """A publication date that only a script block states (a data layer, an app's state)."""
    for script in doc.iter("script"):
        text = script.text
        if not text or "ld+json" in (script.get("type") or "").lower():
            continue
        for m in _SCRIPT_DATE.finditer(text):
            day = machine_date(m.group(1), "script data layer")
            if day is not None:
                return day
    return None
