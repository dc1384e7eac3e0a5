"""Crawling one source: discover article URLs from feeds, sitemaps and listings, then fetch the articles."""
from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from scrapers.config import Settings, Source
from scrapers.discovery import (
    DiscoveredLink,
    DiscoveryError,
    alternate_feeds,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from scrapers.fetch import Fetcher, FetchError, RobotsRefusal
from scrapers.recorder import RecordError
from scrapers.records import FetchedPage
from scrapers.urls import canonicalize, netloc_of, origin_of

T = TypeVar("T")

# What autodiscovery adds to a source's own entry points, per run: a robots.txt may name thousands of
# sitemaps, a page announce hundreds of feeds.
MAX_ROBOTS_SITEMAPS = 5
MAX_ANNOUNCED_FEEDS = 3


@dataclass(frozen=True)
class KnownPage:
    """What the warehouse already holds about an article URL, for incremental runs."""

    url: str
    fetched_at: dt.datetime
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None  # of the body we hold; an identical new body needs no re-parse

    def conditional_headers(self) -> dict[str, str]:
        """Validators for a conditional GET: the server may answer 304 instead of the body."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass
class CrawlResult:
    """Everything one source's crawl produced: pages to archive, date hints, and failures."""

    source_id: str
    pages: list[FetchedPage] = field(default_factory=list)
    hints: dict[str, DiscoveredLink] = field(default_factory=dict)
    errors: list[FetchError] = field(default_factory=list)
    discovered: int = 0
    skipped_known: int = 0
    robots_refused: list[str] = field(default_factory=list)
    to_fetch: list[DiscoveredLink] = field(default_factory=list)
    deferred: int = 0  # links worth fetching left for the next run (the per-run cap, or the time budget)
    autodiscovered: list[str] = field(default_factory=list)  # feeds and sitemaps read beyond the entry's own
    out_of_time: bool = False  # the source's time budget ran out during this run

    def defer(self, links: int) -> None:
        """Leave links for the next run because the source's time budget ran out."""
        self.out_of_time, self.deferred = True, self.deferred + links

    @property
    def source_failed(self) -> bool:
        """True when discovery itself failed, so nothing could be learnt about the source."""
        return not self.hints and bool(self.errors)


def pages_to_parse(pages: list[FetchedPage], known: dict[str, KnownPage], page_hash: Callable[[str], str],
                   reparse: bool = False) -> list[FetchedPage]:
    """Article pages whose body is new: a 304 or a body identical to the one we hold costs no re-parse."""
    fresh = []
    for page in pages:
        if page.kind != "article" or page.status != 200:
            continue
        held = known.get(page.requested_url)
        if reparse or held is None or held.content_hash != page_hash(page.text):
            fresh.append(page)
    return fresh


def needs_fetch(link: DiscoveredLink, known: KnownPage | None, refresh: bool) -> bool:
    """An article is fetched when new, when forced, or when its feed/sitemap time is after our last fetch
    (a date without a time counts from the end of its day, so it is only later from the next day on)."""
    if refresh or known is None:
        return True
    if link.updated_at is not None:
        return link.updated_at > known.fetched_at
    return link.published is not None and link.published > known.fetched_at.date()


def fetch_order(links: list[DiscoveredLink], known: dict[str, KnownPage], limit: int
                ) -> tuple[list[DiscoveredLink], int]:
    """The links to fetch this run, at most `limit`: unknown articles first, then changed ones, newest first
    within each; returns them and how many are left for the next run."""
    def key(link: DiscoveredLink) -> tuple[bool, int]:
        return link.url in known, -(link.published.toordinal() if link.published else 0)

    ordered = sorted(links, key=key) if len(links) > limit else links
    return ordered[:limit], max(0, len(links) - limit)


class Deadline:
    """The end of a source's time budget on the event loop's clock; None seconds means no budget."""

    def __init__(self, seconds: float | None):
        self.when = None if seconds is None else asyncio.get_running_loop().time() + seconds

    @property
    def expired(self) -> bool:
        return self.when is not None and asyncio.get_running_loop().time() >= self.when

    def scope(self) -> asyncio.Timeout:
        """A timeout context ending at the deadline (asyncio.timeout_at(None) never ends)."""
        return asyncio.timeout_at(self.when)


async def fetch_articles(fetcher: Fetcher, source: Source, links: list[DiscoveredLink],
                         known: dict[str, KnownPage], result: CrawlResult,
                         deadline: Deadline | None = None) -> list[FetchedPage]:
    """Fetch article pages (conditionally where we hold a version); failures go to result, never raised.
    Links not fetched before the deadline are counted as deferred to the next run."""
    deadline = deadline or Deadline(None)
    pages = await asyncio.gather(
        *(_fetch_article(fetcher, link.url, source, result, known.get(link.url), deadline) for link in links)
    )
    return [page for page in pages if page is not None]


# Over the C901 bound: feeds, sitemaps and listings share one link table and time budget.
async def discover(  # noqa: C901
    source: Source,
    fetcher: Fetcher,
    settings: Settings,
    known: dict[str, KnownPage] | None = None,
    refresh: bool = False,
    deadline: Deadline | None = None,
) -> CrawlResult:
    """Read a source's feeds, sitemaps and listings: the result holds those pages, every article link with
    its hints, and `to_fetch`, the links worth fetching this run (at most settings.max_articles_per_run)."""
    known = known or {}
    deadline = deadline or Deadline(None)
    result = CrawlResult(source.id)
    links: dict[str, DiscoveredLink] = {}

    def add(found: list[DiscoveredLink]) -> int:
        new = 0
        for link in found:
            if not source.matches(link.url) or link.url in listing_urls:
                continue
            if link.url not in links:
                new += 1
                links[link.url] = link
            else:  # a second path to a known link may carry what the first lacked
                held = links[link.url]
                if (link.published and not held.published) or (link.updated_at and not held.updated_at):
                    links[link.url] = dataclasses.replace(held, published=held.published or link.published,
                                                          updated_at=held.updated_at or link.updated_at)
        return new

    listing_urls = {*source.listings}
    for feed_url in source.feeds:
        page = await _fetch_discovery(fetcher, feed_url, source, "feed", result, deadline)
        if page is not None:
            add(_parsed(result, feed_url, parse_feed, page.text, page.final_url) or [])

    seen_sitemaps: set[str] = set()
    declared = list(dict.fromkeys(_canonical_or_as_is(url) for url in source.sitemaps))
    await _read_sitemaps(declared, seen_sitemaps, settings.max_sitemaps, fetcher, source, result, deadline, add)
    if source.autodiscover:  # after the declared sitemaps and their children, which they must not crowd out
        extra = [url for url in await _robots_sitemaps(fetcher, source) if url not in seen_sitemaps]
        extra = extra[:MAX_ROBOTS_SITEMAPS]
        result.autodiscovered += extra
        await _read_sitemaps(extra, seen_sitemaps, settings.max_sitemaps, fetcher, source, result, deadline, add)

    announced_feeds: list[str] = []
    declared_feeds = {_canonical_or_as_is(url) for url in source.feeds}
    for start in source.listings:
        url: str | None = start
        for _ in range(settings.max_listing_pages):
            if url is None or url in listing_urls - {start}:
                break
            listing_urls.add(url)
            page = await _fetch_discovery(fetcher, url, source, "listing", result, deadline)
            if page is None:
                break
            if source.autodiscover and url == start and len(announced_feeds) < MAX_ANNOUNCED_FEEDS:
                announced_feeds += [feed for feed in alternate_feeds(page.text, page.final_url)
                                    if feed not in declared_feeds and feed not in announced_feeds
                                    and netloc_of(feed) in source.hosts]
                announced_feeds = announced_feeds[:MAX_ANNOUNCED_FEEDS]
            listing = _parsed(result, url, parse_listing, page.text, page.final_url, source.link_selector,
                              source.next_selector)
            if listing is None:
                break
            found, url = listing
            candidates = [link for link in found if source.matches(link.url) and link.url not in listing_urls]
            add(found)
            # A page of only known articles means everything older is known too.
            if candidates and all(link.url in known for link in candidates) and not refresh:
                break

    for feed_url in announced_feeds:
        page = await _fetch_discovery(fetcher, feed_url, source, "feed", result, deadline)
        if page is not None:
            result.autodiscovered.append(feed_url)
            add(_parsed(result, feed_url, parse_feed, page.text, page.final_url) or [])

    result.hints = links
    result.discovered = len(links)
    due = [link for link in links.values() if needs_fetch(link, known.get(link.url), refresh)]
    result.to_fetch, result.deferred = fetch_order(due, known, settings.max_articles_per_run)
    result.skipped_known = len(links) - len(due)
    return result


async def _read_sitemaps(pending: list[str], seen: set[str], limit: int, fetcher: Fetcher, source: Source,
                         result: CrawlResult, deadline: Deadline, add: Callable[[list[DiscoveredLink]], int]) -> None:
    """Read sitemaps breadth first, an index's children after it, until `seen` holds `limit` of them."""
    queue = collections.deque(pending)
    while queue and len(seen) < limit:
        sitemap_url = queue.popleft()
        if sitemap_url in seen:
            continue
        seen.add(sitemap_url)
        page = await _fetch_discovery(fetcher, sitemap_url, source, "sitemap", result, deadline)
        sitemap = _parsed(result, sitemap_url, parse_sitemap, page.text, page.final_url) if page else None
        if sitemap is not None:
            found, children = sitemap
            add(found)
            queue.extend(c for c in children if c not in seen)


def _canonical_or_as_is(url: str) -> str:
    try:
        return canonicalize(url)
    except ValueError:  # the fetch names it in the run's errors
        return url


def usable_sitemaps(named: Iterable[str], source: Source) -> list[str]:
    """The sitemap URLs of robots.txt `Sitemap:` lines a source may read: canonical, on its hosts, each once;
    a malformed line is skipped (robots.txt is the site's text, not ours)."""
    found: dict[str, None] = {}
    for url in named:
        try:
            url = canonicalize(url)
            if netloc_of(url) in source.hosts:
                found.setdefault(url)
        except ValueError:
            continue
    return list(found)


def source_origins(source: Source) -> list[str]:
    """The origins (scheme, host, port) of a source's feeds, sitemaps and listings, each once, in entry order."""
    return list(dict.fromkeys(origin_of(canonicalize(u)) for u in (*source.feeds, *source.sitemaps, *source.listings)))


async def _robots_sitemaps(fetcher: Fetcher, source: Source) -> list[str]:
    """The sitemaps named by the robots.txt of the source's hosts that it may read; a robots.txt that cannot
    be read names none (the fetches that need it report why)."""
    named: list[str] = []
    for origin in source_origins(source):
        try:
            named += await fetcher.robots_sitemaps(origin + "/", source)
        except FetchError:
            continue
    return usable_sitemaps(named, source)


async def _fetch_discovery(
    fetcher: Fetcher, url: str, source: Source, kind: str, result: CrawlResult, deadline: Deadline
) -> FetchedPage | None:
    page = await _fetch_in_time(fetcher, url, source, result, deadline, None)
    if page is None:
        return None
    page = dataclasses.replace(page, kind=kind)
    result.pages.append(page)
    return page


async def _fetch_article(
    fetcher: Fetcher, url: str, source: Source, result: CrawlResult, known: KnownPage | None, deadline: Deadline
) -> FetchedPage | None:
    return await _fetch_in_time(fetcher, url, source, result, deadline,
                                known.conditional_headers() if known else None)


async def _fetch_in_time(fetcher: Fetcher, url: str, source: Source, result: CrawlResult, deadline: Deadline,
                         headers: dict[str, str] | None) -> FetchedPage | None:
    """fetcher.fetch within the source's time budget; a URL the budget leaves no time for is deferred."""
    if deadline.expired:
        result.defer(1)
        return None
    try:
        async with deadline.scope():
            return await fetcher.fetch(url, source, headers=headers)
    except TimeoutError:
        result.defer(1)
        return None
    except RecordError:
        raise  # the recording of the run failed (disk full): the run stops rather than record half
    except Exception as exc:  # noqa: BLE001 - see _as_fetch_error
        _record_failure(result, url, exc)
        return None


def _record_failure(result: CrawlResult, url: str, exc: Exception) -> None:
    if isinstance(exc, RobotsRefusal):
        result.robots_refused.append(url)  # honoured, not a failure: it would mark every run partial
    else:
        result.errors.append(_as_fetch_error(url, exc))


def _as_fetch_error(url: str, exc: Exception) -> FetchError:
    """The ledger entry for a failed URL. An unexpected exception is recorded under its type rather than
    raised: raised, it would fail the whole source and drop every page already fetched for it. The entry is
    a fresh exception: the raised one keeps its traceback, and with it the frames of the failed request (about
    15 KB a URL, which a site of 100,000 dead links turned into gigabytes)."""
    if isinstance(exc, FetchError):
        return type(exc)(exc.url, exc.reason, exc.status, exc.attempts)
    return FetchError(url, f"unexpected {type(exc).__name__}: {exc}")


def _parsed(result: CrawlResult, url: str, parse: Callable[..., T], *args: object) -> T | None:
    """parse(*args), or None with the failure recorded: a broken feed must not end the crawl."""
    try:
        return parse(*args)
    except DiscoveryError as exc:
        result.errors.append(FetchError(url, str(exc)))
        return None
