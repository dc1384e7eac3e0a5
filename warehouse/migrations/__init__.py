"""Numbered schema migrations of the warehouse, applied in order once per file and recorded in ops.schema_version.

Each step is a file in this folder: `NNNN_name.sql` (run as it is) or `NNNN_name.py` (its `migrate(con, db)`
rewrites data SQL cannot). Versions count up from 0001 without gaps. A step runs in one transaction with the row
that records it, so a step that fails or is killed leaves no trace and runs again at the next writable open.
A migrated step is never edited: a change to the schema is a new step.

A warehouse made before this versioning has no ops.schema_version; warehouse.migrations.unversioned first
brings it to what 0001 expects, then every step applies as to a new file (0001 creates only what is missing).
"""
from __future__ import annotations

import datetime as dt
import functools
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.db import WarehouseError, first_line, scalar

FOLDER = Path(__file__).parent
_STEP = re.compile(r"^(\d{4})_(\w+)\.(sql|py)$")

VERSION_TABLE = """
create schema if not exists ops;
create table if not exists ops.schema_version (
    version     integer primary key,      -- the number of the migration (warehouse/migrations/NNNN_*)
    name        varchar not null,         -- its file name
    applied_at  timestamp not null
);
"""


@dataclass(frozen=True)
class Migration:
    """One numbered step: its version, and the .sql or .py file that makes it."""

    version: int
    path: Path

    def run(self, con: duckdb.DuckDBPyConnection, db: Path) -> None:
        """Make the change (inside the caller's transaction)."""
        if self.path.suffix == ".sql":
            con.execute(self.path.read_text(encoding="utf-8"))
        else:
            importlib.import_module(f"{__name__}.{self.path.stem}").migrate(con, db)


@functools.cache
def available() -> tuple[Migration, ...]:
    """Every migration in this folder, in order; a gap or a number used twice is an error naming the files."""
    steps = sorted((int(m.group(1)), path) for path in FOLDER.iterdir() if (m := _STEP.match(path.name)))
    for expected, (version, path) in enumerate(steps, start=1):
        if version != expected:
            raise WarehouseError(f"{path}: migration number {version:04d} where {expected:04d} was expected "
                                 f"(migrations count up from 0001 without gaps or repeats)")
    return tuple(Migration(version, path) for version, path in steps)


def latest() -> int:
    """The version this code brings a warehouse to."""
    return available()[-1].version


def recorded_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The last migration applied to the open warehouse; None when it has no ops.schema_version (a new file,
    or one made before migrations were numbered)."""
    if not scalar(con, "select count(*) from duckdb_tables() where database_name = current_database() "
                       "and schema_name = 'ops' and table_name = 'schema_version'"):
        return None
    return int(scalar(con, "select coalesce(max(version), 0) from ops.schema_version"))


def apply(con: duckdb.DuckDBPyConnection, db: Path) -> list[Migration]:
    """Apply the migrations the open warehouse `db` lacks, in order, each in its own transaction; returns
    them. An unversioned warehouse must have been through unversioned.adopt first."""
    version = recorded_version(con) or 0
    if version > latest():
        raise WarehouseError(_newer(db, version))
    pending = [m for m in available() if m.version > version]
    for migration in pending:
        _apply_one(con, db, migration)
    return pending


def _apply_one(con: duckdb.DuckDBPyConnection, db: Path, migration: Migration) -> None:
    con.execute("begin transaction")
    try:
        con.execute(VERSION_TABLE)
        migration.run(con, db)
        con.execute("insert into ops.schema_version values (?, ?, ?)",
                    [migration.version, migration.path.name, dt.datetime.now(dt.UTC).replace(tzinfo=None)])
        con.execute("commit")
    except BaseException as exc:
        con.execute("rollback")
        if isinstance(exc, WarehouseError) or not isinstance(exc, Exception):
            raise
        raise WarehouseError(f"{db}: the schema migration {migration.path.name} failed and was undone (the "
                             f"warehouse is as it was before it): {first_line(exc)}") from exc


def check_current(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Refuse to read a warehouse an older or newer version of Stadtradar wrote: its tables are not the ones
    this code queries. A file without any Stadtradar table (made by hand, for a test) passes."""
    version = recorded_version(con)
    if version is None:
        if not scalar(con, "select count(*) from duckdb_tables() where database_name = current_database() "
                           "and schema_name = 'raw' and table_name = 'pages'"):
            return
        version = 0
    if version > latest():
        raise WarehouseError(_newer(db, version))
    if version < latest():
        raise WarehouseError(
            f"{db}: the warehouse is at schema version {version}, this Stadtradar needs {latest()}: run "
            f"`stadtradar migrate --db {db}` (or any command that writes to it, such as `run`), which migrates "
            f"it; a published copy is replaced by the next run of the warehouse it copies")


def _newer(db: Path, version: int) -> str:
    return (f"{db}: the warehouse is at schema version {version}, newer than this Stadtradar knows "
            f"({latest()}): use the version of Stadtradar that wrote it")
