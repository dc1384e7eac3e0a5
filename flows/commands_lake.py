"""The `stadtradar lake` commands: the DuckLake backend's run, shard ingest, build, deployments and BI snapshot.

`register(app)` adds them to the CLI in flows/cli.py; with STADTRADAR_BACKEND=ducklake, `stadtradar run`,
`ingest` and `build` come here too. The lake is named by STADTRADAR_LAKE_CATALOG and STADTRADAR_LAKE_DATA
(docs/scale.md); each shard's spool lies in STADTRADAR_SPOOL.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from flows.terminal import EXIT_BUSY, out
from flows.terminal import fail as _fail
from scrapers.config import Settings, SourcesFileError, load_sources
from scrapers.replay import SnapshotError, load_snapshot
from warehouse.db import WarehouseError
from warehouse.lock import WarehouseBusy
from warehouse.transform import DbtBuildError

SETTINGS = Settings()

lake_app = typer.Typer(help="The DuckLake backend: several workers writing one warehouse (docs/scale.md).",
                       no_args_is_help=True)
SourcesOption = Annotated[Path, typer.Option("--sources", help="Sources file (YAML).")]
ReplayOption = Annotated[Path | None, typer.Option("--replay", help="Replay recorded pages instead of fetching.")]
ShardsOption = Annotated[int, typer.Option("--shards", min=1, help="Number of shards (cut by host).")]
RefreshOption = Annotated[bool, typer.Option("--refresh", help="Fetch known articles again.")]


@contextlib.contextmanager
def _lake_errors() -> Iterator[None]:
    """A lake command's error on one line, with the exit status of flows/cli.py's EXIT_CODES."""
    from prefect.exceptions import ObjectNotFound

    try:
        yield
    except WarehouseBusy as exc:
        raise _fail(str(exc), EXIT_BUSY) from None
    except ObjectNotFound as exc:  # a --deployment the Prefect server does not know
        raise _fail(f"not found on the Prefect server: {exc}") from None
    except (SourcesFileError, SnapshotError, WarehouseError, DbtBuildError, ValueError, TimeoutError) as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or 'lake'}: {exc.strerror or exc}") from None


def _check(sources: Path | None, replay: Path | None) -> None:
    """Settings and inputs first, so a typo costs a second, not a Prefect start."""
    from flows.lake import settings_lake

    with _lake_errors():
        settings_lake(Settings())
        if sources is not None:
            load_sources(sources)
        if replay is not None:
            load_snapshot(replay)


def _print(result: dict[str, Any]) -> None:
    out.print(escape(", ".join(f"{k} {v}" for k, v in result.items() if not isinstance(v, dict))))


@lake_app.command("run")
def lake_run(sources: SourcesOption = SETTINGS.sources, shards: ShardsOption = 1,
             deployment: Annotated[str | None, typer.Option(
                 "--deployment", help="Run the shards as flow runs of this deployment (flow/name) on its "
                                      "pool's workers, instead of one after the other here.")] = None,
             replay: ReplayOption = None, refresh: RefreshOption = False) -> None:
    """Ingest every shard into its spool and push it to the lake, then build the lake and its BI snapshot."""
    _check(sources, replay)
    from flows.lake import ShardsFailed, lake_pipeline_flow

    with _lake_errors():
        try:
            result = asyncio.run(lake_pipeline_flow(sources.resolve(), shards, deployment,
                                                    replay.resolve() if replay else None, refresh))
        except ShardsFailed as exc:
            raise _fail(str(exc), 2) from None
    _print(result["build"])
    if not result["ok"]:
        raise _fail("some pages or sources failed (recorded in the lake's ops.fetch_errors); exit 2", 2)


@lake_app.command("ingest")
def lake_ingest(shard: Annotated[str, typer.Option("--shard", help="K/N: the K-th of N shards.")] = "1/1",
                sources: SourcesOption = SETTINGS.sources, replay: ReplayOption = None,
                refresh: RefreshOption = False) -> None:
    """Ingest one shard into its spool and push it to the lake (no build)."""
    from scrapers.shards import parse_shard

    try:
        k, n = parse_shard(shard)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _check(sources, replay)
    from flows.lake import lake_ingest_flow

    with _lake_errors():
        result = asyncio.run(lake_ingest_flow(sources.resolve(), k, n, replay.resolve() if replay else None,
                                              refresh))
    _print(result)
    if not result["ok"]:
        raise _fail("some pages or sources failed (recorded in the lake's ops.fetch_errors); exit 2", 2)


@lake_app.command("build")
def lake_build() -> None:
    """Build the dbt project on the lake (never two builds at once), then write the BI snapshot."""
    _check(None, None)
    from flows.lake import lake_build_flow

    with _lake_errors():
        result = asyncio.run(lake_build_flow())
    _print(result)


@lake_app.command("deploy")
def lake_deploy(pool: Annotated[str, typer.Option("--pool", help="Prefect process work pool.")] = "stadtradar",
                shards: ShardsOption = 3, sources: SourcesOption = SETTINGS.sources,
                cron: Annotated[str | None, typer.Option(
                    "--cron", help="Schedule of the pipeline (Europe/Berlin); default: none.")] = None) -> None:
    """Register the lake's deployments (shard ingest, pipeline) on a process work pool of the Prefect server at
    PREFECT_API_URL; start its workers with `prefect worker start --pool <pool>`."""
    _check(sources, None)
    from flows.lake import deploy

    with _lake_errors():
        names = deploy(pool, shards, sources, cron)
    out.print(escape(f"deployed on pool {pool}: {', '.join(names)}; start workers with "
                     f"`prefect worker start --pool {pool}`, run with `prefect deployment run '{names[1]}'`"))


@lake_app.command("snapshot")
def lake_snapshot(out_file: Annotated[Path, typer.Option("--out", help="DuckDB file to write.")]) -> None:
    """Write the lake's marts to a DuckDB file for BI tools (atomically replaced)."""
    _check(None, None)
    from flows.lake import settings_lake
    from warehouse.lake import snapshot

    with _lake_errors():
        written = snapshot(settings_lake(Settings()), out_file)
    out.print(escape(f"snapshot: {written}"))


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app, name="lake")
