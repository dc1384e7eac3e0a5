"""Idempotent writes into the raw and ops tables: re-running a load never duplicates or loses rows."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from scrapers import entities
from scrapers.crawl import KnownPage
from scrapers.fetch import FetchError
from scrapers.process import ProcessedArticle
from scrapers.records import FetchedPage
from scrapers.urls import canonicalize


@dataclass(frozen=True)
class LoadCounts:
    """How a batch of articles compared with what the warehouse held."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def archive_pages(con: duckdb.DuckDBPyConnection, pages: Iterable[FetchedPage], run_id: str) -> int:
    """Store fetched responses in raw.pages (one row per URL, the latest body wins); returns rows written."""
    rows = []
    for page in pages:
        if page.status == 304:  # not modified: keep the stored body, note that we checked
            con.execute(
                "update raw.pages set fetched_at = ?, run_id = ? where url = ?",
                [page.fetched_at, run_id, canonicalize(page.requested_url)],
            )
            continue
        rows.append([
            canonicalize(page.requested_url), page.source_id, page.requested_url, page.final_url, page.status,
            page.content_type, page.etag, page.last_modified,
            hashlib.sha256(page.text.encode("utf-8")).hexdigest(), page.text, page.kind, page.fetched_at, run_id,
        ])
    if rows:
        con.executemany("insert or replace into raw.pages values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def known_articles(con: duckdb.DuckDBPyConnection, source_id: str) -> dict[str, KnownPage]:
    """Article pages of a source already archived, for incremental crawling."""
    rows = con.execute(
        "select url, fetched_at, etag, last_modified from raw.pages "
        "where source_id = ? and page_kind = 'article' and status = 200",
        [source_id],
    ).fetchall()
    return {url: KnownPage(url, fetched_at, etag, last_modified) for url, fetched_at, etag, last_modified in rows}


def archived_pages(con: duckdb.DuckDBPyConnection, kind: str = "article") -> list[FetchedPage]:
    """Archived pages of one kind, as the fetcher returned them, for re-extraction without the network."""
    rows = con.execute(
        "select source_id, requested_url, final_url, status, content_type, body, fetched_at, etag, last_modified "
        "from raw.pages where page_kind = ? and status = 200 order by url",
        [kind],
    ).fetchall()
    return [
        FetchedPage(source_id=r[0], requested_url=r[1], final_url=r[2], status=r[3], content_type=r[4] or "",
                    text=r[5] or "", fetched_at=r[6], etag=r[7], last_modified=r[8], kind=kind)
        for r in rows
    ]


def load_articles(con: duckdb.DuckDBPyConnection, articles: list[ProcessedArticle], run_id: str) -> LoadCounts:
    """Upsert articles with their mentions and events in one transaction; returns new/updated/unchanged."""
    if not articles:
        return LoadCounts()
    by_id = {a.article_id: a for a in articles}  # one page may be reached twice; keep one record
    ids = list(by_id)
    existing = dict(
        con.execute("select article_id, content_hash from raw.articles where article_id in (select unnest(?))", [ids])
        .fetchall()
    )
    extracted_at = _now()
    con.execute("begin transaction")
    try:
        con.executemany(
            "insert or replace into raw.articles values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_article_row(a, extracted_at, run_id) for a in by_id.values()],
        )
        con.execute("delete from raw.mentions where article_id in (select unnest(?))", [ids])
        con.execute("delete from raw.events where article_id in (select unnest(?))", [ids])
        mention_rows, event_rows, city_ids = [], [], set()
        for a in by_id.values():
            text = f"{a.record.title}\n{a.record.body_text}"
            for c in a.cities:
                mention_rows.append(
                    [a.article_id, "city", c.city_id, c.surface, c.offset, _count(text, c.surface), None]
                )
                city_ids.add(c.city_id)
            seen_programmes: set[str] = set()
            for p in a.programmes:
                if p.programme_id in seen_programmes:
                    continue
                seen_programmes.add(p.programme_id)
                surface = p.discovered_name or p.surface
                mention_rows.append(
                    [a.article_id, "programme", p.programme_id, surface, p.offset, _count(text, p.surface), p.role]
                )
            for index, e in enumerate(a.events):
                event_rows.append([
                    a.article_id, index, e.name, e.start_date, e.end_date, e.start_time, e.end_time, e.city_id,
                    e.is_online, e.venue, e.evidence,
                ])
                if e.city_id:
                    city_ids.add(e.city_id)
        if mention_rows:
            con.executemany("insert into raw.mentions values (?, ?, ?, ?, ?, ?, ?)", mention_rows)
        if event_rows:
            con.executemany("insert into raw.events values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows)
        upsert_cities(con, city_ids)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    new = sum(1 for i in ids if i not in existing)
    updated = sum(1 for i in ids if i in existing and existing[i] != by_id[i].content_hash)
    return LoadCounts(new=new, updated=updated, unchanged=len(ids) - new - updated)


def upsert_cities(con: duckdb.DuckDBPyConnection, city_ids: Iterable[str]) -> None:
    """Write the gazetteer entries of the given cities to raw.cities."""
    rows = []
    for city_id in sorted(set(city_ids)):
        city = entities.city_by_id(city_id)
        if city is not None:
            rows.append([city.city_id, city.name, city.country_code, city.admin1_code, city.latitude,
                         city.longitude, city.population])
    if rows:
        con.executemany("insert or replace into raw.cities values (?, ?, ?, ?, ?, ?, ?)", rows)


def record_errors(con: duckdb.DuckDBPyConnection, errors: Iterable[FetchError], source_id: str, run_id: str) -> int:
    """Append failed URLs to ops.fetch_errors; a re-run of the same run id replaces its rows."""
    rows = [[e.url, source_id, e.status, e.reason, e.attempts, run_id, _now()] for e in errors]
    con.execute("delete from ops.fetch_errors where run_id = ? and source_id = ?", [run_id, source_id])
    if rows:
        con.executemany("insert into ops.fetch_errors values (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str) -> None:
    """Open a row in ops.runs for this run."""
    con.execute(
        "insert or replace into ops.runs (run_id, flow, started_at, status) values (?, ?, ?, 'running')",
        [run_id, flow, _now()],
    )


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, summary: dict[str, int], status: str) -> None:
    """Close the run's row in ops.runs with its counts."""
    con.execute(
        "update ops.runs set finished_at = ?, status = ?, sources_ok = ?, sources_failed = ?, pages_fetched = ?, "
        "articles_new = ?, articles_updated = ?, articles_unchanged = ?, errors = ? where run_id = ?",
        [_now(), status, summary.get("sources_ok", 0), summary.get("sources_failed", 0),
         summary.get("pages_fetched", 0), summary.get("articles_new", 0), summary.get("articles_updated", 0),
         summary.get("articles_unchanged", 0), summary.get("errors", 0), run_id],
    )


def _article_row(a: ProcessedArticle, extracted_at: dt.datetime, run_id: str) -> list[object]:
    r = a.record
    return [
        a.article_id, a.source_id, r.url, r.title, r.teaser, r.body_text, r.published_date, r.modified_date,
        r.author, r.language, a.relevance.is_relevant, a.relevance.score, list(a.relevance.terms), a.content_hash,
        json.dumps(r.details, ensure_ascii=False) if r.details else None, extracted_at, run_id,
    ]


def _count(text: str, surface: str) -> int:
    return max(1, text.count(surface))
