"""Fault injection: the real ingest flow against a misbehaving site on 127.0.0.1, asserting on the warehouse."""
from __future__ import annotations

import asyncio
import socket
import struct
import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from flows.pipeline import ingest_flow
from scrapers.config import Settings
from scrapers.fetch import Fetcher, FetchError
from tests.conftest import make_source

pytestmark = pytest.mark.e2e

CAP = 200_000
BOMB_SIZE = 50 * 1024 * 1024

Handler = Callable[[socket.socket], None]

ARTICLE = """<html lang="de"><head><meta charset="utf-8"><title>{title}</title></head><body>
<nav><a href="/">Start</a></nav><main><article><h1>{title}</h1><p class="date">Veröffentlicht am 04.03.2025</p>
<p>Die Stadt Konstanz stellt ihre Smart-City-Strategie vor. Digitale Zwillinge und eine urbane Datenplattform
sollen die klimaneutrale Stadtentwicklung unterstützen. Die Verwaltung lädt zur Beteiligung ein.</p>
<p>Weitere Schritte der Digitalisierung folgen im Sommer, kündigte das Smart-City-Team an.</p></article></main>
<footer>Rathaus, Kanzleistraße 15</footer></body></html>"""

# The <meta> claims utf-8 but the bytes are windows-1252 (€, „“ and – exist only there, not in latin-1).
CP1252_TITLE = "Grüße aus Görlitz: Straßenbeleuchtung für 50 000 € – „smart“ erneuert"

GOOD = {"/news/1-strategie/": "Konstanz stellt Smart-City-Strategie vor",
        "/news/2-plattform/": "Datenplattform für Konstanz",
        "/news/3-zwilling/": "Digitaler Zwilling für die Altstadt",
        "/news/4-sensoren/": "Sensoren messen die Luftqualität",
        "/news/5-umlaute/": CP1252_TITLE}
FAULTS = {  # path: (what the warehouse records) status, attempts, a phrase of the error
    "/news/10-reset/": (None, 2, "Error"),
    "/news/11-abgeschnitten/": (None, 2, "Error"),
    "/news/12-langsam/": (None, 2, "Timeout"),
    "/news/13-bombe/": (200, 1, f"cap of {CAP} bytes"),
    "/news/14-schleife/": (302, 1, "more than 5 redirects"),
    "/news/15-umzug/": (302, 1, "redirect to http://127.0.0.2:"),
    "/news/16-riesig/": (200, 1, f"exceeds the cap of {CAP} bytes"),
    "/news/17-strom/": (200, 1, f"exceeds the cap of {CAP} bytes"),
    "/news/18-ueberlastet/": (503, 2, "HTTP 503"),
    "/news/19-zu-viele/": (429, 2, "HTTP 429"),
    "/news/20-fehler/": (500, 2, "HTTP 500"),
    "/news/22-kaputt/": (200, 1, "not valid gzip data"),
    "/news/23-ziel/": (302, 1, "malformed redirect location"),
}
ROBOTS_FORBIDDEN = "/news/21-intern/"
REASONS = {200: "OK", 302: "Found", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable"}


class FaultSite:
    """An HTTP server on a raw socket: each route writes whatever bytes it likes (or resets, or stalls), which
    http.server cannot; every connection and request path is logged. One request per connection."""

    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Handler] = {}
        self.requests: list[str] = []
        self.connections = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.05)
        self.base = f"http://{host}:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def count(self, path: str) -> int:
        with self._lock:
            return self.requests.count(path)

    def close(self) -> None:
        self.stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                path = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")[1]
                with self._lock:
                    self.requests.append(path)
                self.routes.get(path, respond(404, b"not found", "text/plain"))(conn)
            except OSError:
                pass  # the client gave up first (a timeout, a cap): nothing to serve


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", *(f"{k}: {v}" for k, v in headers.items()),
             "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(status: int, body: bytes | str = b"", content_type: str = "text/html; charset=utf-8",
            **headers: str) -> Handler:
    data = body.encode("utf-8") if isinstance(body, str) else body

    def handler(conn: socket.socket) -> None:
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        conn.sendall(head(status, {"Content-Type": content_type, "Content-Length": str(len(data)), **extra}) + data)

    return handler


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST


def truncated(conn: socket.socket) -> None:
    conn.sendall(head(200, {"Content-Type": "text/html", "Content-Length": "5000"}) + b"<html><body><p>Anfang")


def stalled(site: FaultSite) -> Handler:
    def handler(conn: socket.socket) -> None:
        site.stop.wait(3)  # far beyond the read timeout of 1 s

    return handler


def endless(conn: socket.socket) -> None:
    """No Content-Length, so only counting the streamed bytes can stop it."""
    conn.sendall(head(200, {"Content-Type": "text/html"}))
    for _ in range(CAP // 8192 + 10):
        conn.sendall(b"x" * 8192)


def gzipped(text: str) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(text.encode("utf-8")) + packer.flush()


def bomb() -> bytes:
    """~50 KB of gzip that inflates to 50 MB of zeros, built in memory once."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join(packer.compress(zeros) for _ in range(BOMB_SIZE // len(zeros))) + packer.flush()


def listing() -> str:
    paths = [*GOOD, *FAULTS, ROBOTS_FORBIDDEN]
    anchors = "".join(f'<a href="{p}">Meldung</a>' for p in paths)
    # Other spellings of one article, and a link no URL parser accepts: neither may duplicate or fail anything.
    extra = '<a href="/news/1-strategie/?utm_source=rss#top">Nochmal</a><a href="http://[kaputt/news/9">x</a>'
    return f"<html><body><h1>Aktuelles</h1>{anchors}{extra}</body></html>"


def faulty_routes(site: FaultSite, elsewhere: FaultSite, gzip_bomb: bytes) -> dict[str, Handler]:
    html = "text/html"
    return {
        "/robots.txt": respond(200, f"User-agent: *\nDisallow: {ROBOTS_FORBIDDEN}\n", "text/plain"),
        "/news/": respond(200, listing()),
        **{path: respond(200, ARTICLE.format(title=title)) for path, title in GOOD.items()},
        "/news/5-umlaute/": respond(200, ARTICLE.format(title=CP1252_TITLE).encode("cp1252"), html),
        "/news/10-reset/": reset,
        "/news/11-abgeschnitten/": truncated,
        "/news/12-langsam/": stalled(site),
        "/news/13-bombe/": respond(200, gzip_bomb, html, Content_Encoding="gzip"),
        "/news/14-schleife/": respond(302, Location="/weiter/14/"),
        "/weiter/14/": respond(302, Location="/news/14-schleife/"),
        "/news/15-umzug/": respond(302, Location=f"{elsewhere.base}/news/15-umzug/"),
        "/news/16-riesig/": respond(200, b"y" * (CAP + 1), html),
        "/news/17-strom/": endless,
        "/news/18-ueberlastet/": respond(503, "später", Retry_After="3600"),
        "/news/19-zu-viele/": respond(429, "langsam", Retry_After="Wed, 21 Oct 2099 07:28:00 GMT"),
        "/news/20-fehler/": respond(500, "kaputt"),
        "/news/22-kaputt/": respond(200, b"\x1f\x8b but not gzip at all", html, Content_Encoding="gzip"),
        "/news/23-ziel/": respond(302, Location="http://[kaputt/"),
        ROBOTS_FORBIDDEN: respond(200, ARTICLE.format(title="Intern")),
    }


def healthy_routes(site: FaultSite) -> dict[str, Handler]:
    routes = dict(site.routes)
    for path in FAULTS:
        title = f"Meldung {path.split('/')[2]}"
        routes[path] = respond(200, ARTICLE.format(title=title))
    routes["/news/13-bombe/"] = respond(200, gzipped(ARTICLE.format(title="Meldung 13-bombe")), "text/html",
                                        Content_Encoding="gzip")
    return routes


def run_ingest(sources: Path, db: Path) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(ingest_flow(sources, db), timeout=60)

    asyncio.run(bounded())


@pytest.fixture(scope="module")
def warehouse(prefect_harness, tmp_path_factory) -> Iterator[dict]:
    """Two ingest runs: against the faulty site, then after every fault has cleared."""
    home = tmp_path_factory.mktemp("faults")
    site, elsewhere = FaultSite(), FaultSite("127.0.0.2")
    site.routes = faulty_routes(site, elsewhere, bomb())
    sources, db = home / "sources.yml", home / "w.duckdb"
    sources.write_text(f"""sources:
  - id: faulty
    name: A site with every fault
    kind: municipal
    city: Konstanz
    listings: ["{site.base}/news/"]
    url_pattern: '/news/[0-9]'
    allow_private_network: true
    rate_limit: 1000
    concurrency: 8
""", encoding="utf-8")
    env = {"STADTRADAR_RETRIES": "1", "STADTRADAR_BACKOFF_BASE": "0.01", "STADTRADAR_BACKOFF_CAP": "0.05",
           "STADTRADAR_READ_TIMEOUT": "1", "STADTRADAR_CONNECT_TIMEOUT": "2", "STADTRADAR_MAX_BODY_BYTES": str(CAP),
           "STADTRADAR_GLOBAL_CONCURRENCY": "16"}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            run_ingest(sources, db)
            first = list(site.requests)
            site.routes = healthy_routes(site)
            run_ingest(sources, db)
        yield {"db": db, "site": site, "elsewhere": elsewhere, "first": first, "all": list(site.requests)}
    finally:
        site.close()
        elsewhere.close()


@pytest.fixture
def con(warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(warehouse["db"]), read_only=True)
    yield connection
    connection.close()


def runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r for (r,) in con.execute("select run_id from ops.runs order by started_at").fetchall()]


def url(warehouse: dict, path: str) -> str:
    return warehouse["site"].base + path


def test_first_run_loads_every_good_article_despite_the_faults(warehouse, con):
    first = runs(con)[0]
    loaded = {u for (u,) in con.execute("select url from raw.articles where run_id = ?", [first]).fetchall()}
    assert loaded == {url(warehouse, p) for p in GOOD}
    status, = con.execute("select status from ops.runs where run_id = ?", [first]).fetchone()
    failed, errors = con.execute("select failed, errors from ops.source_runs where run_id = ?", [first]).fetchone()
    assert status == "partial" and not failed and errors == len(FAULTS)


def test_each_fault_is_recorded_with_url_status_and_attempts(warehouse, con):
    first = runs(con)[0]
    rows = con.execute("select url, status, attempts, error from ops.fetch_errors where run_id = ?",
                       [first]).fetchall()
    recorded = {u: (status, attempts, error) for u, status, attempts, error in rows}
    assert len(rows) == len(recorded) == len(FAULTS), rows
    assert url(warehouse, ROBOTS_FORBIDDEN) not in recorded  # honoured and counted, not an error
    for path, (status, attempts, phrase) in FAULTS.items():
        got = recorded[url(warehouse, path)]
        assert got[:2] == (status, attempts) and phrase in got[2], (path, got)


def test_retries_are_bounded_and_caps_are_not_retried(warehouse):
    first = warehouse["first"]
    for path, (_, attempts, _) in FAULTS.items():
        if path not in ("/news/14-schleife/", ROBOTS_FORBIDDEN):
            assert first.count(path) == attempts, path
    assert first.count("/news/14-schleife/") == first.count("/weiter/14/") == 3  # 6 hops, then given up
    assert first.count("/robots.txt") == 1


def test_robots_forbidden_page_is_never_requested(warehouse, con):
    assert ROBOTS_FORBIDDEN not in warehouse["all"]
    assert con.execute("select count(*) from raw.pages where url = ?",
                       [url(warehouse, ROBOTS_FORBIDDEN)]).fetchone()[0] == 0
    assert {n for (n,) in con.execute("select robots_refused from ops.source_runs").fetchall()} == {1}


def test_redirect_to_another_host_sends_nothing_there(warehouse):
    assert warehouse["elsewhere"].connections == 0 and warehouse["elsewhere"].requests == []


def test_windows_1252_page_claiming_utf8_keeps_its_umlauts(warehouse, con):
    title, body = con.execute("select title, body_text from raw.articles where url = ?",
                              [url(warehouse, "/news/5-umlaute/")]).fetchone()
    assert title == CP1252_TITLE
    assert "unterstützen" in body and "Ã" not in body and "\ufffd" not in body


def test_rerun_after_faults_clear_completes_the_set_without_refetching(warehouse, con):
    second = runs(con)[1]
    expected = {url(warehouse, p) for p in [*GOOD, *FAULTS] if p != ROBOTS_FORBIDDEN}
    assert {u for (u,) in con.execute("select url from raw.articles").fetchall()} == expected
    new_now = {u for (u,) in con.execute("select url from raw.articles where run_id = ?", [second]).fetchall()}
    assert new_now == expected - {url(warehouse, p) for p in GOOD}
    assert all(warehouse["all"].count(p) == 1 for p in GOOD)  # loaded in run 1, never asked for again
    errors = con.execute("select url, error from ops.fetch_errors where run_id = ?", [second]).fetchall()
    assert errors == []
    assert con.execute("select status from ops.runs where run_id = ?", [second]).fetchone() == ("ok",)


def test_nothing_is_duplicated(con):
    for table in ("raw.articles", "raw.pages", "ops.http_state"):
        dupes = con.execute(f"select url, count(*) from {table} group by url having count(*) > 1").fetchall()
        assert dupes == [], table
    assert con.execute("select count(*) from raw.articles where url like '%utm_source%' or url like '%#%'"
                       ).fetchone()[0] == 0
    assert con.execute("select count(*) from ops.runs").fetchone()[0] == 2


def test_gzip_bomb_stops_at_the_cap_without_inflating_it(tmp_path):
    site = FaultSite()
    site.routes = {"/bomb": respond(200, bomb(), "text/html", Content_Encoding="gzip")}
    settings = Settings(db=tmp_path / "x.duckdb", max_body_bytes=CAP, retries=0, read_timeout=5)

    async def go() -> None:
        async with Fetcher(settings) as fetcher:
            await fetcher.fetch(f"{site.base}/bomb", make_source(site.base))

    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=f"cap of {CAP} bytes"):
            asyncio.run(asyncio.wait_for(go(), timeout=10))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        site.close()
    assert peak < BOMB_SIZE // 5, f"peak {peak} bytes while refusing a {BOMB_SIZE} byte bomb"


@pytest.mark.parametrize("wbits", [31, 15, -15], ids=["gzip", "zlib-deflate", "raw-deflate"])
def test_compressed_pages_are_inflated(tmp_path, wbits):
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    body = packer.compress(ARTICLE.format(title="Grüße").encode("utf-8")) + packer.flush()
    site = FaultSite()
    site.routes = {"/a": respond(200, body, Content_Encoding="gzip" if wbits == 31 else "deflate")}
    settings = Settings(db=tmp_path / "x.duckdb", max_body_bytes=CAP, retries=0, read_timeout=5)

    async def go():
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(f"{site.base}/a", make_source(site.base))

    try:
        page = asyncio.run(asyncio.wait_for(go(), timeout=10))
    finally:
        site.close()
    assert page.text == ARTICLE.format(title="Grüße")
