"""Exporting every table and view of the `marts` schema as one Parquet or CSV file each."""
from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TextIO

import duckdb

from warehouse.db import scalar

MARTS_SCHEMA = "marts"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


class ExportError(RuntimeError):
    """An export could not be written; the message names the table and the file."""


@dataclass(frozen=True)
class ExportedFile:
    """One file written by export_marts."""

    table: str
    path: Path
    rows: int


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mart_relations(con: duckdb.DuckDBPyConnection, schema: str = MARTS_SCHEMA) -> list[str]:
    """Names of the tables and views in schema, sorted."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_catalog = current_database()"
        " order by table_name", [schema]).fetchall()
    return [name for (name,) in rows]


# A spreadsheet opening a CSV file runs a cell that starts with one of these as a formula (`=HYPERLINK(...)`,
# `+cmd|...`); OWASP's advice for CSV that people open in spreadsheets: prefix such a text cell with a single
# quote, which the spreadsheet shows as text. Numbers are never touched: -3 in a numeric column stays -3.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(stream: TextIO, columns: list[str], rows: Iterable[Iterable[object]]) -> None:
    """Write a header and rows as CSV for the terminal and shell tools: `\\n` line ends (not the csv module's
    `\\r\\n`), formula-like text neutralised (FORMULA_STARTS)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([neutralise_formula(c) for c in columns])
    writer.writerows([neutralise_formula(v) for v in row] for row in rows)


def _neutralised(column: str) -> str:
    """SQL for the text column with neutralise_formula applied."""
    starts = ", ".join(_literal(c) if c.isprintable() else f"chr({ord(c)})" for c in FORMULA_STARTS)
    return f"case when left({column}, 1) in ({starts}) then {_literal(chr(39))} || {column} else {column} end"


def _csv_select(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """A select that turns nested columns (lists, structs, maps) into JSON text, which CSV cannot hold otherwise,
    and neutralises text cells a spreadsheet would run as formulas (FORMULA_STARTS)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? and table_catalog = current_database() order by ordinal_position",
        [schema, table]).fetchall()
    parts = []
    for name, data_type in columns:
        column = _ident(name)
        if data_type.endswith("]") or data_type.startswith(("STRUCT", "MAP", "UNION")):
            parts.append(f"to_json({column})::varchar as {column}")  # starts with [ or {: never a formula
        elif data_type == "VARCHAR" or data_type.startswith("ENUM"):
            parts.append(f"{_neutralised(f'{column}::varchar')} as {column}")
        else:
            parts.append(column)
    return f"select {', '.join(parts)} from {_ident(schema)}.{_ident(table)}"


def export_marts(con: duckdb.DuckDBPyConnection, out_dir: Path,
                 fmt: ExportFormat = ExportFormat.parquet, schema: str = MARTS_SCHEMA) -> list[ExportedFile]:
    """Write each relation of schema to out_dir/<name>.parquet or .csv; return what was written.

    con may be read-only: COPY ... TO writes files, not the database. CSV files have a header row, are UTF-8
    and hold list columns (e.g. articles.relevance_terms) as JSON arrays (`["a","b"]`, `[]` when empty, empty
    field when NULL). Each file is written beside its target and renamed into place, so a failed export never
    leaves a half-written file under the final name. CSV text cells that a spreadsheet would run as a formula
    get a leading single quote (FORMULA_STARTS).
    """
    fmt = ExportFormat(fmt)
    out_dir = Path(out_dir)
    relations = mart_relations(con, schema)
    if not relations:
        raise ExportError(f"the warehouse has no `{schema}` tables yet (run `stadtradar run` or `stadtradar build`)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the export folder {out_dir}: {exc.strerror or exc}") from None
    written = []
    for table in relations:
        target = out_dir / f"{table}.{fmt.value}"
        partial = out_dir / f".{table}.{fmt.value}.partial"
        if fmt is ExportFormat.csv:
            select, options = _csv_select(con, schema, table), "FORMAT CSV, HEADER true"
        else:
            select, options = f"select * from {_ident(schema)}.{_ident(table)}", "FORMAT PARQUET, COMPRESSION zstd"
        try:
            rows = scalar(con, f"COPY ({select}) TO {_literal(str(partial))} ({options})")
            os.replace(partial, target)
        except (duckdb.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise ExportError(f"{schema}.{table} -> {target}: {exc}") from None
        written.append(ExportedFile(table=table, path=target, rows=rows))
    return written
