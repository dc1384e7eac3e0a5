"""dbt runs: a failing test is named in the error, and a broken project fails loudly."""
from __future__ import annotations

import json

import duckdb
import pytest

from tests.warehouse_fixture import demo_warehouse, demo_warehouse_copy  # noqa: F401 - fixtures used by name
from warehouse.db import connect
from warehouse.transform import DbtBuildError, build_warehouse, dbt_target_folder, run_dbt, summarise

pytestmark = pytest.mark.e2e  # builds dbt or runs the pipeline: `make test` runs it, `make test-fast` skips it


def test_failures_are_named_by_node():
    failures, warnings, tests = summarise([
        {"unique_id": "test.stadtradar.unique_events_event_id.abc", "status": "fail", "message": "Got 2 results"},
        {"unique_id": "model.stadtradar.events", "status": "success", "message": "OK"},
        {"unique_id": "test.stadtradar.assert_sources_are_fresh", "status": "warn", "message": "Got 1 result"},
    ])
    assert failures == ["test unique_events_event_id: fail: Got 2 results"]
    assert warnings == ["test assert_sources_are_fresh: Got 1 result"] and tests == 2


def test_a_failing_model_fails_the_build_and_says_which(tmp_path):
    db = tmp_path / "w.duckdb"
    connect(db).close()
    con = duckdb.connect(str(db))
    con.execute("drop table raw.events")  # the staging view over it cannot build
    con.close()
    with pytest.raises(DbtBuildError) as caught:
        run_dbt(db, "build")
    assert "stg_raw__events" in str(caught.value) and str(db) in str(caught.value)


def test_a_build_out_of_memory_says_which_setting_to_raise(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    connect(db).close()
    monkeypatch.setenv("STADTRADAR_DBT_MEMORY_LIMIT", "1MB")  # too little for anything
    with pytest.raises(DbtBuildError) as caught:
        run_dbt(db, "build")
    assert "Out of Memory" in str(caught.value) and "STADTRADAR_DBT_MEMORY_LIMIT" in str(caught.value)


def test_the_pipeline_build_leaves_unit_tests_to_the_test_suite_which_runs_them(demo_warehouse_copy):  # noqa: F811
    db = demo_warehouse_copy
    built = build_warehouse(db)
    results = json.loads((dbt_target_folder(db) / "run_results.json").read_text())["results"]
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert "model" in kinds and "test" in kinds and "unit_test" not in kinds and built.tests > 0

    # The same warehouse's target folder is reused: dbt keeps its parsed project there between builds.
    assert (dbt_target_folder(db) / "partial_parse.msgpack").exists()
    unit = run_dbt(db, "test", ["--resource-type", "unit_test"])  # raises naming any unit test that fails
    results = json.loads((dbt_target_folder(db) / "run_results.json").read_text())["results"]
    assert unit.tests == len(results) >= 10 and {r["unique_id"].split(".")[0] for r in results} == {"unit_test"}
