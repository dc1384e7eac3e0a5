"""Opening the DuckDB warehouse: schema on write, read-only for queries, fts loaded offline."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

SCHEMA_SQL = Path(__file__).with_name("schema.sql")


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used; the message names the file."""


def connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a writable connection creates the file and the raw schema if needed."""
    path = Path(path)
    if read_only:
        if not path.exists():
            raise WarehouseError(f"{path}: no warehouse here yet (run `stadtradar run` or `make demo` first)")
        try:
            return duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise WarehouseError(f"{path}: cannot open read-only: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot open for writing: {exc}") from None
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    return con


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
