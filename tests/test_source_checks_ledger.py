"""The source checks' ledger: verdicts stored in ops.source_checks, and `status` naming a broken source."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from warehouse.checks import latest_checks, record_checks
from warehouse.db import connect
from warehouse.status import warehouse_status

MONDAY = dt.datetime(2026, 11, 30, 5, 0)


def check(source_id: str, verdict: str, *reasons: str) -> dict:
    return {"source_id": source_id, "verdict": verdict, "reasons": list(reasons),
            "suggestions": ["try '^https://www\\.example\\.de/aktuelles/[^/?#]+$'"] if reasons else [],
            "entry_points": [{"url": "https://www.example.de/feed.xml", "status": 404}]}


def test_the_latest_check_per_source_is_read_back_with_its_details(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        record_checks(con, MONDAY - dt.timedelta(days=7), [check("ulm", "broken", "feed answers HTTP 404")])
        record_checks(con, MONDAY, [check("ulm", "ok"), check("jena", "degraded", "articles lost their dates")])
        latest = latest_checks(con)
        assert [(c["source_id"], c["verdict"], c["checked_at"]) for c in latest] == [
            ("jena", "degraded", MONDAY), ("ulm", "ok", MONDAY)]
        assert latest[0]["reasons"] == ["articles lost their dates"]
        details = json.loads(con.execute("select details from ops.source_checks where source_id = 'jena'"
                                         ).fetchall()[0][0])
        assert details["entry_points"][0]["status"] == 404
        record_checks(con, MONDAY, [check("ulm", "ok")])  # the same check stored again replaces it
        assert con.execute("select count(*) from ops.source_checks").fetchone() == (3,)


def test_status_names_a_source_whose_latest_check_is_not_ok(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        assert warehouse_status(con)["healthy"]
        record_checks(con, MONDAY, [check("ulm", "broken", "robots.txt disallows /aktuelles/"), check("jena", "ok")])
        state = warehouse_status(con)
    assert not state["healthy"]
    assert state["attention"] == [
        "source ulm: check-sources found it broken on 2026-11-30 05:00 UTC: robots.txt disallows /aktuelles/"]
    assert {c["source_id"] for c in state["checks"]} == {"ulm", "jena"}


def test_an_unknown_verdict_is_refused(tmp_path):
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(ValueError, match="ulm: verdict 'fine'"):
        record_checks(con, MONDAY, [check("ulm", "fine")])


def test_check_sources_with_db_stores_the_verdicts_and_status_names_the_broken_source(local_site, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app
    from tests.test_check_sources import entry, newsroom, write_sources

    good, _ = newsroom(local_site, feed=False)
    bad, _ = newsroom(local_site, feed=False, robots_txt="User-agent: *\nDisallow: /aktuelles/\n")
    sources = write_sources(tmp_path, entry("gut", good.base, "/aktuelles/", "/aktuelles/[^/?#]+/$")
                            + entry("kaputt", bad.base, "/aktuelles/", "/aktuelles/[^/?#]+/$"))
    db = tmp_path / "w.duckdb"
    runner = CliRunner()
    checked = runner.invoke(app, ["check-sources", "--sources", str(sources), "--db", str(db)])
    assert checked.exit_code == 2, checked.output
    status = runner.invoke(app, ["status", "--db", str(db), "--format", "json"])
    assert status.exit_code == 2
    state = json.loads(status.stdout)
    assert {c["source_id"]: c["verdict"] for c in state["checks"]} == {"gut": "ok", "kaputt": "broken"}
    (line,) = state["attention"]
    assert line.startswith("source kaputt: check-sources found it broken on ") and "Disallow: /aktuelles/" in line


def test_the_weekly_check_flow_stores_its_verdicts(local_site, tmp_path, prefect_harness):
    import asyncio

    from flows.pipeline import check_sources_flow
    from tests.conftest import read_rows
    from tests.test_check_sources import entry, newsroom, write_sources

    site, _ = newsroom(local_site, dated=False, feed=False)
    sources = write_sources(tmp_path, entry("stadt", site.base, "/aktuelles/", "/aktuelles/[^/?#]+/$"))
    db = tmp_path / "w.duckdb"
    results = asyncio.run(check_sources_flow(sources, db))
    assert [r["verdict"] for r in results] == ["degraded"]
    assert read_rows(db, "select source_id, verdict from ops.source_checks") == [("stadt", "degraded")]


def _source_run(con, run_id: str, source_id: str, finished: dt.datetime, healthy: bool) -> None:
    con.execute("insert into ops.source_runs (run_id, source_id, discovered, fetched, not_modified, articles, "
                "articles_new, articles_updated, articles_unchanged, errors, failed, healthy, health_reason, "
                "finished_at) values (?, ?, 1, 1, 0, 1, 0, 0, 1, 0, false, ?, ?, ?)",
                [run_id, source_id, healthy, None if healthy else "no dates", finished])


def test_a_failed_check_stops_counting_after_a_healthy_run_or_once_the_source_is_gone(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        record_checks(con, MONDAY, [check("ulm", "broken", "no answer"), check("jena", "broken", "no answer"),
                                    check("alt", "broken", "no answer")])
        _source_run(con, "r1", "ulm", MONDAY - dt.timedelta(days=1), True)
        _source_run(con, "r1", "jena", MONDAY - dt.timedelta(days=1), True)
        _source_run(con, "r1", "alt", MONDAY - dt.timedelta(days=1), True)
        # Tuesday's run crawls ulm and jena well; alt was removed from sources.yml
        _source_run(con, "r2", "ulm", MONDAY + dt.timedelta(days=1), True)
        _source_run(con, "r2", "jena", MONDAY + dt.timedelta(days=1), False)
        attention = warehouse_status(con)["attention"]
    assert [line.split(":")[0] for line in attention if "check-sources" in line] == ["source jena"]
