"""Finding article URLs: pure parsers for RSS/Atom feeds, sitemaps and HTML listing pages."""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_tz

import feedparser
from bs4 import BeautifulSoup, SoupStrainer
from lxml import etree

from scrapers.dates import FIRST_PLAUSIBLE_YEAR, LAST_PLAUSIBLE_YEAR, is_plausible
from scrapers.urls import canonicalize

logger = logging.getLogger(__name__)


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
    # The entry's updated (else published) time or the sitemap lastmod, to the second, in naive UTC; None when
    # the document gives a day without a time. Lets an incremental run refetch a page changed later on the
    # day it was last fetched.
    updated_at: dt.datetime | None = None


class _Rejected:
    """The dates of one discovery document taken as no date: one warning per document, not one per entry (a
    CMS that writes "0001-01-01" writes it into every entry)."""

    def __init__(self, document_url: str, field: str):
        self.document_url, self.field = document_url, field
        self.examples: list[tuple[str, str]] = []
        self.count = 0

    def add(self, value: str, link: str) -> None:
        self.count += 1
        if len(self.examples) < 3:
            self.examples.append((value, link))

    def report(self) -> None:
        if self.count:
            examples = ", ".join(f"{value!r} for {link}" for value, link in self.examples)
            logger.warning("%s: %d %s value(s) taken as no date (impossible, unreadable or outside the years "
                           "%d..%d): %s%s", self.document_url, self.count, self.field, FIRST_PLAUSIBLE_YEAR,
                           LAST_PLAUSIBLE_YEAR, examples, " ..." if self.count > len(self.examples) else "")


_ISO_DAY = re.compile(r"\s*([+-]?\d{4,})-(\d{1,2})-(\d{1,2})")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")


def _written_day(raw: str) -> tuple[int, int, int] | None:
    """The (year, month, day) a feed date spells out (ISO 8601 or RFC 822), not yet checked."""
    m = _ISO_DAY.match(raw)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    fields = parsedate_tz(raw)
    return (fields[0], fields[1], fields[2]) if fields else None


def _feed_time(raw: str | None, stamp: time.struct_time | None) -> dt.datetime | None:
    """A feed date as naive UTC, or None when it is unreadable, impossible or implausible.

    feedparser rolls an impossible day over ("2025-02-31" becomes 3 March) and moves a time near the end of
    9999 into the year 10000 when it applies the zone offset, so the day as written is checked first and the
    normalised value is built with care.
    """
    written = _written_day(raw) if raw else None
    if written is not None:
        try:
            dt.date(*written)
        except (ValueError, OverflowError):
            return None
    if stamp is None:
        return None
    try:
        moment = dt.datetime(*stamp[:6])  # feedparser normalises to UTC
    except (ValueError, OverflowError):
        return None
    return moment if is_plausible(moment) else None


def parse_feed(text: str, url: str) -> list[DiscoveredLink]:
    """Article links of an RSS or Atom feed, with their publication days and update times."""
    parsed = feedparser.parse(text)
    if parsed.bozo and not parsed.entries:
        raise DiscoveryError(f"{url}: not a readable RSS/Atom feed ({parsed.get('bozo_exception')})")
    rejected = _Rejected(url, "pubDate/published/updated")
    links = []
    for entry in parsed.entries:
        href = entry.get("link")
        target = _absolute(href, url) if href else None
        if target is None:
            continue
        times: dict[str, dt.datetime | None] = {}
        with_clock: set[str] = set()
        for field in ("published", "updated"):
            # dict.get: feedparser's own get answers "updated" with the published date when there is none.
            raw, stamp = dict.get(entry, field), dict.get(entry, f"{field}_parsed")
            if not raw and not stamp:
                continue
            times[field] = _feed_time(raw, stamp)
            if times[field] is None:
                rejected.add(str(raw), target)
            elif not raw or _CLOCK.search(raw):
                with_clock.add(field)
        published = times.get("published") or times.get("updated")
        latest_field = "updated" if times.get("updated") else "published"
        updated_at = times.get(latest_field) if latest_field in with_clock else None
        links.append(DiscoveredLink(target, published.date() if published else None, "feed", updated_at))
    rejected.report()
    return links


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_sitemap(text: str, url: str) -> tuple[list[DiscoveredLink], list[str]]:
    """Page links of a sitemap (with lastmod, or a news sitemap's publication date) and the child sitemaps
    of a sitemap index."""
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"{url}: not a readable sitemap ({exc})") from None
    links: list[DiscoveredLink] = []
    children: list[str] = []
    rejected = _Rejected(url, "lastmod")
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
        written = fields.get("lastmod") or _news_date(node)
        lastmod, updated_at, refused = _lastmod(written)
        if refused:
            rejected.add(written or "", loc)
        links.append(DiscoveredLink(loc, lastmod, "sitemap", updated_at))
    rejected.report()
    return links, children


def _news_date(node: etree._Element) -> str | None:
    """The publication date of a Google News sitemap entry (<news:news><news:publication_date>), if any."""
    for child in node.iter():
        if isinstance(child.tag, str) and _local(child.tag) == "publication_date" and child.text:
            return child.text.strip()
    return None


def _lastmod(value: str | None) -> tuple[dt.date | None, dt.datetime | None, bool]:
    """The day of a W3C-datetime lastmod as written, its time as naive UTC when it gives one, and whether a
    written day was refused (impossible or implausible). A coarser lastmod ("2025-03") gives no day.

    A time without a zone offset (against the W3C profile, but common) is taken as UTC: if it was meant as
    German time, the page looks changed an hour or two later than it was and is fetched once more rather than
    missed.
    """
    if not value:
        return None, None, False
    m = _ISO_DAY.match(value)
    if not m:
        return None, None, False
    try:
        day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except (ValueError, OverflowError):
        return None, None, True
    if not is_plausible(day):
        return None, None, True
    rest = value[m.end():]
    if not _CLOCK.search(rest):
        return day, None, False
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return day, None, False  # a time we cannot read costs only the time of day
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return day, moment, False


def parse_listing(
    html: str, url: str, link_selector: str | None = None, next_selector: str | None = None
) -> tuple[list[DiscoveredLink], str | None]:
    """Links on an HTML listing page (all anchors, or those the selector picks) and the next page's URL."""
    # Without selectors only the links matter: bs4 then builds them alone, not the whole page's tree.
    only_links = None if link_selector or next_selector else SoupStrainer(["a", "link"])
    soup = BeautifulSoup(html, "lxml", parse_only=only_links)
    anchors = soup.select(link_selector) if link_selector else soup.find_all("a", href=True)
    links: list[DiscoveredLink] = []
    seen: set[str] = set()
    for anchor in anchors:
        # a selector may pick the teaser card, not the anchor
        link = anchor if anchor.name == "a" else anchor.find("a", href=True)
        href = link.get("href") if link is not None else None
        if not isinstance(href, str) or not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
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
    if not isinstance(href, str) or not href:  # href is single-valued: never bs4's AttributeValueList
        return None
    target = _absolute(href, url)
    return None if target is None or target == canonicalize(url) else target


FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json",
                        "application/rdf+xml"})
# JSON feeds are found but not read: parse_feed (feedparser) reads RSS, Atom and RDF.
READABLE_FEED_TYPES = FEED_TYPES - {"application/feed+json"}


def alternate_feeds(html: str, url: str) -> list[str]:
    """The RSS/Atom feeds a page announces (`<link rel="alternate" type="application/rss+xml" href=...>`,
    the autodiscovery convention), absolute, in page order."""
    soup = BeautifulSoup(html, "lxml", parse_only=SoupStrainer("link"))
    feeds: list[str] = []
    for node in soup.find_all("link", href=True):
        rel = node.get("rel")  # multi-valued in bs4: a list of tokens
        tokens = [str(r).lower() for r in rel] if isinstance(rel, list) else str(rel or "").lower().split()
        kind = str(node.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in tokens or kind not in READABLE_FEED_TYPES:
            continue
        target = _absolute(str(node["href"]), url)
        if target is not None and target not in feeds:
            feeds.append(target)
    return feeds
