"""Loading extracted articles: replaces by key without scanning the text tables, counts what changed."""
from __future__ import annotations

import dataclasses

import duckdb

from tests.test_snapshot_fixtures import EXPECTED, processed
from warehouse import load
from warehouse.db import connect
from warehouse.migrations.unversioned import INITIAL_SQL

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
    changed = dataclasses.replace(articles[0], content_hash="changed", page_content_hash="edited page")
    assert load_batch(db, [changed]) == load.LoadCounts(updated=1)
    assert table_counts(db) == {**first, "raw.article_versions": 4}
    assert load_batch(db, [articles[0]]) == load.LoadCounts(updated=1)  # back to the first text: no new version
    assert table_counts(db) == {**first, "raw.article_versions": 4}


def test_a_new_extractor_over_the_same_page_updates_its_version_instead_of_adding_one(tmp_path):
    db = tmp_path / "w.duckdb"
    article = processed(URLS[0])
    load_batch(db, [article])
    with duckdb.connect(str(db), read_only=True) as con:
        first_seen = con.execute("select first_seen_at from raw.article_versions").fetchone()[0]
    record = dataclasses.replace(article.record, body_text=article.record.body_text + "\nNeu extrahiert.")
    reextracted = dataclasses.replace(article, record=record, content_hash="re-extracted")
    assert load_batch(db, [reextracted]) == load.LoadCounts(updated=1)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select content_hash, body_text, first_seen_at, extractor_version "
                           "from raw.article_versions").fetchall()
    assert len(rows) == 1
    content_hash, body_text, seen, extractor = rows[0]
    assert (content_hash, seen) == ("re-extracted", first_seen)
    assert body_text.endswith("Neu extrahiert.") and extractor == load.EXTRACTOR_VERSION


def test_a_warehouse_from_before_the_article_index_gets_it_filled(tmp_path):
    db = tmp_path / "w.duckdb"
    articles = [processed(u) for u in URLS]
    with duckdb.connect(str(db)) as con:  # as made before numbered migrations, then before ops.article_index
        con.execute(INITIAL_SQL.read_text(encoding="utf-8"))
        load.load_articles(con, articles, "run-0")
        con.execute("drop table ops.article_index")
    assert load_batch(db, articles) == load.LoadCounts(unchanged=3)
    assert table_counts(db)["raw.articles"] == table_counts(db)["ops.article_index"] == 3
