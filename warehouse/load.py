"""Idempotent writes into the raw and ops tables: re-running a load never duplicates or loses rows."""
from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from scrapers.config import Source
from scrapers.crawl import KnownPage
from scrapers.fetch import FetchError
from scrapers.process import EXTRACTOR_VERSION, ProcessedArticle, page_hash
from scrapers.records import City, FetchedPage
from scrapers.softerror import replaces_stored
from scrapers.urls import canonicalize
from warehouse import archive
from warehouse.bulk import insert_rows
from warehouse.db import WarehouseError
from warehouse.health import Shares


@dataclass(frozen=True)
class LoadCounts:
    """How a batch of articles compared with what the warehouse held."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    # (page URL, reason) of extractions that were not allowed to replace the stored article
    kept: list[tuple[str, str]] = field(default_factory=list)


def now() -> dt.datetime:
    """The current UTC time as the naive timestamp the warehouse stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def archive_pages(con: duckdb.DuckDBPyConnection, pages: Iterable[FetchedPage], run_id: str
                  ) -> set[tuple[str, str]]:
    """Append new page bodies to the WARC archive, index them in raw.pages and record each URL's HTTP state;
    returns the (url, content_hash) keys of the bodies added.

    The archive is append-only: a body already archived for a URL adds nothing, a changed body adds a
    version. A 304 answer only refreshes the HTTP state. The WARC records are on disk (fsynced) before the
    index rows commit, so a killed run leaves at worst records no row points to, never a row without its
    record.
    """
    fresh: dict[tuple[str, str], FetchedPage] = {}
    state_rows: dict[str, list[Any]] = {}
    for page in pages:
        url = canonicalize(page.requested_url)
        digest = page_hash(page.text) if page.status != 304 else None
        if digest is not None:
            fresh[(url, digest)] = page  # one statement must not carry a key twice: keep the last
        state_rows[url] = [url, page.source_id, page.kind, page.etag, page.last_modified, digest, page.status,
                           page.fetched_at, run_id]
    new = _not_archived(con, list(fresh))
    index_rows = _write_warc(con, [(key, fresh[key]) for key in new], run_id)
    con.execute("begin transaction")
    try:
        insert_rows(con, "raw.pages", index_rows)
        if state_rows:
            # A 304 keeps the validators and hash of the body we hold.
            insert_rows(
                con, "ops.http_state", list(state_rows.values()),
                """on conflict (url) do update set
                     source_id = excluded.source_id, page_kind = excluded.page_kind,
                     etag = coalesce(excluded.etag, http_state.etag),
                     last_modified = coalesce(excluded.last_modified, http_state.last_modified),
                     content_hash = coalesce(excluded.content_hash, http_state.content_hash),
                     last_status = excluded.last_status, last_fetched = excluded.last_fetched,
                     run_id = excluded.run_id""",
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return set(new)


def _write_warc(con: duckdb.DuckDBPyConnection, pages: list[tuple[tuple[str, str], FetchedPage]], run_id: str
                ) -> list[list[Any]]:
    """Append the pages to their source's WARC file of this run; returns their raw.pages index rows."""
    folder = archive_folder_of(con)
    by_file: dict[str, list[tuple[tuple[str, str], FetchedPage]]] = {}
    for key, page in pages:
        by_file.setdefault(archive.run_file(page.source_id, run_id), []).append((key, page))
    rows: list[list[Any]] = []
    for file, group in by_file.items():
        refs = archive.append_pages(folder, file, [page for _, page in group])
        rows.extend([
            url, digest, p.source_id, p.requested_url, p.final_url, p.status, p.content_type, p.etag,
            p.last_modified, len(p.text), p.kind, p.fetched_at, run_id, ref.file, ref.offset, ref.length,
        ] for ((url, digest), p), ref in zip(group, refs, strict=True))
    return rows


def archive_folder_of(con: duckdb.DuckDBPyConnection) -> Path:
    """The WARC archive folder of the warehouse file `con` has open (warehouse.archive.archive_folder)."""
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    if not path or not path[0]:
        raise WarehouseError("the page archive needs a warehouse file: this connection has none open")
    return archive.archive_folder(Path(path[0]))


def _not_archived(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (url, content_hash) keys raw.pages does not hold yet.

    ops.http_state (small, keyed) answers for almost every page: a URL it has never seen has no body in the
    archive, and a body with the hash it holds is archived (both tables are written in one transaction).
    Only a body that differs from the latest one is looked up in raw.pages (it may be an earlier version
    coming back): raw.pages is kept in one small row group per batch, so even without bodies a lookup in it
    reads a block per batch (about 20 ms at 20,000 pages in batches of 50).
    """
    if not keys:
        return keys
    latest = dict(con.execute("select url, content_hash from ops.http_state where url in (select unnest(?))",
                              [[url for url, _ in keys]]).fetchall())
    changed = [url for url, digest in keys if url in latest and latest[url] != digest]
    earlier = set(con.execute("select url, content_hash from raw.pages where url in (select unnest(?))",
                              [changed]).fetchall()) if changed else set()
    return [(url, digest) for url, digest in keys
            if (url not in latest or latest[url] != digest) and (url, digest) not in earlier]


# The columns of raw.pages that make a FetchedPage with the body read from WARC (see _read_pages).
_PAGE_COLUMNS = ("p.url, p.source_id, p.requested_url, p.final_url, p.status, p.content_type, p.fetched_at, "
                 "p.etag, p.last_modified, p.page_kind, p.warc_file, p.warc_offset, p.warc_length")


def _read_pages(con: duckdb.DuckDBPyConnection, rows: list[tuple[Any, ...]],
                unreadable: list[FetchError] | None = None) -> list[FetchedPage]:
    """Pages from raw.pages rows (_PAGE_COLUMNS) with their bodies read from the WARC archive. A record that
    is missing, cut short, not UTF-8 or another page's is an ArchiveError naming the file and the URL; with
    `unreadable` given, it is added there instead and the page left out."""
    folder = archive_folder_of(con)
    pages = []
    for url, source_id, requested, final, status, content_type, fetched_at, etag, modified, kind, *ref in rows:
        try:
            text = _archived_text(folder, archive.RecordRef(*ref), url, final)
        except archive.ArchiveError as exc:
            if unreadable is None:
                raise
            unreadable.append(FetchError(url, str(exc)))
            continue
        pages.append(FetchedPage(source_id=source_id, requested_url=requested, final_url=final, status=status,
                                 content_type=content_type or "", text=text, fetched_at=fetched_at, etag=etag,
                                 last_modified=modified, kind=kind))
    return pages


def _archived_text(folder: Path, ref: archive.RecordRef, url: str, final: str) -> str:
    stored = archive.read_response(folder, ref, url)
    where = f"{folder / ref.file}: the record at offset {ref.offset}"
    if stored.url != final:
        raise archive.ArchiveError(f"{where} is of {stored.url}, not of the archived page {url} ({final}); "
                                   "the index does not match")
    try:
        return stored.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise archive.ArchiveError(f"{where} ({url}) is not UTF-8 as the archive writes it: {exc}") from None


def known_articles(con: duckdb.DuckDBPyConnection, source_id: str) -> dict[str, KnownPage]:
    """Article URLs of a source whose page we hold, for incremental crawling. A page whose latest version
    looked like the site's error page is not known: it is fetched again (unconditionally)."""
    rows = con.execute(
        """select s.url, s.last_fetched, s.etag, s.last_modified, s.content_hash
           from ops.http_state s left join ops.extracted_pages e on e.url = s.url
           where s.source_id = ? and s.page_kind = 'article' and s.last_status in (200, 304)
             and s.content_hash is not null
             and not coalesce(e.soft_error and e.content_hash = s.content_hash, false)""",
        [source_id],
    ).fetchall()
    return {url: KnownPage(url, fetched, etag, modified, digest) for url, fetched, etag, modified, digest in rows}


def pending_pages(con: duckdb.DuckDBPyConnection, source_id: str, after_url: str = "", limit: int = 50
                  ) -> tuple[list[FetchedPage], str | None, list[FetchError]]:
    """Archived article pages of a source whose latest body was never extracted (a run stopped between
    archiving and loading), up to `limit` in URL order after `after_url`, the URL to go on after (None when
    there are no more), and the pages whose archived record cannot be read: the next run extracts the pages
    without refetching. An unreadable page (its WARC file lost or damaged) is forgotten, index row and HTTP
    validators, so that it is fetched and archived again instead of stopping every later run."""
    # The small keyed tables say which pages are pending (almost always none); only their bodies are read.
    pending = con.execute(
        """select s.url, s.content_hash from ops.http_state s left join ops.extracted_pages e on e.url = s.url
           where s.source_id = ? and s.page_kind = 'article' and s.content_hash is not null and s.url > ?
             and e.content_hash is distinct from s.content_hash
           order by s.url limit ?""",
        [source_id, after_url, limit],
    ).fetchall()
    if not pending:
        return [], None, []
    keys = [f"{url} {digest}" for url, digest in pending]
    rows = con.execute(
        f"""select {_PAGE_COLUMNS} from raw.pages p
           where p.url || ' ' || p.content_hash in (select unnest(?)) and p.status = 200
           order by p.url""",
        [keys],
    ).fetchall()
    unreadable: list[FetchError] = []
    pages = _read_pages(con, rows, unreadable)
    if unreadable:
        lost = [e.url for e in unreadable]
        forget = [key for key, (url, _) in zip(keys, pending, strict=True) if url in lost]
        con.execute("begin transaction")
        con.execute("delete from raw.pages where url || ' ' || content_hash in (select unnest(?))", [forget])
        con.execute("update ops.http_state set content_hash = null, etag = null, last_modified = null "
                    "where url in (select unnest(?))", [lost])
        con.execute("commit")
    return pages, pending[-1][0], unreadable


def mark_extracted(con: duckdb.DuckDBPyConnection, pages: Iterable[FetchedPage],
                   soft_errors: Collection[str] = frozenset()) -> None:
    """Record that these page versions were extracted (whatever that gave), so no run extracts them again;
    `soft_errors` are the (canonical) URLs whose page looked like an error page: fetched again next run."""
    rows = {}
    for p in pages:
        if p.status == 200:
            url = canonicalize(p.requested_url)
            rows[url] = [url, page_hash(p.text), now(), url in soft_errors]
    insert_rows(con, "ops.extracted_pages", list(rows.values()), "replace")


def archived_pages(con: duckdb.DuckDBPyConnection, source_id: str, offset: int = 0, limit: int = 50,
                   kind: str = "article") -> list[FetchedPage]:
    """One page (in URL order) of the latest archived bodies of a source's pages of one kind, for
    re-extraction without the network; paged, so a source of any size is never in memory at once."""
    rows = con.execute(
        f"""select {_PAGE_COLUMNS}
           from raw.pages p join ops.http_state s on s.url = p.url and s.content_hash = p.content_hash
           where p.source_id = ? and p.page_kind = ? and p.status = 200
           order by p.url limit ? offset ?""",
        [source_id, kind, limit, offset],
    ).fetchall()
    return _read_pages(con, rows)


def load_articles(con: duckdb.DuckDBPyConnection, articles: list[ProcessedArticle], run_id: str,
                  archived_now: Collection[tuple[str, str]] = frozenset()) -> LoadCounts:
    """Upsert articles with their mentions, participations and events in one transaction; returns
    new/updated/unchanged.

    `archived_now` are the (url, content_hash) keys of pages archived by this run: their fetch run is this
    run, so only the other pages are looked up in raw.pages.
    """
    if not articles:
        return LoadCounts()
    by_id = {a.article_id: a for a in articles}  # one page may be reached twice; keep one record
    existing = dict(con.execute(
        "select article_id, content_hash from ops.article_index where article_id in (select unnest(?))",
        [list(by_id)]).fetchall())
    kept = _refuse_replacements(con, by_id, existing)
    if not by_id:
        return LoadCounts(kept=kept)
    ids = list(by_id)
    held = [i for i in ids if i in existing]  # only these have rows to replace, so only these cost a scan
    extracted_at = now()
    earlier = [a.page_url for a in by_id.values() if (a.page_url, a.page_content_hash) not in archived_now]
    fetch_runs = dict(
        con.execute(
            "select url || ' ' || content_hash, run_id from raw.pages where url in (select unnest(?))", [earlier]
        ).fetchall()
    ) if earlier else {}
    con.execute("begin transaction")
    try:
        # Replace, keyed by article_id; the table declares no key (see warehouse/migrations/0001_initial.sql).
        if held:
            for table in ("raw.articles", "raw.mentions", "raw.participations", "raw.events"):
                con.execute(f"delete from {table} where article_id in (select unnest(?))", [held])
        insert_rows(
            con, "raw.articles",
            [_article_row(a, extracted_at, run_id, fetch_runs.get(f"{a.page_url} {a.page_content_hash}", run_id))
             for a in by_id.values()],
        )
        changed = [a for a in by_id.values() if existing.get(a.article_id) != a.content_hash]
        # A version is a page edit. The same archived page extracted anew (a new extractor, `reparse`) replaces
        # the version it gave before and keeps its first_seen_at, instead of adding a version per extractor.
        reextracted = dict(((r[0], r[1]), r[2]) for r in con.execute(
            "select article_id, page_content_hash, min(first_seen_at) from raw.article_versions "
            "where article_id in (select unnest(?)) group by all",
            [[a.article_id for a in changed if a.article_id in existing]]).fetchall()) if held else {}
        redone = [a for a in changed if (a.article_id, a.page_content_hash) in reextracted]
        if redone:
            con.execute("delete from raw.article_versions where article_id || ' ' || page_content_hash "
                        "in (select unnest(?))", [[f"{a.article_id} {a.page_content_hash}" for a in redone]])
        versions = [[a.article_id, a.content_hash, a.record.url, a.record.title, a.record.teaser,
                     a.record.body_text, a.record.published_date, a.record.modified_date, a.page_content_hash,
                     reextracted.get((a.article_id, a.page_content_hash), extracted_at), run_id, EXTRACTOR_VERSION]
                    for a in changed]
        # An article new to the index has no version yet; a changed one may return to an earlier version.
        insert_rows(con, "raw.article_versions", [v for v in versions if v[0] not in existing])
        insert_rows(con, "raw.article_versions", [v for v in versions if v[0] in existing],
                    new_on=("article_id", "content_hash"))
        insert_rows(con, "ops.article_index",
                    [[a.article_id, a.content_hash, extracted_at] for a in by_id.values()], "replace")
        mention_rows: list[list[Any]] = []
        participation_rows: list[list[Any]] = []
        event_rows: list[list[Any]] = []
        places: dict[str, City] = {}
        for a in by_id.values():
            places.update(a.places)
            text = f"{a.record.title}\n{a.record.body_text}"
            for c in a.cities:
                mention_rows.append([a.article_id, "city", c.city_id, c.surface, c.offset, _count(text, c.surface)])
            seen_programmes: set[str] = set()
            for p in a.programmes:
                if p.programme_id in seen_programmes:
                    continue
                seen_programmes.add(p.programme_id)
                surface = p.discovered_name or p.surface
                mention_rows.append(
                    [a.article_id, "programme", p.programme_id, surface, p.offset, _count(text, p.surface)]
                )
            # One row per key: a role stated twice in an article is one participation.
            participation_rows.extend({(x.city_id, x.programme_id, x.role): [
                a.article_id, x.city_id, x.programme_id, x.role, x.evidence] for x in a.participations}.values())
            for index, e in enumerate(a.events):
                event_rows.append([
                    a.article_id, index, e.name, e.start_date, e.end_date, e.start_time, e.end_time, e.city_id,
                    e.is_online, e.venue, e.address, e.event_type, e.organiser, e.programme_id, e.evidence,
                ])
        if mention_rows:
            insert_rows(con, "raw.mentions", mention_rows)
        if participation_rows:
            insert_rows(con, "raw.participations", participation_rows)
        if event_rows:
            insert_rows(con, "raw.events", event_rows)
        upsert_cities(con, places.values())
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    new = sum(1 for i in ids if i not in existing)
    updated = sum(1 for i in ids if i in existing and existing[i] != by_id[i].content_hash)
    return LoadCounts(new=new, updated=updated, unchanged=len(ids) - new - updated, kept=kept)


def _refuse_replacements(con: duckdb.DuckDBPyConnection, by_id: dict[str, ProcessedArticle],
                         existing: dict[str, str]) -> list[tuple[str, str]]:
    """Drop from by_id the changed articles that must not replace the stored version (see
    scrapers.softerror.replaces_stored); returns (page URL, reason) of each."""
    changed = [i for i, a in by_id.items() if i in existing and existing[i] != a.content_hash]
    if not changed:
        return []
    stored = {r[0]: (r[1] or "", r[2] or 0) for r in con.execute(
        "select article_id, title, length(body_text) from raw.articles where article_id in (select unnest(?))",
        [changed]).fetchall()}
    kept = []
    for article_id in changed:
        article = by_id[article_id]
        title, length = stored.get(article_id, ("", 0))
        if not replaces_stored(title, length, article.record.title, article.record.body_text):
            kept.append((article.page_url, f"kept the stored article {title!r}: the page now holds a text of "
                                           f"{len(article.record.body_text)} characters (stored {length}) "
                                           f"without its title, like an error or maintenance page"))
            del by_id[article_id]
    return kept


def upsert_cities(con: duckdb.DuckDBPyConnection, cities: Iterable[City]) -> None:
    """Write gazetteer entries to raw.cities."""
    rows = [[c.city_id, c.name, c.country_code, c.admin1_code, c.latitude, c.longitude, c.population]
            for c in sorted(cities, key=lambda c: c.city_id)]
    insert_rows(con, "raw.cities", rows, "replace")


def append_errors(con: duckdb.DuckDBPyConnection, errors: Iterable[FetchError], source_id: str, run_id: str) -> int:
    """Append failed URLs to ops.fetch_errors."""
    rows = [[e.url, source_id, e.status, e.reason, e.attempts, run_id, now()] for e in errors]
    if rows:
        insert_rows(con, "ops.fetch_errors", rows)
    return len(rows)


def write_sources(con: duckdb.DuckDBPyConnection, sources: Iterable[Source]) -> None:
    """Record the descriptive attributes of the configured sources in raw.sources."""
    con.executemany(
        "insert or replace into raw.sources values (?, ?, ?, ?, ?, ?, ?, ?)",
        [[s.id, s.name, s.kind, s.city, s.licence, s.terms_url, len(s.feeds) + len(s.sitemaps) + len(s.listings),
          now()] for s in sources],
    )


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow: str) -> None:
    """Open a row in ops.runs for this run; runs still marked running died (we hold the writer lock)."""
    mark_running_interrupted(con)
    con.execute(
        "insert or replace into ops.runs (run_id, flow, started_at, status) values (?, ?, ?, 'running')",
        [run_id, flow, now()],
    )


def mark_running_interrupted(con: duckdb.DuckDBPyConnection) -> None:
    """Mark the runs still `running` as `interrupted`; call only while holding the writer lock, so none of them
    is alive."""
    con.execute("update ops.runs set status = 'interrupted' where status = 'running'")


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, summary: dict[str, int], status: str) -> None:
    """Close the run's row in ops.runs with its counts."""
    con.execute(
        "update ops.runs set finished_at = ?, status = ?, sources_ok = ?, sources_failed = ?, pages_fetched = ?, "
        "articles_new = ?, articles_updated = ?, articles_unchanged = ?, errors = ? where run_id = ?",
        [now(), status, summary.get("sources_ok", 0), summary.get("sources_failed", 0),
         summary.get("pages_fetched", 0), summary.get("articles_new", 0), summary.get("articles_updated", 0),
         summary.get("articles_unchanged", 0), summary.get("errors", 0), run_id],
    )


def _article_row(a: ProcessedArticle, extracted_at: dt.datetime, run_id: str, fetch_run_id: str) -> list[object]:
    r = a.record
    return [
        a.article_id, a.source_id, r.url, r.title, r.teaser, r.body_text, r.published_date, r.modified_date,
        r.author, r.language, a.relevance.is_relevant, a.relevance.score, list(a.relevance.terms), a.content_hash,
        r.details or None, a.simhash, a.page_url,
        a.page_content_hash, fetch_run_id, EXTRACTOR_VERSION, extracted_at, run_id,
    ]


def _count(text: str, surface: str) -> int:
    return max(1, text.count(surface))


def source_history(con: duckdb.DuckDBPyConnection, source_id: str, limit: int = 10) -> list[Shares]:
    """Completeness shares of a source's recent runs that extracted articles, newest first."""
    rows = con.execute(
        """select share_title, share_date, share_body, share_entity from ops.source_runs
           where source_id = ? and articles > 0 order by finished_at desc limit ?""",
        [source_id, limit],
    ).fetchall()
    return [Shares(*row) for row in rows]


def record_source_run(con: duckdb.DuckDBPyConnection, run_id: str, source_id: str, counts: dict[str, int],
                      failed: bool, completeness: Shares, healthy: bool, reason: str | None,
                      timings: dict[str, float] | None = None) -> None:
    """Write (or rewrite) a source's row for this run in ops.source_runs."""
    timings = timings or {}
    con.execute(
        f"insert or replace into ops.source_runs values ({', '.join(['?'] * 23)})",
        [run_id, source_id, counts.get("discovered", 0), counts.get("fetched", 0), counts.get("not_modified", 0),
         counts.get("articles", 0), counts.get("new", 0), counts.get("updated", 0), counts.get("unchanged", 0),
         counts.get("errors", 0), failed, completeness.title, completeness.date, completeness.body,
         completeness.entity, healthy, reason, now(), counts.get("robots_refused", 0),
         *(round(timings.get(step, 0.0), 3) for step in ("fetch", "archive", "extract", "load"))],
    )
