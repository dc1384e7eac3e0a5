"""The Prefect API a command uses: a configured one, one a recent command left running, or a new one."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from flows.api_server import (
    STATE_FILE,
    ApiServerError,
    BackgroundApiServer,
    background_api_server,
    idle_seconds,
    lingering_server,
    server_signature,
)

pytestmark = pytest.mark.e2e  # builds dbt or runs the pipeline: `make test` runs it, `make test-fast` skips it


def test_a_configured_api_is_used_and_no_server_is_started(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.setenv("STADTRADAR_API_IDLE_SECONDS", "300")
    with background_api_server() as server:
        assert server is None
    assert not (tmp_path / STATE_FILE).exists()


def test_a_server_that_dies_while_starting_is_a_clear_error():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])  # a stand-in for the daemon
    server = BackgroundApiServer(9, process.pid, process)
    with pytest.raises(ApiServerError, match="port 9 exited with code 3"):
        server.wait_ready(timeout=30)
    server.stop()


@pytest.mark.parametrize("raw", ["soon", "-5"])
def test_a_malformed_idle_setting_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("STADTRADAR_API_IDLE_SECONDS", raw)
    with pytest.raises(ApiServerError, match="STADTRADAR_API_IDLE_SECONDS"):
        idle_seconds()


def test_idle_setting_default_and_zero(monkeypatch):
    monkeypatch.delenv("STADTRADAR_API_IDLE_SECONDS", raising=False)
    assert idle_seconds() == 300
    monkeypatch.setenv("STADTRADAR_API_IDLE_SECONDS", "0")
    assert idle_seconds() == 0


def test_other_prefect_settings_mean_another_server(monkeypatch):
    before = server_signature()
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "sqlite+aiosqlite:////tmp/other.db")
    assert server_signature() != before


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.startswith("Z"):
            return True  # exited; only not yet reaped by this test process, its parent
        time.sleep(0.2)
    return False


def test_a_lingering_server_is_reused_and_stops_itself_when_idle(tmp_path):
    first = lingering_server(tmp_path, idle=3)
    started = [first]
    try:
        first.wait_ready()
        assert not first.owned  # the command that started it does not stop it
        state = json.loads((tmp_path / STATE_FILE).read_text())
        assert (state["port"], state["pid"]) == (first.port, first.pid)

        again = lingering_server(tmp_path, idle=3)
        assert (again.port, again.pid, again.process) == (first.port, first.pid, None)

        assert _wait_gone(first.pid, timeout=30), "the server did not stop after 3 idle seconds"
        replacement = lingering_server(tmp_path, idle=3)  # the old one is gone: a new one starts
        started.append(replacement)
        assert replacement.pid != first.pid
        replacement.wait_ready()
        os.kill(replacement.pid, signal.SIGTERM)
        assert _wait_gone(replacement.pid, timeout=30)
    finally:
        for server in started:
            if server.process is not None and server.process.poll() is None:
                server.process.kill()
