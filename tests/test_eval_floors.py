"""The evaluation scores pinned as floors, so a change cannot silently make the product worse.

Runs ../shared/eval/run_eval.py (the product's own evaluation: it renders the dev set into a website on
127.0.0.1, runs `stadtradar run` twice against it and scores the marts). Skipped only where the evaluation
harness is not checked out beside the project.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from scrapers.config import PROJECT_ROOT

RUN_EVAL = PROJECT_ROOT.parent / "shared" / "eval" / "run_eval.py"
FLOORS = {
    "title": 0.98, "date": 0.98, "body": 0.95, "relevance": 0.95,
    "cities_f": 0.95, "cities_p": 0.9, "programmes_f": 0.9, "programmes_p": 0.9, "events_f": 0.85, "events_p": 0.9,
}

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not RUN_EVAL.exists(), reason=f"evaluation harness not found at {RUN_EVAL}")]


def test_dev_set_scores_hold_their_floors_and_the_rerun_fetches_nothing():
    args = [sys.executable, str(RUN_EVAL), "--project", str(PROJECT_ROOT), "--incremental", "--timeout", "600"]
    args += [f"--min={name}={value}" for name, value in FLOORS.items()]
    done = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1500)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    assert done.returncode == 0, summary
    found, gold, spurious = map(int, re.search(r"articles (\d+)/(\d+) \(\+(\d+) spurious\)", summary).groups())
    assert found == gold and spurious == 0, summary
    assert "rerun: 0 refetched" in summary and "same rows True" in summary, summary
