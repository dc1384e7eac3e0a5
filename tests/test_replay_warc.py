"""`--replay` over WARC files: which records count, how bodies are decoded, which capture wins, and the errors."""
from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
import yaml
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scrapers.config import PROJECT_ROOT, Settings
from scrapers.fetch import Fetcher
from scrapers.replay import RecordedResponse, ReplayTransport, SnapshotError, load_snapshot
from tests.conftest import make_source

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshot"
SITE = "https://www.example.org"
HTML = "<html><head><title>Grüße</title></head><body><p>Grüße aus Dresden</p></body></html>".encode()
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Neu</title></channel></rss>'


def response(writer: WARCWriter, url: str | None, payload: bytes, *, status: str = "200 OK",
             headers: Sequence[tuple[str, str]] = (("Content-Type", "text/html; charset=utf-8"),),
             date: str = "2026-01-01T10:00:00Z", request: bool = True) -> None:
    """A response record with payload exactly as sent on the wire, and before it the request, as crawlers write."""
    if request and url:
        path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
        asked = StatusAndHeaders(f"GET /{path} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True)
        writer.write_record(writer.create_warc_record(url, "request", http_headers=asked,
                                                      warc_headers_dict={"WARC-Date": date}))
    http = StatusAndHeaders(status, list(headers), protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http,
                                                  warc_headers_dict={"WARC-Date": date}))


def write_warc(path: Path, records, *, gz: bool = True) -> Path:
    """A WARC file at path (folders made), records being written by `records(writer)`; with a warcinfo record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test_replay_warc"}))
        records(writer)
    return path


def chunked(data: bytes, size: int = 7) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def serve(transport: ReplayTransport, url: str) -> httpx.Response:
    """GET url through the transport, redirects not followed (as the fetcher asks)."""
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, follow_redirects=False) as client:
            answer = await client.get(url)
            await answer.aread()
            return answer

    return asyncio.run(go())


@pytest.fixture
def archive(tmp_path) -> Path:
    """A warehouse-style archive: one gzip WARC per source and run in subfolders, plus a plain WARC."""
    root = tmp_path / "archive"

    def run1(w: WARCWriter) -> None:
        response(w, f"{SITE}/robots.txt", b"User-agent: *\nAllow: /\n", headers=[("Content-Type", "text/plain")])
        response(w, f"{SITE}/news/1", HTML)
        response(w, f"{SITE}/alt", b"", status="301 Moved Permanently",
                 headers=[("Location", "/news/1"), ("Content-Length", "0")])
        response(w, f"{SITE}/news/gz", gzip.compress(HTML),
                 headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")])
        response(w, f"{SITE}/news/chunked", chunked(HTML),
                 headers=[("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked")])
        response(w, f"{SITE}/news/both", chunked(gzip.compress(HTML)),
                 headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip"),
                          ("Transfer-Encoding", "chunked")])
        response(w, f"{SITE}/news/2?utm_source=feed#top", b"<html>first capture</html>")
        w.write_record(w.create_warc_record(f"{SITE}/news/1", "metadata", payload=io.BytesIO(b"outlink: x\r\n"),
                                            warc_content_type="application/warc-fields"))
        w.write_record(w.create_warc_record("dns:www.example.org", "response", payload=io.BytesIO(b"1.2.3.4"),
                                            warc_content_type="text/dns"))

    def run2(w: WARCWriter) -> None:
        response(w, f"{SITE}/news/2", b"<html>second capture</html>", date="2026-01-02T10:00:00Z")
        response(w, f"{SITE}/feed.xml", FEED, headers=[("Content-Type", "application/rss+xml")],
                 date="2026-01-02T10:00:00Z")
        # a revisit says "unchanged since": it carries no body, and the capture it points to stands
        w.write_record(w.create_revisit_record(
            f"{SITE}/news/1", "sha1:AAAA", f"{SITE}/news/1", "2026-01-01T10:00:00Z",
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Date": "2026-01-02T10:00:00Z"}))

    write_warc(root / "local" / "20260101T100000.warc.gz", run1)
    write_warc(root / "local" / "20260102T100000.warc.gz", run2)
    write_warc(root / "webarchive" / "crawl.warc", lambda w: response(w, f"{SITE}/other", b"plain"), gz=False)
    (root / "local" / "notes.txt").write_text("not a WARC file")
    return root


def test_every_response_record_below_the_folder_is_loaded(archive):
    recorded = load_snapshot(archive)
    assert sorted(recorded) == sorted(f"{SITE}{p}" for p in (
        "/robots.txt", "/news/1", "/alt", "/news/gz", "/news/chunked", "/news/both", "/news/2", "/feed.xml", "/other"))
    assert recorded[f"{SITE}/news/1"] == RecordedResponse(200, "text/html; charset=utf-8", HTML)
    assert recorded[f"{SITE}/robots.txt"].content_type == "text/plain"
    assert recorded[f"{SITE}/other"].body == b"plain"


def test_redirects_keep_status_and_location(archive):
    assert load_snapshot(archive)[f"{SITE}/alt"] == RecordedResponse(301, "", b"", "/news/1")


def test_bodies_are_served_as_the_site_sent_them_decoded(archive):
    recorded = load_snapshot(archive)
    for path in ("/news/gz", "/news/chunked", "/news/both"):
        assert recorded[f"{SITE}{path}"].body == HTML, path
    answer = serve(ReplayTransport(recorded), f"{SITE}/news/both")
    # the body is plain now, so a Content-Encoding header would make a client inflate it a second time
    assert "content-encoding" not in answer.headers and "transfer-encoding" not in answer.headers
    assert answer.content == HTML


def test_the_latest_capture_of_a_url_wins(tmp_path):
    url = f"{SITE}/news/9"
    # file a holds the later date: the date decides before file order
    write_warc(tmp_path / "a.warc.gz", lambda w: response(w, url, b"late", date="2026-03-01T00:00:00Z"))
    write_warc(tmp_path / "b.warc.gz", lambda w: response(w, url, b"early", date="2026-02-01T00:00:00Z"))
    assert load_snapshot(tmp_path)[url].body == b"late"
    # equal dates: the later file, and within a file the later record
    write_warc(tmp_path / "c.warc.gz", lambda w: (response(w, url, b"c1", date="2026-03-01T00:00:00Z"),
                                                  response(w, url, b"c2", date="2026-03-01T00:00:00Z")))
    assert load_snapshot(tmp_path)[url].body == b"c2"
    # fractions of a second count (a string comparison would put "…00Z" after "…00.5Z")
    write_warc(tmp_path / "d.warc.gz", lambda w: response(w, url, b"d", date="2026-03-01T00:00:00.5Z"))
    write_warc(tmp_path / "e.warc.gz", lambda w: response(w, url, b"e", date="2026-03-01T00:00:00Z"))
    assert load_snapshot(tmp_path)[url].body == b"d"


def test_a_later_capture_in_the_archive_fixture_wins_and_urls_are_canonical(archive):
    recorded = load_snapshot(archive)
    assert recorded[f"{SITE}/news/2"].body == b"<html>second capture</html>"
    assert recorded[f"{SITE}/news/1"].body == HTML  # the later revisit without payload changed nothing


def test_a_304_of_a_re_run_does_not_replace_the_capture_it_refers_to(tmp_path):
    url = f"{SITE}/news/1"
    write_warc(tmp_path / "run1.warc.gz", lambda w: response(w, url, HTML, date="2026-01-01T00:00:00Z"))
    write_warc(tmp_path / "run2.warc.gz", lambda w: (
        response(w, url, b"", status="304 Not Modified", headers=[("ETag", '"a"')], date="2026-01-02T00:00:00Z"),
        response(w, f"{SITE}/news/only-304", b"", status="304 Not Modified", date="2026-01-02T00:00:00Z")))
    recorded = load_snapshot(tmp_path)
    assert recorded[url].status == 200 and recorded[url].body == HTML
    assert recorded[f"{SITE}/news/only-304"].status == 304  # nothing better to serve


def test_a_redirect_the_warehouse_archive_names_is_replayed_to_its_final_url(tmp_path):
    """warehouse/archive.py keeps a redirected page under its final URL and names the URL asked for."""
    def records(w: WARCWriter) -> None:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(f"{SITE}/news/final", "response", payload=io.BytesIO(HTML),
                                            http_headers=http, warc_headers_dict={
                                                "WARC-Date": "2026-01-01T00:00:00Z",
                                                "WARC-Stadtradar-Requested-URI": f"{SITE}/news/asked?utm_source=x"}))
        response(w, f"{SITE}/news/captured", b"real")  # a real capture of a URL beats a made-up redirect
        w.write_record(w.create_warc_record(f"{SITE}/news/final", "response", payload=io.BytesIO(HTML),
                                            http_headers=http, warc_headers_dict={
                                                "WARC-Date": "2025-01-01T00:00:00Z",
                                                "WARC-Stadtradar-Requested-URI": f"{SITE}/news/captured"}))

    write_warc(tmp_path / "own.warc.gz", records)
    recorded = load_snapshot(tmp_path)
    assert recorded[f"{SITE}/news/asked"] == RecordedResponse(302, "", b"", f"{SITE}/news/final")
    assert recorded[f"{SITE}/news/captured"].body == b"real"
    assert recorded[f"{SITE}/news/final"].body == HTML


def test_a_feed_is_served_with_its_content_type(archive):
    answer = serve(ReplayTransport.from_folder(archive), f"{SITE}/feed.xml")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/rss+xml"
    assert answer.content == FEED


def test_the_transport_serves_redirects_and_404s(archive):
    transport = ReplayTransport.from_folder(archive)
    moved = serve(transport, f"{SITE}/alt")
    assert moved.status_code == 301 and moved.headers["location"] == "/news/1"
    assert "content-type" not in moved.headers  # none was recorded, none is invented
    assert serve(transport, f"{SITE}/news/nope").status_code == 404
    assert transport.requested == [f"{SITE}/alt", f"{SITE}/news/nope"]


def test_the_fetcher_reads_a_gzip_page_from_a_warc_replay(archive, tmp_path):
    async def go():
        settings = Settings(db=tmp_path / "x.duckdb", retries=0)
        async with Fetcher(settings, transport=ReplayTransport.from_folder(archive)) as fetcher:
            source = make_source(SITE)
            return [await fetcher.fetch(f"{SITE}{p}", source) for p in ("/news/gz", "/alt")]

    gz, moved = asyncio.run(go())
    assert gz.status == 200 and "Grüße aus Dresden" in gz.text
    assert moved.final_url == f"{SITE}/news/1" and "Grüße aus Dresden" in moved.text


def test_the_manifest_snapshot_written_as_warc_replays_the_same(tmp_path):
    """The recorded snapshot of the six sources, turned into a WARC, gives exactly what its manifest gives."""
    entries = yaml.safe_load((SNAPSHOT / "manifest.yml").read_text(encoding="utf-8"))["responses"]

    def records(w: WARCWriter) -> None:
        for entry in entries:
            body = (SNAPSHOT / "pages" / entry["file"]).read_bytes() if entry.get("file") else b""
            headers = [("Content-Type", entry.get("content_type", "text/html; charset=utf-8"))]
            if entry.get("location"):
                headers.append(("Location", entry["location"]))
            status = entry.get("status", 200)
            response(w, entry["url"], body, status=f"{status} {httpx.codes.get_reason_phrase(status)}",
                     headers=headers)

    write_warc(tmp_path / "snapshot.warc.gz", records)
    assert load_snapshot(tmp_path) == load_snapshot(SNAPSHOT)
    assert load_snapshot(tmp_path / "snapshot.warc.gz") == load_snapshot(SNAPSHOT)  # one file will do too


def test_a_manifest_takes_precedence_over_warc_files(tmp_path, archive):
    (archive / "manifest.yml").write_text("responses:\n- url: https://www.example.org/only\n", encoding="utf-8")
    assert list(load_snapshot(archive)) == [f"{SITE}/only"]


# Errors


def test_a_folder_without_manifest_or_warc_files_is_refused(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "a.html").write_text("<html></html>")
    with pytest.raises(SnapshotError, match=r"neither a manifest\.yml nor WARC files"):
        load_snapshot(tmp_path)
    with pytest.raises(SnapshotError, match=r"nowhere: not found .*manifest\.yml"):
        load_snapshot(tmp_path / "nowhere")


def test_damaged_gzip_data_names_the_file(tmp_path):
    def records(w: WARCWriter) -> None:
        for n in range(3):
            response(w, f"{SITE}/news/{n}", HTML * 20)

    path = write_warc(tmp_path / "x" / "damaged.warc.gz", records)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 40] = bytes(b ^ 0xFF for b in data[middle:middle + 40])
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match=r"damaged\.warc\.gz: record at offset [1-9]\d*: its gzip data is damaged"):
        load_snapshot(tmp_path)


def test_a_file_that_is_not_a_warc_names_the_file(tmp_path):
    (tmp_path / "garbage.warc.gz").write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    with pytest.raises(SnapshotError, match=r"garbage\.warc\.gz: record at offset 0: its gzip data is damaged"):
        load_snapshot(tmp_path)
    (tmp_path / "garbage.warc.gz").unlink()
    (tmp_path / "text.warc").write_text("hello\nworld\n")
    with pytest.raises(SnapshotError, match=r"text\.warc: record at offset 0: not readable as WARC"):
        load_snapshot(tmp_path)


def test_a_cut_off_file_names_the_record(tmp_path):
    path = write_warc(tmp_path / "cut.warc", lambda w: response(w, f"{SITE}/news/1", HTML * 20), gz=False)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(SnapshotError, match=r"cut\.warc: record at offset \d+ \(https://www\.example\.org/news/1\)"
                                            r": the record ends \d+ bytes short of its Content-Length"):
        load_snapshot(tmp_path)


def test_a_response_without_target_uri_names_file_and_offset(tmp_path):
    path = tmp_path / "nouri.warc"
    write_warc(path, lambda w: response(w, f"{SITE}/news/1", HTML), gz=False)
    offset = path.stat().st_size
    with path.open("ab") as out:
        writer = WARCWriter(out, gzip=False)
        response(writer, None, HTML)
    with pytest.raises(SnapshotError, match=rf"nouri\.warc: record at offset {offset}: a response record without "
                                            r"WARC-Target-URI"):
        load_snapshot(tmp_path)


def test_an_encoding_warcio_cannot_undo_is_refused(tmp_path):
    write_warc(tmp_path / "br.warc.gz", lambda w: response(
        w, f"{SITE}/news/1", b"\x1b\x00\x00", headers=[("Content-Type", "text/html"), ("Content-Encoding", "zstd")]))
    with pytest.raises(SnapshotError, match=r"br\.warc\.gz: record at offset \d+ \(.*news/1\): Content-Encoding "
                                            r"'zstd' cannot be decoded"):
        load_snapshot(tmp_path)


def test_a_bad_warc_date_names_the_record(tmp_path):
    write_warc(tmp_path / "d.warc.gz", lambda w: response(w, f"{SITE}/news/1", HTML, date="yesterday"))
    with pytest.raises(SnapshotError, match=r"d\.warc\.gz: record at offset \d+ .*WARC-Date 'yesterday'"):
        load_snapshot(tmp_path)



def test_a_gzip_file_cut_off_between_records_is_noticed(tmp_path):
    # Cut a few bytes into a gzip member: warcio sees no record there and would end quietly.
    path = write_warc(tmp_path / "cut.warc.gz", lambda w: response(w, f"{SITE}/news/1", HTML))
    whole = path.stat().st_size
    with path.open("ab") as out:
        response(WARCWriter(out, gzip=True), f"{SITE}/news/2", HTML)
    path.write_bytes(path.read_bytes()[:whole + 5])
    with pytest.raises(SnapshotError, match=r"cut\.warc\.gz: the file ends in an incomplete record after offset "
                                            rf"{whole} \(cut off, or still being written\)"):
        load_snapshot(tmp_path)


def test_one_gzip_stream_over_all_records_is_refused_with_the_fix(tmp_path):
    plain = write_warc(tmp_path / "x.warc", lambda w: response(w, f"{SITE}/news/1", HTML), gz=False)
    (tmp_path / "x.warc.gz").write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    with pytest.raises(SnapshotError, match=r"x\.warc\.gz: one gzip stream .*\(`warcio recompress`"):
        load_snapshot(tmp_path)


def test_warc_files_without_any_response_are_refused(tmp_path):
    write_warc(tmp_path / "requests.warc.gz", lambda w: None)
    with pytest.raises(SnapshotError, match=r"no HTTP response record in its 1 WARC file"):
        load_snapshot(tmp_path)


def test_a_target_uri_that_is_no_url_names_the_record(tmp_path):
    write_warc(tmp_path / "u.warc.gz", lambda w: response(w, "https://www.example.org:99999/x", HTML))
    with pytest.raises(SnapshotError, match=r"u\.warc\.gz: record at offset \d+ \(https://www\.example\.org:99999/x\): "
                                            r"WARC-Target-URI .* is no usable URL"):
        load_snapshot(tmp_path)
