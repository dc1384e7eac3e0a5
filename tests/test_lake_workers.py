"""Three Prefect workers ingest twelve loopback sites at once into a DuckLake on PostgreSQL: nothing lost, no
duplicates, and the marts equal those of an embedded run over the same sites.

Slow (a PostgreSQL and a Prefect server, three workers, two dbt builds: about a minute and a half), so it has the
`lake` marker: `make test-lake` runs it, and `.ci/run` runs that after `make test`.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

from benchmarks.corpus import Corpus
from benchmarks.server import SiteServer
from scrapers.config import load_sources
from scrapers.shards import shard_sources
from tests.services import postgres_server, prefect_server, prefect_workers, require_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.lake]

SITES, ARTICLES, SHARDS, WORKERS = 12, 48, 3, 3
POOL = "stadtradar-test"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("sites")
    servers = [SiteServer() for _ in range(SITES)]
    try:
        corpus = Corpus(ARTICLES, [s.base_url for s in servers])
        routes = corpus.write(folder / "pages")
        for server, site in zip(servers, corpus.sites, strict=True):
            server.start(routes[site.index])
        sources_file = folder / "sources.yml"
        sources_file.write_text(corpus.sources_yaml(), encoding="utf-8")
        yield sources_file
    finally:
        for server in servers:
            server.stop()


def _cli(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "stadtradar"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _marts(db: Path) -> dict[str, list[tuple]]:
    """Every mart's rows (tables and views) without run-dependent columns, sorted; the ledgers of runs differ."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' union select view_name from "
            "duckdb_views() where schema_name = 'marts' except select unnest(['runs', 'source_runs'])").fetchall()]
        result = {}
        for table in tables:
            # Timestamps and run ids differ between any two runs; every other column must be equal.
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
                "and data_type not like 'TIMESTAMP%' and column_name not like '%run_id' order by column_index",
                [table]).fetchall()]
            listed = ", ".join(f'"{c}"' for c in columns)
            result[table] = sorted(con.execute(f"select {listed} from marts.{table}").fetchall(), key=repr)
        return result
    finally:
        con.close()


def test_three_workers_fill_one_lake_like_an_embedded_run(sites: Path, tmp_path: Path):
    require_postgres()
    sources = load_sources(sites)
    assert len(sources) == SITES
    # The sites fall into every shard, so there are three shard runs for three workers.
    assert all(shard_sources(sources, k, SHARDS) for k in range(1, SHARDS + 1))

    embedded_db = tmp_path / "embedded" / "stadtradar.duckdb"
    embedded_db.parent.mkdir()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STADTRADAR_"))}
    embedded = _cli(["run", "--sources", str(sites), "--db", str(embedded_db)],
                    {**base_env, "PREFECT_HOME": str(tmp_path / "prefect-embedded")})
    assert embedded.returncode == 0, embedded.stdout[-2000:] + embedded.stderr[-2000:]

    with postgres_server(tmp_path / "pg") as pg, prefect_server(tmp_path / "prefect") as api:
        pg.create_database("lake")
        lake_db = tmp_path / "lake-home" / "stadtradar.duckdb"
        lake_db.parent.mkdir()
        env = {**base_env, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "prefect"),
               "STADTRADAR_BACKEND": "ducklake", "STADTRADAR_LAKE_CATALOG": "postgres:" + pg.dsn("lake"),
               "STADTRADAR_LAKE_DATA": str(tmp_path / "lake-data"), "STADTRADAR_SPOOL": str(tmp_path / "spool"),
               "STADTRADAR_DB": str(lake_db)}
        deployed = _cli(["lake", "deploy", "--pool", POOL, "--shards", str(SHARDS), "--sources", str(sites)], env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        with prefect_workers(api, POOL, WORKERS, tmp_path / "workers", env):
            started = dt.datetime.now(dt.UTC)
            run = subprocess.run([str(BIN / "prefect"), "deployment", "run", "lake-pipeline/stadtradar-lake",
                                  "--watch", "--watch-timeout", "400"], env=env, capture_output=True, text=True,
                                 timeout=450, check=False)
            shard_runs = _flow_runs(api, "lake-ingest", started)
            host_limits = _host_limits(api)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:] + _logs(tmp_path / "workers")
        # Nothing twice in the lake: no key (or, for keyless tables, no whole row) repeats.
        assert set(_lake_duplicates(env["STADTRADAR_LAKE_CATALOG"]).values()) == {0}

    # Each shard ran as its own flow run on the pool, all completed; the pipeline submitted them at once (whether
    # they then overlap depends on which worker polls first and on the load of the two cores, so it is not asserted).
    assert len(shard_runs) == SHARDS
    assert {r["state_type"] for r in shard_runs} == {"COMPLETED"}
    assert max(r["created"] for r in shard_runs) - min(r["created"] for r in shard_runs) < dt.timedelta(seconds=10)
    # One concurrency limit per host, of one slot, all released.
    assert len(host_limits) == SITES
    assert {(limit["limit"], limit["active_slots"]) for limit in host_limits} == {(1, 0)}

    snapshot = lake_db.parent / "published" / lake_db.name
    lake_marts, embedded_marts = _marts(snapshot), _marts(embedded_db)
    assert len(lake_marts["articles"]) == ARTICLES
    assert lake_marts.keys() == embedded_marts.keys()
    for table in embedded_marts:
        assert lake_marts[table] == embedded_marts[table], table
    # Every article was crawled by exactly one shard: the spools' article ids are disjoint and cover all.
    ids: list[str] = []
    for file in sorted((tmp_path / "spool").glob("shard-*-of-*.duckdb")):
        with duckdb.connect(str(file), read_only=True) as con:
            ids += [r[0] for r in con.execute("select article_id from raw.articles").fetchall()]
    assert len(ids) == len(set(ids)) == ARTICLES


def _lake_duplicates(catalog: str) -> dict[str, int]:
    """Per pushed lake table, how many rows repeat another row's key (or whole row, for keyless tables)."""
    from warehouse.lake import PUSH_RULES, connect_lake, lake_config

    keys = {("raw", "articles"): "article_id", ("raw", "sources"): "source_id", ("raw", "cities"): "city_id",
            ("raw", "pages"): "url, content_hash", ("ops", "http_state"): "url", ("ops", "runs"): "run_id",
            ("ops", "article_index"): "article_id", ("ops", "extracted_pages"): "url",
            ("ops", "source_runs"): "run_id, source_id", ("raw", "events"): "article_id, event_index",
            ("raw", "mentions"): "article_id, entity_type, entity_id"}
    con = connect_lake(lake_config(catalog, None), read_only=True)
    try:
        repeats = {}
        for (schema, table), (rule, _) in PUSH_RULES.items():
            if rule == "local" or (schema, table) == ("ops", "source_checks"):
                continue
            key = keys.get((schema, table), "*")
            key_rows = f"select {key} from lake.{schema}.{table}" if key != "*" else f"from lake.{schema}.{table} t"
            repeats[f"{schema}.{table}"] = con.execute(
                f"select (select count(*) from ({key_rows})) - (select count(*) from (select distinct * from "
                f"({key_rows})))").fetchone()[0]
        return repeats
    finally:
        con.close()


def _flow_runs(api: str, flow_name: str, since: dt.datetime) -> list[dict]:
    body = {"flows": {"name": {"any_": [flow_name]}},
            "flow_runs": {"start_time": {"after_": since.isoformat()}}}
    runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).raise_for_status().json()
    return [{"state_type": r["state_type"], "created": dt.datetime.fromisoformat(r["created"]),
             "start_time": dt.datetime.fromisoformat(r["start_time"]),
             "end_time": dt.datetime.fromisoformat(r["end_time"])} for r in runs]


def _host_limits(api: str) -> list[dict]:
    limits = httpx.post(f"{api}/v2/concurrency_limits/filter", json={}, timeout=30).raise_for_status().json()
    return [limit for limit in limits if limit["name"].startswith("stadtradar-host:")]


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in sorted(folder.glob("*.log")))
