"""The only module that talks HTTP: polite, bounded, retrying GETs that return FetchedPage records."""
from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import email.utils
import ipaddress
import logging
import random
import re
import socket
import time
import urllib.request
import zlib
from collections.abc import Awaitable, Callable
from urllib.parse import urljoin, urlsplit, urlunsplit

import charset_normalizer
import httpx
from protego import Protego

from scrapers.config import Settings, Source
from scrapers.records import FetchedPage
from scrapers.urls import DEFAULT_PORTS, canonicalize, host_of, is_ip_literal, netloc_of, origin_of

log = logging.getLogger(__name__)

PARSED_CONTENT_TYPES = (
    "text/html",
    "application/xhtml+xml",
    "application/xml",
    "text/xml",
    "application/rss+xml",
    "application/atom+xml",
    "text/plain",  # robots.txt, and feeds served carelessly
)
# How a recording (`run --record`) keeps a request that brought no usable response (refused connection,
# timeout, a body over the cap): a status no server sends and no retry follows, with the reason in a header.
FAILED_STATUS = 599
FAILED_REASON_HEADER = "X-Stadtradar-Fetch-Error"
GZIP_MAGIC = b"\x1f\x8b"
GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream", ""})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
META_CHARSET = re.compile(
    rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)|<\?xml[^>]+encoding=["']([A-Za-z0-9_\-]+)""", re.I
)


class FetchError(Exception):
    """A URL could not be fetched; carries what the error ledger records."""

    def __init__(self, url: str, reason: str, status: int | None = None, attempts: int = 1):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.attempts = attempts


class RedirectRefused(FetchError):
    """A redirect leads off the source (another host or port, a private address, another scheme); `target`
    is where it leads, canonical, so a caller can decide whether that is the same site under another name."""

    def __init__(self, url: str, reason: str, status: int | None = None, attempts: int = 1, *, target: str = ""):
        super().__init__(url, reason, status, attempts)  # the base's signature: the ledger copies errors by it
        self.target = target


class RobotsRefusal(FetchError):
    """robots.txt forbids the URL for our User-Agent: honoured and counted, but not a failure of the run."""


class RobotsUnavailable(FetchError):
    """robots.txt could not be read (5xx, timeout, too large): RFC 9309 says crawl nothing of that host.
    A failure of the run, unlike a refusal: the operator should know the site is not being read."""


ALLOW_ALL = "allow all"  # robots.txt answered 4xx: no rules
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309 asks crawlers to parse at least 500 KiB


def decode_body(body: bytes, content_type: str) -> str:
    """Text of a body: charset from the HTTP header, then the document, then detection."""
    header = re.search(r"charset=([\w\-]+)", content_type or "", re.I)
    candidates = [header.group(1)] if header else []
    sniffed = META_CHARSET.search(body[:4096])
    if sniffed:
        candidates.append((sniffed.group(1) or sniffed.group(2)).decode("ascii"))
    for charset in candidates:
        try:
            return body.decode(charset)
        except LookupError:
            continue
        except UnicodeDecodeError:
            if codecs_name(charset) == "utf-8" and (text := _utf8_with_few_errors(body)) is not None:
                return text
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        if (text := _utf8_with_few_errors(body)) is not None:
            return text
        best = charset_normalizer.from_bytes(body).best()
        return str(best) if best is not None else body.decode("utf-8", errors="replace")


def codecs_name(charset: str) -> str:
    """The codec's canonical name ('utf8' and 'UTF-8' are both 'utf-8'); '' when Python does not know it."""
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return ""


def _utf8_with_few_errors(body: bytes) -> str | None:
    """The text of a body that fails strict UTF-8 decoding, decoded with replacement, when it is UTF-8 with a
    few broken bytes rather than a single-byte charset (it holds more valid multi-byte characters than invalid
    bytes); else None. Replacement keeps every other character; a single-byte fallback would garble them all."""
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    valid = sum(1 for ch in text if ord(ch) > 127) - broken
    return text if valid > broken else None


def is_private_address(host: str) -> bool:
    """Whether host is an IP literal (or localhost) in a loopback, private, link-local or reserved range."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


class _CappedBody:
    """Collects a response body, inflating gzip/deflate in bounded steps so a compression bomb is stopped at
    the cap instead of being decompressed into memory first (httpx's own decoders inflate a chunk whole)."""

    def __init__(self, url: str, encoding: str, cap: int, status: int):
        self.url, self.cap, self.status = url, cap, status
        self.encoding = encoding.strip().lower()
        # One growing buffer: a list of chunks costs ~40 bytes of overhead per chunk, so a server sending
        # 1-byte chunks made every response 40 times its size.
        self.buffer = bytearray()
        self.size = 0
        self.inflater: zlib._Decompress | None = None
        if self.encoding in ("gzip", "x-gzip", "deflate"):
            self.inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        elif self.encoding not in ("", "identity"):
            raise FetchError(url, f"content encoding {encoding!r} is not supported", status)

    def feed(self, data: bytes) -> None:
        """Add a chunk as received; raise FetchError once the decoded body passes the cap."""
        if self.inflater is None:
            self._keep(data)
            return
        while data and not self.inflater.eof:
            try:
                out = self.inflater.decompress(data, self.cap + 1 - self.size)
            except zlib.error as exc:
                if self.encoding == "deflate" and self.size == 0:
                    self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # servers that send raw deflate
                    self.encoding = "raw deflate"
                    continue
                raise FetchError(self.url, f"body is not valid {self.encoding} data ({exc})", self.status) from None
            self._keep(out)
            data = self.inflater.unconsumed_tail

    def finish(self) -> bytes:
        """The decoded body."""
        if self.inflater is not None and not self.inflater.eof:
            self._keep(self.inflater.flush())
        return bytes(self.buffer)

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise FetchError(self.url, f"body exceeds the cap of {self.cap} bytes (after decompression)", self.status)
        self.buffer += data


class _HostGate:
    """Per-host politeness: requests in flight and the spacing between request starts."""

    def __init__(self, concurrency: int, interval: float):
        self.slots = asyncio.Semaphore(concurrency)
        self.interval = interval
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def wait_turn(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        async with self.lock:
            delay = self.next_start - time.monotonic()
            if delay > 0:
                await sleep(delay)
            self.next_start = time.monotonic() + self.interval


class Fetcher:
    """One HTTP client per run; use as `async with Fetcher(settings) as fetcher: await fetcher.fetch(url, source)`.

    `transport` replaces the network (a replay of a recorded snapshot, or a test double); with a transport,
    politeness delays and DNS checks are skipped because no real server is contacted. `recorder` is called
    with every response received (URL, response, decoded body), e.g. to write it to a WARC file.
    """

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        resolve: Callable[[str, int], Awaitable[list[str]]] | None = None,
        recorder: Callable[[str, httpx.Response, bytes], None] | None = None,
    ):
        self.settings = settings
        self.recorder = recorder  # sees every response received (`run --record`: scrapers/recorder.py)
        self.transport = transport
        self.live = transport is None
        self.sleep = sleep
        self.resolve = resolve or _resolve
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._open = False
        # origin -> a parser, ALLOW_ALL, or the reason robots.txt could not be read (then nothing is fetched)
        self._robots: dict[str, Protego | str] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._gates: dict[str, _HostGate] = {}
        # (host, port) -> the address that was checked: connections go there, never to a second lookup's answer
        self._pinned: dict[tuple[str, int], str] = {}
        self._global = asyncio.Semaphore(settings.global_concurrency)
        self.notices: list[str] = []  # politeness decisions the run should report (a capped Crawl-delay...)
        self._proxied = _proxied_schemes()

    async def __aenter__(self) -> Fetcher:
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _client_for(self, url: str) -> httpx.AsyncClient:
        """The HTTP client of url's host. One per host: requests go to a pinned address, and a pool shared by
        two hosts on one address would reuse a TLS connection made for the other host's name."""
        assert self._open, "use Fetcher as an async context manager"
        key = netloc_of(url) if self.live else ""
        if key not in self._clients:
            self._clients[key] = httpx.AsyncClient(
                transport=self.transport,
                timeout=httpx.Timeout(self.settings.read_timeout, connect=self.settings.connect_timeout),
                # Only encodings _CappedBody can inflate in bounded steps.
                headers={"User-Agent": self.settings.user_agent, "Accept-Language": "de,en;q=0.5",
                         "Accept-Encoding": "gzip, deflate"},
                follow_redirects=False,  # every hop is checked against the source's hosts and robots.txt
            )
        return self._clients[key]

    async def fetch(self, url: str, source: Source, *, headers: dict[str, str] | None = None) -> FetchedPage:
        """GET url for source, following same-source redirects; raise FetchError on anything unusable."""
        try:
            url = canonicalize(url)
        except ValueError as exc:
            raise FetchError(url, f"malformed URL ({exc})") from None
        await self._check_target(url, source)
        await self._check_robots(url, url, source)
        if self.recorder is not None:
            headers = None  # a recording keeps whole bodies: a 304 would replay as an empty page
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            response, body, attempts = await self._get_with_retries(current, source, headers or {})
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                location = response.headers["location"]
                try:
                    target = canonicalize(urljoin(current, location))
                except ValueError as exc:
                    raise FetchError(url, f"malformed redirect location {location!r} ({exc})",
                                     response.status_code, attempts) from None
                try:
                    await self._check_target(target, source)
                except FetchError as exc:
                    raise RedirectRefused(url, f"redirect to {target} refused: {exc.reason}", response.status_code,
                                          attempts, target=target) from None
                await self._check_robots(url, target, source)  # a redirect must not lead around robots.txt
                current = target
                continue
            return self._page(url, current, response, body, source, attempts)
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects (last to {current})",
                         response.status_code, attempts)

    def _page(
        self, url: str, final: str, response: httpx.Response, body: bytes, source: Source, attempts: int
    ) -> FetchedPage:
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            raise FetchError(url, f"HTTP {status}", status, attempts)
        content_type = response.headers.get("content-type", "")
        if body[:2] == GZIP_MAGIC:  # a gzipped file (sitemap.xml.gz), not a transfer encoding: inflated here
            body, content_type = self._gunzipped(url, body, content_type, status)
        if status != 304 and not content_type.split(";")[0].strip().lower().startswith(PARSED_CONTENT_TYPES):
            raise FetchError(url, f"content type {content_type or '(none)'!r} is not parsed", status, attempts)
        return FetchedPage(
            source_id=source.id,
            requested_url=url,
            final_url=final,
            status=status,
            content_type=content_type,
            text=decode_body(body, content_type) if body else "",
            fetched_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )

    def _gunzipped(self, url: str, body: bytes, content_type: str, status: int) -> tuple[bytes, str]:
        """A gzip file's content, inflated within the body cap, and its type: a file served as gzip or as
        bytes (application/octet-stream) is taken for XML when it reads like XML (sitemaps are the use)."""
        content, rest = b"", body
        while rest[:2] == GZIP_MAGIC:  # a file of several gzip members (`cat a.gz b.gz`) is their contents joined
            member = _CappedBody(url, "gzip", self.settings.max_body_bytes - len(content), status)
            member.feed(rest)
            content += member.finish()
            rest = member.inflater.unused_data if member.inflater is not None else b""
        if rest.strip(b"\0"):
            raise FetchError(url, f"gzip file followed by {len(rest)} bytes that are not gzip data", status)
        declared = content_type.split(";")[0].strip().lower()
        if declared in GZIP_TYPES and content.lstrip()[:1] == b"<":
            content_type = "application/xml"
        return content, content_type

    async def robots_rules(self, url: str, source: Source) -> Protego | str:
        """The robots.txt rules this fetcher applies to url's origin (read once per run): a parser, ALLOW_ALL
        (robots.txt answered 4xx), or why it could not be read (then nothing of the origin is fetched)."""
        url = canonicalize(url)
        await self._check_target(url, source)
        origin = origin_of(url)
        await self._ensure_robots(origin, source)
        return self._robots[origin]

    async def robots_sitemaps(self, url: str, source: Source) -> list[str]:
        """The `Sitemap:` lines of the robots.txt of url's origin (read once per run, as for politeness)."""
        rules = await self.robots_rules(url, source)
        return list(rules.sitemaps) if isinstance(rules, Protego) else []

    async def _check_target(self, url: str, source: Source) -> None:
        """Refuse a URL outside the source's declared hosts (port included) or, unless the source allows it,
        on a private address; in a live run, pin the address the host name resolved to."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(url, f"scheme {parts.scheme!r} is not fetched (http and https only)")
        host = host_of(url)
        if netloc_of(url) not in source.hosts:
            raise FetchError(url, f"host {netloc_of(url)!r} is not declared for source {source.id!r}")
        if not source.allow_private_network and is_private_address(host):
            raise FetchError(url, f"private or loopback address {host!r} refused (allow_private_network is false)")
        if not self.live or is_ip_literal(host) or parts.scheme in self._proxied:
            return  # (a proxy from the environment resolves the name itself)
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        if (host, port) in self._pinned:
            return
        try:
            addresses = await self.resolve(host, port)
        except OSError as exc:
            raise FetchError(url, f"cannot resolve {host!r}: {exc}") from None
        if not addresses:
            raise FetchError(url, f"cannot resolve {host!r}: no address")
        if not source.allow_private_network and any(is_private_address(a) for a in addresses):
            raise FetchError(url, f"{host!r} resolves to a private address; refused")
        self._pinned[(host, port)] = addresses[0]

    async def _check_robots(self, url: str, target: str, source: Source) -> None:
        """Raise unless robots.txt of target's origin lets our User-Agent fetch target (RFC 9309)."""
        origin = origin_of(target)
        await self._ensure_robots(origin, source)
        rules = self._robots[origin]
        via = "" if target == url else f" (redirect to {target})"
        if isinstance(rules, Protego):
            if not rules.can_fetch(target, self.settings.user_agent):
                raise RobotsRefusal(url, f"disallowed by robots.txt{via}", attempts=0)
        elif rules != ALLOW_ALL:
            raise RobotsUnavailable(url, f"{origin}/robots.txt could not be read ({rules}); RFC 9309: nothing "
                                         f"is fetched from this host until it can{via}", attempts=0)

    async def _ensure_robots(self, origin: str, source: Source) -> None:
        lock = self._robots_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._robots:
                self._robots[origin] = await self._load_robots(origin, source)
                self._apply_crawl_delay(origin, source)

    async def _load_robots(self, origin: str, source: Source) -> Protego | str:
        """The rules of an origin: a parser, ALLOW_ALL (no robots.txt: 4xx), or why it could not be read."""
        url = f"{origin}/robots.txt"
        for _hop in range(5):  # RFC 9309: follow at least five redirects
            try:
                response, body, _ = await self._get_with_retries(url, source, {}, cap=ROBOTS_MAX_BYTES)
            except FetchError as exc:
                return exc.reason
            location = response.headers.get("location")
            if response.status_code in (301, 302, 303, 307, 308) and location:
                try:
                    url = canonicalize(urljoin(url, location))
                    await self._check_target(url, source)
                except (ValueError, FetchError):
                    return ALLOW_ALL  # a redirect off the source: as unavailable (4xx), which RFC 9309 allows
                continue
            if 400 <= response.status_code < 500:
                return ALLOW_ALL
            if response.status_code != 200:
                return f"HTTP {response.status_code}"
            return Protego.parse(decode_body(body, response.headers.get("content-type", "")))
        return ALLOW_ALL

    def _apply_crawl_delay(self, origin: str, source: Source) -> None:
        """Space requests to the origin by its Crawl-delay, capped so one line cannot stall a run for days."""
        rules = self._robots[origin]
        delay = rules.crawl_delay(self.settings.user_agent) if isinstance(rules, Protego) else None
        if not delay:
            return
        if delay > self.settings.max_crawl_delay:
            notice = (f"{origin}/robots.txt asks for a Crawl-delay of {delay:g} s; "
                      f"capped at {self.settings.max_crawl_delay:g} s (STADTRADAR_MAX_CRAWL_DELAY)")
            log.warning(notice)
            self.notices.append(notice)
            delay = self.settings.max_crawl_delay
        gate = self._gate(origin, source)
        gate.interval = max(gate.interval, float(delay))

    def _gate(self, url: str, source: Source) -> _HostGate:
        host = urlsplit(url).netloc.lower()  # host and port: two servers on one address are two hosts
        if host not in self._gates:
            self._gates[host] = _HostGate(source.concurrency, 1.0 / source.rate_limit)
        return self._gates[host]

    async def _get_with_retries(
        self, url: str, source: Source, headers: dict[str, str], cap: int | None = None
    ) -> tuple[httpx.Response, bytes, int]:
        gate = self._gate(url, source)
        attempts = 0
        while True:
            attempts += 1
            retry_after: float | None = None
            try:
                async with self._global, gate.slots:
                    if self.live:
                        await gate.wait_turn(self.sleep)
                    response, body = await self._get_once(url, headers, cap or self.settings.max_body_bytes)
                if response.status_code not in RETRY_STATUSES:
                    return response, body, attempts
                problem = f"HTTP {response.status_code}"
                status: int | None = response.status_code
                retry_after = _retry_after_seconds(response.headers.get("retry-after"))
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                problem, status = f"{type(exc).__name__}: {exc}".rstrip(": "), None
                self._record_failure(url, problem)
            except httpx.HTTPError as exc:  # not transient (a malformed URL or response); retrying cannot help
                self._record_failure(url, f"{type(exc).__name__}: {exc}")
                raise FetchError(url, f"{type(exc).__name__}: {exc}".rstrip(": "), None, attempts) from None
            except FetchError as exc:  # the body broke a bound (size, encoding, time)
                self._record_failure(url, exc.reason)
                raise
            if attempts > self.settings.retries:
                raise FetchError(url, problem, status, attempts)
            backoff = self.settings.backoff_base * 2 ** (attempts - 1) * (0.5 + random.random())
            await self.sleep(min(self.settings.backoff_cap, retry_after if retry_after is not None else backoff))

    def _record_failure(self, url: str, reason: str) -> None:
        """A request that brought no usable response, for the recorder: as FAILED_STATUS, which a replay turns
        into a failure again (for robots.txt: "could not be read", as in the live run), not into a 404."""
        if self.recorder is not None:
            failed = httpx.Response(FAILED_STATUS, headers={FAILED_REASON_HEADER: reason[:500]})
            self.recorder(url, failed, b"")

    async def _get_once(self, url: str, headers: dict[str, str], cap: int) -> tuple[httpx.Response, bytes]:
        deadline = self.settings.fetch_deadline
        request_url, headers, extensions = self._pinned_request(url, headers)
        try:
            # The read timeout bounds each wait; this bounds the whole response against a byte-a-second drip.
            async with asyncio.timeout(deadline), self._client_for(url).stream(
                "GET", request_url, headers=headers, extensions=extensions
            ) as response:
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise FetchError(url, f"body of {declared} bytes exceeds the cap of {cap} bytes",
                                     response.status_code)
                body = _CappedBody(url, response.headers.get("content-encoding", ""), cap, response.status_code)
                async for chunk in response.aiter_raw():  # still compressed: _CappedBody inflates within the cap
                    body.feed(chunk)
                content = body.finish()
                if self.recorder is not None:
                    self.recorder(url, response, content)
                return response, content
        except TimeoutError:
            raise FetchError(url, f"no complete response within {deadline:g} s") from None

    def _pinned_request(self, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str], dict[str, object]]:
        """The request for url sent to the address checked for its host (closing the DNS-rebinding gap): the
        URL names the address, Host and TLS SNI (and so certificate checks) name the host."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        address = self._pinned.get((host, parts.port or DEFAULT_PORTS.get(parts.scheme, 0)))
        if address is None:
            return url, headers, {}
        literal = f"[{address}]" if ":" in address else address
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        extensions: dict[str, object] = {"sni_hostname": host} if parts.scheme == "https" else {}
        return pinned, {**headers, "Host": parts.netloc}, extensions



def _proxied_schemes() -> frozenset[str]:
    """The schemes the environment names a proxy for (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY). NO_PROXY is not
    consulted: it lists host names, and a pinned request names an address, so with any proxy set the host name
    is kept and the proxy (or NO_PROXY) decides as the user configured it."""
    proxies = urllib.request.getproxies()
    return frozenset({"http", "https"} if "all" in proxies else {"http", "https"} & proxies.keys())


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to, in the resolver's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
