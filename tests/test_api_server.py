"""The temporary Prefect API a command starts in the background: skipped when one is configured, clear when it fails."""
from __future__ import annotations

import subprocess
import sys

import pytest

from flows.api_server import ApiServerError, BackgroundApiServer, background_api_server


def test_a_configured_api_is_used_and_no_server_is_started(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with background_api_server() as server:
        assert server is None


def test_a_server_that_dies_while_starting_is_a_clear_error():
    server = BackgroundApiServer.__new__(BackgroundApiServer)  # a stand-in child instead of uvicorn
    server.port = 9
    server.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(ApiServerError, match="port 9 exited with code 3"):
        server.wait_ready(timeout=30)
    server.stop()
