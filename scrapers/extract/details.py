"""Event-detail pairs ("Datum: 24. September 2025", "Ort: Rathaus") from the lines of an article body."""
from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["DETAIL_KEYS", "details_from_lines"]

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
