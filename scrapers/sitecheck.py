"""Checking configured sources against their live sites: robots.txt, entry points, the newest article, a verdict."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from protego import Protego

from scrapers.config import Settings, Source
from scrapers.crawl import MAX_ANNOUNCED_FEEDS, MAX_ROBOTS_SITEMAPS, source_origins, usable_sitemaps
from scrapers.fetch import ALLOW_ALL, Fetcher, FetchError
from scrapers.sitefinder import (
    MAX_CHILD_SITEMAPS,
    ArticleSummary,
    EntryPoint,
    fetch_page,
    newest_first,
    read_entry_point,
    read_sitemap_tree,
    summarise,
)
from scrapers.url_patterns import PatternProposal, propose_url_pattern
from scrapers.urls import canonicalize, origin_of

ARTICLES_CHECKED = 3
MIN_BODY_CHARS = 200  # shorter article text suggests the extractor lost the body
MAX_RULE_PROBE = 300  # characters of a path probed to name the robots.txt rule that refuses it
VERDICTS = ("ok", "degraded", "broken")  # the verdicts a check gives, best first (warehouse/checks.py stores them)


@dataclass
class Disallowed:
    """A URL of the source that robots.txt refuses to our user agent, and the rule that does it."""

    url: str
    kind: str  # feed | sitemap | listing
    rule: str | None  # "Disallow: /aktuelles/", or None when a wildcard rule could not be named


@dataclass
class RobotsCheck:
    """robots.txt of one origin of a source, as our user agent reads it."""

    origin: str
    status: str  # read | absent (4xx: no rules) | unreadable (nothing may be fetched) | not checked
    detail: str | None = None  # why unreadable or not checked
    crawl_delay: float | None = None
    sitemaps: list[str] = field(default_factory=list)  # its Sitemap lines the source may read (usable_sitemaps)
    disallowed: list[Disallowed] = field(default_factory=list)


@dataclass
class Judgement:
    """The verdict on a source's check, its reasons and what to change."""

    verdict: str
    reasons: list[str]
    suggestions: list[str]
    proposed_url_pattern: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class SourceCheck:
    """The result of checking one source; `checked_at` is the caller's to add (no clock here)."""

    source_id: str
    verdict: str  # ok | degraded | broken
    reasons: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    robots: list[RobotsCheck] = field(default_factory=list)
    entry_points: list[EntryPoint] = field(default_factory=list)
    articles: list[ArticleSummary] = field(default_factory=list)  # the newest first
    proposed_url_pattern: str | None = None
    notes: list[str] = field(default_factory=list)  # information that does not change the verdict
    article_links: int = 0  # distinct article URLs the crawler would find (entry points it reads, url_pattern)

    @property
    def newest_article(self) -> ArticleSummary | None:
        return self.articles[0] if self.articles else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        newest = self.newest_article
        return {
            "source_id": self.source_id,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "suggestions": list(self.suggestions),
            "proposed_url_pattern": self.proposed_url_pattern,
            "notes": list(self.notes),
            "robots": [dataclasses.asdict(r) for r in self.robots],
            "entry_points": [e.to_dict() for e in self.entry_points],
            "article_links": self.article_links,
            "newest_article": newest.to_dict() if newest else None,
            "articles": [a.to_dict() for a in self.articles],
        }


# ---------------------------------------------------------------------------------------------------------------
# Pure parts: naming robots rules, judging, the markdown report


def disallow_rule(rules: Protego, url: str, user_agent: str) -> str | None:
    """The Disallow rule that refuses url ("Disallow: /aktuelles/"), found by probing ever shorter prefixes of its
    path: Protego answers whether, not which rule. None when no prefix is refused (a wildcard rule)."""
    origin = origin_of(url)
    path = (urlsplit(url).path or "/")[:MAX_RULE_PROBE]
    shortest = None
    for end in range(len(path), 0, -1):
        if rules.can_fetch(origin + path[:end], user_agent):
            break
        shortest = end
    return f"Disallow: {path[:shortest]}" if shortest else None


def _canonical(urls: Iterable[str]) -> set[str]:
    found = set()
    for url in urls:
        try:
            found.add(canonicalize(url))
        except ValueError:  # a malformed entry point is reported where it is read
            continue
    return found


def _problem(entry: EntryPoint) -> str:
    if entry.robots_rule is not None or (entry.error or "").startswith("disallowed by robots.txt"):
        rule = f" (rule: {entry.robots_rule})" if entry.robots_rule else ""
        return f"robots.txt of {origin_of(entry.url)} disallows the {entry.kind} {entry.url} for our user agent{rule}"
    if entry.status is not None and not 200 <= entry.status < 300:
        return f"{entry.kind} {entry.url} answers HTTP {entry.status}"
    if entry.status is not None:
        return f"{entry.kind} {entry.url} cannot be read: {entry.error}"
    return f"{entry.kind} {entry.url} cannot be fetched: {entry.error}"


def _replacements(source: Source, entry: EntryPoint, entries: list[EntryPoint], robots: list[RobotsCheck]) -> list[str]:
    """What could replace a failing entry point: a feed the listing announces, a sitemap robots.txt names."""
    autodiscover = "" if source.autodiscover else " (or set autodiscover: true)"
    if entry.robots_rule is not None or (entry.error or "").startswith("disallowed by robots.txt"):
        return [f"the site asks crawlers to stay out of {entry.url}: remove it from {entry.kind}s, or ask the "
                "publisher for permission or a feed"]
    if entry.kind == "feed":
        found = [e for e in entries if e.kind == "feed" and e.via == "announced" and e.ok and e.matching]
        if found:
            return [f"the listing announces the feed {e.url} ({e.matching} matching links): put it in feeds instead "
                    f"of {entry.url}{autodiscover}" for e in found]
        announced = [e for e in entries if e.kind == "feed" and e.via == "announced" and e.ok]
        if announced:
            return [f"the listing announces the feed {e.url}, but none of its {e.links} links matches url_pattern"
                    for e in announced]
        return [f"find the feed's new address on the site, or remove {entry.url} from feeds"]
    if entry.kind == "sitemap":
        declared = _canonical(source.sitemaps)
        named = [s for s in usable_sitemaps((s for r in robots for s in r.sitemaps), source)
                 if s not in declared and s != entry.url]
        if named:
            return [f"robots.txt names the sitemap {s}: put it in sitemaps instead of {entry.url}{autodiscover}"
                    for s in named[:2]]
        return [f"find the sitemap's new address (robots.txt, /sitemap.xml), or remove {entry.url} from sitemaps"]
    return [f"find the news page's new address on the site (`stadtradar add-source <home page>` proposes an entry), "
            f"or remove {entry.url} from listings"]


def _pattern_problem(source: Source, entry: EntryPoint) -> tuple[str, str, PatternProposal]:
    """Why no link of a working entry point matches, and a url_pattern that would match its article links."""
    avoid = [entry.url, *([entry.next_page] if entry.next_page else [])]
    proposal = propose_url_pattern([link.url for link in entry.all_links()], avoid, source.hosts)
    if proposal.pattern is None:
        why = f"; {proposal.query_note}" if proposal.query_note else ""
        return (f"none of the {entry.links} links of the {entry.kind} {entry.url} matches url_pattern, and none looks "
                f"like an article{why}", f"open {entry.url} in a browser: if it still lists the news, set "
                "link_selector to the CSS selector of its article links", proposal)
    return (f"the {entry.kind}'s article links look like {proposal.shape}; url_pattern does not match them; try "
            f"'{proposal.pattern}' ({entry.kind} {entry.url})",
            f"url_pattern: '{proposal.pattern}' ({proposal.explanation})", proposal)


def _judge_articles(articles: list[ArticleSummary], broken: list[str], degraded: list[str],
                    suggestions: list[str]) -> None:
    newest = articles[0]
    readable = [a for a in articles if a.extracted]
    if newest.robots_rule is not None or (newest.error or "").startswith("disallowed by robots.txt"):
        rule = f" (rule: {newest.robots_rule})" if newest.robots_rule else ""
        broken.append(f"robots.txt of {origin_of(newest.url)} disallows the articles for our user agent{rule}, "
                      f"e.g. the newest, {newest.url}")
        suggestions.append("the site asks crawlers to stay out of its articles: remove the source, or ask the "
                           "publisher for permission")
        return
    if not readable:
        broken.append(f"no article could be read: the newest, {newest.url}, {newest.error}"
                      + (f" (nor {len(articles) - 1} more)" if len(articles) > 1 else ""))
        suggestions.append("open the article in a browser: if it shows, set selectors.title and selectors.body "
                           "to the CSS selectors of its headline and text")
        return
    if not newest.extracted:
        degraded.append(f"the newest article {newest.url} cannot be read: {newest.error}")
    elif newest.published_date is None:
        undated = sum(1 for a in readable if a.published_date is None)
        degraded.append(f"articles lost their dates: the newest article has no date ({newest.url}; {undated} of "
                        f"{len(readable)} checked articles have none)")
        suggestions.append("set selectors.date to the CSS selector of the date on the article pages, or add a feed "
                           "or sitemap that gives dates")
    if newest.extracted and newest.body_chars < MIN_BODY_CHARS:
        degraded.append(f"the newest article's text is only {newest.body_chars} characters ({newest.url}): the "
                        "extractor may miss the body")
        suggestions.append("set selectors.body to the CSS selector of the article text")


def judge(  # noqa: C901 - one rule per kind of fault, in the order a reader fixes them
    source: Source, robots: list[RobotsCheck], entry_points: list[EntryPoint], articles: list[ArticleSummary],
    max_crawl_delay: float | None = None,
) -> Judgement:
    """The verdict on a source from what its check found: broken when nothing can be crawled (no entry point
    works, no link matches url_pattern, robots.txt refuses it, no article can be extracted), degraded when part
    of it fails or the articles lose something (their dates, their text); ok otherwise."""
    broken: list[str] = []
    degraded: list[str] = []
    suggestions: list[str] = []
    notes: list[str] = []
    proposed: str | None = None
    for r in robots:
        if r.status == "unreadable":
            broken.append(f"robots.txt of {r.origin} cannot be read ({r.detail}): by RFC 9309 nothing is fetched "
                          "from that host until it can")
            suggestions.append(f"open {r.origin}/robots.txt: when it answers again, so does the source")
        if max_crawl_delay is not None and r.crawl_delay and r.crawl_delay > max_crawl_delay:
            notes.append(f"robots.txt of {r.origin} asks for a Crawl-delay of {r.crawl_delay:g} s, capped at "
                         f"{max_crawl_delay:g} s")
    used = [e for e in entry_points if e.via == "declared" or source.autodiscover]
    working = [e for e in used if e.ok]
    for entry in used:
        if not entry.ok:
            (degraded if working else broken).append(_problem(entry))
            suggestions += _replacements(source, entry, entry_points, robots)
        for child in entry.children:
            if not child.ok:
                degraded.append(f"{_problem(child)} (a child of the sitemap index {entry.url})")
    if used and not working:
        broken.append("no feed, sitemap or listing of the source can be read: nothing can be discovered")
    total = sum(e.matching for e in working)
    for entry in working:
        if entry.links and not entry.matching:
            reason, suggestion, proposal = _pattern_problem(source, entry)
            (degraded if total else broken).append(reason)
            suggestions.append(suggestion)
            proposed = proposed or proposal.pattern
        elif not entry.links and not entry.is_index:
            (degraded if total else broken).append(f"the {entry.kind} {entry.url} holds no links")
        if entry.next_page and source.matches(entry.next_page):
            degraded.append(f"url_pattern also matches the listing's next page {entry.next_page}: the crawler "
                            "fetches it as an article")
            _, suggestion, proposal = _pattern_problem(source, entry)
            suggestions.append(suggestion)
            proposed = proposed or proposal.pattern
        if entry.is_index and len(entry.children) < entry.children_total:
            notes.append(f"the sitemap index {entry.url} names {entry.children_total} child sitemaps; the check "
                         f"read {len(entry.children)}")
    if working and not total and not any(e.links for e in working):
        broken.append("the feeds, sitemaps and listings hold no links at all")
    if articles:
        _judge_articles(articles, broken, degraded, suggestions)
    declared = _canonical(source.sitemaps)
    for r in robots:
        unused = [s for s in usable_sitemaps(r.sitemaps, source) if s not in declared]
        if unused and not source.autodiscover and (broken or degraded):
            notes.append(f"robots.txt of {r.origin} names sitemaps the entry does not use: {', '.join(unused)}")
    verdict = "broken" if broken else "degraded" if degraded else "ok"
    return Judgement(verdict, broken + degraded, list(dict.fromkeys(suggestions)), proposed, notes)


@dataclass(frozen=True)
class CheckRow:
    """One source's line in a report's table."""

    source_id: str
    verdict: str
    working: int  # entry points that could be read
    entry_points: int
    article_links: int
    newest: str  # "2025-03-04: title", "not read: why", or "–"


def check_row(check: SourceCheck) -> CheckRow:
    """The table line of a check, for the markdown report and the terminal alike."""
    newest = check.newest_article
    article = "–"
    if newest is not None:
        day = newest.published_date.isoformat() if newest.published_date else "no date"
        article = f"{day}: {newest.title}" if newest.extracted else f"not read: {newest.error}"
    working = sum(1 for e in check.entry_points if e.ok)
    return CheckRow(check.source_id, check.verdict, working, len(check.entry_points), check.article_links, article)


def check_details(check: SourceCheck) -> list[tuple[str, list[str]]]:
    """What a report lists below a check's table line, in the order a reader acts on it: (heading, items) for
    its reasons, suggestions and notes; empty ones left out (a check without any has no details)."""
    sections = (("Reasons", check.reasons), ("Suggestions", check.suggestions), ("Notes", check.notes))
    return [(title, list(items)) for title, items in sections if items]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def checks_markdown(checks: list[SourceCheck]) -> str:
    """The checks as markdown: one table row per source, then each source's reasons and suggestions."""
    lines = ["| source | verdict | entry points working | article links | newest article |",
             "|---|---|---|---|---|"]
    for check in checks:
        row = check_row(check)
        lines.append(f"| {_cell(row.source_id)} | **{row.verdict}** | {row.working}/{row.entry_points} | "
                     f"{row.article_links} | {_cell(row.newest)} |")
    for check in checks:
        details = check_details(check)
        if details:
            lines += ["", f"### {check.source_id}: {check.verdict}"]
        for title, items in details:
            lines += ["", f"**{title}**", *(f"- {item}" for item in items)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Network: the check of one source, and of many with one Fetcher


async def _robots_rules(fetcher: Fetcher, origin: str, source: Source) -> tuple[Protego | str | None, list[str]]:
    """The rules the Fetcher itself applies to an origin (read once per run) and the sitemaps its Sitemap lines
    name that the source may read; None when the origin cannot be checked (a refused address)."""
    try:
        rules = await fetcher.robots_rules(origin + "/", source)
    except FetchError:
        return None, []
    return rules, usable_sitemaps(rules.sitemaps, source) if isinstance(rules, Protego) else []


async def _check_robots(fetcher: Fetcher, origin: str, source: Source, settings: Settings
                        ) -> tuple[RobotsCheck, Protego | None]:
    rules, sitemaps = await _robots_rules(fetcher, origin, source)
    check = RobotsCheck(origin, "read", sitemaps=sitemaps)
    if rules is None:
        check.status, check.detail = "not checked", "the origin itself is refused (see the entry points)"
        return check, None
    if isinstance(rules, str):
        # The Fetcher's word for 4xx is its ALLOW_ALL marker; any other text says why robots.txt is unreadable.
        if rules == ALLOW_ALL:
            check.status, check.detail = "absent", "no robots.txt (4xx): everything is allowed"
        else:
            check.status, check.detail = "unreadable", rules
        return check, None
    ua = settings.user_agent
    check.crawl_delay = rules.crawl_delay(ua)
    for kind, urls in (("feed", source.feeds), ("sitemap", source.sitemaps), ("listing", source.listings)):
        for url in urls:
            canonical = canonicalize(url)
            if origin_of(canonical) == origin and not rules.can_fetch(canonical, ua):
                check.disallowed.append(Disallowed(url, kind, disallow_rule(rules, canonical, ua)))
    return check, rules


class _Reader:
    """Reads a source's documents for one check: each URL at most once, robots.txt refusals named."""

    def __init__(self, fetcher: Fetcher, source: Source, settings: Settings, rules: dict[str, Protego | None]):
        self.fetcher, self.source, self.settings, self.rules = fetcher, source, settings, rules
        self.read: set[str] = set()

    def refusal(self, url: str) -> tuple[bool, str | None]:
        """Whether robots.txt refuses url (False when it was not read: then the Fetcher decides), and the rule."""
        rules = self.rules.get(origin_of(url))
        if rules is None or rules.can_fetch(url, self.settings.user_agent):
            return False, None
        return True, disallow_rule(rules, url, self.settings.user_agent)

    async def entry(self, kind: str, url: str, via: str, children: int = 0) -> EntryPoint:
        url = canonicalize(url)
        self.read.add(url)
        refused, rule = self.refusal(url)
        if refused:
            return EntryPoint(kind, url, via, error="disallowed by robots.txt", robots_rule=rule)
        if kind == "sitemap":
            declared = {canonicalize(u) for u in self.source.sitemaps}  # read as themselves, not as children
            entry = await read_sitemap_tree(self.fetcher, url, via, self.source, children, self.read | declared)
            self.read.update(c.url for c in entry.children)
            return entry
        return await read_entry_point(self.fetcher, kind, url, via, self.source)

    async def article(self, url: str, hint: dt.date | None) -> ArticleSummary:
        refused, rule = self.refusal(url)
        if refused:
            return ArticleSummary(url, hint, error="disallowed by robots.txt", robots_rule=rule)
        page, error, status = await fetch_page(self.fetcher, url, self.source)
        return summarise(url, hint, page, error, status, self.source)


async def check_source(source: Source, fetcher: Fetcher, settings: Settings) -> SourceCheck:
    """Check one source against its live site with an open Fetcher: robots.txt of its origins, each entry point,
    the newest few articles; a handful of requests, none that robots.txt refuses."""
    robots: list[RobotsCheck] = []
    rules: dict[str, Protego | None] = {}
    for origin in source_origins(source):
        check, rules[origin] = await _check_robots(fetcher, origin, source, settings)
        robots.append(check)
    reader = _Reader(fetcher, source, settings, rules)
    entries = [await reader.entry("feed", url, "declared") for url in source.feeds]
    budget = MAX_CHILD_SITEMAPS
    for url in source.sitemaps:
        entry = await reader.entry("sitemap", url, "declared", budget)
        budget -= len(entry.children)
        entries.append(entry)
    if source.autodiscover:  # as the crawler: after the declared sitemaps and their children, the first few
        named = usable_sitemaps((s for r in robots for s in r.sitemaps), source)
        children = {c for e in entries for c in e.child_urls}  # the crawler reads them as children, read or not
        for url in [u for u in named if u not in reader.read and u not in children][:MAX_ROBOTS_SITEMAPS]:
            entry = await reader.entry("sitemap", url, "robots.txt", budget)
            budget -= len(entry.children)
            entries.append(entry)
    listings = [await reader.entry("listing", url, "declared") for url in source.listings]
    entries += listings
    declared_feeds = [e for e in entries if e.kind == "feed"]
    if source.autodiscover or any(not e.ok for e in declared_feeds):
        announced = [f for e in listings for f in e.announced_feeds]
        for url in [u for u in dict.fromkeys(announced) if u not in reader.read][:MAX_ANNOUNCED_FEEDS]:
            entries.append(await reader.entry("feed", url, "announced"))
    for entry in entries:
        entry.count(source)
    used = [e for e in entries if e.ok and (e.via == "declared" or source.autodiscover)]
    skip = {e.url for e in listings} | {e.next_page for e in listings if e.next_page}
    links = newest_first(used, source, skip)
    articles = [await reader.article(link.url, link.published) for link in links[:ARTICLES_CHECKED]]
    judgement = judge(source, robots, entries, articles, settings.max_crawl_delay)
    return SourceCheck(source.id, judgement.verdict, judgement.reasons, judgement.suggestions, robots, entries,
                       articles, judgement.proposed_url_pattern, judgement.notes, len(links))


async def _guarded(source: Source, fetcher: Fetcher, settings: Settings) -> SourceCheck:
    try:
        return await check_source(source, fetcher, settings)
    except Exception as exc:  # noqa: BLE001 - one source's surprise must not cost the others' results
        return SourceCheck(source.id, "broken", [f"the check itself failed: {type(exc).__name__}: {exc}"])


async def check_sources(sources: Iterable[Source], settings: Settings,
                        transport: httpx.AsyncBaseTransport | None = None) -> list[SourceCheck]:
    """Check sources with one Fetcher (its politeness per host applies across them), in the given order."""
    async with Fetcher(settings, transport) as fetcher:
        return list(await asyncio.gather(*(_guarded(s, fetcher, settings) for s in sources)))
