"""Replays a recorded snapshot of websites through httpx, keyed by the real URLs, so runs work offline."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from scrapers.urls import canonicalize


class SnapshotError(ValueError):
    """A snapshot folder or its manifest is unusable; the message names the file and entry."""


@dataclass(frozen=True)
class RecordedResponse:
    """One response of the snapshot."""

    status: int
    content_type: str
    body: bytes
    location: str | None = None


def load_snapshot(folder: Path) -> dict[str, RecordedResponse]:
    """Read `manifest.yml` of a snapshot folder (responses: url, file, status, content_type, location)."""
    manifest = folder / "manifest.yml"
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{manifest}: not found (a snapshot folder needs a manifest.yml)") from None
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
        headers = {"content-type": recorded.content_type}
        if recorded.location:
            headers["location"] = recorded.location
        # A stream, not `content=`: the fetcher reads raw bytes as from a socket, and `content` counts as read.
        return httpx.Response(recorded.status, headers=headers, stream=httpx.ByteStream(recorded.body))
