"""A demo warehouse built once per test run by the real `stadtradar run` over the recorded snapshot, and the
helpers to share any such expensive build between the xdist workers of one run.

Test modules that need real marts do `from tests.warehouse_fixture import demo_warehouse  # noqa: F401`; treat
the file as read-only (other tests, in this process and in the other workers, read it at the same time). A test
that writes, or runs a command that opens the file for writing (`docs`, `reparse`, another `run`), takes a
copy: `copy_warehouse(demo_warehouse, tmp_path / "w.duckdb")`, or the `demo_warehouse_copy` fixture.

`built_once` is the pytest-xdist pattern for session-wide data: the first worker to ask builds under a file
lock in the run's shared temporary folder, the others wait and reuse the result; a failed build is recorded,
so the other workers fail at once with its message instead of building again. The pipeline runs once per run
(~30 s), not once per worker. STADTRADAR_TEST_WAREHOUSE=/path/to.duckdb reuses an already built warehouse
(copied first, with its archive) when iterating on the tools over the marts; it must hold exactly one
snapshot run, as tests/test_pipeline_e2e.py runs the second over a copy of it.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scrapers.config import PROJECT_ROOT
from warehouse.archive import archive_folder

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshot"
STADTRADAR = Path(sys.executable).with_name("stadtradar")

_built: dict[str, Path] = {}  # name -> folder, per process: a later request skips the lock
_FAILED = "FAILED"  # the marker file a failed build leaves in its folder, holding the error


def stadtradar(*args: str, home: Path, timeout: float = 600,
               extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `stadtradar` command with Prefect's home under home; output captured as text."""
    home.mkdir(parents=True, exist_ok=True)  # Prefect makes its home folder, not the folders above it
    env = {**os.environ, "PREFECT_HOME": str(home / "prefect"), "PREFECT_LOGGING_LEVEL": "WARNING",
           "XDG_CACHE_HOME": str(home / "cache"), **(extra_env or {})}
    return subprocess.run([str(STADTRADAR), *args], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env,
                          timeout=timeout)


def copy_warehouse(db: Path, to: Path) -> Path:
    """Copy the warehouse file db to the file `to` with whatever belongs to it: a leftover write-ahead log and
    its page archive (warehouse.archive.archive_folder). Returns `to`."""
    db, to = Path(db), Path(to)
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, to)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, to.with_name(to.name + ".wal"))
    if archive_folder(db).is_dir():
        shutil.copytree(archive_folder(db), archive_folder(to), dirs_exist_ok=True)
    return to


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder every xdist worker of this run sees (the run's own folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name` after `build(folder)` filled it, built once per test run across xdist workers.

    A build that raises (or calls pytest.fail) is recorded: every later request, in any worker, fails at once
    naming the first error. Consumers must not write into the folder; copy what they change.
    """
    if name in _built:
        return _built[name]
    root = shared_folder(tmp_path_factory)
    folder, done = root / f"once-{name}", root / f"once-{name}.done"
    with open(root / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes; another worker waits here meanwhile
        if (folder / _FAILED).exists():
            pytest.fail(f"{name} could not be built (see the first error): "
                        f"{(folder / _FAILED).read_text(encoding='utf-8')[-2000:]}")
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                build(folder)
            except BaseException as exc:  # pytest.fail raises an exception outside Exception's tree
                (folder / _FAILED).write_text(f"{type(exc).__name__}: {exc}", encoding="utf-8")
                raise
            done.touch()
    _built[name] = folder
    return folder


def _build_demo(folder: Path) -> None:
    prebuilt = os.environ.get("STADTRADAR_TEST_WAREHOUSE")
    if prebuilt:
        copy_warehouse(Path(prebuilt), folder / "stadtradar.duckdb")
        return
    # With a site folder, as a user with STADTRADAR_SITE_DIR set runs it (tests/test_site.py reads it).
    done = stadtradar("run", "--sources", "sources.yml", "--db", str(folder / "stadtradar.duckdb"),
                      "--replay", str(SNAPSHOT), home=folder / "home",
                      extra_env={"STADTRADAR_SITE_DIR": str(folder / "site")})
    if done.returncode != 0:
        pytest.fail(f"`stadtradar run` over the snapshot failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def build_demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse file built over the snapshot (once per test run); treat it as read-only."""
    return built_once(tmp_path_factory, "demo-warehouse", _build_demo) / "stadtradar.duckdb"


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a warehouse with marts built from tests/snapshot, shared by every test of the run: read-only."""
    return build_demo_warehouse(tmp_path_factory)


@pytest.fixture
def demo_warehouse_copy(demo_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the demo warehouse (with its archive) of this test's own, to write to."""
    return copy_warehouse(demo_warehouse, tmp_path / "demo" / demo_warehouse.name)
