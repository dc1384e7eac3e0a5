"""Replays recorded responses (a snapshot manifest or WARC files) through httpx by real URL, so runs work offline."""
from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from warcio.archiveiterator import WARCIterator  # type: ignore[import-untyped]
from warcio.bufferedreaders import BufferedReader  # type: ignore[import-untyped]
from warcio.exceptions import ArchiveLoadFailed  # type: ignore[import-untyped]
from warcio.statusandheaders import (  # type: ignore[import-untyped]
    StatusAndHeaders,
    StatusAndHeadersParser,
    StatusAndHeadersParserException,
)

from scrapers.fetch import FAILED_STATUS, GZIP_MAGIC
from scrapers.urls import canonicalize

WARC_SUFFIXES = (".warc", ".warc.gz")
# Lenient like warcio's own default: archives hold HTTP/2 and odd status lines; the status code is checked below.
HTTP_HEADERS = StatusAndHeadersParser(["HTTP/"], verify=False)
# The warehouse's archive (warehouse/archive.py) keeps a redirected page under its final URL, the URL asked for here.
REQUESTED_URI = "WARC-Stadtradar-Requested-URI"
# warcio's errors on damaged input (its gzip reader reports inflate errors itself and carries on with what it has).
WARC_ERRORS = (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, ValueError, zlib.error)


class SnapshotError(ValueError):
    """A snapshot folder, its manifest or a WARC file is unusable; the message names the file and entry."""


@dataclass(frozen=True)
class RecordedResponse:
    """One response of the snapshot."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None


def load_snapshot(folder: Path) -> dict[str, RecordedResponse]:
    """The responses of a snapshot folder: its `manifest.yml` when it has one, else every WARC file below it.

    A WARC file (or a folder of them) can come from a web archive or from the warehouse's own archive.
    """
    if (folder / "manifest.yml").exists():
        return _load_manifest(folder)
    if folder.is_file() and folder.name.lower().endswith(WARC_SUFFIXES):
        return _load_warcs(folder, [folder])
    if not folder.is_dir():
        raise SnapshotError(f"{folder}: not found (a snapshot folder needs a manifest.yml or WARC files)")
    warcs = sorted(p for p in folder.rglob("*") if p.name.lower().endswith(WARC_SUFFIXES) and p.is_file())
    if not warcs:
        raise SnapshotError(f"{folder}: neither a manifest.yml nor WARC files (*.warc, *.warc.gz) in it")
    return _load_warcs(folder, warcs)


def _load_manifest(folder: Path) -> dict[str, RecordedResponse]:
    """Read `manifest.yml` of a snapshot folder (responses: url, file, status, content_type, location)."""
    manifest = folder / "manifest.yml"
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SnapshotError(f"{manifest}: not readable ({exc})") from None
    except yaml.YAMLError as exc:
        raise SnapshotError(f"{manifest}: not valid YAML: {exc}") from None
    entries = (data or {}).get("responses")
    if not isinstance(entries, list):
        raise SnapshotError(f"{manifest}: expected a list under the key 'responses'")
    recorded: dict[str, RecordedResponse] = {}
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or "url" not in entry:
            raise SnapshotError(f"{manifest}: entry {index}: key 'url' is missing")
        body = b""
        if entry.get("file"):
            path = folder / "pages" / entry["file"]
            try:
                body = path.read_bytes()
            except OSError as exc:
                raise SnapshotError(f"{manifest}: entry {index} ({entry['url']}): key 'file': {exc}") from None
        recorded[canonicalize(entry["url"])] = RecordedResponse(
            status=int(entry.get("status", 200)),
            content_type=entry.get("content_type", "text/html; charset=utf-8"),
            body=body,
            location=entry.get("location"),
        )
    return recorded


def _load_warcs(where: Path, files: list[Path]) -> dict[str, RecordedResponse]:
    """The last response per URL over all files: the latest WARC-Date, on a tie the later file and record.

    A 304 only stands in for a URL with no other capture: it answered a conditional request of a re-run, says
    "unchanged since" the capture before it, and replay asks unconditionally. So does a redirect made up from
    the warehouse's own archive, which keeps a redirected page under its final URL and names the URL asked for.
    """
    latest: dict[str, tuple[dt.datetime, RecordedResponse]] = {}
    stand_ins: dict[str, tuple[dt.datetime, RecordedResponse]] = {}
    for path in files:
        for url, date, response, asked in _warc_responses(path):
            _keep(latest, url, date, response)
            if asked and asked != url:
                _keep(stand_ins, asked, date, RecordedResponse(302, "", b"", location=url))
    for url, held in stand_ins.items():
        latest.setdefault(url, held)
    if not latest:  # a replay answering 404 to everything would only look like a run of failing sites
        raise SnapshotError(f"{where}: no HTTP response record in its {len(files)} WARC file(s)")
    return {url: response for url, (_date, response) in latest.items()}


# Answers that stand in for a URL only when no capture of it is held: 304 (see _load_warcs) and a recorded failure
# (`run --record` keeps a request that brought no response as FAILED_STATUS; a later recording may have the page).
_STAND_IN_STATUSES = frozenset({304, FAILED_STATUS})


def _keep(latest: dict[str, tuple[dt.datetime, RecordedResponse]], url: str, date: dt.datetime,
          response: RecordedResponse) -> None:
    held = latest.get(url)
    # `>=`: files and their records arrive in order, so on equal dates the later one wins
    if (held is None or held[1].status in _STAND_IN_STATUSES
            or (response.status not in _STAND_IN_STATUSES and date >= held[0])):
        latest[url] = (date, response)


def _warc_responses(path: Path) -> Iterator[tuple[str, dt.datetime, RecordedResponse, str | None]]:
    """(canonical URL, WARC-Date, response, URL asked for if another) of each usable response record of one
    WARC file, in file order."""
    try:
        with path.open("rb") as stream:
            gzipped = stream.read(2) == GZIP_MAGIC
            stream.seek(0)
            records = _Records(stream, no_record_parse=True)
            try:
                for record in records:
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    where = f"{path}: record at offset {records.offset}" + (f" ({uri})" if uri else "")
                    if gzipped and _inflate_failed(records):
                        raise SnapshotError(f"{where}: its gzip data is damaged")
                    if record.length is None:
                        raise SnapshotError(f"{where}: the record has no valid Content-Length")
                    found = _warc_response(record, uri, where)
                    # The rest of the block (a request's, what follows a chunked body's last chunk): warcio skips
                    # it the same way, and only then can a record cut short be told from a whole one.
                    _read_all(record.raw_stream)
                    if record.raw_stream.limit > 0:
                        raise SnapshotError(f"{where}: the record ends {record.raw_stream.limit} bytes short of its "
                                            "Content-Length (the file is cut off or its gzip data is damaged)")
                    if found is not None:
                        yield found
                # warcio takes a file's end in the middle of a record (one cut off, or still being written) for
                # the end of its records
                if not records.last_member_whole or (not gzipped and records.offset < stream.tell()):
                    raise SnapshotError(f"{path}: the file ends in an incomplete record after offset "
                                        f"{records.offset} (cut off, or still being written)")
            except SnapshotError:
                raise
            except WARC_ERRORS as exc:
                raise SnapshotError(f"{path}: {_damage(exc, records, gzipped)}") from None
    except OSError as exc:
        raise SnapshotError(f"{path}: not readable ({exc})") from None


class _Records(WARCIterator):
    """warcio's WARC reader, remembering whether the file's last gzip member was whole, which its close() forgets."""

    last_member_whole = True

    def close(self) -> None:
        decompressor = self.reader.decompressor if self.reader is not None else None
        if decompressor is not None:  # None for a plain file
            self.last_member_whole = decompressor.eof
        super().close()


def _damage(exc: Exception, records: Any, gzipped: bool) -> str:
    """What is wrong with a WARC file warcio could not read on, and where."""
    if "non-chunked gzip" in str(exc):  # warcio reads records only from one gzip member each
        return ("one gzip stream over all records, where a WARC file has one gzip member per record "
                "(`warcio recompress` rewrites it)")
    if gzipped and _inflate_failed(records):  # then warcio's complaint quotes compressed bytes
        return f"record at offset {records.offset}: its gzip data is damaged"
    return f"record at offset {records.offset}: not readable as WARC ({_condensed(exc)})"


def _inflate_failed(records: Any) -> bool:
    """Whether warcio gave up inflating a gzip member: it then reads the compressed bytes on as if plain."""
    return records.reader is not None and records.reader.decompressor is None


def _warc_response(record: Any, uri: str | None, where: str
                   ) -> tuple[str, dt.datetime, RecordedResponse, str | None] | None:
    """A response record as the site sent it, transfer and content coding undone; None for other records."""
    if record.rec_type not in ("response", "revisit"):
        return None  # request, metadata, warcinfo, resource...: nothing a client would have received
    if not uri:
        raise SnapshotError(f"{where}: a {record.rec_type} record without WARC-Target-URI")
    if not uri.lower().startswith(("http:", "https:")):
        return None  # a crawler's dns: or whois: lookups; no HTTP client asks for them
    try:
        http = HTTP_HEADERS.parse(record.raw_stream)
    except EOFError:
        if record.rec_type == "revisit":
            return None  # a revisit with no HTTP part at all
        raise SnapshotError(f"{where}: the response record holds no HTTP response") from None
    _check_codings(http, where)
    record.http_headers = http  # what content_stream() reads to pick the decoders
    body = _read_all(record.content_stream())
    if record.rec_type == "revisit" and not body:
        return None  # "same as an earlier capture": that capture, if present, stands
    status = http.get_statuscode()
    if not (len(status) == 3 and status.isdigit()):
        raise SnapshotError(f"{where}: HTTP status line {http.protocol} {http.statusline!r} has no status code")
    url = _canonical(uri, "WARC-Target-URI", where)
    asked = record.rec_headers.get_header(REQUESTED_URI)
    asked = _canonical(asked, REQUESTED_URI, where) if asked else None
    return url, _warc_date(record.rec_headers.get_header("WARC-Date"), where), RecordedResponse(
        status=int(status),
        content_type=http.get_header("content-type") or "",
        body=body,
        location=http.get_header("location"),
    ), asked


def _canonical(url: str, header: str, where: str) -> str:
    try:
        return canonicalize(url)
    except ValueError as exc:
        raise SnapshotError(f"{where}: {header} {url!r} is no usable URL ({exc})") from None


def _check_codings(http: StatusAndHeaders, where: str) -> None:
    """Refuse a body content_stream() would hand back still encoded: replay serves it without the header."""
    transfer = http.get_header("transfer-encoding")
    if transfer and transfer != "chunked":  # content_stream() undoes exactly `chunked`
        raise SnapshotError(f"{where}: Transfer-Encoding {transfer!r} cannot be decoded (only 'chunked')")
    encoding = (http.get_header("content-encoding") or "").lower()
    if encoding and encoding != "identity" and encoding not in BufferedReader.get_supported_decompressors():
        supported = ", ".join(sorted(set(BufferedReader.get_supported_decompressors()) - {"deflate_alt"}))
        raise SnapshotError(f"{where}: Content-Encoding {encoding!r} cannot be decoded (warcio decodes {supported}; "
                            "'br' needs the brotli package)")


def _read_all(stream: Any) -> bytes:
    return b"".join(iter(lambda: stream.read(1 << 16), b""))


def _warc_date(value: str | None, where: str) -> dt.datetime:
    """WARC-Date as an aware datetime (UTC when the header names no zone), for ordering captures of one URL."""
    try:
        date = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise SnapshotError(f"{where}: WARC-Date {value!r} is not an ISO 8601 date") from None
    return date if date.tzinfo else date.replace(tzinfo=dt.UTC)


def _condensed(exc: Exception) -> str:
    """warcio's message on one short line: its gzip hint spans paragraphs, a bad first line quotes binary data."""
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(str(exc).split()))
    text = text or type(exc).__name__
    return text if len(text) <= 160 else text[:160] + "..."


class ReplayTransport(httpx.AsyncBaseTransport):
    """An httpx transport answering from a snapshot; unknown URLs get 404, nothing reaches the network."""

    def __init__(self, responses: dict[str, RecordedResponse]):
        self.responses = responses
        self.requested: list[str] = []

    @classmethod
    def from_folder(cls, folder: Path) -> ReplayTransport:
        return cls(load_snapshot(folder))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = canonicalize(str(request.url))
        self.requested.append(url)
        recorded = self.responses.get(url)
        if recorded is None:
            return httpx.Response(404, headers={"content-type": "text/plain"},
                                  stream=httpx.ByteStream(b"not in snapshot"))
        headers: dict[str, str] = {}
        if recorded.content_type:  # a recorded response may have had none; inventing one would change its reading
            headers["content-type"] = recorded.content_type
        if recorded.location:
            headers["location"] = recorded.location
        # A stream, not `content=`: the fetcher reads raw bytes as from a socket, and `content` counts as read.
        return httpx.Response(recorded.status, headers=headers, stream=httpx.ByteStream(recorded.body))
