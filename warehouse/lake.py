"""The DuckLake backend: attaching a lake (a PostgreSQL catalog and a data path), pushing a worker's spool into
it with retried concurrent commits, and a DuckDB snapshot of its marts for BI tools.

A worker does not write the lake row by row. It ingests into its own embedded DuckDB file, its *spool*
(`<spool folder>/shard-K-of-N.duckdb`), with the same loads, keys and idempotency as the embedded backend,
then pushes: one lake transaction per push makes the lake's rows of the worker's sources equal to the spool's.
Shards are cut by host (scrapers.shards), so every row has exactly one writer, and two workers' pushes touch
disjoint rows; DuckLake still refuses a commit that raced another one on the same table, and a refused push is
rolled back and tried again from the start.

A push compares rows by a hash of the whole row, inside the rows its shard owns (PUSH_RULES): the rows the
spool lacks are deleted from the lake, the rows the lake lacks are inserted. So it is idempotent (a second push
of the same spool changes nothing), carries deletions (mentions an article no longer has), and a killed push
leaves the lake as it was before it.
"""
from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from warehouse.db import WarehouseError, first_line, load_extension, quoted_name

log = logging.getLogger(__name__)

LAKE = "lake"  # the catalog's alias in every connection, in the dbt profile, and in the marts' views
SPOOL = "spool"
PUSH_ATTEMPTS = 8
PUSH_BACKOFF = 0.5  # seconds before the second attempt; doubled per attempt, with jitter
PUSH_BACKOFF_CAP = 8.0
SNAPSHOT_SCHEMAS = ("marts", "reference")

# Which rows of each pushed table belong to the pushing shard. Every table a spool has must be listed: a new
# table without a rule is refused (a silent skip would lose it from the lake).
#   source   rows of the shard's sources (the table has source_id)
#   article  rows of the articles of the shard's sources (spool or lake)
#   page     rows of the page URLs of the shard's sources (spool or lake)
#   spool    rows whose key is in the spool: shared or append-only rows, never deleted from the lake
#   local    not pushed: the spool's own bookkeeping
PUSH_RULES: dict[tuple[str, str], tuple[str, str]] = {
    ("raw", "sources"): ("source", ""),
    ("raw", "articles"): ("source", ""),
    ("raw", "pages"): ("source", ""),
    ("ops", "http_state"): ("source", ""),
    ("ops", "fetch_errors"): ("source", ""),
    ("ops", "source_runs"): ("source", ""),
    ("ops", "source_checks"): ("source", ""),
    ("raw", "article_versions"): ("article", ""),
    ("raw", "mentions"): ("article", ""),
    ("raw", "participations"): ("article", ""),
    ("raw", "events"): ("article", ""),
    ("ops", "article_index"): ("article", ""),
    ("ops", "extracted_pages"): ("page", ""),
    ("ops", "runs"): ("spool", "run_id"),
    ("raw", "cities"): ("spool", "city_id"),
    ("ops", "builds"): ("local", ""),
    ("ops", "schema_version"): ("local", ""),
}
PUSHED_SCHEMAS = ("raw", "ops")
# Which shared rows a pull copies (beyond those the spool lacks): the runs of the pulled sources only, so that a
# spool never owns, and later pushes back, a stale copy of a run another shard still updates.
PULL_SCOPE = {("ops", "runs"): f" and t.run_id in (select run_id from {LAKE}.ops.source_runs "
                               "where source_id in (from shard_sources))"}


class LakeConflict(WarehouseError):
    """A push was refused by concurrent commits PUSH_ATTEMPTS times in a row."""


@dataclass(frozen=True)
class LakeConfig:
    """Where the lake is: `catalog` is DuckLake's metadata database after `ducklake:` (for PostgreSQL a libpq
    string such as "postgres:dbname=stadtradar host=db.example user=stadtradar"), `data_path` the folder or
    S3-compatible prefix of its Parquet files (needed only when the lake is created)."""

    catalog: str
    data_path: str | None = None

    def attach_sql(self, read_only: bool = False) -> str:
        options = [f"data_path {_literal(self.data_path)}"] if self.data_path and not read_only else []
        if read_only:
            options.append("read_only")
        suffix = f" ({', '.join(options)})" if options else ""
        return f"attach {_literal('ducklake:' + self.catalog)} as {LAKE}{suffix}"

    @property
    def display(self) -> str:
        """The catalog without its password, for messages."""
        return hide_password(self.catalog)

    @property
    def extensions(self) -> tuple[str, ...]:
        """The DuckDB extensions attaching it needs: the postgres one only for a PostgreSQL catalog."""
        return ("ducklake", "postgres") if self.catalog.lower().startswith("postgres") else ("ducklake",)


# A libpq keyword (quoted or not) or a URI password; DuckDB's errors repeat the whole connection string.
_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s'\"]+)", re.IGNORECASE)
_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s\"]*:)[^@\s\"]+@", re.IGNORECASE)


def hide_password(text: str) -> str:
    """text with any catalog password in it replaced by ***, for messages and logs."""
    return _URI_PASSWORD.sub(r"\1***@", _PASSWORD.sub(r"\1***", text))


def _error(exc: BaseException) -> str:
    """An error's first line, without passwords."""
    return hide_password(first_line(exc))


def lake_config(catalog: str | None, data_path: str | None) -> LakeConfig:
    """The lake named by the settings (STADTRADAR_LAKE_CATALOG, STADTRADAR_LAKE_DATA); a clear error when unset."""
    if not catalog or not catalog.strip():
        raise WarehouseError("the ducklake backend needs STADTRADAR_LAKE_CATALOG, e.g. "
                             "'postgres:dbname=stadtradar host=127.0.0.1 user=stadtradar'")
    if data_path is not None and not data_path.strip():
        data_path = None
    if data_path and "://" not in data_path:
        folder = Path(data_path).expanduser().absolute()
        folder.mkdir(parents=True, exist_ok=True)
        data_path = str(folder) + os.sep
    return LakeConfig(catalog.strip(), data_path)


def install_lake_extensions() -> None:
    """Make ducklake and postgres loadable in every process, such as dbt's, which loads them by ATTACH."""
    with duckdb.connect() as con:
        for name in ("ducklake", "postgres"):  # both, whatever the catalog: dbt's process may need either
            load_extension(con, name)


def connect_lake(config: LakeConfig, read_only: bool = False, memory_limit: str = "256MB"
                 ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake attached as `lake` (and made the default catalog). The first
    attach creates the lake; two workers racing to create it collide in PostgreSQL, and the loser attaches
    again to the lake the other created."""
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        con = duckdb.connect(config={"memory_limit": memory_limit})
        try:
            for name in config.extensions:
                load_extension(con, name)
            con.execute(config.attach_sql(read_only))
            con.execute(f"use {LAKE}")
            return con
        except duckdb.Error as exc:
            con.close()
            racing = "initialize" in str(exc) and ("duplicate key" in str(exc) or "already exists" in str(exc))
            if not racing or attempt == PUSH_ATTEMPTS:
                raise WarehouseError(f"cannot attach the lake {config.display}: {_error(exc)}") from None
            time.sleep(PUSH_BACKOFF * random.uniform(0.5, 1.5))
        except BaseException:
            con.close()
            raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


# ---------------------------------------------------------------------------------------------- push
@dataclass
class PushOutcome:
    """What one push changed in the lake, per table: (rows inserted, rows deleted)."""

    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    attempts: int = 1
    seconds: float = 0.0

    @property
    def inserted(self) -> int:
        return sum(i for i, _ in self.tables.values())

    @property
    def deleted(self) -> int:
        return sum(d for _, d in self.tables.values())


def push(spool: Path, config: LakeConfig, source_ids: Sequence[str], attempts: int = PUSH_ATTEMPTS,
         memory_limit: str = "256MB") -> PushOutcome:
    """Make the lake's rows of `source_ids` equal to the spool's, in one transaction, retried on conflict."""
    spool = Path(spool)
    if not spool.exists():
        raise WarehouseError(f"{spool}: no such spool to push")
    started = time.monotonic()
    spool_id = spool_identity(spool)
    con = connect_lake(config, memory_limit=memory_limit)
    try:
        try:
            con.execute(f"attach {_literal(str(spool))} as {SPOOL} (read_only)")
        except duckdb.Error as exc:
            raise WarehouseError(f"{spool}: cannot read the spool: {_error(exc)}") from None
        tables = _spool_tables(con)
        for attempt in range(1, attempts + 1):
            try:
                con.execute("begin transaction")
                _initialise(con)
                outcome = PushOutcome(_push_once(con, tables, list(source_ids)), attempt)
                con.execute(f"delete from {LAKE}.ops.lake_sources where source_id in (from shard_sources)")
                con.execute(f"insert into {LAKE}.ops.lake_sources select source_id, ?, now() from shard_sources",
                            [spool_id])
                con.execute(f"insert into {LAKE}.ops.lake_pushes values (now(), ?, ?, ?, ?, ?)",
                            [spool.name, len(source_ids), outcome.inserted, outcome.deleted, attempt])
                con.execute("commit")
            except duckdb.Error as exc:
                _rollback(con)
                if not _is_conflict(exc) or attempt == attempts:
                    if _is_conflict(exc):
                        raise LakeConflict(f"push of {spool.name} to {config.display} refused by concurrent "
                                           f"commits {attempts} times: {_error(exc)}") from None
                    raise WarehouseError(f"push of {spool.name} to {config.display} failed: "
                                         f"{_error(exc)}") from None
                wait = min(PUSH_BACKOFF_CAP, PUSH_BACKOFF * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)
                log.info("push of %s: conflict with a concurrent commit (%s); attempt %d in %.1f s",
                         spool.name, _error(exc), attempt + 1, wait)
                time.sleep(wait)
                continue
            outcome.seconds = time.monotonic() - started
            return outcome
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
    finally:
        con.close()


def _push_once(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str, list[str], list[str]]],
               source_ids: list[str]) -> dict[str, tuple[int, int]]:
    # Every push first updates the one row of ops.lake_push_turn: DuckLake refuses the later of two concurrent
    # commits that changed the same table's rows, so concurrent pushes cannot both commit, and the one that
    # lost starts again on top of the other's rows. Rows two shards share (raw.cities) then never land twice.
    con.execute(f"update {LAKE}.ops.lake_push_turn set turns = turns + 1")
    for schema, table, columns, types in tables:
        _ensure_table(con, schema, table, columns, types)
    # Owned articles and pages as they are before this push changes raw.articles and raw.pages.
    _mark_owned(con, source_ids)
    changed = {}
    for schema, table, columns, _types in tables:
        rule, key = PUSH_RULES[(schema, table)]
        if rule == "local":
            continue
        changed[f"{schema}.{table}"] = _sync(con, schema, table, columns, _owned(rule, key, schema, table))
    return changed


def _initialise(con: duckdb.DuckDBPyConnection) -> None:
    """The lake's schemas and its push bookkeeping: the turn row every push updates, and a ledger of pushes.
    Run in each push's transaction, so two first pushes racing to create them conflict and one retries."""
    for schema in PUSHED_SCHEMAS:
        con.execute(f"create schema if not exists {LAKE}.{schema}")
    con.execute(f"create table if not exists {LAKE}.ops.lake_push_turn (turns bigint)")
    con.execute(f"insert into {LAKE}.ops.lake_push_turn select 0 where not exists (from {LAKE}.ops.lake_push_turn)")
    con.execute(f"""create table if not exists {LAKE}.ops.lake_pushes (pushed_at timestamptz, spool varchar,
        sources integer, rows_inserted bigint, rows_deleted bigint, attempts integer)""")
    # Which spool pushed each source last: a spool that finds another one's id here is behind (pull).
    con.execute(f"create table if not exists {LAKE}.ops.lake_sources (source_id varchar, spool_id varchar, "
                "pushed_at timestamptz)")


def _mark_owned(con: duckdb.DuckDBPyConnection, source_ids: Sequence[str]) -> None:
    """The temp tables _owned reads: the sources, and their articles and page URLs in the spool or the lake."""
    con.execute("create or replace temp table shard_sources as select unnest(?::varchar[]) as source_id",
                [list(source_ids)])
    con.execute(f"""create or replace temp table shard_articles as
        select article_id from {SPOOL}.raw.articles where source_id in (from shard_sources)
        union select article_id from {LAKE}.raw.articles where source_id in (from shard_sources)""")
    con.execute(f"""create or replace temp table shard_pages as
        select url from {SPOOL}.ops.http_state where source_id in (from shard_sources)
        union select url from {LAKE}.ops.http_state where source_id in (from shard_sources)
        union select url from {SPOOL}.raw.pages where source_id in (from shard_sources)
        union select url from {LAKE}.raw.pages where source_id in (from shard_sources)""")


def _owned(rule: str, key: str, schema: str, table: str) -> str:
    """The condition on a row (alias t) of either side that says the pushing shard owns it."""
    if rule == "source":
        return "t.source_id in (from shard_sources)"
    if rule == "article":
        return "t.article_id in (from shard_articles)"
    if rule == "page":
        return "t.url in (from shard_pages)"
    return f"t.{quoted_name(key)} in (select {quoted_name(key)} from {SPOOL}.{schema}.{table})"


def _sync(con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str], owned: str
          ) -> tuple[int, int]:
    """Delete the owned lake rows the spool lacks, insert the owned spool rows the lake lacks; (ins, del)."""
    names = ", ".join(quoted_name(c) for c in columns)
    row_hash = f"md5(row({', '.join('t.' + quoted_name(c) for c in columns)})::varchar)"
    lake_table, spool_table = f"{LAKE}.{schema}.{table}", f"{SPOOL}.{schema}.{table}"
    con.execute(f"create or replace temp table lake_rows as select {row_hash} as h from {lake_table} t "
                f"where {owned}")
    con.execute(f"create or replace temp table spool_rows as select {row_hash} as h from {spool_table} t "
                f"where {owned}")
    con.execute("create or replace temp table gone as (from lake_rows except from spool_rows)")
    con.execute("create or replace temp table new as (from spool_rows except from lake_rows)")
    gone, new = _count(con, "gone"), _count(con, "new")
    if gone:
        con.execute(f"delete from {lake_table} t where {owned} and {row_hash} in (from gone)")
    if new:
        con.execute(f"insert into {lake_table} ({names}) select {names} from {spool_table} t "
                    f"where {owned} and {row_hash} in (from new)")
    return new, gone


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"select count(*) from {table}").fetchone()
    return int(row[0]) if row else 0


def _spool_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, list[str], list[str]]]:
    """(schema, table, columns, types) of every table of the spool's pushed schemas; a table without a
    PUSH_RULES entry is an error."""
    rows = con.execute(
        "select schema_name, table_name, list(column_name order by column_index), "
        "list(data_type order by column_index) from duckdb_columns() "
        f"where database_name = '{SPOOL}' and schema_name not in ('information_schema', 'pg_catalog') "
        "and not internal group by all order by all").fetchall()
    unknown = [f"{s}.{t}" for s, t, _, _ in rows if (s, t) not in PUSH_RULES]
    if unknown:
        raise WarehouseError(f"the spool has tables without a push rule (warehouse/lake.py, PUSH_RULES): "
                             f"{', '.join(unknown)}")
    return [(s, t, list(c), list(ty)) for s, t, c, ty in rows]


def _ensure_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str],
                  types: list[str]) -> None:
    """Create the lake table like the spool's (DuckLake has no keys or constraints), or add columns a newer
    schema version gave the spool."""
    if PUSH_RULES[(schema, table)][0] == "local":
        return
    con.execute(f"create table if not exists {LAKE}.{schema}.{table} as from {SPOOL}.{schema}.{table} limit 0")
    present = {r[0] for r in con.execute(
        f"select column_name from duckdb_columns() where database_name = '{LAKE}' and schema_name = ? "
        "and table_name = ?", [schema, table]).fetchall()}
    for column, data_type in zip(columns, types, strict=True):
        if column not in present:
            con.execute(f"alter table {LAKE}.{schema}.{table} add column {quoted_name(column)} {data_type}")


def _is_conflict(exc: duckdb.Error) -> bool:
    """A commit refused because another transaction committed first: retrying the push can succeed. (DuckDB
    raises TransactionException for any failed commit, a lost connection too: the message tells them apart.)"""
    message = str(exc).lower()
    return "conflict" in message or "could not serialize" in message or "deadlock" in message


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # no transaction open any more: a failed commit has ended it
        con.execute("rollback")


# ---------------------------------------------------------------------------------------------- pull
def spool_identity(spool: Path) -> str:
    """The spool's identity, kept beside it (`<spool>.id`): two machines' spools of the same name are two
    spools. A lost identity makes a new one, which only costs a pull."""
    marker = Path(str(spool) + ".id")
    try:
        return marker.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        identity = uuid.uuid4().hex
        marker.write_text(identity + "\n", encoding="utf-8")
        return identity


def pull(spool: Path, config: LakeConfig, source_ids: Sequence[str]) -> dict[str, int]:
    """Bring the spool up to the lake for those of `source_ids` it is behind on: the ones it holds nothing of
    (a new machine, a lost file, another number of shards), and the ones another spool pushed last (a run with
    another number of shards, a source that moved). Their rows in the spool are replaced by the lake's; returns
    the rows copied per table.

    A push makes the lake's rows of a source equal to its spool's, so a push from a spool that is behind would
    delete what the other spool added (articles no longer listed on the sites, their versions and runs);
    pulled first, the spool starts where the lake stands, its known pages and validators included. The spool
    (an embedded warehouse file, created and migrated when missing) must not be open elsewhere, and no other
    run may push these sources meanwhile: the caller holds the spool's writer lock and the sources' hosts."""
    from warehouse.db import connect

    spool = Path(spool)
    spool_id = spool_identity(spool)
    with connect(spool) as local:
        held = {r[0] for r in local.execute("select distinct source_id from raw.sources").fetchall()}
    con = connect_lake(config)  # not read-only: a lake that does not exist yet is created, as the push would
    try:
        in_lake = _lake_tables(con)
        if ("raw", "sources") not in in_lake:
            return {}  # a new lake: nothing to seed from
        owners = dict(con.execute(f"select source_id, spool_id from {LAKE}.ops.lake_sources").fetchall()) \
            if ("ops", "lake_sources") in in_lake else {}
        behind = [s for s in source_ids if s not in held or owners.get(s, spool_id) != spool_id]
        if not behind:
            return {}
        try:
            con.execute(f"attach {_literal(str(spool))} as {SPOOL}")
        except duckdb.Error as exc:
            raise WarehouseError(f"{spool}: cannot open the spool to seed it: {_error(exc)}") from None
        _mark_owned(con, behind)  # their rows on either side: the spool's are replaced, the lake's copied
        copied = {}
        con.execute("begin transaction")
        try:
            tables = [t for t in _spool_tables(con) if PUSH_RULES[(t[0], t[1])][0] != "local"]
            for schema, table, _columns, _types in tables:
                rule, key = PUSH_RULES[(schema, table)]
                if rule != "spool":  # shared rows (runs, cities) stay: they are the same on both sides
                    con.execute(f"delete from {SPOOL}.{schema}.{table} t where {_owned(rule, key, schema, table)}")
            for schema, table, columns, _types in tables:
                if (schema, table) not in in_lake:
                    continue
                rule, key = PUSH_RULES[(schema, table)]
                shared = [c for c in columns if c in in_lake[(schema, table)]]
                names = ", ".join(quoted_name(c) for c in shared)
                if rule == "spool":  # shared rows the pulled ones name, unless the spool has them already
                    owned = f"t.{quoted_name(key)} not in (select {quoted_name(key)} from {SPOOL}.{schema}.{table})"
                    owned += PULL_SCOPE.get((schema, table), "")
                else:
                    owned = _owned(rule, key, schema, table)
                before = _count(con, f"{SPOOL}.{schema}.{table}")
                verb = "insert or ignore" if _keyed(con, schema, table) else "insert"
                con.execute(f"{verb} into {SPOOL}.{schema}.{table} ({names}) "
                            f"select {names} from {LAKE}.{schema}.{table} t where {owned}")
                copied[f"{schema}.{table}"] = _count(con, f"{SPOOL}.{schema}.{table}") - before
            con.execute("commit")
        except duckdb.Error as exc:
            _rollback(con)
            raise WarehouseError(f"seeding {spool.name} from {config.display} failed: {_error(exc)}") from None
        return copied
    finally:
        con.close()


def _keyed(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether the spool's table has a primary key (a row the spool holds already is then left as it is)."""
    return bool(_count(con, f"duckdb_constraints() where database_name = '{SPOOL}' and schema_name = "
                            f"'{schema}' and table_name = '{table}' and constraint_type = 'PRIMARY KEY'"))


def _lake_tables(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    rows = con.execute(f"select schema_name, table_name, list(column_name) from duckdb_columns() "
                       f"where database_name = '{LAKE}' group by all").fetchall()
    return {(s, t): set(c) for s, t, c in rows}


# ---------------------------------------------------------------------------------------------- upkeep
def maintain(config: LakeConfig, keep_days: int = 7) -> int:
    """Compact the lake after a build: every push writes small Parquet files of its own, so merge adjacent ones,
    expire the snapshots older than `keep_days` (the lake's time travel reaches that far back) and delete the
    files no remaining snapshot reads. Returns the number of files merged. A maintenance step that collides
    with a push fails (and the push retries); the next build tries again."""
    con = connect_lake(config)
    try:
        merged = con.execute(f"call ducklake_merge_adjacent_files('{LAKE}')").fetchall()
        horizon = f"now() - interval '{int(keep_days)} days'"
        con.execute(f"call ducklake_expire_snapshots('{LAKE}', older_than => {horizon})")
        con.execute(f"call ducklake_cleanup_old_files('{LAKE}', older_than => {horizon})")
        return sum(int(row[2]) for row in merged if len(row) > 2 and row[2] is not None)
    except duckdb.Error as exc:
        raise WarehouseError(f"maintenance of the lake {config.display} failed: {_error(exc)}") from None
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------- BI snapshot
def snapshot(config: LakeConfig, out: Path, schemas: Iterable[str] = SNAPSHOT_SCHEMAS) -> Path:
    """Copy the lake's marts (and reference seeds) into the DuckDB file `out` for BI tools: written beside it
    and renamed into place, so a reader never sees half a file. Views become tables: a view in the lake
    names the catalog `lake`, which a tool opening the file does not have."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    con = connect_lake(config, read_only=True)
    try:
        con.execute(f"attach {_literal(str(scratch))} as snap")
        relations = con.execute(
            f"select schema_name, table_name from duckdb_tables() where database_name = '{LAKE}' "
            "and schema_name in (select unnest(?)) union all "
            f"select schema_name, view_name from duckdb_views() where database_name = '{LAKE}' "
            "and schema_name in (select unnest(?)) order by all", [list(schemas), list(schemas)]).fetchall()
        if not relations:
            raise WarehouseError(f"the lake {config.display} has no marts yet: run `stadtradar build` first")
        # One transaction: every relation is read from the same lake snapshot, whatever pushes commit meanwhile.
        con.execute("begin transaction")
        for schema in {s for s, _ in relations}:
            con.execute(f"create schema snap.{schema}")
        for schema, name in relations:
            con.execute(f"create table snap.{schema}.{quoted_name(name)} as "
                        f"from {LAKE}.{schema}.{quoted_name(name)}")
        con.execute("commit")
        con.execute("detach snap")
    except duckdb.Error as exc:
        scratch.unlink(missing_ok=True)
        raise WarehouseError(f"cannot write the snapshot {out}: {_error(exc)}") from None
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    scratch.replace(out)
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
