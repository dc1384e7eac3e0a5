"""Exporting the marts: one Parquet or CSV file per table and view, list columns as JSON in CSV, read-only."""
from __future__ import annotations

import csv
import json

import duckdb
import pytest

from tests.warehouse_fixture import demo_warehouse, stadtradar  # noqa: F401 - the fixture is used by name
from warehouse.exports import ExportError, ExportFormat, export_marts


@pytest.fixture
def small_warehouse(tmp_path):
    db = tmp_path / "small.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create schema raw")
    con.execute("create table marts.programmes (programme_id varchar, name varchar, aliases varchar[])")
    con.execute("insert into marts.programmes values ('mpsc', 'Modellprojekte Smart Cities', ['MPSC', 'a, \"b\"|c']),"
                " ('ics', 'Intelligent Cities Challenge', []), ('x', 'Ohne', null)")
    con.execute("create table marts.cities (city_id varchar, name varchar, latitude double)")
    con.execute("insert into marts.cities values ('2935022', 'Dresden', 51.05)")
    con.execute("create view marts.big_cities as select * from marts.cities where latitude > 50")
    con.execute("create table raw.pages (url varchar)")
    con.close()
    return db


def test_parquet_export_writes_every_table_and_view_of_marts_only(small_warehouse, tmp_path):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    try:
        written = export_marts(con, tmp_path / "out", ExportFormat.parquet)
    finally:
        con.close()
    assert {(f.table, f.rows) for f in written} == {("programmes", 3), ("cities", 1), ("big_cities", 1)}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "big_cities.parquet", "cities.parquet", "programmes.parquet"]
    back = duckdb.sql(f"select aliases from '{tmp_path / 'out' / 'programmes.parquet'}' order by programme_id")
    assert back.fetchall() == [([],), (["MPSC", 'a, "b"|c'],), (None,)]  # lists stay lists in Parquet


def test_csv_export_keeps_list_columns_as_json_arrays(small_warehouse, tmp_path):
    con = duckdb.connect(str(small_warehouse), read_only=True)
    try:
        export_marts(con, tmp_path / "csv", "csv")
    finally:
        con.close()
    with open(tmp_path / "csv" / "programmes.csv", newline="", encoding="utf-8") as handle:
        rows = {r["programme_id"]: r for r in csv.DictReader(handle)}
    assert json.loads(rows["mpsc"]["aliases"]) == ["MPSC", 'a, "b"|c']
    assert json.loads(rows["ics"]["aliases"]) == []
    assert rows["x"]["aliases"] == ""  # NULL stays an empty field
    assert rows["mpsc"]["name"] == "Modellprojekte Smart Cities"


def test_a_warehouse_without_marts_is_a_clear_error(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    with pytest.raises(ExportError, match="no `marts` tables"):
        export_marts(con, tmp_path / "out")
    con.close()
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_export_command_over_the_demo_warehouse(demo_warehouse, tmp_path):  # noqa: F811
    done = stadtradar("export", "--format", "parquet", "--out", str(tmp_path / "pq"), "--db", str(demo_warehouse),
                      home=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {p.stem for p in (tmp_path / "pq").glob("*.parquet")}
    assert {"articles", "cities", "article_cities", "programmes", "events", "upcoming_events"} <= names
    assert "articles.parquet" in done.stdout
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    expected = con.execute("select count(*) from marts.articles").fetchone()[0]
    con.close()
    assert duckdb.sql(f"select count(*) from '{tmp_path / 'pq' / 'articles.parquet'}'").fetchone()[0] == expected
    missing = stadtradar("export", "--out", str(tmp_path / "x"), "--db", str(tmp_path / "nope.duckdb"), home=tmp_path)
    assert missing.returncode == 1 and "no warehouse here yet" in " ".join(missing.stderr.split())
