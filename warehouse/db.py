"""Opening the DuckDB warehouse: migrated on write, read-only for queries, fts loaded offline."""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any, TypeAlias

import duckdb

# A value of a DuckDB configuration option, as duckdb.connect takes them.
ConfigValue: TypeAlias = str | bool | int | float | list[str]

OPEN_RETRY_SECONDS = 0.2  # how often an open that found the file locked tries again


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used; the message names the file."""


def connect(path: Path, read_only: bool = False, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a writable connection creates the file if needed and applies the schema migrations
    it lacks (warehouse/migrations), a read-only one refuses a file of another schema version.

    DuckDB lets one process write or several read, never both; a run holds the file for a few seconds at a
    time (warehouse/ingest.py, IngestRun), so a conflicting open is retried for up to `wait` seconds before it
    is an error.

    No connection lets DuckDB's checkpoint merge row groups (see _settings).
    """
    path = Path(path)
    if read_only:
        _must_exist(path)
    else:
        check_folder(path)
        if not path.exists():
            try:
                _create(path)
            except duckdb.Error as exc:
                raise WarehouseError(f"{path}: cannot create the warehouse: {first_line(exc)}") from None
    con = _open(path, read_only, wait)
    if _file_identity(path) not in _CURRENT_FILES:
        try:
            if read_only:
                _check_current(con, path)
            else:
                con = _migrate(con, path, wait)
        except BaseException:
            con.close()
            raise
        _CURRENT_FILES.add(_file_identity(path))
    return con


def _migrate(con: duckdb.DuckDBPyConnection, path: Path, wait: float) -> duckdb.DuckDBPyConnection:
    """Bring the file to the latest schema version; returns the connection to use (a file made before
    numbered migrations may be replaced by a rewritten copy, and then is opened anew)."""
    from warehouse import migrations
    from warehouse.migrations import unversioned

    if migrations.recorded_version(con) is None:
        con = unversioned.adopt(con, path, lambda: _open(path, False, wait))
    migrations.apply(con, path)
    return con


def _check_current(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    from warehouse import migrations

    migrations.check_current(con, path)


def check_folder(db: Path) -> None:
    """Refuse a warehouse path whose folder is missing (or is a file): a mistyped --db must not create
    directories and crawl into them. Only the folder of the built-in default (warehouse/ in the project) is
    created when missing."""
    from scrapers.config import Settings

    folder = Path(db).absolute().parent
    if folder.is_dir():
        return
    if folder.exists():
        raise WarehouseError(f"{db}: {folder} is not a folder")
    if folder != Path(Settings.model_fields["db"].default).absolute().parent:
        raise WarehouseError(f"{db}: the folder {folder} does not exist (create it first, or check --db)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"{db}: cannot create the folder {folder}: {exc.strerror or exc}") from None


# What a connection running SQL or text typed by a user may not do: read or write files (COPY ... TO, EXPORT
# DATABASE, read_csv, ATTACH another warehouse), install or load extensions (INSTALL reaches for the network),
# scan Python objects by name, or change any of this (SET, RESET, PRAGMA). A read-only open alone refuses only
# writes to the warehouse itself; COPY ... TO could still replace the file. DuckDB applies lock_configuration
# after the others, and spills large sorts to its own temp folder regardless.
SANDBOX_SETTINGS: dict[str, ConfigValue] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "python_enable_replacements": False,
    "lock_configuration": True,
}


def connect_sandboxed(path: Path, wait: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only for SQL a user typed: it reads the warehouse and nothing else (see
    SANDBOX_SETTINGS). The settings are given when the file is opened, not SET afterwards: SET would change
    them for every other connection of this process to the same file."""
    path = Path(path)
    _must_exist(path)
    con = _open(path, True, wait, SANDBOX_SETTINGS)
    if _file_identity(path) not in _CURRENT_FILES:
        try:
            _check_current(con, path)
        except BaseException:
            con.close()
            raise
        _CURRENT_FILES.add(_file_identity(path))
    return con


def _must_exist(path: Path) -> None:
    """A reader never creates the warehouse: a missing file is an error that says how to make one."""
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse here yet (run `stadtradar run` or `make demo` first)")


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple[Any, ...]:
    """The row of a query that always returns one (an aggregate, a COPY); none at all is an error."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise WarehouseError(f"no row where one was certain: {sql}")
    return row


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The first value of one_row(con, sql, params)."""
    return one_row(con, sql, params)[0]


def dict_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """The rows of a query as dicts by column name."""
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (DuckDB's run on with context lines), or its type's name."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# Files this process has found at (or brought to) the latest schema version. A run opens the warehouse for every
# batch; asking for the version each time would cost a query per open. A replaced or re-created file has
# another identity.
_CURRENT_FILES: set[tuple[str, int, int]] = set()


def _file_identity(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_dev, stat.st_ino


def _open(path: Path, read_only: bool, wait: float,
          extra: dict[str, ConfigValue] | None = None) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config={**_settings(), **(extra or {})})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                mode = "read-only" if read_only else "for writing"
                raise WarehouseError(f"{path}: cannot open {mode}: {exc}") from None
            time.sleep(OPEN_RETRY_SECONDS)
        except duckdb.Error as exc:
            raise WarehouseError(f"{path}: cannot open: {exc}") from None


ROW_GROUP_ROWS = 2048  # DuckDB's smallest row group: the most a merging checkpoint rewrites


def attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, options: str = "") -> None:
    """Attach the database file `path` to `con` as `alias`, with DuckDB's ATTACH options if any."""
    quoted = str(path).replace("'", "''")
    con.execute(f"attach '{quoted}' as {alias}" + (f" ({options})" if options else ""))


def attach_new(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    """Create an empty warehouse file with small row groups (DuckDB keeps the size in the file)."""
    attach(con, path, alias, f"row_group_size {ROW_GROUP_ROWS}")


def _create(path: Path) -> None:
    _CURRENT_FILES.difference_update({f for f in _CURRENT_FILES if f[0] == str(path.resolve())})
    with duckdb.connect() as con:
        attach_new(con, path, "warehouse")


def _settings() -> dict[str, ConfigValue]:
    """DuckDB settings of every connection to the warehouse.

    A run appends wide rows (article texts in raw.articles and raw.article_versions; page bodies before they
    moved to WARC files) in batches of about 50. DuckDB gives each append a row group of its own and, at the
    next checkpoint with default settings, merges the small groups of every table into full ones: that
    rewrites the texts of up to 2,048 rows each time (about 120 MB of memory for 2,000 pages with bodies, and
    more the more groups wait). With no vacuum tasks a batch stays a group of its own and a checkpoint writes
    only what changed; a group whose rows were all replaced is still dropped. Lookups by key go to the small
    keyed tables (ops.http_state, ops.article_index), never scan the texts or the per-batch groups of the
    raw.pages index. The dbt profile sets the same, so a build does not merge the raw tables either.
    """
    from scrapers.config import Settings

    return {"memory_limit": Settings().duckdb_memory_limit, "max_vacuum_tasks": 0}


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's full-text-search extension (offline from its PyPI package if need be)."""
    load_extension(con, "fts")


# The pip packages that carry extensions' binaries, for machines that cannot download them.
EXTENSION_PACKAGES = {"fts": "duckdb_extension_fts", "ducklake": "duckdb_extension_ducklake",
                      "postgres": "duckdb_extension_postgres"}


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension: the normal INSTALL first, else the binary of its PyPI package (offline machines).
    Installed once, it loads in any later process, dbt's included, without either."""
    try:
        con.execute(f"INSTALL {name}; LOAD {name};")
        return
    except duckdb.Error:
        pass  # offline: the extension repository is unreachable
    package = EXTENSION_PACKAGES.get(name, f"duckdb_extension_{name}")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(f"the {name} extension is not available (install {package.replace('_', '-')})")
    folder = Path(next(iter(spec.submodule_search_locations)))
    binaries = sorted(folder.glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension")) or sorted(
        folder.glob("extensions/**/*.duckdb_extension"))
    if not binaries:
        raise WarehouseError(f"{folder}: no {name} extension binary for duckdb {duckdb.__version__}")
    con.execute(f"INSTALL '{binaries[0]}'; LOAD {name};")


def quoted_name(name: str) -> str:
    """An identifier quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'
