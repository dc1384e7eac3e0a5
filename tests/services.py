"""Throwaway PostgreSQL and Prefect servers (and Prefect workers) on 127.0.0.1 for tests and benchmarks."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
PG_USER = "stadtradar"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
# PostgreSQL refuses to run as root; as root the server runs as the Debian package's system user.
PG_SYSTEM_USER = "postgres"
# A unix socket path is limited to 107 bytes (sun_path); the socket's file name adds ".s.PGSQL.<port>".
MAX_SOCKET_DIR = 90
VENV_BIN = Path(sys.executable).parent
REQUIRE_POSTGRES_ENV = "STADTRADAR_REQUIRE_POSTGRES"


class ServiceUnavailable(RuntimeError):
    """A service's programs are not installed (or cannot run here); the message names what is missing."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the caller's server takes it moments later)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------- PostgreSQL
PG_PROGRAMS = ("initdb", "pg_ctl", "postgres", "psql")


def _pg_version(bin_dir: Path) -> tuple[int, ...]:
    out = subprocess.run([str(bin_dir / "pg_ctl"), "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)(?:\.(\d+))?", out)
    return tuple(int(n) for n in found.groups() if n) if found else ()


def find_postgres() -> Path:
    """The bin folder of the newest PostgreSQL server installed; raises ServiceUnavailable naming what is missing.

    Debian keeps the server programs out of PATH, in /usr/lib/postgresql/<version>/bin (its /usr/bin/psql is a
    wrapper that picks a cluster); other systems put them on PATH, possibly as symlinks into the real folder."""
    candidates = {Path(p).parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")}
    on_path = shutil.which("initdb")
    if on_path:
        candidates.add(Path(on_path).resolve().parent)
    if not candidates:
        raise ServiceUnavailable("PostgreSQL server programs not found: no /usr/lib/postgresql/*/bin/initdb and "
                                 "no `initdb` on PATH (Debian: apt-get install postgresql)")
    complete = [d for d in candidates if all(os.access(d / p, os.X_OK) for p in PG_PROGRAMS)]
    if not complete:
        shown = ", ".join(sorted(str(d) for d in candidates))
        raise ServiceUnavailable(f"PostgreSQL is incomplete: {', '.join(PG_PROGRAMS)} must all be in one of {shown}")
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise ServiceUnavailable("running as root, PostgreSQL needs `runuser` to start as another user")
        try:
            import pwd

            pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            raise ServiceUnavailable(f"running as root, PostgreSQL needs the system user {PG_SYSTEM_USER!r} "
                                     "to run as (the Debian package creates it)") from None
    return max(complete, key=lambda d: (_pg_version(d), str(d)))


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is not installed; fail it instead where CI installed it on purpose."""
    import pytest  # here, not at the top: the benchmarks use the servers without pytest

    try:
        find_postgres()
    except ServiceUnavailable as missing:
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{missing} ({REQUIRE_POSTGRES_ENV}=1)")
        pytest.skip(str(missing))


def _libpq_value(value: str) -> str:
    """A value for a libpq keyword/value connection string: quoted when it holds spaces, quotes or backslashes."""
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _clean_env() -> dict[str, str]:
    """The environment without libpq's PG* variables: a developer's PGHOST or PGOPTIONS must not redirect us."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway PostgreSQL server: TCP on 127.0.0.1 only, superuser `user` without password (trust)."""

    host: str
    port: int
    user: str
    bin_dir: Path

    def dsn(self, dbname: str) -> str:
        """libpq keyword/value connection string, e.g. for DuckDB's `ATTACH 'ducklake:postgres:<dsn>'`."""
        return " ".join(f"{k}={_libpq_value(v)}" for k, v in
                        (("dbname", dbname), ("host", self.host), ("port", str(self.port)), ("user", self.user)))

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Runs SQL through psql and returns its unaligned, header-less output; raises CalledProcessError on error."""
        command = [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host,
                   "-p", str(self.port), "-U", self.user, "-d", dbname, "-c", sql]
        return subprocess.run(command, capture_output=True, text=True, check=True, env=_clean_env(),
                              timeout=STOP_TIMEOUT_S).stdout

    def create_database(self, name: str) -> None:
        self.psql('CREATE DATABASE "' + name.replace('"', '""') + '"')


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", PG_SYSTEM_USER, "--", *command] if os.geteuid() == 0 else command


def _hand_to_server_user(folder: Path) -> None:
    """As root: give `folder` to the postgres user, and let that user pass through its parents (pytest's
    /tmp/pytest-of-root is 0700). Only search permission is added to the parents, never read; pytest resets its
    own folder to 0700 at its next start."""
    import pwd

    account = pwd.getpwnam(PG_SYSTEM_USER)
    os.chown(folder, account.pw_uid, account.pw_gid)
    for parent in folder.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


@contextlib.contextmanager
def postgres_server(folder: Path) -> Iterator[PostgresServer]:
    """initdb into `folder/data` and run the server on a free 127.0.0.1 port until the block ends.

    The unix socket lies in `folder` (never /var/run/postgresql), the server log is `folder/postgres.log`."""
    bin_dir = find_postgres()
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _hand_to_server_user(folder)
    data, log = folder / "data", folder / "postgres.log"
    env = _clean_env()

    def run(*args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        # cwd=folder: as the postgres user, the caller's working directory (/root) may be unreadable.
        return subprocess.run(_as_server_user([str(bin_dir / args[0]), *args[1:]]), capture_output=True, text=True,
                              check=False, env=env, cwd=folder, timeout=timeout)

    # --no-sync and fsync=off: the data is thrown away, so nothing needs to survive a crash; saves seconds.
    made = run("initdb", "-D", str(data), "-A", "trust", "-U", PG_USER, "-E", "UTF8", "--locale=C", "--no-sync")
    if made.returncode != 0:
        raise RuntimeError(f"initdb failed ({made.returncode}):\n{made.stdout}{made.stderr}")
    port = free_port()
    # An over-long path cannot hold a socket: then the server has none, which nothing here needs (all is TCP).
    sockets = str(folder) if len(str(folder)) <= MAX_SOCKET_DIR else ""
    settings = {"listen_addresses": HOST, "port": str(port), "unix_socket_directories": sockets, "fsync": "off",
                "full_page_writes": "off", "synchronous_commit": "off"}
    # In postgresql.conf rather than `pg_ctl -o`, whose options go through a shell (paths would need quoting).
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# tests/services.py\n")
        conf.writelines(f"{k} = '{v.replace(chr(39), chr(39) * 2)}'\n" for k, v in settings.items())
    try:
        started = run("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", str(START_TIMEOUT_S), "start",
                      timeout=START_TIMEOUT_S + 10)
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start ({started.stdout.strip()} {started.stderr.strip()}); "
                               f"the end of {log}:\n{_tail(log)}")
        yield PostgresServer(HOST, port, PG_USER, bin_dir)
    finally:
        stopped = run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "-t", str(STOP_TIMEOUT_S), "stop",
                      timeout=STOP_TIMEOUT_S + 10)
        if stopped.returncode != 0 and (data / "postmaster.pid").exists():
            # A fast stop disconnects clients but can still hang (say, on its checkpoint): then stop without one.
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", timeout=STOP_TIMEOUT_S)


# ---------------------------------------------------------------------------------------------- Prefect
def _prefect() -> str:
    return str(VENV_BIN / "prefect")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate all at once (they shut down in parallel), then wait for each; kill what outlives the wait."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _quiet_env(extra: Mapping[str, str]) -> dict[str, str]:
    # Nothing may phone home (as flows/__init__.py sets for the command): the server's telemetry, dbt's tracking.
    return {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", **os.environ, **extra}


@contextlib.contextmanager
def prefect_server(folder: Path) -> Iterator[str]:
    """`prefect server start` on a free 127.0.0.1 port, as a user runs one for its UI; yields its API URL.

    Its home (database, settings) is `folder`, its log `folder/server.log`."""
    port = free_port()
    env = _quiet_env({"PREFECT_HOME": str(folder), "PREFECT_UI_ENABLED": "false"})
    env.pop("PREFECT_API_URL", None)  # the server must not take itself for a client of another one
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "server.log"
    url = f"http://{HOST}:{port}/api"
    with log_path.open("wb") as log:
        server = subprocess.Popen([_prefect(), "server", "start", "--host", HOST, "--port", str(port)], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                if server.poll() is not None:
                    raise RuntimeError(f"`prefect server start` exited {server.returncode}; "
                                       f"the end of {log_path}:\n{_tail(log_path)}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"`prefect server start` did not answer in {START_TIMEOUT_S} s; "
                                       f"the end of {log_path}:\n{_tail(log_path)}")
                time.sleep(0.25)
            yield url
        finally:
            _stop([server])


def _online_workers(api_url: str, pool: str, names: set[str]) -> set[str]:
    response = httpx.post(f"{api_url}/work_pools/{pool}/workers/filter", json={}, timeout=5)
    response.raise_for_status()
    return {w["name"] for w in response.json() if w["name"] in names and w.get("status") == "ONLINE"}


@contextlib.contextmanager
def prefect_workers(api_url: str, pool: str, count: int, folder: Path,
                    env: Mapping[str, str] | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` process workers `w0`, `w1`, ... on work pool `pool` (created if missing) of the server at `api_url`,
    online when the block starts, terminated when it ends.

    Each logs to `folder/worker-<i>.log`. Their environment, which the flow runs they start inherit, is this
    process's plus PREFECT_API_URL, PREFECT_HOME=`folder` and PREFECT_WORKER_QUERY_SECONDS=1, then `env`."""
    folder.mkdir(parents=True, exist_ok=True)
    # PREFECT_HOME: results and settings in the test's folder, not ~/.prefect. Query each second rather than
    # Prefect's default 10 s, so a test's flow run starts promptly.
    worker_env = _quiet_env({"PREFECT_API_URL": api_url, "PREFECT_HOME": str(folder),
                             "PREFECT_WORKER_QUERY_SECONDS": "1", **(env or {})})
    created = subprocess.run([_prefect(), "work-pool", "create", pool, "--type", "process"], env=worker_env,
                             capture_output=True, text=True, check=False, timeout=START_TIMEOUT_S)
    if created.returncode != 0 and "already exists" not in created.stdout + created.stderr:
        raise RuntimeError(f"`prefect work-pool create {pool}` failed ({created.returncode}):\n"
                           f"{created.stdout}{created.stderr}")
    names = {f"w{i}": folder / f"worker-{i}.log" for i in range(count)}
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for name, log_path in names.items():
            with log_path.open("wb") as log:  # the child holds its own copy of the file
                workers.append(subprocess.Popen(
                    [_prefect(), "worker", "start", "--pool", pool, "--type", "process", "--name", name],
                    env=worker_env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + START_TIMEOUT_S
        while (online := _online_workers(api_url, pool, set(names))) != set(names):
            for (name, log_path), worker in zip(names.items(), workers, strict=True):
                if worker.poll() is not None:
                    raise RuntimeError(f"worker {name} exited {worker.returncode}; "
                                       f"the end of {log_path}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                late = sorted(set(names) - online)
                raise RuntimeError(f"workers {', '.join(late)} not online in {START_TIMEOUT_S} s; see "
                                   + ", ".join(str(names[n]) for n in late))
            time.sleep(0.5)
        yield workers
    finally:
        _stop(workers)
