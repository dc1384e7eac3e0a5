"""Full-text search: German stemming, BM25 order, city and date filters, a cached index, no writes to the warehouse."""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from tests.warehouse_fixture import demo_warehouse, stadtradar  # noqa: F401 - the fixture is used by name
from warehouse.search import SearchError, ensure_index, query_terms, search_articles

ARTICLES = [
    ("a1", "Hitzeschutz in Dresden", "2025-06-01",
     "Die Stadt Dresden stellt ihren Hitzeschutzplan vor. Der Hitzeschutz steht im Mittelpunkt."),
    ("a2", "Neue Datenplattform", "2024-03-01",
     "Dortmund baut eine urbane Datenplattform. Auch der Hitzeschutzes wegen werden Sensoren verteilt."),
    ("a3", "Mobilität und Verkehr", "2025-02-01", "Leipzig testet autonome Busse im Stadtverkehr."),
    ("a4", "Bürgerbeteiligung", "2023-01-01", "Die Bürger reden über Straßenbäume und Grünflächen in Dresden."),
]


@pytest.fixture
def warehouse(tmp_path):
    db = tmp_path / "articles.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.execute("create table marts.articles (article_id varchar, source_id varchar, url varchar, title varchar,"
                " published_date date, teaser varchar, body_text varchar)")
    con.executemany("insert into marts.articles values (?, 'test', 'https://example.org/' || ?, ?, ?, null, ?)",
                    [(i, i, t, d, b) for i, t, d, b in ARTICLES])
    con.execute("create table marts.cities (city_id varchar, name varchar)")
    con.execute("insert into marts.cities values ('1', 'Dresden'), ('2', 'Dortmund'), ('3', 'Leipzig')")
    con.execute("create table marts.article_cities (article_id varchar, city_id varchar)")
    con.execute("insert into marts.article_cities values ('a1', '1'), ('a2', '2'), ('a3', '3'), ('a4', '1')")
    con.close()
    return db


def search(warehouse, query, **kwargs):
    return search_articles(warehouse, query, index=warehouse.with_suffix(".index"), **kwargs)


def test_stemming_finds_inflected_forms_and_ranks_by_bm25(warehouse):
    hits = search(warehouse, "Hitzeschutz")
    assert [h.article_id for h in hits] == ["a1", "a2"]  # a2 only has "Hitzeschutzes"
    assert hits[0].score > hits[1].score > 0
    assert (hits[0].title, hits[0].url, hits[0].published_date) == (
        "Hitzeschutz in Dresden", "https://example.org/a1", dt.date(2025, 6, 1))
    assert [h.article_id for h in search(warehouse, "Straßenbaum")] == ["a4"]  # ß and plural


def test_city_and_since_filter(warehouse):
    assert [h.article_id for h in search(warehouse, "Hitzeschutz", city="DORTMUND")] == ["a2"]
    assert [h.article_id for h in search(warehouse, "Dresden")] == ["a1", "a4"]
    assert [h.article_id for h in search(warehouse, "Dresden", since=dt.date(2024, 1, 1))] == ["a1"]
    assert [h.article_id for h in search(warehouse, "Hitzeschutz Datenplattform", limit=1)] == ["a2"]
    with pytest.raises(SearchError, match="no city named 'Atlantis'"):
        search(warehouse, "Hitzeschutz", city="Atlantis")


def test_empty_and_stopword_only_queries_are_clear_errors(warehouse):
    with pytest.raises(SearchError, match="empty"):
        search(warehouse, "   ")
    with pytest.raises(SearchError, match="only stopwords"):
        search(warehouse, "der die das, und")
    assert query_terms("Hitzeschutz in der Stadt") == ["Hitzeschutz", "Stadt"]


def test_index_is_reused_until_the_articles_change_and_the_warehouse_is_never_written(warehouse):
    index = warehouse.with_suffix(".index")
    before = warehouse.read_bytes()
    holder = duckdb.connect(str(warehouse), read_only=True)  # another reader (a BI tool) does not block search
    try:
        assert ensure_index(warehouse, index) == (index, True)
        assert ensure_index(warehouse, index) == (index, False)
        assert search(warehouse, "Busse")[0].article_id == "a3"
    finally:
        holder.close()
    assert warehouse.read_bytes() == before
    con = duckdb.connect(str(warehouse))
    con.execute("insert into marts.articles values ('a5', 'test', 'https://example.org/a5', 'Hitzeaktionsplan',"
                " '2025-07-01', null, 'Hitzeaktionsplan für Kiel')")
    con.close()
    assert [h.article_id for h in search(warehouse, "Hitzeaktionsplan")] == ["a5"]  # rebuilt for the new article
    assert ensure_index(warehouse, index) == (index, False)


def test_a_missing_warehouse_is_a_clear_error(tmp_path):
    from warehouse.db import WarehouseError

    with pytest.raises(WarehouseError, match="no warehouse here yet"):
        search_articles(tmp_path / "nope.duckdb", "Hitzeschutz", index=tmp_path / "i.duckdb")


@pytest.mark.e2e
def test_search_command_over_the_demo_warehouse(demo_warehouse, tmp_path):  # noqa: F811
    done = stadtradar("search", "Datenplattform", "--format", "json", "--limit", "3", "--db", str(demo_warehouse),
                      home=tmp_path)
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert 1 <= len(hits) <= 3 and all(h["url"].startswith("https://") for h in hits)
    assert hits == sorted(hits, key=lambda h: -h["score"])
    konstanz = stadtradar("search", "Regionalkonferenz", "--city", "konstanz", "--format", "csv",
                          "--db", str(demo_warehouse), home=tmp_path)
    assert konstanz.returncode == 0 and "Konstanz" in konstanz.stdout
    empty = stadtradar("search", "", "--db", str(demo_warehouse), home=tmp_path)
    assert empty.returncode == 1 and "empty" in empty.stderr
    bad_day = stadtradar("search", "Klima", "--since", "gestern", "--db", str(demo_warehouse), home=tmp_path)
    assert bad_day.returncode == 1 and "--since" in bad_day.stderr
