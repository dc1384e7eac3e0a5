"""Numbered schema migrations: each applied once and recorded, a warehouse of the format before them moved to
WARC without losing a page, and a migration stopped midway run again cleanly."""
from __future__ import annotations

import datetime as dt
import importlib

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from scrapers.process import page_hash
from warehouse import archive, load, migrations
from warehouse import db as warehouse_db
from warehouse.db import WarehouseError, connect, connect_sandboxed
from warehouse.migrations.unversioned import INITIAL_SQL, pack_body

TO_WARC = importlib.import_module("warehouse.migrations.0002_pages_to_warc")
WHEN = dt.datetime(2026, 3, 4, 10, 0)
SITE = "https://www.dresden.de"
# Two runs of one source and one of another; /p03 was fetched again with a changed body by the second run.
PAGES = [(f"{SITE}/p{i:02d}", f"<html><p>Seite {i}: Grüße \U0001f3d9</p></html>", "dresden", f"run-{i % 2}")
         for i in range(12)] + [
    (f"{SITE}/p03", "<html><p>Seite 3, geändert</p></html>", "dresden", "run-2"),
    ("https://www.konstanz.de/k", "<p>Konstanz</p>", "konstanz", "run-1"),
]


@pytest.fixture(autouse=True)
def new_process(monkeypatch):
    """Every test opens its files as a new process would: none is known to be at the latest version."""
    monkeypatch.setattr(warehouse_db, "_CURRENT_FILES", set())


def todays_warehouse(db, with_mention_roles: bool = False) -> None:
    """A warehouse as the code before numbered migrations left it: the 0001 schema, no ops.schema_version, page
    bodies zlib-compressed in raw.pages (and, older still, a role column in raw.mentions)."""
    with duckdb.connect(str(db)) as con:
        con.execute(INITIAL_SQL.read_text(encoding="utf-8"))
        for minute, (url, text, source, run) in enumerate(PAGES):
            at = WHEN + dt.timedelta(minutes=minute)
            con.execute("insert into raw.pages values (?, ?, ?, ?, ?, 200, 'text/html; charset=utf-8', '\"e\"', "
                        "null, ?, ?, 'article', ?, ?)",
                        [url, page_hash(text), source, url, url, pack_body(text), len(text), at, run])
            con.execute("insert or replace into ops.http_state values (?, ?, 'article', '\"e\"', null, ?, 200, ?, ?)",
                        [url, source, page_hash(text), at, run])
        if with_mention_roles:
            con.execute("alter table raw.mentions add column role varchar")
            con.execute("insert into raw.mentions values ('a', 'programme', 'mpsc', 'MPSC', 0, 1, 'modellprojekt')")


def schema_versions(db) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select version, name, applied_at from ops.schema_version order by version").fetchall()


def page_rows(db) -> list[tuple]:
    """raw.pages without the body or its place, in a fixed order."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select url, content_hash, source_id, requested_url, final_url, status, content_type, "
                           "etag, last_modified, body_chars, page_kind, fetched_at, run_id from raw.pages "
                           "order by url, fetched_at").fetchall()


def bodies_from_warc(db) -> dict[tuple[str, str], str]:
    """Each indexed page's body, read from its WARC record."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select url, content_hash, warc_file, warc_offset, warc_length from raw.pages").fetchall()
    folder = archive.archive_folder(db)
    return {(url, digest): archive.read_response(folder, archive.RecordRef(*ref), url).body.decode("utf-8")
            for url, digest, *ref in rows}


def responses_on_disk(db) -> int:
    folder = archive.archive_folder(db)
    count = 0
    for file in folder.rglob("*.warc.gz"):
        with open(file, "rb") as stream:
            count += sum(1 for r in ArchiveIterator(stream) if r.rec_type == "response")
    return count


def columns(db, table: str = "pages") -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [c for (c,) in con.execute("select column_name from duckdb_columns() where schema_name = 'raw' "
                                          "and table_name = ? order by column_index", [table]).fetchall()]


def test_a_new_warehouse_records_every_migration(tmp_path):
    db = tmp_path / "w.duckdb"
    connect(db).close()
    recorded = schema_versions(db)
    assert [(v, name) for v, name, _ in recorded] == [(m.version, m.path.name) for m in migrations.available()]
    assert [name for _, name, _ in recorded][:2] == ["0001_initial.sql", "0002_pages_to_warc.py"]
    assert "body" not in columns(db) and columns(db)[-3:] == ["warc_file", "warc_offset", "warc_length"]
    assert not archive.archive_folder(db).exists()  # no page, no archive folder


def test_reopening_applies_nothing_twice(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    connect(db).close()
    first = schema_versions(db)
    monkeypatch.setattr(warehouse_db, "_CURRENT_FILES", set())  # as another process opens it
    with connect(db) as con:
        assert migrations.apply(con, db) == []
        load.archive_pages(con, [], "run-1")
    assert schema_versions(db) == first


def test_a_warehouse_of_the_format_before_migrations_moves_its_bodies_to_warc_once(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    todays_warehouse(db, with_mention_roles=True)
    before = page_rows(db)
    with connect(db) as con:
        latest = {p.requested_url: p.text for p in load.archived_pages(con, "dresden", 0, 100)}
    assert [v for v, _, _ in schema_versions(db)] == [m.version for m in migrations.available()]
    assert "body" not in columns(db) and "role" not in columns(db, "mentions")
    assert page_rows(db) == before  # every page, with its metadata as it was
    assert bodies_from_warc(db) == {(url, page_hash(text)): text for url, text, _, _ in PAGES}
    assert latest == {url: text for url, text, source, _ in PAGES if source == "dresden"}  # /p03: the later body
    folder = archive.archive_folder(db)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "dresden/run-0.warc.gz", "dresden/run-1.warc.gz", "dresden/run-2.warc.gz", "konstanz/run-1.warc.gz"]
    sizes = {p: p.stat().st_size for p in folder.rglob("*.warc.gz")}

    monkeypatch.setattr(warehouse_db, "_CURRENT_FILES", set())
    connect(db).close()  # once: opened again, nothing is written again
    assert {p: p.stat().st_size for p in folder.rglob("*.warc.gz")} == sizes
    assert responses_on_disk(db) == len(PAGES)


def test_a_migration_stopped_midway_runs_again_cleanly_with_nothing_lost(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    todays_warehouse(db)
    before = page_rows(db)
    monkeypatch.setattr(TO_WARC, "CHUNK", 4)
    real_append = TO_WARC.append_pages
    calls = []

    def stops_on_the_third_file(*args):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real_append(*args)

    monkeypatch.setattr(TO_WARC, "append_pages", stops_on_the_third_file)
    with pytest.raises(WarehouseError, match="0002_pages_to_warc.py failed and was undone") as error:
        connect(db)
    assert str(db) in str(error.value)
    assert "body" in columns(db) and page_rows(db) == before  # the bodies are where they were
    assert [v for v, _, _ in schema_versions(db)] == [1]
    assert (archive.archive_folder(db) / TO_WARC.SCRATCH).exists()  # what the stopped attempt wrote

    monkeypatch.setattr(TO_WARC, "append_pages", real_append)
    connect(db).close()
    assert page_rows(db) == before
    assert bodies_from_warc(db) == {(url, page_hash(text)): text for url, text, _, _ in PAGES}
    assert responses_on_disk(db) == len(PAGES)  # nothing of the first attempt was kept
    assert not (archive.archive_folder(db) / TO_WARC.SCRATCH).exists()


def test_a_migration_stopped_after_moving_its_files_writes_them_again_once(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    todays_warehouse(db)
    before = page_rows(db)
    real_move = TO_WARC._move_into_place

    def moves_then_dies(*args):
        real_move(*args)
        raise RuntimeError("killed before the swap committed")

    monkeypatch.setattr(TO_WARC, "_move_into_place", moves_then_dies)
    with pytest.raises(WarehouseError, match="undone"):
        connect(db)
    assert "body" in columns(db) and responses_on_disk(db) == len(PAGES)  # files in place, no index yet
    monkeypatch.setattr(TO_WARC, "_move_into_place", real_move)
    connect(db).close()
    assert page_rows(db) == before
    assert bodies_from_warc(db) == {(url, page_hash(text)): text for url, text, _, _ in PAGES}
    assert responses_on_disk(db) == len(PAGES)  # replaced, not appended to


def test_a_read_only_open_of_an_older_warehouse_says_how_to_migrate(tmp_path):
    db = tmp_path / "w.duckdb"
    todays_warehouse(db)
    for opener in (lambda: connect(db, read_only=True), lambda: connect_sandboxed(db)):
        with pytest.raises(WarehouseError) as error:
            opener()
        assert str(db) in str(error.value) and "schema version 0" in str(error.value)
        assert "stadtradar migrate" in str(error.value)
    assert "body" in columns(db)  # a reader changed nothing
    connect(db).close()
    connect(db, read_only=True).close()


def test_the_migrate_command_brings_an_older_warehouse_to_the_latest_version(tmp_path):
    from typer.testing import CliRunner

    from flows import cli

    db = tmp_path / "w.duckdb"
    todays_warehouse(db)
    done = CliRunner().invoke(cli.app, ["migrate", "--db", str(db)])
    assert done.exit_code == 0, done.output
    assert f"schema version {migrations.latest()} of {migrations.latest()}" in done.output
    assert [row[0] for row in schema_versions(db)] == list(range(1, migrations.latest() + 1))
    assert "body" not in columns(db) and sorted(bodies_from_warc(db).values())


def test_a_warehouse_of_a_newer_version_is_refused(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    connect(db).close()
    with duckdb.connect(str(db)) as con:
        con.execute("insert into ops.schema_version values (99, '0099_future.sql', now())")
    monkeypatch.setattr(warehouse_db, "_CURRENT_FILES", set())
    for read_only in (False, True):
        with pytest.raises(WarehouseError, match="schema version 99, newer than this Stadtradar knows"):
            connect(db, read_only=read_only)


def test_a_file_without_stadtradar_tables_still_opens_read_only(tmp_path):
    db = tmp_path / "by-hand.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts; create table marts.cities (city_id varchar)")
    connect(db, read_only=True).close()


def test_migration_numbers_count_up_without_gaps(tmp_path, monkeypatch):
    (tmp_path / "0001_first.sql").write_text("select 1", encoding="utf-8")
    (tmp_path / "0003_third.sql").write_text("select 1", encoding="utf-8")
    monkeypatch.setattr(migrations, "FOLDER", tmp_path)
    migrations.available.cache_clear()
    try:
        with pytest.raises(WarehouseError, match="0003_third.sql: migration number 0003 where 0002 was expected"):
            migrations.available()
    finally:
        migrations.available.cache_clear()


def test_migrating_a_missing_warehouse_is_an_error_and_creates_nothing(tmp_path):
    from typer.testing import CliRunner

    from flows import cli

    done = CliRunner().invoke(cli.app, ["migrate", "--db", str(tmp_path / "typo.duckdb")])
    assert done.exit_code == 1 and "no warehouse here" in done.output
    assert list(tmp_path.iterdir()) == []
