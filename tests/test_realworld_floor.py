"""The article extractor on real pages written by others, pinned as floors (like trafilatura's own
evaluation gate): ../shared/realworld/score.py scores `extract_article` on 354 real German web pages.

Skipped only where the scorer is not checked out beside the project. Speed is reported by the scorer and
measured in `make bench`, never asserted here.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from scrapers.config import PROJECT_ROOT

SCORER = PROJECT_ROOT.parent / "shared" / "realworld" / "score.py"
# Pinned a little below what the extractor reached when the floor was set (see benchmarks/README.md).
MIN_F1 = 0.95
MAX_PAGES_WITHOUT_TEXT = 2

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not SCORER.exists(), reason=f"real-world scorer not found at {SCORER}")]


def test_real_pages_hold_the_extraction_floors():
    done = subprocess.run([sys.executable, str(SCORER), "--project", str(PROJECT_ROOT), "--worst", "0"],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1]
    found = re.search(r"project F1 ([\d.]+) .*? none (\d+)", summary)
    assert found, summary
    f1, none = float(found.group(1)), int(found.group(2))
    assert f1 >= MIN_F1, summary
    assert none <= MAX_PAGES_WITHOUT_TEXT, summary
