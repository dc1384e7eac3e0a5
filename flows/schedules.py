"""The one place where Stadtradar's deployments and their schedules are declared."""
from __future__ import annotations

import os
from pathlib import Path

from prefect.deployments.runner import RunnerDeployment

from flows.pipeline import pipeline_flow

# Daily at 05:30 Berlin time: municipal newsrooms publish during office hours, so a morning run
# picks up the previous day completely. Override with STADTRADAR_PIPELINE_CRON.
PIPELINE_CRON = os.environ.get("STADTRADAR_PIPELINE_CRON", "30 5 * * *")
TIMEZONE = "Europe/Berlin"


def deployments(sources_file: Path, db: Path) -> list[RunnerDeployment]:
    """The scheduled deployments: the daily pipeline over the given sources and warehouse."""
    from prefect.schedules import Cron

    daily = pipeline_flow.to_deployment(
        name="stadtradar-daily",
        schedule=Cron(PIPELINE_CRON, timezone=TIMEZONE),
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
