"""Opening the DuckDB warehouse: schema on write, read-only for queries, fts loaded offline."""
from __future__ import annotations

import importlib.util
import shutil
import time
from pathlib import Path

import duckdb

SCHEMA_SQL = Path(__file__).with_name("schema.sql")


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used; the message names the file."""


def connect(path: Path, read_only: bool = False, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a writable connection creates the file and the raw schema if needed.

    DuckDB lets one process write or several read, never both; a run opens the file only for each
    load's commit, so a conflicting open is retried for up to `wait` seconds before it is an error.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"{path}: no warehouse here yet (run `stadtradar run` or `make demo` first)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config={"memory_limit": _memory_limit()})
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                mode = "read-only" if read_only else "for writing"
                raise WarehouseError(f"{path}: cannot open {mode}: {exc}") from None
            time.sleep(0.2)
        except duckdb.Error as exc:
            raise WarehouseError(f"{path}: cannot open: {exc}") from None
    if not read_only:
        con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        _migrate(con)
    return con


# Tables that had declared keys, and raw.pages with a text body, before their storage was made cheap to
# checkpoint (see schema.sql).
FORMERLY_KEYED = ("articles", "article_versions")
ROW_GROUP_ROWS = 2048  # DuckDB's smallest row group; a checkpoint rewrites the one it appended to
MIGRATION_CHUNK = 500


def _create(path: Path) -> None:
    """Create an empty warehouse file with small row groups (DuckDB keeps the size in the file)."""
    con = duckdb.connect()
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"attach '{quoted}' as warehouse (row_group_size {ROW_GROUP_ROWS})")
        con.execute("detach warehouse")
    finally:
        con.close()


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Move a warehouse made before the text tables lost their declared keys and raw.pages its text body to
    the current tables, in one transaction: rename each, create it anew from the schema, copy, drop the old."""
    keyed = [name for (name,) in con.execute(
        "select distinct table_name from duckdb_constraints() where schema_name = 'raw' "
        "and constraint_type = 'PRIMARY KEY' and table_name in (select unnest(?))", [list(FORMERLY_KEYED)],
    ).fetchall()]
    text_body = con.execute(
        "select count(*) from duckdb_columns() where schema_name = 'raw' and table_name = 'pages' "
        "and column_name = 'body' and data_type = 'VARCHAR'").fetchone()[0] > 0
    if not keyed and not text_body:
        return
    from warehouse.bulk import insert_rows
    from warehouse.load import pack_body

    limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    con.execute("set memory_limit = '4GB'")  # one copy of the texts in one transaction, once
    con.execute("begin transaction")
    try:
        old = [*keyed, *(["pages"] if text_body else [])]
        for name in old:
            con.execute(f"alter table raw.{name} rename to {name}_before_migration")
        con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
        for name in keyed:
            con.execute(f"insert into raw.{name} select * from raw.{name}_before_migration")
        if text_body:
            columns = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = 'pages' "
                "order by column_index").fetchall()]
            body = columns.index("body")
            select = ", ".join("body" if c == "body" else "length(body)" if c == "body_chars" else c
                               for c in columns)
            offset = 0
            while chunk := con.execute(f"select {select} from raw.pages_before_migration order by rowid "
                                       f"limit {MIGRATION_CHUNK} offset {offset}").fetchall():
                insert_rows(con, "raw.pages", [[*r[:body], pack_body(r[body] or ""), *r[body + 1:]] for r in chunk])
                offset += MIGRATION_CHUNK
        for name in old:
            con.execute(f"drop table raw.{name}_before_migration")
        con.execute("commit")
        con.execute("checkpoint")  # write the copies out while the higher limit still holds them
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute(f"set memory_limit = '{limit}'")


def _memory_limit() -> str:
    from scrapers.config import Settings

    return Settings().duckdb_memory_limit


def publish(path: Path) -> Path:
    """Copy the warehouse to `published/<name>` beside it, replaced atomically, for BI tools that keep
    files open (they would otherwise block the next run). Call only when no connection is open."""
    path = Path(path)
    con = duckdb.connect(str(path), config={"memory_limit": _memory_limit()})
    try:
        con.execute("checkpoint")  # fold the write-ahead log into the file so the copy is complete
    finally:
        con.close()
    target = path.resolve().parent / "published" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(path, partial)
    partial.replace(target)
    return target


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's full-text-search extension: the normal INSTALL first, then the PyPI-packaged binary."""
    try:
        con.execute("INSTALL fts; LOAD fts;")
        return
    except duckdb.Error:
        pass  # offline: the extension repository is unreachable
    spec = importlib.util.find_spec("duckdb_extension_fts")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("the fts extension is not available (install duckdb-extension-fts)")
    package = Path(next(iter(spec.submodule_search_locations)))
    binaries = sorted(package.glob(f"extensions/v{duckdb.__version__}/fts.duckdb_extension")) or sorted(
        package.glob("extensions/**/fts.duckdb_extension")
    )
    if not binaries:
        raise WarehouseError(f"{package}: no fts.duckdb_extension for duckdb {duckdb.__version__}")
    con.execute(f"INSTALL '{binaries[0]}'; LOAD fts;")
