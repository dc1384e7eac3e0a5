"""URL canonicalisation, so that one article is one row whatever URL reached it."""
from __future__ import annotations

import functools
import hashlib
import ipaddress
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only track the visitor; they never select different content.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl", "ref", "wt_mc"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=1 << 16)  # discovery meets every known URL again on each run
def canonicalize(url: str, base: str | None = None) -> str:
    """Absolute URL without fragment or tracking parameters, lower-case scheme and host, no default port."""
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    netloc = _netloc(parts)
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
        ]
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def identity_key(url: str) -> str:
    """The key two spellings of one page share: canonical URL with a trailing slash stripped from the path."""
    canonical = canonicalize(url)
    parts = urlsplit(canonical)
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def article_id(url: str) -> str:
    """Stable id of an article: sha1 of its identity key, 16 hex characters."""
    return hashlib.sha1(identity_key(url).encode("utf-8")).hexdigest()[:16]


def netloc_of(url: str) -> str:
    """Lower-case host and port of url as canonicalize writes them (no default port): `example.org:8080`."""
    return _netloc(urlsplit(url.strip()))


def _netloc(parts: SplitResult) -> str:
    host = (parts.hostname or "").lower()
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc = f"{netloc}:{parts.port}"
    return netloc


def host_of(url: str) -> str:
    """Lower-case host name of url ('' when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def origin_of(url: str) -> str:
    """Scheme and host (with port) of url, as written there: `https://www.example.de`, where robots.txt lives."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def is_ip_literal(host: str) -> bool:
    """Whether a host is an IP address (an IPv6 one with or without its brackets), not a name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
