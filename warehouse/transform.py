"""Running the dbt project against a warehouse file, and saying which node failed when it does."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from scrapers.config import PROJECT_ROOT, Settings
from warehouse.db import scalar

if TYPE_CHECKING:
    from warehouse.lake import LakeConfig

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
FAILED = ("error", "fail", "runtime error")


class DbtBuildError(RuntimeError):
    """dbt failed; the message lists the failing models and tests with their messages."""


@dataclass(frozen=True)
class DbtOutcome:
    """What a successful dbt invocation did."""

    nodes: int
    tests: int
    warnings: list[str]


# What the marts are built from: the state of every raw table a table-materialised model reads. The ops
# ledger and the page archive are not part of it: only views read them (marts.sources, marts.runs), always
# current, so a feed that changed without bringing an article costs no build. Only counts (kept in DuckDB's
# metadata) and the small ops.article_index are read: a scan of the raw text tables reads a block per batch.
DATA_STATE_SQL = """
select (select count(*) from raw.articles),
       (select count(*) || '/' || coalesce(max(extracted_at)::varchar, '') from ops.article_index),
       (select count(*) from raw.article_versions),
       (select count(*) from raw.cities), (select count(*) from raw.mentions), (select count(*) from raw.events),
       (select count(*) from raw.participations),
       (select coalesce(md5(string_agg(source_id || name || kind || coalesce(city, '') || coalesce(licence, '')
                                       || coalesce(terms_url, ''), ',' order by source_id)), '') from raw.sources)
"""


def build_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Hash of the dbt project's files and of the raw data: equal means a new build would change nothing."""
    digest = hashlib.sha256()
    for path in sorted(p for p in DBT_PROJECT_DIR.rglob("*") if p.is_file()
                       and not {"target", "logs"} & set(p.relative_to(DBT_PROJECT_DIR).parts)):
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    digest.update(repr(con.execute(DATA_STATE_SQL).fetchone()).encode())
    return digest.hexdigest()


def up_to_date(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    """Whether the last successful build had this fingerprint and its marts are still there."""
    last = con.execute("select fingerprint from ops.builds order by built_at desc limit 1").fetchone()
    marts = scalar(con, "select count(*) from duckdb_tables() where schema_name = 'marts'")
    return last is not None and last[0] == fingerprint and marts > 0


def record_build(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    """Remember a successful build's fingerprint, so a run that changes nothing skips the next build."""
    from warehouse.load import now  # here, not at the top: load imports the extraction stack the CLI's start skips

    con.execute("insert into ops.builds values (?, ?)", [now(), fingerprint])


def _dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def dbt_target_folder(db: Path) -> Path:
    """dbt's target folder of the warehouse file `db`: `<folder>/dbt-target/<name without suffix>/`. It lasts
    from build to build, so dbt parses again only the files that changed (its partial parsing: 2 to 3 s of
    every build otherwise), and keeps the last build's manifest and run results for whoever wants them."""
    db = Path(db).resolve()
    return db.parent / "dbt-target" / db.stem


def build_warehouse(db: Path) -> DbtOutcome:
    """The pipeline's build: seeds, models and data tests, without dbt's unit tests. Those check the models'
    logic on fixed inputs, the same on every run; as dbt's documentation advises, they run in development and
    CI (`make test`), not in every production build, where they cost about a fifth of the build's time."""
    return run_dbt(db, "build", ["--exclude-resource-type", "unit_test"])


def build_lake(lake: LakeConfig, target_path: Path) -> DbtOutcome:
    """The pipeline's build on a DuckLake warehouse (the profile's `lake` target); dbt's files go to
    target_path. The lake's extensions are installed first: dbt's DuckDB loads them when it attaches the lake."""
    from warehouse.lake import install_lake_extensions

    install_lake_extensions()
    return run_dbt(None, "build", ["--exclude-resource-type", "unit_test"], target_path, lake)


def run_dbt(db: Path | None, command: str = "build", extra_args: list[str] | None = None,
            target_path: Path | None = None, lake: LakeConfig | None = None) -> DbtOutcome:
    """Run `dbt <command>` on the warehouse file at db (in its dbt_target_folder unless target_path is given),
    or on the lake; raise DbtBuildError naming every failed node.

    dbt runs in a child process: its DuckDB instance and its parsed project (a few hundred MB on a large
    warehouse) are gone when it ends, instead of staying in a long-lived scheduler process.
    """
    if (db is None) == (lake is None):
        raise ValueError("run_dbt builds either a warehouse file or a lake")
    if target_path is None:
        if db is None:
            raise ValueError("a lake's dbt build needs a target_path")
        target_path = dbt_target_folder(db)
    target = Path(target_path)
    where = lake.display if lake is not None else str(db)
    results_file = target / "run_results.json"
    with tempfile.TemporaryDirectory(prefix="stadtradar-dbt-") as scratch:
        target.mkdir(parents=True, exist_ok=True)
        results_file.unlink(missing_ok=True)  # a failure to start must not read the previous build's results
        args = [
            _dbt_executable(),
            *command.split(),  # "build", or a command with a subcommand such as "docs generate"
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target),
            "--log-path", str(Path(scratch) / "logs"),
            # dbt writes a debug-level log of every node to a file by default; it would go with the scratch
            # folder unread, and writing it is part of dbt's per-node cost. Failures come from run_results.
            "--log-level-file", "none",
            "--quiet",
            *(extra_args or []),
        ]
        env = {**os.environ, "DO_NOT_TRACK": "1", "STADTRADAR_DBT_MEMORY_LIMIT": Settings().dbt_memory_limit}
        if lake is not None:
            args += ["--target", "lake"]
            env |= {"STADTRADAR_LAKE_CATALOG": lake.catalog, "STADTRADAR_LAKE_DATA": lake.data_path or ""}
        elif db is not None:
            env["STADTRADAR_DB"] = str(Path(db).resolve())
        try:
            done = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
        except OSError as exc:
            raise DbtBuildError(f"dbt {command} could not start: {exc}") from None
        results = json.loads(results_file.read_text(encoding="utf-8")).get("results", []) \
            if results_file.exists() else []
    failures, warnings, tests = summarise(results)
    if failures or done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        listed = "\n  ".join(failures) or output[-3000:] or f"exit status {done.returncode}"
        if "Out of Memory" in listed or "Out of Memory" in output:
            listed += ("\n  (DuckDB in dbt ran out of its memory limit: raise STADTRADAR_DBT_MEMORY_LIMIT, "
                       "default 64MB, and run `stadtradar build` again)")
        if lake is not None:  # DuckDB's errors repeat the catalog's connection string, password included
            from warehouse.lake import hide_password

            listed = hide_password(listed)
        raise DbtBuildError(f"dbt {command} failed on {where}:\n  {listed}")
    return DbtOutcome(nodes=len(results), tests=tests, warnings=warnings)


def summarise(results: list[dict]) -> tuple[list[str], list[str], int]:
    """(failures, warnings, number of tests) from dbt's run_results.json entries, each named by node."""
    failures, warnings, tests = [], [], 0
    for result in results:
        unique_id, status = result.get("unique_id", "?"), str(result.get("status"))
        parts = unique_id.split(".")
        kind = parts[0]
        # test ids end in a hash ("test.stadtradar.unique_events_event_id.5c1e9bd7f6"); models do not
        name = ".".join(parts[2:-1] if kind == "test" and len(parts) > 3 else parts[2:]) or unique_id
        tests += kind in ("test", "unit_test")
        if status in FAILED:
            failures.append(f"{kind} {name}: {status}: {result.get('message')}")
        elif status == "warn":
            warnings.append(f"{kind} {name}: {result.get('message')}")
    return failures, warnings, tests
