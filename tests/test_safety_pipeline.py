"""Nothing lost across stopped runs, error pages and runaway pages (issue 15, items 1, 2, 5, 20, 23): the
ingest flow in-process against a scripted site on 127.0.0.1."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.pipeline import ingest_flow
from scrapers.config import PROJECT_ROOT, Settings, load_sources
from scrapers.process import process_safely
from scrapers.records import FetchedPage
from scrapers.softerror import PageText, SoftErrorScreen, replaces_stored
from scrapers.workers import ExtractionWorkers
from tests.conftest import Reply
from tests.conftest import read_rows as rows
from warehouse import load
from warehouse.db import connect
from warehouse.transform import build_fingerprint

pytestmark = pytest.mark.e2e  # runs the pipeline: `make test` runs it, `make test-fast` skips it

TITLES = ["Hitzeschutzplan für die Innenstadt beschlossen", "Neue Ladesäulen am Hauptbahnhof",
          "Bürgerforum zur digitalen Verwaltung", "Sensoren messen die Luftqualität", "Radwegenetz wird erweitert"]


def article(title: str) -> str:
    body = " ".join(f"Die Stadt Konstanz berichtet über {title.lower()} und die nächsten Schritte, Teil {n}."
                    for n in range(12))
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Start</a></nav><main><article>"
            f"<h1>{title}</h1><p class='date'>12.03.2025</p><p>{body}</p><p>{body}</p></article></main>"
            "<footer>Impressum</footer></body></html>")


MAINTENANCE = ("<html><head><title>Wartungsarbeiten</title></head><body><main><h1>Wartungsarbeiten</h1>"
               "<p>Unsere Website wird gerade gewartet. Bitte versuchen Sie es später noch einmal.</p></main>"
               "</body></html>")


def listing(base: str) -> str:
    return "<html><body><ul>" + "".join(f"<li><a href='{base}/news/{n}'>{t}</a></li>"
                                        for n, t in enumerate(TITLES, 1)) + "</ul></body></html>"


def write_sources(home: Path, base: str) -> Path:
    sources = home / "sources.yml"
    sources.write_text(f"""sources:
  - id: stadt
    name: Eine Stadt
    kind: municipal
    city: Konstanz
    listings: ["{base}/news/"]
    url_pattern: '/news/[0-9]'
    allow_private_network: true
    rate_limit: 1000
    concurrency: 4
""", encoding="utf-8")
    return sources


def ingest(sources: Path, db: Path, refresh: bool = False):
    async def bounded():
        return await asyncio.wait_for(ingest_flow(sources, db, None, refresh), timeout=120)

    return asyncio.run(bounded())


def healthy_site(site) -> None:
    site.routes.clear()
    site.routes["/news/"] = Reply(listing(site.base))
    for n, title in enumerate(TITLES, 1):
        site.routes[f"/news/{n}"] = Reply(article(title))


def test_pages_archived_by_a_stopped_run_are_extracted_next_run_without_refetching(
        prefect_harness, local_site, tmp_path):
    site = local_site({})
    healthy_site(site)
    sources, db = write_sources(tmp_path, site.base), tmp_path / "w.duckdb"
    source = load_sources(sources)[0]
    # What a run killed after archiving and before loading leaves behind: archived pages, no articles.
    pages = [FetchedPage(source_id=source.id, requested_url=f"{site.base}/news/{n}",
                         final_url=f"{site.base}/news/{n}", status=200, content_type="text/html",
                         text=article(t), fetched_at=dt.datetime(2025, 3, 12, 8), kind="article")
             for n, t in enumerate(TITLES, 1)]
    with connect(db) as con:
        load.start_run(con, "stopped", "ingest")
        load.archive_pages(con, pages, "stopped")
    report = ingest(sources, db)
    assert report.ok, [s.errors for s in report.sources]
    assert sorted(t for (t,) in rows(db, "select title from raw.articles")) == sorted(TITLES)
    assert not any(site.count(f"/news/{n}") for n in range(1, 6))  # taken from the archive
    assert rows(db, "select status from ops.runs where run_id = 'stopped'") == [("interrupted",)]
    ingest(sources, db)  # and a further run extracts nothing again
    assert rows(db, "select count(*), count(distinct article_id) from raw.articles") == [(5, 5)]
    assert rows(db, "select count(*) from raw.article_versions") == [(5,)]


def test_a_maintenance_page_on_every_url_replaces_no_article(prefect_harness, local_site, tmp_path):
    site = local_site({})
    healthy_site(site)
    sources, db = write_sources(tmp_path, site.base), tmp_path / "w.duckdb"
    assert ingest(sources, db).ok
    for n in range(1, 6):
        site.routes[f"/news/{n}"] = Reply(MAINTENANCE)
    report = ingest(sources, db, refresh=True)
    assert not report.ok  # recorded as a problem, not a silent success
    assert sorted(t for (t,) in rows(db, "select title from raw.articles")) == sorted(TITLES)
    assert rows(db, "select count(*) from ops.fetch_errors where error like '%error page%' "
                    "or error like '%kept the stored article%'")[0][0] == 5
    healthy_site(site)
    before = site.count("/news/1")
    assert ingest(sources, db).ok  # the site is back: those URLs are fetched again without --refresh
    assert site.count("/news/1") == before + 1
    assert rows(db, "select count(*) from raw.articles") == [(5,)]


def test_error_pages_are_told_from_articles():
    screen = SoftErrorScreen()
    assert screen.flag([PageText("u1", "Wartung", "kurz"), PageText("u2", "Wartung", "kurz")]) == {}
    flagged = screen.flag([PageText("u3", "Wartung", "kurz"), PageText("u4", "Neuer Park", "kurz")])
    assert set(flagged) == {"u3"}
    long_text = "x" * 5000
    assert SoftErrorScreen().flag([PageText(f"u{n}", "Pressemitteilung", long_text) for n in range(5)]) == {}
    assert not replaces_stored("Neuer Park eröffnet", 4000, "Wartungsarbeiten", "Bitte später.")
    assert replaces_stored("Neuer Park eröffnet", 4000, "Neuer Park eröffnet", "Kurz: der Park ist offen.")
    assert replaces_stored("Neuer Park eröffnet", 4000, "Ganz neu", "y" * 3000)


def endless_extraction(page, source, hint):  # noqa: ANN001 - runs in a worker, see the test below
    time.sleep(600)


def test_a_runaway_page_becomes_an_error_and_the_others_are_extracted(tmp_path):
    settings = Settings(db=tmp_path / "w.duckdb", page_time_limit=2.0, workers=2)
    sources = load_sources(PROJECT_ROOT / "sources.yml")
    page = FetchedPage(source_id=sources[0].id, requested_url="http://x/news/1", final_url="http://x/news/1",
                       status=200, content_type="text/html", text=article(TITLES[0]),
                       fetched_at=dt.datetime(2025, 1, 1), kind="article")

    async def go():
        workers = ExtractionWorkers(settings.workers, settings.page_time_limit, extractor=endless_extraction)
        try:
            stuck = await workers.extract([page], sources[0], {})
            workers.extractor = process_safely
            fine = await workers.extract([page], sources[0], {})  # the killed worker was replaced
        finally:
            workers.close()
        return stuck, fine

    stuck, fine = asyncio.run(go())
    assert stuck[0][0] is None and "stopped after 2 s" in stuck[0][1]
    assert fine[0][1] is None and fine[0][0] is not None and fine[0][0].record.title == TITLES[0]


WORKER_SCRIPT = """
import asyncio, os, sys
from pathlib import Path
from scrapers.workers import ExtractionWorkers

pool = ExtractionWorkers(2, page_time_limit=60).start()
pids = {pool.schedule(os.getpid).result(timeout=60) for _ in range(8)}
print(" ".join(map(str, pids)), flush=True)
import time; time.sleep(600)
"""


def test_workers_end_when_their_run_is_killed(tmp_path):
    run = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], cwd=PROJECT_ROOT,
                           stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in run.stdout.readline().split()]
        assert pids and all(_alive(p) for p in pids)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    for _ in range(100):  # bounded: up to 20 s
        if not any(_alive(p) for p in pids):
            break
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited; it only waits for its parent to collect it
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_a_feed_that_changed_without_articles_needs_no_build(tmp_path):
    db = tmp_path / "w.duckdb"
    feed = FetchedPage(source_id="s", requested_url="http://x/feed.xml", final_url="http://x/feed.xml", status=200,
                       content_type="application/rss+xml", text="<rss>1</rss>", fetched_at=dt.datetime(2025, 1, 1),
                       kind="feed")
    with connect(db) as con:
        load.archive_pages(con, [feed], "r1")
        before = build_fingerprint(con)
        load.archive_pages(con, [FetchedPage(**{**feed.__dict__, "text": "<rss>2</rss>"})], "r2")
        assert build_fingerprint(con) == before
