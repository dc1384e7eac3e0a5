"""The one place where Stadtradar's deployments and their schedules are declared."""
from __future__ import annotations

from pathlib import Path

from prefect.deployments.runner import RunnerDeployment

from flows.pipeline import scheduled_pipeline_flow
from scrapers.config import Settings

# The cron is a setting (Settings.pipeline_cron, STADTRADAR_PIPELINE_CRON): daily at 05:30 by default.
TIMEZONE = "Europe/Berlin"


def deployments(sources_file: Path, db: Path) -> list[RunnerDeployment]:
    """The scheduled deployments: the daily pipeline over the given sources and warehouse."""
    from prefect.schedules import Cron

    daily = scheduled_pipeline_flow.to_deployment(
        name="stadtradar-daily",
        schedule=Cron(Settings().pipeline_cron, timezone=TIMEZONE),
        parameters={"sources_file": str(Path(sources_file).resolve()), "db": str(Path(db).resolve())},
        concurrency_limit=1,  # one writer at a time on the warehouse
        description="Crawl every source, load the warehouse and rebuild the dbt marts.",
        tags=["stadtradar"],
    )
    if not isinstance(daily, RunnerDeployment):  # inside an event loop, to_deployment returns a coroutine
        raise RuntimeError("deployments() must be called outside an event loop")
    return [daily]


def serve(sources_file: Path, db: Path) -> None:
    """Run the scheduled deployments in this process until interrupted."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(sources_file, db))
