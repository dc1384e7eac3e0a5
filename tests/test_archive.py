"""The page archive index: idempotent appends without a declared key, and the move of older warehouses to it."""
from __future__ import annotations

import datetime as dt

import duckdb

from scrapers.process import page_hash
from scrapers.records import FetchedPage
from warehouse import archive as warc
from warehouse import load
from warehouse.db import connect
from warehouse.migrations.unversioned import INITIAL_SQL

WHEN = dt.datetime(2026, 3, 4, 10, 0)


def page(url: str, text: str, status: int = 200, kind: str = "article") -> FetchedPage:
    return FetchedPage("dresden", url, url, status, "text/html; charset=utf-8", text, WHEN, etag='"e1"', kind=kind)


def archive(db, pages):
    with connect(db) as con:
        return load.archive_pages(con, pages, "run-1")


def rows(db) -> list[tuple]:
    """(url, content_hash, body) of every archived page, the body read from its WARC record."""
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("select url, content_hash, warc_file, warc_offset, warc_length from raw.pages "
                             "order by url, fetched_at").fetchall()
    folder = warc.archive_folder(db)
    return [(url, digest, warc.read_response(folder, warc.RecordRef(*ref), url).body.decode("utf-8"))
            for url, digest, *ref in stored]


def test_archive_appends_each_body_once_and_versions_a_changed_body(tmp_path):
    db = tmp_path / "w.duckdb"
    first = [page("https://www.dresden.de/a", "<p>eins</p>"), page("https://www.dresden.de/b", "<p>zwei</p>")]
    assert len(archive(db, first)) == 2
    assert not archive(db, first)  # the same bodies again: nothing added
    assert not archive(db, [page("https://www.dresden.de/a#top", "<p>eins</p>")])  # same canonical URL
    assert len(archive(db, [page("https://www.dresden.de/a", "<p>eins, geändert</p>")])) == 1
    assert not archive(db, [page("https://www.dresden.de/b", "", status=304)])
    stored = rows(db)
    assert [(url, body) for url, _, body in stored] == [
        ("https://www.dresden.de/a", "<p>eins</p>"), ("https://www.dresden.de/a", "<p>eins, geändert</p>"),
        ("https://www.dresden.de/b", "<p>zwei</p>")]
    with duckdb.connect(str(db), read_only=True) as con:
        state = dict(con.execute("select url, content_hash from ops.http_state").fetchall())
    assert state["https://www.dresden.de/b"] == stored[2][1]  # a 304 keeps the hash of the body we hold


def test_one_batch_with_a_page_twice_adds_it_once(tmp_path):
    db = tmp_path / "w.duckdb"
    same = page("https://www.dresden.de/a", "<p>eins</p>")
    assert len(archive(db, [same, same])) == 1
    assert len(rows(db)) == 1


def declared_keys(con, tables=("pages", "articles", "article_versions")) -> list[str]:
    return sorted(t for (t,) in con.execute(
        "select table_name from duckdb_constraints() where schema_name = 'raw' and constraint_type = 'PRIMARY KEY' "
        "and table_name in (select unnest(?))", [list(tables)]).fetchall())


def keyed_schema() -> str:
    """The schema as it was before the text tables lost their declared keys and raw.pages its text body."""
    schema = INITIAL_SQL.read_text(encoding="utf-8")
    for old, new in [
        ("body           blob,", "body           varchar,"),
        ("    body_chars     integer,               -- length of the decoded text in characters\n", ""),
        ("run_id         varchar not null       -- the run that first fetched this body",
         "run_id         varchar not null, primary key (url, content_hash)"),
        ("article_id      varchar not null,     -- key: sha1", "article_id      varchar primary key, -- sha1"),
        ("run_id          varchar not null,     -- key: (article_id, content_hash)\n"
         "    extractor_version varchar             "
         "-- which extractor made the row (scrapers.process.EXTRACTOR_VERSION)",
         "run_id          varchar not null, primary key (article_id, content_hash)"),
        ("alter table raw.article_versions add column if not exists extractor_version varchar;", ""),
    ]:
        assert old in schema
        schema = schema.replace(old, new)
    return schema


def test_an_older_warehouse_is_rewritten_in_the_current_format_without_losing_rows(tmp_path):
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(keyed_schema())
        con.execute("insert into raw.pages values ('https://www.dresden.de/a', ?, 'dresden', "
                    "'https://www.dresden.de/a', 'https://www.dresden.de/a', 200, 'text/html', null, null, "
                    "'<p>alt</p>', 'article', now(), 'run-0')", [page_hash("<p>alt</p>")])
        con.execute("insert into ops.http_state values ('https://www.dresden.de/a', 'dresden', 'article', null, "
                    "null, ?, 200, now(), 'run-0')", [page_hash("<p>alt</p>")])
        con.execute("insert into raw.articles (article_id, source_id, url, is_relevant, relevance_score, "
                    "content_hash, page_url, page_content_hash, fetch_run_id, extractor_version, extracted_at, "
                    "run_id) values ('a1', 'dresden', 'https://www.dresden.de/a', true, 3.0, 'h', "
                    "'https://www.dresden.de/a', 'p', 'run-0', '1', now(), 'run-0')")
        assert declared_keys(con) == ["article_versions", "articles", "pages"]

    added = archive(db, [page("https://www.dresden.de/a", "<p>alt</p>"), page("https://www.dresden.de/c", "neu")])
    assert added == {("https://www.dresden.de/c", page_hash("neu"))}
    with duckdb.connect(str(db), read_only=True) as con:
        assert declared_keys(con) == []
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables() where schema_name = 'raw'")
                  .fetchall()}
        assert con.execute("select article_id, url from raw.articles").fetchall() == [("a1", "https://www.dresden.de/a")]
        assert con.execute("select body_chars from raw.pages order by url").fetchall() == [(10,), (3,)]
    assert tables == {"pages", "sources", "articles", "article_versions", "cities", "mentions", "participations",
                      "events"}
    assert [(url, body) for url, _, body in rows(db)] == [("https://www.dresden.de/a", "<p>alt</p>"),
                                                          ("https://www.dresden.de/c", "neu")]


def test_a_body_that_comes_back_is_not_archived_twice(tmp_path):
    db = tmp_path / "w.duckdb"
    url = "https://www.dresden.de/a"
    assert len(archive(db, [page(url, "<p>eins</p>")])) == 1
    assert len(archive(db, [page(url, "<p>zwei</p>")])) == 1
    assert not archive(db, [page(url, "<p>eins</p>")])  # the first version again: held, though not the latest
    assert len(rows(db)) == 2
    with duckdb.connect(str(db), read_only=True) as con:
        latest = con.execute("select content_hash from ops.http_state where url = ?", [url]).fetchone()[0]
    assert latest == page_hash("<p>eins</p>")


def row_groups(db, table: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select count(distinct row_group_id) from pragma_storage_info('{table}')").fetchone()[0]


def test_archive_batches_stay_row_groups_of_their_own(tmp_path):
    # No checkpoint of a Stadtradar connection merges them (that would rewrite the earlier rows of the tables
    # with texts, raw.articles and raw.article_versions), not even one that writes another table; a connection
    # with DuckDB's defaults does.
    db = tmp_path / "w.duckdb"
    for batch in range(3):
        with connect(db) as con:
            load.archive_pages(con, [page(f"https://www.dresden.de/{batch}-{i}", f"<p>{batch} {i}</p>")
                                     for i in range(5)], f"run-{batch}")
    with connect(db) as con:
        load.start_run(con, "run-4", "ingest")
    assert row_groups(db, "raw.pages") == 3
    with duckdb.connect(str(db)) as con:
        con.execute("update ops.runs set status = 'ok'")
    assert row_groups(db, "raw.pages") == 1
