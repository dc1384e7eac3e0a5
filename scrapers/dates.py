"""Find German calendar dates, date ranges and clock times in running text."""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["DateSpan", "TimeSpan", "find_dates", "find_times", "may_hold_date", "parse_date", "MONTHS",
           "FIRST_PLAUSIBLE_YEAR", "LAST_PLAUSIBLE_YEAR", "is_plausible", "plausible"]

logger = logging.getLogger(__name__)

# The one window of dates this project believes in, for every date it reads (feeds, sitemaps, markup, text).
# A date outside it is a placeholder ("9999-12-31", "0001-01-01"), a typing error or a misreading, never the
# day a news page was published or an event it announces; taking it would end in dates no calendar can
# write (a year after 9999) or in arithmetic that overflows. The parsers have no clock, so the window is
# fixed rather than relative to today: German city portals went online in the 1990s, and 2100 leaves room
# for any plan a page may announce.
FIRST_PLAUSIBLE_YEAR = 1990
LAST_PLAUSIBLE_YEAR = 2100

Day = TypeVar("Day", dt.date, dt.datetime)


def is_plausible(day: dt.date | None) -> bool:
    """Whether a date (or timestamp) lies in the plausible window FIRST_PLAUSIBLE_YEAR..LAST_PLAUSIBLE_YEAR."""
    return day is not None and FIRST_PLAUSIBLE_YEAR <= day.year <= LAST_PLAUSIBLE_YEAR


def plausible(day: Day | None, origin: str) -> Day | None:
    """`day` when it is plausible; otherwise None, with a warning naming the value and `origin` (where it was
    read: a URL, a field)."""
    if day is None or is_plausible(day):
        return day
    logger.warning("%s: %s is outside the years %d..%d and is taken as no date", origin, day.isoformat(),
                   FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR)
    return None


@dataclass(frozen=True)
class DateSpan:
    """A date (or date range) found in text; offsets point at the matched characters."""

    start: int
    end: int
    text: str
    date: dt.date
    end_date: dt.date | None
    has_year: bool  # False when the year was taken from the reference date


@dataclass(frozen=True)
class TimeSpan:
    """A clock time (or time range) found in text."""

    start: int
    end: int
    text: str
    start_time: dt.time
    end_time: dt.time | None


# Month spellings: full German names, the usual abbreviations, Austrian "Jänner" and English names
# (federal portals sometimes publish bilingual pages). Longest first so the regex alternation
# prefers "März" over "Mär" and "Sept" over "Sep".
MONTHS: dict[str, int] = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "febr": 2, "feb": 2,
    "märz": 3, "maerz": 3, "march": 3, "mär": 3, "mrz": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
# A month name must end at a word boundary ("Mai" but not "Mainzer"); an abbreviation may carry a dot.
_MON = rf"(?:{_MONTH_ALT})(?![\wäöüß])\.?"

_WEEKDAYS = (
    "Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag|"
    "Mo|Di|Mi|Do|Fr|Sa|So"
)
# Optional weekday before a date ("Mittwoch, 5. Februar 2025", "Fr 1. März 2024", "Fr., 1.3.2024").
_WD = rf"(?:(?<![\wäöüß])(?:{_WEEKDAYS})\.?,?\s+)?"
_DAY = r"(?<![\d.,:/])(?:0?[1-9]|[12]\d|3[01])"
_YEAR4 = r"(?:19|20)\d{2}(?![\d/])"
# "bis", "und", dashes or a slash join the two ends of a range; "-" also covers "18.-19.11.2025".
_TO = r"\s*(?:bis(?:\s+zum)?|und|–|—|-|/)\s*"
_SEP = r"\.\s?"

# The table: one row per written form, as (name, pattern). Named groups: d1, m1, y1 for the
# first date, d2, m2, y2 for the end of a range; m* may be a month name or a number.
_PATTERNS: list[tuple[str, str]] = [
    # 2025-09-24 (also the date part of an ISO timestamp)
    ("iso", r"(?<![\d.])(?P<y1>(?:19|20)\d{2})-(?P<m1>[01]\d)-(?P<d1>[0-3]\d)(?![\d])"),
    # 18. November bis 2. Dezember 2025 / 18. November 2025 – 2. Januar 2026
    ("text_range_months",
     rf"{_WD}(?P<d1>{_DAY})\.\s*(?P<m1>{_MON})\s*(?:(?P<y1>{_YEAR4})\s*)?{_TO}{_WD}"
     rf"(?P<d2>{_DAY})\.\s*(?P<m2>{_MON})\s*(?P<y2>{_YEAR4})?"),
    # 18. und 19. November 2025 / 18. bis 20. September 2019 / 18.–20. Sept.
    ("text_range_days",
     rf"{_WD}(?P<d1>{_DAY})\.{_TO}{_WD}(?P<d2>{_DAY})\.\s*(?P<m2>{_MON})\s*(?P<y2>{_YEAR4})?"),
    # 29. Oktober 2025 / Fr 1. März 2024 / 4. Dezember (year from the reference)
    ("text", rf"{_WD}(?P<d1>{_DAY})\.\s*(?P<m1>{_MON})\s*(?P<y1>{_YEAR4})?"),
    # 18.11.–19.11.2025
    ("num_range_full",
     rf"{_WD}(?P<d1>{_DAY}){_SEP}(?P<m1>0?[1-9]|1[0-2])\.{_TO}"
     rf"(?P<d2>{_DAY}){_SEP}(?P<m2>0?[1-9]|1[0-2]){_SEP}(?P<y2>{_YEAR4}|\d{{2}}(?![\d.]))"),
    # 18.–19.11.2025
    ("num_range_days",
     rf"{_WD}(?P<d1>{_DAY})\.{_TO}(?P<d2>{_DAY}){_SEP}(?P<m2>0?[1-9]|1[0-2]){_SEP}"
     rf"(?P<y2>{_YEAR4}|\d{{2}}(?![\d.]))"),
    # 12.12.2025 / 1.3.24 — not part of a longer dotted number (version strings, IP addresses)
    ("num", rf"{_WD}(?P<d1>{_DAY}){_SEP}(?P<m1>0?[1-9]|1[0-2]){_SEP}(?P<y1>{_YEAR4}|\d{{2}}(?![\d.]))"),
    # 26.02. (year from the reference); the trailing dot is required so "18.30 Uhr" is no date
    ("num_noyear", rf"{_WD}(?P<d1>{_DAY})\.(?P<m1>0?[1-9]|1[0-2])\.(?![\d])(?!\s?(?:19|20)\d{{2}})"),
]
_COMPILED = [(name, re.compile(pat, re.IGNORECASE)) for name, pat in _PATTERNS]
_DIGIT = re.compile(r"\d")


def may_hold_date(text: str) -> bool:
    """False when `text` cannot hold a date find_dates reads: every written form has its day in digits, and most
    lines (menu items, headings) have none. A cheap test for callers that would otherwise assemble the text."""
    return bool(text) and _DIGIT.search(text) is not None


def _month(token: str | None) -> int | None:
    if token is None:
        return None
    token = token.strip().rstrip(".").lower()
    if token.isdigit():
        return int(token)
    return MONTHS.get(token)


def _year(token: str | None) -> int | None:
    if token is None:
        return None
    value = int(token)
    # Two-digit years are only written for recent dates on news sites ("1.3.24").
    return value + 2000 if value < 100 else value


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _resolve(m: re.Match[str], reference: dt.date | None) -> tuple[dt.date, dt.date | None, bool] | None:
    """Turn a match into (start, end, has_year), or None when it is not a valid calendar date."""
    g = m.groupdict()
    d1, d2 = int(g["d1"]), int(g["d2"]) if g.get("d2") else None
    m2 = _month(g.get("m2"))
    m1 = _month(g.get("m1")) or m2
    y2 = _year(g.get("y2"))
    y1 = _year(g.get("y1"))
    has_year = y1 is not None or y2 is not None
    if y1 is None and y2 is not None:
        # "18. November bis 2. Januar 2026": the start lies in the year before the end.
        y1 = y2 - 1 if m1 is not None and m2 is not None and m1 > m2 else y2
    if y1 is None:
        if reference is None:
            return None
        y1 = reference.year
    if y2 is None and d2 is not None:
        y2 = y1 + 1 if m1 is not None and m2 is not None and m2 < m1 else y1
    if m1 is None:
        return None
    # An impossible day ("31.02.2025") is no date: never its month, never the day it would roll over to.
    start = _make(y1, m1, d1)
    if start is None or not is_plausible(start):
        return None
    if d2 is None:
        return start, None, has_year
    end = _make(y2 or y1, m2 or m1, d2)
    if end is None or not is_plausible(end) or end <= start or (end - start).days > 366:
        return None
    return start, end, has_year


@functools.lru_cache(maxsize=64)
def _ignore_reference(reference: dt.date) -> None:
    """Warn once per value: find_dates runs on every line of a page, always with the same reference."""
    logger.warning("reference date %s is outside the years %d..%d: dates written without a year are skipped",
                   reference.isoformat(), FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR)


def find_dates(text: str, reference: dt.date | None = None) -> list[DateSpan]:
    """Every date or date range in `text`, in order of appearance.

    Dates written without a year ("4. Dezember", "26.02.") take the year of `reference`; without
    a plausible reference they are skipped. Month-only mentions ("September 2025"), ordinals ("23.
    Regionalkonferenz"), year spans ("2023/2024"), impossible days ("31.02.2025") and dates outside the
    plausible window (history such as "9. November 1989") are not dates. Prose is no date field, so what
    it does not yield is skipped quietly; only an implausible `reference` is warned about.
    """
    if not may_hold_date(text):
        return []
    if reference is not None and not is_plausible(reference):
        _ignore_reference(reference)
        reference = None
    candidates: list[DateSpan] = []
    for _name, rx in _COMPILED:
        for m in rx.finditer(text):
            resolved = _resolve(m, reference)
            if resolved is None:
                continue
            start, end, has_year = resolved
            raw = m.group(0).rstrip()
            # An abbreviation dot right before the year gap is part of the date; a sentence
            # full stop after the year is not, but the patterns never consume one.
            candidates.append(DateSpan(m.start(), m.start() + len(raw), raw, start, end, has_year))
    # Longest match wins where patterns overlap: a range beats its single-date parts.
    return _longest_without_overlap(candidates)


def parse_date(text: str, reference: dt.date | None = None) -> dt.date | None:
    """The first date in `text` (the start of a range), or None."""
    spans = find_dates(text, reference)
    return spans[0].date if spans else None


# Clock times: "14:00", "9.30", "10" followed by "Uhr". A dotted or bare hour needs "Uhr" so that
# dates and plain numbers are not read as times.
_H = r"(?:[01]?\d|2[0-3])"
_T_COLON = rf"(?<![\d.:,])(?P<{{h}}>{_H}):(?P<{{m}}>[0-5]\d)(?![\d:])"
_T_ANY = rf"(?<![\d.:,])(?P<{{h}}>{_H})(?:[:.](?P<{{m}}>[0-5]\d))?(?![\d])"
_UHR = r"\s*(?:Uhr|h)\b"
_TTO = r"\s*(?:bis|–|—|-)\s*"
_TIME_PATTERNS: list[str] = [
    # 9:30 Uhr bis 17:15 Uhr / 10 bis 12 Uhr / 18.30–20 Uhr
    _T_ANY.format(h="h1", m="m1") + rf"(?:{_UHR})?{_TTO}" + _T_ANY.format(h="h2", m="m2") + _UHR,
    # zwischen 10 und 13 Uhr
    r"(?<=\bzwischen\s)" + _T_ANY.format(h="h1", m="m1") + rf"(?:{_UHR})?\s+und\s+" + _T_ANY.format(h="h2", m="m2")
    + _UHR,
    # beginnt um 9:30 Uhr und endet gegen 16 Uhr
    _T_ANY.format(h="h1", m="m1") + _UHR + r"[^.;:!?]{0,60}?\b(?:endet|enden|endete|schließt)\s+(?:um|gegen)\s+"
    + _T_ANY.format(h="h2", m="m2") + _UHR,
    # 14:00–15:30 (no "Uhr", so both ends need a colon)
    _T_COLON.format(h="h1", m="m1") + _TTO + _T_COLON.format(h="h2", m="m2"),
    # 10 Uhr / ab 18.30 Uhr / 14:00 Uhr
    _T_ANY.format(h="h1", m="m1") + _UHR,
    # um 14:00 (a colon time alone, after a preposition so that "1:10" scores are skipped)
    "(?:" + "|".join(rf"(?<=\b{w}\s)" for w in ("um", "ab", "von", "bis", "gegen")) + ")"
    + _T_COLON.format(h="h1", m="m1"),
]
_TIME_COMPILED = [re.compile(p) for p in _TIME_PATTERNS]


def find_times(text: str) -> list[TimeSpan]:
    """Every clock time or time range in `text`, in order of appearance."""
    if not text:
        return []
    candidates: list[TimeSpan] = []
    for rx in _TIME_COMPILED:
        for m in rx.finditer(text):
            g = m.groupdict()
            start = dt.time(int(g["h1"]), int(g["m1"] or 0))
            end = dt.time(int(g["h2"]), int(g["m2"] or 0)) if g.get("h2") else None
            candidates.append(TimeSpan(m.start(), m.end(), m.group(0), start, end))
    return _longest_without_overlap(candidates)


_Span = TypeVar("_Span", DateSpan, TimeSpan)


def _longest_without_overlap(candidates: list[_Span]) -> list[_Span]:
    """The candidates to keep, in text order: longest first, each only where no longer one was kept.

    The kept spans never overlap, so a new one can only collide with its two neighbours in start order:
    checking those (not every kept span) keeps a page dense with dates linear, not quadratic."""
    candidates.sort(key=lambda s: (-(s.end - s.start), s.start))
    starts: list[int] = []
    ends: list[int] = []
    chosen: list[_Span] = []
    for span in candidates:
        i = bisect.bisect_right(starts, span.start)
        if (i and ends[i - 1] > span.start) or (i < len(starts) and starts[i] < span.end):
            continue
        starts.insert(i, span.start)
        ends.insert(i, span.end)
        chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)
