"""End to end: the real `stadtradar` command over the recorded snapshot, asserting on the marts."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from scrapers.config import PROJECT_ROOT
from tests.warehouse_fixture import built_once, copy_warehouse, demo_warehouse  # noqa: F401 - fixture by name

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshot"
STADTRADAR = Path(sys.executable).with_name("stadtradar")

pytestmark = pytest.mark.e2e


def stadtradar(*args: str, home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "PREFECT_LOGGING_LEVEL": "WARNING", **extra}
    return subprocess.run([str(STADTRADAR), *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.fixture(scope="module")
def warehouse(demo_warehouse, tmp_path_factory, prefect_api) -> dict:  # noqa: F811
    """The pipeline run twice over the snapshot (the second run must change nothing): the first run is the
    shared demo warehouse's (tests/warehouse_fixture.py, with Prefect's temporary server), the second runs on a
    copy of it (with this worker's Prefect API), once per test run."""

    def rerun(folder: Path) -> None:
        db = copy_warehouse(demo_warehouse, folder / "stadtradar.duckdb")
        con = duckdb.connect(str(db), read_only=True)
        before = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
                  for t in ("articles", "cities", "article_cities", "programmes", "article_programmes", "events")}
        con.close()
        second = stadtradar("run", "--sources", "sources.yml", "--db", str(db), "--replay", str(SNAPSHOT),
                            home=folder, **prefect_api)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        (folder / "before.json").write_text(json.dumps(before), encoding="utf-8")

    folder = built_once(tmp_path_factory, "e2e-rerun", rerun)
    return {"db": folder / "stadtradar.duckdb", "home": tmp_path_factory.mktemp("e2e"),
            "before": json.loads((folder / "before.json").read_text(encoding="utf-8"))}


@pytest.fixture
def con(warehouse):
    connection = duckdb.connect(str(warehouse["db"]), read_only=True)
    yield connection
    connection.close()


def test_articles_from_all_six_publishers(con):
    by_source = dict(con.execute("select source_id, count(*) from marts.articles group by all").fetchall())
    assert set(by_source) == {"dresden", "dortmund", "dlr", "smart_city_dialog", "dresden_presse",
                              "dortmund_smart_city"}
    assert sum(by_source.values()) >= 22
    assert con.execute("select count(*) from marts.articles where title is null or body_text is null "
                       "or published_date is null").fetchone()[0] == 0


def test_listing_pages_never_become_articles(con):
    urls = [u for (u,) in con.execute("select url from marts.articles").fetchall()]
    listings = ("/news/neuigkeiten", "/de/news", "/aktuelles/news", "/pressemitteilungen.php", "/smart-city/aktuelles")
    assert not any(u.rstrip("/").endswith(listings) for u in urls)


def test_irrelevant_city_news_is_kept_and_flagged(con):
    flags = dict(con.execute("select is_relevant, count(*) from marts.articles group by all").fetchall())
    assert flags.get(True, 0) > 0 and flags.get(False, 0) > 0


def test_konstanz_regional_conference_with_its_venue(con):
    rows = con.execute(
        "select e.venue, e.start_time from marts.events e join marts.cities c using (city_id) "
        "where c.name = 'Konstanz' and e.start_date = date '2025-09-24'").fetchall()
    assert rows, "the Regionalkonferenz in Konstanz on 2025-09-24 is missing"
    assert any(venue and "Bodenseeforum" in venue for venue, _ in rows)


def test_dresden_innovation_forum(con):
    assert con.execute(
        "select count(*) from marts.events e join marts.cities c using (city_id) "
        "where c.name = 'Dresden' and e.start_date = date '2025-10-29'").fetchone()[0] >= 1


def test_cities_are_geocoded_and_programmes_linked(con):
    dresden = con.execute(
        "select country_code, latitude, longitude from marts.cities where name = 'Dresden'").fetchone()
    assert dresden[0] == "DE" and 50.9 < dresden[1] < 51.2 and 13.6 < dresden[2] < 13.9
    programmes = {p for (p,) in con.execute(
        "select p.acronym from marts.article_programmes join marts.programmes p using (programme_id)").fetchall()}
    assert "MPSC" in programmes


def test_rerun_is_idempotent_and_fetches_no_article_again(con, warehouse):
    after = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in warehouse["before"]}
    assert after == warehouse["before"]
    runs = con.execute("select articles_new, articles_updated, status from ops.runs where flow = 'ingest' "
                       "order by started_at").fetchall()
    assert len(runs) == 2 and runs[0][0] > 0
    assert runs[1][:2] == (0, 0) and runs[1][2] == "ok"
    fetched_twice = con.execute(
        "select count(*) from raw.pages where page_kind = 'article' and run_id = (select run_id from ops.runs "
        "where flow = 'ingest' "
        "order by started_at desc limit 1)").fetchone()[0]
    assert fetched_twice == 0


def test_a_read_only_copy_is_published_for_bi_tools(warehouse):
    published = Path(warehouse["db"]).parent / "published" / Path(warehouse["db"]).name
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert con.execute("select count(*) from marts.articles").fetchone()[0] == warehouse["before"]["articles"]
        # refreshed after the second run too, which changed nothing and so built nothing
        assert con.execute("select count(*) from ops.runs where flow = 'ingest' and status = 'ok'").fetchone()[0] == 2
    finally:
        con.close()


def test_query_is_read_only(warehouse):
    denied = stadtradar("query", "--db", str(warehouse["db"]), "drop table marts.articles", home=warehouse["home"])
    assert denied.returncode == 1 and "read-only" in denied.stderr
    shown = stadtradar("query", "--db", str(warehouse["db"]), "--format", "json",
                       "select count(*) as n from marts.articles", home=warehouse["home"])
    assert shown.returncode == 0 and '"n":' in shown.stdout


def test_bad_sql_and_bad_config_exit_1_with_a_clear_message(warehouse, tmp_path):
    bad_sql = stadtradar("query", "--db", str(warehouse["db"]), "selec 1", home=warehouse["home"])
    assert bad_sql.returncode == 1 and "query failed" in bad_sql.stderr
    broken = tmp_path / "sources.yml"
    broken.write_text("sources:\n  - id: x\n    name: X\n    kind: town\n    listings: [https://x.de/]\n")
    refused = stadtradar("run", "--sources", str(broken), "--db", str(tmp_path / "x.duckdb"), home=warehouse["home"])
    assert refused.returncode == 1 and "key 'kind'" in refused.stderr and not (tmp_path / "x.duckdb").exists()


def test_reparse_rebuilds_from_the_archive_without_network(warehouse, tmp_path, monkeypatch, prefect_api):
    copy = copy_warehouse(warehouse["db"], tmp_path / "copy.duckdb")  # with its page archive
    with duckdb.connect(str(copy), read_only=True) as con:
        extracted = con.execute("select count(*) from raw.articles").fetchone()[0]
        versions = con.execute("select count(*) from raw.article_versions").fetchone()[0]
    monkeypatch.setenv("STADTRADAR_BATCH_SIZE", "2")  # the archive is read in batches: several per source
    done = stadtradar("reparse", "--sources", "sources.yml", "--db", str(copy), home=warehouse["home"],
                      **prefect_api)
    assert done.returncode == 0, done.stderr[-2000:]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert con.execute("select count(*) from marts.articles").fetchone()[0] == warehouse["before"]["articles"]
        reparse_run = con.execute("select run_id from ops.runs where flow = 'reparse'").fetchone()[0]
        # Every article was extracted again by the reparse, none twice.
        assert con.execute("select count(*), count(distinct article_id), count(*) filter (where run_id = ?) "
                           "from raw.articles", [reparse_run]).fetchone() == (extracted,) * 3
        # Extracting the same pages again is not an edit of them: no version is added.
        assert con.execute("select count(*) from raw.article_versions").fetchone()[0] == versions
    finally:
        con.close()


def test_published_dates_are_plausible(con):
    latest = con.execute("select max(published_date) from marts.articles").fetchone()[0]
    assert latest <= dt.date.today()
