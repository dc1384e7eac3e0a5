"""The ledger of runs in ops.runs: a run is opened, and closed as ok, partial, failed or interrupted, even when
it is stopped."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse import load
from warehouse.db import connect


class RecordedRun:
    """One open row of ops.runs; `finish` closes it with the run's counts and status."""

    def __init__(self, db: Path, run_id: str):
        self.db, self.run_id, self.finished = db, run_id, False

    def finish(self, status: str, summary: dict[str, int] | None = None) -> None:
        with connect(self.db) as con:
            load.finish_run(con, self.run_id, summary or {}, status)
        self.finished = True


@contextmanager
def recorded_run(db: Path, run_id: str, flow: str) -> Iterator[RecordedRun]:
    """Open the run's row; a run that ends without `finish` is closed as `interrupted` when it was stopped
    (Ctrl-C, SIGTERM, a cancelled flow) and as `failed` when it raised, at once, not at the next run.

    The caller holds the writer lock, so rows still `running` when a run opens belong to dead runs.
    """
    with connect(db) as con:
        load.start_run(con, run_id, flow)
    run = RecordedRun(db, run_id)
    try:
        yield run
    except Exception:
        _close_quietly(run, "failed")
        raise
    except BaseException:  # Ctrl-C, a cancelled flow, Prefect's TerminationSignal on SIGTERM
        _close_quietly(run, "interrupted")
        raise


def _close_quietly(run: RecordedRun, status: str) -> None:
    """Close a stopped or failed run; the error the caller raises matters more than a ledger that cannot be
    written now (the next run's start marks a row left `running` as interrupted)."""
    if run.finished:
        return
    with contextlib.suppress(Exception):
        run.finish(status)
