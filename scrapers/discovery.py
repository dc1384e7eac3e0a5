"""Finding article URLs: pure parsers for RSS/Atom feeds, sitemaps and HTML listing pages."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import feedparser
from bs4 import BeautifulSoup
from lxml import etree

from scrapers.urls import canonicalize


class DiscoveryError(ValueError):
    """A feed, sitemap or listing page could not be parsed; the message names the URL."""


def _absolute(href: str, base: str) -> str | None:
    """Canonical absolute URL of a link, or None when it is malformed (one bad link must not cost the page)."""
    try:
        return canonicalize(href, base)
    except ValueError:  # e.g. "http://[broken/" or a port above 65535
        return None


@dataclass(frozen=True)
class DiscoveredLink:
    """An article URL and what the discovery document said about it."""

    url: str
    published: dt.date | None = None  # feed pubDate / sitemap lastmod, a hint for extraction and incremental runs
    via: str = ""  # feed | sitemap | listing


def parse_feed(text: str, url: str) -> list[DiscoveredLink]:
    """Article links of an RSS or Atom feed, with their publication dates."""
    parsed = feedparser.parse(text)
    if parsed.bozo and not parsed.entries:
        raise DiscoveryError(f"{url}: not a readable RSS/Atom feed ({parsed.get('bozo_exception')})")
    links = []
    for entry in parsed.entries:
        href = entry.get("link")
        if not href:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = dt.date(*stamp[:3]) if stamp else None  # feedparser normalises to UTC
        target = _absolute(href, url)
        if target is not None:
            links.append(DiscoveredLink(target, published, "feed"))
    return links


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sitemap(text: str, url: str) -> tuple[list[DiscoveredLink], list[str]]:
    """Page links of a sitemap (with lastmod) and the child sitemaps of a sitemap index."""
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"{url}: not a readable sitemap ({exc})") from None
    links: list[DiscoveredLink] = []
    children: list[str] = []
    for node in root:
        if not isinstance(node.tag, str):
            continue
        fields = {_local(child.tag): (child.text or "").strip() for child in node if isinstance(child.tag, str)}
        loc = _absolute(fields["loc"], url) if fields.get("loc") else None
        if not loc:
            continue
        if _local(root.tag) == "sitemapindex":
            children.append(loc)
            continue
        lastmod = None
        if fields.get("lastmod"):
            try:
                lastmod = dt.date.fromisoformat(fields["lastmod"][:10])
            except ValueError:
                lastmod = None
        links.append(DiscoveredLink(loc, lastmod, "sitemap"))
    return links, children


def parse_listing(
    html: str, url: str, link_selector: str | None = None, next_selector: str | None = None
) -> tuple[list[DiscoveredLink], str | None]:
    """Links on an HTML listing page (all anchors, or those the selector picks) and the next page's URL."""
    soup = BeautifulSoup(html, "lxml")
    anchors = soup.select(link_selector) if link_selector else soup.find_all("a", href=True)
    links: list[DiscoveredLink] = []
    seen: set[str] = set()
    for anchor in anchors:
        if anchor.name != "a":
            anchor = anchor.find("a", href=True)  # a selector may pick the teaser card, not the anchor
        href = anchor.get("href") if anchor is not None else None
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        target = _absolute(href, url)
        if target is not None and target not in seen:
            seen.add(target)
            links.append(DiscoveredLink(target, None, "listing"))
    return links, _next_page(soup, url, next_selector)


def _next_page(soup: BeautifulSoup, url: str, next_selector: str | None) -> str | None:
    node = None
    if next_selector:
        node = soup.select_one(next_selector)
    if node is None:
        node = soup.find(["a", "link"], rel="next", href=True)
    href = node.get("href") if node is not None else None
    if not href:
        return None
    target = _absolute(href, url)
    return None if target is None or target == canonicalize(url) else target
