"""The WARC page archive: fetched responses appended as gzip WARC records, and one read back by its offset.

Layout: beside the warehouse file `<folder>/<name>.duckdb`, the folder `<folder>/archive/<name>/` holds one file
per source and run, `<source_id>/<run_id>.warc.gz`. A file opens with a `warcinfo` record; each page is a
`response` record (status line, the response headers the fetcher kept, the body) followed by its `request`
record (WARC-Concurrent-To the response). Every record is a gzip member of its own, so a record can be read
alone from its offset, and a file can be appended to batch after batch. raw.pages holds the index: the file
(relative to the archive folder), the offset and length of the response record.

The payload is the body as the fetcher decoded it, encoded as UTF-8 (what parsers read, and what the content
hash is taken of), so the record's Content-Type says `charset=utf-8`: a replay of the record then decodes it
right. The Content-Type the site sent, when it differs, is kept in `WARC-Stadtradar-Sent-Content-Type`.
The request record holds only what is known of the request: its method, target and
host (FetchedPage does not carry the request headers).

Pure file I/O: no network, no database.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from warcio.archiveiterator import ArchiveIterator  # type: ignore[import-untyped]
from warcio.exceptions import ArchiveLoadFailed  # type: ignore[import-untyped]
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.timeutils import datetime_to_iso_date  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

from scrapers.recorder import SAFE_FILE_NAME
from scrapers.records import FetchedPage
from warehouse.db import WarehouseError

WARC_VERSION = "1.1"


class ArchiveError(WarehouseError):
    """A page cannot be written to or read from the WARC archive; the message names the file and the URL."""


@dataclass(frozen=True)
class RecordRef:
    """Where a page's response record is: a file relative to the archive folder, its offset and length."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class ArchivedResponse:
    """A response record as read back: the target URL, WARC date, status, HTTP headers and body bytes."""

    url: str
    date: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def archive_folder(db: Path) -> Path:
    """The archive folder of the warehouse file `db`: `<folder>/archive/<name without suffix>/`; with the
    ducklake backend, the one archive all spools share, `<STADTRADAR_SPOOL>/archive/lake/`: the lake's
    raw.pages point into it whichever spool wrote them, so a source whose shard moves to another spool keeps
    its pages."""
    from scrapers.config import Settings

    settings = Settings()
    if settings.backend == "ducklake":
        return Path(settings.spool).resolve() / "archive" / "lake"
    db = Path(db).resolve()  # as DuckDB names an open file (load.archive_folder_of): symlinks followed
    return db.parent / "archive" / db.stem


def run_file(source_id: str, run_id: str) -> str:
    """The file (relative to the archive folder) holding a source's pages of one run."""
    for what, name in (("source id", source_id), ("run id", run_id)):
        if not SAFE_FILE_NAME.match(name):
            raise ArchiveError(f"cannot name a WARC file after the {what} {name!r}: only letters, digits, "
                               f"'_', '-' and '.' are allowed")
    return f"{source_id}/{run_id}.warc.gz"


def append_pages(folder: Path, file: str, pages: Sequence[FetchedPage]) -> list[RecordRef]:
    """Append a response and a request record per page to `folder/file` (created, with a warcinfo record,
    if new), flushed and fsynced before returning; returns the response records' places, one per page.

    A write that fails cuts the file back to where this call began, so a later batch of the same run appends
    after whole records only; a killed process leaves at worst one partial record at the end, which no index
    row points to.
    """
    path = folder / file
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = not path.exists()
        with open(path, "ab") as out:
            start = out.tell()
            try:
                refs = _write(out, path.name, pages, start == 0)
                out.flush()
                os.fsync(out.fileno())
            except BaseException:
                out.truncate(start)
                raise
        if created:  # the new file's name (and its source's folder) must survive a crash as its records do
            _fsync_folder(path.parent)
            _fsync_folder(path.parent.parent)
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot write the WARC archive: {exc.strerror or exc}") from None
    return [RecordRef(file, offset, length) for offset, length in refs]


def _write(out: io.BufferedWriter, name: str, pages: Sequence[FetchedPage], new_file: bool
           ) -> list[tuple[int, int]]:
    builder = WARCWriter(None, warc_version=WARC_VERSION)
    if new_file:
        out.write(_member(builder.create_warcinfo_record(name, {
            "software": "Stadtradar (warehouse/archive.py, warcio)",
            "format": f"WARC File Format {WARC_VERSION}",
            "description": "Pages as fetched: bodies decoded by the fetcher and stored as UTF-8; request "
                           "records hold only the method, target and host.",
        })))
    refs = []
    for page in pages:
        response = _response_record(builder, page)
        member = _member(response)
        refs.append((out.tell(), len(member)))
        out.write(member)
        out.write(_member(_request_record(builder, page, response.rec_headers.get_header("WARC-Record-ID"))))
    return refs


def _member(record: Any) -> bytes:
    """One record as a gzip member of its own, at zlib level 3. On the 354 real pages of the extraction
    benchmark (126 KB each) level 3 takes 1.0 ms a page and keeps 21.5 % of the bytes; level 6 (the archive's
    level before issue 18) 2.0 ms and 19.4 %, level 1 0.8 ms and 22.7 %; warcio's own level 9 costs several
    times level 6 for a fraction of a percent. The archive is written on the run's main process, beside
    fetching and loading, so its CPU is the run's."""
    plain = io.BytesIO()
    WARCWriter(plain, gzip=False, warc_version=WARC_VERSION).write_record(record)
    gzip = zlib.compressobj(3, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return gzip.compress(plain.getvalue()) + gzip.flush()


def _response_record(writer: WARCWriter, page: FetchedPage) -> Any:
    body = page.text.encode("utf-8")
    content_type = _as_utf8(page.content_type)
    headers = [(name, _one_line(value)) for name, value in (
        ("Content-Type", content_type), ("ETag", page.etag), ("Last-Modified", page.last_modified)) if value]
    headers.append(("Content-Length", str(len(body))))
    http = StatusAndHeaders(f"{page.status} {_reason(page.status)}".strip(), headers, protocol="HTTP/1.1")
    warc_headers = {"WARC-Date": _warc_date(page.fetched_at)}
    if page.content_type and content_type != page.content_type:
        warc_headers["WARC-Stadtradar-Sent-Content-Type"] = _one_line(page.content_type)
    if page.requested_url != page.final_url:
        # The redirect itself was not kept; the URL asked for is, so the record stands on its own.
        warc_headers["WARC-Stadtradar-Requested-URI"] = page.requested_url
    return writer.create_warc_record(page.final_url, "response", payload=io.BytesIO(body), length=len(body),
                                     http_headers=http, warc_headers_dict=warc_headers)


def _as_utf8(content_type: str | None) -> str | None:
    """The Content-Type with its charset set to utf-8, the encoding of the stored payload."""
    if not content_type:
        return content_type
    params = [p.strip() for p in content_type.split(";")]
    kept = [p for p in params[1:] if p and not p.lower().startswith("charset=")]
    return "; ".join([params[0], *kept, "charset=utf-8"])


def _request_record(writer: WARCWriter, page: FetchedPage, response_id: str) -> Any:
    # An HTTP request line and Host header are ASCII: the path percent-encoded, the host in IDNA, as sent.
    target = httpx.URL(page.final_url)
    http = StatusAndHeaders(f"GET {target.raw_path.decode('ascii')} HTTP/1.1",
                            [("Host", target.netloc.decode("ascii"))], is_http_request=True)
    return writer.create_warc_record(page.final_url, "request", http_headers=http, warc_headers_dict={
        "WARC-Date": _warc_date(page.fetched_at), "WARC-Concurrent-To": response_id})


def read_response(folder: Path, ref: RecordRef, url: str) -> ArchivedResponse:
    """The response record at `ref`; `url` names the page in errors. A missing or truncated file, or bytes
    there that are not the page's response record, is an ArchiveError naming the file and the URL."""
    path = folder / ref.file
    try:
        with open(path, "rb") as stored:
            stored.seek(ref.offset)
            data = stored.read(ref.length)
    except FileNotFoundError:
        raise ArchiveError(f"{path}: the WARC file is missing, so the archived page {url} cannot be read") from None
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the archived page {url}: {exc.strerror or exc}") from None
    if len(data) < ref.length:
        raise ArchiveError(f"{path}: the WARC file is truncated: the archived page {url} needs bytes "
                           f"{ref.offset}-{ref.offset + ref.length}, the file ends at {ref.offset + len(data)}")
    try:
        record = next(iter(ArchiveIterator(io.BytesIO(data))))
        if record.rec_type != "response" or record.http_headers is None:
            raise ArchiveLoadFailed(f"a {record.rec_type} record, not a response")
        return ArchivedResponse(
            url=record.rec_headers.get_header("WARC-Target-URI") or "",
            date=record.rec_headers.get_header("WARC-Date") or "",
            status=int(record.http_headers.get_statuscode()),
            headers=list(record.http_headers.headers),
            body=record.raw_stream.read(),
        )
    except Exception as exc:  # whatever warcio or zlib make of bytes that are not a whole record
        raise ArchiveError(f"{path}: no readable response record at offset {ref.offset} for the archived page "
                           f"{url}: {exc or type(exc).__name__}") from None


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _one_line(value: str) -> str:
    """A header value on one line: a stray line break would end the header block early."""
    return " ".join(value.splitlines())


def _warc_date(when: dt.datetime) -> str:
    """WARC-Date of a naive UTC timestamp, as WARC 1.1 writes it (with microseconds)."""
    return str(datetime_to_iso_date(when.replace(tzinfo=None), use_micros=True))


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
