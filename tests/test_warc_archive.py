"""The WARC page archive: records written before their index rows, appended batch by batch, read back exactly."""
from __future__ import annotations

import datetime as dt
import gzip

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from scrapers.process import page_hash
from scrapers.records import FetchedPage
from warehouse import archive, load
from warehouse.archive import ArchiveError, RecordRef
from warehouse.db import connect

WHEN = dt.datetime(2026, 3, 4, 10, 0, 0, 250000)
SITE = "https://www.dresden.de"


def page(path: str, text: str, status: int = 200, kind: str = "article", final: str | None = None,
         source: str = "dresden") -> FetchedPage:
    return FetchedPage(source, f"{SITE}{path}", final or f"{SITE}{path}", status, "text/html; charset=utf-8", text,
                       WHEN, etag='"v1"', last_modified="Wed, 04 Mar 2026 09:00:00 GMT", kind=kind)


def archive_batch(db, pages, run_id="run-1") -> set[tuple[str, str]]:
    with connect(db) as con:
        return load.archive_pages(con, pages, run_id)


def index(db) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select url, content_hash, warc_file, warc_offset, warc_length from raw.pages "
                           "order by warc_file, warc_offset").fetchall()


def records(path) -> list:
    """(type, headers, http status line or request line, body) of every record in a WARC file, in order."""
    with open(path, "rb") as stream:
        return [(r.rec_type, dict(r.rec_headers.headers),
                 r.http_headers.protocol + " " + r.http_headers.statusline if r.http_headers else None,
                 r.content_stream().read()) for r in ArchiveIterator(stream)]


def test_a_page_reads_back_byte_identical_with_its_headers(tmp_path):
    text = "<html><p>Grüße aus Dresden \U0001f3d9\r\nzweite Zeile</p></html>"
    refs = archive.append_pages(tmp_path, "dresden/run-1.warc.gz", [page("/a", text)])
    back = archive.read_response(tmp_path, refs[0], f"{SITE}/a")
    assert back.body == text.encode("utf-8")
    assert (back.url, back.status, back.date) == (f"{SITE}/a", 200, "2026-03-04T10:00:00.250000Z")
    assert back.headers == [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"v1"'),
                            ("Last-Modified", "Wed, 04 Mar 2026 09:00:00 GMT"),
                            ("Content-Length", str(len(text.encode("utf-8"))))]


def test_each_response_has_a_request_record_concurrent_to_it(tmp_path):
    archive.append_pages(tmp_path, "dresden/run-1.warc.gz", [
        page("/a?seite=2", "<p>a</p>"), page("/alt", "<p>b</p>", final=f"{SITE}/neu")])
    written = records(tmp_path / "dresden" / "run-1.warc.gz")
    assert [r[0] for r in written] == ["warcinfo", "response", "request", "response", "request"]
    (_, first, status, body), (_, request, line, _) = written[1:3]
    assert (status, body) == ("HTTP/1.1 200 OK", b"<p>a</p>")
    assert request["WARC-Concurrent-To"] == first["WARC-Record-ID"]
    assert request["WARC-Target-URI"] == first["WARC-Target-URI"] == f"{SITE}/a?seite=2"
    assert line == "GET /a?seite=2 HTTP/1.1"
    redirected = written[3][1]
    assert redirected["WARC-Target-URI"] == f"{SITE}/neu"  # where the body came from
    assert redirected["WARC-Stadtradar-Requested-URI"] == f"{SITE}/alt"


def test_batches_of_one_run_append_to_one_file_per_source(tmp_path):
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>"), page("/b", "<p>b</p>")])
    archive_batch(db, [page("/c", "<p>c</p>"), page("/x", "<p>x</p>", source="konstanz")])
    archive_batch(db, [page("/d", "<p>d</p>")], run_id="run-2")
    folder = archive.archive_folder(db)
    assert folder == tmp_path / "archive" / "w"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*.warc.gz")) == [
        "dresden/run-1.warc.gz", "dresden/run-2.warc.gz", "konstanz/run-1.warc.gz"]
    stored = index(db)
    assert [(url.removeprefix(SITE), file) for url, _, file, _, _ in stored] == [
        ("/a", "dresden/run-1.warc.gz"), ("/b", "dresden/run-1.warc.gz"), ("/c", "dresden/run-1.warc.gz"),
        ("/d", "dresden/run-2.warc.gz"), ("/x", "konstanz/run-1.warc.gz")]
    for url, digest, *ref in stored:  # every record where its row says, whichever batch wrote it
        body = archive.read_response(folder, RecordRef(*ref), url).body.decode("utf-8")
        assert page_hash(body) == digest
    # The appended file is one valid WARC file: one warcinfo, then the pages in order, each its own gzip member.
    written = records(folder / "dresden" / "run-1.warc.gz")
    assert [r[0] for r in written] == ["warcinfo"] + ["response", "request"] * 3
    assert [r[3] for r in written if r[0] == "response"] == [b"<p>a</p>", b"<p>b</p>", b"<p>c</p>"]
    assert gzip.decompress((folder / "dresden" / "run-1.warc.gz").read_bytes()).count(b"WARC/1.1\r\n") == 7


def test_reparse_reads_every_latest_archived_page_from_warc(tmp_path):
    db = tmp_path / "w.duckdb"
    texts = {f"/{i:02d}": f"<p>Seite {i} – äöü</p>" for i in range(7)}
    archive_batch(db, [page(path, text) for path, text in list(texts.items())[:4]])
    archive_batch(db, [page(path, text) for path, text in list(texts.items())[4:]])
    archive_batch(db, [page("/00", "<p>Seite 0, neu</p>"), page("/liste", "<ul></ul>", kind="listing")], "run-2")
    texts["/00"] = "<p>Seite 0, neu</p>"
    read = []
    with connect(db, read_only=True) as con:
        offset = 0
        while batch := load.archived_pages(con, "dresden", offset, 3):
            read.extend(batch)
            offset += 3
    assert {p.requested_url.removeprefix(SITE): p.text for p in read} == texts
    assert all(p.etag == '"v1"' and p.kind == "article" and p.fetched_at == WHEN for p in read)
    with connect(db) as con:  # none extracted yet: all pending, read from WARC as well
        pending, after, unreadable = load.pending_pages(con, "dresden", "", 50)
    assert {p.requested_url.removeprefix(SITE): p.text for p in pending} == texts
    assert after == f"{SITE}/06" and unreadable == []


def test_a_missing_or_truncated_warc_file_is_a_clear_error(tmp_path):
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>" * 200), page("/b", "<p>b</p>" * 200)])
    file = archive.archive_folder(db) / "dresden" / "run-1.warc.gz"
    (_, _, _, offset, length), = [row for row in index(db) if row[0] == f"{SITE}/b"]
    file.write_bytes(file.read_bytes()[:offset + length - 10])  # the file ends inside /b's response record
    with connect(db) as con, pytest.raises(ArchiveError) as error:
        load.archived_pages(con, "dresden")
    assert str(file) in str(error.value) and f"{SITE}/b" in str(error.value) and "truncated" in str(error.value)
    file.unlink()
    with connect(db) as con, pytest.raises(ArchiveError) as error:
        load.archived_pages(con, "dresden")
    assert str(file) in str(error.value) and f"{SITE}/a" in str(error.value) and "missing" in str(error.value)


def test_bytes_that_are_not_the_pages_record_are_a_clear_error(tmp_path):
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>"), page("/b", "<p>b</p>")])
    with duckdb.connect(str(db)) as con:  # an index row pointing at the wrong record
        con.execute("update raw.pages set warc_offset = warc_offset + 1 where url = ?", [f"{SITE}/a"])
    with connect(db) as con, pytest.raises(ArchiveError, match="no readable response record at offset"):
        load.archived_pages(con, "dresden")
    (_, _, _, offset, length), = [row for row in index(db) if row[0] == f"{SITE}/b"]
    with duckdb.connect(str(db)) as con:  # another page's record
        con.execute("update raw.pages set warc_offset = ?, warc_length = ? where url = ?",
                    [offset, length, f"{SITE}/a"])
    with connect(db) as con, pytest.raises(ArchiveError, match="the index does not match"):
        load.archived_pages(con, "dresden")


def test_the_record_is_on_disk_before_its_index_row_and_a_failed_index_loses_nothing(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>")])
    file = archive.archive_folder(db) / "dresden" / "run-1.warc.gz"
    real_insert = load.insert_rows

    def insert_fails(con, table, rows, *args, **kwargs):
        if table == "raw.pages":
            assert sum(1 for r in records(file) if r[0] == "response") == 2  # the record is written already
            raise OSError("disk full")
        return real_insert(con, table, rows, *args, **kwargs)

    monkeypatch.setattr(load, "insert_rows", insert_fails)
    with pytest.raises(OSError):
        archive_batch(db, [page("/b", "<p>b</p>")])
    monkeypatch.undo()
    assert [url for url, *_ in index(db)] == [f"{SITE}/a"]  # no row for /b, and its HTTP state not either
    assert archive_batch(db, [page("/b", "<p>b</p>")]) == {(f"{SITE}/b", page_hash("<p>b</p>"))}
    with connect(db) as con:
        assert [p.text for p in load.archived_pages(con, "dresden")] == ["<p>a</p>", "<p>b</p>"]


def test_a_write_that_fails_midway_cuts_the_file_back_to_whole_records(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>")])
    file = archive.archive_folder(db) / "dresden" / "run-1.warc.gz"
    size = file.stat().st_size
    real_member = archive._member
    written = []

    def fails_on_the_third(record):
        written.append(record)
        if len(written) == 3:  # response and request of /b went out; /c's response fails
            raise OSError("disk full")
        return real_member(record)

    monkeypatch.setattr(archive, "_member", fails_on_the_third)
    with pytest.raises(ArchiveError, match="disk full"):
        archive_batch(db, [page("/b", "<p>b</p>"), page("/c", "<p>c</p>")])
    monkeypatch.undo()
    assert file.stat().st_size == size
    archive_batch(db, [page("/b", "<p>b</p>"), page("/c", "<p>c</p>")])
    assert [r[0] for r in records(file)] == ["warcinfo"] + ["response", "request"] * 3
    with connect(db) as con:
        assert [p.text for p in load.archived_pages(con, "dresden")] == ["<p>a</p>", "<p>b</p>", "<p>c</p>"]


def test_a_not_modified_answer_writes_no_record(tmp_path):
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>")])
    file = archive.archive_folder(db) / "dresden" / "run-1.warc.gz"
    size = file.stat().st_size
    assert not archive_batch(db, [page("/a", "", status=304), page("/a", "<p>a</p>")])
    assert file.stat().st_size == size and len(index(db)) == 1


@pytest.mark.parametrize("source, run", [("../etc", "run-1"), ("dresden", "a/b"), ("dresden", "")])
def test_ids_that_would_leave_the_archive_folder_are_refused(source, run):
    with pytest.raises(ArchiveError, match="cannot name a WARC file"):
        archive.run_file(source, run)


def test_a_page_sent_in_latin_1_replays_as_the_text_the_fetcher_read(tmp_path):
    """The payload is stored as UTF-8, so the record says utf-8; --replay of the archive reads the umlauts."""
    from scrapers.replay import load_snapshot

    sent = FetchedPage("dresden", f"{SITE}/alt", f"{SITE}/alt", 200, "text/html; charset=ISO-8859-1",
                       "<p>Bürgerbüro, Straße</p>", WHEN, kind="article")
    archive.append_pages(tmp_path, "dresden/run-1.warc.gz", [sent])
    [(_, _, _, _), (_, headers, _, body), _] = records(tmp_path / "dresden" / "run-1.warc.gz")
    assert headers["WARC-Stadtradar-Sent-Content-Type"] == "text/html; charset=ISO-8859-1"
    replayed = load_snapshot(tmp_path)[f"{SITE}/alt"]
    assert replayed.content_type == "text/html; charset=utf-8"
    assert replayed.body.decode("utf-8") == "<p>Bürgerbüro, Straße</p>" == body.decode("utf-8")


def test_a_pending_page_whose_record_is_lost_is_forgotten_so_it_is_fetched_again(tmp_path):
    """A run stopped after archiving, and the archive folder lost since: every later run must go on."""
    db = tmp_path / "w.duckdb"
    archive_batch(db, [page("/a", "<p>a</p>"), page("/b", "<p>b</p>")])
    (archive.archive_folder(db) / "dresden" / "run-1.warc.gz").unlink()
    with connect(db) as con:
        pending, after, unreadable = load.pending_pages(con, "dresden", "", 50)
        assert pending == [] and after == f"{SITE}/b"
        assert [e.url for e in unreadable] == [f"{SITE}/a", f"{SITE}/b"]
        assert all("run-1.warc.gz" in e.reason for e in unreadable)
        assert load.pending_pages(con, "dresden", "", 50) == ([], None, [])  # nothing pending any more
        assert load.known_articles(con, "dresden") == {}  # so the next crawl fetches them unconditionally
    # fetched again, the same bodies are archived again (their index rows went with the lost file)
    archive_batch(db, [page("/a", "<p>a</p>"), page("/b", "<p>b</p>")], "run-2")
    with connect(db) as con:
        assert [p.text for p in load.archived_pages(con, "dresden")] == ["<p>a</p>", "<p>b</p>"]


def test_a_url_with_umlauts_and_an_idn_host_is_archived(tmp_path):
    url = "https://www.städte.de/themen/straßenbau?ort=Köln"
    sent = FetchedPage("dresden", url, url, 200, "text/html", "<p>Straßenbau</p>", WHEN, kind="article")
    refs = archive.append_pages(tmp_path, "dresden/run-1.warc.gz", [sent])
    assert archive.read_response(tmp_path, refs[0], url).body == "<p>Straßenbau</p>".encode()
    request = records(tmp_path / "dresden" / "run-1.warc.gz")[2]
    assert request[2] == "GET /themen/stra%C3%9Fenbau?ort=K%C3%B6ln HTTP/1.1"
    assert request[1]["WARC-Target-URI"] == url


def test_a_warehouse_opened_through_a_symlink_keeps_one_archive_folder(tmp_path):
    (tmp_path / "data").mkdir()
    real, link = tmp_path / "data" / "w.duckdb", tmp_path / "link.duckdb"
    connect(real).close()
    link.symlink_to(real)
    archive_batch(link, [page("/a", "<p>a</p>")])
    assert archive.archive_folder(link) == archive.archive_folder(real) == tmp_path / "data" / "archive" / "w"
    with connect(real) as con:
        assert [p.text for p in load.archived_pages(con, "dresden")] == ["<p>a</p>"]
