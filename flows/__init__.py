"""Prefect flows, their schedules and the `stadtradar` command line."""
import os

# Nothing may phone home: Prefect's local server sends telemetry unless told not to, and dbt honours
# DO_NOT_TRACK. Set before Prefect is imported anywhere below this package; users can still override.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
