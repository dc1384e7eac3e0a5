"""The `stadtradar` command line: run, ingest, build, reparse, query and serve.

Exit status: 0 when everything worked; 2 when the run finished but some pages or sources failed (they are
listed, recorded in ops.fetch_errors and retried next run); 1 on a usage, configuration, SQL or build error.
"""
from __future__ import annotations

import asyncio
import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from scrapers.config import Settings, SourcesFileError, load_sources
from scrapers.replay import SnapshotError, load_snapshot
from warehouse.db import WarehouseError, connect
from warehouse.transform import DbtBuildError

app = typer.Typer(help="Stadtradar: smart-city news from German cities and federal agencies, in DuckDB.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)

SETTINGS = Settings()
DbOption = Annotated[Path, typer.Option("--db", help="Warehouse file (DuckDB).")]
SourcesOption = Annotated[Path, typer.Option("--sources", help="Sources file (YAML).")]
ReplayOption = Annotated[
    Path | None,
    typer.Option("--replay", help="Replay a recorded snapshot folder instead of the network (offline runs)."),
]
RefreshOption = Annotated[bool, typer.Option("--refresh", help="Fetch known articles again.")]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _check_inputs(sources: Path, replay: Path | None) -> None:
    """Validate config before Prefect starts, so a typo costs a second, not a server start."""
    try:
        load_sources(sources)
        if replay is not None:
            load_snapshot(replay)
    except (SourcesFileError, SnapshotError) as exc:
        raise _fail(str(exc)) from None


def _print_ingest(report) -> None:  # noqa: ANN001 - IngestReport, imported lazily with Prefect
    table = Table(title=f"run {report.run_id}")
    for column in ("source", "discovered", "fetched", "articles", "new", "updated", "unchanged", "errors"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for s in report.sources:
        table.add_row(s.source_id + (" (failed)" if s.failed else ""), str(s.discovered), str(s.fetched),
                      str(s.articles), str(s.new), str(s.updated), str(s.unchanged), str(len(s.errors)))
    out.print(table)
    for s in report.sources:
        for message in s.errors[:20]:
            err.print(f"[yellow]{s.source_id}:[/] {message}", highlight=False)


def _print_marts(db: Path) -> None:
    # Not read-only: DuckDB refuses a second configuration of a file this process already opened for writing.
    con = connect(db)
    try:
        counts = con.execute(
            "select table_name, estimated_size from duckdb_tables() where schema_name = 'marts' order by table_name"
        ).fetchall()
        out.print("marts: " + ", ".join(f"{name} {con.execute(f'select count(*) from marts.{name}').fetchone()[0]}"
                                        for name, _ in counts))
    finally:
        con.close()


def _ingest(sources: Path, db: Path, replay: Path | None, refresh: bool, build: bool) -> None:
    _check_inputs(sources, replay)
    from flows.pipeline import ingest_flow, pipeline_flow

    flow = pipeline_flow if build else ingest_flow
    try:
        report = asyncio.run(flow(sources, db, replay, refresh))
    except (SourcesFileError, SnapshotError, WarehouseError, DbtBuildError) as exc:
        raise _fail(str(exc)) from None
    _print_ingest(report)
    if build:
        _print_marts(db)
    if not report.ok:
        err.print("some pages or sources failed (listed above, recorded in ops.fetch_errors); exit 2")
        raise typer.Exit(2)


@app.command()
def run(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db, replay: ReplayOption = None,
        refresh: RefreshOption = False) -> None:
    """Ingest every source, then build the dbt marts."""
    _ingest(sources, db, replay, refresh, build=True)


@app.command()
def ingest(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db, replay: ReplayOption = None,
           refresh: RefreshOption = False) -> None:
    """Crawl, archive, extract and load every source (no dbt build)."""
    _ingest(sources, db, replay, refresh, build=False)


@app.command()
def build(db: DbOption = SETTINGS.db) -> None:
    """Build the dbt project (seeds, models, tests) on the warehouse."""
    from flows.pipeline import build_flow

    try:
        outcome = build_flow(db)
    except (DbtBuildError, WarehouseError) as exc:
        raise _fail(str(exc)) from None
    out.print(f"dbt build: {outcome.nodes} nodes, {outcome.tests} tests passed")
    _print_marts(db)


@app.command()
def reparse(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db) -> None:
    """Re-extract every archived article page with the current extractors (no network), then rebuild."""
    _check_inputs(sources, None)
    from flows.pipeline import build_flow, reparse_flow

    try:
        report = reparse_flow(sources, db)
        build_flow(db)
    except (SourcesFileError, WarehouseError, DbtBuildError) as exc:
        raise _fail(str(exc)) from None
    _print_ingest(report)
    _print_marts(db)


@app.command()
def query(sql: Annotated[str, typer.Argument(help="SQL to run, read-only.")], db: DbOption = SETTINGS.db,
          format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
          ) -> None:
    """Run SQL on a read-only connection: writes are refused and change nothing."""
    try:
        con = connect(db, read_only=True)
    except WarehouseError as exc:
        raise _fail(str(exc)) from None
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall() if columns else []
    except duckdb.Error as exc:
        reason = str(exc)
        if "read-only" in reason or "read only" in reason:
            reason = f"the warehouse is opened read-only; writes are refused ({reason.splitlines()[0]})"
        raise _fail(f"query failed on {db}: {reason}") from None
    finally:
        con.close()
    if format is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif format is OutputFormat.json:
        sys.stdout.write(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str,
                                    ensure_ascii=False, indent=2) + "\n")
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)


@app.command()
def serve(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db) -> None:
    """Run the scheduled deployments (daily pipeline) with Prefect until interrupted."""
    _check_inputs(sources, None)
    from flows.schedules import serve as serve_deployments

    serve_deployments(sources, db)


if __name__ == "__main__":
    app()
