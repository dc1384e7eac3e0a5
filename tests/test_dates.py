"""Tests for German date and time recognition in scrapers.dates."""
import datetime as dt

import pytest

from scrapers.dates import find_dates, find_times, parse_date

REF = dt.date(2025, 6, 1)
D = dt.date


@pytest.mark.parametrize(
    ("text", "expected", "has_year"),
    [
        ("Am 29. Oktober 2025 trafen sich", D(2025, 10, 29), True),
        ("29. Okt. 2025", D(2025, 10, 29), True),
        ("3. Dez 2024", D(2024, 12, 3), True),
        ("12.12.2025", D(2025, 12, 12), True),
        ("1.3.24", D(2024, 3, 1), True),
        ("14.08.2025 — Der Text beginnt", D(2025, 8, 14), True),
        ("Fr 1. März 2024", D(2024, 3, 1), True),
        ("Mittwoch, 5. Februar 2025", D(2025, 2, 5), True),
        ("am 4. Dezember der Strukturwandel", D(2025, 12, 4), False),
        ("bis zum 26.02. anmelden", D(2025, 2, 26), False),
        ("2025-09-24", D(2025, 9, 24), True),
        ("2025-09-24T10:00:00+02:00", D(2025, 9, 24), True),
        ("1. Jänner 2023", D(2023, 1, 1), True),
    ],
)
def test_single_dates(text, expected, has_year):
    spans = find_dates(text, REF)
    assert [s.date for s in spans] == [expected]
    assert spans[0].has_year is has_year
    assert spans[0].end_date is None
    assert text[spans[0].start:spans[0].end] == spans[0].text


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("am 18. und 19. November 2025 in Kiel", D(2025, 11, 18), D(2025, 11, 19)),
        ("18.–19.11.2025", D(2025, 11, 18), D(2025, 11, 19)),
        ("18.11.-19.11.2025", D(2025, 11, 18), D(2025, 11, 19)),
        ("vom 18. bis 20. September 2019 in Stuttgart", D(2019, 9, 18), D(2019, 9, 20)),
        ("18. November bis 2. Dezember 2025", D(2025, 11, 18), D(2025, 12, 2)),
        ("28. Dezember bis 3. Januar 2026", D(2025, 12, 28), D(2026, 1, 3)),
    ],
)
def test_ranges(text, start, end):
    spans = find_dates(text, REF)
    assert len(spans) == 1
    assert (spans[0].date, spans[0].end_date) == (start, end)


@pytest.mark.parametrize(
    "text",
    [
        "die 23. Regionalkonferenz der Modellprojekte",
        "Der 7. MPSC-Kongress",
        "Klimabericht 2023/2024",
        "im September 2025",
        "Telefon 0351 488-2390 oder 0231/50-12345",
        "Version 1.2.3.4 der Software",
        "ab 18.30 Uhr",
        "der 5. Mainzer Stadtlauf",
        "am 30. Februar 2024",
        "1. Governance und Organisation",
    ],
)
def test_non_dates(text):
    assert find_dates(text, REF) == []


def test_yearless_date_needs_reference():
    assert find_dates("am 4. Dezember") == []
    assert parse_date("am 4. Dezember", D(2019, 1, 1)) == D(2019, 12, 4)


def test_several_dates_in_order_and_parse_date_takes_first():
    text = "Am 12. Juni 2024 begann es, am 24.06.2024 endete es."
    assert [s.date for s in find_dates(text)] == [D(2024, 6, 12), D(2024, 6, 24)]
    assert parse_date(text) == D(2024, 6, 12)
    assert parse_date("kein Datum") is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Uhrzeit: 9:30 Uhr bis 17:15 Uhr", dt.time(9, 30), dt.time(17, 15)),
        ("14:00–15:30", dt.time(14), dt.time(15, 30)),
        ("um 10 Uhr", dt.time(10), None),
        ("ab 18.30 Uhr", dt.time(18, 30), None),
        ("von 10 bis 12 Uhr", dt.time(10), dt.time(12)),
        ("Beginn um 14:00", dt.time(14), None),
    ],
)
def test_times(text, start, end):
    spans = find_times(text)
    assert [(s.start_time, s.end_time) for s in spans] == [(start, end)]


def test_times_ignore_dates_and_scores():
    assert find_times("am 12.12.2025") == []
    assert find_times("Das Spiel endete 1:10") == []
