"""Inferring a source's url_pattern from the links of its feeds, sitemaps and listings: pure, no network."""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from scrapers.urls import netloc_of

MAX_EXCLUSIONS = 8  # non-article segments a url_pattern spells out in its lookahead; beyond that, a link_selector
MIN_QUERY_ARTICLES = 2  # links of one page differing in one query parameter, to take that parameter for an article
# TYPO3's cHash is a checksum of the other parameters: it differs whenever they do, and identifies nothing.
HASH_KEYS = frozenset({"chash"})
# Query keys that number every page of a CMS (index.php?id=42), not articles: a pattern on them would match the
# navigation as well, so no pattern is proposed for them.
GENERIC_PAGE_KEYS = frozenset({"id", "pid", "page_id", "pageid", "p", "page", "seite", "s", "sid", "l", "lang",
                               "nav", "menu", "cat", "kat", "type", "action", "controller"})

FILE_SUFFIX = re.compile(
    r"\.(pdf|jpe?g|png|gif|svg|webp|ico|zip|gz|docx?|xlsx?|pptx?|odt|ods|odp|csv|mp3|mp4|webm|ics|vcf|xml|rss|"
    r"atom|json|css|js|txt)$", re.I)
_PAGE_SUFFIX = re.compile(r"\.(html?|php|aspx?|jsp)$", re.I)
_PAGINATION_SEGMENT = re.compile(r"^(?:seite|page|p|blatt)[-_]?[0-9]+$", re.I)
_PAGINATION_DIRS = frozenset({"seite", "page", "p", "blatt"})
_PAGINATION_KEYS = frozenset({"page", "seite", "p", "start", "offset", "currentpage"})
_YEARISH = "[0-9]+"
_REGEX_META = re.compile(r"([.^$*+?{}\[\]()|\\])")


def _literal(text: str) -> str:
    """text as a regex literal; unlike re.escape it leaves '-', '/' and ':' alone, so a pattern stays readable."""
    return _REGEX_META.sub(r"\\\1", text)


def segments(path: str) -> list[str]:
    """The non-empty segments of a URL path."""
    return [s for s in path.split("/") if s]


def netloc_or_none(url: str) -> str | None:
    """netloc_of(url), or None for a malformed URL (a port out of range, a broken IPv6 literal)."""
    try:
        return netloc_of(url)
    except ValueError:
        return None


def _query_params(query: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of a query as written in the URL (still percent-encoded, as a pattern must match)."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return pairs


def _key_name(key: str) -> str:
    """The innermost name of a query key, lower case: tx_news_pi1[@widget_0][currentPage] -> currentpage."""
    names = [n for n in re.split(r"[\[\]]", unquote(key)) if n]
    return names[-1].lower() if names else ""


def is_pagination(url: str) -> bool:
    """Whether url looks like another page of a listing (/seite-2, /page/3, ?page=2, TYPO3's ?…[currentPage]=2)."""
    parts = urlsplit(url)
    if any(_key_name(k) in _PAGINATION_KEYS and v.isdigit() for k, v in _query_params(parts.query)):
        return True
    found = segments(parts.path)
    if not found:
        return False
    if _PAGINATION_SEGMENT.match(found[-1]):
        return True
    return len(found) >= 2 and found[-1].isdigit() and found[-2].lower() in _PAGINATION_DIRS


def article_like(url: str) -> bool:
    """Whether url looks like one article by its path: below a section (two path segments or more), a slug or a
    number as its last segment, no query, not a file, not a listing's next page. (Articles named by a query
    parameter are recognised only among their siblings: see propose_url_pattern.)"""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.query or is_pagination(url):
        return False
    found = segments(parts.path)
    if len(found) < 2 or FILE_SUFFIX.search(found[-1]):
        return False
    stem = _PAGE_SUFFIX.sub("", unquote(found[-1]))
    if stem.isdigit():
        return len(stem) >= 3  # an article id; /news/2 is more likely a page number
    words = [w for w in re.split(r"[-_.+]+", stem) if w]
    # A slug joins two words or more; a single word (/kontakt, /archiv) is a section or a service page.
    return len(words) >= 2 and any(ch.isalpha() for ch in stem)


def with_query(url: str) -> bool:
    """Whether url is a page (not a file, not a listing's next page) whose query may name an article."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.query or is_pagination(url):
        return False
    found = segments(parts.path)
    return not (found and FILE_SUFFIX.search(found[-1])) and any(v for _, v in _query_params(parts.query))


@dataclass(frozen=True)
class PatternProposal:
    """A url_pattern derived from links, and why; pattern is None when the links show no article section."""

    pattern: str | None
    explanation: str
    shape: str | None = None  # how the article URLs look, for messages: "/de/aktuelles/..."
    matched: int = 0  # article-like links the pattern matches
    candidates: int = 0  # article-like links considered
    # Set when links carry query strings no pattern is proposed for: what to do by hand.
    query_note: str | None = None

    @property
    def share(self) -> float:
        return self.matched / self.candidates if self.candidates else 0.0


@dataclass(frozen=True)
class _Link:
    url: str
    scheme: str
    netloc: str
    dirs: tuple[str, ...]
    last: str
    slash: bool

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        # Number-only directories (years, months) vary between articles of one section.
        return self.scheme, self.netloc, tuple(_YEARISH if d.isdigit() else d for d in self.dirs)


def _split(url: str) -> _Link:
    parts = urlsplit(url)
    found = segments(parts.path)
    return _Link(url, parts.scheme, netloc_of(url), tuple(found[:-1]), found[-1], parts.path.endswith("/"))


def _group_regex(members: list[_Link], dirs: list[str]) -> str:
    """The regex of a section: its directories, then one slug (with the file suffix and slash all share)."""
    first = members[0]
    suffixes = {m.last[m.last.rfind("."):].lower() if _PAGE_SUFFIX.search(m.last) else "" for m in members}
    suffix = _literal(next(iter(suffixes))) if len(suffixes) == 1 else ""
    slashes = {m.slash for m in members}
    slash = ("/" if True in slashes else "") if len(slashes) == 1 else "/?"
    head = f"^{_literal(first.scheme + '://' + first.netloc)}/" + "".join(f"{d}/" for d in dirs)
    return f"{head}[^/?#]+{suffix}{slash}$"


def _segment_regex(segment: str) -> str:
    return "".join("[0-9]+" if part.isdigit() else _literal(part) for part in re.split(r"([0-9]+)", segment) if part)


def _with_exclusions(pattern: str, at: str, exclusions: list[str], end: str) -> str:
    """pattern with a negative lookahead for the excluded texts inserted before its first `at`."""
    if not exclusions:
        return pattern
    look = exclusions[0] if len(exclusions) == 1 else "(?:" + "|".join(exclusions) + ")"
    cut = pattern.rfind(at)
    return f"{pattern[:cut]}(?!{look}{end}){pattern[cut:]}"


def _path_proposal(considered: list[str], avoided: set[str], articles: list[_Link]) -> PatternProposal:
    """The dominant section of path-named articles (same host, same directories, number-only directories taken
    as numbers) and its sibling sections of similar size, then a slug; other links it would match excluded."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[_Link]] = {}
    for link in articles:
        groups.setdefault(link.key, []).append(link)
    ranked = sorted(groups.items(), key=lambda kv: -len(kv[1]))  # stable: the first seen wins a tie
    (scheme, netloc, dirs), top = ranked[0]
    members = list(top)
    dir_parts = [_literal(d) if d != _YEARISH else d for d in dirs]
    siblings = [dirs[-1]] if dirs else []
    if len(dirs) >= 2:  # sibling sections below one non-root section: /news/neuigkeiten/ and /news/presse/
        for (s, n, d), group in ranked[1:]:
            if (s, n) == (scheme, netloc) and len(d) == len(dirs) and d[:-1] == dirs[:-1] and d[-1] != _YEARISH \
                    and dirs[-1] != _YEARISH and len(group) >= max(2, len(top) / 4):
                siblings.append(d[-1])
                members += group
        if len(siblings) > 1:
            dir_parts[-1] = "(" + "|".join(_literal(s) for s in siblings) + ")"
    pattern = _group_regex(members, dir_parts)
    compiled = re.compile(pattern)
    member_urls = {m.url for m in members}
    exclusions: list[str] = []
    too_many = 0
    for url in [*considered, *avoided]:
        if url in member_urls or not compiled.search(url):
            continue
        found = segments(urlsplit(url).path)
        segment = found[-1] if found else ""
        regex = _segment_regex(segment)
        if not segment or regex in exclusions:
            continue
        if len(exclusions) >= MAX_EXCLUSIONS:
            too_many += 1
            continue
        exclusions.append(regex)
    pattern = _with_exclusions(pattern, "[^/?#]+", exclusions, "/?$")
    compiled = re.compile(pattern)
    matched = sum(1 for m in members if compiled.search(m.url))
    shape = "/" + "".join("<number>/" if d == _YEARISH else f"{d}/" for d in dirs) + "..."
    explanation = f"{matched} of {len(articles)} article-like links are under {shape}"
    if len(siblings) > 1:
        explanation += f" (sections {', '.join(siblings)})"
    if pattern.endswith(("html$", "php$", "htm$", "aspx$", "jsp$")):
        explanation += ", all with the same file suffix"
    if exclusions:
        shown = ", ".join(e.replace("[0-9]+", "N") for e in exclusions[:4]).replace("\\", "")
        explanation += f"; excluded non-article links there: {shown}" + (" ..." if len(exclusions) > 4 else "")
    if too_many:
        explanation += f"; {too_many} more non-article links match too: consider a link_selector"
    return PatternProposal(pattern, explanation, shape, matched, len(articles))


@dataclass(frozen=True)
class _QueryGroup:
    """Links of one page (scheme, host, path) with the same query keys that differ in exactly one of them."""

    scheme: str
    netloc: str
    path: str
    key: str  # as written in the URL: tx_news_pi1%5Bnews%5D
    values: tuple[str, ...]
    urls: tuple[str, ...]

    @property
    def shape(self) -> str:
        return f"{self.path}?{unquote(self.key)}=..."


def _query_groups(urls: list[str]) -> list[_QueryGroup]:
    """The groups of links of one page that differ in one query parameter, largest first."""
    groups: dict[tuple[str, str, str, frozenset[str]], list[tuple[str, dict[str, str]]]] = {}
    for url in urls:
        parts = urlsplit(url)
        params = dict(_query_params(parts.query))
        keys = frozenset(k for k in params if _key_name(k) not in HASH_KEYS)
        groups.setdefault((parts.scheme, netloc_of(url), parts.path or "/", keys), []).append((url, params))
    found = []
    for (scheme, netloc, path, keys), members in groups.items():
        varying = [k for k in sorted(keys) if len({p.get(k) for _, p in members}) > 1]
        if len(members) >= MIN_QUERY_ARTICLES and len(varying) == 1:
            key = varying[0]
            found.append(_QueryGroup(scheme, netloc, path, key, tuple(p[key] for _, p in members),
                                     tuple(u for u, _ in members)))
    return sorted(found, key=lambda g: -len(g.urls))


def _query_regex(group: _QueryGroup) -> str:
    value = "[0-9]+" if all(v.isdigit() for v in group.values) else "[^&#]+"
    head = f"^{_literal(group.scheme + '://' + group.netloc + group.path)}"
    return rf"{head}\?(?:[^#]*&)?{_literal(group.key)}={value}(?:&|$)"


def _query_proposal(group: _QueryGroup, considered: list[str], avoided: set[str], candidates: int
                    ) -> PatternProposal:
    """The pattern of articles named by one query parameter on one page; other links it matches are excluded
    by their value."""
    pattern = _query_regex(group)
    compiled = re.compile(pattern)
    members = set(group.urls)
    exclusions: list[str] = []
    for url in [*considered, *avoided]:
        if url in members or not compiled.search(url):
            continue
        value = dict(_query_params(urlsplit(url).query)).get(group.key, "")
        if value and _literal(value) not in exclusions and len(exclusions) < MAX_EXCLUSIONS:
            exclusions.append(_literal(value))
    value_at = f"{_literal(group.key)}="
    if exclusions:
        cut = pattern.find(value_at) + len(value_at)
        look = exclusions[0] if len(exclusions) == 1 else "(?:" + "|".join(exclusions) + ")"
        pattern = f"{pattern[:cut]}(?!{look}(?:&|$)){pattern[cut:]}"
    compiled = re.compile(pattern)
    matched = sum(1 for u in group.urls if compiled.search(u))
    explanation = (f"{matched} of {candidates} article-like links are one page, {group.path}, naming the article in "
                   f"the query parameter {unquote(group.key)}")
    if exclusions:
        explanation += f"; excluded values: {', '.join(e.replace(chr(92), '') for e in exclusions[:4])}"
    return PatternProposal(pattern, explanation, group.shape, matched, candidates)


def _query_refusal(groups: list[_QueryGroup], queried: list[str], avoided: set[str]) -> str | None:
    """Why the largest query group is not proposed (None when it may be): its key numbers every page of the
    site, or the page the links were found on carries it too; or the query links form no such group."""
    example = queried[0]
    advice = f"article links carry query strings (e.g. {example}); write url_pattern and link_selector by hand"
    if not groups:
        return f"{advice}: they do not differ in one query parameter"
    group = groups[0]
    name = unquote(group.key)
    if _key_name(group.key) in GENERIC_PAGE_KEYS:
        return f"{advice}: the parameter {name} numbers every page of a site, the navigation as well as the news"
    for url in avoided:
        parts = urlsplit(url)
        if (parts.scheme, netloc_or_none(url), parts.path or "/") == (group.scheme, group.netloc, group.path) \
                and group.key in dict(_query_params(parts.query)):
            return f"{advice}: the page they were found on ({url}) is named by {name} too"
    return None


def propose_url_pattern(
    links: Iterable[str], avoid: Iterable[str] = (), hosts: Collection[str] | None = None
) -> PatternProposal:
    """A url_pattern for the article links among links (canonical, as discovery gives them).

    Path-named articles: the dominant section (same host, same directories, number-only directories taken as
    numbers) and its sibling sections of similar size, then a slug. Query-named articles (TYPO3's
    ?tx_news_pi1[news]=42): one page whose links differ in one query parameter, when they outnumber the path-named
    ones and the parameter is no generic page number (index.php?id=42 names the navigation too: then the
    proposal says to write the pattern by hand).

    avoid names URLs the pattern must not match (the listing itself, its next pages): they are never taken for
    articles, and like every other non-article link that would match, are excluded by a lookahead.
    """
    seen = list(dict.fromkeys(links))
    avoided = set(avoid)
    considered = [u for u in seen if hosts is None or netloc_or_none(u) in hosts]
    considered = [u for u in considered if netloc_or_none(u) is not None]
    articles = [_split(u) for u in considered if u not in avoided and article_like(u)]
    queried = [u for u in considered if u not in avoided and with_query(u)]
    groups = _query_groups(queried)
    refusal = _query_refusal(groups, queried, avoided) if queried else None
    top_path = max((sum(1 for a in articles if a.key == link.key) for link in articles), default=0)
    if groups and refusal is None and len(groups[0].urls) > top_path:
        return _query_proposal(groups[0], considered, avoided, len(articles) + len(queried))
    # The query links are worth a word when they outnumber the articles the path names.
    note = refusal if refusal is not None and (len(groups[0].urls) if groups else len(queried)) > top_path else None
    if not articles:
        explanation = (f"none of the {len(considered)} links looks like an article (a slug or a number below a "
                       "section, no query, no file)")
        return PatternProposal(None, f"{explanation}; {note}" if note else explanation, query_note=note)
    proposal = _path_proposal(considered, avoided, articles)
    if note is None:
        return proposal
    return PatternProposal(proposal.pattern, f"{proposal.explanation}; but {note}", proposal.shape,
                           proposal.matched, proposal.candidates, note)
