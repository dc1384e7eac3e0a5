"""Recording a live run: every HTTP response the fetcher receives, appended to a WARC file that `--replay` reads."""
from __future__ import annotations

import io
import os
import re
from pathlib import Path
from types import TracebackType

import httpx
from warcio.statusandheaders import StatusAndHeaders  # type: ignore[import-untyped]
from warcio.warcwriter import WARCWriter  # type: ignore[import-untyped]

# The fetcher hands over the body as decoded (gzip undone, within the cap): these headers described the bytes on the
# wire and would make a replay decode the body a second time or cut it short.
_WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
# A file name built from an id (a run's, a source's): nothing that could climb out of its folder.
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RecordError(OSError):
    """The recording folder or file cannot be written; the message names it."""


class WarcRecorder:
    """Appends one gzip WARC `response` record per response to `<folder>/<name>.warc.gz`.

    Each record is one gzip member written whole and flushed, so a run that is killed leaves every earlier
    response readable. Use as a context manager; `record` is the fetcher's hook.
    """

    def __init__(self, folder: Path, name: str):
        if not SAFE_FILE_NAME.match(name):
            raise RecordError(f"cannot name a WARC file {name!r}: only letters, digits, '_', '-' and '.'")
        self.path = Path(folder) / f"{name}.warc.gz"
        self.records = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._out = open(self.path, "ab")  # noqa: SIM115 - closed by close()/__exit__
        except OSError as exc:
            raise RecordError(f"{self.path}: cannot write the recording: {exc.strerror or exc}") from None

    def record(self, url: str, response: httpx.Response, body: bytes) -> None:
        """Write the response to `url` (status, headers, the body as the fetcher decoded it)."""
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        status = f"{response.status_code} {response.reason_phrase or 'Unknown'}"
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        member = io.BytesIO()
        writer = WARCWriter(member, gzip=True, warc_version="1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
        try:
            self._out.write(member.getvalue())
            self._out.flush()
        except OSError as exc:
            raise RecordError(f"{self.path}: cannot write the recording: {exc.strerror or exc}") from None
        self.records += 1

    def close(self) -> None:
        if not self._out.closed:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()

    def __enter__(self) -> WarcRecorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
