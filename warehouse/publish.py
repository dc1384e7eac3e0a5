"""Publishing the warehouse for BI tools: a read-only copy behind `published/<name>`, switched atomically."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from warehouse.db import _settings, attach

# Two copies take turns behind the link `published/<name>`: a BI tool keeps the one it opened, and the next
# publish writes the other. A copy of the whole file grows with the archive (704 MB at 20,000 articles, about
# 3 s). When the copy in turn holds the same build as the warehouse, only what a run changes without a build
# is written into it: the tables of the schemas below whose rows differ. The article texts are not compared
# (the costliest to hash): a change to them always makes a new build. A publish that copies the file (after a
# build) copies it to both, so the first re-run after a build is as cheap as the later ones.
SLOTS = ("a", "b")
REFRESHED_SCHEMAS = ("ops", "raw")
TEXT_TABLES = frozenset({("raw", "articles"), ("raw", "article_versions")})


def publish(path: Path) -> Path:
    """Publish the warehouse `path` (no connection may be open) to `published/<name>` beside it, as a link to
    the copy just written; returns the link. Where links are unsupported, `published/<name>` is the copy."""
    path = Path(path)
    con = duckdb.connect(str(path), config=_settings())
    try:
        con.execute("checkpoint")  # fold the write-ahead log into the file so a copy is complete
    finally:
        con.close()
    link = path.resolve().parent / "published" / path.name
    link.parent.mkdir(parents=True, exist_ok=True)
    current = _current_slot(link)
    spare, other = sorted(_slots(link), key=lambda slot: slot == current)
    copied = not refresh(spare, path)
    if copied:
        _copy(path, spare)
    try:
        _point(link, spare)
    except OSError:  # no symbolic links here: the link's own name gets a whole copy, as before there were two
        _copy(path, link)
        return link
    if copied:  # the other copy follows, so that the runs after a build write only what they change
        _copy(spare, other)
    return link


def _slots(link: Path) -> list[Path]:
    return [link.with_name(f".{link.stem}-{slot}{link.suffix}") for slot in SLOTS]


def _current_slot(link: Path) -> Path | None:
    if not link.is_symlink():
        return None
    target = link.parent / os.readlink(link)
    return target if target in _slots(link) else None


def _copy(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    partial.replace(target)  # a reader of the old file keeps it; the name now opens the new one


def _point(link: Path, target: Path) -> None:
    staged = link.with_name(f".{link.name}.link")
    staged.unlink(missing_ok=True)
    staged.symlink_to(target.name)  # relative: the folder can move
    staged.replace(link)


def refresh(copy: Path, warehouse: Path) -> bool:
    """Bring an earlier published `copy` up to date in place, if it holds the warehouse's current build: the
    tables of REFRESHED_SCHEMAS whose rows differ are replaced, except TEXT_TABLES. False (copy untouched)
    when it cannot: no copy, a reader holds it, another build, or its tables differ from the warehouse's."""
    if not copy.exists():
        return False
    try:
        con = duckdb.connect(str(copy), config=_settings())
    except duckdb.Error:  # held by a reader (or unreadable): a whole copy replaces it
        return False
    try:
        attach(con, warehouse, "live", "read_only")
        if not _same_build(con):
            return False
        tables = _refreshed_tables(con)
        if tables is None:
            return False
        tables = [t for t in tables if _digest(con, "live", t) != _digest(con, _database_name(con), t)]
        if not tables:
            return True
        con.execute("begin transaction")
        try:
            for schema, table in tables:
                con.execute(f'delete from "{schema}"."{table}"')
                con.execute(f'insert into "{schema}"."{table}" by name select * from live."{schema}"."{table}"')
            con.execute("commit")
        except duckdb.Error:
            con.execute("rollback")
            return False
        return True
    except duckdb.Error:
        return False
    finally:
        con.close()


def _same_build(con: duckdb.DuckDBPyConnection) -> bool:
    """The copy and the warehouse (attached as `live`) have the same last build and schema version, and the
    warehouse has changed nothing a build reads since (so their models, marts and texts are equal)."""
    from warehouse.transform import build_fingerprint, up_to_date

    own = _database_name(con)
    last_build = 'select fingerprint from "{db}".ops.builds order by built_at desc, fingerprint limit 1'
    version = 'select max(version) from "{db}".ops.schema_version'
    for query in (last_build, version):
        if con.execute(query.format(db="live")).fetchall() != con.execute(query.format(db=own)).fetchall():
            return False
    con.execute("use live")  # the fingerprint's queries name tables without a database
    try:
        return up_to_date(con, build_fingerprint(con))
    finally:
        con.execute(f'use "{own}"')


def _database_name(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return str(row[0])


def _digest(con: duckdb.DuckDBPyConnection, database: str, table: tuple[str, str]) -> tuple[object, ...]:
    """A table's row count and the sum of its rows' hashes: equal means unchanged, at a fraction of a copy."""
    schema, name = table
    row = con.execute(f'select count(*), sum(hash(t)::hugeint) from "{database}"."{schema}"."{name}" t').fetchone()
    assert row is not None
    return tuple(row)


def _refreshed_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]] | None:
    """The tables to replace, or None when the copy's tables and columns are not the warehouse's."""
    query = """select schema_name, table_name, string_agg(column_name || ' ' || data_type, ', '
                                                          order by column_index)
               from duckdb_columns() where database_name = ? and schema_name in ({schemas})
               group by all order by all""".format(schemas=", ".join(f"'{s}'" for s in REFRESHED_SCHEMAS))
    live, copy = con.execute(query, ["live"]).fetchall(), con.execute(query, [_database_name(con)]).fetchall()
    if live != copy:
        return None
    return [(schema, table) for schema, table, _ in live if (schema, table) not in TEXT_TABLES]
