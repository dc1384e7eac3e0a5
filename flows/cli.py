"""The `stadtradar` command line: run, ingest, build, reparse, status, query, serve and the warehouse tools."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer
import typer.core
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flows.terminal import EXIT_BUSY, err, out
from flows.terminal import fail as _fail
from scrapers.config import Settings, SourcesFileError, load_sources
from scrapers.replay import SnapshotError, load_snapshot
from warehouse.db import WarehouseError, connect, connect_sandboxed, first_line, scalar
from warehouse.exports import write_csv
from warehouse.lock import WarehouseBusy, lock_held, writer_lock
from warehouse.status import warehouse_status
from warehouse.transform import DbtBuildError

try:  # typer >= 0.26 parses with its own copy of click, whose exceptions are not click's
    from typer._click.core import Context as ClickContext
    from typer._click.exceptions import UsageError
except ImportError:  # an older typer uses click itself; mypy checks against the installed (newer) typer only
    from click import Context as ClickContext  # type: ignore[assignment]
    from click import UsageError  # type: ignore[assignment]

EXIT_CODES = (
    "Exit status: 0 everything worked; 1 usage, configuration, file system, SQL or dbt error (the message names "
    "the file, entry, key or failing test); 2 the run finished but some pages or sources failed (listed, stored "
    "in ops.fetch_errors, retried next run), or for `status`: something needs attention; 3 another run holds the "
    "warehouse (after waiting STADTRADAR_LOCK_TIMEOUT seconds); 130 stopped by Ctrl-C or SIGTERM (the run is "
    "marked interrupted)."
)
EXIT_INTERRUPTED = 130  # the shell's code for a command stopped by SIGINT


class _Commands(typer.core.TyperGroup):
    """The command group, with usage errors (unknown option, bad value, missing argument) exiting 1 as EXIT_CODES
    says, not click's 2, which here means that some pages failed."""

    def make_context(self, *args, **kwargs) -> ClickContext:  # noqa: ANN002, ANN003 - click's signature
        with _usage_errors_exit_1():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: ClickContext) -> object:
        with _usage_errors_exit_1():  # a command's own options are parsed here
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except UsageError as exc:
        exc.exit_code = 1
        raise


# The console script (pyproject.toml) calls `app()`, so the group class is where exit codes can be set.
app = typer.Typer(help="Stadtradar: smart-city news from German cities and federal agencies, in DuckDB.\n\n"
                  + EXIT_CODES, no_args_is_help=True, add_completion=False, cls=_Commands)

SETTINGS = Settings()
DbOption = Annotated[Path, typer.Option("--db", help="Warehouse file (DuckDB).")]
SourcesOption = Annotated[Path, typer.Option("--sources", help="Sources file (YAML).")]
ReplayOption = Annotated[
    Path | None,
    typer.Option("--replay", help="Replay a recorded snapshot folder instead of the network (offline runs)."),
]
RefreshOption = Annotated[bool, typer.Option("--refresh", help="Fetch known articles again.")]
RecordOption = Annotated[
    Path | None,
    typer.Option("--record", help="Also write every response of this live run to a WARC file in this folder "
                                  "(replay it with --replay FOLDER)."),
]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs from Prefect and the scrapers.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
) -> None:
    """Stadtradar: smart-city news from German cities and federal agencies, in DuckDB."""
    # Prefect reads its logging level when first imported, which happens lazily in the commands below.
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "DEBUG"
    elif quiet:
        os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    STATE["quiet"] = quiet


STATE = {"quiet": False}


def _interactive() -> bool:
    """Spinners only for a person at a terminal; plain logs for cron, CI and pipes."""
    return out.is_terminal and not os.environ.get("CI") and not STATE["quiet"]


def _os_failure(exc: OSError, db: Path) -> str:
    """One line for a file system error (read-only disk, permissions, a file where a folder should be)."""
    where = exc.filename if exc.filename is not None else db
    return f"{where}: {exc.strerror or exc}"


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
            err.print(f"[yellow]{escape(s.source_id)}:[/] {escape(str(message))}", highlight=False)


def _print_marts(db: Path) -> None:
    # Not read-only: DuckDB refuses a second configuration of a file this process already opened for writing.
    # Rows are counted for the tables only: a view runs its query when counted, and some (marts.sources) scan
    # the whole page index.
    con = connect(db)
    try:
        relations = con.execute(
            "select table_name, table_type = 'VIEW' from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()
        tables = [f"{name} {scalar(con, f'select count(*) from marts.{name}')}"
                  for name, is_view in relations if not is_view]
        views = [name for name, is_view in relations if is_view]
        out.print(escape("marts: " + ", ".join(tables) + (f"; views: {', '.join(views)}" if views else "")))
    finally:
        con.close()


@contextlib.contextmanager
def _writing_run(db: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock for the whole command, mark its runs `interrupted` if it is stopped, and
    end it with its error on one line and its exit status.

    The Prefect API is Prefect's choice: the server at PREFECT_API_URL (environment or profile) when one is
    configured, else the temporary local server Prefect starts with the first flow and stops with the process.
    SIGTERM (kill, systemd, docker stop) stops the run as Ctrl-C does: KeyboardInterrupt. A run stopped either
    way has its ledger rows marked `interrupted` at once, while the lock is still held (so they are this run's
    or a dead run's, never another live run's), and the stop is reported with exit status 130 (_interrupted).
    """
    try:
        with _command_errors(db), _sigterm_interrupts(), writer_lock(db, SETTINGS.lock_timeout):
            from prefect.exceptions import TerminationSignal  # what Prefect's SIGTERM handler raises in a flow

            try:
                yield
            except (KeyboardInterrupt, TerminationSignal):
                _mark_interrupted(db)
                raise KeyboardInterrupt from None
    except KeyboardInterrupt:  # also while waiting for the lock
        raise _interrupted(db) from None


@contextlib.contextmanager
def _command_errors(db: Path) -> Iterator[None]:
    """End a command on the warehouse with its error on one line and the exit status EXIT_CODES gives."""
    try:
        yield
    except WarehouseBusy as exc:
        raise _fail(str(exc), EXIT_BUSY) from None
    except (SourcesFileError, SnapshotError, WarehouseError, DbtBuildError) as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(_os_failure(exc, db)) from None
    except duckdb.Error as exc:
        raise _fail(f"{db}: {first_line(exc)}") from None


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding program): leave its signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _mark_interrupted(db: Path) -> None:
    """Mark the runs still `running` in ops.runs as `interrupted`; a warehouse that cannot be opened now keeps
    them for the next writing run to mark."""
    try:
        con = connect(db, wait=5.0)
    except (WarehouseError, OSError, duckdb.Error):
        return
    from warehouse.load import mark_running_interrupted  # loaded already: the run imported the pipeline

    try:
        mark_running_interrupted(con)
    except duckdb.Error:
        pass
    finally:
        con.close()


def _interrupted(db: Path) -> typer.Exit:
    err.print(escape(f"stopped (Ctrl-C or SIGTERM): the run on {db} is `interrupted`; what it loaded stays, and "
                     "the next run completes the rest"), highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_INTERRUPTED)


def _ingest(sources: Path, db: Path, replay: Path | None, refresh: bool, build: bool,
            record: Path | None = None) -> None:
    if SETTINGS.backend == "ducklake":
        _on_lake(record)
        from flows.commands_lake import lake_ingest, lake_run

        if build:
            lake_run(sources, 1, None, replay, refresh)
        else:
            lake_ingest("1/1", sources, replay, refresh)
        return
    _check_inputs(sources, replay)
    if record is not None:
        _check_record_folder(record, replay)
    with _writing_run(db):
        from flows.pipeline import ingest_flow, pipeline_flow

        flow = pipeline_flow if build else ingest_flow
        if _interactive():
            with out.status("crawling, extracting, loading" + (" and building" if build else "") + " …"):
                report = asyncio.run(flow(sources, db, replay, refresh, record))
        else:
            report = asyncio.run(flow(sources, db, replay, refresh, record))
    if not STATE["quiet"]:
        _print_ingest(report)
        if build:
            _print_marts(db)
    if not report.ok:
        err.print("some pages or sources failed (listed above, recorded in ops.fetch_errors); exit 2")
        raise typer.Exit(2)


def _on_lake(record: Path | None) -> None:
    """What the ducklake backend does not take: a run there has no --record (record with the embedded backend,
    then replay into the lake)."""
    if record is not None:
        raise _fail("--record works with the embedded backend; with STADTRADAR_BACKEND=ducklake record a run into "
                    "a DuckDB file first, then `stadtradar lake run --replay` it")


def _check_record_folder(record: Path, replay: Path | None) -> None:
    if replay is not None:
        raise _fail("--record writes what a live run receives; it cannot be combined with --replay")
    if record.exists() and not record.is_dir():
        raise _fail(f"{record}: --record needs a folder, and this is a file")
    try:
        record.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"{record}: cannot create the recording folder: {exc.strerror or exc}") from None


@app.command()
def run(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db, replay: ReplayOption = None,
        refresh: RefreshOption = False, record: RecordOption = None) -> None:
    """Ingest every source, then build the dbt marts."""
    _ingest(sources, db, replay, refresh, build=True, record=record)


@app.command()
def ingest(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db, replay: ReplayOption = None,
           refresh: RefreshOption = False, record: RecordOption = None) -> None:
    """Crawl, archive, extract and load every source (no dbt build)."""
    _ingest(sources, db, replay, refresh, build=False, record=record)


@app.command()
def build(db: DbOption = SETTINGS.db) -> None:
    """Build the dbt project (seeds, models, tests) on the warehouse."""
    if SETTINGS.backend == "ducklake":
        from flows.commands_lake import lake_build

        lake_build()
        return
    with _writing_run(db):
        from flows.pipeline import build_flow

        outcome = asyncio.run(build_flow(db))
    out.print(f"dbt build: {outcome.nodes} nodes, {outcome.tests} tests passed")
    _print_marts(db)


@app.command()
def reparse(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db) -> None:
    """Re-extract every archived article page with the current extractors (no network), then rebuild."""
    _check_inputs(sources, None)
    with _writing_run(db):
        from flows.pipeline import build_flow, reparse_flow

        report = asyncio.run(reparse_flow(sources, db))
        asyncio.run(build_flow(db))
    _print_ingest(report)
    _print_marts(db)


@app.command()
def migrate(db: DbOption = SETTINGS.db) -> None:
    """Bring the warehouse to this version's schema (numbered migrations; every writing command does it too)."""
    from warehouse.migrations import latest, recorded_version

    if not db.exists():  # migrating a mistyped path must not create an empty warehouse there
        raise _fail(f"{db}: no warehouse here (a new one needs no migration: `stadtradar run` makes it)")
    with _command_errors(db), writer_lock(db, SETTINGS.lock_timeout), connect(db) as con:
        version = recorded_version(con)
    out.print(escape(f"{db}: schema version {version} of {latest()}"), highlight=False, soft_wrap=True)


# What the sandboxed connection of `query` refuses, by the words of DuckDB's message, and why, for the user.
_REFUSALS = (
    (("read-only", "read only"), "the warehouse is opened read-only; writes are refused"),
    (("disabled by configuration", "disabled through configuration"),
     "`query` reads the warehouse only: no files (COPY ... TO, read_csv), no ATTACH, no INSTALL or LOAD"),
    (("configuration has been locked",), "`query` cannot change settings (SET, RESET, PRAGMA)"),
)


def _refusal(reason: str) -> str | None:
    return next((why for words, why in _REFUSALS if any(w in reason for w in words)), None)


@app.command()
def query(sql: Annotated[str, typer.Argument(help="SQL to run, read-only.")], db: DbOption = SETTINGS.db,
          format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
          ) -> None:
    """Run SQL that only reads the warehouse: writes, files, ATTACH, extensions and settings are refused.

    CSV output marks text cells that a spreadsheet would run as formulas (a leading single quote).
    """
    try:
        con = connect_sandboxed(db)
    except WarehouseError as exc:
        raise _fail(str(exc)) from None
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall() if columns else []
    except duckdb.Error as exc:
        reason = str(exc)
        why = _refusal(reason)
        if why:
            raise _fail(f"query refused on {db}: {why} ({first_line(exc)})") from None
        raise _fail(f"query failed on {db}: {reason}") from None
    finally:
        con.close()
    if format is OutputFormat.csv:
        write_csv(sys.stdout, columns, rows)
    elif format is OutputFormat.json:
        sys.stdout.write(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str,
                                    ensure_ascii=False, indent=2) + "\n")
    else:
        table = Table()
        for column in columns:
            table.add_column(Text(column))
        for row in rows:
            table.add_row(*(Text("" if v is None else str(v)) for v in row))  # Text: values are not markup
        out.print(table)


@app.command()
def status(db: DbOption = SETTINGS.db,
           format: Annotated[OutputFormat, typer.Option("--format", help="table, or json for monitoring.")] = (
               OutputFormat.table),
           runs: Annotated[int, typer.Option("--runs", help="How many recent runs to show.")] = 5) -> None:
    """Recent runs, each source's health, and what needs attention (exit 2 when anything does).

    A run still marked `running` while no process holds the warehouse's writer lock was killed: it shows as
    `interrupted` and needs attention.
    """
    try:
        con = connect(db, read_only=True)
    except WarehouseError as exc:
        raise _fail(str(exc)) from None
    try:
        # Probed while the file is open: no run can commit (start or finish) until it is closed again.
        state = warehouse_status(con, runs, writer_active=lock_held(db))
    finally:
        con.close()
    if format is OutputFormat.json:
        sys.stdout.write(json.dumps(state, default=str, indent=2) + "\n")
    else:
        table = Table("run", "flow", "started", "status", "new", "updated", "errors", title="recent runs")
        for r in state["runs"]:
            table.add_row(r["run_id"][:8], Text(r["flow"]), str(r["started_at"])[:19], Text(r["status"]),
                          str(r["articles_new"] or 0), str(r["articles_updated"] or 0), str(r["errors"] or 0))
        out.print(table)
        table = Table("source", "last run", "articles", "title", "date", "body", "entity", "health",
                      title="sources (latest run)")
        share = lambda v: "" if v is None else f"{v:.0%}"  # noqa: E731
        for s in state["sources"]:
            table.add_row(Text(s["source_id"]), str(s["finished_at"])[:19], str(s["articles"]),
                          share(s["share_title"]), share(s["share_date"]), share(s["share_body"]),
                          share(s["share_entity"]), Text("ok" if s["healthy"] else f"UNHEALTHY: {s['health_reason']}"))
        out.print(table)
        for line in state["attention"]:
            err.print(f"[bold yellow]attention:[/] {escape(line)}", highlight=False)
    if state["attention"]:
        raise typer.Exit(2)


@app.command()
def serve(sources: SourcesOption = SETTINGS.sources, db: DbOption = SETTINGS.db) -> None:
    """Run the scheduled deployments (daily pipeline) with Prefect until interrupted."""
    _check_inputs(sources, None)
    from flows.schedules import serve as serve_deployments

    serve_deployments(sources, db)


from flows.commands_lake import register as register_lake  # noqa: E402 - the DuckLake backend
from flows.commands_sources import register as register_sources  # noqa: E402 - check-sources, add-source
from flows.commands_warehouse import register  # noqa: E402 - export, events, search, docs

register_sources(app)
register(app)
register_lake(app)

if __name__ == "__main__":
    app()
