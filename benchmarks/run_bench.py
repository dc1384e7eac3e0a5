"""Measure pipeline throughput, incremental re-runs, memory and dbt time on synthetic loopback sites of several sizes.

Usage (from the project root): .venv/bin/python benchmarks/run_bench.py [--sizes 2000,20000] [--sources 8]
[--workers 1,2,3] [--lake-size 1200]
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.corpus import Corpus  # noqa: E402
from benchmarks.lake_bench import bench_workers  # noqa: E402
from benchmarks.processes import process_trees, rss_kb  # noqa: E402
from benchmarks.server import SiteServer  # noqa: E402
from tests.services import prefect_server  # noqa: E402 - `prefect server start` on loopback, as a user runs one

RESULTS = PROJECT / "benchmarks" / "results"
TARGETS = {
    "cold_vs_limit": 0.8,  # cold articles/s >= 0.8 x single-core limit
    "cold_vs_reference": 1.25,  # cold wall <= 1.25 x trafilatura's bare extraction of the run's articles
    "warm_vs_cold": 0.15,  # warm wall <= 15 % of cold wall, no article fetched (issue 18)
    "warm_growth": 1.25,  # warm wall at the largest size <= 1.25 x at the smallest: flat as the archive grows
    "rss_mb_max": 350,  # peak RSS of the largest process at the largest size (issue 18)
    "rss_growth": 0.25,  # peak RSS grows < 25 % from smallest to largest size
    "dbt_growth": 2.0,  # dbt at the largest size <= 2 x dbt at the smallest
}
# Runs the command in a fresh child so RUSAGE_CHILDREN covers exactly that one run (and its reaped descendants).
WRAPPER = """
import json, resource, subprocess, sys, time
started = time.monotonic()
rc = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"rc": rc, "wall_s": time.monotonic() - started, "max_rss_mb": usage.ru_maxrss / 1024,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""
STEPS = ("fetch", "archive", "extract", "load")  # the per-source step timings in ops.source_runs


# ---------------------------------------------------------------------------------------------- measuring
def article_pages(corpus: Corpus, routes: dict, sources: list, sample: int = 0) -> list[tuple]:
    """(fetched page, its source, the feed's date hint) of (a spread sample of) the corpus's article pages, as
    the pipeline hands them to process_page."""
    from scrapers.records import FetchedPage

    articles = corpus.all_articles()
    step = max(1, len(articles) // sample) if sample else 1
    chosen = articles[::step][:sample] if sample else articles
    by_id = {s.id: s for s in sources}
    pages = []
    for a in chosen:
        site = corpus.sites[a.site]
        text = routes[a.site][a.path][1].read_text(encoding="utf-8")
        url = corpus.url(a)
        pages.append((FetchedPage(site.source_id, url, url, 200, "text/html; charset=utf-8", text,
                                  dt.datetime(2026, 1, 1)), by_id[site.source_id], a.published))
    return pages


def measure_limit(corpus: Corpus, routes: dict, sources: list, sample: int) -> dict:
    """process_page over (a spread sample of) the article pages in this process: the single-core ceiling."""
    from scrapers.process import process_page

    pages = article_pages(corpus, routes, sources, sample)
    process_page(*pages[0])  # gazetteer and catalogue load once per process; not per-article cost
    found = dated = 0
    started, cpu = time.perf_counter(), time.process_time()
    for page, source, hint in pages:
        article = process_page(page, source, hint)
        found += article is not None
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    for page, source, _hint in pages[:50]:  # without the feed hint: does the page itself carry its date?
        article = process_page(page, source, None)
        dated += bool(article and article.record.published_date)
    return {"pages": len(pages), "articles": found, "seconds": elapsed, "cpu_s": cpu,
            "articles_per_s": found / elapsed if elapsed else 0.0, "ms_per_article": 1000 * elapsed / len(pages),
            "dated_without_hint_of_50": dated, "reference": measure_reference([p for p, _s, _h in pages])}


def measure_reference(pages: list) -> dict:
    """The reference a run is held against: trafilatura's bare extraction (main text and metadata, as
    ../shared/realworld scores it) of the same pages in a plain loop in this process, pages per second."""
    import trafilatura

    trafilatura.bare_extraction(pages[0].text, url=pages[0].final_url, with_metadata=True)  # imports, caches
    started, cpu = time.perf_counter(), time.process_time()
    for page in pages:
        trafilatura.bare_extraction(page.text, url=page.final_url, with_metadata=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"pages": len(pages), "seconds": elapsed, "cpu_s": cpu,
            "pages_per_s": len(pages) / elapsed if elapsed else 0.0}


def reference_ratio(result: dict) -> float | None:
    """Cold wall time over what the reference loop would take for the run's articles (issue 18: <= 1.25)."""
    reference = result["limit"].get("reference") or {}
    articles = result.get("warehouse", {}).get("raw.articles")
    if not reference.get("pages_per_s") or not articles:
        return None
    return result["cold"]["wall_s"] / (articles / reference["pages_per_s"])


class TreeRss:
    """Samples the summed RSS of a process and its descendants from /proc (the Prefect server is a child)."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval, self.peak_mb = pid, interval, 0.0
        self.largest: list[tuple[float, int]] = []  # (seconds, MB of the largest process): where peaks happen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(self.interval):
            sizes = [rss_kb(p) for p in process_trees([self.pid])[1:]]  # not the wrapper itself
            self.peak_mb = max(self.peak_mb, sum(sizes) / 1024)
            self.largest.append((round(time.monotonic() - started, 2), max(sizes, default=0) // 1024))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def run_cli(args: list[str], db: Path, prefect_home: Path, servers: list[SiteServer], log: Path,
            timeout: float, extra_env: dict[str, str] | None = None) -> dict:
    """Run `stadtradar ARGS` on warehouse DB in a fresh wrapper child; wall time, peak RSS, CPU, requests served,
    and the phase split the run recorded in the warehouse's ops tables."""
    exe = PROJECT / ".venv" / "bin" / "stadtradar"
    env = {**os.environ, "PREFECT_HOME": str(prefect_home), "CI": "true", "PREFECT_LOGGING_LEVEL": "WARNING",
           **(extra_env or {})}
    before = [s.snapshot() for s in servers]
    report = log.with_suffix(".rusage.json")
    load_before = os.getloadavg()[0]
    with open(log, "w") as out:
        started, started_utc = time.monotonic(), _utcnow()
        child = subprocess.Popen([sys.executable, "-c", WRAPPER, str(report), str(exe), *args], cwd=PROJECT,
                                 env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeRss(child.pid)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        wall = time.monotonic() - started
        tree_peak = sampler.stop()
    usage = json.loads(report.read_text()) if report.exists() else {"rc": 124, "wall_s": wall}
    builds = args[0] in ("run", "build")  # `ingest` never builds; `run` skips the build when nothing changed
    phases = ops_phases(db, started_utc, _utcnow(), usage["wall_s"], builds)
    requests: Counter[str] = Counter()
    for b, s in zip(before, servers, strict=True):
        requests.update(s.snapshot() - b)
    return {
        "args": args, "rc": usage["rc"], "wall_s": usage["wall_s"], "max_rss_mb": usage.get("max_rss_mb"),
        "tree_peak_rss_mb": tree_peak, "largest_rss_series": sampler.largest, "cpu_s": usage.get("cpu_s"),
        "requests": dict(requests),
        "phases": phases, "load_avg_before": load_before, "load_avg_after": os.getloadavg()[0],
        "log_tail": log.read_text(errors="replace")[-1500:],
    }


def ops_phases(db: Path, since: dt.datetime, until: dt.datetime, wall_s: float, builds: bool) -> dict:
    """Seconds per step as the run recorded them in the warehouse (ops.runs, ops.source_runs).

    `ingest` and `dbt` are the durations of the run's ingest and build rows in ops.runs (finished_at -
    started_at); `dbt` is "skipped" when a `run` recorded no build (nothing changed since the last one).
    fetch / archive / extract / load are summed over the sources' rows in ops.source_runs: sources run
    concurrently, so the sums overlap and can exceed the ingest wall time; `<step>_max` is the largest
    single source, which approximates the step's share of the critical path. `start_stop` is the
    rest of the wall time: interpreter start, imports, Prefect's temporary API server, the lock, the
    build fingerprint, publishing the read-only copy, and shutdown.
    """
    import duckdb

    if not db.exists():
        return {}
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        return {"error": str(exc)}
    try:
        runs = con.execute(
            """select run_id, flow, status, epoch(finished_at) - epoch(started_at) from ops.runs
               where started_at >= ? and started_at <= ? order by started_at""", [since, until]).fetchall()
        ingest_ids = [run_id for run_id, flow, *_ in runs if flow == "ingest"]
        steps = con.execute(
            f"""select {", ".join(f"sum({c}_seconds), max({c}_seconds)" for c in STEPS)}, count(*)
                from ops.source_runs where run_id in (select unnest(?::varchar[]))""", [ingest_ids]).fetchone()
    except duckdb.Error as exc:
        return {"error": str(exc)}
    finally:
        con.close()
    out: dict = {"ops_runs": [{"flow": flow, "status": status, "seconds": _round(seconds)}
                              for _run_id, flow, status, seconds in runs]}
    for flow, key in (("ingest", "ingest"), ("reparse", "reparse"), ("build", "dbt")):
        seconds = [r["seconds"] for r in out["ops_runs"] if r["flow"] == flow and r["seconds"] is not None]
        if seconds:
            out[key] = round(sum(seconds), 2)
    if builds and "dbt" not in out:
        out["dbt"] = "skipped"
    if steps and steps[-1]:
        for i, step in enumerate(STEPS):
            out[step], out[f"{step}_max"] = _round(steps[2 * i]), _round(steps[2 * i + 1])
        out["source_rows"] = steps[-1]
    measured = sum(v for k in ("ingest", "reparse", "dbt") if isinstance(v := out.get(k), float | int))
    out["start_stop"] = round(wall_s - measured, 2)
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _utcnow() -> dt.datetime:
    """UTC as the naive timestamp ops.runs stores (warehouse.load.now)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def warehouse_counts(db: Path) -> dict:
    """Rows in the main tables and the file size, read-only."""
    import duckdb

    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for table in ("raw.pages", "raw.articles", "marts.articles", "marts.events", "marts.article_cities"):
            try:
                out[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
            except duckdb.Error:
                out[table] = None
    finally:
        con.close()
    out["file_mb"] = round(db.stat().st_size / 2**20, 1)
    return out


def fetch_ceiling(corpus: Corpus, concurrency: int = 8, limit: int = 1000) -> dict:
    """Article pages per second the loopback servers deliver to one asyncio client: the server must not be the cap."""
    import asyncio

    import httpx

    urls = [corpus.url(a) for a in corpus.all_articles()][:limit]

    async def go() -> float:
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient() as client:
            async def one(url: str) -> None:
                async with gate:
                    (await client.get(url)).raise_for_status()
            started = time.perf_counter()
            await asyncio.gather(*(one(u) for u in urls))
            return time.perf_counter() - started

    seconds = asyncio.run(go())
    return {"pages": len(urls), "seconds": round(seconds, 2), "pages_per_s": round(len(urls) / seconds, 1)}


def prime_prefect(home: Path) -> None:
    """Create Prefect's database once, so a measured run does not pay the first-start migrations."""
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "WARNING"}
    code = "from prefect import flow\n@flow\ndef prime():\n    return 1\nprime()\n"
    subprocess.run([str(PROJECT / ".venv" / "bin" / "python"), "-c", code], env=env, check=True,
                   capture_output=True, cwd=PROJECT)


# ---------------------------------------------------------------------------------------------- one size
def bench_size(size: int, n_sources: int, args: argparse.Namespace, scratch: Path, template: Path) -> dict:
    from scrapers.config import load_sources

    work = scratch / f"size-{size}"
    work.mkdir()
    servers = [SiteServer() for _ in range(n_sources)]
    try:
        started = time.perf_counter()
        corpus = Corpus(size, [s.base_url for s in servers], seed=args.seed)
        routes = corpus.write(work / "site")
        generate_s = time.perf_counter() - started
        for server, site in zip(servers, corpus.sites, strict=True):
            server.start(routes[site.index])
        sources_file = work / "sources.yml"
        sources_file.write_text(corpus.sources_yaml(), encoding="utf-8")
        sources = load_sources(sources_file)
        page_kb = [routes[a.site][a.path][1].stat().st_size / 1024 for a in corpus.all_articles()]
        result: dict = {"size": size, "sources": n_sources, "generate_s": round(generate_s, 1),
                        "article_kb_mean": round(sum(page_kb) / len(page_kb), 1)}
        print(f"[{size}] corpus written in {generate_s:.1f}s, mean article page {result['article_kb_mean']} KB",
              flush=True)

        result["fetch_ceiling"] = fetch_ceiling(corpus)
        print(f"[{size}] fetch ceiling {result['fetch_ceiling']['pages_per_s']} pages/s", flush=True)
        result["limit"] = measure_limit(corpus, routes, sources, min(size, args.limit_sample))
        print(f"[{size}] limit {result['limit']['articles_per_s']:.2f} articles/s "
              f"({result['limit']['ms_per_article']:.0f} ms/article); reference: trafilatura "
              f"{result['limit']['reference']['pages_per_s']:.1f} pages/s", flush=True)

        db = work / "warehouse.duckdb"
        split_db = work / "split.duckdb"
        # cold and warm run as one user would, in one PREFECT_HOME; each command starts Prefect's temporary API
        # server with its first flow and stops it on exit, so the warm run pays that start as a user's re-run does.
        runs: list[tuple[str, list[str], Path, str, dict[str, str]]] = [
            ("cold", ["run"], db, "user", {}), ("warm", ["run"], db, "user", {})]
        if args.split:
            runs = [("cold_ingest", ["ingest"], split_db, "split", {}),
                    ("cold_build", ["build"], split_db, "split", {}), *runs]
        for label, command, target, home_name, extra_env in runs:
            home = work / f"prefect-{home_name}"
            if not home.exists():
                shutil.copytree(template, home)
            cli = [*command, "--db", str(target)] + (["--sources", str(sources_file)] if command != ["build"] else [])
            run = run_cli(cli, target, home, servers, work / f"{label}.log", args.timeout, extra_env)
            result[label] = run
            print(f"[{size}] {label}: rc {run['rc']}, {run['wall_s']:.1f}s, rss {run['max_rss_mb']:.0f} MB "
                  f"(tree {run['tree_peak_rss_mb']:.0f} MB), requests {run['requests'].get('total', 0)} "
                  f"(articles {run['requests'].get('article:200', 0)}), {describe_phases(run['phases'])}",
                  flush=True)
            if run["rc"] not in (0, 2):
                print(run["log_tail"], flush=True)
        result["warehouse"] = warehouse_counts(db)
        cold = result["cold"]
        # raw.articles counts what was extracted and loaded, even when a later dbt step fails.
        articles = result["warehouse"].get("raw.articles") or 0
        cold["articles_per_s"] = articles / cold["wall_s"] if cold["wall_s"] else 0.0
        return result
    finally:
        for server in servers:
            server.stop()


def bench_lake(worker_counts: list[int], args: argparse.Namespace, scratch: Path) -> dict:
    """The DuckLake workers bench (issue 21), after the sizes; its failure is recorded, never thrown: the size
    runs before it took long enough to be worth saving."""
    try:
        runs = bench_workers(worker_counts, args.lake_size, args.lake_sources, scratch, args.seed, args.timeout)
    except Exception as exc:  # noqa: BLE001 - see above
        runs = [{"mode": "lake", "error": f"{type(exc).__name__}: {exc}"}]
    return {"size": args.lake_size, "sources": args.lake_sources, "workers": worker_counts, "cores": os.cpu_count(),
            "runs": runs}


# ---------------------------------------------------------------------------------------------- report
def summarise(results: list[dict]) -> tuple[list[list[str]], dict]:
    """Table rows and the target verdicts."""
    rows = []
    for r in results:
        cold, warm, limit = r["cold"], r["warm"], r["limit"]
        ph, wph = cold["phases"], warm["phases"]
        wh = r["warehouse"]
        rows.append([
            str(r["size"]), f"{limit['articles_per_s']:.2f}", f"{1000 * limit['cpu_s'] / limit['pages']:.0f}",
            f"{cold['wall_s']:.0f}", f"{cold['articles_per_s']:.2f}",
            f"{cold['articles_per_s'] / limit['articles_per_s']:.2f}" if limit["articles_per_s"] else "-",
            f"{limit['reference']['pages_per_s']:.1f}" if limit.get("reference") else "-",
            f"{ratio:.2f}" if (ratio := reference_ratio(r)) is not None else "-",
            _num(ph.get("ingest"), 0), " / ".join(_num(ph.get(k), 0) for k in STEPS),
            " / ".join(_num(ph.get(f"{k}_max"), 0) for k in STEPS),
            f"{_num(ph.get('dbt'))} / {_num(wph.get('dbt'))}",
            f"{_num(ph.get('start_stop'))} / {_num(wph.get('start_stop'))}",
            f"{cold['cpu_s'] / cold['wall_s']:.2f}" if cold.get("cpu_s") else "-",
            f"{1000 * cold['cpu_s'] / articles:.0f}" if (articles := r["warehouse"].get("raw.articles")) else "-",
            f"{warm['wall_s']:.1f}", f"{warm['wall_s'] / cold['wall_s']:.1%}",
            f"{warm['requests'].get('total', 0)} / {warm['requests'].get('article:200', 0)}",
            f"{cold['max_rss_mb']:.0f} / {cold['tree_peak_rss_mb']:.0f}",
            f"{wh.get('raw.articles', '-')} / {wh.get('marts.articles', '-')}",
        ])
    first, last = results[0], results[-1]
    # Throughput and re-run targets are judged per size: fixed costs (startup, dbt) dominate small sizes.
    verdict = {
        **{f"cold_vs_limit@{r['size']}":
           r["cold"]["articles_per_s"] >= TARGETS["cold_vs_limit"] * r["limit"]["articles_per_s"] for r in results},
        **{f"warm_vs_cold@{r['size']}": r["warm"]["wall_s"] <= TARGETS["warm_vs_cold"] * r["cold"]["wall_s"]
           and not r["warm"]["requests"].get("article:200") for r in results},
        f"rss_mb_max@{last['size']}": last["cold"]["max_rss_mb"] <= TARGETS["rss_mb_max"],
        **{f"cold_vs_reference@{r['size']}": ratio <= TARGETS["cold_vs_reference"]
           for r in results if (ratio := reference_ratio(r)) is not None},
    }
    if len(results) > 1:
        verdict["rss_growth"] = last["cold"]["max_rss_mb"] < (1 + TARGETS["rss_growth"]) * first["cold"]["max_rss_mb"]
        dbt0, dbt1 = first["cold"]["phases"].get("dbt"), last["cold"]["phases"].get("dbt")
        timed = isinstance(dbt0, float | int) and isinstance(dbt1, float | int)
        verdict["dbt_growth"] = bool(timed and dbt0 and dbt1 <= TARGETS["dbt_growth"] * dbt0)
        verdict["warm_growth"] = last["warm"]["wall_s"] <= TARGETS["warm_growth"] * first["warm"]["wall_s"]
    return rows, verdict


HEADER = ["size", "limit a/s", "limit cpu ms/a", "cold s", "cold a/s", "cold/limit", "ref p/s", "cold/ref", "ingest s",
          "fetch/archive/extract/load sum s", "... max source s", "dbt cold / warm s", "start+stop cold / warm s",
          "cpu/wall", "cold cpu ms/a", "warm s", "warm/cold", "warm req / art", "rss MB run / tree",
          "articles raw / marts"]


def _num(value: object, digits: int = 1) -> str:
    """A seconds value for the table: "-" when not recorded, "skipped" as is."""
    if isinstance(value, float | int):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value)


def describe_phases(ph: dict) -> str:
    """One line of the ops-table split for the progress output."""
    if not ph or "error" in ph:
        return f"phases {ph}"
    steps = ", ".join(f"{k} {_num(ph.get(k))} (max {_num(ph.get(f'{k}_max'))})" for k in STEPS if k in ph)
    parts = [f"ingest {_num(ph.get('ingest'))}"] + ([f"sums over sources: {steps}"] if steps else [])
    if "reparse" in ph:
        parts.append(f"reparse {_num(ph['reparse'])}")
    return "; ".join([*parts, f"dbt {_num(ph.get('dbt'))}", f"start+stop {_num(ph.get('start_stop'))}"]) + " s"


def print_table(rows: list[list[str]], header: list[str] = HEADER) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


LAKE_HEADER = ["workers", "shards", "wall s", "slowest shard s", "build s", "articles ok", "duplicates",
               "vs embedded", "rss MB trees / largest"]


def lake_rows(lake: dict) -> list[list[str]]:
    """Table rows of the DuckLake workers bench: the embedded run first, then one per worker count; a run that
    failed shows its error."""
    runs = lake["runs"]
    embedded = next((r for r in runs if r.get("mode") == "embedded" and r.get("wall_s")), None)
    rows = []
    for r in runs:
        label = "embedded" if r.get("mode") == "embedded" else str(r.get("workers", "-"))
        if "error" in r:
            rows.append([label, str(r.get("shards", "-")), "error: " + r["error"].splitlines()[0][:60],
                         *["-"] * (len(LAKE_HEADER) - 3)])
            continue
        articles = r.get("articles", {})
        rss = r.get("peak_rss_mb") or {}
        rows.append([
            label, str(r.get("shards", "-")), f"{r['wall_s']:.1f}" + ("" if r.get("rc") == 0 else f" (rc {r['rc']})"),
            _num(r.get("slowest_shard_s")), _num(r.get("build_s")),
            f"{'yes' if r.get('articles_ok') else 'NO'} ({articles.get('marts', '-')} / {lake['size']})",
            str(r.get("duplicates", "-")),
            f"{r['wall_s'] / embedded['wall_s']:.2f} x" if embedded else "-",
            f"{rss.get('tree', '-')} / {rss.get('largest', '-')}",
        ])
    return rows


def print_results(results: list[dict], lake: dict | None) -> dict:
    """The size table with its target verdicts (returned), then the DuckLake workers table; either may be absent
    (`--sizes ""`, `--workers 0`)."""
    verdict: dict = {}
    if results:
        rows, verdict = summarise(results)
        print_table(rows)
        print("targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in verdict.items()))
    if lake:
        print_lake(lake)
    return verdict


def print_lake(lake: dict) -> None:
    print(f"\nDuckLake workers: {lake['size']} articles on {lake['sources']} sites, {lake.get('cores')} cores "
          "(wall: `prefect deployment run --watch` of the deployed pipeline; embedded: `stadtradar run`)")
    print_table(lake_rows(lake), LAKE_HEADER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000", help="comma-separated article counts")
    parser.add_argument("--sources", type=int, default=8, help="number of synthetic sites")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--limit-sample", type=int, default=400,
                        help="article pages in the single-core limit loop (a spread sample; 0 = all)")
    parser.add_argument("--split", action="store_true",
                        help="also run `ingest` and `build` separately on a second empty warehouse")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per pipeline run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (sites, warehouses, logs)")
    parser.add_argument("--report", type=Path, help="print the table of a results JSON file and exit")
    parser.add_argument("--prefect-server", action="store_true",
                        help="run against `prefect server start` (PREFECT_API_URL) instead of Prefect's temporary "
                             "server per command")
    parser.add_argument("--workers", default="1,2,3",
                        help="worker counts of the DuckLake bench (comma-separated; \"\" or 0 skips it)")
    parser.add_argument("--lake-size", type=int, default=1200, help="articles of the DuckLake bench's corpus")
    parser.add_argument("--lake-sources", type=int, default=12, help="sites of the DuckLake bench's corpus")
    args = parser.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text(encoding="utf-8"))
        print_results(saved["results"], saved.get("lake"))  # files from before issue 21 have no "lake"
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    worker_counts = [n for s in args.workers.split(",") if s.strip() and (n := int(s)) > 0]

    scratch = Path(tempfile.mkdtemp(prefix="stadtradar-bench-"))
    results = []
    try:
        with contextlib.ExitStack() as stack:
            if args.prefect_server:
                os.environ["PREFECT_API_URL"] = stack.enter_context(prefect_server(scratch / "prefect-server"))
            template = scratch / "prefect-template"
            prime_prefect(template)
            for size in sizes:
                results.append(bench_size(size, args.sources, args, scratch, template))
        lake = bench_lake(worker_counts, args, scratch) if worker_counts else None
    finally:
        if args.keep:
            print(f"scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    verdict = print_results(results, lake)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{stamp}.json"
    saved = {"when": stamp, "cores": os.cpu_count(), "targets": TARGETS, "verdict": verdict,
             "prefect_api": "server" if args.prefect_server else "temporary", "results": results}
    if lake:
        saved["lake"] = lake
    out.write_text(json.dumps(saved, indent=2, default=str), encoding="utf-8")
    print(f"written {out.relative_to(PROJECT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
