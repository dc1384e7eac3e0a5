"""The ingest logic without Prefect: a source's batches return what they did, the report adds them up, the
ledger closes every run, and a failing source leaves the others alone."""
from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.exceptions import TerminationSignal

from scrapers.config import Settings, Source
from scrapers.crawl import KnownPage
from scrapers.fetch import Fetcher
from scrapers.workers import ExtractionWorkers
from tests.conftest import Reply, make_source
from tests.conftest import read_rows as rows
from warehouse import health, ingest
from warehouse.db import connect
from warehouse.reports import SourceReport
from warehouse.runs import recorded_run

TITLES = ["Ladesäulen am Markt eröffnet", "Bürgerforum zur Stadtdatenplattform", "Sensoren im Stadtpark"]


def article(title: str) -> Reply:
    body = " ".join(f"Die Stadt Ulm berichtet über {title.lower()} und die nächsten Schritte, Teil {n}."
                    for n in range(12))
    return Reply(f"<html><head><title>{title}</title></head><body><main><article><h1>{title}</h1>"
                 f"<p class='date'>12.03.2025</p><p>{body}</p></article></main></body></html>")


def news_site(local_site, titles: list[str] = TITLES):
    site = local_site({})
    site.routes["/news/"] = Reply("<html><body>" + "".join(
        f"<a href='{site.base}/news/{n}'>{t}</a>" for n, t in enumerate(titles, 1)) + "</body></html>")
    site.routes.update({f"/news/{n}": article(t) for n, t in enumerate(titles, 1)})
    return site


@pytest.fixture(scope="module")
def workers():
    """One extraction worker for the module: each new worker loads the gazetteer, which takes seconds."""
    pool = ExtractionWorkers(1, page_time_limit=60)
    yield pool
    pool.close()


def run_sources(db: Path, sources: list[Source], settings: Settings, run_id: str,
                workers: ExtractionWorkers) -> list[SourceReport]:
    """What the ingest flow does, without Prefect: open the run, ingest every source at once, close it."""
    async def go() -> list[SourceReport]:
        with recorded_run(db, run_id, "ingest") as ledger:
            with connect(db) as con:
                known = ingest.begin_ingest(con, sources)
            with ingest.IngestRun(db, run_id, settings, workers=workers) as run:
                async with Fetcher(settings) as fetcher:
                    reports = await asyncio.gather(*(ingest.ingest_source(run, s, fetcher, known[s.id])
                                                     for s in sources))
            ingest.finish_ingest(ledger, list(reports))
            return list(reports)

    return asyncio.run(asyncio.wait_for(go(), timeout=120))


def test_batch_outcomes_add_up_counts_errors_tallies_and_timings():
    one = ingest.BatchOutcome(fetched=2, new=1, errors=["a"], tally=health.Tally(1, 1, 1, 0, 1),
                              timings={"fetch": 1.0})
    two = ingest.BatchOutcome(fetched=3, unchanged=2, errors=["b"], tally=health.Tally(2, 2, 0, 2, 2),
                              timings={"fetch": 0.5, "load": 0.25})
    total = one + two
    assert (total.fetched, total.new, total.unchanged, total.errors) == (5, 1, 2, ["a", "b"])
    assert total.tally == health.Tally(3, 3, 1, 2, 3)
    assert total.timings == {"fetch": 1.5, "load": 0.25}
    assert one.timings == {"fetch": 1.0}  # adding makes a new outcome; neither side changes


def test_a_source_is_ingested_and_a_rerun_adds_nothing(local_site, fast_settings, tmp_path, workers):
    site = news_site(local_site)
    db, source = tmp_path / "w.duckdb", make_source(site.base)
    settings = fast_settings.model_copy(update={"workers": 1})
    [first] = run_sources(db, [source], settings, "run-1", workers)
    assert (first.discovered, first.fetched, first.articles, first.new, first.errors) == (3, 3, 3, 3, [])
    assert first.listings_fetched == 1 and first.healthy
    assert set(first.timings) >= {"fetch", "archive", "extract", "load"}
    assert rows(db, "select count(*) from raw.articles") == [(3,)]
    assert rows(db, "select status, articles_new, pages_fetched from ops.runs") == [("ok", 3, 4)]
    assert rows(db, "select source_id, articles from ops.source_runs") == [("local", 3)]

    [second] = run_sources(db, [source], settings, "run-2", workers)
    assert (second.fetched, second.new, second.skipped_known) == (0, 0, 3)
    assert rows(db, "select count(*) from raw.articles") == [(3,)]
    assert all(site.count(f"/news/{n}") == 1 for n in range(1, 4))


def test_a_failed_source_is_reported_and_the_other_is_loaded(local_site, fast_settings, tmp_path, workers):
    site = news_site(local_site)
    good = make_source(site.base)
    broken = make_source(site.base, id="gone", listings=[f"{site.base}/missing/"])
    settings = fast_settings.model_copy(update={"workers": 1, "retries": 0})
    reports = {r.source_id: r
               for r in run_sources(tmp_path / "w.duckdb", [good, broken], settings, "run-1", workers)}
    assert reports["local"].new == 3 and not reports["local"].failed
    assert reports["gone"].failed and not reports["gone"].healthy
    assert any("/missing/" in e for e in reports["gone"].errors)
    assert rows(tmp_path / "w.duckdb", "select status, sources_failed from ops.runs") == [("partial", 1)]


def test_reparse_reads_the_archive_again_without_the_network(local_site, fast_settings, tmp_path, workers):
    site = news_site(local_site)
    db, source = tmp_path / "w.duckdb", make_source(site.base)
    settings = fast_settings.model_copy(update={"workers": 1})
    run_sources(db, [source], settings, "run-1", workers)
    site.close()  # nothing may be fetched now

    async def reparse() -> SourceReport:
        with recorded_run(db, "run-2", "reparse") as ledger:
            with ingest.IngestRun(db, "run-2", settings, refresh=True, workers=workers) as run:
                report = await ingest.reparse_source(run, source)
            ingest.finish_ingest(ledger, [report])
            return report

    report = asyncio.run(asyncio.wait_for(reparse(), timeout=120))
    assert (report.parsed, report.articles, report.unchanged, report.errors) == (3, 3, 3, [])
    assert rows(db, "select count(*) from raw.articles") == [(3,)]


@pytest.mark.parametrize(("stop", "status"), [(KeyboardInterrupt(), "interrupted"),
                                             (asyncio.CancelledError(), "interrupted"),
                                             (TerminationSignal(signal.SIGTERM), "interrupted"),
                                             (RuntimeError("bug"), "failed")])
def test_the_ledger_closes_a_run_that_was_stopped_or_raised(tmp_path, stop, status):
    db = tmp_path / "w.duckdb"
    with pytest.raises(type(stop)), recorded_run(db, "r", "ingest"):
        raise stop
    assert rows(db, "select run_id, status from ops.runs") == [("r", status)]


def test_a_source_that_breaks_midway_is_its_own_failure(local_site, fast_settings, tmp_path, workers,
                                                       monkeypatch):
    site = news_site(local_site)
    good, bad = make_source(site.base), make_source(site.base, id="bad")
    real_fetch_batch = ingest.fetch_batch

    async def fetch_batch(run, source, *args):  # noqa: ANN001, ANN002 - as ingest.fetch_batch
        if source.id == "bad":
            raise OSError(28, "No space left on device")
        return await real_fetch_batch(run, source, *args)

    monkeypatch.setattr(ingest, "fetch_batch", fetch_batch)
    settings = fast_settings.model_copy(update={"workers": 1})
    reports = {r.source_id: r
               for r in run_sources(tmp_path / "w.duckdb", [good, bad], settings, "run-1", workers)}
    assert reports["local"].new == 3 and not reports["local"].failed
    assert reports["bad"].failed and "No space left on device" in reports["bad"].errors[0]
    db = tmp_path / "w.duckdb"
    assert rows(db, "select count(*) from raw.articles") == [(3,)]
    assert rows(db, "select status, sources_failed from ops.runs") == [("partial", 1)]
    assert rows(db, "select source_id, failed from ops.source_runs order by source_id") == [("bad", True),
                                                                                            ("local", False)]


def test_a_finished_run_keeps_its_status_and_counts(tmp_path):
    db = tmp_path / "w.duckdb"
    with recorded_run(db, "r", "ingest") as ledger:
        ledger.finish("partial", {"articles_new": 4, "errors": 1})
    assert rows(db, "select status, articles_new, errors from ops.runs") == [("partial", 4, 1)]


def test_a_reader_gets_the_warehouse_between_the_writes_of_a_long_run(tmp_path, monkeypatch):
    """A run keeps the file open across its writes, but lets a reader (`status`, `query`, a BI tool: another
    process, DuckDB allows one writer or several readers) in every HOLD_SECONDS, however busy it is. Without
    the pause after each release, the writer reopens at once and the reader, which polls, misses its 2 s."""
    db = tmp_path / "w.duckdb"
    connect(db).close()
    monkeypatch.setattr(ingest.IngestRun, "HOLD_SECONDS", 0.3)
    opened = tmp_path / "reader-opened"
    reader = subprocess.Popen([sys.executable, "-c", (
        "import sys; from pathlib import Path; from warehouse.db import connect\n"
        f"connect(Path({str(db)!r}), read_only=True, wait=2).close(); Path({str(opened)!r}).touch()")],
        cwd=Path(__file__).resolve().parents[1])

    async def write_without_pause() -> int:
        writes = 0
        with ingest.IngestRun(db, "busy", Settings(), workers=ExtractionWorkers(1, 60)) as run:
            deadline = asyncio.get_running_loop().time() + 30
            while reader.poll() is None and asyncio.get_running_loop().time() < deadline:
                await run.write(lambda con: con.execute("select 1").fetchall())
                writes += 1
        return writes

    writes = asyncio.run(write_without_pause())
    assert reader.wait(timeout=30) == 0 and opened.exists()
    assert writes > 1  # the run was writing while the reader waited for its turn


def test_workers_start_before_discovery_only_when_a_source_was_never_crawled(tmp_path):
    db = tmp_path / "w.duckdb"
    crawled = {"https://127.0.0.2/1": KnownPage("https://127.0.0.2/1", dt.datetime(2026, 1, 1))}
    with ingest.IngestRun(db, "known-only", Settings(workers=1)) as run:
        run.expect_pages({"a": crawled})
        assert not run.workers.running  # a run over known sources may find nothing: no worker yet
    with ingest.IngestRun(db, "new-source", Settings(workers=1)) as run:
        run.expect_pages({"a": crawled, "b": {}})
        assert run.workers.running


def test_an_idle_run_lets_the_warehouse_go_after_hold_seconds(tmp_path, monkeypatch):
    """A run that wrote once and then only fetches (discovery, a slow site) must not keep readers out."""
    db = tmp_path / "w.duckdb"
    connect(db).close()
    monkeypatch.setattr(ingest.IngestRun, "HOLD_SECONDS", 0.3)

    async def write_then_idle() -> int:
        with ingest.IngestRun(db, "idle", Settings(), workers=ExtractionWorkers(1, 60)) as run:
            await run.write(lambda con: con.execute("select 1").fetchall())
            await asyncio.sleep(1.0)  # idle, as while fetching
            reader = subprocess.run([sys.executable, "-c", (
                "from pathlib import Path; from warehouse.db import connect\n"
                f"connect(Path({str(db)!r}), read_only=True, wait=0.5).close()")],
                cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
            return reader.returncode

    assert asyncio.run(write_then_idle()) == 0


def test_a_closed_run_takes_no_more_writes(tmp_path):
    db = tmp_path / "w.duckdb"
    connect(db).close()

    async def write_after_close() -> None:
        run = ingest.IngestRun(db, "closed", Settings(), workers=ExtractionWorkers(1, 60))
        await run.write(lambda con: con.execute("select 1").fetchall())
        run.close()
        with pytest.raises(RuntimeError, match="closed"):
            await run.write(lambda con: con.execute("select 1").fetchall())

    asyncio.run(write_after_close())
    connect(db, read_only=True, wait=0.5).close()  # nothing left open: the file is free
