"""The operator's view of the warehouse: recent runs, each source's latest health, recent failures."""
from __future__ import annotations

from typing import Any

import duckdb

from warehouse.checks import latest_checks
from warehouse.db import dict_rows as _rows


def _standing(checks: list[dict[str, Any]], sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checks that are not ok and still stand: of a source the last run crawled (a source since removed
    from sources.yml is not checked again), with no healthy run of it since (a passing failure, such as a
    DNS outage on the check's morning, is over once a run reads the source well)."""
    last = {s["source_id"]: s for s in sources}  # each source's latest run
    newest = max(sources, key=lambda s: s["finished_at"], default=None)
    crawled = {s["source_id"] for s in sources if newest is not None and s["run_id"] == newest["run_id"]}
    standing = []
    for check in checks:
        source = last.get(check["source_id"])
        if check["verdict"] == "ok" or (newest is not None and check["source_id"] not in crawled):
            continue
        read_well_since = source is not None and source["healthy"] and source["finished_at"] > check["checked_at"]
        if read_well_since:
            continue
        standing.append(check)
    return standing


def warehouse_status(con: duckdb.DuckDBPyConnection, runs: int = 5, writer_active: bool = True) -> dict[str, Any]:
    """Last runs, the latest state of every source and its latest check (check-sources), and whether anything
    needs attention.

    writer_active: whether a process holds the warehouse's writer lock (warehouse.lock.lock_held), probed
    while con is open, so no run can have finished in between. Without one, a run still marked `running` died
    (killed, power loss) before it could say so: it is reported `interrupted` and needs attention; the next
    writing run marks it so in ops.runs.
    """
    last_runs = _rows(con, """
        select run_id, flow, started_at, finished_at, status, sources_ok, sources_failed, pages_fetched,
               articles_new, articles_updated, articles_unchanged, errors
        from ops.runs order by started_at desc limit ?""", [runs])
    sources = _rows(con, """
        select source_id, run_id, finished_at, discovered, fetched, articles, articles_new, errors, failed,
               share_title, share_date, share_body, share_entity, healthy, health_reason
        from ops.source_runs
        qualify row_number() over (partition by source_id order by finished_at desc) = 1
        order by source_id""")
    attention = [f"source {s['source_id']}: {s['health_reason'] or 'failed'}" for s in sources if not s["healthy"]]
    checks = latest_checks(con)
    for check in _standing(checks, sources):
        attention.append(f"source {check['source_id']}: check-sources found it {check['verdict']} on "
                         f"{str(check['checked_at'])[:16]} UTC: {'; '.join(check['reasons']) or 'no reason given'}")
    dead: set[str] = set()
    if not writer_active:
        for run in _rows(con, "select run_id, flow, started_at from ops.runs where status = 'running' "
                              "order by started_at desc"):
            dead.add(run["run_id"])
            attention.append(f"run {run['run_id']} ({run['flow']}, started {str(run['started_at'])[:19]}) was "
                             "interrupted: still marked running, but no process holds the warehouse")
        for run in last_runs:
            if run["run_id"] in dead:
                run["status"] = "interrupted"
    latest = last_runs[0] if last_runs else None
    if latest is not None and latest["run_id"] not in dead and latest["status"] not in ("ok", "running"):
        attention.append(f"last run {latest['run_id']} ended {latest['status']} with {latest['errors'] or 0} "
                         "error(s)")
    return {"runs": last_runs, "sources": sources, "checks": checks, "attention": attention,
            "healthy": not attention}
