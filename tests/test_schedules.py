"""The deployment declaration: a daily cron in Berlin time, one run at a time, absolute paths."""
from __future__ import annotations

from pathlib import Path

from flows.schedules import TIMEZONE, deployments


def test_daily_pipeline_deployment(tmp_path):
    (daily,) = deployments(Path("sources.yml"), tmp_path / "w.duckdb")
    assert daily.name == "stadtradar-daily" and daily.flow_name == "scheduled-pipeline"
    (schedule,) = daily.schedules
    assert schedule.schedule.cron == "30 5 * * *" and schedule.schedule.timezone == TIMEZONE
    assert Path(daily.parameters["sources_file"]).is_absolute()
    assert daily.parameters["db"] == str((tmp_path / "w.duckdb").resolve())
    assert daily.concurrency_limit == 1


def test_the_cron_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("STADTRADAR_PIPELINE_CRON", "15 6 * * 1-5")
    (daily,) = deployments(Path("sources.yml"), tmp_path / "w.duckdb")
    assert daily.schedules[0].schedule.cron == "15 6 * * 1-5"
