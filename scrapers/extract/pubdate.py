"""The publication date: machine-readable statements first, then the visible date by the headline."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from scrapers.dates import find_dates
from scrapers.extract.markup import (
    FURNITURE_TAGS,
    NOISE_PARTS,
    Element,
    class_parts,
    is_hidden,
    squash,
    text_content,
)
from scrapers.extract.metadata import machine_date

__all__ = ["Line", "lines_around_title", "date_line", "leading_date", "visible_date", "LONG_LINE", "MODIFIED_LABEL"]

LONG_LINE = 120  # a line this long is running text: the visible publication date stands before it
_SUBHEADINGS = frozenset(["h2", "h3", "h4", "h5", "h6"])
_PUBLISHED_LABEL = re.compile(
    r"^(veröffentlicht|erstellt|publiziert|erschienen|datum|pressemitteilung|meldung|published|posted|gepostet)"
    r"\b(\s+(am|vom|on))?\s*:?\s*", re.IGNORECASE)
MODIFIED_LABEL = re.compile(
    r"\b(stand|aktualisiert|zuletzt (geändert|aktualisiert)|geändert|letzte änderung|updated)\b\s*(am|vom)?\s*:?\s*",
    re.IGNORECASE)
_BLOCK_TAGS = frozenset([
    "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2", "h3", "h4", "h5",
    "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td",
    "th", "caption", "address", "details", "summary", "hr", "br", "fieldset", "center", "figure", "figcaption"])
_SKIP_TAGS = frozenset(["script", "style", "noscript", "template", "svg", "button", "select", "option", "iframe",
                        "img", "picture", "video", "audio", "canvas", "input", "textarea"])


@dataclass(frozen=True)
class Line:
    """The words of one block element, as a reader sees them on a line."""

    text: str
    tag: str  # the innermost block element's name
    is_title: bool = False


def date_line(line: str, reference: dt.date | None) -> tuple[dt.date, bool] | None:
    """A short line that is only a date, maybe labelled: (date, is it a 'last modified' label)."""
    if len(line) > LONG_LINE:
        return None
    spans = [s for s in find_dates(line, reference) if s.has_year and s.end_date is None]
    if not spans:
        return None
    span = spans[0]
    rest = (line[:span.start] + " " + line[span.end:]).strip(" ,|·-–—:")
    rest = re.sub(r"\b\d{1,2}[:.]\d{2}\s*(uhr|h)?\b", "", rest, flags=re.IGNORECASE).strip(" ,|·-–—:")
    modified = bool(MODIFIED_LABEL.search(line[:span.start]))
    if _PUBLISHED_LABEL.match(line) or modified or len(rest) <= 12:
        return span.date, modified
    return None


def leading_date(line: str, reference: dt.date | None) -> tuple[dt.date, int] | None:
    """A date opening a paragraph ("14.08.2025 — Text", "Dresden, 3. März 2024: Text") and its length."""
    spans = find_dates(line[:80], reference)
    if not spans:
        return None
    span = spans[0]
    before = line[:span.start]
    if before.strip() and not re.fullmatch(r"[A-ZÄÖÜ][\wäöüßÄÖÜ .()/-]{0,40},\s*", before):
        return None
    after = re.match(r"\s*(?:[—–\-:|/]|\(\w+\)\s*[—–\-:])\s*", line[span.end:])
    if not after or span.end_date is not None:
        return None
    return span.date, span.end + after.end()


class _Walk:
    """Lines of a page in reading order, skipping furniture and hidden boxes (but never the title's own)."""

    def __init__(self, title_el: Element | None):
        self.title_el = title_el
        # A set of the elements themselves: lxml hands out the same object for an element while one is held.
        self.protected = set() if title_el is None else {title_el, *title_el.iterancestors()}
        self.buf: list[str] = []
        self.first_time: dt.date | None = None

    def _keeps(self, el: Element) -> bool:
        if el in self.protected:
            return True
        if el.tag in FURNITURE_TAGS or is_hidden(el):
            return False
        return not class_parts(el) & NOISE_PARTS

    def lines(self, el: Element, tag: str = "body") -> Iterator[Line]:
        if el.text:
            self.buf.append(el.text)
        for child in el:
            name = child.tag
            if isinstance(name, str) and name not in _SKIP_TAGS and self._keeps(child):
                if name == "time" and self.first_time is None:
                    self.first_time = machine_date(child.get("datetime") or child.get("content")
                                                   or text_content(child), "<time> element")
                if child is self.title_el:
                    yield from self.flush(tag)
                    text = squash(text_content(child))
                    if text:
                        yield Line(text, "h1", is_title=True)
                elif name in _BLOCK_TAGS:
                    yield from self.flush(tag)
                    yield from self.lines(child, name)
                    yield from self.flush(name)
                else:
                    yield from self.lines(child, tag)
            if child.tail:
                self.buf.append(child.tail)

    def flush(self, tag: str) -> Iterator[Line]:
        text = squash(" ".join(self.buf))
        self.buf.clear()
        if text:
            yield Line(text, tag)


def lines_around_title(doc: Element, title_el: Element | None,
                       teaser: str | None = None) -> tuple[list[Line], dt.date | None]:
    """Up to five lines before the title and the lines after it up to the first running text, with the
    first <time> met on the way; without a title element, the page's lines up to its first running text.

    A lead paragraph (`teaser`) is not running text: dated first paragraphs follow the lead on some portals.
    """
    body = doc.find("body")
    if body is None:
        return [], None
    walk = _Walk(title_el)
    before: list[Line] = []
    out: list[Line] = []
    seen_title = title_el is None
    for line in walk.lines(body):
        if not seen_title:
            if line.is_title:
                seen_title = True
                out = before[-5:] + [line]
            else:
                before.append(line)
            continue
        out.append(line)
        # A long subtitle (a heading) or the lead is not yet the running text.
        if len(line.text) >= LONG_LINE and line.text != teaser and line.tag not in _SUBHEADINGS:
            break
    if not seen_title:  # the title element was skipped (hidden or in a box): read from the top
        out = before[:20]
    return out, walk.first_time


def visible_date(lines: list[Line], reference: dt.date | None,
                 teaser: str | None) -> tuple[dt.date | None, dt.date | None]:
    """(published, modified) from a date line by the title or a date opening the first paragraph."""
    published = modified = None
    for line in lines:
        if line.is_title or line.tag in ("dd", "dt", "td", "th"):
            continue  # event-detail pairs ("Datum: ...") date the event, not the article
        found = date_line(line.text, reference) if len(line.text) < LONG_LINE else None
        if found:
            day, is_modified = found
            if is_modified:
                modified = modified or day
            elif published is None:
                published = day
            continue
        # A lead that opens with a date usually announces an event; the dated paragraph follows it.
        lead = None if teaser and line.text == teaser else leading_date(line.text, reference)
        if lead:
            return published or lead[0], modified
    return published, modified
