"""Loading extracted articles: replaces by key without scanning the text tables, counts what changed."""
from __future__ import annotations

import dataclasses

import duckdb

from tests.test_snapshot_fixtures import EXPECTED, processed
from warehouse import db as warehouse_db
from warehouse import load
from warehouse.db import connect

URLS = sorted(EXPECTED)[:3]


def load_batch(db, articles) -> load.LoadCounts:
    with connect(db) as con:
        return load.load_articles(con, articles, "run-1")


def table_counts(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("raw.articles", "raw.article_versions", "raw.mentions", "ops.article_index")}


def test_reloading_replaces_rows_and_versions_only_a_changed_text(tmp_path):
    db = tmp_path / "w.duckdb"
    articles = [processed(u) for u in URLS]
    assert load_batch(db, articles) == load.LoadCounts(new=3)
    first = table_counts(db)
    assert first["raw.articles"] == first["raw.article_versions"] == first["ops.article_index"] == 3
    assert load_batch(db, articles) == load.LoadCounts(unchanged=3)
    assert table_counts(db) == first
    changed = dataclasses.replace(articles[0], content_hash="changed")
    assert load_batch(db, [changed]) == load.LoadCounts(updated=1)
    assert table_counts(db) == {**first, "raw.article_versions": 4}
    assert load_batch(db, [articles[0]]) == load.LoadCounts(updated=1)  # back to the first text: no new version
    assert table_counts(db) == {**first, "raw.article_versions": 4}


def test_a_warehouse_from_before_the_article_index_gets_it_filled(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    articles = [processed(u) for u in URLS]
    load_batch(db, articles)
    with duckdb.connect(str(db)) as con:
        con.execute("drop table ops.article_index")
    monkeypatch.setattr(warehouse_db, "_CURRENT_FILES", set())  # as a new process opens it
    assert load_batch(db, articles) == load.LoadCounts(unchanged=3)
    assert table_counts(db)["raw.articles"] == table_counts(db)["ops.article_index"] == 3
