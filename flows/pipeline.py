"""Prefect flows: ingest (crawl, archive, extract, load per source), build (dbt) and the pipeline of both."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Collection
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from scrapers.config import Settings, Source, load_sources
from scrapers.crawl import CrawlResult, KnownPage, discover, fetch_articles, pages_to_parse
from scrapers.discovery import DiscoveredLink
from scrapers.fetch import Fetcher, FetchError
from scrapers.process import ProcessedArticle, page_hash, process_safely, warm_up
from scrapers.records import FetchedPage
from scrapers.replay import ReplayTransport
from warehouse import health, load
from warehouse.db import connect, publish
from warehouse.lock import writer_lock
from warehouse.reports import IngestReport, SourceReport, ingest_markdown
from warehouse.transform import DbtOutcome, build_fingerprint, run_dbt, up_to_date


@task(name="discover-source", cache_policy=NO_CACHE)
async def discover_task(source: Source, fetcher: Fetcher, settings: Settings, known: dict[str, KnownPage],
                        refresh: bool) -> CrawlResult:
    """Feeds, sitemaps and listings of one source: which article pages to fetch this run."""
    return await discover(source, fetcher, settings, known, refresh)


@task(name="fetch-archive-extract-load", cache_policy=NO_CACHE)
async def batch_task(ctx: _RunContext, source: Source, fetcher: Fetcher, links: list[DiscoveredLink],
                     crawl: CrawlResult, known: dict[str, KnownPage], report: SourceReport,
                     tally: health.Tally) -> None:
    """One batch of article links: fetch, archive, extract what is new, load. Pages never leave the task,
    so a run holds at most a couple of batches in memory whatever the size of the site."""
    started = time.monotonic()
    pages = await fetch_articles(fetcher, source, links, known, crawl)
    report.timings["fetch"] += time.monotonic() - started
    report.fetched += len(pages)
    report.not_modified += sum(1 for p in pages if p.status == 304)
    ctx.pages_fetched += len(pages)
    await _archive_extract_load(ctx, source, pages, crawl, known, report, tally)


async def _archive_extract_load(ctx: _RunContext, source: Source, pages: list[FetchedPage], crawl: CrawlResult,
                                known: dict[str, KnownPage], report: SourceReport, tally: health.Tally) -> None:
    """Archive pages (before parsing, so a parser crash loses nothing), extract what is new, load it."""
    started = time.monotonic()
    async with ctx.db_lock:
        archived = await asyncio.to_thread(_archive, ctx.db, pages, ctx.run_id)
    report.timings["archive"] += time.monotonic() - started
    await _extract_load(ctx, source, pages_to_parse(pages, known, page_hash, reparse=ctx.refresh), crawl.hints,
                        report, tally, archived)


async def _extract_load(ctx: _RunContext, source: Source, fresh: list[FetchedPage],
                        hints: dict[str, DiscoveredLink], report: SourceReport, tally: health.Tally,
                        archived: Collection[tuple[str, str]] = frozenset()) -> None:
    """Extract article pages and load what they give, counting into the source's report; `archived` are
    the pages this run has just added to the archive."""
    if not fresh:
        return
    started = time.monotonic()
    results = await ctx.extract(fresh, source, hints)
    articles = [a for a, _ in results if a is not None]
    errors = [FetchError(p.requested_url, e) for p, (_, e) in zip(fresh, results, strict=True) if e]
    report.timings["extract"] += time.monotonic() - started
    started = time.monotonic()
    async with ctx.db_lock:
        counts = await asyncio.to_thread(_load, ctx.db, articles, errors, ctx.run_id, report.source_id, archived)
    report.timings["load"] += time.monotonic() - started
    report.parsed += len(fresh)
    report.articles += len(articles)
    report.new, report.updated, report.unchanged = (report.new + counts.new, report.updated + counts.updated,
                                                    report.unchanged + counts.unchanged)
    report.errors.extend(str(e) for e in errors)
    tally.add(articles)


def _archive(db: Path, pages: list[FetchedPage], run_id: str) -> set[tuple[str, str]]:
    with connect(db) as con:
        return load.archive_pages(con, pages, run_id)


def _load(db: Path, articles: list[ProcessedArticle], errors: list[FetchError], run_id: str,
          source_id: str, archived: Collection[tuple[str, str]]) -> load.LoadCounts:
    with connect(db) as con:
        counts = load.load_articles(con, articles, run_id, archived)
        load.append_errors(con, errors, source_id, run_id)
        return counts


class _RunContext:
    """What every source's pipeline in one run shares: the warehouse, one write at a time, the workers."""

    def __init__(self, db: Path, run_id: str, settings: Settings, refresh: bool):
        self.db, self.run_id, self.settings, self.refresh = db, run_id, settings, refresh
        self.db_lock = asyncio.Lock()  # DuckDB takes one writer; batches of different sources take turns
        self.pool: ProcessPoolExecutor | None = None
        self.pages_fetched = 0
        # Batches in flight across all sources: one per worker being extracted plus one being fetched. Each
        # holds its pages several times over (bytes, text, pickled for a worker), so this bounds memory.
        self.in_flight = asyncio.Semaphore(settings.workers + 1)

    async def extract(self, pages: list[FetchedPage], source: Source, hints: dict[str, DiscoveredLink]
                      ) -> list[tuple[ProcessedArticle | None, str | None]]:
        """Extract pages on all cores; small batches stay in this process (a worker costs a second to start)."""
        dates = [getattr(hints.get(p.requested_url), "published", None) for p in pages]
        if len(pages) < self.settings.pool_threshold or self.settings.workers < 2:
            return [process_safely(p, source, d) for p, d in zip(pages, dates, strict=True)]
        if self.pool is None:
            # forkserver, not fork: this process runs threads (Prefect), which a fork would copy mid-flight.
            self.pool = ProcessPoolExecutor(self.settings.workers, mp_context=get_context("forkserver"),
                                            initializer=warm_up)
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(loop.run_in_executor(self.pool, process_safely, p, source, d)
                                      for p, d in zip(pages, dates, strict=True)))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


async def _ingest_source(ctx: _RunContext, source: Source, fetcher: Fetcher, known: dict[str, KnownPage]
                         ) -> SourceReport:
    """One source: discover, then fetch, archive, extract and load in batches, so memory stays bounded and
    fetching the next batch overlaps extracting this one."""
    report, tally = SourceReport(source.id), health.Tally()
    started = time.monotonic()
    try:
        crawl = await discover_task(source, fetcher, ctx.settings, quote(known), ctx.refresh)
    except Exception as exc:  # noqa: BLE001 - a broken source is recorded; the other sources go on
        crawl = CrawlResult(source.id, errors=[FetchError(source.id, f"crawl failed: {exc}")])
    report.timings["fetch"] += time.monotonic() - started
    # The discovery pages (feeds, sitemaps, every listing page: 4 MB a source at 2,500 articles) are archived
    # now and not held while the source's articles are fetched.
    discovery_pages, crawl.pages = crawl.pages, []
    listings_fetched = len(discovery_pages)
    await _archive_extract_load(ctx, source, discovery_pages, crawl, known, report, tally)
    del discovery_pages
    size = ctx.settings.batch_size

    async def one(links: list[DiscoveredLink]) -> None:
        async with ctx.in_flight:
            await batch_task(ctx, source, fetcher, links, quote(crawl), quote(known), report, tally)

    await asyncio.gather(*(one(crawl.to_fetch[i:i + size]) for i in range(0, len(crawl.to_fetch), size)))
    ctx.pages_fetched += listings_fetched
    report.discovered, report.skipped_known = crawl.discovered, crawl.skipped_known
    report.robots_refused, report.failed = len(crawl.robots_refused), crawl.source_failed
    report.errors[:0] = [str(e) for e in crawl.errors]
    async with ctx.db_lock:
        await asyncio.to_thread(_finish_source, ctx, report, tally, crawl.errors, listings_fetched)
    return report


def _finish_source(ctx: _RunContext, report: SourceReport, tally: health.Tally, crawl_errors: list[FetchError],
                   listings_fetched: int) -> None:
    with connect(ctx.db) as con:
        load.append_errors(con, crawl_errors, report.source_id, ctx.run_id)
        report.healthy, report.health_reason = health.judge(
            tally.shares(), load.source_history(con, report.source_id), listings_fetched=listings_fetched,
            discovered=report.discovered, parsed_pages=report.parsed, articles=report.articles)
        if report.failed:
            report.healthy, report.health_reason = False, "the source could not be crawled"
        load.record_source_run(con, ctx.run_id, report.source_id, report.counts(), report.failed, tally.shares(),
                               report.healthy, report.health_reason, report.timings)


@task(name="dbt-build", cache_policy=NO_CACHE)
def dbt_build_task(db: Path) -> DbtOutcome:
    return run_dbt(db, "build")


@flow(name="ingest")
async def ingest_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False
) -> IngestReport:
    """Crawl every source, archive what was fetched, extract new pages and load them; one source's failure
    is recorded and the others go on."""
    settings = Settings()
    sources = load_sources(sources_file)
    with writer_lock(db, settings.lock_timeout):
        report = await _ingest(sources, settings, db, replay, refresh)
    await create_markdown_artifact(markdown=ingest_markdown(report), key="stadtradar-ingest",
                                   description="Per-source counts and failures of this ingest run")
    return report


async def _ingest(sources: list[Source], settings: Settings, db: Path, replay: Path | None,
                  refresh: bool) -> IngestReport:
    logger = get_run_logger()
    run_id = flow_run.get_id() or uuid.uuid4().hex
    with connect(db) as con:
        load.start_run(con, run_id, "ingest")
        load.write_sources(con, sources)
        known = {s.id: load.known_articles(con, s.id) for s in sources}
    ctx = _RunContext(db, run_id, settings, refresh)
    transport = ReplayTransport.from_folder(replay) if replay else None
    try:
        async with Fetcher(settings, transport) as fetcher:
            reports = await asyncio.gather(*(_ingest_source(ctx, s, fetcher, known[s.id]) for s in sources))
    finally:
        ctx.close()
    result = IngestReport(run_id, list(reports), ctx.pages_fetched)
    for report in reports:
        logger.info("%s: %d discovered, %d fetched, %d articles (%d new), %d errors%s", report.source_id,
                    report.discovered, report.fetched, report.articles, report.new, len(report.errors),
                    "" if report.healthy else f"; UNHEALTHY: {report.health_reason}")
    with connect(db) as con:
        load.finish_run(con, run_id, result.summary(), "ok" if result.ok else "partial")
    return result


@flow(name="reparse")
def reparse_flow(sources_file: Path, db: Path) -> IngestReport:
    """Re-extract every archived article page with the current extractors; no network."""
    sources = load_sources(sources_file)
    with writer_lock(db, Settings().lock_timeout):
        return _reparse(sources, db)


async def _reextract(ctx: _RunContext, sources: list[Source]) -> list[SourceReport]:
    """Extract and load the archived pages again, source by source and batch by batch (read from the
    archive per batch, so memory stays flat); they are archived already."""
    reports = []
    size = ctx.settings.batch_size
    for source in sources:
        report, tally = SourceReport(source.id), health.Tally()
        offset = 0
        while pages := await asyncio.to_thread(_archived_batch, ctx.db, source.id, offset, size):
            await _extract_load(ctx, source, pages, {}, report, tally)
            offset += size
        await asyncio.to_thread(_finish_source, ctx, report, tally, [], 0)
        reports.append(report)
    return reports


def _archived_batch(db: Path, source_id: str, offset: int, limit: int) -> list[FetchedPage]:
    with connect(db) as con:
        return load.archived_pages(con, source_id, offset, limit)


def _reparse(sources: list[Source], db: Path) -> IngestReport:
    run_id = flow_run.get_id() or uuid.uuid4().hex
    with connect(db) as con:
        load.start_run(con, run_id, "reparse")
    ctx = _RunContext(db, run_id, Settings(), refresh=True)
    try:
        # One event loop for the whole re-extraction: the run context's locks belong to the loop they wait in.
        reports = asyncio.run(_reextract(ctx, sources))
    finally:
        ctx.close()
    result = IngestReport(run_id, reports)
    with connect(db) as con:
        load.finish_run(con, run_id, result.summary(), "ok" if result.ok else "partial")
    return result


@flow(name="build")
def build_flow(db: Path) -> DbtOutcome:
    """Build the dbt project (seeds, models, tests) on the warehouse, then publish the read-only copy."""
    settings = Settings()
    run_id = flow_run.get_id() or uuid.uuid4().hex
    with writer_lock(db, settings.lock_timeout):
        with connect(db) as con:
            fingerprint = build_fingerprint(con)
            load.start_run(con, run_id, "build")
        status = "failed"
        try:
            outcome = dbt_build_task(db)
            status = "ok"
        finally:
            with connect(db) as con:
                load.finish_run(con, run_id, {}, status)
                if status == "ok":
                    con.execute("insert into ops.builds values (?, ?)", [load.now(), fingerprint])
        if settings.publish:
            publish(db)
    return outcome


@flow(name="pipeline")
async def pipeline_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False
) -> IngestReport:
    """Ingest, then build the marts unless the raw data and the dbt project are as at the last build (a
    re-run that found nothing new then costs no build); the warehouse stays locked for both."""
    with writer_lock(db, Settings().lock_timeout):
        report = await ingest_flow(sources_file, db, replay, refresh)
        with connect(db) as con:
            current = up_to_date(con, build_fingerprint(con))
        if current:
            get_run_logger().info("nothing changed since the last build; the marts are up to date")
        else:
            build_flow(db)
    return report
