"""The deployment declaration: a daily cron in Berlin time, one run at a time, absolute paths."""
from __future__ import annotations

from pathlib import Path

from flows.schedules import PIPELINE_CRON, TIMEZONE, deployments


def test_daily_pipeline_deployment(tmp_path):
    (daily,) = deployments(Path("sources.yml"), tmp_path / "w.duckdb")
    assert daily.name == "stadtradar-daily" and daily.flow_name == "pipeline"
    (schedule,) = daily.schedules
    assert schedule.schedule.cron == PIPELINE_CRON and schedule.schedule.timezone == TIMEZONE
    assert Path(daily.parameters["sources_file"]).is_absolute()
    assert daily.parameters["db"] == str((tmp_path / "w.duckdb").resolve())
    assert daily.concurrency_limit == 1
