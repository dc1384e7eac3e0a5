"""Nothing lost, nothing unsafe: a query that cannot write, views that survive a renamed copy, CSV that spreadsheets
do not run, one lock per warehouse, honest run statuses, and one-line errors with the documented exit codes."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import flows.cli as cli
from scrapers.config import PROJECT_ROOT
from tests.warehouse_fixture import demo_warehouse  # noqa: F401 - the fixture is used by name
from warehouse.db import WarehouseError, connect
from warehouse.exports import ExportFormat, export_marts
from warehouse.lock import WarehouseBusy, lock_held, lock_path, writer_lock

STADTRADAR = Path(sys.executable).with_name("stadtradar")
runner = CliRunner()

SOURCES = """sources:
  - id: local
    name: Local
    kind: other
    listings: ["http://127.0.0.1:9/news/"]
    allow_private_network: true
"""


def invoke(*args: str) -> object:
    """Run the `stadtradar` command in this process (seconds faster than the console script)."""
    return runner.invoke(cli.app, [str(a) for a in args])


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A small warehouse: the real raw and ops schema, and a marts table with text, numbers and a list."""
    db = tmp_path / "w.duckdb"
    with connect(db) as con:
        con.execute("create schema marts")
        con.execute("create table marts.cities (city_id varchar, name varchar, population integer, delta double,"
                    " aliases varchar[])")
        con.execute("""insert into marts.cities values
            ('1', '=HYPERLINK("http://evil.example","Klick")', -5, -1.5, ['=x', 'Dresden']),
            ('2', '+cmd|'' /C calc''!A0', 10, 0.5, []),
            ('3', '-2+3', 20, 1.0, null),
            ('4', '@SUM(A1)', 30, 2.0, null),
            ('5', chr(9) || 'tab', 40, 3.0, null),
            ('6', chr(13) || 'cr', 50, 4.0, null),
            ('7', 'Dresden', 60, 5.0, null),
            ('8', null, null, null, null)""")
        con.execute("create table marts.articles (article_id varchar, source_id varchar, url varchar, title varchar,"
                    " published_date date, teaser varchar, body_text varchar)")
        con.execute("insert into marts.articles values ('a1', 'test', 'https://example.org/a1',"
                    " '=HYPERLINK(\"http://evil.example\") Hitzeschutz', '2025-06-01', null,"
                    " 'Die Stadt stellt ihren Hitzeschutz vor.')")
    return db


@contextmanager
def lock_holder(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the warehouse's writer lock, as a running ingest does."""
    code = ("import sys, time\nfrom pathlib import Path\nfrom warehouse.lock import writer_lock\n"
            "with writer_lock(Path(sys.argv[1]), timeout=5):\n    print('holding', flush=True)\n    time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.kill()
        holder.wait(timeout=30)


# 14. `query` reads the warehouse and nothing else.

def test_query_cannot_replace_the_warehouse_with_copy_to(warehouse):
    before = digest(warehouse)
    result = invoke("query", f"COPY (select 1) TO '{warehouse}'", "--db", warehouse)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "refused" in line and str(warehouse) in line
    assert digest(warehouse) == before


def test_query_cannot_attach_and_empty_another_warehouse(warehouse, tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table t as select 1 as x")
    result = invoke("query", f"ATTACH '{other}' AS o (READ_WRITE); DELETE FROM o.t", "--db", warehouse)
    assert result.exit_code == 1 and "refused" in one_line(result.stderr)
    with duckdb.connect(str(other), read_only=True) as con:
        assert con.execute("select count(*) from t").fetchone()[0] == 1


@pytest.mark.parametrize("sql", [
    "COPY (select 1) TO '{out}'",
    "COPY marts.cities TO '{out}' (FORMAT parquet)",
    "EXPORT DATABASE '{tmp}/dump'",
    "select * from read_csv('{secret}')",
    "INSTALL httpfs",
    "LOAD fts",
    "SET memory_limit = '8GB'",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "delete from marts.cities",
])
def test_query_refuses_files_extensions_settings_and_writes(warehouse, tmp_path, sql):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    before = digest(warehouse)
    result = invoke("query", sql.format(out=out, tmp=tmp_path, secret=secret), "--db", warehouse)
    assert result.exit_code == 1, result.stdout
    line = one_line(result.stderr)
    assert line.startswith(f"error: query refused on {warehouse}: "), line
    assert not out.exists() and not (tmp_path / "dump").exists()
    assert digest(warehouse) == before


def test_query_still_reads_the_marts(warehouse):
    result = invoke("query", "select count(*) as n from marts.cities", "--db", warehouse, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"n": 8}]


def test_search_never_replaces_the_warehouse_with_its_index(warehouse):
    before = digest(warehouse)
    result = invoke("search", "Hitzeschutz", "--db", warehouse, "--index", warehouse)
    assert result.exit_code == 1 and "is the warehouse itself" in one_line(result.stderr)
    assert digest(warehouse) == before


# 15. Views do not depend on the file's name.

@pytest.mark.e2e
def test_every_view_works_in_a_renamed_copy_and_export_runs_on_it(demo_warehouse, tmp_path):  # noqa: F811
    copy = tmp_path / "w.duckdb"  # DuckDB names this database "w", not "stadtradar"
    shutil.copyfile(demo_warehouse, copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        views = con.execute("select schema_name, view_name, sql from duckdb_views() where not internal"
                            " order by all").fetchall()
        assert {"upcoming_events", "sources", "runs"} <= {name for schema, name, _ in views if schema == "marts"}
        for schema, name, sql in views:
            assert '"stadtradar".' not in sql, f"{schema}.{name} names the database: {sql[:300]}"
            con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
    result = invoke("export", "--format", "csv", "--out", tmp_path / "csv", "--db", copy)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "csv" / "upcoming_events.csv").exists()


# 16 and 24. CSV that spreadsheets do not run as formulas; `\n` line ends for shell tools.

def read_csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["city_id"]: row for row in csv.DictReader(handle)}


def test_csv_export_neutralises_formulas_in_text_columns_only(warehouse, tmp_path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        export_marts(con, tmp_path / "csv", ExportFormat.csv)
    rows = read_csv_rows(tmp_path / "csv" / "cities.csv")
    assert rows["1"]["name"] == '\'=HYPERLINK("http://evil.example","Klick")'
    assert rows["2"]["name"] == "'+cmd|' /C calc'!A0"
    assert rows["3"]["name"] == "'-2+3"
    assert rows["4"]["name"] == "'@SUM(A1)"
    assert rows["5"]["name"] == "'\ttab"
    assert rows["6"]["name"] == "'\rcr"
    assert rows["7"]["name"] == "Dresden"
    assert rows["8"]["name"] == ""  # NULL stays an empty field
    assert (rows["1"]["population"], rows["1"]["delta"]) == ("-5", "-1.5")  # numbers are numbers
    assert json.loads(rows["1"]["aliases"]) == ["=x", "Dresden"]  # a JSON array starts with [, never a formula


def test_query_csv_neutralises_formulas_and_ends_lines_with_newline(warehouse):
    result = invoke("query", "select name, population from marts.cities where city_id in ('1', '3') order by city_id",
                    "--db", warehouse, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == 'name,population\n"\'=HYPERLINK(""http://evil.example"",""Klick"")",-5\n\'-2+3,20\n'


def test_search_csv_neutralises_formulas_and_ends_lines_with_newline(warehouse, tmp_path):
    result = invoke("search", "Hitzeschutz", "--db", warehouse, "--index", tmp_path / "index.duckdb",
                    "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert "\r" not in result.stdout
    header, row, *rest = result.stdout.split("\n")
    assert header == "score,published_date,source_id,title,url,article_id" and rest == [""]
    assert ",2025-06-01,test,\"'=HYPERLINK(\"\"http://evil.example\"\") Hitzeschutz\",https://example.org/a1,a1" in row


def test_readme_documents_the_csv_neutralisation():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "single quote" in readme and "OWASP" in readme


# 17. One lock per warehouse, whatever its name; no folders made up for a mistyped --db.

def test_a_symlinked_warehouse_shares_the_lock_of_its_file(tmp_path):
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "w.duckdb"
    connect(real).close()
    link = tmp_path / "link.duckdb"
    link.symlink_to(real)
    assert lock_path(link) == lock_path(real) == tmp_path / "data" / "w.duckdb.lock"
    with lock_holder(link), pytest.raises(WarehouseBusy), writer_lock(real, timeout=0.3):
        pass


def test_a_missing_warehouse_folder_is_refused_and_not_created(tmp_path):
    sources = tmp_path / "sources.yml"
    sources.write_text(SOURCES, encoding="utf-8")
    db = tmp_path / "missing" / "dir" / "w.duckdb"
    result = invoke("ingest", "--sources", sources, "--db", db)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert str(tmp_path / "missing" / "dir") in line and "does not exist" in line
    assert not (tmp_path / "missing").exists()
    with pytest.raises(WarehouseError, match="does not exist"):
        connect(db)
    assert not (tmp_path / "missing").exists()


# 20. A killed run shows as interrupted; Ctrl-C and SIGTERM stop a run cleanly.

def add_running_run(db: Path, run_id: str = "r-killed", flow: str = "ingest") -> None:
    with connect(db) as con:
        con.execute("insert into ops.runs (run_id, flow, started_at, status) values (?, ?, now(), 'running')",
                    [run_id, flow])


def status_json(db: Path) -> tuple[int, dict]:
    result = invoke("status", "--db", db, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_status_reports_a_killed_run_as_interrupted(warehouse):
    add_running_run(warehouse)
    with lock_holder(warehouse) as holder:
        assert lock_held(warehouse)
        code, state = status_json(warehouse)
        assert code == 0 and state["runs"][0]["status"] == "running"  # a live run
        holder.send_signal(signal.SIGKILL)  # like kill -9: the run dies, the kernel drops its lock
        holder.wait(timeout=30)
    assert not lock_held(warehouse)
    code, state = status_json(warehouse)
    assert code == 2
    assert state["runs"][0]["status"] == "interrupted"
    assert any("r-killed" in line and "interrupted" in line for line in state["attention"])
    table = invoke("status", "--db", warehouse)
    assert table.exit_code == 2 and "interrupted" in table.stdout and "interrupted" in table.stderr
    assert not lock_path(warehouse).with_name("never.lock").exists()


@pytest.fixture
def fake_pipeline(monkeypatch, tmp_path):
    """flows.pipeline with flows that start a run and then are stopped; no Prefect server."""
    pipeline = types.ModuleType("flows.pipeline")
    monkeypatch.setitem(sys.modules, "flows.pipeline", pipeline)
    return pipeline


def stop(how: str) -> None:
    if how == "ctrl-c":
        raise KeyboardInterrupt
    if how == "sigterm":
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # the handler interrupts this
        raise AssertionError("SIGTERM did not stop the run")
    from prefect.exceptions import TerminationSignal

    raise TerminationSignal(signal.SIGTERM)  # what Prefect's own handler raises while a flow runs


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "prefect-sigterm"])
@pytest.mark.parametrize("command", ["build", "ingest"])
def test_a_stopped_run_prints_one_line_is_marked_interrupted_and_exits_130(fake_pipeline, warehouse, tmp_path,
                                                                           command, how):
    async def build_flow(db: Path) -> None:
        add_running_run(db, "r-stopped", "build")
        stop(how)

    async def ingest_flow(sources: Path, db: Path, replay: Path | None, refresh: bool, record: Path | None) -> None:
        add_running_run(db, "r-stopped", "ingest")
        stop(how)

    fake_pipeline.build_flow, fake_pipeline.ingest_flow, fake_pipeline.pipeline_flow = build_flow, ingest_flow, None
    sources = tmp_path / "sources.yml"
    sources.write_text(SOURCES, encoding="utf-8")
    before = signal.getsignal(signal.SIGTERM)
    args = ["build"] if command == "build" else ["ingest", "--sources", sources]
    result = invoke(*args, "--db", warehouse)
    assert result.exit_code == 130, (result.stdout, result.stderr, result.exception)
    assert "stopped" in one_line(result.stderr)
    assert signal.getsignal(signal.SIGTERM) is before  # the command's handler is gone with it
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status from ops.runs where run_id = 'r-stopped'").fetchall() == [("interrupted",)]
    assert not lock_held(warehouse)


def test_readme_lists_the_interrupted_status():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "`interrupted` (stopped by Ctrl-C" in readme and "`130`" in readme


# 21. Exit codes as documented; messages whole and on one line.

@pytest.mark.parametrize("args", [
    ["query"],                                      # missing argument
    ["status", "--format", "xml"],                  # bad value
    ["nosuch"],                                     # unknown command
    ["search", "Hitzeschutz", "--limit", "0"],      # out of range
    ["export", "--out", "x", "--bogus"],            # unknown option
])
def test_usage_errors_exit_1_as_documented(args):
    assert invoke(*args).exit_code == 1


def test_the_console_script_exits_1_on_a_usage_error():
    done = subprocess.run([str(STADTRADAR), "status", "--format", "xml"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "1 usage" in cli.EXIT_CODES


def test_error_messages_keep_their_square_brackets(tmp_path):
    sources = tmp_path / "bad.yml"
    sources.write_text(SOURCES.replace("id: local", "id: Bad-Id"), encoding="utf-8")
    result = invoke("ingest", "--sources", sources, "--db", tmp_path / "w.duckdb")
    assert result.exit_code == 1
    assert "^[a-z0-9_]+$" in one_line(result.stderr)


def test_query_values_are_not_taken_for_markup(warehouse):
    result = invoke("query", "select '[bold]x[/bold] [red]' as \"[v]\"", "--db", warehouse)
    assert result.exit_code == 0 and "[bold]x[/bold] [red]" in result.stdout and "[v]" in result.stdout


@pytest.fixture
def not_a_folder(tmp_path) -> Path:
    """A path under a plain file: no folder can be made there, not even by root (tests may run as root)."""
    plain = tmp_path / "plain-file"
    plain.write_text("", encoding="utf-8")
    return plain / "sub"


def test_export_into_an_unwritable_place_is_one_line_naming_it(warehouse, not_a_folder):
    result = invoke("export", "--format", "csv", "--out", not_a_folder, "--db", warehouse)
    assert result.exit_code == 1
    assert str(not_a_folder) in one_line(result.stderr)


@pytest.mark.parametrize("command", ["build", "run"])
def test_a_warehouse_whose_lock_cannot_be_made_is_one_line_naming_it(warehouse, tmp_path, command):
    lock_path(warehouse).mkdir()  # like a read-only folder: the lock file cannot be opened for writing
    sources = tmp_path / "sources.yml"
    sources.write_text(SOURCES, encoding="utf-8")
    args = ["build"] if command == "build" else ["run", "--sources", sources]
    result = invoke(*args, "--db", warehouse)
    assert result.exit_code == 1, result.exception
    assert f"{lock_path(warehouse)}: cannot open the warehouse's lock file" in one_line(result.stderr)


def test_a_warehouse_under_a_file_is_one_line_naming_it(not_a_folder):
    result = invoke("build", "--db", not_a_folder)
    assert result.exit_code == 1
    assert f"{not_a_folder.parent} is not a folder" in one_line(result.stderr)


def test_docs_on_a_read_only_warehouse_is_one_line(warehouse, tmp_path, monkeypatch):
    if os.geteuid() == 0:  # root writes read-only files: make the check see what a user would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if Path(path) == warehouse and mode == os.W_OK
                            else real_access(path, mode, **kw))
    else:
        warehouse.chmod(0o444)
    result = invoke("docs", "--out", tmp_path / "site", "--db", warehouse)
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert str(warehouse) in line and "read-only" in line


def test_docs_into_an_unwritable_place_or_without_a_lock_is_one_line(warehouse, tmp_path, not_a_folder):
    result = invoke("docs", "--out", not_a_folder, "--db", warehouse)
    assert result.exit_code == 1 and str(not_a_folder) in one_line(result.stderr)
    lock_path(warehouse).mkdir()
    result = invoke("docs", "--out", tmp_path / "site", "--db", warehouse)
    assert result.exit_code == 1 and str(lock_path(warehouse)) in one_line(result.stderr)


# 25. What commands write beside the project stays out of git.

@pytest.mark.parametrize("path", ["warehouse/stadtradar.duckdb.lock", "data/w.duckdb.lock", "exports/cities.csv",
                                  "site/index.html"])
def test_generated_files_are_ignored_by_git(path):
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=PROJECT_ROOT, timeout=30)
    assert done.returncode == 0, f"{path} is not ignored"

