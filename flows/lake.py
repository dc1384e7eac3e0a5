"""Prefect flows of the DuckLake backend: a shard's ingest into its spool and push to the lake, the lake's dbt
build and BI snapshot, the pipeline that fans the shards out to a work pool's workers, and its deployments.

The logic lives in warehouse.lake (push, snapshot), scrapers.shards (which sources a shard takes) and
flows.pipeline (the ingest itself); these flows wire them and hold Prefect's global concurrency limits: one
slot per host, so a host is crawled by one flow run at a time whatever the sharding, and one for the build,
so two builds never run at once.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, WorkPoolCreate
from prefect.concurrency.asyncio import concurrency
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from flows.pipeline import ingest_flow
from scrapers.config import PROJECT_ROOT, Settings, load_sources
from scrapers.shards import check_shard, shard_sources
from warehouse.db import WarehouseError
from warehouse.lake import LakeConfig, PushOutcome, lake_config, maintain, pull, push, snapshot
from warehouse.lock import writer_lock
from warehouse.publish import published_path
from warehouse.transform import build_lake

HOST_LIMIT = "stadtradar-host:{host}"  # one slot per host, held by the flow run crawling it
BUILD_LIMIT = "stadtradar-lake-build"  # one slot: the lake's dbt build never runs twice at once
PUSH_LIMIT = "stadtradar-lake-push"  # one slot: pushes queue instead of colliding
SHARD_DEPLOYMENT = "stadtradar-lake-shard"
PIPELINE_DEPLOYMENT = "stadtradar-lake"


class ShardsFailed(RuntimeError):
    """Some shards of a pipeline failed; the lake was built from the others."""


def settings_lake(settings: Settings) -> LakeConfig:
    """The lake of the settings (STADTRADAR_LAKE_CATALOG, STADTRADAR_LAKE_DATA)."""
    return lake_config(settings.lake_catalog, settings.lake_data)


def spool_path(folder: Path, shard: int, shards: int) -> Path:
    """The spool (a DuckDB warehouse file) of shard `shard` of `shards`; its WARC archive lies beside it."""
    return Path(folder) / f"shard-{shard}-of-{shards}.duckdb"


async def ensure_limits(names: Iterable[str], limit: int = 1) -> None:
    """Create Prefect's global concurrency limits that do not exist yet (two flows racing to create one both
    end up using it)."""
    async with get_client() as client:
        for name in names:
            try:
                await client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                with contextlib.suppress(ObjectAlreadyExists):
                    await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=limit))


@contextlib.asynccontextmanager
async def holding(names: list[str], timeout: float) -> AsyncIterator[None]:
    """Hold one slot of each named limit (all or none, as Prefect grants them), waiting up to `timeout` s. Only
    the wait is turned into "another flow run holds them"; a lease that cannot be renewed (the Prefect API gone
    for a while) is logged by Prefect and does not stop a long crawl."""
    if not names:
        yield
        return
    await ensure_limits(names)
    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(concurrency(names, occupy=1, timeout_seconds=timeout, strict=True,
                                                        raise_on_lease_renewal_failure=False))
        except TimeoutError:
            raise TimeoutError(f"waited {timeout:.0f} s for {', '.join(names)}: another flow run holds them "
                               "(the same host crawled by another shard run, or a build running)") from None
        yield


@task(name="push-to-lake", cache_policy=NO_CACHE)
def push_task(spool: Path, lake: LakeConfig, source_ids: list[str]) -> PushOutcome:
    return push(spool, lake, source_ids)


@flow(name="lake-ingest")
async def lake_ingest_flow(sources_file: Path, shard: int = 1, shards: int = 1, replay: Path | None = None,
                           refresh: bool = False) -> dict[str, Any]:
    """Ingest shard `shard` of `shards` into its spool, holding its hosts, then push the spool to the lake."""
    check_shard(shard, shards)
    settings = Settings()
    lake = settings_lake(settings)
    sources = shard_sources(load_sources(sources_file), shard, shards)
    logger = get_run_logger()
    if not sources:
        logger.info("shard %d of %d has no sources", shard, shards)
        return {"shard": shard, "shards": shards, "sources": 0, "ok": True}
    spool = spool_path(settings.spool, shard, shards)
    spool.parent.mkdir(parents=True, exist_ok=True)
    hosts = sorted(set().union(*(s.hosts for s in sources)))
    ids = [s.id for s in sources]
    # The hosts are held from the pull to the push: no other run crawls them, or pushes their sources, between
    # this run's reading of the lake and its writing to it.
    with writer_lock(spool, settings.lock_timeout):
        async with holding([HOST_LIMIT.format(host=h) for h in hosts], settings.lock_timeout):
            pulled = pull(spool, lake, ids)
            if pulled:
                logger.info("spool %s brought up to the lake: %d rows of sources it was behind on", spool.name,
                            sum(pulled.values()))
            report = await ingest_flow(sources_file, spool, replay, refresh, shard=shard, shards=shards)
            # One push at a time: concurrent ones would mostly collide and start again (warehouse/lake.py).
            async with holding([PUSH_LIMIT], settings.lock_timeout):
                outcome = push_task(spool, lake, ids)
    logger.info("shard %d of %d: %d sources pushed to the lake: %d rows in, %d out, %d attempt(s), %.1f s",
                shard, shards, len(sources), outcome.inserted, outcome.deleted, outcome.attempts, outcome.seconds)
    return {"shard": shard, "shards": shards, "sources": len(sources), "ok": report.ok,
            "rows_inserted": outcome.inserted, "rows_deleted": outcome.deleted, "push_attempts": outcome.attempts}


@flow(name="lake-build")
async def lake_build_flow() -> dict[str, Any]:
    """Build the dbt project on the lake (one build at a time), then write the marts' snapshot for BI tools to
    the published path of the warehouse setting (`warehouse/published/stadtradar.duckdb` by default)."""
    settings = Settings()
    lake = settings_lake(settings)
    logger = get_run_logger()
    async with holding([BUILD_LIMIT], settings.lock_timeout):
        outcome = build_lake(lake, settings.spool / "dbt-target")
        out = snapshot(lake, published_path(settings.db)) if settings.publish else None
        try:
            merged = maintain(lake)
        except WarehouseError as exc:  # the marts are built and published; compaction waits for the next build
            logger.warning("%s", exc)
        else:
            logger.info("lake maintenance: %d small files merged", merged)
    logger.info("lake built: %d nodes, %d tests%s", outcome.nodes, outcome.tests,
                          f"; snapshot for BI tools: {out}" if out else "")
    return {"nodes": outcome.nodes, "tests": outcome.tests, "snapshot": str(out) if out else None}


@flow(name="lake-pipeline")
async def lake_pipeline_flow(sources_file: Path, shards: int = 1, deployment: str | None = None,
                             replay: Path | None = None, refresh: bool = False) -> dict[str, Any]:
    """Ingest every shard, then build the lake. With `deployment` (the shard deployment's "flow/name"), the
    shards run as flow runs of that deployment, at once, on whichever workers of its pool are free; without,
    one after the other in this process. A failed shard does not stop the build of what the others pushed;
    the pipeline then fails, naming it."""
    check_shard(1, shards)
    if deployment:
        from prefect.deployments import arun_deployment

        parameters: dict[str, Any] = {"sources_file": str(sources_file), "shards": shards, "refresh": refresh}
        if replay is not None:
            parameters["replay"] = str(replay)
        runs = await asyncio.gather(*(
            arun_deployment(deployment, parameters={**parameters, "shard": k}, timeout=None)
            for k in range(1, shards + 1)))
        failed = [f"shard {k}: {run.state.name if run.state else 'no state'}"
                  for k, run in enumerate(runs, 1) if run.state is None or not run.state.is_completed()]
        ok = True  # a shard run's pages and sources that failed are in the lake's ops tables and its Prefect logs
    else:
        failed, ok = [], True
        for k in range(1, shards + 1):
            try:
                ok = (await lake_ingest_flow(sources_file, k, shards, replay, refresh))["ok"] and ok
            except Exception as exc:  # noqa: BLE001 - one shard's failure must not stop the others or the build
                failed.append(f"shard {k}: {type(exc).__name__}: {exc}")
    built = await lake_build_flow()
    if failed:
        raise ShardsFailed(f"{len(failed)} of {shards} shards failed (the lake was built from the others): "
                           + "; ".join(failed))
    return {"shards": shards, "ok": ok, "build": built}


def deploy(pool: str, shards: int, sources_file: Path, cron: str | None = None) -> list[str]:
    """Register the lake's deployments on the process work pool `pool` (workers: `prefect worker start --pool
    <pool>`): the shard ingest, and the pipeline that runs `shards` of them at once and then the build, on
    `cron` (Europe/Berlin) if given; one pipeline at a time. Returns their "flow/deployment" names."""
    from prefect.schedules import Cron

    from flows.schedules import TIMEZONE

    _ensure_pool(pool)
    source = str(PROJECT_ROOT)
    shard_flow = _loaded(lake_ingest_flow.from_source(source=source, entrypoint="flows/lake.py:lake_ingest_flow"))
    pipeline = _loaded(lake_pipeline_flow.from_source(source=source, entrypoint="flows/lake.py:lake_pipeline_flow"))
    sources = str(Path(sources_file).resolve())
    shard_name = f"{lake_ingest_flow.name}/{SHARD_DEPLOYMENT}"
    # to_deployment + apply, not Flow.deploy: deploy asks the server for the pool's workers in a request that
    # Prefect 3.8's own server refuses (limit: null); apply registers the same deployment without asking.
    _applied(shard_flow.to_deployment(
        SHARD_DEPLOYMENT, work_pool_name=pool, parameters={"sources_file": sources}, tags=["stadtradar", "lake"],
        description="One shard of the sources (by host): ingest into its spool, push to the lake."))
    _applied(pipeline.to_deployment(
        PIPELINE_DEPLOYMENT, work_pool_name=pool, schedule=Cron(cron, timezone=TIMEZONE) if cron else None,
        parameters={"sources_file": sources, "shards": shards, "deployment": shard_name}, concurrency_limit=1,
        tags=["stadtradar", "lake"],
        description="Every shard at once on the pool's workers, then the lake's dbt build and the BI snapshot."))
    return [shard_name, f"{lake_pipeline_flow.name}/{PIPELINE_DEPLOYMENT}"]


def _ensure_pool(pool: str) -> None:
    """Create the process work pool `pool` unless it exists (of any type: a user's pool is used as it is)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):
                client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def _applied(deployment: object) -> None:
    if not isinstance(deployment, RunnerDeployment):  # inside an event loop, to_deployment gives a coroutine
        raise RuntimeError("deploy() must be called outside an event loop")
    deployment.apply()


def _loaded(loaded: object) -> Flow[..., Any]:
    """from_source's flow (outside an event loop it is one, not a coroutine)."""
    if not isinstance(loaded, Flow):
        raise RuntimeError("deploy() must be called outside an event loop")
    return loaded
