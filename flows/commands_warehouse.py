"""The `stadtradar` commands over the built marts: export, events (iCalendar), search and docs.

`register(app)` adds them to the CLI in flows/cli.py. Each opens the warehouse read-only (docs lets dbt open it),
so they can run while nobody writes; the logic lives in warehouse/exports, calendar, search and docs.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from flows.terminal import EXIT_BUSY, err, out
from flows.terminal import fail as _fail
from scrapers.config import Settings
from warehouse.db import WarehouseError, connect

SETTINGS = Settings()
DEFAULT_DB = SETTINGS.db
DbOption = Annotated[Path, typer.Option("--db", help="Warehouse file (DuckDB).")]


class ExportFormatOption(StrEnum):
    parquet = "parquet"
    csv = "csv"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _read_only(db: Path) -> duckdb.DuckDBPyConnection:
    try:
        return connect(db, read_only=True)
    except WarehouseError as exc:
        raise _fail(str(exc)) from None


def export(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the files into (created if needed).")],
    format: Annotated[ExportFormatOption, typer.Option("--format", help="File format.")] = ExportFormatOption.parquet,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write every table and view of the marts schema as one Parquet or CSV file (lists as JSON in CSV).

    In CSV, text cells that a spreadsheet would run as formulas (=, +, -, @, tab, CR first) start with a single quote.
    """
    from warehouse.exports import ExportError, ExportFormat, export_marts

    con = _read_only(db)
    try:
        written = export_marts(con, out_dir, ExportFormat(format.value))
    except ExportError as exc:
        raise _fail(str(exc)) from None
    finally:
        con.close()
    for item in written:
        typer.echo(f"{item.path}\t{item.rows} rows")  # plain: paths must not be wrapped


def events(
    ics: Annotated[Path, typer.Option("--ics", help="iCalendar file to write (RFC 5545).")],
    upcoming: Annotated[bool, typer.Option("--upcoming", help="Only events that have not ended before today.")]
    = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write the dated events as an iCalendar file, to subscribe to or import into a calendar."""
    from warehouse.calendar import export_ics

    con = _read_only(db)
    try:
        count = export_ics(con, ics, upcoming_from=dt.date.today() if upcoming else None)
    except (LookupError, duckdb.Error, OSError) as exc:
        raise _fail(f"cannot write {ics} from {db}: {exc}") from None
    finally:
        con.close()
    typer.echo(f"{ics}\t{count} events")


def site(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the website into (created if needed).")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Generate the static website (events, map, programmes, cities, articles, sources) from the published copy.

    The folder opens from the file system or any static host (`python -m http.server -d DIR`); it loads
    nothing from the network.
    """
    import jinja2

    from warehouse.site import generate_site

    try:
        source, pages = generate_site(db, out, dt.date.today(), published=SETTINGS.publish)
    except (WarehouseError, LookupError, ValueError, duckdb.Error, OSError, jinja2.TemplateError) as exc:
        raise _fail(f"cannot write the website to {out} from {db}: {exc}") from None
    typer.echo(f"{out}\t{pages} pages from {source}")


def _parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--since {value!r} is not a date (YYYY-MM-DD)") from None


def search(
    query: Annotated[str, typer.Argument(help="Words to search for, e.g. Hitzeschutz.")],
    city: Annotated[str | None, typer.Option("--city", help="Only articles mentioning this city (name).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only articles published on or after (YYYY-MM-DD).")]
    = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many articles to show.")] = 20,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.table,
    index: Annotated[Path | None, typer.Option("--index", help="Search index cache file "
                                               "(default: ~/.cache/stadtradar/search-<hash>.duckdb).")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Full-text search over the articles (BM25, German stemming); the warehouse is opened read-only.

    CSV output marks text cells that a spreadsheet would run as formulas (a leading single quote).
    """
    from warehouse.exports import write_csv
    from warehouse.search import SearchError, search_articles

    since_day = _parse_day(since)
    try:
        hits = search_articles(db, query, city=city, since=since_day, limit=limit, index=index)
    except (SearchError, WarehouseError) as exc:
        raise _fail(str(exc)) from None
    except duckdb.Error as exc:
        raise _fail(f"search failed on {db}: {exc}") from None
    columns = ["score", "published_date", "source_id", "title", "url", "article_id"]
    rows = [[round(h.score, 3), h.published_date, h.source_id, h.title, h.url, h.article_id] for h in hits]
    if format is OutputFormat.csv:
        write_csv(sys.stdout, columns, rows)
    elif format is OutputFormat.json:
        sys.stdout.write(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=str,
                                    ensure_ascii=False, indent=2) + "\n")
    elif not rows:
        err.print(escape(f"no article matches {query!r}"), highlight=False)
    else:
        table = Table(*columns[:4])
        table.add_column("url", overflow="fold")  # a cut URL is useless: wrap it instead
        for row in rows:
            table.add_row(*(Text("" if v is None else str(v)) for v in row[:5]))  # titles are not markup
        out.print(table)


def docs(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the documentation site.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Generate the dbt documentation of the marts (open OUT/index.html in a browser)."""
    from warehouse.docs import generate_docs
    from warehouse.lock import WarehouseBusy
    from warehouse.transform import DbtBuildError

    try:
        written = generate_docs(db, out_dir, lock_timeout=SETTINGS.lock_timeout)
    except WarehouseBusy as exc:
        raise _fail(str(exc), EXIT_BUSY) from None
    except (DbtBuildError, WarehouseError) as exc:
        raise _fail(str(exc)) from None
    for path in written:
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add export, events, search, docs and site to the `stadtradar` command."""
    app.command()(export)
    app.command()(events)
    app.command()(search)
    app.command()(docs)
    app.command()(site)
