"""Operations: a killed run, two runs at once, a relaunched site that loses its dates, the writer lock."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scrapers.config import PROJECT_ROOT
from tests.conftest import Reply
from tests.conftest import read_rows as rows
from warehouse.lock import writer_lock

STADTRADAR = Path(sys.executable).with_name("stadtradar")
pytestmark = pytest.mark.e2e

PAGE = """<html lang="de"><head><title>{title}</title></head><body><nav><a href="/">Start</a></nav>
<main><article><h1>{title}</h1>{date}
<p>Die Stadt Ulm baut ihre urbane Datenplattform aus. Sensoren messen Hitze und Luftqualität, die Daten fließen
in einen digitalen Zwilling, der die klimaneutrale Stadtentwicklung unterstützt. Das Smart-City-Team lädt
Bürgerinnen und Bürger ein, die Ergebnisse im Rathaus zu diskutieren.</p>
<p>Artikel Nummer {n} der Reihe über die Digitalisierung der Stadtverwaltung.</p></article></main>
<footer>Marktplatz 1, 89073 Ulm</footer></body></html>"""


def article(n: int, dated: bool = True, delay: float = 0.0):
    date = f'<p class="date">Veröffentlicht am {n + 10}.03.2025</p>' if dated else ""

    def reply(_count: int) -> Reply:
        time.sleep(delay)
        return Reply(PAGE.format(title=f"Ulm baut die Datenplattform aus, Teil {n}", date=date, n=n))

    return reply


def routes(count: int, dated: bool = True, delay: float = 0.0) -> dict:
    listing = "".join(f'<a href="/news/{n}-teil/">Teil {n}</a>' for n in range(1, count + 1))
    return {"/news/": Reply(f"<html><body>{listing}</body></html>"),
            **{f"/news/{n}-teil/": article(n, dated, delay) for n in range(1, count + 1)}}


def sources(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(f"""sources:
  - id: ulm
    name: Ulm
    kind: municipal
    city: Ulm
    listings: ["{base}/news/"]
    url_pattern: '/news/[0-9]'
    allow_private_network: true
    rate_limit: 1000
    concurrency: 1
""", encoding="utf-8")
    return path


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "STADTRADAR_RETRIES": "0", **extra}


def start(tmp_path: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    # A session of its own, so a test can kill the run with everything it started (Prefect's local server).
    return subprocess.Popen([str(STADTRADAR), *args], cwd=PROJECT_ROOT, env=env(tmp_path, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_a_run_killed_mid_ingest_leaves_a_readable_warehouse_and_the_rerun_completes(local_site, tmp_path,
                                                                                      prefect_api):
    site = local_site(routes(6, delay=0.4))
    db, src = tmp_path / "w.duckdb", sources(tmp_path, site.base)
    first = start(tmp_path, "ingest", "--sources", str(src), "--db", str(db))
    deadline = time.monotonic() + 120
    while sum(1 for p in site.requests if p.endswith("-teil/")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # like a power loss: the run and its Prefect server die at once
    first.wait(timeout=30)
    assert rows(db, "select status from ops.runs") == [("running",)]  # readable; the dead run is visible

    # The killed run had Prefect's temporary server; the rerun may use this worker's API (tests/conftest.py).
    second = subprocess.run([str(STADTRADAR), "ingest", "--sources", str(src), "--db", str(db)], cwd=PROJECT_ROOT,
                            env=env(tmp_path, **prefect_api), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert rows(db, "select count(*), count(distinct url) from raw.articles") == [(6, 6)]
    assert rows(db, "select count(*), count(distinct url) from raw.pages where page_kind = 'article'") == [(6, 6)]
    assert sorted(r[0] for r in rows(db, "select status from ops.runs")) == ["interrupted", "ok"]


def test_two_runs_at_once_take_turns(local_site, tmp_path, prefect_api):
    site = local_site(routes(4, delay=0.3))
    db, src = tmp_path / "w.duckdb", sources(tmp_path, site.base)
    runs = [start(tmp_path, "ingest", "--sources", str(src), "--db", str(db), STADTRADAR_LOCK_TIMEOUT="240",
                  **prefect_api) for _ in range(2)]
    outcomes = [(r.wait(timeout=300), r.stderr.read()) for r in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert rows(db, "select count(*), count(distinct url) from raw.articles") == [(4, 4)]
    ledger = rows(db, "select status, articles_new from ops.runs order by started_at")
    assert [status for status, _ in ledger] == ["ok", "ok"] and sorted(n for _, n in ledger) == [0, 4]
    # the second run found everything known: no article page was requested twice
    assert all(site.count(f"/news/{n}-teil/") == 1 for n in range(1, 5))


def test_a_second_run_that_cannot_wait_exits_3_naming_the_holder(tmp_path):
    db = tmp_path / "w.duckdb"
    with writer_lock(db, timeout=1):
        done = subprocess.run([str(STADTRADAR), "build", "--db", str(db)], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, env=env(tmp_path, STADTRADAR_LOCK_TIMEOUT="0.5"), timeout=120)
    assert done.returncode == 3
    assert "another run holds the warehouse" in done.stderr and f"pid {os.getpid()}" in done.stderr


def test_lock_is_taken_once_per_process_and_exclusive_across(tmp_path):
    db = tmp_path / "w.duckdb"
    with writer_lock(db, timeout=1):
        with pytest.raises(RuntimeError, match="holds the writer lock already"), writer_lock(db, timeout=1):
            pass
        probe = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; from warehouse.lock import writer_lock\n"
             "with writer_lock(Path(sys.argv[1]), timeout=0.3): pass", str(db)],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
        assert probe.returncode != 0 and "WarehouseBusy" in probe.stderr
    released = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from warehouse.lock import writer_lock\n"
         "with writer_lock(Path(sys.argv[1]), timeout=0.3): print('got it')", str(db)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert released.returncode == 0 and "got it" in released.stdout


def test_a_site_whose_pages_lose_their_dates_is_flagged(local_site, tmp_path, prefect_api):
    site = local_site(routes(4))
    db, src = tmp_path / "w.duckdb", sources(tmp_path, site.base)
    ingest = ["ingest", "--sources", str(src), "--db", str(db)]
    first = subprocess.run([str(STADTRADAR), *ingest], cwd=PROJECT_ROOT, env=env(tmp_path, **prefect_api),
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    site.routes.update(routes(4, dated=False))  # the relaunch: same URLs, no visible dates any more
    second = subprocess.run([str(STADTRADAR), *ingest, "--refresh"], cwd=PROJECT_ROOT,
                            env=env(tmp_path, **prefect_api), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    (healthy, reason), = rows(db, "select healthy, health_reason from ops.source_runs order by finished_at desc "
                                  "limit 1")
    assert healthy is False and "date" in reason
    status = subprocess.run([str(STADTRADAR), "status", "--db", str(db), "--format", "json"], cwd=PROJECT_ROOT,
                            env=env(tmp_path), capture_output=True, text=True, timeout=120)
    assert status.returncode == 2
    state = json.loads(status.stdout)
    assert not state["healthy"] and any("ulm" in line and "date" in line for line in state["attention"])
