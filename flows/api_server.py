"""Starts a command's private Prefect API server early, in the background, so its boot overlaps the run's own imports.

Without a configured API, Prefect starts a temporary server only when the first flow begins: the client first
imports the whole server package (about 2.7 s) and then waits for the child to boot (about 3 s), all before the
first task. Started here, right after the writer lock is taken, the same server boots on the second core while
the command imports the pipeline; a no-change run then costs a few seconds instead of ten. A configured
PREFECT_API_URL (environment or profile) is always used instead.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

STARTUP_TIMEOUT_S = 60.0
POLL_S = 0.05
# The temporary server must neither serve the UI nor outlive us; Prefect starts its own the same way.
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}


class ApiServerError(RuntimeError):
    """The temporary Prefect API server did not come up."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BackgroundApiServer:
    """One `uvicorn prefect.server.api.server:create_app` child on a free loopback port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **SERVER_ENV}, stdin=subprocess.DEVNULL)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ApiServerError(f"the temporary Prefect API server on port {self.port} exited with code "
                                         f"{self.process.returncode} while starting (its log is above)")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                time.sleep(POLL_S)
        self.stop()
        raise ApiServerError(f"the temporary Prefect API server on port {self.port} did not answer within "
                             f"{timeout:.0f} s; set PREFECT_API_URL to a running Prefect server instead")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def background_api_server() -> Iterator[BackgroundApiServer | None]:
    """Start the server now, unless the environment names an API; stop it when the block ends."""
    server = None if os.environ.get("PREFECT_API_URL") else BackgroundApiServer()
    try:
        yield server
    finally:
        if server is not None:
            server.stop()


@contextlib.contextmanager
def use_api(server: BackgroundApiServer | None) -> Iterator[None]:
    """Run the enclosed flows against `server` once it answers, or against the API the user's profile names.

    Flow heartbeats are switched off against the private server: they exist to let a long-lived server mark
    crashed runs, this server dies with the command, and ending each flow waits up to a second for the
    heartbeat thread.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if server is None or PREFECT_API_URL.value():  # the user's own server wins, from env or profile
        if server is not None:
            server.stop()
        yield
        return
    server.wait_ready()
    with temporary_settings(updates={PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        try:
            yield
        finally:
            _drain_prefect_workers()


def _drain_prefect_workers() -> None:
    """Send the logs and events Prefect still queues while the server is up; its own drain runs at exit, too late."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)
