"""Fast batch inserts into DuckDB: rows go through a JSON-lines file and read_json, not row by row."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import duckdb

# executemany sends one statement per row (about 2 ms each); one read_json over a temporary file loads
# thousands of rows in tens of milliseconds, with DuckDB doing the type conversion.


# read_json allocates a buffer of maximum_object_size per thread for every read, and a connection's buffer pool
# keeps such memory while it stays open: sized by the longest row actually written (with room to spare), not by
# the largest page a fetch may bring, an insert of 50 articles takes a few MB instead of 2 x 32 MB.
_MIN_OBJECT_BYTES = 1 << 20


def _object_bytes(longest_line: int) -> int:
    return max(_MIN_OBJECT_BYTES, 2 * longest_line + 1024)


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index", [schema, name]).fetchall()
    if not rows:
        raise ValueError(f"no table {table}")
    return rows


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Sequence[Any]],
                conflict: str = "", new_on: Sequence[str] = ()) -> None:
    """Insert rows (values in the table's column order) in one statement.

    `conflict` is appended to the INSERT (e.g. "on conflict do nothing"); the prefix "or replace" is used
    when conflict == "replace". `new_on` names key columns of a table without a declared key: only rows
    whose key is not in the table yet are inserted.
    """
    if not rows:
        return
    columns = _column_types(con, table)
    # JSON has no bytes: BLOB values travel as base64 text and are decoded in the SELECT.
    struct = ", ".join(f"{json.dumps(name)}: '{'VARCHAR' if kind == 'BLOB' else kind}'" for name, kind in columns)
    handle, path = tempfile.mkstemp(prefix="stadtradar-bulk-", suffix=".jsonl")
    try:
        longest = 0
        with os.fdopen(handle, "wb") as out:
            for row in rows:
                if len(row) != len(columns):
                    raise ValueError(f"{table}: row has {len(row)} values, the table {len(columns)} columns")
                line = json.dumps({name: _encode(v) for (name, _), v in zip(columns, row, strict=True)},
                                  ensure_ascii=False).encode("utf-8")
                longest = max(longest, len(line))
                out.write(line)
                out.write(b"\n")
        verb = "insert or replace into" if conflict == "replace" else "insert into"
        suffix = "" if conflict == "replace" else conflict
        names = ", ".join(f"from_base64({json.dumps(name)}) as {json.dumps(name)}" if kind == "BLOB"
                          else json.dumps(name) for name, kind in columns)
        where = ""
        if new_on:
            match = " and ".join(f"t.{json.dumps(k)} = j.{json.dumps(k)}" for k in new_on)
            where = f"where not exists (select 1 from {table} t where {match})"
        con.execute(
            f"{verb} {table} select {names} from read_json(?, format = 'newline_delimited', "
            f"columns = {{{struct}}}, maximum_object_size = {_object_bytes(longest)}) j {where} {suffix}",
            [path],
        )
    finally:
        os.unlink(path)
