"""The dbt project builds its marts from a raw schema (empty or realistic) with every test passing."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
DRESDEN, KONSTANZ, LEIPZIG = "2935022", "2885679", "2879139"


def dbt_build(db: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """Run `dbt build` as the flow does, with target and log paths of its own."""
    env = {**os.environ, "STADTRADAR_DB": str(db), "DBT_TARGET_PATH": str(work / "target"),
           "DBT_LOG_PATH": str(work / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(DBT), "build", "--project-dir", "dbt", "--profiles-dir", "dbt"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def raw_schema(db: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(db))
    con.execute((ROOT / "warehouse" / "schema.sql").read_text(encoding="utf-8"))
    return con


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """Two cities, two sources, one article republished at a second URL, one event reported twice."""
    now = dt.datetime(2025, 9, 3, 12, 0)
    text = "Die Landeshauptstadt Dresden ist Modellprojekt Smart Cities. Auch Konstanz ..."
    articles = [
        ("a1", "dresden", "https://www.dresden.de/news/smart-city", "Dresden wird Smart City", text,
         dt.date(2025, 8, 14), True, "h1"),
        ("a2", "konstanz", "https://www.konstanz.de/news/klima", "Klimaforum", "Konstanz lädt ein.",
         dt.date(2025, 9, 1), False, "h2"),
        ("a3", "bund", "https://www.bund.de/presse/dresden", "Dresden wird Smart City", text,
         dt.date(2025, 8, 15), True, "h1"),
    ]
    for a_id, source, url, title, body, published, relevant, digest in articles:
        con.execute("insert into raw.articles values (?, ?, ?, ?, null, ?, ?, null, null, 'de', ?, 0.5, ?, ?, "
                    "null, ?, 'r1')", [a_id, source, url, title, body, published, relevant, [], digest, now])
    con.execute(f"insert into raw.cities values ('{DRESDEN}', 'Dresden', 'DE', '13', 51.05, 13.74, 556780), "
                f"('{KONSTANZ}', 'Konstanz', 'DE', '01', 47.66, 9.18, 84911), "
                f"('{LEIPZIG}', 'Leipzig', 'DE', '13', 51.34, 12.37, 587857)")
    con.executemany("insert into raw.mentions values (?, ?, ?, ?, ?, ?, ?)", [
        ("a1", "city", DRESDEN, "Landeshauptstadt Dresden", 4, 1, None),
        ("a1", "city", KONSTANZ, "Konstanz", 66, 1, None),
        ("a1", "programme", "mpsc", "Modellprojekt Smart Cities", 40, 1, "modellprojekt"),
        ("a3", "city", DRESDEN, "Landeshauptstadt Dresden", 4, 1, None),
        ("a3", "programme", "mpsc", "Modellprojekt Smart Cities", 40, 1, "modellprojekt"),
        ("a2", "city", KONSTANZ, "Konstanz", 0, 1, None),
        ("a2", "programme", "discovered:klimaforum", "Klimaforum", 0, 1, None),
    ])
    con.executemany("insert into raw.events values (?, ?, ?, ?, ?, null, null, ?, ?, ?, ?)", [
        ("a1", 0, "Smart City Tag", dt.date(2025, 10, 1), dt.date(2025, 10, 2), LEIPZIG, False, None, "e1"),
        ("a2", 0, "Smart-City-Tag Leipzig", dt.date(2025, 10, 1), None, LEIPZIG, False, "Messe", "e2"),
        ("a2", 1, "Webinar", dt.date(2025, 9, 10), dt.date(2025, 9, 1), None, True, None, "e3"),
    ])


def test_builds_on_an_empty_raw_schema(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    raw_schema(db).close()
    done = dbt_build(db, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        for mart in ("articles", "cities", "article_cities", "programmes", "article_programmes", "events",
                     "upcoming_events", "city_programmes", "sources"):
            con.execute(f"select * from marts.{mart}").fetchall()
        assert con.execute("select count(*) from marts.programmes where not is_discovered").fetchone()[0] > 0


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("dbt")
    db = work / "x.duckdb"
    con = raw_schema(db)
    fill(con)
    con.close()
    done = dbt_build(db, work)
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        yield con


def test_same_content_at_two_urls_is_one_article(marts) -> None:
    rows = marts.execute("select article_id, duplicate_urls from marts.articles order by article_id").fetchall()
    assert rows == [("a1", ["https://www.bund.de/presse/dresden"]), ("a2", [])]


def test_cities_carry_their_bundesland_and_mentions(marts) -> None:
    rows = marts.execute("select name, state, article_count, programme_ids from marts.cities order by name").fetchall()
    assert rows == [("Dresden", "Sachsen", 1, ["mpsc"]), ("Konstanz", "Baden-Württemberg", 2, ["mpsc"]),
                    ("Leipzig", "Sachsen", 2, [])]


def test_programmes_include_catalogue_and_discovered(marts) -> None:
    rows = dict(marts.execute("select programme_id, is_discovered from marts.programmes").fetchall())
    assert rows["mpsc"] is False and rows["discovered:klimaforum"] is True
    aliases = marts.execute("select aliases from marts.programmes where programme_id = 'mpsc'").fetchone()[0]
    assert isinstance(aliases, list) and aliases
    assert marts.execute("select article_id, programme_id, role from marts.article_programmes "
                         "where programme_id = 'mpsc'").fetchall() == [("a1", "mpsc", "modellprojekt")]


def test_an_event_reported_twice_is_kept_once(marts) -> None:
    rows = marts.execute("select start_date, city_id, end_date, venue, article_id, is_online from marts.events "
                         "order by start_date").fetchall()
    assert rows == [(dt.date(2025, 9, 10), None, None, None, "a2", True),
                    (dt.date(2025, 10, 1), LEIPZIG, dt.date(2025, 10, 2), "Messe", "a1", False)]
