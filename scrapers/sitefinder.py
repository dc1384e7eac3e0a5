"""Probing a news site over the network: reading its feeds, sitemaps and listings (for add-source and the checks),
and proposing a sources.yml entry from its URL."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from bs4 import BeautifulSoup, SoupStrainer

from scrapers.config import Settings, Source
from scrapers.crawl import MAX_ANNOUNCED_FEEDS, MAX_ROBOTS_SITEMAPS, usable_sitemaps
from scrapers.discovery import (
    DiscoveredLink,
    DiscoveryError,
    alternate_feeds,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from scrapers.fetch import Fetcher, FetchError, RedirectRefused
from scrapers.process import process_safely
from scrapers.records import FetchedPage
from scrapers.source_entries import clean_name, derive_id, entry_text, parse_entry
from scrapers.url_patterns import (
    FILE_SUFFIX,
    PatternProposal,
    article_like,
    is_pagination,
    netloc_or_none,
    propose_url_pattern,
    segments,
    with_query,
)
from scrapers.urls import canonicalize, host_of, is_ip_literal, netloc_of, origin_of

# The usual places of a feed when a page announces none (WordPress, TYPO3, Drupal, static generators).
FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.rss")
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml")
# Generic German (and English) words of a news section's link text or path.
NEWS_WORDS = re.compile(r"aktuell|neuigkeit|news|presse|meldung|nachricht", re.I)
# Child sitemaps that probably list articles are read first: an index often lists pages, images and news apart.
NEWS_SITEMAP_WORDS = re.compile(r"news|aktuell|presse|meldung|nachricht|artikel|article|post|blog", re.I)
# Child sitemaps read per probe or check, over all its sitemap indexes (the crawler reads more: this is a sample).
MAX_CHILD_SITEMAPS = 3
MAX_LISTING_CANDIDATES = 3
TEST_ARTICLES = 3
MIN_LISTING_MATCHES = 2  # article links a page must show to be worth reading as a listing
MAX_LINKS_KEPT = 5000  # per document: enough to propose a pattern, bounded against a sitemap of 50,000 URLs


# ---------------------------------------------------------------------------------------------------------------
# What a page says about its site


def news_links(html: str, url: str, limit: int = MAX_LISTING_CANDIDATES) -> list[str]:
    """Links on a page to what looks like its news section ("Aktuelles", "Pressemitteilungen", /news/ ...), on
    the page's host, in page order: a path segment naming news, or a short link text naming it."""
    soup = BeautifulSoup(html, "lxml", parse_only=SoupStrainer("a"))
    own = canonicalize(url)
    host = netloc_of(own)
    found: list[str] = []
    for anchor in soup.find_all("a", href=True):
        href = str(anchor.get("href") or "")
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        try:
            target = canonicalize(href, own)
        except ValueError:
            continue
        parts = urlsplit(target)
        path = segments(parts.path)
        if (target == own or target in found or netloc_of(target) != host or not path or parts.query
                or FILE_SUFFIX.search(path[-1]) or is_pagination(target) or len(path) > 3):
            continue
        text = " ".join(anchor.get_text(" ").split())
        by_path = NEWS_WORDS.search(path[-1]) and not article_like(target)
        by_text = NEWS_WORDS.search(text) and len(text.split()) <= 3 and len(path) <= 2
        if by_path or by_text:
            found.append(target)
            if len(found) >= limit:
                break
    return found


def site_name(html: str) -> str | None:
    """The site's name as its page states it: og:site_name, else the last part of the <title>; one line of at
    most MAX_NAME_CHARS characters (see clean_name: the page is the site's text, the entry ours)."""
    soup = BeautifulSoup(html, "lxml", parse_only=SoupStrainer(["meta", "title"]))
    meta = soup.find("meta", attrs={"property": "og:site_name"})
    content = meta.get("content") if meta is not None else None
    if isinstance(content, str) and (name := clean_name(content)):
        return name
    title = soup.find("title")
    text = " ".join(title.get_text(" ").split()) if title is not None else ""
    parts = [p.strip() for p in re.split(r"\s+[|–—-]\s+", text) if p.strip()]
    return clean_name(parts[-1]) if parts else None


# ---------------------------------------------------------------------------------------------------------------
# Fetching and reading entry points (shared with scrapers/sitecheck.py)


@dataclass
class EntryPoint:
    """One feed, sitemap or listing page as read: whether it answered, and the links it holds."""

    kind: str  # feed | sitemap | listing
    url: str
    via: str  # declared | robots.txt | announced | guessed | linked | given | sitemap index
    status: int | None = None
    error: str | None = None
    robots_rule: str | None = None  # the Disallow rule that refused it
    links: int = 0
    matching: int = 0
    next_page: str | None = None
    announced_feeds: list[str] = field(default_factory=list)
    children: list[EntryPoint] = field(default_factory=list)  # child sitemaps of an index that were read
    children_total: int = 0  # child sitemaps the index names
    child_urls: list[str] = field(default_factory=list, repr=False)
    found: list[DiscoveredLink] = field(default_factory=list, repr=False)  # kept out of to_dict: can be long

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def is_index(self) -> bool:
        return self.children_total > 0

    def all_links(self) -> list[DiscoveredLink]:
        """Its links and those of the child sitemaps read."""
        return [*self.found, *(link for child in self.children for link in child.all_links())]

    def count(self, source: Source) -> None:
        """Set links and matching (links the crawler would take as articles of source), children included."""
        skip = {self.url, self.next_page} if self.kind == "listing" else set()
        for child in self.children:
            child.count(source)
        self.links = len(self.found) + sum(c.links for c in self.children)
        self.matching = sum(1 for link in self.found if link.url not in skip and source.matches(link.url)) + sum(
            c.matching for c in self.children)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in ("found", "children", "child_urls")}
        data["children"] = [c.to_dict() for c in self.children]
        return data


@dataclass
class ArticleSummary:
    """One test article: fetched and extracted as the pipeline would."""

    url: str
    hint_date: dt.date | None = None  # the feed or sitemap date
    status: int | None = None
    error: str | None = None
    robots_rule: str | None = None
    title: str | None = None
    published_date: dt.date | None = None
    body_chars: int = 0
    relevant: bool | None = None
    relevance_score: float | None = None
    cities: list[str] = field(default_factory=list)
    programmes: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @property
    def extracted(self) -> bool:
        return self.error is None and bool(self.title)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("hint_date", "published_date"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data


def _reason(exc: Exception) -> tuple[str, int | None]:
    if isinstance(exc, FetchError):
        return exc.reason, exc.status
    return f"unexpected {type(exc).__name__}: {exc}", None


async def fetch_page(fetcher: Fetcher, url: str, source: Source) -> tuple[FetchedPage | None, str | None, int | None]:
    """The page, or None with why (and the HTTP status when there was one); never raises."""
    try:
        page = await fetcher.fetch(url, source)
    except Exception as exc:  # noqa: BLE001 - a check reports every failure instead of stopping
        reason, status = _reason(exc)
        return None, reason, status
    return page, None, page.status


async def read_entry_point(fetcher: Fetcher, kind: str, url: str, via: str, source: Source,
                           page: FetchedPage | None = None) -> EntryPoint:
    """Fetch (unless page is given) and parse one feed, sitemap or listing page; children are not followed."""
    entry = EntryPoint(kind, url, via)
    if page is None:
        page, entry.error, entry.status = await fetch_page(fetcher, url, source)
        if page is None:
            return entry
    entry.status = page.status
    try:
        if kind == "feed":
            entry.found = parse_feed(page.text, page.final_url)
        elif kind == "sitemap":
            entry.found, children = parse_sitemap(page.text, page.final_url)
            entry.children_total, entry.child_urls = len(children), children
        else:
            entry.found, entry.next_page = parse_listing(page.text, page.final_url, source.link_selector,
                                                         source.next_selector)
            entry.announced_feeds = [f for f in alternate_feeds(page.text, page.final_url)
                                     if netloc_or_none(f) in source.hosts]
    except DiscoveryError as exc:
        entry.error = str(exc).removeprefix(f"{page.final_url}: ")
    entry.found = entry.found[:MAX_LINKS_KEPT]
    return entry


def child_order(children: list[str]) -> list[str]:
    """Child sitemaps, those named like news first, otherwise in the index's order."""
    return sorted(children, key=lambda url: not NEWS_SITEMAP_WORDS.search(urlsplit(url).path))


async def read_sitemap_tree(fetcher: Fetcher, url: str, via: str, source: Source,
                            max_children: int = MAX_CHILD_SITEMAPS, skip: Collection[str] = ()) -> EntryPoint:
    """A sitemap, and for an index the first few of its children (news-named first, those in skip left out: read
    elsewhere), one level deep."""
    entry = await read_entry_point(fetcher, "sitemap", url, via, source)
    children = [c for c in entry.child_urls if netloc_or_none(c) in source.hosts and c not in skip]
    for child_url in child_order(children)[:max(max_children, 0)]:
        # One level: a nested index is read but not followed further.
        child = await read_entry_point(fetcher, "sitemap", child_url, "sitemap index", source)
        entry.children.append(child)
    return entry


def summarise(url: str, hint: dt.date | None, page: FetchedPage | None, error: str | None, status: int | None,
              source: Source) -> ArticleSummary:
    """An ArticleSummary of a fetched page (or of why it could not be fetched), extracted as the pipeline does."""
    summary = ArticleSummary(url, hint, status, error)
    if page is None:
        return summary
    processed, failure = process_safely(page, source, hint)
    if processed is None:
        summary.error = failure or "no article found on the page (no title, or it looks like a listing)"
        return summary
    record = processed.record
    summary.title = record.title
    summary.published_date = record.published_date
    summary.body_chars = len(record.body_text)
    summary.relevant = processed.relevance.is_relevant
    summary.relevance_score = round(processed.relevance.score, 2)
    summary.cities = list(dict.fromkeys(c.name for c in processed.cities))
    summary.programmes = list(dict.fromkeys(p.discovered_name or p.programme_id for p in processed.programmes))
    summary.events = [f"{e.start_date.isoformat()} {e.name}" for e in processed.events]
    return summary


async def try_articles(fetcher: Fetcher, links: list[DiscoveredLink], source: Source,
                        count: int = TEST_ARTICLES) -> list[ArticleSummary]:
    """Fetch and extract the first count links (callers order them newest first)."""
    summaries = []
    for link in links[:count]:
        page, error, status = await fetch_page(fetcher, link.url, source)
        summaries.append(summarise(link.url, link.published, page, error, status, source))
    return summaries


def newest_first(entries: Iterable[EntryPoint], source: Source, exclude: Collection[str] = ()) -> list[DiscoveredLink]:
    """The article links of entry points, dated ones newest first, then undated ones in document order; a link
    found twice keeps the date either path gave."""
    links: dict[str, DiscoveredLink] = {}
    for entry in entries:
        if not entry.ok:
            continue
        for link in entry.all_links():
            if link.url in exclude or not source.matches(link.url):
                continue
            held = links.get(link.url)
            if held is None or (link.published and not held.published):
                links[link.url] = link
    ordered = list(links.values())
    dated = sorted((link for link in ordered if link.published), key=lambda link: link.published or dt.date.min,
                   reverse=True)
    return dated + [link for link in ordered if not link.published]


# ---------------------------------------------------------------------------------------------------------------
# add-source: probing a site


@dataclass
class Proposal:
    """What add-source found at a URL, and the entry it proposes (None when nothing usable was found)."""

    url: str
    entry: dict[str, Any] | None = None
    comments: list[str] = field(default_factory=list)
    source: Source | None = None
    pattern: PatternProposal | None = None
    entry_points: list[EntryPoint] = field(default_factory=list)
    articles: list[ArticleSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the entry is not usable; empty when it is
    notes: list[str] = field(default_factory=list)
    confidence: str = "none"  # high | medium | low | none

    @property
    def usable(self) -> bool:
        return self.entry is not None and not self.problems

    def text(self) -> str:
        """The entry as YAML for sources.yml, comments included ('' when there is none)."""
        return entry_text(self.entry, self.comments) if self.entry is not None else ""


def _probe_source(url: str, source_id: str, allow_private_network: bool, rate_limit: float) -> Source:
    return Source(id=source_id, name="add-source probe", kind="other", listings=[url],
                  allow_private_network=allow_private_network, rate_limit=rate_limit)


def same_site(host: str, other: str) -> bool:
    """Whether two host names are one site under two names: equal, one the other with a leading "www." added or
    removed, or sharing their last two DNS labels (stadt.de and www.presse.stadt.de) - an approximation of the
    registrable domain, right for .de, too generous for .co.uk. IP addresses are one site only when equal."""
    a, b = host.lower().rstrip("."), other.lower().rstrip(".")
    if a.removeprefix("www.") == b.removeprefix("www."):
        return True
    if is_ip_literal(a) or is_ip_literal(b):
        return False
    labels, others = a.split("."), b.split(".")
    return len(labels) >= 2 and len(others) >= 2 and labels[-2:] == others[-2:]



async def _start_page(fetcher: Fetcher, url: str, probe: Source) -> tuple[FetchedPage | None, Source, str | None]:
    """The given page. The Fetcher keeps every request on the source's declared hosts and refuses a redirect
    off them; one to the same site under another name (example.de -> www.example.de, see same_site) is followed
    once, with the probe moved to that host. A redirect to another site is reported, not followed."""
    try:
        return await fetcher.fetch(url, probe), probe, None
    except RedirectRefused as exc:
        target = exc.target
    except Exception as exc:  # noqa: BLE001 - reported as the reason nothing was found
        return None, probe, _reason(exc)[0]
    if not same_site(host_of(url), host_of(target)):
        return None, probe, f"it redirects to another site: {target}; run add-source on that URL"
    probe = probe.model_copy(update={"listings": [target]})
    moved, error, _ = await fetch_page(fetcher, target, probe)
    return moved, probe, error


async def _find_feeds(fetcher: Fetcher, start: FetchedPage, probe: Source, origin: str) -> list[EntryPoint]:
    """The feeds the page announces, else the first usual feed path that answers with a feed."""
    announced = [f for f in alternate_feeds(start.text, start.final_url) if netloc_or_none(f) in probe.hosts]
    feeds = [await read_entry_point(fetcher, "feed", f, "announced", probe) for f in announced[:MAX_ANNOUNCED_FEEDS]]
    if any(f.ok and f.found for f in feeds):
        return feeds
    for path in [p for p in FEED_PATHS if origin + p not in announced]:
        feed = await read_entry_point(fetcher, "feed", origin + path, "guessed", probe)
        if feed.ok and feed.found:
            return [*feeds, feed]
    return feeds


async def _find_sitemaps(fetcher: Fetcher, probe: Source, origin: str) -> list[EntryPoint]:
    """The sitemaps robots.txt names (those the crawler would read: on the site's host, the first few), else
    the first usual sitemap path that answers; MAX_CHILD_SITEMAPS children in all."""
    try:
        named = usable_sitemaps(await fetcher.robots_sitemaps(origin + "/", probe), probe)[:MAX_ROBOTS_SITEMAPS]
    except (FetchError, ValueError):
        named = []
    sitemaps: list[EntryPoint] = []
    budget = MAX_CHILD_SITEMAPS
    for url in named:
        read = {*named, *(c.url for s in sitemaps for c in s.children)}  # each read once, as itself first
        sitemap = await read_sitemap_tree(fetcher, url, "robots.txt", probe, budget, read)
        budget -= len(sitemap.children)
        sitemaps.append(sitemap)
    if any(s.ok for s in sitemaps):
        return sitemaps
    for path in [p for p in SITEMAP_PATHS if origin + p not in named]:
        sitemap = await read_sitemap_tree(fetcher, origin + path, "guessed", probe, budget)
        if sitemap.ok:
            return [*sitemaps, sitemap]
    return sitemaps


def _pattern_for(feeds: list[EntryPoint], listings: list[EntryPoint], sitemaps: list[EntryPoint],
                 avoid: set[str], hosts: Collection[str]) -> tuple[PatternProposal, str]:
    """The url_pattern from the strongest evidence: a feed's links are articles by definition, a news listing's
    mostly, a sitemap's only partly (it lists every page of the site). The non-article links of every document
    read are what the pattern must not match (links with a query may name articles: they are judged among
    their siblings)."""
    everything = [link.url for e in (*feeds, *listings, *sitemaps) if e.ok for link in e.all_links()]
    avoid = avoid | {u for u in everything if not (article_like(u) or with_query(u))}
    notes: list[str] = []
    for label, entries in (("the feed", feeds), ("the listing", listings), ("the sitemap", sitemaps)):
        urls = [link.url for e in entries if e.ok for link in e.all_links()]
        if urls:
            proposal = propose_url_pattern(urls, avoid, hosts)
            if proposal.pattern is not None:
                return proposal, label
            if proposal.query_note:
                notes.append(proposal.query_note)
    explanation = f"none of the {len(set(everything))} links found looks like an article"
    note = notes[0] if notes else None
    return PatternProposal(None, f"{explanation}; {note}" if note else explanation, query_note=note), ""


async def find_source(  # noqa: C901 - the discovery steps in order, each reported
    url: str,
    settings: Settings,
    *,
    source_id: str | None = None,
    name: str | None = None,
    city: str | None = None,
    kind: str | None = None,
    taken_ids: Collection[str] = (),
    allow_private_network: bool = False,
    rate_limit: float = 1.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Proposal:
    """Probe a site from its home or news page and propose a sources.yml entry: feeds, sitemaps and the best
    listing page, a url_pattern from the article links found, and three test articles extracted.

    Raises ValueError for a malformed URL (callers check it first, to name it)."""
    url = canonicalize(url)
    proposal = Proposal(url)
    probe_id = source_id or derive_id(url, taken_ids)
    probe = _probe_source(url, probe_id, allow_private_network, rate_limit)
    async with Fetcher(settings, transport) as fetcher:
        start, probe, error = await _start_page(fetcher, url, probe)
        if start is None:
            proposal.problems.append(f"cannot read {url}: {error}")
            return proposal
        if start.final_url != url:
            proposal.notes.append(f"{url} redirects to {start.final_url}")
        base = canonicalize(start.final_url)
        origin = origin_of(base)
        feeds = await _find_feeds(fetcher, start, probe, origin)
        sitemaps = await _find_sitemaps(fetcher, probe, origin)
        given = await read_entry_point(fetcher, "listing", base, "given", probe, page=start)
        listings = [given]
        for link in news_links(start.text, base):
            listings.append(await read_entry_point(fetcher, "listing", link, "linked", probe))
        for listing in listings[1:]:  # a news page may announce a feed the home page does not
            if not any(f.ok and f.found for f in feeds):
                for feed_url in listing.announced_feeds[:1]:
                    if feed_url not in {f.url for f in feeds}:
                        feeds.append(await read_entry_point(fetcher, "feed", feed_url, "announced", probe))
        proposal.entry_points = [*feeds, *sitemaps, *listings]
        avoid = {base, origin + "/", *(e.url for e in proposal.entry_points)}
        avoid |= {e.next_page for e in listings if e.next_page}
        avoid |= {link.url for e in listings for link in e.found if is_pagination(link.url)}
        pattern, evidence = _pattern_for(feeds, listings, sitemaps, avoid, probe.hosts)
        proposal.pattern = pattern
        if pattern.pattern is not None and pattern.query_note:
            proposal.notes.append(f"the proposed url_pattern may miss the news: {pattern.query_note}")
        if pattern.pattern is None:
            proposal.problems.append(_nothing_found(base, feeds, sitemaps, listings, pattern))
            return proposal
        candidate = probe.model_copy(update={"url_pattern": pattern.pattern})
        for point in proposal.entry_points:
            point.count(candidate)
        chosen_feeds = [e for e in feeds if e.ok and e.matching]
        chosen_sitemaps = [e for e in sitemaps if e.ok and e.matching]
        chosen_listing = _best_listing(listings)
        entry = {
            "id": probe_id,
            "name": clean_name(name) or site_name(start.text) or host_of(base),
            "kind": kind or ("municipal" if city else "other"),
            **({"city": city} if city else {}),
            **({"feeds": [e.url for e in chosen_feeds]} if chosen_feeds else {}),
            **({"sitemaps": [e.url for e in chosen_sitemaps]} if chosen_sitemaps else {}),
            **({"listings": [chosen_listing.url]} if chosen_listing else {}),
            "url_pattern": pattern.pattern,
            "autodiscover": True,
            **({"allow_private_network": True} if allow_private_network else {}),
        }
        if not (chosen_feeds or chosen_sitemaps or chosen_listing):
            proposal.problems.append(f"the links under {pattern.shape} come from no feed, sitemap or listing that "
                                     "holds several of them")
            return proposal
        try:
            final = parse_entry(entry_text(entry))
        except ValueError as exc:
            proposal.problems.append(f"the proposed entry does not validate: {exc}")
            return proposal
        listing_urls = {e.url for e in listings} | {e.next_page for e in listings if e.next_page}
        chosen = [*chosen_feeds, *chosen_sitemaps, *([chosen_listing] if chosen_listing else [])]
        proposal.articles = await try_articles(fetcher, newest_first(chosen, final, listing_urls), final)
    proposal.entry, proposal.source, proposal.pattern = entry, final, pattern
    proposal.confidence = _confidence(pattern, proposal.articles)
    proposal.comments = _comments(url, evidence, pattern, chosen_feeds, chosen_sitemaps, chosen_listing,
                                  proposal.articles, proposal.confidence)
    if not any(a.extracted for a in proposal.articles):
        first = proposal.articles[0] if proposal.articles else None
        proposal.problems.append("no test article could be extracted" + (f" ({first.url}: {first.error})" if first
                                                                         else ""))
    return proposal


def _nothing_found(base: str, feeds: list[EntryPoint], sitemaps: list[EntryPoint], listings: list[EntryPoint],
                   pattern: PatternProposal) -> str:
    """Why no entry can be proposed, naming what was tried."""
    def tried(entries: list[EntryPoint], none: str) -> str:
        if not entries:
            return none
        return "; ".join(f"{e.url}: {e.error or f'{len(e.all_links())} links'}" for e in entries)

    return (f"no article links found at {base} ({pattern.explanation}). Feeds: "
            + tried(feeds, f"none announced, none at {', '.join(FEED_PATHS)}") + ". Sitemaps: "
            + tried(sitemaps, f"none in robots.txt, none at {', '.join(SITEMAP_PATHS)}") + ". Pages read: "
            + tried(listings, "none") + ". Give the URL of the news page itself, if there is one")


def _best_listing(listings: list[EntryPoint]) -> EntryPoint | None:
    """The listing to crawl: a paginated one first (the crawler follows it back in time), then the most article
    links on its first page; a linked news page wins a tie against the page given (often a home page)."""
    usable = [e for e in listings if e.ok and e.matching >= MIN_LISTING_MATCHES]
    if not usable:
        return None
    return max(usable, key=lambda e: (e.next_page is not None, e.matching, e.via == "linked"))


def _confidence(pattern: PatternProposal, articles: list[ArticleSummary]) -> str:
    complete = sum(1 for a in articles if a.extracted and a.published_date)
    extracted = sum(1 for a in articles if a.extracted)
    if articles and complete == len(articles) and len(articles) >= 2 and pattern.share >= 0.8:
        return "high"
    if extracted and pattern.share >= 0.5:
        return "medium"
    return "low"


def _comments(url: str, evidence: str, pattern: PatternProposal, feeds: list[EntryPoint], sitemaps: list[EntryPoint],
              listing: EntryPoint | None, articles: list[ArticleSummary], confidence: str) -> list[str]:
    lines = [f"Proposed by `stadtradar add-source {url}`; confidence: {confidence}."]
    for feed in feeds:
        lines.append(f"feed {feed.url} ({feed.via}): {feed.matching} of {feed.links} links match url_pattern")
    for sitemap in sitemaps:
        children = (f", an index: {len(sitemap.children)} of {sitemap.children_total} child sitemaps read"
                    if sitemap.is_index else "")
        lines.append(f"sitemap {sitemap.url} ({sitemap.via}{children}): {sitemap.matching} of {sitemap.links} "
                     "links match url_pattern")
    if listing is not None:
        paging = "pagination by rel=next" if listing.next_page else "no rel=next: only its first page is read"
        lines.append(f"listing {listing.url}: {listing.matching} article links on its first page; {paging}")
    lines.append(f"url_pattern from {evidence or 'the links'}: {pattern.explanation}")
    complete = sum(1 for a in articles if a.extracted and a.published_date)
    line = f"{complete}/{len(articles)} test articles extracted with title and date"
    undated = [a.url for a in articles if a.extracted and not a.published_date]
    failed = [a for a in articles if not a.extracted]
    if undated:
        line += f"; without a date: {', '.join(undated)}"
    if failed:
        line += "; not extracted: " + ", ".join(f"{a.url} ({a.error})" for a in failed)
    lines.append(line)
    relevant = sum(1 for a in articles if a.relevant)
    if articles:
        lines.append(f"{relevant}/{len(articles)} test articles are about smart-city topics")
    return lines

