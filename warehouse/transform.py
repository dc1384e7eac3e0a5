"""Running the dbt project against a warehouse file, and saying which node failed when it does."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scrapers.config import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"


class DbtBuildError(RuntimeError):
    """dbt failed; the message lists the failing models and tests with their messages."""


@dataclass(frozen=True)
class DbtOutcome:
    """What a successful dbt invocation did."""

    nodes: int
    tests: int
    warnings: list[str]


@contextmanager
def _warehouse_env(db: Path):
    previous = os.environ.get("STADTRADAR_DB")
    os.environ["STADTRADAR_DB"] = str(Path(db).resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("STADTRADAR_DB", None)
        else:
            os.environ["STADTRADAR_DB"] = previous


def run_dbt(db: Path, command: str = "build", extra_args: list[str] | None = None,
            target_path: Path | None = None) -> DbtOutcome:
    """Run `dbt <command>` on the warehouse at db; raise DbtBuildError naming every failed node."""
    from dbt.cli.main import dbtRunner  # imported late: dbt is slow to import and only this step needs it

    with tempfile.TemporaryDirectory(prefix="stadtradar-dbt-") as scratch, _warehouse_env(db):
        args = [
            *command.split(),  # "build", or a command with a subcommand such as "docs generate"
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target_path or Path(scratch) / "target"),
            "--log-path", str(Path(scratch) / "logs"),
            "--quiet",
            *(extra_args or []),
        ]
        result = dbtRunner().invoke(args)
    if result.exception is not None:
        raise DbtBuildError(f"dbt {command} could not run: {result.exception}")
    failures, warnings, nodes, tests = [], [], 0, 0
    for node_result in getattr(result.result, "results", None) or []:
        node = node_result.node
        status = str(node_result.status)
        nodes += 1
        tests += node.resource_type == "test"
        if status in ("error", "fail", "runtime error"):
            failures.append(f"{node.resource_type} {node.name}: {status}: {node_result.message}")
        elif status == "warn":
            warnings.append(f"{node.resource_type} {node.name}: {node_result.message}")
    if failures or not result.success:
        listed = "\n  ".join(failures) or "(no node reported; see dbt output above)"
        raise DbtBuildError(f"dbt {command} failed on {Path(db)}:\n  {listed}")
    return DbtOutcome(nodes=nodes, tests=tests, warnings=warnings)
