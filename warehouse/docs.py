"""Generating the dbt documentation site of the marts (lineage, descriptions, tests, columns) into a folder."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from warehouse.lock import writer_lock
from warehouse.transform import DbtBuildError, run_dbt

# What a reader needs: index.html (the static page, manifest and catalog inlined, opens from file://),
# dbt_index.html (the classic page, which fetches the two JSON files: serve the folder over HTTP), and the
# artifacts themselves for other tools (catalogues, Evidence, lineage viewers).
SITE_FILES = {"static_index.html": "index.html", "index.html": "dbt_index.html",
              "manifest.json": "manifest.json", "catalog.json": "catalog.json"}


def generate_docs(db: Path, out_dir: Path, lock_timeout: float = 300.0) -> list[Path]:
    """Run `dbt docs generate --static` against the warehouse at db and copy the site into out_dir.

    dbt opens the DuckDB file for writing (to read the catalog), so this holds the warehouse's writer lock,
    waiting up to lock_timeout seconds for a running pipeline (WarehouseBusy after that); the caller must not
    have the file open. Returns the files written. Raises DbtBuildError when dbt fails or the warehouse or out_dir
    cannot be written, WarehouseError when the lock file cannot be opened.
    """
    db = Path(db)
    if not db.exists():
        raise DbtBuildError(f"{db}: no warehouse here yet (run `stadtradar run` or `make demo` first)")
    if not os.access(db, os.W_OK):
        # dbt would fail after its start-up with a page of output; say it in one line instead.
        raise DbtBuildError(f"{db}: the warehouse is read-only, and dbt must open it for writing to read its "
                            "catalog (run `docs` on a writable copy)")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)  # before dbt's long run, so a bad --out fails at once
    except OSError as exc:
        raise DbtBuildError(f"cannot create the documentation folder {out_dir}: {exc.strerror or exc}") from None
    with writer_lock(db, lock_timeout), tempfile.TemporaryDirectory(prefix="stadtradar-docs-") as scratch:
        target = Path(scratch) / "target"
        run_dbt(db, "docs generate", ["--static"], target_path=target)
        missing = [name for name in SITE_FILES if not (target / name).exists()]
        if missing:
            raise DbtBuildError(f"dbt docs generate on {db} wrote no {', '.join(missing)}")
        written = []
        try:
            for source, name in SITE_FILES.items():
                shutil.copyfile(target / source, out_dir / name)
                written.append(out_dir / name)
        except OSError as exc:
            raise DbtBuildError(f"cannot write the documentation into {out_dir}: {exc.strerror or exc}") from None
    return written
