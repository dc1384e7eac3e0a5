"""The DuckLake backend: pushing spools into a lake, shard isolation, the BI snapshot, its settings and commands."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from scrapers.config import PROJECT_ROOT, Settings
from warehouse import lake as lake_module
from warehouse.db import WarehouseError, connect
from warehouse.lake import (
    PUSH_RULES,
    LakeConfig,
    LakeConflict,
    connect_lake,
    lake_config,
    maintain,
    pull,
    push,
    snapshot,
)

# The lake's tests run in `make test-lake` (with the workers test; .ci/run runs both): each attach of a lake loads
# DuckDB's ducklake extension anew, and together they would push `make test` past its five minutes.
pytestmark = pytest.mark.lake

TS = datetime(2025, 3, 1, 12, 0)
KONSTANZ = ("2885679", "Konstanz", "DE", "01", 47.66, 9.17, 84000)  # the city every spool shares
OWN_CITY = {"a": ("2820256", "Ulm"), "b": ("2825297", "Stuttgart"), "c": ("2867714", "München")}
# How a test finds a source's rows in each pushed table, by the names fill_spool gives them.
OWNED_BY = {
    "source": "source_id = $s",
    "article": "article_id like $s || '-%'",
    "page": "url like 'https://' || $s || '.example/%'",
}
SHARD_TABLES = sorted(f"{s}.{t}" for (s, t), (rule, _) in PUSH_RULES.items() if rule in OWNED_BY)
PUSHED_TABLES = sorted(f"{s}.{t}" for (s, t), (rule, _) in PUSH_RULES.items() if rule != "local")


# ---------------------------------------------------------------------------------------------- helpers
def fill_spool(spool: Path, source: str, articles: int = 2) -> Path:
    """A freshly migrated spool (or the one at `spool`) with a source's rows in every table a push takes: its
    listing and article pages, articles with versions, mentions, participations and events, a run, a fetch
    error, a source check, and two cities (Konstanz, which all sources mention, and one of its own)."""
    con = connect(spool)
    try:
        run = f"run-{source}"
        base = f"https://{source}.example/news/"
        own_id, own_name = OWN_CITY[source]
        con.execute("insert into raw.sources values (?, ?, 'municipal', ?, 'CC-BY-4.0', null, 1, ?)",
                    [source, f"Source {source}", own_name, TS])
        con.execute("insert into ops.runs values (?, 'ingest', ?, ?, 'ok', 1, 0, ?, ?, 0, 0, 1)",
                    [run, TS, TS, articles + 1, articles])
        con.execute("insert into ops.source_runs values (?, ?, ?, ?, 0, ?, ?, 0, 0, 1, false, 1.0, 1.0, 1.0, "
                    "1.0, true, null, ?, 0, 0.5, 0.1, 0.2, 0.3)", [run, source, articles, articles + 1, articles,
                                                                  articles, TS])
        con.execute("insert into ops.fetch_errors values (?, ?, 503, 'server error', 3, ?, ?)",
                    [base + "broken", source, run, TS])
        con.execute("insert into ops.source_checks values (?, ?, 'ok', ['fine'], [], ?)",
                    [TS, source, json.dumps({"robots": "allowed", "entry_points": [base]})])
        con.executemany("insert into raw.cities values (?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
                        [list(KONSTANZ), [own_id, own_name, "DE", "08", 48.4, 10.0, 120000]])
        pages = [(base, "listing")] + [(f"{base}{n}", "article") for n in range(1, articles + 1)]
        for url, kind in pages:
            page_hash = f"page-{url}"
            con.execute("insert into raw.pages values (?, ?, ?, ?, ?, 200, 'text/html', null, null, 1200, ?, ?, ?, "
                        "?, 0, 1200)", [url, page_hash, source, url, url, kind, TS, run, f"{source}/{run}.warc.gz"])
            con.execute("insert into ops.http_state values (?, ?, ?, '\"etag\"', null, ?, 200, ?, ?)",
                        [url, source, kind, page_hash, TS, run])
            con.execute("insert into ops.extracted_pages values (?, ?, ?, false)", [url, page_hash, TS])
        for n in range(1, articles + 1):
            article, url = f"{source}-{n}", f"{base}{n}"
            title, body = f"Smart City {source} {n}", f"Konstanz und {own_name}: Modellprojekte Smart Cities."
            con.execute("insert into raw.articles values (?, ?, ?, ?, 'Teaser', ?, ?, null, 'Redaktion', 'de', true, "
                        "0.75, ['smart city', 'digital'], ?, ?, 18446744073709551615, ?, ?, ?, 'v1', ?, ?)",
                        [article, source, url, title, body, date(2025, 3, n), f"content-{article}",
                         json.dumps({"Ort": "Rathaus", "Preis": "frei"}), url, f"page-{url}", run, TS, run])
            con.execute("insert into raw.article_versions values (?, ?, ?, ?, 'Teaser', ?, ?, null, ?, ?, ?, 'v1')",
                        [article, f"content-{article}", url, title, body, date(2025, 3, n), f"page-{url}", TS, run])
            con.execute("insert into ops.article_index values (?, ?, ?)", [article, f"content-{article}", TS])
            con.executemany("insert into raw.mentions values (?, ?, ?, ?, ?, ?)", [
                [article, "city", KONSTANZ[0], "Konstanz", 0, 2],
                [article, "city", own_id, own_name, 13, 1],
                [article, "programme", "mps", "Modellprojekte Smart Cities", 25, 1]])
            con.execute("insert into raw.participations values (?, ?, 'mps', 'modellprojekt', 'Konstanz ist dabei.')",
                        [article, KONSTANZ[0]])
            con.execute("insert into raw.events values (?, 0, 'Smart-City-Forum', ?, null, '10:00', null, ?, false, "
                        "'Rathaus', null, 'forum', null, 'mps', 'Am 3. April lädt die Stadt zum Forum.')",
                        [article, date(2025, 4, n), KONSTANZ[0]])
    finally:
        con.close()
    return spool


def on_spool(spool: Path, *statements: str) -> None:
    """Run SQL statements on a spool, as a later ingest run would change it."""
    con = connect(spool)
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


@contextlib.contextmanager
def looking(config: LakeConfig, spool: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the lake attached read-only (as `lake`, the default catalog) and the spool as `spool`;
    one per check, as each attach of the lake loads its extensions anew (a few tenths of a second)."""
    con = connect_lake(config, read_only=True)
    try:
        if spool is not None:
            con.execute(f"attach '{spool}' as spool (read_only)")
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def differences(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, tuple[int, int]]:
    """Per table, the source's rows only the lake has and only the spool has (as multisets); empty when equal."""
    found = {}
    for table in SHARD_TABLES:
        schema, name = table.split(".")
        columns = ", ".join(f'"{c}"' for (c,) in con.execute(
            "select column_name from duckdb_columns() where database_name = 'spool' and schema_name = ? "
            "and table_name = ? order by column_index", [schema, name]).fetchall())
        owned = OWNED_BY[PUSH_RULES[(schema, name)][0]]
        lake_only, spool_only = (con.execute(
            f"select count(*) from (select {columns} from {one}.{table} where {owned} "
            f"except all select {columns} from {other}.{table} where {owned})", {"s": source}).fetchone()[0]
            for one, other in (("lake", "spool"), ("spool", "lake")))
        if lake_only or spool_only:
            found[table] = (lake_only, spool_only)
    return found


def lake_rows_of(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[str, str]]:
    """A hash of every row of the source in the lake's shard tables, sorted: equal lists mean untouched rows."""
    found = []
    for table in SHARD_TABLES:
        schema, name = table.split(".")
        owned = OWNED_BY[PUSH_RULES[(schema, name)][0]]
        found += con.execute(f"select '{table}', md5(t::varchar) from lake.{table} t where {owned}",
                             {"s": source}).fetchall()
    return sorted(found)


def counts(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    """Rows per pushed table of the lake or of the spool."""
    return {t: con.execute(f"select count(*) from {catalog}.{t}").fetchone()[0] for t in PUSHED_TABLES}


def spool_counts(spool: Path) -> dict[str, int]:
    with duckdb.connect() as con:
        con.execute(f"attach '{spool}' as spool (read_only)")
        return counts(con, "spool")


SNAPSHOT_ID = "select max(snapshot_id) from lake.snapshots()"


@pytest.fixture
def lake(tmp_path) -> LakeConfig:
    """A DuckLake whose catalog is a DuckDB file (one process at a time) and whose data is a local folder."""
    return lake_config(str(tmp_path / "meta.ducklake"), str(tmp_path / "data"))


# ---------------------------------------------------------------------------------------------- push
def test_a_new_spool_is_seeded_from_the_lake_so_its_push_loses_nothing(tmp_path, lake):
    old = fill_spool(fill_spool(tmp_path / "shard-1-of-1.duckdb", "a", articles=3), "b")
    push(old, lake, ["a", "b"])
    with looking(lake) as con:
        before = lake_rows_of(con, "a"), lake_rows_of(con, "b")
    # Three shards now (or the old file lost): the new spool of a's shard starts empty.
    new = tmp_path / "shard-2-of-3.duckdb"
    pulled = pull(new, lake, ["a"])
    assert pulled["raw.articles"] == 3 and pulled["raw.mentions"] == 9 and pulled["ops.http_state"] == 4
    outcome = push(new, lake, ["a"])
    assert (outcome.inserted, outcome.deleted) == (0, 0)
    assert pull(new, lake, ["a"]) == {}  # the spool pushed a last: it is not behind on it
    with looking(lake, new) as con:
        assert (lake_rows_of(con, "a"), lake_rows_of(con, "b")) == before
        assert differences(con, "a") == {}
        # The runs pulled are those of the pulled source, not every run of the lake.
        assert rows(con, "select run_id from spool.ops.runs") == [("run-a",)]


def test_a_spool_another_spool_pushed_after_is_brought_up_to_the_lake_before_it_pushes(tmp_path, lake):
    # `stadtradar run` (shard 1/1) once, then a three-shard run took source a over and found a new article.
    single = fill_spool(tmp_path / "shard-1-of-1.duckdb", "a", articles=2)
    push(single, lake, ["a"])
    sharded = tmp_path / "shard-2-of-3.duckdb"
    pull(sharded, lake, ["a"])
    fill_spool(tmp_path / "later.duckdb", "a", articles=3)  # the third article, as the sharded run found it
    on_spool(sharded, f"attach '{tmp_path / 'later.duckdb'}' as later (read_only)",
             "insert into raw.articles from later.raw.articles where article_id = 'a-3'",
             "insert into raw.mentions from later.raw.mentions where article_id = 'a-3'")
    push(sharded, lake, ["a"])
    with looking(lake, sharded) as con:
        after_sharded = lake_rows_of(con, "a")
    # The single spool is behind: pulled, it holds the third article, and its push deletes nothing.
    assert pull(single, lake, ["a"])["raw.articles"] == 3
    outcome = push(single, lake, ["a"])
    assert outcome.deleted == 0
    assert pull(single, lake, ["a"]) == {}  # it pushed a last: up to date
    with looking(lake, single) as con:
        assert lake_rows_of(con, "a") == after_sharded
        assert differences(con, "a") == {}


def test_a_pull_into_a_new_lake_copies_nothing(tmp_path, lake):
    assert pull(tmp_path / "shard-1-of-1.duckdb", lake, ["a"]) == {}


def test_upkeep_merges_the_small_files_of_many_pushes_and_keeps_every_row(tmp_path, lake):
    # Each push of enough rows writes Parquet files of its own (a few rows stay inlined in the catalog).
    spools = {s: fill_spool(tmp_path / f"shard-{i}-of-2.duckdb", s, articles=12) for i, s in enumerate("ab", 1)}
    for source, spool in spools.items():
        push(spool, lake, [source])
    assert maintain(lake, keep_days=0) > 0
    for source, spool in spools.items():
        with looking(lake, spool) as con:
            assert differences(con, source) == {}
        assert push(spool, lake, [source]).inserted == 0


def test_a_push_lands_every_row_and_a_second_push_changes_nothing(tmp_path, lake):
    spool = fill_spool(fill_spool(tmp_path / "shard-1-of-1.duckdb", "a"), "b")
    first = push(spool, lake, ["a", "b"])
    held = spool_counts(spool)
    assert {t: i for t, (i, _) in first.tables.items()} == held
    assert first.inserted == sum(held.values()) and first.deleted == 0

    again = push(spool, lake, ["a", "b"])
    assert (again.inserted, again.deleted) == (0, 0)
    assert set(again.tables.values()) == {(0, 0)}
    with looking(lake, spool) as con:
        assert counts(con, "lake") == held  # no row twice
        assert differences(con, "a") == {} and differences(con, "b") == {}
        assert rows(con, "select spool, sources, rows_inserted, rows_deleted from ops.lake_pushes "
                         "order by pushed_at") == [(spool.name, 2, first.inserted, 0), (spool.name, 2, 0, 0)]


def test_deleted_and_changed_rows_of_the_spool_propagate_to_the_lake(tmp_path, lake):
    spool = fill_spool(tmp_path / "spool.duckdb", "a", articles=12)
    push(spool, lake, ["a"])
    # Enough rows for Parquet files (a handful of rows DuckLake keeps inlined in its catalog instead).
    assert list(Path(lake.data_path, "raw", "mentions").glob("*.parquet"))
    on_spool(spool, "delete from raw.mentions where article_id = 'a-1' and entity_type = 'programme'",
             "update raw.articles set title = 'Ein neuer Titel' where article_id = 'a-2'")
    outcome = push(spool, lake, ["a"])
    assert outcome.tables["raw.mentions"] == (0, 1)
    assert outcome.tables["raw.articles"] == (1, 1)
    assert outcome.inserted == 1 and outcome.deleted == 2
    with looking(lake, spool) as con:
        assert differences(con, "a") == {}
        assert rows(con, "select title from raw.articles where article_id = 'a-2'") == [("Ein neuer Titel",)]
        assert rows(con, "select entity_type from raw.mentions where article_id = 'a-1'") == [("city",)] * 2


def test_a_push_touches_only_the_rows_of_its_own_sources(tmp_path, lake):
    spool_a = fill_spool(tmp_path / "shard-1-of-2.duckdb", "a", articles=3)
    spool_b = fill_spool(tmp_path / "shard-2-of-2.duckdb", "b", articles=3)
    push(spool_a, lake, ["a"])
    push(spool_b, lake, ["b"])
    with looking(lake, spool_b) as con:
        assert differences(con, "b") == {}
        b_before = lake_rows_of(con, "b")

    gone = "article_id = 'a-2'"
    article_tables = ("raw.articles", "raw.article_versions", "raw.mentions", "raw.participations", "raw.events",
                      "ops.article_index")
    on_spool(spool_a, *(f"delete from {t} where {gone}" for t in article_tables))
    outcome = push(spool_a, lake, ["a"])

    assert outcome.inserted == 0
    assert outcome.tables["raw.mentions"] == (0, 3) and outcome.tables["raw.events"] == (0, 1)
    with looking(lake, spool_a) as con:
        for table in article_tables:
            assert rows(con, f"select count(*) from lake.{table} where {gone}") == [(0,)], table
        assert differences(con, "a") == {}
        assert lake_rows_of(con, "b") == b_before  # b's rows untouched by a's push
        assert rows(con, "select count(*) from raw.mentions where article_id like 'b-%'") == [(9,)]


def test_a_city_two_spools_share_lands_once(tmp_path, lake):
    spool_a = fill_spool(tmp_path / "a.duckdb", "a")
    spool_b = fill_spool(tmp_path / "b.duckdb", "b")
    push(spool_a, lake, ["a"])
    push(spool_b, lake, ["b"])
    assert push(spool_a, lake, ["a"]).tables["raw.cities"] == (0, 0)
    with looking(lake) as con:
        assert rows(con, "select city_id, count(*) from raw.cities group by all order by all") == sorted(
            [(KONSTANZ[0], 1), (OWN_CITY["a"][0], 1), (OWN_CITY["b"][0], 1)])
        assert rows(con, "select run_id from ops.runs order by all") == [("run-a",), ("run-b",)]


def test_a_spool_table_without_a_push_rule_is_refused_and_the_lake_is_unchanged(tmp_path, lake):
    spool = fill_spool(tmp_path / "spool.duckdb", "a")
    push(spool, lake, ["a"])
    with looking(lake) as con:
        before, held = rows(con, SNAPSHOT_ID), counts(con, "lake")
    on_spool(spool, "create table raw.extra (x integer)", "insert into raw.extra values (1)",
             "update raw.articles set title = 'changed' where article_id = 'a-1'")
    with pytest.raises(WarehouseError, match=r"push rule.*raw\.extra"):
        push(spool, lake, ["a"])
    with looking(lake) as con:
        assert rows(con, SNAPSHOT_ID) == before
        assert counts(con, "lake") == held
        assert rows(con, "select count(*) from raw.articles where title = 'changed'") == [(0,)]
        assert rows(con, "select count(*) from duckdb_tables() where database_name = 'lake' "
                         "and table_name = 'extra'") == [(0,)]


def test_a_column_the_spool_gained_is_added_to_the_lake_table(tmp_path, lake):
    spool = fill_spool(tmp_path / "spool.duckdb", "a")
    push(spool, lake, ["a"])
    on_spool(spool, "alter table raw.sources add column homepage varchar",
             "update raw.sources set homepage = 'https://a.example/'")
    outcome = push(spool, lake, ["a"])
    assert outcome.tables["raw.sources"] == (1, 1)
    assert outcome.inserted == 1 and outcome.deleted == 1
    with looking(lake, spool) as con:
        assert rows(con, "select source_id, homepage from raw.sources") == [("a", "https://a.example/")]
        assert differences(con, "a") == {}


def test_a_push_refused_at_commit_is_rolled_back_and_tried_again_from_the_start(tmp_path, lake, monkeypatch):
    spool = fill_spool(tmp_path / "spool.duckdb", "a")
    real, calls = lake_module._push_once, []

    def refused_once(con, tables, source_ids):
        changed = real(con, tables, source_ids)  # every row written, then a concurrent commit wins
        calls.append(changed)
        if len(calls) == 1:
            raise duckdb.TransactionException("Transaction conflict: another transaction committed first")
        return changed

    monkeypatch.setattr(lake_module, "_push_once", refused_once)
    monkeypatch.setattr(lake_module, "PUSH_BACKOFF", 0.0)
    outcome = push(spool, lake, ["a"])
    assert outcome.attempts == 2
    assert calls[0] == calls[1] == outcome.tables  # the second attempt started from the lake as it was
    with looking(lake, spool) as con:
        assert counts(con, "lake") == counts(con, "spool")
        assert differences(con, "a") == {}
        assert rows(con, "select attempts from ops.lake_pushes") == [(2,)]


def test_a_push_refused_every_time_is_a_lake_conflict_and_changes_nothing(tmp_path, lake, monkeypatch):
    spool = fill_spool(tmp_path / "spool.duckdb", "a")
    push(spool, lake, ["a"])
    with looking(lake) as con:
        before = rows(con, SNAPSHOT_ID)
    on_spool(spool, "delete from raw.mentions")
    real, calls = lake_module._push_once, []

    def always_refused(con, tables, source_ids):
        calls.append(real(con, tables, source_ids))
        raise duckdb.TransactionException("Transaction conflict: another transaction committed first")

    monkeypatch.setattr(lake_module, "_push_once", always_refused)
    monkeypatch.setattr(lake_module, "PUSH_BACKOFF", 0.0)
    with pytest.raises(LakeConflict, match=r"push of spool\.duckdb .* refused by concurrent commits 3 times"):
        push(spool, lake, ["a"], attempts=3)
    assert len(calls) == 3
    with looking(lake) as con:
        assert rows(con, SNAPSHOT_ID) == before
        assert rows(con, "select count(*) from raw.mentions") == [(6,)]


def test_a_push_failing_otherwise_is_not_retried(tmp_path, lake, monkeypatch):
    spool = fill_spool(tmp_path / "spool.duckdb", "a")
    calls = []

    def broken(con, tables, source_ids):
        calls.append(1)
        raise duckdb.BinderException("Referenced column \"nope\" not found")

    monkeypatch.setattr(lake_module, "_push_once", broken)
    with pytest.raises(WarehouseError, match=r"push of spool\.duckdb to .*meta\.ducklake failed: .*nope") as error:
        push(spool, lake, ["a"])
    assert not isinstance(error.value, LakeConflict)
    assert calls == [1]


# ---------------------------------------------------------------------------------------------- errors
def test_a_missing_spool_is_an_error_naming_it(tmp_path, lake):
    missing = tmp_path / "nowhere" / "shard-1-of-1.duckdb"
    with pytest.raises(WarehouseError, match=r"shard-1-of-1\.duckdb: no such spool"):
        push(missing, lake, ["a"])


def test_a_spool_that_is_not_a_duckdb_file_is_an_error_naming_it(tmp_path, lake):
    garbage = tmp_path / "shard-1-of-1.duckdb"
    garbage.write_text("not a database\n" * 100)
    with pytest.raises(WarehouseError, match=r"shard-1-of-1\.duckdb: cannot read the spool"):
        push(garbage, lake, ["a"])


def test_a_lake_catalog_in_a_missing_folder_cannot_be_attached(tmp_path):
    catalog = tmp_path / "no-such-folder" / "meta.ducklake"
    config = lake_config(str(catalog), str(tmp_path / "data"))
    with pytest.raises(WarehouseError, match=r"cannot attach the lake .*no-such-folder"):
        connect_lake(config)
    with pytest.raises(WarehouseError, match=r"cannot attach the lake"):
        push(fill_spool(tmp_path / "spool.duckdb", "a"), config, ["a"])


def test_a_garbage_lake_catalog_cannot_be_attached(tmp_path):
    catalog = tmp_path / "meta.ducklake"
    catalog.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(WarehouseError, match=r"cannot attach the lake .*meta\.ducklake"):
        connect_lake(lake_config(str(catalog), str(tmp_path / "data")))


@pytest.mark.parametrize("catalog", [None, "", "   "])
def test_a_lake_without_a_catalog_names_the_setting(catalog):
    with pytest.raises(WarehouseError, match="STADTRADAR_LAKE_CATALOG"):
        lake_config(catalog, "/tmp/data")


def test_lake_config_makes_the_data_folder_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = lake_config(" meta.ducklake ", "lake-data")
    assert config.catalog == "meta.ducklake"
    assert config.data_path == str(tmp_path / "lake-data") + os.sep and (tmp_path / "lake-data").is_dir()
    assert lake_config("meta.ducklake", "  ").data_path is None
    assert lake_config("meta.ducklake", "s3://bucket/lake/").data_path == "s3://bucket/lake/"


@pytest.mark.parametrize("catalog", [
    "postgres:dbname=stadtradar host=db.example user=stadtradar password=secret",
    "postgres:dbname=stadtradar PASSWORD = secret host=db.example",
    "postgres:dbname=stadtradar password='top secret' host=db.example",
    "postgres:postgresql://stadtradar:secret@db.example/stadtradar",
])
def test_the_displayed_catalog_hides_the_password(catalog):
    shown = LakeConfig(catalog, None).display
    assert "secret" not in shown
    assert "db.example" in shown


def test_an_unreachable_postgres_catalog_is_an_error_without_its_password():
    from tests.services import free_port

    catalog = f"postgres:host=127.0.0.1 port={free_port()} dbname=lake user=stadtradar password=secret"
    with pytest.raises(WarehouseError, match="cannot attach the lake") as error:
        connect_lake(lake_config(catalog, None))
    assert "secret" not in str(error.value)


# ---------------------------------------------------------------------------------------------- snapshot
def marts(config: LakeConfig, *statements: str) -> None:
    con = connect_lake(config)
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()


def test_the_snapshot_is_a_plain_duckdb_file_with_views_as_tables(tmp_path, lake):
    marts(lake, "create schema lake.marts", "create schema lake.reference",
          "create table lake.marts.articles as select range as id, 'Artikel ' || range as title from range(5)",
          "create view lake.marts.recent as select * from lake.marts.articles where id >= 3",
          "create table lake.reference.programmes as select 'mps' as programme_id")
    out = snapshot(lake, tmp_path / "bi" / "stadtradar.duckdb")
    assert out == tmp_path / "bi" / "stadtradar.duckdb"
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("select count(*) from marts.articles").fetchone() == (5,)
        assert con.execute("select id from marts.recent order by id").fetchall() == [(3,), (4,)]
        assert con.execute("from reference.programmes").fetchall() == [("mps",)]
        assert con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall() == [
            ("marts", "articles"), ("marts", "recent"), ("reference", "programmes")]
        assert con.execute("select count(*) from duckdb_views() where not internal").fetchone() == (0,)
    assert sorted(p.name for p in out.parent.iterdir()) == ["stadtradar.duckdb"]


def test_a_lake_without_marts_gives_no_snapshot(tmp_path, lake):
    marts(lake, "create schema lake.raw", "create table lake.raw.t as select 1 as x")
    folder = tmp_path / "bi"
    with pytest.raises(WarehouseError, match="no marts yet"):
        snapshot(lake, folder / "stadtradar.duckdb")
    assert list(folder.iterdir()) == []


def test_a_lake_never_made_gives_no_snapshot(tmp_path):
    never = lake_config(str(tmp_path / "meta.ducklake"), None)
    with pytest.raises(WarehouseError, match="cannot attach the lake"):
        snapshot(never, tmp_path / "bi" / "stadtradar.duckdb")
    assert list((tmp_path / "bi").iterdir()) == []
    assert not (tmp_path / "meta.ducklake").exists()  # a read-only look creates no lake


def test_a_new_snapshot_replaces_the_old_file_and_leaves_no_scratch(tmp_path, lake):
    out = tmp_path / "bi" / "stadtradar.duckdb"
    marts(lake, "create schema lake.marts", "create table lake.marts.t as select 1 as x")
    snapshot(lake, out)
    marts(lake, "insert into lake.marts.t values (2)", "create table lake.marts.u as select 'neu' as y")
    snapshot(lake, out)
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("select x from marts.t order by x").fetchall() == [(1,), (2,)]
        assert con.execute("from marts.u").fetchall() == [("neu",)]
    assert sorted(p.name for p in out.parent.iterdir()) == ["stadtradar.duckdb"]


def test_a_failed_snapshot_keeps_the_previous_file_and_leaves_no_scratch(tmp_path, lake):
    out = tmp_path / "bi" / "stadtradar.duckdb"
    marts(lake, "create schema lake.marts", "create table lake.marts.t as select 1 as x")
    snapshot(lake, out)
    # A view whose table is gone fails when the snapshot copies it, after the tables before it were copied.
    marts(lake, "create table lake.marts.gone as select 1 as x", "create view lake.marts.zz_broken as "
          "select * from lake.marts.gone", "drop table lake.marts.gone")
    with pytest.raises(WarehouseError, match="cannot write the snapshot"):
        snapshot(lake, out)
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("from marts.t").fetchall() == [(1,)]
    assert sorted(p.name for p in out.parent.iterdir()) == ["stadtradar.duckdb"]


# ---------------------------------------------------------------------------------------------- commands
@pytest.fixture
def no_lake_env(monkeypatch):
    for name in ("STADTRADAR_LAKE_CATALOG", "STADTRADAR_LAKE_DATA", "STADTRADAR_BACKEND"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str):
    from flows import cli

    return CliRunner().invoke(cli.app, list(args))


def test_lake_ingest_refuses_a_shard_outside_its_count(no_lake_env):
    result = invoke("lake", "ingest", "--shard", "4/3")
    assert result.exit_code == 1, result.output
    assert "shard 4 of 3" in result.output and "1 to N" in result.output


def test_lake_ingest_refuses_a_shard_that_is_not_k_of_n(no_lake_env):
    result = invoke("lake", "ingest", "--shard", "two")
    assert result.exit_code == 1, result.output
    assert "'two' is not a shard" in result.output


def test_lake_build_without_a_catalog_names_the_setting(no_lake_env):
    result = invoke("lake", "build")
    assert result.exit_code == 1, result.output
    assert "STADTRADAR_LAKE_CATALOG" in result.output


def test_lake_ingest_with_a_missing_sources_file_fails_before_it_starts(no_lake_env, monkeypatch, tmp_path):
    monkeypatch.setenv("STADTRADAR_LAKE_CATALOG", str(tmp_path / "meta.ducklake"))
    result = invoke("lake", "ingest", "--shard", "1/2", "--sources", str(tmp_path / "missing.yml"))
    assert result.exit_code == 1, result.output
    assert "missing.yml" in result.output and "not found" in result.output


def test_lake_snapshot_writes_the_marts_of_the_lake_of_the_settings(no_lake_env, monkeypatch, tmp_path, lake):
    marts(lake, "create schema lake.marts", "create table lake.marts.t as select 42 as x")
    monkeypatch.setenv("STADTRADAR_LAKE_CATALOG", lake.catalog)
    out = tmp_path / "bi" / "stadtradar.duckdb"
    result = invoke("lake", "snapshot", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "snapshot:" in result.output
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("from marts.t").fetchall() == [(42,)]


def test_lake_snapshot_of_a_lake_without_marts_exits_1(no_lake_env, monkeypatch, tmp_path, lake):
    marts(lake, "create schema lake.raw")
    monkeypatch.setenv("STADTRADAR_LAKE_CATALOG", lake.catalog)
    result = invoke("lake", "snapshot", "--out", str(tmp_path / "bi" / "stadtradar.duckdb"))
    assert result.exit_code == 1, result.output
    assert "no marts yet" in result.output
    assert not (tmp_path / "bi" / "stadtradar.duckdb").exists()


def test_build_on_the_ducklake_backend_goes_to_the_lake(no_lake_env, monkeypatch):
    from flows import cli

    monkeypatch.setattr(cli, "SETTINGS", Settings(backend="ducklake"))
    result = invoke("build")
    assert result.exit_code == 1, result.output
    assert "STADTRADAR_LAKE_CATALOG" in result.output


def test_a_recorded_run_is_refused_on_the_ducklake_backend(no_lake_env, monkeypatch, tmp_path):
    from flows import cli

    monkeypatch.setattr(cli, "SETTINGS", Settings(backend="ducklake"))
    result = invoke("run", "--record", str(tmp_path / "recording"))
    assert result.exit_code == 1, result.output
    assert "--record works with the embedded backend" in result.output


# ---------------------------------------------------------------------------------------------- PostgreSQL
PUSHER = """
import json, sys
from pathlib import Path
from warehouse.lake import LakeConfig, push
config = LakeConfig(sys.argv[1], sys.argv[2])
sys.stdin.readline()  # the start signal: all pushers are up
outcome = push(Path(sys.argv[3]), config, [sys.argv[4]])
print(json.dumps({"inserted": outcome.inserted, "deleted": outcome.deleted, "attempts": outcome.attempts}))
"""


@pytest.mark.e2e
def test_three_concurrent_pushes_to_a_postgres_lake_land_exactly_the_union(tmp_path):
    from tests.services import postgres_server, require_postgres

    require_postgres()
    spools = {s: fill_spool(tmp_path / f"shard-{i}-of-3.duckdb", s, articles=2 + i)
              for i, s in enumerate("abc", start=1)}
    with postgres_server(tmp_path / "pg") as server:
        server.create_database("lake")
        config = lake_config("postgres:" + server.dsn("lake"), str(tmp_path / "data"))
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        pushers = [subprocess.Popen([sys.executable, "-c", PUSHER, config.catalog, str(config.data_path),
                                     str(spool), source], cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for source, spool in spools.items()]
        try:
            for pusher in pushers:  # all started: let them go at once
                pusher.stdin.write("go\n")
                pusher.stdin.flush()
            results = [pusher.communicate(timeout=120) for pusher in pushers]
        finally:
            for pusher in pushers:
                if pusher.poll() is None:
                    pusher.kill()
                    pusher.wait()
        for pusher, (_, stderr) in zip(pushers, results, strict=True):
            assert pusher.returncode == 0, stderr
        outcomes = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in results]

        expected = {t: 0 for t in PUSHED_TABLES}
        for spool in spools.values():
            for table, n in spool_counts(spool).items():
                expected[table] += n
        expected["raw.cities"] -= len(spools) - 1  # Konstanz is in every spool and lands once
        assert sum(o["inserted"] for o in outcomes) == sum(expected.values())
        assert all(o["deleted"] == 0 for o in outcomes)
        for source, spool in spools.items():
            with looking(config, spool) as con:
                assert differences(con, source) == {}, source
        with looking(config) as con:
            assert counts(con, "lake") == expected  # exactly the union: nothing twice, nothing lost
            assert rows(con, "select city_id from raw.cities group by all having count(*) > 1") == []
            ledger = rows(con, "select spool, rows_inserted, attempts from ops.lake_pushes order by spool")
        assert [row[0] for row in ledger] == sorted(p.name for p in spools.values())
        assert sum(row[1] for row in ledger) == sum(expected.values())
        assert all(row[2] >= 1 for row in ledger)
