"""The dbt project builds its marts from a raw schema (empty or realistic) with every test passing, and its
incremental models give the same marts as a full refresh."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.warehouse_fixture import built_once, copy_warehouse
from warehouse.db import connect

pytestmark = pytest.mark.e2e  # builds dbt or runs the pipeline: `make test` runs it, `make test-fast` skips it

ROOT = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
DRESDEN, KONSTANZ, LEIPZIG = "2935022", "2885679", "2879139"
SIMHASH = 0x0F0F_1234_ABCD_5678  # the body of the Dresden story; copies differ from it in a few bits
MARTS = ("articles", "article_versions", "cities", "article_cities", "programmes", "article_programmes", "events",
         "upcoming_events", "city_programmes", "city_activity_monthly", "sources", "runs", "source_runs")


def dbt(db: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a dbt command as the flow does, with target and log paths of its own (kept for partial parsing)."""
    env = {**os.environ, "STADTRADAR_DB": str(db), "DBT_TARGET_PATH": str(work / "target"),
           "DBT_LOG_PATH": str(work / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([str(DBT), *args, "--project-dir", "dbt", "--profiles-dir", "dbt"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def dbt_build(db: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return dbt(db, work, "build", *args)


def raw_schema(db: Path) -> duckdb.DuckDBPyConnection:
    connect(db).close()  # the raw schema, made by the warehouse's migrations
    return duckdb.connect(str(db))


def add_article(con: duckdb.DuckDBPyConnection, article_id: str, source: str, url: str, title: str,
                body: str | None, published: dt.date, relevant: bool, digest: str, simhash: int,
                at: dt.datetime, run: str) -> None:
    """Write an article as warehouse/load.py does: archive record, article row (replaced), version (appended)."""
    page_hash = "p" + digest
    # By name, so a column added to the raw schema later (with a default or nullable) does not break the test.
    # The text tables declare no keys (warehouse/migrations/0001_initial.sql): the loader keeps them, and so does
    # this helper.
    con.execute("insert into raw.pages by name select * from (select ? as url, ? as content_hash, ? as source_id, "
                "? as requested_url, ? as final_url, 200 as status, 'text/html' as content_type, "
                "13 as body_chars, 'article' as page_kind, ? as fetched_at, ? as run_id, ? as warc_file, "
                "0 as warc_offset, 100 as warc_length) n "
                "where not exists (select 1 from raw.pages p where p.url = n.url and p.content_hash = n.content_hash)",
                [url, page_hash, source, url, url, at, run, f"{source}/{run}.warc.gz"])
    con.execute("insert or replace into ops.http_state by name select ? as url, ? as source_id, "
                "'article' as page_kind, ? as content_hash, 200 as last_status, ? as last_fetched, ? as run_id",
                [url, source, page_hash, at, run])
    con.execute("delete from raw.articles where article_id = ?", [article_id])
    con.execute("insert into raw.articles by name select ? as article_id, ? as source_id, ? as url, "
                "? as title, ? as body_text, ? as published_date, 'de' as language, ? as is_relevant, "
                "0.5 as relevance_score, ? as content_hash, ? as simhash, ? as page_url, "
                "? as page_content_hash, ? as fetch_run_id, 'x1' as extractor_version, ? as extracted_at, "
                "? as run_id",
                [article_id, source, url, title, body, published, relevant, digest, simhash, url, page_hash,
                 run, at, run])
    con.execute("insert into raw.article_versions by name select ? as article_id, ? as content_hash, ? as url, "
                "? as title, ? as body_text, ? as published_date, ? as page_content_hash, ? as first_seen_at, "
                "? as run_id where not exists (select 1 from raw.article_versions v where v.article_id = ? "
                "and v.content_hash = ?)",
                [article_id, digest, url, title, body, published, page_hash, at, run, article_id, digest])


def add_run(con: duckdb.DuckDBPyConnection, run: str, at: dt.datetime, failed_sources: tuple[str, ...] = ()) -> None:
    con.execute("insert into ops.runs values (?, 'ingest', ?, ?, ?, 3, ?, 4, 4, 0, 0, 0)",
                [run, at, at + dt.timedelta(minutes=1), "partial" if failed_sources else "ok", len(failed_sources)])
    for source in ("dresden", "konstanz", "bund"):
        failed = source in failed_sources
        con.execute("insert into ops.source_runs by name select ? as run_id, ? as source_id, 2 as discovered, "
                    "2 as fetched, 0 as not_modified, 1 as articles, 1 as articles_new, 0 as articles_updated, "
                    "0 as articles_unchanged, ? as errors, ? as failed, ? as share_title, 1 as share_date, "
                    "1 as share_body, 1 as share_entity, ? as healthy, ? as health_reason, ? as finished_at",
                    [run, source, int(failed), failed, None if failed else 1.0, not failed,
                     "source failed" if failed else None, at])


def fill(con: duckdb.DuckDBPyConnection) -> None:
    """Three sources, three cities; one story at three URLs (one an edited copy); two empty pages alike;
    one event reported twice."""
    now = dt.datetime(2025, 9, 3, 12, 0)
    for source, name, kind, city in (("dresden", "Landeshauptstadt Dresden", "municipal", "Dresden"),
                                     ("konstanz", "Stadt Konstanz", "municipal", "Konstanz"),
                                     ("bund", "Bundesministerium", "federal", None)):
        con.execute("insert into raw.sources values (?, ?, ?, ?, 'CC BY 4.0', 'https://example.org/terms', 1, ?)",
                    [source, name, kind, city, now])
    add_run(con, "r1", now)
    text = "Die Landeshauptstadt Dresden ist Modellprojekt Smart Cities. Auch Konstanz ..."
    add_article(con, "a1", "dresden", "https://www.dresden.de/news/smart-city", "Dresden wird Smart City", text,
                dt.date(2025, 8, 14), True, "h1", SIMHASH, now, "r1")
    add_article(con, "a2", "konstanz", "https://www.konstanz.de/news/klima", "Klimaforum", "Konstanz lädt ein.",
                dt.date(2025, 9, 1), False, "h2", 0x1111_0000_2222_3333, now, "r1")
    add_article(con, "a3", "bund", "https://www.bund.de/presse/dresden", "Dresden wird Smart City", text,
                dt.date(2025, 8, 15), True, "h1", SIMHASH, now, "r1")
    # Syndicated with a small edit: another content hash, SimHash 2 bits away.
    add_article(con, "a4", "bund", "https://www.bund.de/presse/dresden-kopie", "Dresden wird Smart City!",
                text + " Ergänzt.", dt.date(2025, 8, 16), True, "h4", SIMHASH ^ 0b101, now, "r1")
    # Title-only stubs: same content hash, empty body, SimHash 0 -> never merged.
    add_article(con, "s1", "bund", "https://www.bund.de/presse/termin-1", "Termin", None, dt.date(2025, 8, 20),
                False, "h5", 0, now, "r1")
    add_article(con, "s2", "bund", "https://www.bund.de/presse/termin-2", "Termin", None, dt.date(2025, 8, 20),
                False, "h5", 0, now, "r1")
    con.execute(f"insert into raw.cities values ('{DRESDEN}', 'Dresden', 'DE', '13', 51.05, 13.74, 556780), "
                f"('{KONSTANZ}', 'Konstanz', 'DE', '01', 47.66, 9.18, 84911), "
                f"('{LEIPZIG}', 'Leipzig', 'DE', '13', 51.34, 12.37, 587857)")
    con.executemany("insert into raw.mentions values (?, ?, ?, ?, ?, ?)", [
        ("a1", "city", DRESDEN, "Landeshauptstadt Dresden", 4, 1),
        ("a1", "city", KONSTANZ, "Konstanz", 66, 1),
        ("a1", "programme", "mpsc", "Modellprojekt Smart Cities", 40, 1),
        ("a3", "city", DRESDEN, "Landeshauptstadt Dresden", 4, 1),
        ("a3", "programme", "mpsc", "Modellprojekt Smart Cities", 40, 1),
        ("a4", "city", DRESDEN, "Landeshauptstadt Dresden", 4, 1),
        ("a2", "city", KONSTANZ, "Konstanz", 0, 1),
        ("a2", "programme", "discovered:klimaforum", "Klimaforum", 0, 1),
    ])
    # The role is stated about Dresden only; Konstanz is named in the article beside the programme.
    stated = "Die Landeshauptstadt Dresden ist Modellprojekt Smart Cities."
    con.executemany("insert into raw.participations values (?, ?, ?, ?, ?)", [
        ("a1", DRESDEN, "mpsc", "modellprojekt", stated),
        ("a1", KONSTANZ, "mpsc", "mentioned", None),
        ("a3", DRESDEN, "mpsc", "modellprojekt", stated),
        ("a2", KONSTANZ, "discovered:klimaforum", "mentioned", "Klimaforum"),
    ])
    con.executemany("insert into raw.events values (?, ?, ?, ?, ?, null, null, ?, ?, ?, ?, ?, ?, ?, ?)", [
        ("a1", 0, "Smart City Tag", dt.date(2025, 10, 1), dt.date(2025, 10, 2), LEIPZIG, False, None, None,
         "Konferenz", None, "mpsc", "e1"),
        ("a2", 0, "Smart-City-Tag Leipzig", dt.date(2025, 10, 1), None, LEIPZIG, False, "Messe",
         "Messe-Allee 1, 04356 Leipzig", "konferenz", "Stadt Leipzig", None, "e2"),
        ("a2", 1, "Webinar", dt.date(2025, 9, 10), dt.date(2025, 9, 1), None, True, None, None, "Online-Seminar",
         None, "discovered:unbekannt", "e3"),
    ])


def second_load(con: duckdb.DuckDBPyConnection) -> None:
    """A later run as load.py writes it: a2 re-extracted without any mention or event, a1 rewritten, and a
    new article that is an earlier-published copy of the Dresden story (it becomes the canonical one)."""
    now = dt.datetime(2025, 9, 10, 12, 0)
    add_run(con, "r2", now, failed_sources=("bund",))
    for article_id in ("a1", "a2"):
        for table in ("raw.mentions", "raw.participations", "raw.events"):
            con.execute(f"delete from {table} where article_id = ?", [article_id])
    add_article(con, "a2", "konstanz", "https://www.konstanz.de/news/klima", "Klimaforum", "Abgesagt.",
                dt.date(2025, 9, 1), False, "h2b", 0x7777_0000_8888_9999, now, "r2")
    add_article(con, "a1", "dresden", "https://www.dresden.de/news/smart-city", "Dresden wird Smart City",
                "Dresden und Leipzig ...", dt.date(2025, 8, 14), True, "h1b", SIMHASH ^ (1 << 63), now, "r2")
    add_article(con, "a7", "dresden", "https://www.dresden.de/a7", "Dresden wird Smart City", "Vorab ...",
                dt.date(2025, 8, 1), True, "h7", SIMHASH ^ (1 << 20) ^ (1 << 40), now, "r2")
    con.executemany("insert into raw.mentions values (?, ?, ?, ?, ?, ?)", [
        ("a1", "city", LEIPZIG, "Leipzig", 12, 1),
        ("a7", "city", DRESDEN, "Dresden", 0, 2),
    ])
    con.execute("insert into raw.events values ('a1', 0, 'Smart City Tag', '2025-10-01', null, null, null, ?, "
                "false, 'Kongresshalle', null, 'kongress', null, null, 'e4')", [LEIPZIG])


def rows_of(db: Path) -> dict[str, list[str]]:
    """Every row of every intermediate and mart relation, order-independent."""
    with duckdb.connect(str(db), read_only=True) as con:
        relations = con.execute("select table_schema, table_name from information_schema.tables "
                                "where table_schema in ('intermediate', 'marts') order by all").fetchall()
        return {f"{schema}.{name}": sorted(map(repr, con.execute(f"select * from {schema}.{name}").fetchall()))
                for schema, name in relations}


def test_builds_on_an_empty_raw_schema(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    raw_schema(db).close()
    done = dbt_build(db, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        for mart in MARTS:
            con.execute(f"select * from marts.{mart}").fetchall()
        assert con.execute("select count(*) from marts.programmes where not is_discovered").fetchone()[0] > 0


def build_filled(work: Path) -> None:
    """The raw schema filled by fill() and the dbt project built on it, into work/x.duckdb."""
    db = work / "x.duckdb"
    con = raw_schema(db)
    fill(con)
    con.close()
    done = dbt_build(db, work)
    assert done.returncode == 0, done.stdout[-3000:]


def filled_and_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of build_filled, built once per test run (the marts tests read it, the incremental test
    starts from a copy of it); read-only."""
    return built_once(tmp_path_factory, "dbt-filled", build_filled) / "x.duckdb"


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory):
    with duckdb.connect(str(filled_and_built(tmp_path_factory)), read_only=True) as con:
        yield con


def test_exact_and_near_duplicates_are_one_article(marts) -> None:
    rows = marts.execute("select article_id, duplicate_urls from marts.articles order by article_id").fetchall()
    assert rows == [("a1", ["https://www.bund.de/presse/dresden", "https://www.bund.de/presse/dresden-kopie"]),
                    ("a2", []), ("s1", []), ("s2", [])]
    kinds = dict(marts.execute("select article_id, duplicate_kind from intermediate.int_article_canonical_ids")
                 .fetchall())
    assert kinds == {"a1": "canonical", "a2": "canonical", "a3": "exact", "a4": "near", "s1": "canonical",
                     "s2": "canonical"}


def test_articles_name_their_archive_record(marts) -> None:
    row = marts.execute("select page_url, page_content_hash, fetch_run_id, extractor_version from marts.articles "
                        "where article_id = 'a1'").fetchone()
    assert row == ("https://www.dresden.de/news/smart-city", "ph1", "r1", "x1")
    assert marts.execute("select count(*) from marts.articles a join raw.pages p "
                         "on p.url = a.page_url and p.content_hash = a.page_content_hash").fetchone()[0] == 4


def test_cities_carry_their_bundesland_and_mentions(marts) -> None:
    rows = marts.execute("select name, state, article_count, programme_ids from marts.cities order by name").fetchall()
    # Konstanz is only named beside the programme: it takes no part in it.
    assert rows == [("Dresden", "Sachsen", 1, ["mpsc"]), ("Konstanz", "Baden-Württemberg", 2, []),
                    ("Leipzig", "Sachsen", 2, [])]


def test_city_activity_counts_per_month(marts) -> None:
    rows = marts.execute("select city_name, month, articles, events, programmes_named from marts.city_activity_monthly "
                         "order by city_name, month").fetchall()
    aug, sep, oct_ = dt.date(2025, 8, 1), dt.date(2025, 9, 1), dt.date(2025, 10, 1)
    assert rows == [("Dresden", aug, 1, 0, 1), ("Konstanz", aug, 1, 0, 1), ("Konstanz", sep, 1, 0, 1),
                    ("Leipzig", aug, 1, 0, 1), ("Leipzig", sep, 1, 0, 1), ("Leipzig", oct_, 0, 1, 0)]


def test_programmes_include_catalogue_and_discovered(marts) -> None:
    rows = dict(marts.execute("select programme_id, is_discovered from marts.programmes").fetchall())
    assert rows["mpsc"] is False and rows["discovered:klimaforum"] is True
    aliases = marts.execute("select aliases from marts.programmes where programme_id = 'mpsc'").fetchone()[0]
    assert isinstance(aliases, list) and aliases
    assert marts.execute("select article_id, programme_id from marts.article_programmes "
                         "where programme_id = 'mpsc'").fetchall() == [("a1", "mpsc")]


def test_city_programmes_hold_the_role_stated_about_each_city(marts) -> None:
    rows = marts.execute("select city_id, programme_id, role, is_stated, evidence, evidence_article_id, article_count "
                         "from marts.city_programmes order by all").fetchall()
    assert rows == [
        (KONSTANZ, "discovered:klimaforum", "mentioned", False, "Klimaforum", "a2", 1),
        (KONSTANZ, "mpsc", "mentioned", False, None, "a1", 1),
        # Stated in a1 and in its exact copy a3: one article.
        (DRESDEN, "mpsc", "modellprojekt", True, "Die Landeshauptstadt Dresden ist Modellprojekt Smart Cities.",
         "a1", 1),
    ]


def test_an_event_reported_twice_is_kept_once(marts) -> None:
    rows = marts.execute("select start_date, city_id, end_date, venue, address, article_id, is_online, event_type, "
                         "organiser, programme_id, report_count from marts.events order by start_date").fetchall()
    assert rows == [
        (dt.date(2025, 9, 10), None, None, None, None, "a2", True, "other", None, None, 1),
        (dt.date(2025, 10, 1), LEIPZIG, dt.date(2025, 10, 2), "Messe", "Messe-Allee 1, 04356 Leipzig", "a1", False,
         "konferenz", "Stadt Leipzig", "mpsc", 2),
    ]


def test_sources_carry_licence_and_last_run_health(marts) -> None:
    rows = marts.execute("select source_id, name, licence, articles, relevant_articles, last_success_run_id, healthy "
                         "from marts.sources order by source_id").fetchall()
    assert rows == [("bund", "Bundesministerium", "CC BY 4.0", 2, 0, "r1", True),
                    ("dresden", "Landeshauptstadt Dresden", "CC BY 4.0", 1, 1, "r1", True),
                    ("konstanz", "Stadt Konstanz", "CC BY 4.0", 1, 0, "r1", True)]


def test_incremental_build_equals_full_refresh(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Build, load more (re-extracted, rewritten and new articles), build incrementally: every intermediate
    and mart relation equals a from-scratch `--full-refresh` build over the same raw data."""
    # The first build is the one the marts tests read (fill(), then `dbt build`): a copy of it.
    db = copy_warehouse(filled_and_built(tmp_path_factory), tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(db)) as con:
        second_load(con)
    (tmp_path / "raw").mkdir()
    shutil.copy(db, tmp_path / "raw" / db.name)

    incremental = dbt_build(db, tmp_path)
    assert incremental.returncode == 0, incremental.stdout[-3000:]
    assert "incremental" in incremental.stdout
    (tmp_path / "incremental").mkdir()
    incremental_db = db.rename(tmp_path / "incremental" / db.name)
    # Same path for the reference build, so dbt's partial parsing applies; the copy holds the same seeds,
    # so `run` (the models, without the tests already run above) is enough.
    (tmp_path / "raw" / db.name).rename(db)
    full = dbt(db, tmp_path, "run", "--full-refresh")
    assert full.returncode == 0, full.stdout[-3000:]

    got, want = rows_of(incremental_db), rows_of(db)
    assert got.keys() == want.keys()
    assert {name for name in got if got[name] != want[name]} == set()

    with duckdb.connect(str(incremental_db), read_only=True) as con:
        # The article that lost all its mentions has none left; the new early copy took over the story.
        assert con.execute("select count(*) from marts.article_cities where article_id = 'a2'").fetchone()[0] == 0
        assert con.execute("select article_id, len(duplicate_urls) from marts.articles where article_id in "
                           "('a1', 'a7')").fetchall() == [("a7", 3)]
        versions = con.execute("select content_hash, valid_to is null, is_current from marts.article_versions "
                               "where page_article_id = 'a1' order by version_number").fetchall()
        assert versions == [("h1", False, False), ("h1b", True, True)]
        assert con.execute("select last_success_run_id, last_run_id, healthy from marts.sources "
                           "where source_id = 'bund'").fetchone() == ("r1", "r2", False)
