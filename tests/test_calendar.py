"""The events calendar: RFC 5545 VEVENTs (all-day vs timed, multi-day, online), stable UIDs, parsed back."""
from __future__ import annotations

import datetime as dt

import duckdb
import icalendar
import pytest

from tests.warehouse_fixture import demo_warehouse, stadtradar  # noqa: F401 - the fixture is used by name
from warehouse.calendar import EventRow, build_calendar, event_location, export_ics, read_events

STAMP = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
BERLIN = "Europe/Berlin"


def parse(data: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    for event in events.values():
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert required in event, f"{event.get('UID')} lacks {required}"
    return events


def test_all_day_event_ends_exclusive_next_day():
    row = EventRow(event_id="e1", name="Regionalkonferenz", start_date=dt.date(2025, 3, 12),
                   city_name="Mönchengladbach")
    event = parse(build_calendar([row], STAMP).to_ical())["e1@stadtradar"]
    assert event.decoded("DTSTART") == dt.date(2025, 3, 12)
    assert event.decoded("DTEND") == dt.date(2025, 3, 13)
    assert "VALUE=DATE" in event.to_ical().decode()
    assert str(event["LOCATION"]) == "Mönchengladbach"


def test_multi_day_all_day_event_covers_its_last_day():
    row = EventRow(event_id="e2", name="Kongress", start_date=dt.date(2025, 11, 18), end_date=dt.date(2025, 11, 19))
    event = parse(build_calendar([row], STAMP).to_ical())["e2@stadtradar"]
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (dt.date(2025, 11, 18), dt.date(2025, 11, 20))


def test_timed_event_in_berlin_time_with_a_vtimezone():
    row = EventRow(event_id="e3", name="Konferenz", start_date=dt.date(2025, 9, 24), start_time=dt.time(9, 30),
                   end_time=dt.time(17, 15), venue="Bodenseeforum Konstanz, Reichenaustraße 21, 78462 Konstanz",
                   city_name="Konstanz", url="https://example.org/a", article_title="Regionalkonferenz",
                   source_id="dlr", published_date=dt.date(2025, 8, 14))
    data = build_calendar([row], STAMP).to_ical()
    calendar = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [BERLIN]
    event = parse(data)["e3@stadtradar"]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.replace(tzinfo=None) == dt.datetime(2025, 9, 24, 9, 30) and str(start.tzinfo) == BERLIN
    assert end.replace(tzinfo=None) == dt.datetime(2025, 9, 24, 17, 15)
    assert start.utcoffset() == dt.timedelta(hours=2)  # summer time
    assert "DTSTART;TZID=Europe/Berlin:20250924T093000" in data.decode()
    # the city is already part of the venue, so it is not repeated
    assert str(event["LOCATION"]) == "Bodenseeforum Konstanz, Reichenaustraße 21, 78462 Konstanz"
    assert str(event["URL"]) == "https://example.org/a"
    description = str(event["DESCRIPTION"])
    assert "Regionalkonferenz" in description and "dlr" in description and "2025-08-14" in description
    assert event.decoded("DTSTAMP") == STAMP


def test_timed_event_without_end_time_lasts_two_hours_and_online_events_say_online():
    row = EventRow(event_id="e4", name="Webinar", start_date=dt.date(2025, 10, 21), start_time=dt.time(10, 0),
                   venue="Zoom", is_online=True)
    event = parse(build_calendar([row], STAMP).to_ical())["e4@stadtradar"]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=2)
    assert str(event["LOCATION"]) == "Online"


def test_end_before_start_falls_back_to_two_hours_and_location_parts_are_not_repeated():
    row = EventRow(event_id="e5", name="X", start_date=dt.date(2025, 1, 1), start_time=dt.time(18, 0),
                   end_time=dt.time(9, 0))
    event = parse(build_calendar([row], STAMP).to_ical())["e5@stadtradar"]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=2)
    assert event_location(EventRow(event_id="k", name="K", start_date=dt.date(2025, 1, 1), venue="Kiel",
                                   city_name="kiel")) == "Kiel"
    assert event_location(EventRow(event_id="n", name="N", start_date=dt.date(2025, 1, 1))) is None


@pytest.fixture
def events_db(tmp_path):
    db = tmp_path / "events.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute("create table marts.articles (article_id varchar, url varchar, title varchar, source_id varchar,"
                " published_date date)")
    con.execute("insert into marts.articles values ('a1', 'https://example.org/1', 'Bericht', 'dresden', '2025-01-01')")
    con.execute("create table marts.events (event_id varchar, name varchar, start_date date, end_date date,"
                " start_time time, end_time time, city_id varchar, venue varchar, article_id varchar,"
                " is_online boolean, city_name varchar, address varchar, event_type varchar)")
    con.execute("""insert into marts.events values
        ('past', 'Vorbei', '2025-01-10', null, null, null, null, null, 'a1', false, 'Dresden', null, 'workshop'),
        ('running', 'Läuft', '2025-01-30', '2025-02-02', null, null, null, 'Messe', 'a1', false, 'Dresden',
         'Messering 6', 'conference'),
        ('later', 'Später', '2025-03-01', null, '10:00', null, null, null, 'a1', false, null, null, null),
        ('undated', 'Ohne Datum', null, null, null, null, null, null, 'a1', false, null, null, null)""")
    con.close()
    return db


def test_read_events_skips_undated_and_upcoming_keeps_running_ones(events_db):
    con = duckdb.connect(str(events_db), read_only=True)
    try:
        assert [r.event_id for r in read_events(con)] == ["past", "running", "later"]
        upcoming = read_events(con, upcoming_from=dt.date(2025, 2, 1))
    finally:
        con.close()
    assert [r.event_id for r in upcoming] == ["running", "later"]
    running = upcoming[0]
    assert (running.address, running.event_type, running.url) == ("Messering 6", "conference", "https://example.org/1")
    event = parse(build_calendar(upcoming, STAMP).to_ical())["running@stadtradar"]
    assert str(event["LOCATION"]) == "Messe, Messering 6, Dresden"
    assert [str(c) for c in event["CATEGORIES"].cats] == ["conference"]


def test_export_is_stable_across_runs_except_dtstamp(events_db, tmp_path):
    con = duckdb.connect(str(events_db), read_only=True)
    try:
        assert export_ics(con, tmp_path / "a.ics", stamp=STAMP) == 3
        export_ics(con, tmp_path / "b.ics")
    finally:
        con.close()
    first, second = parse((tmp_path / "a.ics").read_bytes()), parse((tmp_path / "b.ics").read_bytes())
    assert set(first) == set(second) == {"past@stadtradar", "running@stadtradar", "later@stadtradar"}
    strip = lambda data: [line for line in data.splitlines() if not line.startswith(b"DTSTAMP")]  # noqa: E731
    assert strip((tmp_path / "a.ics").read_bytes()) == strip((tmp_path / "b.ics").read_bytes())


@pytest.mark.e2e
def test_events_command_over_the_demo_warehouse(demo_warehouse, tmp_path):  # noqa: F811
    for name in ("one.ics", "two.ics"):
        done = stadtradar("events", "--ics", str(tmp_path / name), "--db", str(demo_warehouse), home=tmp_path)
        assert done.returncode == 0, done.stderr
    one, two = parse((tmp_path / "one.ics").read_bytes()), parse((tmp_path / "two.ics").read_bytes())
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    ids = {f"{i}@stadtradar" for (i,) in con.execute(
        "select event_id from marts.events where start_date is not null").fetchall()}
    con.close()
    assert set(one) == set(two) == ids and ids
    konstanz = [e for e in one.values() if "Bodenseeforum" in str(e.get("LOCATION", ""))]
    assert konstanz and all(str(e["URL"]).startswith("https://") for e in konstanz)
    upcoming = stadtradar("events", "--ics", str(tmp_path / "up.ics"), "--upcoming", "--db", str(demo_warehouse),
                          home=tmp_path)
    assert upcoming.returncode == 0
    for event in parse((tmp_path / "up.ics").read_bytes()).values():
        end = event.decoded("DTEND")
        assert (end.date() if isinstance(end, dt.datetime) else end) >= dt.date.today()
