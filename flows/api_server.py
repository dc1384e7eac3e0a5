"""Gives each writing command a Prefect API: a configured one, one a recent command left running, or a new one.

Without a configured API, Prefect starts a temporary server only when the first flow begins: the client first
imports the whole server package (about 2.7 s) and then waits for the child to boot (about 3 s), all before the
first task. Here the server is started right after the writer lock is taken, so it boots on the second core
while the command imports the pipeline. It then stays up for STADTRADAR_API_IDLE_SECONDS (default 300) after
the last request, and the next command in the same PREFECT_HOME uses it instead of booting another: a re-run
that finds nothing new takes about 3 s instead of 6. `0` stops the server with the command. A configured
PREFECT_API_URL (environment or profile) is always used instead.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 60.0
REUSE_CHECK_TIMEOUT_S = 1.0
POLL_S = 0.05
IDLE_ENV = "STADTRADAR_API_IDLE_SECONDS"
DEFAULT_IDLE_S = 300.0
STATE_FILE = "stadtradar-api.json"
LOG_FILE = "stadtradar-api.log"


class ApiServerError(RuntimeError):
    """The temporary Prefect API server did not come up, or its settings are malformed."""


def idle_seconds() -> float:
    """How long a server outlives its last request (0: it stops with the command)."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if not raw:
        return DEFAULT_IDLE_S
    try:
        value = float(raw)
    except ValueError:
        raise ApiServerError(f"{IDLE_ENV}={raw!r}: expected a number of seconds (0 stops the Prefect API "
                             f"server with each command)") from None
    if value < 0:
        raise ApiServerError(f"{IDLE_ENV}={raw!r}: must not be negative")
    return value


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def server_signature() -> str:
    """What a server was started with: a server started otherwise (another Prefect, other PREFECT_ settings)
    is not reused."""
    settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("PREFECT_") and k != "PREFECT_API_URL")
    described = json.dumps([sys.executable, importlib.metadata.version("prefect"), settings])
    return hashlib.sha256(described.encode()).hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BackgroundApiServer:
    """A `flows.api_daemon` process on a loopback port: our child, or one a previous command left running."""

    def __init__(self, port: int, pid: int, process: subprocess.Popen | None = None, owned: bool = True,
                 log: Path | None = None) -> None:
        self.port, self.pid, self.process, self.owned, self.log = port, pid, process, owned, log

    @classmethod
    def start(cls, idle: float = 0.0, log: Path | None = None) -> BackgroundApiServer:
        """A new server. With `idle` > 0 it runs detached (its own session, output to `log`) and stops
        itself after that many quiet seconds; otherwise it is stopped with this command."""
        port = _free_port()
        args = [sys.executable, "-m", "flows.api_daemon", str(port), str(idle)]
        if idle <= 0:
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
            return cls(port, process.pid, process)
        assert log is not None
        with open(log, "ab") as out:  # never our stdout: a caller reading it to the end would wait for the server
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        return cls(port, process.pid, process, owned=False, log=log)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _exited(self) -> int | None:
        if self.process is not None:
            return self.process.poll()
        return None if _pid_alive(self.pid) else -1

    def answers(self, timeout: float) -> bool:
        """Whether the server answers its health check within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=max(timeout, 0.2), trust_env=False) as client:
            while time.monotonic() < deadline and self._exited() is None:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return True
                time.sleep(POLL_S)
        return False

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        if self.answers(timeout):
            return
        code = self._exited()
        if code is not None:
            where = f"its log: {self.log}" if self.log else "its log is above"
            raise ApiServerError(f"the temporary Prefect API server on port {self.port} exited with code {code} "
                                 f"while starting ({where})")
        self.stop()
        raise ApiServerError(f"the temporary Prefect API server on port {self.port} did not answer within "
                             f"{timeout:.0f} s; set PREFECT_API_URL to a running Prefect server instead")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def _state_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with open(home / f"{STATE_FILE}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two commands starting at once share one server
        yield


def lingering_server(home: Path, idle: float) -> BackgroundApiServer:
    """The server a recent command left in `home` when it still answers and was started alike; else a new one."""
    state_path, signature = home / STATE_FILE, server_signature()
    with _state_lock(home):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            state = json.loads(state_path.read_text(encoding="utf-8"))
            if state["signature"] == signature:
                found = BackgroundApiServer(int(state["port"]), int(state["pid"]), owned=False)
                if found.answers(REUSE_CHECK_TIMEOUT_S):
                    return found
        server = BackgroundApiServer.start(idle, home / LOG_FILE)
        state_path.write_text(json.dumps({"port": server.port, "pid": server.pid, "signature": signature}),
                              encoding="utf-8")
        return server


@contextlib.contextmanager
def background_api_server() -> Iterator[BackgroundApiServer | None]:
    """Start or find the server now, unless the environment names an API; stop it at the end if it is ours."""
    if os.environ.get("PREFECT_API_URL"):
        yield None
        return
    idle = idle_seconds()
    server = lingering_server(prefect_home(), idle) if idle > 0 else BackgroundApiServer.start()
    try:
        yield server
    finally:
        if server.owned:
            server.stop()


@contextlib.contextmanager
def use_api(server: BackgroundApiServer | None) -> Iterator[None]:
    """Run the enclosed flows against `server` once it answers, or against the API the user's profile names.

    Flow heartbeats are switched off against the private server: they exist to let a long-lived server mark
    crashed runs, this server serves one user's commands, and ending each flow waits up to a second for the
    heartbeat thread.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    if server is None or PREFECT_API_URL.value():  # the user's own server wins, from env or profile
        if server is not None and server.process is not None:  # started for this command, needed by none
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
