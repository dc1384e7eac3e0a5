"""One row of marts.events per gathering: through the real load (warehouse/load.py) and dbt build, reports of
one gathering under different names are one event, two gatherings at one place on one day are two."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest

from scrapers.process import ProcessedArticle, page_hash
from scrapers.records import ArticleRecord, City, EventRecord, FetchedPage
from scrapers.relevance import Relevance
from scrapers.urls import article_id, canonicalize
from tests.warehouse_fixture import built_once
from warehouse import load
from warehouse.calendar import build_calendar, read_events
from warehouse.db import connect
from warehouse.transform import run_dbt

pytestmark = pytest.mark.e2e  # builds dbt or runs the pipeline: `make test` runs it, `make test-fast` skips it

BAMBERG = City("2952984", "Bamberg", "DE", "02", 49.89, 10.89, 77_373)
COTTBUS = City("2939811", "Cottbus", "DE", "11", 51.76, 14.33, 99_678)
DAY = dt.date(2025, 10, 14)
WEBINAR_DAY = dt.date(2025, 11, 3)
CONGRESS_DAY = dt.date(2025, 11, 20)


def event(name: str, start: dt.date, city: City | None, event_type: str, **fields: object) -> EventRecord:
    return EventRecord(name=name, start_date=start, evidence=f"Am {start:%d.%m.} findet {name} statt.",
                       city_id=city.city_id if city else None, is_online=city is None, event_type=event_type,
                       **fields)


def article(url: str, source: str, published: dt.date, simhash: int, events: list[EventRecord]
            ) -> tuple[FetchedPage, ProcessedArticle]:
    """A fetched page and the article extracted from it, as scrapers.process hands them to the loader."""
    body = " ".join(e.evidence for e in events)
    page = FetchedPage(source, url, url, 200, "text/html", f"<html><body><p>{body}</p></body></html>",
                       dt.datetime(2025, 9, 20, 8, 0))
    record = ArticleRecord(url=url, title=f"Termine ({source})", body_text=body, published_date=published,
                           language="de")
    places = {c.city_id: c for c in (BAMBERG, COTTBUS) if any(e.city_id == c.city_id for e in events)}
    processed = ProcessedArticle(
        article_id=article_id(url), source_id=source, record=record,
        relevance=Relevance(is_relevant=True, score=0.8, terms=("smart city",)),
        content_hash=hashlib.sha256(body.encode()).hexdigest(), simhash=simhash,
        page_url=canonicalize(url), page_content_hash=page_hash(page.text),
        cities=[], programmes=[], events=events, places=places)
    return page, processed


def reports() -> list[tuple[FetchedPage, ProcessedArticle]]:
    """Three articles: a morning workshop and an evening panel in Bamberg on one day (the panel named a little
    differently by a later article, the workshop only as "die Veranstaltung" by another), a webinar reported
    twice (once with "zum"), and one Cottbus forum alone on its day."""
    return [
        article("https://www.stadt.bamberg.de/aktuelles/digitaltage", "bamberg", dt.date(2025, 9, 1),
                0x0000_0000_0000_00FF, [
                    event("Workshop Digitaler Zwilling", DAY, BAMBERG, "workshop", start_time=dt.time(9, 0)),
                    event("Podiumsdiskussion Smarte Mobilität", DAY, BAMBERG, "other",
                          start_time=dt.time(18, 30)),
                    # an end alone ("bis 9.30 Uhr"), which the later report's start would cross
                    event("Webinar Förderprogramm Wärmewende", WEBINAR_DAY, None, "webinar",
                          end_time=dt.time(9, 30)),
                    event("7. Kongress der Lausitzer Städte und Gemeinden", CONGRESS_DAY, COTTBUS, "kongress"),
                ]),
        article("https://www.fraenkischer-bote.de/lokales/zwilling", "zeitung", dt.date(2025, 9, 10),
                0x00FF_00FF_0000_FF00, [
                    event("die Veranstaltung", DAY, BAMBERG, "other", venue="Kesselhaus"),
                    event("7. LSG-Kongress", CONGRESS_DAY, COTTBUS, "kongress", venue="Stadthalle"),
                ]),
        article("https://www.bund.example/presse/termine", "bund", dt.date(2025, 9, 15),
                0xFF00_FF00_FFFF_0000, [
                    event("Podiumsdiskussion zur smarten Mobilität", DAY, BAMBERG, "other", venue="Konzerthalle"),
                    event("Webinar zum Förderprogramm Wärmewende", WEBINAR_DAY, None, "webinar",
                          start_time=dt.time(10, 0)),
                    event("Zukunftsforum Lausitz digital", DAY, COTTBUS, "forum"),
                ]),
    ]


def build(folder: Path) -> None:
    db = folder / "w.duckdb"
    pages, articles = zip(*reports(), strict=True)
    with connect(db) as con:
        archived = load.archive_pages(con, pages, "run-1")
        load.load_articles(con, list(articles), "run-1", archived_now=archived)
    run_dbt(db, "build")  # raises naming any failed model or test (event_id unique and not null among them)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Loaded and built once per test run, even when xdist splits this module between workers; read-only."""
    return built_once(tmp_path_factory, "event-grain", build) / "w.duckdb"


def old_key(start: dt.date, place: str) -> str:
    """The event_id of the former (start date, place) grain."""
    return hashlib.md5(f"{start.isoformat()}|{place}".encode()).hexdigest()[:16]


def test_two_gatherings_on_one_day_in_one_city_are_two_events(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("""
            select e.event_id, e.name, e.start_time, e.venue, e.report_count, a.source_id
            from marts.events e join marts.articles a using (article_id)
            where e.city_id = ? order by e.start_time""", [BAMBERG.city_id]).fetchall()
    assert [row[1:] for row in rows] == [
        # "die Veranstaltung" names neither gathering: it joins the earliest-reported one, with its venue.
        ("Workshop Digitaler Zwilling", dt.time(9, 0), "Kesselhaus", 2, "bamberg"),
        ("Podiumsdiskussion zur smarten Mobilität", dt.time(18, 30), "Konzerthalle", 2, "bamberg"),
    ]
    # The gathering with the day's earliest report keeps the key of the old (day, city) grain.
    assert rows[0][0] == old_key(DAY, BAMBERG.city_id) != rows[1][0]


def test_a_gathering_alone_on_its_day_keeps_its_key(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select event_id, name, city_name, report_count from marts.events where city_id = ? "
                           "and start_date = ?", [COTTBUS.city_id, DAY]).fetchall()
    assert rows == [(old_key(DAY, COTTBUS.city_id), "Zukunftsforum Lausitz digital", "Cottbus", 1)]


def test_an_online_gathering_reported_twice_is_one_event(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select event_id, name, start_time, end_time, is_online, report_count "
                           "from marts.events where city_id is null").fetchall()
    # the start comes from the report that gives one, and the other report's end (9.30) does not cross it
    assert rows == [(old_key(WEBINAR_DAY, "online"), "Webinar zum Förderprogramm Wärmewende", dt.time(10, 0),
                     None, True, 2)]


def test_the_calendar_gets_one_entry_per_gathering(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = read_events(con)
        ids = [r[0] for r in con.execute("select event_id from marts.events").fetchall()]
    uids = [str(e["UID"]) for e in build_calendar(rows).walk("VEVENT")]
    assert len(uids) == len(set(uids)) == len(ids) == 5


def test_one_edition_under_its_acronym_and_its_full_name_is_one_event(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select name, venue, report_count from marts.events where start_date = ?",
                           [CONGRESS_DAY]).fetchall()
    assert rows == [("7. Kongress der Lausitzer Städte und Gemeinden", "Stadthalle", 2)]
