"""Exporting every table and view of the `marts` schema as one Parquet or CSV file each."""
from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import duckdb

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


def _csv_select(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """A select that turns nested columns (lists, structs, maps) into JSON text, which CSV cannot hold otherwise."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? and table_catalog = current_database() order by ordinal_position",
        [schema, table]).fetchall()
    parts = []
    for name, data_type in columns:
        nested = data_type.endswith("]") or data_type.startswith(("STRUCT", "MAP", "UNION"))
        parts.append(f"to_json({_ident(name)})::varchar as {_ident(name)}" if nested else _ident(name))
    return f"select {', '.join(parts)} from {_ident(schema)}.{_ident(table)}"


def export_marts(con: duckdb.DuckDBPyConnection, out_dir: Path,
                 fmt: ExportFormat = ExportFormat.parquet, schema: str = MARTS_SCHEMA) -> list[ExportedFile]:
    """Write each relation of schema to out_dir/<name>.parquet or .csv; return what was written.

    con may be read-only: COPY ... TO writes files, not the database. CSV files have a header row, are UTF-8
    and hold list columns (e.g. articles.relevance_terms) as JSON arrays (`["a","b"]`, `[]` when empty, empty
    field when NULL). Each file is written beside its target and renamed into place, so a failed export never
    leaves a half-written file under the final name.
    """
    fmt = ExportFormat(fmt)
    out_dir = Path(out_dir)
    relations = mart_relations(con, schema)
    if not relations:
        raise ExportError(f"the warehouse has no `{schema}` tables yet (run `stadtradar run` or `stadtradar build`)")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in relations:
        target = out_dir / f"{table}.{fmt.value}"
        partial = out_dir / f".{table}.{fmt.value}.partial"
        if fmt is ExportFormat.csv:
            select, options = _csv_select(con, schema, table), "FORMAT CSV, HEADER true"
        else:
            select, options = f"select * from {_ident(schema)}.{_ident(table)}", "FORMAT PARQUET, COMPRESSION zstd"
        try:
            rows = con.execute(f"COPY ({select}) TO {_literal(str(partial))} ({options})").fetchone()[0]
            os.replace(partial, target)
        except (duckdb.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise ExportError(f"{schema}.{table} -> {target}: {exc}") from None
        written.append(ExportedFile(table=table, path=target, rows=rows))
    return written
