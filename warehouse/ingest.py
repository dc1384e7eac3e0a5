"""Ingesting sources into the warehouse: per source, the pages a stopped run left, discovery, then batches of
fetch, archive, extract and load; each step returns what it did, and the source's report adds it up."""
from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import duckdb

from scrapers.config import Settings, Source
from scrapers.crawl import CrawlResult, Deadline, KnownPage, discover, fetch_articles, pages_to_parse
from scrapers.discovery import DiscoveredLink
from scrapers.fetch import Fetcher, FetchError
from scrapers.process import ProcessedArticle, page_hash
from scrapers.records import FetchedPage
from scrapers.softerror import PageText, SoftErrorScreen
from scrapers.workers import ExtractionWorkers
from warehouse import health, load
from warehouse.db import OPEN_RETRY_SECONDS, connect
from warehouse.reports import IngestReport, SourceReport
from warehouse.runs import RecordedRun

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class BatchOutcome:
    """What fetching, archiving, extracting and loading one batch of pages did."""

    fetched: int = 0
    not_modified: int = 0
    parsed: int = 0  # pages whose body was new and went through extraction
    articles: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    tally: health.Tally = field(default_factory=health.Tally)  # completeness of the loaded articles
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds

    def __add__(self, other: BatchOutcome) -> BatchOutcome:
        timings = dict(self.timings)
        for step, seconds in other.timings.items():
            timings[step] = timings.get(step, 0.0) + seconds
        return BatchOutcome(self.fetched + other.fetched, self.not_modified + other.not_modified,
                            self.parsed + other.parsed, self.articles + other.articles, self.new + other.new,
                            self.updated + other.updated, self.unchanged + other.unchanged,
                            self.errors + other.errors, self.tally + other.tally, timings)


class IngestRun:
    """What every source of one run shares: the warehouse, written by one step at a time (DuckDB takes one
    writer), the extraction workers, and a bound on the batches in flight.

    The warehouse stays open across writes for at most HOLD_SECONDS, busy or idle: every close checkpoints the
    file, and opening it for each of a run's hundreds of steps cost a quarter of the command's CPU. It is then
    closed and not reopened for READER_GAP_SECONDS, so that `stadtradar status`, `query` or a BI tool polling for
    the file (DuckDB lets one process write or several read) gets its turn during a long run.
    """

    HOLD_SECONDS = 3.0
    READER_GAP_SECONDS = OPEN_RETRY_SECONDS + 0.05

    def __init__(self, db: Path, run_id: str, settings: Settings, refresh: bool = False,
                 workers: ExtractionWorkers | None = None):
        self.db, self.run_id, self.settings, self.refresh = db, run_id, settings, refresh
        self._owns_workers = workers is None  # workers given by the caller outlive the run
        self.workers = workers or ExtractionWorkers(settings.workers, settings.page_time_limit)
        self._one_writer = asyncio.Lock()
        # Batches in flight across all sources: one per worker being extracted plus one being fetched. Each
        # holds its pages several times over (bytes, text, pickled for a worker), so this bounds memory.
        self.in_flight = asyncio.Semaphore(settings.workers + 1)
        # The connection is used from worker threads. A write cancelled by Ctrl-C leaves its thread running: the
        # lock keeps the next write and close() off the connection until that thread is done with it.
        self._on_connection = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened_at = 0.0
        self._closed_at = float("-inf")
        self._closed = False
        self._release_timer: asyncio.TimerHandle | None = None
        self._release_task: asyncio.Future[None] | None = None

    async def write(self, step: Callable[Concatenate[duckdb.DuckDBPyConnection, P], T],
                    *args: P.args, **kwargs: P.kwargs) -> T:
        """Run step(connection, ...) on the warehouse in a thread, after the other sources' steps."""
        async with self._one_writer:
            result = await asyncio.to_thread(self._on_warehouse, lambda con: step(con, *args, **kwargs))
            if self._con is not None and self._release_timer is None:
                # An idle run lets the file go as well: discovery or a slow fetch may keep it from writing.
                self._release_timer = asyncio.get_running_loop().call_later(
                    max(0.0, self._opened_at + self.HOLD_SECONDS - time.monotonic()), self._release_soon)
            return result

    def _release_soon(self) -> None:
        self._release_timer = None
        if self._con is not None:
            self._release_task = asyncio.ensure_future(self._release_between_writes())

    async def _release_between_writes(self) -> None:
        async with self._one_writer:
            await asyncio.to_thread(self._release)

    def _on_warehouse(self, call: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self._on_connection:
            if self._closed:
                raise RuntimeError(f"{self.db}: the ingest run is closed; this write came after it")
            if self._con is None:
                time.sleep(max(0.0, self._closed_at + self.READER_GAP_SECONDS - time.monotonic()))
                self._con, self._opened_at = connect(self.db), time.monotonic()
            try:
                return call(self._con)
            except BaseException:
                self._close_connection()  # a step that failed midway leaves nothing half-done for the next
                raise
            finally:
                if self._con is not None and time.monotonic() - self._opened_at >= self.HOLD_SECONDS:
                    self._close_connection()

    def _release(self) -> None:
        with self._on_connection:
            self._close_connection()

    def _close_connection(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            self._closed_at = time.monotonic()
            con.close()

    def expect_pages(self, known: dict[str, dict[str, KnownPage]]) -> None:
        """Start the extraction workers now, before discovery, when some source has never been crawled: its
        pages will need them, and their start (loading the gazetteer, over a second of CPU each) then runs
        beside discovery instead of after it. A run over known sources starts them only for a page to extract,
        so one that finds nothing new starts none."""
        if any(not pages for pages in known.values()):
            self.workers.start_now()

    def close(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        with self._on_connection:  # waits for a write still running in its thread
            self._closed = True
            self._close_connection()
        if self._owns_workers:
            self.workers.close()

    def __enter__(self) -> IngestRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def begin_ingest(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> dict[str, dict[str, KnownPage]]:
    """Record the sources of this run; what the warehouse knows of each source's pages, by source id."""
    load.write_sources(con, sources)
    return {s.id: load.known_articles(con, s.id) for s in sources}


async def ingest_source(run: IngestRun, source: Source, fetcher: Fetcher, known: dict[str, KnownPage]
                        ) -> SourceReport:
    """One source: extract what a stopped run archived but did not load, discover, then fetch, archive,
    extract and load in batches (memory stays bounded, and fetching a batch overlaps extracting another),
    within the source's time budget. Whatever fails in it (discovery, a full disk, a bug) is this source's
    failure, recorded in its report and, where the warehouse still takes it, in ops: the others go on."""
    try:
        return await _ingest_source(run, source, fetcher, known)
    except Exception as exc:  # noqa: BLE001 - see above
        error = FetchError(source.id, f"the source's ingest failed: {exc}")
        report = SourceReport(source.id, failed=True, errors=[str(error)])
        with contextlib.suppress(Exception):  # the warehouse itself may be what failed
            await run.write(record_source_run, run.run_id, report, health.Tally(), [error])
        return report


async def _ingest_source(run: IngestRun, source: Source, fetcher: Fetcher, known: dict[str, KnownPage]
                         ) -> SourceReport:
    screen = SoftErrorScreen()  # remembers the source's page titles over the run
    done = await _extract_pending(run, source, screen)
    deadline = Deadline(run.settings.source_time_budget)
    started = time.monotonic()
    try:
        crawl = await discover(source, fetcher, run.settings, known, run.refresh, deadline)
    except Exception as exc:  # noqa: BLE001 - a broken source is recorded; the other sources go on
        crawl = CrawlResult(source.id, errors=[FetchError(source.id, f"crawl failed: {exc}")])
    done += BatchOutcome(timings={"fetch": time.monotonic() - started})
    # The discovery pages (feeds, sitemaps, every listing page: 4 MB a source at 2,500 articles) are archived
    # now and not held while the source's articles are fetched.
    discovery_pages, crawl.pages = crawl.pages, []
    listings_fetched = len(discovery_pages)
    done += await archive_extract_load(run, source, discovery_pages, crawl.hints, known, screen)
    del discovery_pages

    async def batch(links: list[DiscoveredLink]) -> BatchOutcome:
        async with run.in_flight:
            if deadline.expired:  # the rest waits for the next run
                crawl.defer(len(links))
                return BatchOutcome()
            return await fetch_batch(run, source, fetcher, links, crawl, known, deadline, screen)

    size = run.settings.batch_size
    for outcome in await asyncio.gather(*(batch(crawl.to_fetch[i:i + size])
                                          for i in range(0, len(crawl.to_fetch), size))):
        done += outcome
    report = _source_report(run.settings, source, crawl, done, listings_fetched)
    report.notices += [n for n in fetcher.notices if _about_source(n, source)]
    await run.write(record_source_run, run.run_id, report, done.tally, crawl.errors)
    return report


async def reparse_source(run: IngestRun, source: Source) -> SourceReport:
    """Extract and load a source's archived pages again with the current extractors, batch by batch from the
    archive (memory stays flat); no network."""
    screen, done, offset = SoftErrorScreen(), BatchOutcome(), 0
    while pages := await run.write(load.archived_pages, source.id, offset, run.settings.batch_size):
        done += await extract_and_load(run, source, pages, {}, screen)
        offset += len(pages)
    report = _source_report(run.settings, source, CrawlResult(source.id), done, listings_fetched=0)
    await run.write(record_source_run, run.run_id, report, done.tally, [])
    return report


def finish_ingest(ledger: RecordedRun, reports: list[SourceReport]) -> IngestReport:
    """The run's report from its sources' reports, closed in the ledger as `ok`, or `partial` when a page or a
    source failed."""
    report = IngestReport(ledger.run_id, reports, sum(r.fetched + r.listings_fetched for r in reports))
    ledger.finish("ok" if report.ok else "partial", report.summary())
    return report


async def fetch_batch(run: IngestRun, source: Source, fetcher: Fetcher, links: list[DiscoveredLink],
                      crawl: CrawlResult, known: dict[str, KnownPage], deadline: Deadline,
                      screen: SoftErrorScreen) -> BatchOutcome:
    """Fetch one batch of article links, then archive, extract and load it. The pages never leave this
    function, so a run holds at most a few batches in memory whatever the size of the site."""
    started = time.monotonic()
    pages = await fetch_articles(fetcher, source, links, known, crawl, deadline)
    fetched = BatchOutcome(fetched=len(pages), not_modified=sum(1 for p in pages if p.status == 304),
                           timings={"fetch": time.monotonic() - started})
    return fetched + await archive_extract_load(run, source, pages, crawl.hints, known, screen)


async def archive_extract_load(run: IngestRun, source: Source, pages: list[FetchedPage],
                               hints: dict[str, DiscoveredLink], known: dict[str, KnownPage],
                               screen: SoftErrorScreen) -> BatchOutcome:
    """Archive pages (before parsing, so a parser crash loses nothing), then extract and load what is new."""
    started = time.monotonic()
    archived = await run.write(load.archive_pages, pages, run.run_id)
    outcome = BatchOutcome(timings={"archive": time.monotonic() - started})
    fresh = pages_to_parse(pages, known, page_hash, reparse=run.refresh)
    return outcome + await extract_and_load(run, source, fresh, hints, screen, archived)


async def extract_and_load(run: IngestRun, source: Source, pages: list[FetchedPage],
                           hints: dict[str, DiscoveredLink], screen: SoftErrorScreen,
                           archived: Collection[tuple[str, str]] = frozenset()) -> BatchOutcome:
    """Extract article pages in the workers and load what they give; `archived` are the pages this run has
    just added to the archive. A page that looks like the site's error page does not replace or add an
    article: it is recorded as an error and fetched again next run."""
    if not pages:
        return BatchOutcome()
    started = time.monotonic()
    results = await run.workers.extract(pages, source, hints)
    articles = [a for a, _ in results if a is not None]
    errors = [FetchError(p.requested_url, e) for p, (_, e) in zip(pages, results, strict=True) if e]
    flagged = screen.flag([PageText(a.page_url, a.record.title, a.record.body_text) for a in articles])
    if flagged:
        articles = [a for a in articles if a.page_url not in flagged]
        errors += [FetchError(url, reason) for url, reason in flagged.items()]
    extract_s = time.monotonic() - started
    started = time.monotonic()
    counts, recorded = await run.write(load_extracted, articles, pages, errors, run.run_id, source.id, archived,
                                       set(flagged))
    kept = {url for url, _ in counts.kept}
    tally = health.Tally()
    tally.add([a for a in articles if a.page_url not in kept])
    return BatchOutcome(parsed=len(pages), articles=len(articles) - len(counts.kept), new=counts.new,
                        updated=counts.updated, unchanged=counts.unchanged, errors=[str(e) for e in recorded],
                        tally=tally, timings={"extract": extract_s, "load": time.monotonic() - started})


def load_extracted(con: duckdb.DuckDBPyConnection, articles: list[ProcessedArticle], extracted: list[FetchedPage],
                   errors: list[FetchError], run_id: str, source_id: str, archived: Collection[tuple[str, str]],
                   soft_errors: set[str]) -> tuple[load.LoadCounts, list[FetchError]]:
    """Load the articles, mark the extracted pages, record the errors (the given ones and a stored article
    kept against its page); returns the counts and every error recorded."""
    counts = load.load_articles(con, articles, run_id, archived)
    kept = [FetchError(url, reason) for url, reason in counts.kept]
    load.mark_extracted(con, extracted, soft_errors | {e.url for e in kept})
    recorded = errors + kept
    load.append_errors(con, recorded, source_id, run_id)
    return counts, recorded


def record_source_run(con: duckdb.DuckDBPyConnection, run_id: str, report: SourceReport, tally: health.Tally,
                      crawl_errors: list[FetchError]) -> None:
    """Judge the source's health against its past runs (into the report) and record the source's run."""
    load.append_errors(con, crawl_errors, report.source_id, run_id)
    report.healthy, report.health_reason = health.judge(
        tally.shares(), load.source_history(con, report.source_id), listings_fetched=report.listings_fetched,
        discovered=report.discovered, parsed_pages=report.parsed, articles=report.articles)
    if report.failed:
        report.healthy, report.health_reason = False, "the source could not be crawled"
    load.record_source_run(con, run_id, report.source_id, report.counts(), report.failed, tally.shares(),
                           report.healthy, report.health_reason, report.timings)


async def _extract_pending(run: IngestRun, source: Source, screen: SoftErrorScreen) -> BatchOutcome:
    """Extract and load the archived pages a stopped run left unextracted, batch by batch from the archive."""
    done = BatchOutcome()
    after: str | None = ""
    while after is not None:
        pages, after, unreadable = await run.write(load.pending_pages, source.id, after, run.settings.batch_size)
        if unreadable:
            await run.write(load.append_errors, unreadable, source.id, run.run_id)
            done += BatchOutcome(errors=[str(e) for e in unreadable])
        done += await extract_and_load(run, source, pages, {}, screen)
    return done


def _source_report(settings: Settings, source: Source, crawl: CrawlResult, done: BatchOutcome,
                   listings_fetched: int) -> SourceReport:
    """The source's report: what its batches did, what discovery found, and what the run's limits left for
    the next run (a used-up time budget is an error, so the operator knows the source is behind; the per-run
    cap on articles a notice). Crawl errors come first."""
    report = SourceReport(source.id, discovered=crawl.discovered, fetched=done.fetched,
                          not_modified=done.not_modified, articles=done.articles, new=done.new, updated=done.updated,
                          unchanged=done.unchanged, skipped_known=crawl.skipped_known,
                          robots_refused=len(crawl.robots_refused), parsed=done.parsed, deferred=crawl.deferred,
                          failed=crawl.source_failed, listings_fetched=listings_fetched)
    report.timings.update(done.timings)
    if crawl.out_of_time:
        entry = (source.feeds + source.sitemaps + source.listings)[0]
        crawl.errors.append(FetchError(entry, f"the source's time budget of {settings.source_time_budget:g} s "
                                              f"(STADTRADAR_SOURCE_TIME_BUDGET) ran out; {crawl.deferred} "
                                              "article page(s) left for the next run"))
    elif crawl.deferred:
        report.notices.append(f"{crawl.deferred} article link(s) left for the next run: at most "
                              f"{settings.max_articles_per_run} are fetched per source and run "
                              "(STADTRADAR_MAX_ARTICLES_PER_RUN), newest first")
    report.errors = [str(e) for e in crawl.errors] + done.errors
    return report


def _about_source(notice: str, source: Source) -> bool:
    return any(f"//{host}/" in notice for host in source.hosts)
