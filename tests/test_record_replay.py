"""Recording a live run (`run --record DIR`) as WARC, and replaying that folder to the same warehouse."""
from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from scrapers.config import PROJECT_ROOT
from scrapers.fetch import Fetcher
from scrapers.recorder import RecordError, WarcRecorder
from scrapers.replay import ReplayTransport, load_snapshot
from tests.conftest import Reply, make_source
from tests.conftest import read_rows as rows

STADTRADAR = Path(sys.executable).with_name("stadtradar")

ARTICLE = """<html lang="de"><head><title>{title}</title></head><body><nav><a href="/">Start</a></nav>
<main><article><h1>{title}</h1><p class="date">Veröffentlicht am {day}.04.2025</p>
<p>Die Stadt Ulm lädt zur Digitalwerkstatt ins Stadthaus ein. Im Modellprojekt Smart Cities erproben
Verwaltung und Hochschule offene Daten für Mobilität und Klimaschutz; die Ergebnisse fließen in die
Strategie der Stadt ein.</p><p>Die nächste Digitalwerkstatt findet am {event}. Mai 2025 von 17 bis 19 Uhr im
Stadthaus Ulm statt.</p><p>Teil {n} der Reihe über die digitale Stadt.</p></article></main>
<footer>Impressum</footer></body></html>"""


def site_routes() -> dict:
    listing = "".join(f'<a href="/news/{n}-werkstatt/">Teil {n}</a>' for n in range(1, 4))
    return {
        "/robots.txt": Reply("User-agent: *\nDisallow: /intern/\n", headers={"Content-Type": "text/plain"}),
        "/news/": Reply(f'<html><body>{listing}<a href="/news/4-alt/">alt</a><a href="/news/5-fehlt/">x</a>'
                        '<a href="/intern/6-geheim/">intern</a></body></html>'),
        **{f"/news/{n}-werkstatt/": Reply(ARTICLE.format(title=f"Digitalwerkstatt in Ulm, Teil {n}", day=n + 10,
                                                         event=n + 20, n=n)) for n in range(1, 4)},
        "/news/4-alt/": Reply("", status=301, headers={"Location": "/news/3-werkstatt/"}),
        # /news/5-fehlt/ is missing: a 404 the recording keeps, so the replay fails it the same way
    }


def test_recorded_responses_read_back_as_a_snapshot(local_site, fast_settings, tmp_path):
    site = local_site({**site_routes(),
                       "/gz/": Reply(gzip.compress(b"<html><body>gepackt</body></html>"),
                                     headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})})
    source = make_source(site.base)

    async def fetch_all() -> None:
        with WarcRecorder(tmp_path / "rec", "run-1") as recorder:
            async with Fetcher(fast_settings, recorder=recorder.record) as fetcher:
                for path in ("/news/1-werkstatt/", "/news/4-alt/", "/gz/"):
                    await fetcher.fetch(f"{site.base}{path}", source)
                with pytest.raises(Exception, match="HTTP 404"):
                    await fetcher.fetch(f"{site.base}/news/5-fehlt/", source)

    asyncio.run(fetch_all())
    snapshot = load_snapshot(tmp_path / "rec")
    base = site.base
    assert snapshot[f"{base}/robots.txt"].status == 200
    assert snapshot[f"{base}/news/1-werkstatt/"].body.decode().count("Digitalwerkstatt in Ulm, Teil 1") == 2
    moved = snapshot[f"{base}/news/4-alt/"]
    assert moved.status == 301 and moved.location == "/news/3-werkstatt/"
    assert snapshot[f"{base}/news/3-werkstatt/"].status == 200  # the redirect's target, fetched as its own hop
    assert snapshot[f"{base}/gz/"].body == b"<html><body>gepackt</body></html>"  # stored decoded, replayed as is
    assert snapshot[f"{base}/news/5-fehlt/"].status == 404

    async def replayed() -> str:
        async with Fetcher(fast_settings, ReplayTransport(snapshot)) as fetcher:
            page = await fetcher.fetch(f"{base}/news/4-alt/", source)
            return page.final_url

    assert asyncio.run(replayed()) == f"{base}/news/3-werkstatt/"


def test_a_recording_folder_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / "datei"
    blocker.write_text("x")
    with pytest.raises(RecordError, match="datei"):
        WarcRecorder(blocker / "rec", "run-1")
    with pytest.raises(RecordError, match="only letters"):
        WarcRecorder(tmp_path, "../oben")


def _stadtradar(tmp_path: Path, prefect_api: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "STADTRADAR_RETRIES": "0", **prefect_api}
    return subprocess.run([str(STADTRADAR), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


# What the marts are built from (dbt reads nothing else of an ingest): equal here means equal marts. Compared
# without the columns a run stamps (run ids, times), which two live runs would not share either.
RAW = {
    "raw.articles": "article_id, source_id, url, title, teaser, body_text, published_date, modified_date, author, "
                    "language, is_relevant, relevance_score, relevance_terms, content_hash, details, simhash",
    "raw.events": "*",
    "raw.mentions": "*",
    "raw.participations": "*",
    "raw.cities": "*",
    "raw.pages": "url, source_id, final_url, page_kind, status, content_hash",
    "ops.fetch_errors": "url, source_id, error, status",
}


@pytest.mark.e2e
def test_a_recorded_live_run_replays_to_the_same_warehouse(local_site, tmp_path, prefect_api):
    site = local_site(site_routes())
    sources = tmp_path / "sources.yml"
    sources.write_text(f"""sources:
  - id: ulm
    name: Ulm
    kind: municipal
    city: Ulm
    listings: ["{site.base}/news/"]
    url_pattern: '/(news|intern)/[0-9]'
    allow_private_network: true
    rate_limit: 1000
""", encoding="utf-8")
    live, replayed, recording = tmp_path / "live.duckdb", tmp_path / "replayed.duckdb", tmp_path / "recording"
    first = _stadtradar(tmp_path, prefect_api, "ingest", "--sources", str(sources), "--db", str(live),
                        "--record", str(recording))
    assert first.returncode == 2, first.stderr  # the 404 is a failed page, in both runs
    assert [p.name for p in recording.iterdir()] and all(p.name.endswith(".warc.gz") for p in recording.iterdir())
    site.close()  # nothing may reach the site any more
    second = _stadtradar(tmp_path, prefect_api, "ingest", "--sources", str(sources), "--db", str(replayed),
                         "--replay", str(recording))
    assert second.returncode == 2, second.stderr
    for table, columns in RAW.items():
        query = f"select {columns} from {table} order by all"
        assert rows(replayed, query) == rows(live, query), table
    assert len(rows(live, "select * from raw.articles")) == 3 and rows(live, "select * from raw.events")
    assert "5-fehlt" in rows(live, "select url from ops.fetch_errors")[0][0]


def test_record_cannot_be_combined_with_replay(tmp_path, prefect_api):
    sources = tmp_path / "sources.yml"
    sources.write_text("sources:\n  - {id: a, name: A, kind: other, listings: ['https://a.example/news/']}\n")
    snapshot = Path(PROJECT_ROOT) / "tests" / "snapshot"
    done = _stadtradar(tmp_path, prefect_api, "run", "--sources", str(sources), "--db", str(tmp_path / "w.duckdb"),
                       "--replay", str(snapshot), "--record", str(tmp_path / "rec"))
    assert done.returncode == 1 and "--record" in done.stderr and "--replay" in done.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_httpx_reason_phrases_survive(tmp_path):
    recorder = WarcRecorder(tmp_path, "r")
    recorder.record("https://a.example/x", httpx.Response(418, content=b"tea"), b"tea")
    recorder.close()
    assert load_snapshot(tmp_path)["https://a.example/x"].status == 418


def test_a_request_without_a_response_is_recorded_as_a_failure_and_replays_as_one(local_site, fast_settings, tmp_path):
    import socket

    from scrapers.fetch import FAILED_STATUS, FetchError

    with socket.socket() as probe:  # a loopback port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    source = make_source(dead)

    async def live() -> None:
        with WarcRecorder(tmp_path / "rec", "run-1") as recorder:
            async with Fetcher(fast_settings, recorder=recorder.record) as fetcher:
                with pytest.raises(FetchError):
                    await fetcher.fetch(f"{dead}/news/1-werkstatt/", source)

    asyncio.run(live())
    snapshot = load_snapshot(tmp_path / "rec")
    assert snapshot[f"{dead}/robots.txt"].status == FAILED_STATUS  # robots.txt could not be read

    async def replayed() -> str:
        async with Fetcher(fast_settings, ReplayTransport(snapshot)) as fetcher:
            with pytest.raises(FetchError) as caught:
                await fetcher.fetch(f"{dead}/news/1-werkstatt/", source)
            return caught.value.reason

    assert "robots.txt could not be read" in asyncio.run(replayed())  # as live, not a 404 that allows all


def test_a_recording_asks_unconditionally_and_a_failure_never_hides_a_capture(local_site, fast_settings, tmp_path):
    site = local_site(site_routes())
    source = make_source(site.base)

    async def live() -> None:
        with WarcRecorder(tmp_path / "rec", "run-1") as recorder:
            async with Fetcher(fast_settings, recorder=recorder.record) as fetcher:
                await fetcher.fetch(f"{site.base}/news/1-werkstatt/", source, headers={"If-None-Match": '"v1"'})

    asyncio.run(live())
    assert all("If-None-Match" not in h for h in site.request_headers)
    later = WarcRecorder(tmp_path / "rec", "run-2")
    later.record(f"{site.base}/news/1-werkstatt/", httpx.Response(599), b"")
    later.close()
    assert load_snapshot(tmp_path / "rec")[f"{site.base}/news/1-werkstatt/"].status == 200
