"""Prefect flows: ingest (crawl, archive, extract, load per source), build (dbt) and the pipeline of both."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from scrapers.config import Settings, Source, load_sources
from scrapers.crawl import CrawlResult, KnownPage, crawl_source, pages_to_parse
from scrapers.discovery import DiscoveredLink
from scrapers.fetch import Fetcher, FetchError
from scrapers.process import ProcessedArticle, page_hash, process_page
from scrapers.records import FetchedPage
from scrapers.replay import ReplayTransport
from warehouse import health, load
from warehouse.db import connect, publish
from warehouse.lock import writer_lock
from warehouse.reports import IngestReport, SourceReport, ingest_markdown
from warehouse.transform import DbtOutcome, run_dbt


@task(name="crawl-source", cache_policy=NO_CACHE)
async def crawl_task(
    source: Source, fetcher: Fetcher, settings: Settings, known: dict[str, KnownPage], refresh: bool
) -> CrawlResult:
    return await crawl_source(source, fetcher, settings, known, refresh)


@task(name="archive-pages", cache_policy=NO_CACHE)
def archive_task(db: Path, pages: list[FetchedPage], run_id: str) -> int:
    con = connect(db)
    try:
        return load.archive_pages(con, pages, run_id)
    finally:
        con.close()


@task(name="extract-articles", cache_policy=NO_CACHE)
def extract_task(
    pages: list[FetchedPage], source: Source, hints: dict[str, DiscoveredLink]
) -> tuple[list[ProcessedArticle], list[FetchError]]:
    processed, errors = [], []
    for page in pages:
        hint = hints.get(page.requested_url)
        try:
            article = process_page(page, source, hint.published if hint else None)
        except Exception as exc:  # one unparseable page must not cost the source's other articles
            errors.append(FetchError(page.requested_url, f"extraction failed: {type(exc).__name__}: {exc}"))
            continue
        if article is not None:
            processed.append(article)
    return processed, errors


@task(name="load-articles", cache_policy=NO_CACHE)
def load_task(db: Path, report: SourceReport, articles: list[ProcessedArticle], errors: list[FetchError],
              run_id: str, listings_fetched: int = 0, parsed_pages: int = 0) -> SourceReport:
    """Load a source's articles and errors, then judge and record the source's health for this run."""
    con = connect(db)
    try:
        counts = load.load_articles(con, articles, run_id)
        load.record_errors(con, errors, report.source_id, run_id)
        report.articles, report.new, report.updated = len(articles), counts.new, counts.updated
        report.unchanged = counts.unchanged
        report.errors = [str(e) for e in errors]
        completeness = health.shares(articles)
        report.healthy, report.health_reason = health.judge(
            completeness, load.source_history(con, report.source_id), listings_fetched=listings_fetched,
            discovered=report.discovered, parsed_pages=parsed_pages, articles=len(articles))
        if report.failed:
            report.healthy, report.health_reason = False, "the source could not be crawled"
        load.record_source_run(con, run_id, report.source_id, report.counts(), report.failed, completeness,
                               report.healthy, report.health_reason)
        return report
    finally:
        con.close()


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
    con = connect(db)
    try:
        load.start_run(con, run_id, "ingest")
        load.write_sources(con, sources)
        known = {s.id: load.known_articles(con, s.id) for s in sources}
    finally:
        con.close()
    transport = ReplayTransport.from_folder(replay) if replay else None
    async with Fetcher(settings, transport) as fetcher:
        crawls = await asyncio.gather(
            *(crawl_task(s, fetcher, settings, known[s.id], refresh) for s in sources), return_exceptions=True
        )
    result = IngestReport(run_id, [])
    for source, crawl in zip(sources, crawls, strict=True):
        report = SourceReport(source.id)
        if isinstance(crawl, BaseException):
            report.failed = True
            result.sources.append(
                load_task(db, report, [], [FetchError(source.id, f"crawl failed: {crawl}")], run_id))
            continue
        archive_task(db, crawl.pages, run_id)  # archived before parsing, so a parser crash loses nothing
        fresh = pages_to_parse(crawl.pages, known[source.id], page_hash, reparse=refresh)
        articles, extract_errors = extract_task(fresh, source, crawl.hints)
        report.discovered, report.skipped_known = crawl.discovered, crawl.skipped_known
        report.robots_refused = len(crawl.robots_refused)
        report.failed = crawl.source_failed
        report.fetched = sum(1 for p in crawl.pages if p.kind == "article")
        report.not_modified = sum(1 for p in crawl.pages if p.kind == "article" and p.status == 304)
        result.pages_fetched += len(crawl.pages)
        listings_fetched = sum(1 for p in crawl.pages if p.kind != "article")
        result.sources.append(load_task(db, report, articles, [*crawl.errors, *extract_errors], run_id,
                                        listings_fetched, len(fresh)))
        logger.info("%s: %d discovered, %d fetched, %d articles (%d new), %d errors%s", source.id,
                    report.discovered, report.fetched, report.articles, report.new, len(report.errors),
                    "" if report.healthy else f"; UNHEALTHY: {report.health_reason}")
    con = connect(db)
    try:
        load.finish_run(con, run_id, result.summary(), "ok" if result.ok else "partial")
    finally:
        con.close()
    return result


@flow(name="reparse")
def reparse_flow(sources_file: Path, db: Path) -> IngestReport:
    """Re-extract every archived article page with the current extractors; no network."""
    sources = load_sources(sources_file)
    with writer_lock(db, Settings().lock_timeout):
        return _reparse(sources, db)


def _reparse(sources: list[Source], db: Path) -> IngestReport:
    run_id = flow_run.get_id() or uuid.uuid4().hex
    con = connect(db)
    try:
        load.start_run(con, run_id, "reparse")
        pages = load.archived_pages(con)
    finally:
        con.close()
    reports = []
    for source in sources:
        mine = [p for p in pages if p.source_id == source.id]
        articles, errors = extract_task(mine, source, {})
        reports.append(load_task(db, SourceReport(source.id), articles, errors, run_id, 0, len(mine)))
    result = IngestReport(run_id, reports)
    con = connect(db)
    try:
        load.finish_run(con, run_id, result.summary(), "ok" if result.ok else "partial")
    finally:
        con.close()
    return result


@flow(name="build")
def build_flow(db: Path) -> DbtOutcome:
    """Build the dbt project (seeds, models, tests) on the warehouse, then publish the read-only copy."""
    settings = Settings()
    with writer_lock(db, settings.lock_timeout):
        outcome = dbt_build_task(db)
        if settings.publish:
            publish(db)
    return outcome


@flow(name="pipeline")
async def pipeline_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False
) -> IngestReport:
    """Ingest, then build the marts; the warehouse stays locked for both, so no other run interleaves."""
    with writer_lock(db, Settings().lock_timeout):
        report = await ingest_flow(sources_file, db, replay, refresh)
        build_flow(db)
    return report

