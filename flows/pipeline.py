"""Prefect flows: ingest (crawl, archive, extract, load per source), build (dbt) and the pipeline of both."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Collection
from multiprocessing import get_context
from pathlib import Path

from pebble import ProcessExpired, ProcessPool
from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from scrapers.config import Settings, Source, load_sources
from scrapers.crawl import CrawlResult, Deadline, KnownPage, discover, fetch_articles, pages_to_parse
from scrapers.discovery import DiscoveredLink
from scrapers.fetch import Fetcher, FetchError
from scrapers.process import ProcessedArticle, page_hash, process_safely, warm_up
from scrapers.records import FetchedPage
from scrapers.replay import ReplayTransport
from scrapers.softerror import PageText, SoftErrorScreen
from warehouse import health, load
from warehouse.db import connect, publish
from warehouse.lock import writer_lock
from warehouse.reports import IngestReport, SourceReport, ingest_markdown
from warehouse.transform import DbtOutcome, build_fingerprint, run_dbt, up_to_date


@task(name="discover-source", cache_policy=NO_CACHE)
async def discover_task(source: Source, fetcher: Fetcher, settings: Settings, known: dict[str, KnownPage],
                        refresh: bool, deadline: Deadline) -> CrawlResult:
    """Feeds, sitemaps and listings of one source: which article pages to fetch this run."""
    return await discover(source, fetcher, settings, known, refresh, deadline)


@task(name="fetch-archive-extract-load", cache_policy=NO_CACHE)
async def batch_task(ctx: _RunContext, source: Source, fetcher: Fetcher, links: list[DiscoveredLink],
                     crawl: CrawlResult, known: dict[str, KnownPage], run: _SourceRun, deadline: Deadline) -> None:
    """One batch of article links: fetch, archive, extract what is new, load. Pages never leave the task,
    so a run holds at most a couple of batches in memory whatever the size of the site."""
    started = time.monotonic()
    pages = await fetch_articles(fetcher, source, links, known, crawl, deadline)
    run.report.timings["fetch"] += time.monotonic() - started
    run.report.fetched += len(pages)
    run.report.not_modified += sum(1 for p in pages if p.status == 304)
    ctx.pages_fetched += len(pages)
    await _archive_extract_load(ctx, source, pages, crawl, known, run)


class _SourceRun:
    """What one source's pipeline accumulates over a run: its report, completeness tally and soft-error screen."""

    def __init__(self, source_id: str):
        self.report, self.tally, self.screen = SourceReport(source_id), health.Tally(), SoftErrorScreen()


async def _archive_extract_load(ctx: _RunContext, source: Source, pages: list[FetchedPage], crawl: CrawlResult,
                                known: dict[str, KnownPage], run: _SourceRun) -> None:
    """Archive pages (before parsing, so a parser crash loses nothing), extract what is new, load it."""
    started = time.monotonic()
    async with ctx.db_lock:
        archived = await asyncio.to_thread(_archive, ctx.db, pages, ctx.run_id)
    run.report.timings["archive"] += time.monotonic() - started
    await _extract_load(ctx, source, pages_to_parse(pages, known, page_hash, reparse=ctx.refresh), crawl.hints,
                        run, archived)


async def _extract_load(ctx: _RunContext, source: Source, fresh: list[FetchedPage],
                        hints: dict[str, DiscoveredLink], run: _SourceRun,
                        archived: Collection[tuple[str, str]] = frozenset()) -> None:
    """Extract article pages and load what they give, counting into the source's report; `archived` are
    the pages this run has just added to the archive. A page that looks like the site's error page does not
    replace or add an article: it is recorded as an error and fetched again next run."""
    if not fresh:
        return
    report = run.report
    started = time.monotonic()
    results = await ctx.extract(fresh, source, hints)
    articles = [a for a, _ in results if a is not None]
    errors = [FetchError(p.requested_url, e) for p, (_, e) in zip(fresh, results, strict=True) if e]
    flagged = run.screen.flag([PageText(a.page_url, a.record.title, a.record.body_text) for a in articles])
    if flagged:
        articles = [a for a in articles if a.page_url not in flagged]
        errors += [FetchError(url, reason) for url, reason in flagged.items()]
    report.timings["extract"] += time.monotonic() - started
    started = time.monotonic()
    async with ctx.db_lock:
        counts, recorded = await asyncio.to_thread(_load, ctx.db, articles, fresh, errors, ctx.run_id,
                                                   report.source_id, archived, set(flagged))
    report.timings["load"] += time.monotonic() - started
    report.parsed += len(fresh)
    report.articles += len(articles) - len(counts.kept)
    report.new, report.updated, report.unchanged = (report.new + counts.new, report.updated + counts.updated,
                                                    report.unchanged + counts.unchanged)
    report.errors.extend(str(e) for e in recorded)
    kept = {url for url, _ in counts.kept}
    run.tally.add([a for a in articles if a.page_url not in kept])


def _archive(db: Path, pages: list[FetchedPage], run_id: str) -> set[tuple[str, str]]:
    with connect(db) as con:
        return load.archive_pages(con, pages, run_id)


def _load(db: Path, articles: list[ProcessedArticle], extracted: list[FetchedPage], errors: list[FetchError],
          run_id: str, source_id: str, archived: Collection[tuple[str, str]], soft_errors: set[str]
          ) -> tuple[load.LoadCounts, list[FetchError]]:
    """Load the articles, mark the extracted pages, record the errors (the given ones and a stored article
    kept against its page); returns the counts and every error recorded."""
    with connect(db) as con:
        counts = load.load_articles(con, articles, run_id, archived)
        kept = [FetchError(url, reason) for url, reason in counts.kept]
        load.mark_extracted(con, extracted, soft_errors | {e.url for e in kept})
        recorded = errors + kept
        load.append_errors(con, recorded, source_id, run_id)
        return counts, recorded


def _pending_batch(db: Path, source_id: str, after_url: str, limit: int) -> tuple[list[FetchedPage], str | None]:
    with connect(db) as con:
        return load.pending_pages(con, source_id, after_url, limit)


class _RunContext:
    """What every source's pipeline in one run shares: the warehouse, one write at a time, the workers."""

    def __init__(self, db: Path, run_id: str, settings: Settings, refresh: bool):
        self.db, self.run_id, self.settings, self.refresh = db, run_id, settings, refresh
        self.db_lock = asyncio.Lock()  # DuckDB takes one writer; batches of different sources take turns
        self.pool: ProcessPool | None = None
        self.extractor = process_safely  # what a worker runs per page (a module-level function: it is pickled)
        self.pages_fetched = 0
        # Batches in flight across all sources: one per worker being extracted plus one being fetched. Each
        # holds its pages several times over (bytes, text, pickled for a worker), so this bounds memory.
        self.in_flight = asyncio.Semaphore(settings.workers + 1)

    def start_workers(self) -> ProcessPool:
        """The extraction processes, started on first use: a run that finds nothing new starts none (each
        loads the gazetteer, a second and a half of CPU).

        Every page is extracted in a worker, never on the event loop: a page that takes long would stall
        every source's fetching. A worker is killed when a page exceeds the time limit.
        """
        if self.pool is None:
            # forkserver, not fork: this process runs threads (Prefect), which a fork would copy mid-flight.
            self.pool = ProcessPool(max(1, self.settings.workers), initializer=warm_up,
                                    context=get_context("forkserver"))
        return self.pool

    async def extract(self, pages: list[FetchedPage], source: Source, hints: dict[str, DiscoveredLink]
                      ) -> list[tuple[ProcessedArticle | None, str | None]]:
        """(article or None, error or None) of each page, extracted in the worker processes."""
        pool, limit = self.start_workers(), self.settings.page_time_limit
        futures = [pool.schedule(self.extractor, (p, source, getattr(hints.get(p.requested_url), "published", None)),
                                 timeout=limit) for p in pages]
        results: list[tuple[ProcessedArticle | None, str | None]] = []
        for future in futures:
            try:
                results.append(await asyncio.wrap_future(future))
            except TimeoutError:
                results.append((None, f"extraction stopped after {limit:g} s (STADTRADAR_PAGE_TIME_LIMIT); "
                                      "the page stays archived"))
            except ProcessExpired as exc:
                results.append((None, f"the extraction worker died on this page ({exc}); the page stays archived"))
        return results

    def close(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool.join(timeout=10)


async def _ingest_source(ctx: _RunContext, source: Source, fetcher: Fetcher, known: dict[str, KnownPage]
                         ) -> SourceReport:
    """One source: extract what an interrupted run archived but did not load, discover, then fetch, archive,
    extract and load in batches, so memory stays bounded and fetching the next batch overlaps extracting this
    one; within the source's time budget."""
    run = _SourceRun(source.id)
    report, size = run.report, ctx.settings.batch_size
    await _extract_pending(ctx, source, run)
    deadline = Deadline(ctx.settings.source_time_budget)
    started = time.monotonic()
    try:
        # return_state=False (the default) selects Prefect's overload for arguments such as quote(...) that
        # are not of the task's parameter types (Prefect unwraps them before the task runs).
        crawl = await discover_task(source, fetcher, ctx.settings, quote(known), ctx.refresh, deadline,
                                    return_state=False)
    except Exception as exc:  # noqa: BLE001 - a broken source is recorded; the other sources go on
        crawl = CrawlResult(source.id, errors=[FetchError(source.id, f"crawl failed: {exc}")])
    report.timings["fetch"] += time.monotonic() - started
    # The discovery pages (feeds, sitemaps, every listing page: 4 MB a source at 2,500 articles) are archived
    # now and not held while the source's articles are fetched.
    discovery_pages, crawl.pages = crawl.pages, []
    listings_fetched = len(discovery_pages)
    await _archive_extract_load(ctx, source, discovery_pages, crawl, known, run)
    del discovery_pages

    async def one(links: list[DiscoveredLink]) -> None:
        async with ctx.in_flight:
            if deadline.expired:  # the rest waits for the next run
                crawl.defer(len(links))
                return
            await batch_task(ctx, source, fetcher, links, quote(crawl), quote(known), run, deadline,
                             return_state=False)  # quote(...) arguments: see discover_task above

    await asyncio.gather(*(one(crawl.to_fetch[i:i + size]) for i in range(0, len(crawl.to_fetch), size)))
    ctx.pages_fetched += listings_fetched
    _account_for_limits(ctx.settings, source, crawl, report)
    report.notices += [n for n in fetcher.notices if _about_source(n, source)]
    report.discovered, report.skipped_known = crawl.discovered, crawl.skipped_known
    report.robots_refused, report.failed = len(crawl.robots_refused), crawl.source_failed
    report.errors[:0] = [str(e) for e in crawl.errors]
    async with ctx.db_lock:
        await asyncio.to_thread(_finish_source, ctx, run, crawl.errors, listings_fetched)
    return report


def _about_source(notice: str, source: Source) -> bool:
    return any(f"//{host}/" in notice for host in source.hosts)


def _account_for_limits(settings: Settings, source: Source, crawl: CrawlResult, report: SourceReport) -> None:
    """Say what the run's limits left for the next run: a used-up time budget is an error (the operator should
    know the source is behind), the per-run cap on articles a notice."""
    report.deferred = crawl.deferred
    entry = (source.feeds + source.sitemaps + source.listings)[0]
    if crawl.out_of_time:
        crawl.errors.append(FetchError(entry, f"the source's time budget of {settings.source_time_budget:g} s "
                                              f"(STADTRADAR_SOURCE_TIME_BUDGET) ran out; {crawl.deferred} "
                                              "article page(s) left for the next run"))
    elif crawl.deferred:
        report.notices.append(f"{crawl.deferred} article link(s) left for the next run: at most "
                              f"{settings.max_articles_per_run} are fetched per source and run "
                              "(STADTRADAR_MAX_ARTICLES_PER_RUN), newest first")


async def _extract_pending(ctx: _RunContext, source: Source, run: _SourceRun) -> None:
    """Extract and load the archived pages a stopped run left unextracted, batch by batch from the archive."""
    after: str | None = ""
    while after is not None:
        async with ctx.db_lock:
            pages, after = await asyncio.to_thread(_pending_batch, ctx.db, source.id, after,
                                                   ctx.settings.batch_size)
        await _extract_load(ctx, source, pages, {}, run)


def _finish_source(ctx: _RunContext, run: _SourceRun, crawl_errors: list[FetchError], listings_fetched: int
                   ) -> None:
    report, tally = run.report, run.tally
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
    await acreate_markdown_artifact(markdown=ingest_markdown(report), key="stadtradar-ingest",
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
    except (KeyboardInterrupt, asyncio.CancelledError):
        _mark_interrupted(db, run_id)
        raise
    finally:
        ctx.close()
    result = IngestReport(run_id, list(reports), ctx.pages_fetched)
    for report in reports:
        logger.info("%s: %d discovered, %d fetched, %d articles (%d new), %d errors%s", report.source_id,
                    report.discovered, report.fetched, report.articles, report.new, len(report.errors),
                    "" if report.healthy else f"; UNHEALTHY: {report.health_reason}")
        for notice in report.notices:
            logger.warning("%s: %s", report.source_id, notice)
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
    ctx.start_workers()
    for source in sources:
        run = _SourceRun(source.id)
        offset = 0
        while pages := await asyncio.to_thread(_archived_batch, ctx.db, source.id, offset, size):
            await _extract_load(ctx, source, pages, {}, run)
            offset += size
        await asyncio.to_thread(_finish_source, ctx, run, [], 0)
        reports.append(run.report)
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
    except KeyboardInterrupt:
        _mark_interrupted(db, run_id)
        raise
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
        except (KeyboardInterrupt, asyncio.CancelledError):
            status = "interrupted"
            raise
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
            if Settings().publish:
                publish(db)  # the copy still shows this run in its ops tables and marts.runs
        else:
            build_flow(db)
    return report


def _mark_interrupted(db: Path, run_id: str) -> None:
    """Close a run stopped by a signal as `interrupted` at once, not at the next writing run."""
    try:
        with connect(db) as con:
            load.finish_run(con, run_id, {}, "interrupted")
    except Exception:  # noqa: BLE001 - the interruption is what the caller reports; start_run repairs later
        pass
