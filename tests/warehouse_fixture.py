"""A demo warehouse built once per test session by the real `stadtradar run` over the recorded snapshot.

Test modules that need real marts do `from tests.warehouse_fixture import demo_warehouse  # noqa: F401`.
The build is memoised here, not only by pytest's session scope, because every module that imports the
fixture gets its own copy of the fixture definition; the pipeline still runs once (~30 s), and a failed build
fails the other tests at once instead of being retried. STADTRADAR_TEST_WAREHOUSE=/path/to.duckdb reuses an
already built warehouse (copied first) when iterating on the tools over the marts.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scrapers.config import PROJECT_ROOT

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshot"
STADTRADAR = Path(sys.executable).with_name("stadtradar")

_built: dict[str, Path | str] = {}


def stadtradar(*args: str, home: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the `stadtradar` command with Prefect's home under home; output captured as text."""
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "PREFECT_LOGGING_LEVEL": "WARNING",
           "XDG_CACHE_HOME": str(home / "cache")}
    return subprocess.run([str(STADTRADAR), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env,
                          timeout=timeout)


def build_demo_warehouse(home: Path) -> Path:
    """Run the pipeline over the snapshot into home/stadtradar.duckdb (once per process) and return the file."""
    if "failed" in _built:
        pytest.fail(f"the demo warehouse could not be built (see the first error): {_built['failed']}")
    if "db" not in _built:
        prebuilt = os.environ.get("STADTRADAR_TEST_WAREHOUSE")
        db = home / (Path(prebuilt).name if prebuilt else "stadtradar.duckdb")
        if prebuilt:
            shutil.copyfile(prebuilt, db)
        else:
            done = stadtradar("run", "--sources", "sources.yml", "--db", str(db), "--replay", str(SNAPSHOT),
                              home=home)
            if done.returncode != 0:
                _built["failed"] = done.stderr.strip().splitlines()[-1:] or done.returncode
                pytest.fail(f"`stadtradar run` over the snapshot failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
        _built["db"] = db
    return Path(_built["db"])


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory) -> Path:
    """Path of a warehouse with marts built from tests/snapshot; treat it as read-only."""
    return build_demo_warehouse(tmp_path_factory.mktemp("demo-warehouse"))
