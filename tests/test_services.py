"""The throwaway PostgreSQL server of tests/services.py: answers on 127.0.0.1 only while its block runs."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

import tests.services as services
from tests.services import ServiceUnavailable, postgres_server, require_postgres


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.e2e
def test_postgres_server_runs_on_loopback_and_stops(tmp_path: Path) -> None:
    require_postgres()
    with postgres_server(tmp_path / "pg") as pg:
        pg.create_database("lake catalog")  # a name that needs quoting, in SQL and in the DSN
        assert pg.psql("select 1", dbname="lake catalog").strip() == "1"
        assert pg.psql("show listen_addresses").strip() == "127.0.0.1"
        assert pg.dsn("lake catalog") == f"dbname='lake catalog' host=127.0.0.1 port={pg.port} user=stadtradar"
        assert (tmp_path / "pg" / f".s.PGSQL.{pg.port}").is_socket()  # the socket in the folder, not /var/run
        port = pg.port
    assert not accepts(port)
    assert "database system is shut down" in (tmp_path / "pg" / "postgres.log").read_text()


def test_missing_postgres_skips_unless_required(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Path:
        raise ServiceUnavailable("no initdb")

    monkeypatch.setattr(services, "find_postgres", missing)
    monkeypatch.delenv("STADTRADAR_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no initdb"):
        require_postgres()
    monkeypatch.setenv("STADTRADAR_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="no initdb"):
        require_postgres()
