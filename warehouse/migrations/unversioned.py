"""Warehouses made before numbered migrations: the changes their opens used to make, done once before 0001.

Such a file has no ops.schema_version. Depending on its age its raw.mentions still has a role column and its
raw.pages holds bodies as text (the oldest) or zlib-compressed (the last format before WARC). adopt() drops the
column and rewrites a text-body file into the compressed format; 0001 then adds what is missing and 0002 moves
the bodies to WARC files.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import duckdb

from warehouse import db as warehouse_db
from warehouse.bulk import insert_rows
from warehouse.db import scalar

INITIAL_SQL = Path(__file__).with_name("0001_initial.sql")
COPY_CHUNK = 500


def adopt(con: duckdb.DuckDBPyConnection, db: Path, reopen: Callable[[], duckdb.DuckDBPyConnection]
          ) -> duckdb.DuckDBPyConnection:
    """Bring an unversioned warehouse to what migration 0001 expects; returns the connection to go on with
    (`reopen()` gives a new one when the file had to be replaced). A new, empty file passes unchanged."""
    _drop_mention_roles(con)
    if _text_bodies(con):
        con.execute("checkpoint")  # fold the log into the file, which is then copied
        con.close()
        _rewrite_text_bodies(db)
        con = reopen()
    return con


def pack_body(text: str) -> bytes:
    """A page body as raw.pages stored it before WARC: UTF-8, zlib-compressed."""
    return zlib.compress(text.encode("utf-8"), 6)


def unpack_body(stored: bytes | None) -> str:
    """The text of a body stored by pack_body."""
    return zlib.decompress(stored).decode("utf-8") if stored else ""


def _text_bodies(con: duckdb.DuckDBPyConnection) -> bool:
    """A warehouse made before page bodies were compressed (and text tables lost their keys, and files
    got small row groups): its raw.pages body is text."""
    return scalar(
        con, "select count(*) from duckdb_columns() where database_name = current_database() "
        "and schema_name = 'raw' and table_name = 'pages' and column_name = 'body' and data_type = 'VARCHAR'") > 0


def _drop_mention_roles(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse from before raw.participations: raw.mentions held one role per (article, programme), which
    the marts gave to every city of the article. The column goes, and with it the incremental model that
    copied it (intermediate.int_article_mentions; an incremental build cannot change a column's type): the
    next build makes that model anew. `stadtradar reparse` fills raw.participations for stored articles."""
    if not scalar(
            con, "select count(*) from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'raw' and table_name = 'mentions' and column_name = 'role'"):
        return
    con.execute("begin transaction")
    try:
        con.execute("alter table raw.mentions drop column role")
        con.execute("drop table if exists intermediate.int_article_mentions")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _rewrite_text_bodies(path: Path) -> None:
    """Copy a text-body warehouse's raw and ops tables into a new file of the 0001 format, then replace the
    old file with it. The original stays untouched until the atomic replace, so a crash loses nothing; the
    dbt models are rebuilt by the next build (ops.builds is not copied, so that build is not skipped)."""
    fresh = path.with_name(f".{path.name}.rewrite")
    fresh.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        warehouse_db.attach(con, path, "older", "read_only")
        warehouse_db.attach_new(con, fresh, "current")
        con.execute("use current")
        con.execute(INITIAL_SQL.read_text(encoding="utf-8"))
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'older' "
            "and schema_name in ('raw', 'ops') order by all").fetchall()
        for schema, table in tables:
            if (schema, table) in {("raw", "pages"), ("ops", "builds")}:
                continue
            con.execute(f"insert into current.{schema}.{table} by name select * from older.{schema}.{table}")
        columns = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'current' and schema_name = 'raw' "
            "and table_name = 'pages' order by column_index").fetchall()]
        select = ", ".join("length(body)" if c == "body_chars" else c for c in columns)
        body = columns.index("body")
        offset = 0
        while chunk := con.execute(f"select {select} from older.raw.pages order by rowid "
                                   f"limit {COPY_CHUNK} offset {offset}").fetchall():
            insert_rows(con, "raw.pages", [[*r[:body], pack_body(r[body] or ""), *r[body + 1:]] for r in chunk])
            offset += COPY_CHUNK
        con.execute("checkpoint current")
        con.execute("use memory")
        con.execute("detach current")
        con.execute("detach older")
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    fresh.replace(path)
