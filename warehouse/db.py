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
    return con


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
