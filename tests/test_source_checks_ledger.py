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
        (stored,) = con.execute("select details from ops.source_checks where source_id = 'jena'").fetchone()
        details = json.loads(stored)
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
        "source ulm: check-sources found it broken on 2026-11-30 05:00: robots.txt disallows /aktuelles/"]
    assert {c["source_id"] for c in state["checks"]} == {"ulm", "jena"}


def test_an_unknown_verdict_is_refused(tmp_path):
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(ValueError, match="ulm: verdict 'fine'"):
        record_checks(con, MONDAY, [check("ulm", "fine")])
