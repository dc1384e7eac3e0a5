"""The DuckLake backend's deployed pipeline with 1, 2, 3 … Prefect process workers over one loopback corpus,
measured against an embedded `stadtradar run` of the same sites."""
from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import httpx

from benchmarks.corpus import Corpus
from benchmarks.processes import process_trees, rss_kb
from benchmarks.server import SiteServer
from tests.services import VENV_BIN

if TYPE_CHECKING:
    from tests.services import PostgresServer

PIPELINE = "lake-pipeline/stadtradar-lake"  # flows.lake: lake_pipeline_flow's name / PIPELINE_DEPLOYMENT
CANDIDATES_PER_SITE = 10  # site servers bound to choose ports that fall evenly into the shards
LOG_TAIL = 3000


def bench_workers(worker_counts: list[int], size: int, n_sources: int, scratch: Path, seed: int,
                  timeout: float = 1800) -> list[dict]:
    """One embedded run, then per worker count N the deployed lake pipeline with N shards on N workers, each on
    a new PostgreSQL database, lake and spool (one PostgreSQL and one Prefect server for all, a pool per N).

    The first result is the embedded run (`mode` "embedded"), then one per N (`mode` "lake"); a single result
    with `error` when PostgreSQL is not installed, and an `error` in a run's result when that run failed."""
    from tests.services import ServiceUnavailable, find_postgres, postgres_server, prefect_server

    try:
        find_postgres()
    except ServiceUnavailable as missing:
        return [{"mode": "lake", "error": f"not measured: {missing}"}]
    work = scratch / "lake"
    work.mkdir(parents=True)
    servers = balanced_servers(n_sources, worker_counts)
    try:
        corpus = Corpus(size, [s.base_url for s in servers], seed=seed)
        routes = corpus.write(work / "site")
        for server, site in zip(servers, corpus.sites, strict=True):
            server.start(routes[site.index])
        sources_file = work / "sources.yml"
        sources_file.write_text(corpus.sources_yaml(), encoding="utf-8")
        print(f"[lake] {size} articles on {n_sources} sites; embedded run", flush=True)
        results = [_guarded({"mode": "embedded"},
                            functools.partial(embedded_run, sources_file, work / "embedded", size, timeout))]
        _progress(results[-1])
        with postgres_server(work / "pg") as pg, prefect_server(work / "prefect-server") as api:
            for n in worker_counts:
                print(f"[lake] {n} worker(s)", flush=True)
                results.append(_guarded({"mode": "lake", "workers": n, "shards": n}, functools.partial(
                    lake_run, n, pg, api, sources_file, work / f"w{n}", size, timeout)))
                _progress(results[-1])
        return results
    finally:
        for server in servers:
            server.stop()


def _guarded(head: dict, run: Callable[[], dict]) -> dict:
    """A run's result with the load average around it (the machine may be shared: compare with care); its error
    instead when it raised, so one broken run leaves the others measured."""
    head = {**head, "load_avg_before": os.getloadavg()[0]}
    try:
        return {**head, **run(), "load_avg_after": os.getloadavg()[0]}
    except Exception as exc:  # noqa: BLE001 - the bench reports a failed run and goes on
        return {**head, "error": f"{type(exc).__name__}: {exc}"}


def _progress(result: dict) -> None:
    if "error" in result:
        print(f"[lake] {result['mode']}: {result['error'][:LOG_TAIL]}", flush=True)
        return
    shards = result.get("shard_runs", [])
    print(f"[lake] {result['mode']} {result.get('workers', '')}: rc {result['rc']}, wall {result['wall_s']:.1f}s, "
          f"shards {[r['seconds'] for r in shards]} s, build {result.get('build_s')} s, "
          f"articles {result['articles']}, duplicates {result['duplicates']}, "
          f"rss MB {result['peak_rss_mb']}", flush=True)


# ---------------------------------------------------------------------------------------------- sites
def balanced_servers(count: int, worker_counts: list[int]) -> list[SiteServer]:
    """`count` site servers (bound, not started) whose hosts fall evenly into the shards of every worker count.

    A shard is a hash of host:port and the ports are the kernel's, so twelve sites could split 7/3/2: the slowest
    shard would then measure the split, not the workers. Binding a few spare servers and keeping those that fit
    fixes that; if the candidates run out, the rest are taken as they come."""
    from scrapers.shards import shard_of_host
    from scrapers.urls import netloc_of

    caps = {n: -(-count // n) for n in worker_counts if n > 0}  # at most ceil(count / n) sites per shard
    filled: dict[int, Counter[int]] = {n: Counter() for n in caps}
    chosen: list[SiteServer] = []
    spare: list[SiteServer] = []
    for _ in range(count * CANDIDATES_PER_SITE):
        if len(chosen) == count:
            break
        server = SiteServer()
        host = netloc_of(server.base_url)
        shards = {n: shard_of_host(host, n) for n in caps}
        if all(filled[n][k] < caps[n] for n, k in shards.items()):
            chosen.append(server)
            for n, k in shards.items():
                filled[n][k] += 1
        else:
            spare.append(server)
    while len(chosen) < count:
        chosen.append(spare.pop() if spare else SiteServer())
    for server in spare:
        server.httpd.server_close()  # never served: SiteServer.stop() would wait for serve_forever to end
    return chosen


# ---------------------------------------------------------------------------------------------- runs
def _base_env() -> dict[str, str]:
    """This process's environment without Prefect's and Stadtradar's settings (a developer's PREFECT_API_URL or
    STADTRADAR_BACKEND must not redirect a run), nothing phoning home, plain console output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STADTRADAR_"))}
    return {**env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "CI": "true",
            "PREFECT_LOGGING_LEVEL": "WARNING"}


def embedded_run(sources_file: Path, folder: Path, size: int, timeout: float) -> dict:
    """`stadtradar run` on an empty warehouse with Prefect's temporary server (no PREFECT_API_URL), in a PREFECT_HOME
    of its own that was primed first: the lake side's Prefect server is up before its clock starts too."""
    folder.mkdir(parents=True)
    env = {**_base_env(), "PREFECT_HOME": str(folder / "prefect")}
    prime = "from prefect import flow\n@flow\ndef prime():\n    return 1\nprime()\n"
    subprocess.run([str(VENV_BIN / "python"), "-c", prime], env=env, check=True, capture_output=True, timeout=300)
    db = folder / "stadtradar.duckdb"
    log_path = folder / "run.log"
    with log_path.open("wb") as log:
        started = time.monotonic()
        child = subprocess.Popen([str(VENV_BIN / "stadtradar"), "run", "--sources", str(sources_file), "--db", str(db)],
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreesRss([child.pid])
        try:
            rc = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            rc = child.wait()
        wall = time.monotonic() - started
        peak = sampler.stop()
    raw = distinct = marts = None
    steps: dict[str, float] = {}
    if db.exists():  # a run that failed early may have written nothing
        with duckdb.connect(str(db), read_only=True) as con:
            raw, distinct = _raw_articles(con)
            marts = (con.execute("select count(*) from marts.articles").fetchone() or (0,))[0]
            steps = dict(con.execute("select flow, epoch(finished_at) - epoch(started_at) from ops.runs "
                                     "where flow in ('ingest', 'build')").fetchall())
    out = {"rc": rc, "wall_s": round(wall, 2), "ingest_s": _round(steps.get("ingest")),
           "build_s": _round(steps.get("build")), "peak_rss_mb": peak, "articles": {"marts": marts, "raw": raw},
           "duplicates": raw - distinct if raw is not None and distinct is not None else None,
           "articles_ok": marts == size}
    if rc != 0:
        out["log_tail"] = log_path.read_text(errors="replace")[-LOG_TAIL:]
    return out


def lake_run(workers: int, pg: PostgresServer, api: str, sources_file: Path, folder: Path, size: int,
             timeout: float) -> dict:
    """On a new database lake_w<workers>: deploy the lake's flows with `workers` shards on pool bench-w<workers>,
    start that many workers, and run the deployed pipeline as a user does (`prefect deployment run … --watch`);
    wall time from that command's start to its end, the shard and build flow runs' durations from Prefect's API,
    and what arrived in the lake."""
    from scrapers.config import load_sources
    from scrapers.shards import shard_sources
    from tests.services import prefect_workers

    pg.create_database(f"lake_w{workers}")
    catalog = "postgres:" + pg.dsn(f"lake_w{workers}")
    folder.mkdir(parents=True)
    db = folder / "home" / "stadtradar.duckdb"
    db.parent.mkdir()
    pool = f"bench-w{workers}"
    env = {**_base_env(), "PREFECT_API_URL": api, "PREFECT_HOME": str(folder / "prefect"),
           "STADTRADAR_BACKEND": "ducklake", "STADTRADAR_LAKE_CATALOG": catalog,
           "STADTRADAR_LAKE_DATA": str(folder / "lake-data"), "STADTRADAR_SPOOL": str(folder / "spool"),
           "STADTRADAR_DB": str(db)}
    sources = load_sources(sources_file)
    sources_per_shard = [len(shard_sources(sources, k, workers)) for k in range(1, workers + 1)]
    # The same deployment names on every pool: each N re-registers them on its own pool before its run.
    started = time.monotonic()
    deployed = subprocess.run([str(VENV_BIN / "stadtradar"), "lake", "deploy", "--pool", pool, "--shards",
                               str(workers), "--sources", str(sources_file)], env=env, capture_output=True,
                              text=True, timeout=300, check=False)
    deploy_s = time.monotonic() - started
    if deployed.returncode != 0:
        raise RuntimeError(f"stadtradar lake deploy exited {deployed.returncode}: "
                           f"{(deployed.stdout + deployed.stderr)[-LOG_TAIL:]}")
    started = time.monotonic()
    with prefect_workers(api, pool, workers, folder / "workers", env) as processes:
        workers_start_s = time.monotonic() - started
        sampler = TreesRss([p.pid for p in processes])
        since = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        run = subprocess.run([str(VENV_BIN / "prefect"), "deployment", "run", PIPELINE, "--watch",
                              "--watch-timeout", str(int(timeout))], env=env, capture_output=True, text=True,
                             timeout=timeout + 60, check=False)
        wall = time.monotonic() - started
        peak = sampler.stop()
    pipeline = _flow_runs(api, "lake-pipeline", since)
    shard_runs = _flow_runs(api, "lake-ingest", since)
    builds = _flow_runs(api, "lake-build", since)
    origin = pipeline[0]["start_time"] if pipeline and pipeline[0]["start_time"] else None
    shards = sorted(({"shard": r["parameters"].get("shard"), "state": r["state_type"], "seconds": r["seconds"],
                      "started_after_s": _round((r["start_time"] - origin).total_seconds())
                      if origin and r["start_time"] else None} for r in shard_runs),
                    key=lambda r: r["shard"] or 0)
    durations = [r["seconds"] for r in shards if r["seconds"] is not None]
    articles, duplicates = _lake_articles(catalog, db)
    out = {"rc": run.returncode, "wall_s": round(wall, 2), "deploy_s": round(deploy_s, 2),
           "workers_start_s": round(workers_start_s, 2), "sources_per_shard": sources_per_shard,
           "pipeline_s": pipeline[0]["seconds"] if pipeline else None, "shard_runs": shards,
           "slowest_shard_s": max(durations) if durations else None,
           "build_s": builds[0]["seconds"] if builds else None, "peak_rss_mb": peak,
           "articles": articles, "duplicates": duplicates, "articles_ok": articles.get("marts") == size}
    if run.returncode != 0:
        out["log_tail"] = (run.stdout + run.stderr)[-LOG_TAIL:] + _worker_logs(folder / "workers")
    return out


def _flow_runs(api: str, flow_name: str, since: dt.datetime) -> list[dict]:
    """The flow runs of `flow_name` started after `since`, oldest first, with their duration in seconds."""
    body = {"flows": {"name": {"any_": [flow_name]}}, "flow_runs": {"start_time": {"after_": since.isoformat()}}}
    runs = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=30).raise_for_status().json()
    out = []
    for r in runs:
        start, end = (dt.datetime.fromisoformat(r[k]) if r.get(k) else None for k in ("start_time", "end_time"))
        out.append({"state_type": r["state_type"], "parameters": r.get("parameters") or {}, "start_time": start,
                    "seconds": _round((end - start).total_seconds()) if start and end else None})
    return sorted(out, key=lambda r: r["start_time"] or since)


def _lake_articles(catalog: str, db: Path) -> tuple[dict[str, int | None], int | None]:
    """Articles in the BI snapshot's marts.articles and in the lake's raw.articles, and how many of the lake's
    rows repeat another's article_id."""
    from warehouse.db import WarehouseError
    from warehouse.lake import connect_lake, lake_config
    from warehouse.publish import published_path

    counts: dict[str, int | None] = {"marts": None, "raw": None}
    snapshot = published_path(db)
    if snapshot.exists():
        with duckdb.connect(str(snapshot), read_only=True) as snap:
            counts["marts"] = (snap.execute("select count(*) from marts.articles").fetchone() or (None,))[0]
    try:
        con = connect_lake(lake_config(catalog, None), read_only=True)
        try:
            raw, distinct = _raw_articles(con)
        finally:
            con.close()
    except (duckdb.Error, WarehouseError):  # a run that pushed nothing leaves no lake or no raw.articles
        return counts, None
    counts["raw"] = raw
    return counts, raw - distinct


def _raw_articles(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Rows of raw.articles, and how many distinct article ids among them."""
    raw, distinct = con.execute("select count(*), count(distinct article_id) from raw.articles").fetchone() or (0, 0)
    return int(raw), int(distinct)


def _worker_logs(folder: Path) -> str:
    return "".join(f"\n--- {p.name}\n" + p.read_text(errors="replace")[-LOG_TAIL:]
                   for p in sorted(folder.glob("*.log")))


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


# ---------------------------------------------------------------------------------------------- memory
class TreesRss:
    """Peak RSS of some processes with all their descendants, sampled from /proc: a worker's flow runs are its
    children, and their extraction processes and dbt are grandchildren. Reports the peak of the summed RSS and
    the largest single process, in MB."""

    def __init__(self, roots: list[int], interval: float = 0.25):
        self.roots, self.interval = roots, interval
        self.tree_mb = self.largest_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            sizes = [rss_kb(p) for p in process_trees(self.roots)]
            self.tree_mb = max(self.tree_mb, sum(sizes) / 1024)
            self.largest_mb = max(self.largest_mb, max(sizes, default=0) / 1024)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return {"tree": round(self.tree_mb), "largest": round(self.largest_mb)}
