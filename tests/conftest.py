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
# Prefect's temporary API server gets 20 s to start by default; on two cores shared with other work a first start
# (a fresh database to migrate) can take longer, and the run then fails before it began.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# As flows/__init__.py sets for the command: the test harness's Prefect server must not send telemetry (a DNS
# lookup of a host outside loopback), whichever test module first imports Prefect.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The tests' HTTP goes to loopback servers only: never through a proxy a developer's shell may name (httpx, and the
# commands the tests start, would send it there).
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)

# Rough cost in seconds (two busy cores) of each slow module's end-to-end tests, for the test order below; a
# module not listed counts 3 s per end-to-end test. Only the order depends on these, never a result.
E2E_COST = {
    "test_eval_floors.py": 65, "test_operations.py": 65, "test_pipeline_e2e.py": 45, "test_dbt_project.py": 75,
    "test_cli.py": 20, "test_event_grain.py": 15, "test_faults.py": 30, "test_transform.py": 24,
    "test_safety_pipeline.py": 20, "test_realworld_floor.py": 12, "test_participation.py": 24, "test_bi.py": 10,
    "test_record_replay.py": 20,
}
DEMO_BUILD_COST = 40  # tests/warehouse_fixture.py builds it once per run, for whichever worker asks first


@pytest.hookimpl(trylast=True)  # after `-m` deselected: the scheduler splits what is left
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `-n N --dist worksteal`, order the tests so the scheduler's first split is balanced.

    worksteal hands worker k the k-th of N equal-sized consecutive slices of this list, and an idle worker later
    steals the tail half of a busy one's queue. So each slice starts with slow end-to-end modules (a module kept
    whole, so its module-scoped fixtures are built by one worker; the tests of the demo warehouse together, so
    one worker builds it while the other starts on something else), the slices about equally expensive, and
    ends with quick unit tests, which are what gets stolen. Every worker collects the same order.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2 or getattr(config.option, "dist", None) != "worksteal":
        return
    groups: dict[str, list[pytest.Item]] = {}
    quick: list[pytest.Item] = []
    for item in items:
        if item.get_closest_marker("e2e") is None:
            quick.append(item)
        else:
            key = "demo" if "demo_warehouse" in getattr(item, "fixturenames", ()) else item.path.name
            groups.setdefault(key, []).append(item)

    def cost(key: str, members: list[pytest.Item]) -> float:
        if key != "demo":
            return E2E_COST.get(key, 3 * len(members))
        modules = {m.path.name for m in members}
        return DEMO_BUILD_COST + sum(E2E_COST.get(m, 3 * sum(i.path.name == m for i in members)) for m in modules)

    bins: list[tuple[float, list[pytest.Item]]] = [(0.0, []) for _ in range(workers)]
    for key, members in sorted(groups.items(), key=lambda kv: -cost(*kv)):  # longest first, to the lightest bin
        lightest = min(range(workers), key=lambda b: bins[b][0])
        bins[lightest] = (bins[lightest][0] + cost(key, members), bins[lightest][1] + members)
    # The slice sizes worksteal sends: len // workers_left of what is still pending, worker after worker.
    sizes, left = [], len(items)
    for remaining in range(workers, 0, -1):
        sizes.append(left // remaining)
        left -= sizes[-1]
    # The bin with the most tests goes to the largest slice; the slices stay in the scheduler's order.
    slow = sorted((b for _, b in bins), key=len, reverse=True)
    by_size = sorted(range(workers), key=lambda k: -sizes[k])
    slices: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for k, members in zip(by_size, slow, strict=True):
        slices[k] = members
    if any(len(slices[k]) > sizes[k] for k in range(workers)):
        # Too few quick tests to pad the slices (`-m e2e`): the bins one after the other, each slowest first;
        # the cut between slices may split a module, whose shared builds (built_once) then still run once.
        items[:] = [item for members in slices for item in members] + quick
        return
    ordered: list[pytest.Item] = []
    for k in range(workers):
        take = sizes[k] - len(slices[k])
        ordered += slices[k] + quick[:take]
        quick = quick[take:]
    assert not quick and len(ordered) == len(items)
    items[:] = ordered


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


@pytest.fixture(scope="session")
def prefect_api(prefect_harness) -> dict[str, str]:
    """Environment for a `stadtradar` subprocess to use this worker's Prefect API (the one of prefect_harness),
    as a user's `prefect server start` would be used, instead of starting Prefect's temporary server for itself:
    that start and stop is 5-10 s of every run on two busy cores. The tests where the temporary server itself
    takes part (a killed run takes its server down with it, the first `stadtradar run` of the demo warehouse,
    the evaluation) leave this out."""
    from prefect.settings import PREFECT_API_URL

    return {"PREFECT_API_URL": str(PREFECT_API_URL.value())}


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
