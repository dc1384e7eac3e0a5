"""Serving a rendered benchmark site on loopback, counting every request by page kind and status."""
from __future__ import annotations

import email.utils
import hashlib
import http.server
import socket
import threading
from collections import Counter
from pathlib import Path


class SiteServer:
    """One site on 127.0.0.1:<free port>: bind first (the port goes into the pages), then set routes and start."""

    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, tuple[str, Path]] = {}
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer((host, 0), _handler_for(self))
        self.httpd.daemon_threads = True
        # A crawler opening 8 connections at once overflows the default backlog of 5 on a busy loop.
        self.httpd.request_queue_size = 128
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, routes: dict[str, tuple[str, Path]]) -> None:
        """Serve routes (path -> (kind, file)) in a background thread."""
        self.routes = routes
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def snapshot(self) -> Counter[str]:
        """A copy of the request counters."""
        with self.lock:
            return Counter(self.counts)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler_for(site: SiteServer) -> type[http.server.BaseHTTPRequestHandler]:
    # Last-Modified is fixed so conditional requests behave as on a real site whose pages did not change.
    stamp = email.utils.formatdate(1_700_000_000, usegmt=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real server offers

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; with Nagle on, a keep-alive client waits for the
            # delayed ACK (~40 ms) on every response, and the server would be the benchmark's bottleneck.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            route = site.routes.get(path)
            if route is None:
                self._count("other", 404)
                self._send(404, b"not found", "text/plain; charset=utf-8")
                return
            kind, file = route
            body = file.read_bytes()
            etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
            conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
            if conditional:
                self._count(f"{kind}:conditional")
            if self.headers.get("If-None-Match") == etag or self.headers.get("If-Modified-Since") == stamp:
                self._count(kind, 304)
                self._send(304, b"", None, etag, stamp)
                return
            content_type = {"feed": "application/rss+xml", "sitemap": "application/xml",
                            "robots": "text/plain"}.get(kind, "text/html")
            self._count(kind, 200)
            self._send(200, body, content_type + "; charset=utf-8", etag, stamp)

        def _count(self, kind: str, status: int | None = None) -> None:
            with site.lock:
                site.counts[kind if status is None else f"{kind}:{status}"] += 1
                if status is not None:
                    site.counts["total"] += 1

        def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None = None,
                  modified: str | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified or "")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
            with site.lock:
                site.counts["bytes"] += len(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
