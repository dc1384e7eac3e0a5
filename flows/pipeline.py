"""Prefect flows: ingest (a task per source), reparse, build (dbt) and the pipeline of both; the logic they
wire lives in warehouse.ingest, warehouse.transform and warehouse.runs.

The flows do not take the warehouse's writer lock: the command that starts them does, once (flows/cli.py, and
scheduled_pipeline_flow for the deployment). Retries happen per request inside the fetcher, where Retry-After
and the error are known, not by re-running a source's task: that would fetch its pages again.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from scrapers.config import Settings, Source, load_sources
from scrapers.crawl import KnownPage
from scrapers.fetch import Fetcher
from scrapers.recorder import WarcRecorder
from scrapers.replay import ReplayTransport
from scrapers.shards import shard_sources
from warehouse import ingest
from warehouse.db import connect
from warehouse.lock import writer_lock
from warehouse.publish import publish
from warehouse.reports import IngestReport, SourceReport, ingest_markdown
from warehouse.runs import recorded_run
from warehouse.transform import DbtOutcome, build_fingerprint, build_warehouse, record_build, up_to_date


def _run_id() -> str:
    return flow_run.get_id() or uuid.uuid4().hex


@task(name="ingest-source", cache_policy=NO_CACHE)
async def ingest_source_task(run: ingest.IngestRun, source: Source, fetcher: Fetcher,
                             known: dict[str, KnownPage]) -> SourceReport:
    """One source: pending pages, discovery, then batches of fetch, archive, extract, load."""
    return await ingest.ingest_source(run, source, fetcher, known)


@task(name="reparse-source", cache_policy=NO_CACHE)
async def reparse_source_task(run: ingest.IngestRun, source: Source) -> SourceReport:
    """One source's archived pages, extracted and loaded again."""
    return await ingest.reparse_source(run, source)


@task(name="dbt-build", cache_policy=NO_CACHE)
def dbt_build_task(db: Path) -> DbtOutcome:
    return build_warehouse(db)


@flow(name="ingest")
async def ingest_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False, record: Path | None = None,
    shard: int = 1, shards: int = 1,
) -> IngestReport:
    """Crawl every source, archive what was fetched, extract new pages and load them; one source's failure
    is recorded and the others go on. `record` names a folder that gets every response received as a WARC
    file (`<run id>.warc.gz`), which `replay` can then replay. `shard` of `shards` takes only the sources of
    that shard (scrapers.shards: cut by host)."""
    settings, sources = Settings(), shard_sources(load_sources(sources_file), shard, shards)
    with recorded_run(db, _run_id(), "ingest") as ledger, contextlib.ExitStack() as stack:
        with connect(db) as con:
            known = ingest.begin_ingest(con, sources)
        transport = ReplayTransport.from_folder(replay) if replay else None
        recorder = stack.enter_context(WarcRecorder(record, ledger.run_id)) if record else None
        with ingest.IngestRun(db, ledger.run_id, settings, refresh) as run:
            run.expect_pages(known)
            async with Fetcher(settings, transport, recorder=recorder.record if recorder else None) as fetcher:
                # quote(...): the run's shared objects go to the tasks as they are, not inspected for futures
                reports = await asyncio.gather(*(
                    ingest_source_task(quote(run), s, quote(fetcher), quote(known[s.id]), return_state=False)
                    for s in sources))
        report = ingest.finish_ingest(ledger, list(reports))
    _log(report)
    await acreate_markdown_artifact(markdown=ingest_markdown(report), key="stadtradar-ingest",
                                   description="Per-source counts and failures of this ingest run")
    return report


@flow(name="reparse")
async def reparse_flow(sources_file: Path, db: Path) -> IngestReport:
    """Re-extract every archived article page with the current extractors; no network."""
    sources = load_sources(sources_file)
    with recorded_run(db, _run_id(), "reparse") as ledger:
        with ingest.IngestRun(db, ledger.run_id, Settings(), refresh=True) as run:
            reports = [await reparse_source_task(quote(run), s, return_state=False) for s in sources]
        report = ingest.finish_ingest(ledger, reports)
    return report


@flow(name="build")
async def build_flow(db: Path) -> DbtOutcome:
    """Build the dbt project (seeds, models, tests) on the warehouse, then publish the read-only copy.

    Async like the other flows, though dbt blocks it: Prefect joins a synchronous flow's heartbeat thread on
    exit, which sleeps in one-second steps, so a synchronous flow costs up to a second more."""
    with connect(db) as con:
        fingerprint = build_fingerprint(con)
    with recorded_run(db, _run_id(), "build") as ledger:
        outcome = dbt_build_task(db)
        ledger.finish("ok")
    with connect(db) as con:
        record_build(con, fingerprint)
    _hand_off(db)
    return outcome


@flow(name="pipeline")
async def pipeline_flow(
    sources_file: Path, db: Path, replay: Path | None = None, refresh: bool = False, record: Path | None = None
) -> IngestReport:
    """Ingest, then build the marts unless the raw data and the dbt project are as at the last build (a
    re-run that found nothing new then costs no build)."""
    report = await ingest_flow(sources_file, db, replay, refresh, record)
    with connect(db) as con:
        current = up_to_date(con, build_fingerprint(con))
    if current:
        get_run_logger().info("nothing changed since the last build; the marts are up to date")
        _hand_off(db)  # the copy still shows this run in its ops tables and marts.runs
    else:
        await build_flow(db)
    return report


@flow(name="check-sources")
async def check_sources_flow(sources_file: Path, db: Path | None = None) -> list[dict]:
    """Check every source against its live site (scrapers.sitecheck): robots.txt, feeds, sitemaps, listings
    and the newest article. The verdicts go to a Prefect artifact and, given a warehouse, to ops.source_checks
    (briefly taking the writer lock), where `status` reports a source that broke."""
    from scrapers.sitecheck import check_sources, checks_markdown  # the check's code only where it runs
    from warehouse.checks import record_checks
    from warehouse.load import now

    settings = Settings()
    checks = await check_sources(load_sources(sources_file), settings)
    results = [check.to_dict() for check in checks]
    # The artifact first: a warehouse busy past the lock timeout must not cost the check's findings.
    await acreate_markdown_artifact(markdown=checks_markdown(checks), key="stadtradar-source-checks",
                                    description="Each source checked against its live site")
    if db is not None:
        with writer_lock(db, settings.lock_timeout), connect(db) as con:
            record_checks(con, now(), results)
    return results


@flow(name="scheduled-pipeline")
async def scheduled_pipeline_flow(sources_file: Path, db: Path) -> IngestReport:
    """The pipeline as the deployment starts it: like a command, it holds the writer lock for the whole run."""
    with writer_lock(db, Settings().lock_timeout):
        return await pipeline_flow(sources_file, db)


def _hand_off(db: Path) -> None:
    """What readers get after a run: the read-only copy for BI tools (STADTRADAR_PUBLISH), then the static
    website (STADTRADAR_SITE_DIR) from it. A site that cannot be written is logged, not fatal: the warehouse
    and its published copy are complete."""
    settings = Settings()
    if settings.publish:
        publish(db, settings.publish_in_place)
    if settings.site_dir is None:
        return
    from warehouse.site import generate_site  # the site's code only where it is wanted

    site_dir = settings.site_dir
    try:
        _source, pages = generate_site(db, site_dir, dt.date.today(), published=settings.publish)
    except Exception as exc:  # noqa: BLE001 - whatever breaks the site must not fail a run whose data is stored
        get_run_logger().error("the website in %s could not be written: %s: %s", site_dir, type(exc).__name__, exc)
        return
    get_run_logger().info("website: %d pages in %s", pages, site_dir)


def _log(report: IngestReport) -> None:
    logger = get_run_logger()
    for source in report.sources:
        logger.info("%s: %d discovered, %d fetched, %d articles (%d new), %d errors%s", source.source_id,
                    source.discovered, source.fetched, source.articles, source.new, len(source.errors),
                    "" if source.healthy else f"; UNHEALTHY: {source.health_reason}")
        for notice in source.notices:
            logger.warning("%s: %s", source.source_id, notice)
