"""The one place where Stadtradar's deployments and their schedules are declared."""
from __future__ import annotations

from pathlib import Path

from prefect.deployments.runner import RunnerDeployment

from flows.pipeline import check_sources_flow, scheduled_pipeline_flow
from scrapers.config import Settings

# The crons are settings (Settings.pipeline_cron, STADTRADAR_PIPELINE_CRON: daily at 05:30; Settings.check_cron,
# STADTRADAR_CHECK_CRON: Mondays at 05:00).
TIMEZONE = "Europe/Berlin"


def deployments(sources_file: Path, db: Path) -> list[RunnerDeployment]:
    """The scheduled deployments over the given sources and warehouse: the daily pipeline, and the weekly
    check of every source against its live site (its findings in ops.source_checks, shown by `status`)."""
    from prefect.schedules import Cron

    settings = Settings()
    parameters = {"sources_file": str(Path(sources_file).resolve()), "db": str(Path(db).resolve())}
    daily = scheduled_pipeline_flow.to_deployment(
        name="stadtradar-daily",
        schedule=Cron(settings.pipeline_cron, timezone=TIMEZONE),
        parameters=parameters,
        concurrency_limit=1,  # one writer at a time on the warehouse
        description="Crawl every source, load the warehouse and rebuild the dbt marts.",
        tags=["stadtradar"],
    )
    weekly = check_sources_flow.to_deployment(
        name="stadtradar-weekly-check",
        schedule=Cron(settings.check_cron, timezone=TIMEZONE),
        parameters=parameters,
        concurrency_limit=1,
        description="Check every source against its live site: robots.txt, feeds, sitemaps, listings and the "
                    "newest article; a verdict per source with reasons and suggestions.",
        tags=["stadtradar"],
    )
    for deployment in (daily, weekly):
        if not isinstance(deployment, RunnerDeployment):  # inside an event loop, to_deployment gives a coroutine
            raise RuntimeError("deployments() must be called outside an event loop")
    return [daily, weekly]  # type: ignore[list-item]  # narrowed above


def serve(sources_file: Path, db: Path) -> None:
    """Run the scheduled deployments in this process until interrupted."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(sources_file, db))
