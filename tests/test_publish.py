"""The published copy for BI tools: two copies in turn behind a link, refreshed in place when the build is the same."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.db import connect
from warehouse.publish import publish
from warehouse.transform import build_fingerprint, record_build


def _warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "stadtradar.duckdb"
    con = connect(db)
    try:
        con.execute("create schema if not exists marts")
        con.execute("create table marts.articles as select 'a1' as article_id, 'Titel' as title")
        _build(con)
    finally:
        con.close()
    return db


def _build(con: duckdb.DuckDBPyConnection) -> None:
    record_build(con, build_fingerprint(con))


def _run(db: Path, run_id: str) -> None:
    """What a run that finds nothing new leaves behind: a row in the run ledger, no build."""
    con = connect(db)
    try:
        con.execute("insert into ops.runs (run_id, flow, started_at, status) values (?, 'ingest', now(), 'ok')",
                    [run_id])
    finally:
        con.close()


def _add_source(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("insert into raw.sources values ('neu', 'Neu', 'city', null, null, null, 1, now())")


def _older_copy(link: Path) -> Path:
    """The copy the link does not point to: the next publish writes it."""
    (older,) = [p for p in link.parent.glob(".*.duckdb") if p != link.resolve()]
    return older


def _runs(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [r[0] for r in con.execute("select run_id from ops.runs order by run_id").fetchall()]
    finally:
        con.close()


def test_the_link_opens_the_latest_copy_and_copies_holding_the_same_build_are_refreshed_in_place(tmp_path):
    db = _warehouse(tmp_path)
    _run(db, "r1")
    link = publish(db)
    assert link == tmp_path / "published" / "stadtradar.duckdb" and link.is_symlink()
    first = link.resolve()
    other = _older_copy(link)  # a publish that copies the file copies it to both
    other_inode = other.stat().st_ino
    _run(db, "r2")
    publish(db)
    second = link.resolve()
    assert second == other and second.stat().st_ino == other_inode  # the first re-run writes in place too
    assert _runs(link) == ["r1", "r2"]
    inode = first.stat().st_ino
    _run(db, "r3")
    publish(db)
    assert link.resolve() == first
    assert first.stat().st_ino == inode  # written in place, not copied anew
    assert _runs(link) == ["r1", "r2", "r3"]
    con = duckdb.connect(str(link), read_only=True)
    try:
        assert con.execute("select title from marts.articles").fetchall() == [("Titel",)]
    finally:
        con.close()


def test_a_new_build_is_copied_whole(tmp_path):
    db = _warehouse(tmp_path)
    link = publish(db)
    publish(db)
    older = _older_copy(link)
    inode = older.stat().st_ino
    con = connect(db)
    try:
        con.execute("insert into marts.articles values ('a2', 'Neu')")
        _add_source(con)
        _build(con)
    finally:
        con.close()
    publish(db)
    assert link.resolve() == older and older.stat().st_ino != inode
    con = duckdb.connect(str(link), read_only=True)
    try:
        assert con.execute("select count(*) from marts.articles").fetchone() == (2,)
    finally:
        con.close()


def test_changed_raw_data_without_a_build_is_not_refreshed_into_an_old_build(tmp_path):
    db = _warehouse(tmp_path)
    link = publish(db)
    publish(db)
    older = _older_copy(link)
    inode = older.stat().st_ino
    con = connect(db)
    try:  # an ingest without a build: the marts no longer match the raw data
        _add_source(con)
    finally:
        con.close()
    publish(db)
    assert link.resolve() == older and older.stat().st_ino != inode


READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
count = "select count(*) from ops.runs"
print(con.execute(count).fetchone()[0], flush=True)
sys.stdin.readline()
print(con.execute(count).fetchone()[0], flush=True)
"""


def test_a_reader_holding_the_older_copy_keeps_it_and_the_link_gets_a_fresh_copy(tmp_path):
    db = _warehouse(tmp_path)
    _run(db, "r1")
    link = publish(db)
    # a BI tool in another process (DuckDB's file locks hold between processes) opens the published copy
    reader = subprocess.Popen([sys.executable, "-c", READER, str(link)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    held = link.resolve()
    held_inode = held.stat().st_ino
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "1"
        _run(db, "r2")
        publish(db)
        _run(db, "r3")
        publish(db)  # the copy to write is the one the reader holds
        assert _runs(link) == ["r1", "r2", "r3"]
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the reader still reads the copy it opened
        assert held.stat().st_ino != held_inode  # that name got a new file; the reader's file was not written
    finally:
        reader.kill()
        reader.wait()


def test_a_copy_whose_tables_differ_is_replaced_whole(tmp_path):
    db = _warehouse(tmp_path)
    link = publish(db)
    publish(db)
    con = connect(db)
    try:
        con.execute("create table ops.extra (x integer)")
        con.execute("insert into ops.extra values (1)")
    finally:
        con.close()
    publish(db)
    con = duckdb.connect(str(link), read_only=True)
    try:
        assert con.execute("select x from ops.extra").fetchall() == [(1,)]
    finally:
        con.close()


def test_a_copy_published_before_the_link_is_replaced_by_the_link(tmp_path):
    db = _warehouse(tmp_path)
    old = tmp_path / "published" / "stadtradar.duckdb"
    old.parent.mkdir()
    old.write_bytes(db.read_bytes())
    link = publish(db)
    assert link == old and link.is_symlink() and link.resolve().parent == old.parent


def test_without_symbolic_links_the_name_itself_is_the_copy(tmp_path, monkeypatch):
    def no_links(self, target):
        raise OSError(errno.EPERM, "Operation not permitted")  # what a FAT or SMB mount answers

    monkeypatch.setattr(Path, "symlink_to", no_links)
    db = _warehouse(tmp_path)
    _run(db, "r1")
    link = publish(db)
    assert not link.is_symlink() and link.is_file() and _runs(link) == ["r1"]
    _run(db, "r2")
    publish(db)
    assert _runs(link) == ["r1", "r2"]
    assert sorted(os.listdir(link.parent)) == ["stadtradar.duckdb"]  # no copies in turn beside it


@pytest.mark.parametrize("runs", [1, 4])
def test_the_folder_holds_the_link_and_at_most_two_copies(tmp_path, runs):
    db = _warehouse(tmp_path)
    for n in range(runs):
        _run(db, f"r{n}")
        publish(db)
    names = sorted(os.listdir(tmp_path / "published"))
    assert "stadtradar.duckdb" in names
    assert not [n for n in names if n.endswith((".partial", ".link", ".wal"))]
    assert len(names) <= 3


def test_a_rebuild_of_unchanged_data_is_another_build_and_copied_whole(tmp_path):
    db = _warehouse(tmp_path)
    link = publish(db)
    older = _older_copy(link)
    inode = older.stat().st_ino
    con = connect(db)
    try:  # `stadtradar build` with nothing changed: same fingerprint, new build (the marts were rewritten)
        con.execute("update marts.articles set title = 'Neu gebaut'")
        _build(con)
    finally:
        con.close()
    publish(db)
    assert link.resolve() == older and older.stat().st_ino != inode
    con = duckdb.connect(str(link), read_only=True)
    try:
        assert con.execute("select title from marts.articles").fetchall() == [("Neu gebaut",)]
    finally:
        con.close()


def test_a_write_ahead_log_left_beside_a_copy_is_never_replayed_onto_another_file(tmp_path):
    db = _warehouse(tmp_path)
    link = publish(db)
    older = _older_copy(link)
    stale = Path(f"{older}.wal")
    stale.write_bytes(b"a log of a refresh that was killed before its checkpoint")
    _run(db, "r1")
    publish(db)
    assert link.resolve() == older and not stale.exists() and _runs(link) == ["r1"]


def test_publishing_whole_copies_only_when_in_place_is_off(tmp_path):
    db = _warehouse(tmp_path)
    link = publish(db, in_place=False)
    first = link.resolve()
    inodes = {first.stat().st_ino}
    for n in range(2):
        _run(db, f"r{n}")
        publish(db, in_place=False)
        inodes.add(link.resolve().stat().st_ino)
    assert len(inodes) == 3 and _runs(link) == ["r0", "r1"]


def test_a_view_among_the_refreshed_schemas_is_left_to_its_tables(tmp_path):
    db = _warehouse(tmp_path)
    con = connect(db)
    try:
        con.execute("create view ops.recent_runs as select * from ops.runs")
    finally:
        con.close()
    link = publish(db)
    older = _older_copy(link)
    inode = older.stat().st_ino
    _run(db, "r1")
    publish(db)
    assert link.resolve() == older and older.stat().st_ino == inode  # refreshed in place, the view untouched
    con = duckdb.connect(str(link), read_only=True)
    try:
        assert con.execute("select run_id from ops.recent_runs").fetchall() == [("r1",)]
    finally:
        con.close()
