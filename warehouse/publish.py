"""Publishing the warehouse for BI tools: a read-only copy behind `published/<name>`, switched atomically."""
from __future__ import annotations

import errno
import logging
import os
import shutil
from pathlib import Path

import duckdb

from warehouse.db import _settings, attach, quoted_name

log = logging.getLogger(__name__)

# Two copies take turns behind the link `published/<name>`: a BI tool keeps the one it opened, and the next
# publish writes the other. A copy of the whole file grows with the archive (704 MB at 20,000 articles, about
# 3 s). When the copy in turn holds the same build as the warehouse, only what a run changes without a build
# is written into it: the tables of the schemas below whose rows differ. The article texts are not compared
# (the costliest to hash): a change to them always makes a new build. A publish that copies the file (after a
# build) copies it to both, so the first re-run after a build is as cheap as the later ones.
#
# Writing in place relies on DuckDB's file lock to keep the copy from its readers: a reader holding the copy
# makes the publish copy the file whole instead. Tools that read the file without DuckDB (a backup, a sync
# client) or a file system without working locks (NFS without lockd) need STADTRADAR_PUBLISH_IN_PLACE=false:
# then every publish copies the whole file and only ever renames it into place.
SLOTS = ("a", "b")
REFRESHED_SCHEMAS = ("ops", "raw")
TEXT_TABLES = frozenset({("raw", "articles"), ("raw", "article_versions")})
REFRESH_MEMORY_LIMIT = "32MB"


def publish(path: Path, in_place: bool = True) -> Path:
    """Publish the warehouse `path` (no connection may be open) to `published/<name>` beside it, as a link to
    the copy just written; returns the link. Where links are unsupported, `published/<name>` is the copy.
    `in_place=False` never writes into an earlier copy (see above)."""
    path = Path(path)
    con = duckdb.connect(str(path), config=_settings())
    try:
        con.execute("checkpoint")  # fold the write-ahead log into the file so a copy is complete
    finally:
        con.close()
    link = published_path(path)
    link.parent.mkdir(parents=True, exist_ok=True)
    current = _current_slot(link)
    spare, other = sorted(_slots(link), key=lambda slot: slot == current)
    staged = _staged_link(link, spare)
    if staged is None:  # no symbolic links on this file system: the published name itself is a whole copy
        _copy(path, link)
        return link
    try:
        copied = not (in_place and refresh(spare, path))
        if copied:
            _copy(path, spare)
        staged.replace(link)
    finally:
        staged.unlink(missing_ok=True)
    if copied and in_place:  # the other copy follows, so that the runs after a build write only what they change
        try:
            _copy(spare, other)
        except OSError as exc:  # the published copy is whole; the next publish copies again
            log.warning("%s: not prepared for the next publish: %s", other, exc)
    return link


def published_path(path: Path) -> Path:
    """Where `publish(path)` puts the published copy: `published/<name>` in the warehouse's folder."""
    path = Path(path)
    return path.resolve().parent / "published" / path.name


def _slots(link: Path) -> list[Path]:
    return [link.with_name(f".{link.stem}-{slot}{link.suffix}") for slot in SLOTS]


def _current_slot(link: Path) -> Path | None:
    if not link.is_symlink():
        return None
    target = link.parent / os.readlink(link)
    return target if target in _slots(link) else None


def _staged_link(link: Path, target: Path) -> Path | None:
    """A new symbolic link to `target` beside `link`, to be renamed over it; None where the file system has
    no symbolic links (made first, so such a system never gets the two copies)."""
    staged = link.with_name(f".{link.name}.link")
    staged.unlink(missing_ok=True)
    try:
        staged.symlink_to(target.name)  # relative: the folder can move
    except (NotImplementedError, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, PermissionError) and exc.errno not in _NO_LINKS:
            raise
        return None
    return staged


# errno values of "this file system (or this user, on Windows) cannot make symbolic links".
_NO_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


def _copy(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        shutil.copyfile(source, partial)
        # A write-ahead log left beside the old file (a refresh killed before its checkpoint) would be replayed
        # onto the new one at its next open: it belongs to the file it replaces.
        Path(f"{target}.wal").unlink(missing_ok=True)
        partial.replace(target)  # a reader of the old file keeps it; the name now opens the new one
    finally:
        partial.unlink(missing_ok=True)


def refresh(copy: Path, warehouse: Path) -> bool:
    """Bring an earlier published `copy` up to date in place, if it holds the warehouse's current build: the
    tables of REFRESHED_SCHEMAS whose rows differ are replaced, except TEXT_TABLES. False (copy untouched)
    when it cannot: no copy, a reader holds it, another build, or its tables differ from the warehouse's."""
    if not copy.exists():
        return False
    if Path(f"{copy}.wal").exists():
        return _declined(copy, "it has a write-ahead log of an unfinished write")
    try:
        # A small buffer pool: the hashes stream through the tables once, and DuckDB would otherwise keep up to
        # the warehouse's limit of their blocks cached (+90 MB at 20,000 articles). A refresh that runs out of
        # it fails, and the publish copies the whole file instead.
        con = duckdb.connect(str(copy), config={**_settings(), "memory_limit": REFRESH_MEMORY_LIMIT})
    except duckdb.Error as exc:  # held by a reader (or unreadable): a whole copy replaces it
        return _declined(copy, str(exc).splitlines()[0])
    try:
        attach(con, warehouse, "live", "read_only")
        if not _same_build(con):
            return _declined(copy, "it holds another build")
        tables = _refreshed_tables(con)
        if tables is None:
            return _declined(copy, "its tables differ from the warehouse's")
        own = _database_name(con)
        changed = [(t, columns) for t, columns in tables if _digest(con, "live", t, columns)
                   != _digest(con, own, t, columns)]
        if not changed:
            return True
        con.execute("begin transaction")
        try:
            for (schema, table), _columns in changed:
                con.execute(f'delete from "{schema}"."{table}"')
                con.execute(f'insert into "{schema}"."{table}" by name select * from live."{schema}"."{table}"')
            con.execute("commit")
        except duckdb.Error as exc:
            con.execute("rollback")
            return _declined(copy, str(exc).splitlines()[0])
        return True
    except duckdb.Error as exc:
        return _declined(copy, str(exc).splitlines()[0])
    finally:
        con.close()


def _declined(copy: Path, why: str) -> bool:
    log.info("%s: copied whole, not written in place: %s", copy, why)
    return False


def _same_build(con: duckdb.DuckDBPyConnection) -> bool:
    """The copy and the warehouse (attached as `live`) have the same last build (its time and fingerprint: a
    rebuild of unchanged data is another build) and schema version, and the warehouse has changed nothing a
    build reads since (so their models, marts and texts are equal)."""
    from warehouse.transform import build_fingerprint, up_to_date

    own = _database_name(con)
    last_build = 'select built_at, fingerprint from "{db}".ops.builds order by built_at desc, fingerprint limit 1'
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


def _digest(con: duckdb.DuckDBPyConnection, database: str, table: tuple[str, str], columns: list[str]
            ) -> tuple[object, ...]:
    """A table's row count and the sum of its rows' hashes: equal means unchanged, at a fraction of a copy."""
    schema, name = table
    row_value = "row(" + ", ".join(quoted_name(c) for c in columns) + ")"
    row = con.execute(f"select count(*), sum(hash({row_value})::hugeint) "
                      f"from {quoted_name(database)}.{quoted_name(schema)}.{quoted_name(name)}").fetchone()
    assert row is not None
    return tuple(row)


def _refreshed_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[tuple[str, str], list[str]]] | None:
    """The base tables to compare and replace, with their columns, or None when the copy's tables and columns
    are not the warehouse's."""
    query = """select c.schema_name, c.table_name, list(c.column_name order by c.column_index),
                      list(c.data_type order by c.column_index)
               from duckdb_columns() c
               join duckdb_tables() t using (database_name, schema_name, table_name)
               where c.database_name = ? and c.schema_name in ({schemas})
               group by all order by all""".format(schemas=", ".join(f"'{s}'" for s in REFRESHED_SCHEMAS))
    live, copy = con.execute(query, ["live"]).fetchall(), con.execute(query, [_database_name(con)]).fetchall()
    if live != copy:
        return None
    return [((schema, table), columns) for schema, table, columns, _types in live if (schema, table) not in TEXT_TABLES]
