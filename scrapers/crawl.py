"""Crawling one source: discover article URLs from feeds, sitemaps and listings, then fetch the articles."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from scrapers.config import Settings, Source
from scrapers.discovery import DiscoveredLink, DiscoveryError, parse_feed, parse_listing, parse_sitemap
from scrapers.fetch import Fetcher, FetchError, RobotsRefusal
from scrapers.records import FetchedPage

T = TypeVar("T")


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
    """An article is fetched when new, when forced, or when its feed/sitemap date is after our last fetch."""
    if refresh or known is None:
        return True
    return link.published is not None and link.published > known.fetched_at.date()


async def crawl_source(
    source: Source,
    fetcher: Fetcher,
    settings: Settings,
    known: dict[str, KnownPage] | None = None,
    refresh: bool = False,
) -> CrawlResult:
    """Discover and fetch one source; failures are collected in the result, never raised."""
    result = await discover(source, fetcher, settings, known, refresh)
    result.pages.extend(await fetch_articles(fetcher, source, result.to_fetch, known or {}, result))
    return result


async def fetch_articles(fetcher: Fetcher, source: Source, links: list[DiscoveredLink],
                         known: dict[str, KnownPage], result: CrawlResult) -> list[FetchedPage]:
    """Fetch article pages (conditionally where we hold a version); failures go to result, never raised."""
    pages = await asyncio.gather(
        *(_fetch_article(fetcher, link.url, source, result, known.get(link.url)) for link in links)
    )
    return [page for page in pages if page is not None]


async def discover(
    source: Source,
    fetcher: Fetcher,
    settings: Settings,
    known: dict[str, KnownPage] | None = None,
    refresh: bool = False,
) -> CrawlResult:
    """Read a source's feeds, sitemaps and listings: the result holds those pages, every article link with
    its hints, and `to_fetch`, the links worth fetching this run."""
    known = known or {}
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
            elif link.published and not links[link.url].published:
                links[link.url] = dataclasses.replace(links[link.url], published=link.published)
        return new

    listing_urls = {*source.listings}
    for url in source.feeds:
        page = await _fetch_discovery(fetcher, url, source, "feed", result)
        if page is not None:
            add(_parsed(result, url, parse_feed, page.text, page.final_url) or [])

    pending_sitemaps, seen_sitemaps = list(source.sitemaps), set()
    while pending_sitemaps and len(seen_sitemaps) < settings.max_sitemaps:
        url = pending_sitemaps.pop(0)
        if url in seen_sitemaps:
            continue
        seen_sitemaps.add(url)
        page = await _fetch_discovery(fetcher, url, source, "sitemap", result)
        sitemap = _parsed(result, url, parse_sitemap, page.text, page.final_url) if page else None
        if sitemap is not None:
            found, children = sitemap
            add(found)
            pending_sitemaps.extend(c for c in children if c not in seen_sitemaps)

    for start in source.listings:
        url: str | None = start
        for _ in range(settings.max_listing_pages):
            if url is None or url in listing_urls - {start}:
                break
            listing_urls.add(url)
            page = await _fetch_discovery(fetcher, url, source, "listing", result)
            if page is None:
                break
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

    result.hints = links
    result.discovered = len(links)
    result.to_fetch = [link for link in links.values() if needs_fetch(link, known.get(link.url), refresh)]
    result.skipped_known = len(links) - len(result.to_fetch)
    return result


async def _fetch_discovery(
    fetcher: Fetcher, url: str, source: Source, kind: str, result: CrawlResult
) -> FetchedPage | None:
    try:
        page = await fetcher.fetch(url, source)
    except Exception as exc:  # noqa: BLE001 - see _as_fetch_error
        _record_failure(result, url, exc)
        return None
    page = dataclasses.replace(page, kind=kind)
    result.pages.append(page)
    return page


async def _fetch_article(
    fetcher: Fetcher, url: str, source: Source, result: CrawlResult, known: KnownPage | None
) -> FetchedPage | None:
    try:
        return await fetcher.fetch(url, source, headers=known.conditional_headers() if known else None)
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
    raised: raised, it would fail the whole source and drop every page already fetched for it."""
    if isinstance(exc, FetchError):
        return exc
    return FetchError(url, f"unexpected {type(exc).__name__}: {exc}")


def _parsed(result: CrawlResult, url: str, parse: Callable[..., T], *args: object) -> T | None:
    """parse(*args), or None with the failure recorded: a broken feed must not end the crawl."""
    try:
        return parse(*args)
    except DiscoveryError as exc:
        result.errors.append(FetchError(url, str(exc)))
        return None
