"""Shared fixtures: a scripted HTTP server on 127.0.0.1 and source entries pointing at it."""
from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scrapers.config import Settings, Source

# One extraction worker per run: the test sites are small, and each worker loads the gazetteer on start, which
# on two cores costs every pipeline run a second (tests/test_safety_pipeline.py runs two workers on purpose).
os.environ.setdefault("STADTRADAR_WORKERS", "1")


@dataclass
class Reply:
    """One scripted response."""

    body: bytes | str = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})


Route = Reply | Callable[[int], Reply]  # a callable gets the how-manieth request to this path it is (1-based)


class LocalSite:
    """A tiny scripted website on 127.0.0.1; records every request path."""

    def __init__(self, routes: dict[str, Route]):
        self.routes = routes
        self.requests: list[str] = []
        self.request_headers: list[dict[str, str]] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                site.requests.append(self.path)
                site.request_headers.append(dict(self.headers))
                route = site.routes.get(self.path)
                if route is None:
                    reply = Reply(b"not found", 404, {"Content-Type": "text/plain"})
                elif callable(route):
                    reply = route(site.requests.count(self.path))
                else:
                    reply = route
                body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in reply.headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def count(self, path: str) -> int:
        return self.requests.count(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_site() -> Iterator[Callable[[dict[str, Route]], LocalSite]]:
    """Factory: `site = local_site({"/path": Reply(...)})`; servers are shut down after the test."""
    sites: list[LocalSite] = []

    def make(routes: dict[str, Route]) -> LocalSite:
        site = LocalSite(routes)
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the tests that run flows in-process."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def fast_settings(tmp_path) -> Settings:
    """Settings with tiny backoffs so retry tests take milliseconds."""
    return Settings(db=tmp_path / "test.duckdb", backoff_base=0.01, backoff_cap=0.05, retries=2,
                    read_timeout=2.0, connect_timeout=2.0)


def read_rows(db: Path, sql: str) -> list[tuple]:
    """The rows of a query on a warehouse file, opened read-only and closed again."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def make_source(base: str, **overrides: object) -> Source:
    """A source entry on a local site, allowed to reach loopback, with fast politeness settings."""
    entry: dict[str, object] = {
        "id": "local",
        "name": "Local test site",
        "kind": "other",
        "listings": [f"{base}/news/"],
        "url_pattern": "/news/[0-9]",
        "allow_private_network": True,
        "rate_limit": 1000.0,
        "concurrency": 4,
    }
    entry.update(overrides)
    return Source.model_validate(entry)
