"""The deployment declaration: a daily cron in Berlin time, one run at a time, absolute paths."""
from __future__ import annotations

from pathlib import Path

from flows.schedules import TIMEZONE, deployments


def test_daily_pipeline_deployment(tmp_path):
    daily, _weekly = deployments(Path("sources.yml"), tmp_path / "w.duckdb")
    assert daily.name == "stadtradar-daily" and daily.flow_name == "scheduled-pipeline"
    (schedule,) = daily.schedules
    assert schedule.schedule.cron == "30 5 * * *" and schedule.schedule.timezone == TIMEZONE
    assert Path(daily.parameters["sources_file"]).is_absolute()
    assert daily.parameters["db"] == str((tmp_path / "w.duckdb").resolve())
    assert daily.concurrency_limit == 1


def test_the_cron_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("STADTRADAR_PIPELINE_CRON", "15 6 * * 1-5")
    monkeypatch.setenv("STADTRADAR_CHECK_CRON", "0 4 * * 0")
    daily, weekly = deployments(Path("sources.yml"), tmp_path / "w.duckdb")
    assert daily.schedules[0].schedule.cron == "15 6 * * 1-5"
    assert weekly.schedules[0].schedule.cron == "0 4 * * 0"


def test_weekly_check_deployment_declared_next_to_the_daily_one(tmp_path):
    daily, weekly = deployments(Path("sources.yml"), tmp_path / "w.duckdb")
    assert weekly.name == "stadtradar-weekly-check" and weekly.flow_name == "check-sources"
    (schedule,) = weekly.schedules
    assert schedule.schedule.cron == "0 5 * * 1" and schedule.schedule.timezone == TIMEZONE
    assert weekly.parameters == daily.parameters and weekly.concurrency_limit == 1
