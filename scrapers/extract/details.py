"""Event-detail pairs ("Datum: 24. September 2025", "Ort: Rathaus") from the lines of an article body."""
from __future__ import annotations

import re
from collections.abc import Iterable

from scrapers.extract.markup import Element, in_furniture, text_of

__all__ = ["DETAIL_KEYS", "details_from_lines", "detail_blocks"]

# Labels of event-detail lines; a free "Label: value" line counts only with one of these, while a pair
# that the markup makes a pair (<dl>, a two-cell table row) counts with any short label.
DETAIL_KEYS = re.compile(
    r"^(datum|termin|termine|zeit|uhrzeit|beginn|ende|einlass|ort|veranstaltungsort|adresse|anschrift"
    r"|art der veranstaltung|veranstaltungsart|format|veranstalter|veranstalterin|anmeldung|anmeldeschluss"
    r"|kosten|eintritt|teilnahme|teilnahmegebühr|zielgruppe|sprache|online|livestream)$",
    re.IGNORECASE)
_PAIR = re.compile(r"^([A-Za-zÄÖÜäöüß][\wÄÖÜäöüß .\-/]{1,40}?)\s*:\s*(.+)$")


def details_from_lines(lines: Iterable[tuple[str, bool]]) -> dict[str, str]:
    """Key/value pairs from (line, is it a pair by markup) in order; the first value of a key wins."""
    details: dict[str, str] = {}
    for text, by_markup in lines:
        m = _PAIR.match(text)
        if not m:
            continue
        key, value = m.group(1).strip(), m.group(2).strip()
        if by_markup or DETAIL_KEYS.match(key):
            details.setdefault(key, value)
    return details


def _cell_text(el: Element) -> str:
    return text_of(el).rstrip(":").strip()


def _block_pairs(block: Element) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if block.tag == "dl":
        key: str | None = None
        values: list[str] = []
        for el in block.iter("dt", "dd"):
            if next(el.iterancestors("dl"), None) is not block:
                continue
            if el.tag == "dt":
                if key:
                    pairs.append((key, "; ".join(values)))
                key, values = _cell_text(el), []
            elif text_of(el):
                values.append(text_of(el))
        if key:
            pairs.append((key, "; ".join(values)))
        return [(k, v) for k, v in pairs if k and v]
    for row in block.iter("tr"):
        cells = [c for c in row if c.tag in ("th", "td")]
        if len(cells) != 2:
            return []  # a data table, not a facts box
        key, value = _cell_text(cells[0]), text_of(cells[1])
        if key and value and len(key) <= 40:
            pairs.append((key, value))
    return pairs


def detail_blocks(doc: Element) -> list[tuple[str, str]]:
    """Key/value pairs of the page's event-detail boxes: <dl>s and two-cell tables outside the page furniture
    with at least one event-detail label (a facts box often stands beside the text that main-text extractors
    keep, so it is read from the page itself)."""
    body = doc.find("body")
    if body is None:
        return []
    found: list[tuple[str, str]] = []
    for block in body.iter("dl", "table"):
        if in_furniture(block) or len(block) > 40:
            continue
        pairs = _block_pairs(block)
        if pairs and len(pairs) <= 15 and any(DETAIL_KEYS.match(k) for k, _ in pairs):
            found.extend(pairs)
    return found
