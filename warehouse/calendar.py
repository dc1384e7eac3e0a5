"""Turning marts.events into an RFC 5545 iCalendar file (one VEVENT per dated event) with `icalendar`.

How events become VEVENTs:
- no start time: an all-day event, DTSTART;VALUE=DATE = start_date and DTEND;VALUE=DATE = (end_date or
  start_date) + 1 day, because DTEND is exclusive;
- with a start time: local times in Europe/Berlin (DTSTART;TZID=Europe/Berlin, with a VTIMEZONE); DTEND is the
  end time on end_date (or start_date). Without an end time, a one-day event gets start + 2 hours and a
  multi-day event ends at midnight after end_date. An end that is not after the start becomes start + 2 hours.
- UID = "<event_id>@stadtradar", stable across exports, so calendar clients update instead of duplicating;
  DTSTAMP = the time of the export (UTC).
- LOCATION: "Online" for online events, else venue, address and city name, each left out when an earlier part
  already contains it; URL: the reporting article; DESCRIPTION: article title, source and publication day.
- An event starting outside the plausible years (scrapers.dates, 1990..2100) is left out with a warning: such
  a date is a misreading, and one near 9999 cannot even be written (its DTEND or its time zone rules would
  fall after the year 9999). An end day outside them is taken as no end day. One bad event never costs the
  file, and the file is replaced whole or not at all.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import icalendar

from scrapers.dates import FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR, is_plausible

logger = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Europe/Berlin")
DEFAULT_DURATION = dt.timedelta(hours=2)
UID_DOMAIN = "stadtradar"
PRODID = "-//Stadtradar//marts.events//DE"


@dataclass(frozen=True)
class EventRow:
    """The fields of one marts.events row (plus its article) that a VEVENT needs."""

    event_id: str
    name: str | None
    start_date: dt.date
    end_date: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    venue: str | None = None
    address: str | None = None
    city_name: str | None = None
    is_online: bool | None = False
    event_type: str | None = None
    url: str | None = None
    article_title: str | None = None
    source_id: str | None = None
    published_date: dt.date | None = None


def event_uid(event_id: str) -> str:
    """The VEVENT UID of an event: stable for as long as its event_id is."""
    return f"{event_id}@{UID_DOMAIN}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute("select column_name from information_schema.columns where table_schema = 'marts'"
                       " and table_name = ? and table_catalog = current_database()", [table]).fetchall()
    return {name for (name,) in rows}


def read_events(con: duckdb.DuckDBPyConnection, upcoming_from: dt.date | None = None) -> list[EventRow]:
    """Dated events of marts.events with their article, ordered by start; upcoming_from keeps those not yet over.

    `address` and `event_type` are read when the mart has them (they are newer than the rest).
    """
    columns = _columns(con, "events")
    if not columns:
        raise LookupError("marts.events does not exist (run `stadtradar run` or `stadtradar build` first)")
    optional = ", ".join(f"e.{c}" if c in columns else f"null as {c}" for c in ("address", "event_type", "is_online",
                                                                            "city_name"))
    upcoming = "and coalesce(e.end_date, e.start_date) >= ?" if upcoming_from else ""
    params = [upcoming_from] if upcoming_from else []
    # Only the ids of the events left out: DuckDB holds years past 9999, which Python cannot read.
    left_out = con.execute(f"""
        select e.event_id, a.url, cast(e.start_date as varchar)
        from marts.events e
        left join marts.articles a on a.article_id = e.article_id
        where e.start_date is not null and not {_sql_plausible("e.start_date")} {upcoming}
        order by e.event_id
    """, params).fetchall()
    for event_id, url, start in left_out:
        _warn_left_out(event_id, url, start)
    sql = f"""
        select e.event_id, e.name, e.start_date,
               case when {_sql_plausible("e.end_date")} then e.end_date end as end_date,
               e.start_time, e.end_time, e.venue, {optional},
               a.url, a.title as article_title, a.source_id,
               case when {_sql_plausible("a.published_date")} then a.published_date end as published_date,
               case when e.end_date is not null and not {_sql_plausible("e.end_date")}
                    then cast(e.end_date as varchar) end as implausible_end
        from marts.events e
        left join marts.articles a on a.article_id = e.article_id
        where e.start_date is not null and {_sql_plausible("e.start_date")} {upcoming}
        order by e.start_date, e.start_time nulls first, e.event_id
    """
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = []
    for values in cursor.fetchall():
        fields = dict(zip(names, values, strict=True))
        implausible_end = fields.pop("implausible_end")
        if implausible_end is not None:
            _warn_no_end(fields["event_id"], fields["url"], implausible_end)
        rows.append(EventRow(**fields))
    return rows


def _sql_plausible(column: str) -> str:
    return f"coalesce(year({column}) between {FIRST_PLAUSIBLE_YEAR} and {LAST_PLAUSIBLE_YEAR}, false)"


def _warn_left_out(event_id: str, url: str | None, start: str) -> None:
    logger.warning("event %s (%s) starts on %s, outside the years %d..%d, and is left out of the calendar",
                   event_id, url or "no article", start, FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR)


def _warn_no_end(event_id: str, url: str | None, end: str) -> None:
    logger.warning("event %s (%s): end day %s is outside the years %d..%d and is taken as no end day",
                   event_id, url or "no article", end, FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR)


def _writable(row: EventRow) -> EventRow | None:
    """The row as the calendar writes it (the module docstring): None when its start is implausible, without an
    implausible end day."""
    if not is_plausible(row.start_date):
        _warn_left_out(row.event_id, row.url, row.start_date.isoformat())
        return None
    if row.end_date is not None and not is_plausible(row.end_date):
        _warn_no_end(row.event_id, row.url, row.end_date.isoformat())
        return dataclasses.replace(row, end_date=None)
    return row


def event_times(row: EventRow) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    """DTSTART and (exclusive) DTEND of an event, following the rules in the module docstring."""
    last_day = row.end_date if row.end_date and row.end_date >= row.start_date else row.start_date
    if row.start_time is None:
        return row.start_date, last_day + dt.timedelta(days=1)
    start = dt.datetime.combine(row.start_date, row.start_time, tzinfo=TIMEZONE)
    if row.end_time is not None:
        end = dt.datetime.combine(last_day, row.end_time, tzinfo=TIMEZONE)
    elif last_day > row.start_date:
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=TIMEZONE)
    else:
        end = start + DEFAULT_DURATION
    return start, end if end > start else start + DEFAULT_DURATION


def event_location(row: EventRow) -> str | None:
    """"Online", or venue, address and city without repeating a part an earlier one already contains."""
    if row.is_online:
        return "Online"
    parts: list[str] = []
    for part in (row.venue, row.address, row.city_name):
        part = (part or "").strip()
        if part and not any(part.casefold() in seen.casefold() for seen in parts):
            parts.append(part)
    return ", ".join(parts) or None


def _description(row: EventRow) -> str | None:
    lines = []
    if row.article_title:
        lines.append(f"Reported in: {row.article_title}")
    if row.source_id:
        published = f", {row.published_date.isoformat()}" if row.published_date else ""
        lines.append(f"Source: {row.source_id}{published}")
    if row.url:
        lines.append(row.url)
    return "\n".join(lines) or None


def to_vevent(row: EventRow, stamp: dt.datetime) -> icalendar.Event:
    """One VEVENT for an event row; stamp is DTSTAMP (timezone-aware)."""
    start, end = event_times(row)
    event = icalendar.Event()
    event.add("uid", event_uid(row.event_id))
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("summary", row.name or "Event")
    event.add("dtstart", start)
    event.add("dtend", end)
    location = event_location(row)
    if location:
        event.add("location", location)
    if row.url:
        event.add("url", row.url)
    description = _description(row)
    if description:
        event.add("description", description)
    if row.event_type:
        event.add("categories", [row.event_type])
    return event


def build_calendar(rows: Iterable[EventRow], stamp: dt.datetime | None = None) -> icalendar.Calendar:
    """A VCALENDAR with one VEVENT per row and the VTIMEZONE the timed events need."""
    stamp = stamp or dt.datetime.now(dt.UTC)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Stadtradar events")
    written: list[EventRow] = []
    for candidate in rows:
        row = _writable(candidate)
        if row is None:
            continue
        try:
            event = to_vevent(row, stamp)
        except (ValueError, OverflowError) as exc:  # a date or time icalendar cannot write: this event only
            logger.warning("event %s (%s) cannot be written (%s: %s) and is left out of the calendar",
                           row.event_id, row.url or "no article", type(exc).__name__, exc)
            continue
        calendar.add_component(event)
        written.append(row)
    if any(row.start_time is not None for row in written):
        # Transitions only for the years the events span, not 1970-2038: keeps the file small.
        first = min(row.start_date for row in written)
        last = max(row.end_date or row.start_date for row in written)
        calendar.add_missing_timezones(first_date=dt.date(first.year - 1, 1, 1), last_date=dt.date(last.year + 2, 1, 1))
    return calendar


def export_ics(con: duckdb.DuckDBPyConnection, out: Path, upcoming_from: dt.date | None = None,
               stamp: dt.datetime | None = None) -> int:
    """Write the events calendar to out (atomically); return the number of VEVENTs written."""
    calendar = build_calendar(read_events(con, upcoming_from), stamp)
    data = calendar.to_ical()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # The whole file next to the old one, on disk before the rename: a reader sees the old calendar or the
    # new one, never a part, even after a crash; a failed write leaves no partial file behind.
    partial = out.with_name(f".{out.name}.partial")
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return len(calendar.walk("VEVENT"))
