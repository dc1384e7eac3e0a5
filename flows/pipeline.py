"""Prefect flows: ingest (crawl, archive, extract, load per source), build (dbt) and the pipeline of both."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from scrapers.config import Settings, Source, load_sources
from scrapers.crawl import CrawlResult, KnownPage, crawl_source
from scrapers.fetch import Fetcher, FetchError
from scrapers.process import ProcessedArticle, process_page
from scrapers.records import FetchedPage
from scrapers.replay import ReplayTransport
from warehouse import load
from warehouse.db import connect
from warehouse.transform import DbtOutcome, run_dbt


@dataclass
class SourceReport:
    """Counts of one source in one run."""

    source_id: str
    discovered: int = 0
    fetched: int = 0
    articles: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_known: int = 0
    errors: list[str] = field(default_factory=list)
    failed: bool = False


@dataclass
class IngestReport:
    """What an ingest run did, per source; `ok` is false when any page or source failed."""

    run_id: str
    sources: list[SourceReport]

    @property
    def ok(self) -> bool:
        return not any(s.failed or s.errors for s in self.sources)


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
    pages: list[FetchedPage], source: Source, hints: dict[str, object]
) -> tuple[list[ProcessedArticle], list[FetchError]]:
    processed, errors = [], []
    for page in pages:
        if page.kind != "article" or page.status != 200:
            continue
        hint = hints.get(page.requested_url)
        try:
            article = process_page(page, source, getattr(hint, "published", None))
        except Exception as exc:  # one unparseable page must not cost the source's other articles
            errors.append(FetchError(page.requested_url, f"extraction failed: {type(exc).__name__}: {exc}"))
            continue
        if article is not None:
            processed.append(article)
    return processed, errors


@task(name="load-articles", cache_policy=NO_CACHE)
def load_task(
    db: Path, source_id: str, articles: list[ProcessedArticle], errors: list[FetchError], run_id: str
) -> load.LoadCounts:
    con = connect(db)
    try:
        counts = load.load_articles(con, articles, run_id)
        load.record_errors(con, errors, source_id, run_id)
        return counts
    finally:
        con.close()


@task(name="dbt-build", cache_policy=NO_CACHE)
def dbt_build_task(db: Path) -> DbtOutcome:
    return run_dbt(db, "build")


@flow(name="ingest")
async def ingest_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False
) -> IngestReport:
    """Crawl every source, archive what was fetched, extract articles and load them; one source's failure
    is recorded and the others go on."""
    logger = get_run_logger()
    settings = Settings()
    sources = load_sources(sources_file)
    run_id = flow_run.get_id() or uuid.uuid4().hex
    con = connect(db)
    try:
        load.start_run(con, run_id, "ingest")
        known = {s.id: load.known_articles(con, s.id) for s in sources}
    finally:
        con.close()
    transport = ReplayTransport.from_folder(replay) if replay else None
    async with Fetcher(settings, transport) as fetcher:
        crawls = await asyncio.gather(
            *(crawl_task(s, fetcher, settings, known[s.id], refresh) for s in sources), return_exceptions=True
        )
    reports = []
    for source, crawl in zip(sources, crawls, strict=True):
        report = SourceReport(source.id)
        reports.append(report)
        if isinstance(crawl, BaseException):
            report.failed = True
            report.errors.append(f"crawl failed: {crawl}")
            load_task(db, source.id, [], [FetchError(source.id, f"crawl failed: {crawl}")], run_id)
            continue
        archive_task(db, crawl.pages, run_id)  # archived before parsing, so a parser crash loses nothing
        articles, extract_errors = extract_task(crawl.pages, source, crawl.hints)
        errors = [*crawl.errors, *extract_errors]
        counts = load_task(db, source.id, articles, errors, run_id)
        report.discovered, report.skipped_known = crawl.discovered, crawl.skipped_known
        report.fetched = sum(1 for p in crawl.pages if p.kind == "article")
        report.articles, report.new, report.updated, report.unchanged = (
            len(articles), counts.new, counts.updated, counts.unchanged)
        report.errors = [str(e) for e in errors]
        report.failed = crawl.source_failed
        logger.info("%s: %d discovered, %d fetched, %d articles (%d new), %d errors", source.id,
                    report.discovered, report.fetched, report.articles, report.new, len(errors))
    result = IngestReport(run_id, reports)
    con = connect(db)
    try:
        load.finish_run(con, run_id, _summary(result, sum(len(c.pages) for c in crawls if isinstance(c, CrawlResult))),
                        "ok" if result.ok else "partial")
    finally:
        con.close()
    return result


@flow(name="reparse")
def reparse_flow(sources_file: Path, db: Path) -> IngestReport:
    """Re-extract every archived article page with the current extractors; no network."""
    sources = {s.id: s for s in load_sources(sources_file)}
    run_id = flow_run.get_id() or uuid.uuid4().hex
    con = connect(db)
    try:
        pages = load.archived_pages(con)
    finally:
        con.close()
    reports = []
    for source_id, source in sources.items():
        mine = [p for p in pages if p.source_id == source_id]
        articles, errors = extract_task(mine, source, {})
        counts = load_task(db, source_id, articles, errors, run_id)
        reports.append(SourceReport(source_id, fetched=0, articles=len(articles), new=counts.new,
                                    updated=counts.updated, unchanged=counts.unchanged,
                                    errors=[str(e) for e in errors]))
    return IngestReport(run_id, reports)


@flow(name="build")
def build_flow(db: Path) -> DbtOutcome:
    """Build the dbt project (seeds, models, tests) on the warehouse."""
    return dbt_build_task(db)


@flow(name="pipeline")
async def pipeline_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False
) -> IngestReport:
    """Ingest, then build the marts."""
    report = await ingest_flow(sources_file, db, replay, refresh)
    build_flow(db)
    return report


def _summary(report: IngestReport, pages_fetched: int) -> dict[str, int]:
    return {
        "sources_ok": sum(1 for s in report.sources if not s.failed),
        "sources_failed": sum(1 for s in report.sources if s.failed),
        "pages_fetched": pages_fetched,
        "articles_new": sum(s.new for s in report.sources),
        "articles_updated": sum(s.updated for s in report.sources),
        "articles_unchanged": sum(s.unchanged for s in report.sources),
        "errors": sum(len(s.errors) for s in report.sources),
    }
