"""Extract one news article (title, dates, teaser, body, details) from the HTML of a page."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from scrapers.dates import find_dates, parse_date
from scrapers.records import ArticleRecord

__all__ = ["Selectors", "ExtractionError", "extract_article", "is_listing_page"]


@dataclass(frozen=True)
class Selectors:
    """Per-source CSS refinements from sources.yml; every field is optional."""

    title: str | None = None
    body: str | None = None
    date: str | None = None
    remove: tuple[str, ...] = ()


class ExtractionError(ValueError):
    """A page could not be processed; the message names the URL and the cause."""


# ----------------------------------------------------------------------------- vocabulary
# Tags that never carry article text.
_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "canvas",
              "form", "button", "select", "input", "textarea", "label", "figure", "figcaption", "picture",
              "img", "video", "audio", "map", "dialog")
# Page furniture: removed unless it wraps the article title (some sites put the h1 in a <header>).
_FURNITURE_TAGS = ("nav", "header", "footer", "aside", "menu")
_BLOCK_TAGS = frozenset(
    [
        "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2", "h3", "h4", "h5",
        "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr",
        "caption", "address", "details", "summary", "hr", "br", "fieldset", "center"
    ])
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

# Parts of class/id names (split at "-" and "_") that mark noise: menus, banners, sharing, related news.
_NOISE_PARTS = frozenset([
    "breadcrumb", "breadcrumbs", "crumbs", "cookie", "cookies", "consent", "cmp", "gdpr", "related", "share",
    "sharing", "shariff", "social", "socials", "newsletter", "pager", "pagination", "paging", "skip", "skiplink",
    "skiplinks", "print", "kicker", "toolbar", "sidebar", "menu", "navbar", "nav", "navigation", "footer",
    "banner", "advert", "advertisement", "ads", "comments", "comment", "login", "search", "suche", "tags",
    "tagcloud", "rating", "recommendations", "empfehlungen", "morenews", "newslist", "servicebox", "contactbox",
    "subnav", "offcanvas", "overlay", "modal", "popup", "contentinfo", "complementary"
])
# Whole class tokens that hide an element from sighted readers (labels such as "Teaser Bild").
_HIDDEN_TOKENS = frozenset([
    "visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text", "screenreader", "element-invisible",
    "hidden", "d-none", "invisible", "hide", "u-hidden", "is-hidden", "show-for-sr"
])
# Metadata blocks (dates, bylines) near the title: read for the date, then kept out of the body.
_META_PARTS = frozenset(
    [
        "meta", "byline", "date", "dateline", "datum", "published", "pubdate", "author", "autor", "timestamp",
        "modified", "updated", "lastmodified", "stand"
    ])
_LEAD_PARTS = frozenset([
    "lead", "teaser", "intro", "summary", "abstract", "standfirst", "subline", "einleitung", "excerpt"
])
_CARD_PARTS = frozenset(["teaser", "card", "tile", "kachel"])

# Headings that open a block of links to other articles; everything under them is not this article.
_RELATED_HEADING = re.compile(
    r"^(weitere (nachrichten|meldungen|artikel|news|beiträge|pressemitteilungen|themen)"
    r"|mehr (nachrichten|meldungen|zum thema|news|artikel|beiträge)"
    r"|das könnte sie (auch )?interessieren|könnte sie auch interessieren|auch interessant"
    r"|ähnliche (artikel|nachrichten|meldungen|beiträge)|verwandte (artikel|themen|nachrichten|beiträge)"
    r"|aktuelle (meldungen|nachrichten|news)|neueste (meldungen|nachrichten)|lesen sie auch|empfohlene artikel"
    r"|meistgelesen|top-?themen|related (news|articles|posts|content)|more news|you (may|might) also like)\b",
    re.IGNORECASE)
# Lines that are page furniture wherever they stand.
_BOILERPLATE_LINE = re.compile(
    r"^(zum inhalt springen|zur navigation springen|nach oben|seitenanfang|seite drucken|drucken|teilen"
    r"|artikel teilen|seite teilen|zurück|zurück zur übersicht|zur übersicht|alle (nachrichten|meldungen)"
    r"|mehr nachrichten|bild vergrößern|schließen|image|bild)$"
    r"|^(foto|fotos|bild|bildquelle|quelle|grafik|copyright)\s*:.{0,100}$|^©.{0,100}$",
    re.IGNORECASE)
# Labels of publication dates written next to the title.
_PUBLISHED_LABEL = re.compile(
    r"^(veröffentlicht|erstellt|publiziert|erschienen|datum|pressemitteilung|meldung)\b(\s+(am|vom))?\s*:?\s*",
    re.IGNORECASE)
_MODIFIED_LABEL = re.compile(
    r"\b(stand|aktualisiert|zuletzt (geändert|aktualisiert)|geändert|letzte änderung)\b\s*(am|vom)?\s*:?\s*",
    re.IGNORECASE)
# Keys of event-detail lines ("Datum: 24. September 2025") that belong in ArticleRecord.details.
_DETAIL_KEYS = re.compile(
    r"^(datum|termin|termine|zeit|uhrzeit|beginn|ende|einlass|ort|veranstaltungsort|adresse|anschrift"
    r"|art der veranstaltung|veranstaltungsart|format|veranstalter|veranstalterin|anmeldung|anmeldeschluss"
    r"|kosten|eintritt|teilnahme|teilnahmegebühr|zielgruppe|sprache|online|livestream)$",
    re.IGNORECASE)
_ARTICLE_TYPES = frozenset({"newsarticle", "article", "blogposting", "reportagenewsarticle", "report",
                            "analysisnewsarticle", "pressrelease", "scholarlyarticle", "techarticle"})
_LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage"})
_ISO_DATE = re.compile(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})")
_PAGINATION_URL = re.compile(r"([?&](page|seite|p|start|offset)=\d+|/(page|seite)[-/]?\d+/?$)", re.IGNORECASE)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\ufeff"), None)


def _squash(text: str | None) -> str:
    return " ".join((text or "").translate(_ZERO_WIDTH).split())


def _class_tokens(el: Tag) -> list[str]:
    attrs = getattr(el, "attrs", None) or {}
    raw = attrs.get("class") or []
    tokens = list(raw) if isinstance(raw, list) else str(raw).split()
    ident = attrs.get("id")
    if ident:
        tokens.append(str(ident))
    role = attrs.get("role")
    if role:
        tokens.append(str(role))
    return [t.lower() for t in tokens]


def _class_parts(el: Tag) -> frozenset[str]:
    return _token_parts(tuple(_class_tokens(el)))


@lru_cache(maxsize=4096)
def _token_parts(tokens: tuple[str, ...]) -> frozenset[str]:
    return frozenset(part for token in tokens for part in re.split(r"[-_]+", token) if part)


# Texts and paragraph lengths are cached on the element itself (each extraction has its own tree), so
# repeated questions about the same subtree cost nothing; _remove() clears the caches of the ancestors.
_TEXT_KEY = "_stadtradar_text"
_PLEN_KEY = "_stadtradar_plen"


def _text(el: Tag | None) -> str:
    if el is None:
        return ""
    cache = el.__dict__
    text = cache.get(_TEXT_KEY)
    if text is None:
        text = cache[_TEXT_KEY] = _squash(el.get_text(" "))
    return text


def _tags(el: Tag, names: Iterable[str] | None = None) -> list[Tag]:
    """Descendant tags in document order, like el.find_all(names) without bs4's matching machinery."""
    if names is None:
        return [d for d in el.descendants if isinstance(d, Tag)]
    return [d for d in el.descendants if isinstance(d, Tag) and d.name in names]


def _has_tag(el: Tag, names: Iterable[str]) -> bool:
    return any(isinstance(d, Tag) and d.name in names for d in el.descendants)


def _alive(el: Tag) -> bool:
    """False once the element has been removed from the tree (el.parent, without bs4's attribute lookup)."""
    return el.__dict__.get("parent") is not None


def _remove(el: Tag) -> None:
    node = el.__dict__.get("parent")
    while node is not None:
        cache = node.__dict__
        cache.pop(_TEXT_KEY, None)
        cache.pop(_PLEN_KEY, None)
        node = cache.get("parent")
    el.decompose()


def _link_density(el: Tag) -> float:
    total = len(_text(el))
    if not total:
        return 0.0
    linked = sum(len(_text(a)) for a in _tags(el, ("a",)))
    return linked / total


def _is_hidden(el: Tag) -> bool:
    attrs = el.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(attrs.get("style", "")).replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    return any(t in _HIDDEN_TOKENS for t in _class_tokens(el))


# ----------------------------------------------------------------------------- metadata
@dataclass
class _Meta:
    """What the page says about itself in <head> and JSON-LD."""

    headline: str | None = None
    published: dt.date | None = None
    modified: dt.date | None = None
    author: str | None = None
    language: str | None = None
    description: str | None = None
    og_title: str | None = None
    html_title: str | None = None
    site_name: str | None = None
    is_article: bool = False
    is_listing: bool = False
    canonical: str | None = None
    types: set[str] = field(default_factory=set)


def _iso_date(value: object) -> dt.date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    m = _ISO_DATE.search(value)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return parse_date(value)


def _json_ld_objects(soup: BeautifulSoup) -> Iterator[dict]:
    for script in soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.I)}):
        try:
            data = json.loads(script.string or script.get_text() or "", strict=False)
        except (ValueError, TypeError):
            continue  # broken JSON-LD is common; the visible page still has the facts
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
                if isinstance(item.get("mainEntity"), (dict, list)):
                    stack.append(item["mainEntity"])


def _ld_types(obj: dict) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).lower() for v in values if v}


def _ld_name(value: object) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_ld_name(v) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        return _squash(str(value.get("name") or "")) or None
    if isinstance(value, str):
        return _squash(value) or None
    return None


_META_ATTRS = ("property", "name", "itemprop", "http-equiv")


class _MetaTags:
    """Every <meta> of a page, read once: the first tag per (attribute, name), compared case-insensitively."""

    def __init__(self, soup: BeautifulSoup):
        self.first: dict[tuple[str, str], tuple[int, object]] = {}
        # Values that plain lower() cannot compare the way re.IGNORECASE does (non-ASCII, lists).
        self.odd: list[tuple[int, str, object, object]] = []
        for pos, tag in enumerate(soup.find_all("meta")):
            attrs = tag.attrs
            content = attrs.get("content")
            for attr in _META_ATTRS:
                value = attrs.get(attr)
                if value is None:
                    continue
                if isinstance(value, str) and value.isascii():
                    key = value.lower()
                    if key.endswith("\n"):  # `$` in the former ^name$ pattern matched before a final newline
                        key = key[:-1]
                    self.first.setdefault((attr, key), (pos, content))
                else:
                    self.odd.append((pos, attr, value, content))

    def content(self, *names: str) -> str | None:
        for name in names:
            for attr in _META_ATTRS:
                hit = self.first.get((attr, name.lower()))
                if self.odd:
                    pattern = re.compile(rf"^{re.escape(name)}$", re.I)
                    for pos, odd_attr, value, content in self.odd:
                        if hit is not None and pos > hit[0]:
                            break
                        if odd_attr == attr and _attr_matches(value, pattern):
                            hit = (pos, content)
                            break
                if hit is not None and hit[1]:
                    return str(hit[1]).strip()
        return None


def _attr_matches(value: object, pattern: re.Pattern[str]) -> bool:
    """bs4's rule for matching an attribute value (maybe a list of tokens) against a pattern."""
    values = value if isinstance(value, list) else [value]
    if any(pattern.search(str(v)) for v in values):
        return True
    return len(values) != 1 and pattern.search(" ".join(map(str, values))) is not None


def _read_meta(soup: BeautifulSoup) -> _Meta:
    meta = _Meta()
    tags = _MetaTags(soup)
    for obj in _json_ld_objects(soup):
        types = _ld_types(obj)
        meta.types |= types
        if types & _LISTING_TYPES:
            meta.is_listing = True
        if not types & (_ARTICLE_TYPES | {"webpage"}):
            continue
        is_article = bool(types & _ARTICLE_TYPES)
        meta.is_article |= is_article
        # An Article object outranks the WebPage wrapper around it.
        if obj.get("headline") and (is_article or not meta.headline):
            meta.headline = _squash(str(obj["headline"]))
        if obj.get("datePublished") and (is_article or not meta.published):
            meta.published = _iso_date(obj.get("datePublished")) or meta.published
        if obj.get("dateModified") and (is_article or not meta.modified):
            meta.modified = _iso_date(obj.get("dateModified")) or meta.modified
        meta.author = meta.author or _ld_name(obj.get("author"))
        lang = obj.get("inLanguage")
        if isinstance(lang, str):
            meta.language = meta.language or lang
        if isinstance(obj.get("description"), str):
            meta.description = meta.description or _squash(obj["description"])
    meta.published = meta.published or _iso_date(tags.content(
        "article:published_time", "og:published_time", "datePublished", "dc.date.issued", "dcterms.issued",
        "dc.date", "dcterms.date", "date", "publish-date", "pubdate"))
    meta.modified = meta.modified or _iso_date(tags.content(
        "article:modified_time", "og:updated_time", "dateModified", "dcterms.modified", "last-modified"))
    meta.author = meta.author or tags.content("author", "article:author", "dc.creator")
    meta.og_title = _squash(tags.content("og:title", "twitter:title")) or None
    meta.site_name = _squash(tags.content("og:site_name", "application-name")) or None
    meta.description = meta.description or _squash(tags.content("og:description", "description")) or None
    if soup.title is not None:
        meta.html_title = _squash(soup.title.get_text()) or None
    link = soup.find("link", rel=lambda v: v is not None and "canonical" in (v if isinstance(v, list) else [v]))
    if isinstance(link, Tag) and link.get("href"):
        meta.canonical = str(link["href"]).strip()
    og_type = (tags.content("og:type") or "").lower()
    meta.is_article |= og_type == "article"
    html_tag = soup.find("html")
    lang = html_tag.get("lang") if isinstance(html_tag, Tag) else None
    meta.language = (meta.language or (str(lang) if lang else None)
                     or tags.content("content-language", "language"))
    if meta.language:
        meta.language = meta.language.strip().split("-")[0].split("_")[0].lower()[:3] or None
    if meta.author and re.fullmatch(r"https?://\S+", meta.author):
        meta.author = None
    return meta


# ----------------------------------------------------------------------------- pruning
def _ancestors_of(el: Tag | None) -> set[int]:
    ids: set[int] = set()
    while el is not None:
        ids.add(id(el))
        el = el.parent
    return ids


def _p_text_len(el: Tag) -> int:
    cache = el.__dict__
    n = cache.get(_PLEN_KEY)
    if n is None:
        n = cache[_PLEN_KEY] = sum(len(_text(p)) for p in el.descendants
                                   if isinstance(p, Tag) and p.name in ("p", "li"))
    return n


class _Pruner:
    """Removes page furniture while protecting the title's ancestors and the bulk of the text."""

    def __init__(self, soup: BeautifulSoup, title_el: Tag | None, total: int | None = None):
        self.soup = soup
        self.protected = _ancestors_of(title_el)
        self.total = (_p_text_len(soup) if total is None else total) or 1

    def removable(self, el: Tag) -> bool:
        if id(el) in self.protected or el.name in ("html", "body", "[document]"):
            return False
        # A class such as "has-sidebar" on a wrapper must not take the article with it.
        return not (self.total > 300 and _p_text_len(el) > 0.5 * self.total)

    def drop(self, el: Tag) -> None:
        if _alive(el) and self.removable(el):
            _remove(el)

    def structural(self, remove_selectors: Iterable[str] = ()) -> None:
        for node in [d for d in self.soup.descendants if isinstance(d, Comment)]:
            node.extract()
        for sel in remove_selectors:
            for el in _safe_select(self.soup, sel):
                if _alive(el) and id(el) not in self.protected:
                    _remove(el)
        for el in _tags(self.soup, _DROP_TAGS):
            if _alive(el) and id(el) not in self.protected:
                _remove(el)
        for el in _tags(self.soup):
            if not _alive(el):
                continue  # already removed with an ancestor
            if _is_hidden(el) and id(el) not in self.protected:
                _remove(el)
                continue
            parts = _class_parts(el)
            if el.name in _FURNITURE_TAGS or parts & _NOISE_PARTS:
                self.drop(el)
            elif (parts & _CARD_PARTS and any(a.name == "a" and a.get("href") is not None for a in _tags(el))
                  and _link_density(el) >= 0.3):
                self.drop(el)  # a teaser card pointing at another article
        self.related_sections()
        for el in _tags(self.soup, ("ul", "ol")):
            if _alive(el) and len(_tags(el, ("li",))) >= 3 and _link_density(el) >= 0.7:
                self.drop(el)  # a menu or a list of links to other pages

    def related_sections(self) -> None:
        for heading in _tags(self.soup, _HEADINGS + ("strong", "b", "p", "span")):
            if not _alive(heading):
                continue
            text = _text(heading)
            m = _RELATED_HEADING.match(text)
            if not m or len(text) > 80:
                continue
            if heading.name not in _HEADINGS and (len(text) > 50 or text[m.end():].strip(" :.…»>")):
                continue  # a sentence in the text that merely starts like a heading
            node = heading
            # Climb while the heading opens its wrapper: the wrapper is the related block.
            while (node.parent is not None and _first_content_child(node.parent) is node
                   and self.removable(node.parent) and node.parent.name not in ("main", "article", "body")):
                node = node.parent
            if node is not heading or heading.name not in _HEADINGS:
                self.drop(node)
                continue
            level = int(heading.name[1])
            doomed = [heading]
            for sib in heading.find_next_siblings():
                if sib.name in _HEADINGS and int(sib.name[1]) <= level:
                    break
                doomed.append(sib)
            for el in doomed:
                if _alive(el) and id(el) not in self.protected:
                    _remove(el)

    def metadata_ids(self, root: Tag) -> frozenset[int]:
        """Elements holding dates and bylines: read for the date, kept out of the body."""
        ids: set[int] = set()
        for el in _tags(root):
            if id(el) in self.protected:
                continue
            if el.name == "time" or (_class_parts(el) & _META_PARTS and len(_text(el)) < 200):
                ids.add(id(el))
        return frozenset(ids)


def _first_content_child(el: Tag) -> Tag | None:
    for child in el.children:
        if isinstance(child, NavigableString):
            if child.strip():
                return None
            continue
        if isinstance(child, Tag):
            if not _text(child):
                continue  # empty anchors and spacers do not count
            return child
    return None


def _safe_select(soup: BeautifulSoup | Tag, selector: str) -> list[Tag]:
    try:
        return list(soup.select(selector))
    except Exception as exc:  # soupsieve raises its own error types for bad selectors
        raise ExtractionError(f"invalid CSS selector {selector!r}: {exc}") from exc


# ----------------------------------------------------------------------------- title
def _strip_site_suffix(title: str, site_name: str | None) -> str:
    for sep in (" | ", " :: ", " – ", " — ", " - "):
        if sep not in title:
            continue
        head, _, tail = title.rpartition(sep)
        tail_l = tail.lower()
        looks_like_site = (sep in (" | ", " :: ")
                           or (site_name and (tail_l in site_name.lower() or site_name.lower() in tail_l))
                           or re.search(r"\b(stadt|landeshauptstadt|gemeinde|landkreis|kreis|portal|www\.|\.de\b"
                                        r"|dlr|bund|ministerium|projektträger)", tail_l))
        if head and looks_like_site:
            return head.strip()
    return title


def _find_title(soup: BeautifulSoup, meta: _Meta, selectors: Selectors | None) -> tuple[str | None, Tag | None]:
    if selectors and selectors.title:
        found = _safe_select(soup, selectors.title)
        if found and _text(found[0]):
            return _text(found[0]), found[0]
    h1s = [h for h in _tags(soup, ("h1",)) if _text(h) and not _is_hidden(h)]
    hints = [t for t in (meta.headline, meta.og_title, meta.html_title) if t]

    def matches_hint(h: Tag) -> bool:
        text = _text(h).lower()
        return any(hint.lower() == text or hint.lower().startswith(text) for hint in hints)

    for h in h1s:
        if matches_hint(h):
            return _text(h), h
    in_main = [h for h in h1s if h.find_parent(("main", "article")) or h.find_parent(attrs={"role": "main"})]
    outside_furniture = [h for h in h1s if not h.find_parent(("nav", "footer", "aside"))]
    for group in (in_main, outside_furniture):
        if group:
            best = max(group, key=lambda h: len(_text(h)))
            return _text(best), best
    for hint in (meta.headline, meta.og_title):
        if hint:
            return _strip_site_suffix(hint, meta.site_name), None
    if meta.html_title:
        return _strip_site_suffix(meta.html_title, meta.site_name), None
    return None, None


# ----------------------------------------------------------------------------- text
@dataclass
class _Line:
    text: str
    tag: str  # name of the innermost block element the line came from
    el: Tag | None
    meta: bool = False  # every word came from a metadata element (a <time>, a byline)


def _linearise(root: Tag, meta_ids: frozenset[int] = frozenset()) -> list[_Line]:
    """Text of `root` as lines, one per block element, in document order."""
    lines: list[_Line] = []
    buf: list[tuple[str, bool]] = []
    block_stack: list[Tag] = [root]
    depth = [0]  # how many metadata elements enclose the walk

    def flush() -> None:
        text = _squash("".join(piece for piece, _ in buf))
        is_meta = all(flag for piece, flag in buf if piece.strip())
        buf.clear()
        if text:
            el = block_stack[-1]
            lines.append(_Line(text, el.name or "", el, is_meta))

    def walk(el: Tag) -> None:
        for child in el.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                buf.append((str(child), depth[0] > 0))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name == "br":
                flush()
                continue
            if name == "dl":
                flush()
                for key, value in _dl_pairs(child):
                    lines.append(_Line(f"{key}: {value}" if value else key, "dd", child, depth[0] > 0))
                continue
            pair = _row_pair(child) if name == "tr" else None
            if pair is not None:
                # A two-cell row of a facts table ("Datum | 21. Oktober 2025") is a key/value pair, like <dl>.
                flush()
                lines.append(_Line(f"{pair[0]}: {pair[1]}", "dd", child, depth[0] > 0))
                continue
            is_meta = id(child) in meta_ids
            depth[0] += is_meta
            if name in ("td", "th"):
                buf.append((" ", True))
                walk(child)
                buf.append((" ", True))
            elif name in _BLOCK_TAGS:
                flush()
                block_stack.append(child)
                walk(child)
                flush()
                block_stack.pop()
            else:
                walk(child)
            depth[0] -= is_meta

    walk(root)
    flush()
    return lines


def _row_pair(tr: Tag) -> tuple[str, str] | None:
    cells = tr.find_all(("th", "td"), recursive=False)
    if len(cells) != 2:
        return None
    key, value = _text(cells[0]).rstrip(":").strip(), _text(cells[1])
    return (key, value) if key and value and len(key) <= 40 else None


def _dl_pairs(dl: Tag) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    key: str | None = None
    values: list[str] = []
    for el in dl.find_all(("dt", "dd")):
        if el.find_parent("dl") is not dl:
            continue
        if el.name == "dt":
            if key is not None:
                pairs.append((key, "; ".join(values)))
            key, values = _text(el).rstrip(":").strip(), []
        else:
            values.append(_text(el))
    if key is not None:
        pairs.append((key, "; ".join(values)))
    return [(k, v) for k, v in pairs if k]


def _find_root(soup: BeautifulSoup, title_el: Tag | None, selectors: Selectors | None) -> Tag:
    if selectors and selectors.body:
        found = _safe_select(soup, selectors.body)
        if found:
            return found[0]
    body = soup.body or soup
    total = _p_text_len(body)
    if title_el is not None and title_el.parent is not None:
        # The smallest ancestor of the title that holds most of the page's text is the article.
        node: Tag | None = title_el.parent
        while node is not None and node is not body:
            if total and _p_text_len(node) >= 0.6 * total:
                return node
            node = node.parent
        return body
    for candidate in (soup.find("article"), soup.find("main"), soup.find(attrs={"role": "main"})):
        if isinstance(candidate, Tag) and total and _p_text_len(candidate) >= 0.5 * total:
            return candidate
    # No semantic container: take the element whose direct paragraphs hold the most text.
    best, best_len = body, 0
    for el in body.find_all(("div", "section", "td")):
        direct = sum(len(_text(p)) for p in el.find_all("p", recursive=False))
        if direct > best_len:
            best, best_len = el, direct
    return best if best_len >= 0.3 * max(total, 1) else body


# ----------------------------------------------------------------------------- dates
def _leading_date(line: str, reference: dt.date | None) -> tuple[dt.date, int] | None:
    """A date opening a paragraph ("14.08.2025 — Text", "Dresden, 3. März 2024: Text") and its length."""
    spans = find_dates(line[:80], reference)
    if not spans:
        return None
    span = spans[0]
    before = line[:span.start]
    if before.strip() and not re.fullmatch(r"[A-ZÄÖÜ][\wäöüßÄÖÜ .()/-]{0,40},\s*", before):
        return None
    after = re.match(r"\s*(?:[—–\-:|/]|\(\w+\)\s*[—–\-:])\s*", line[span.end:])
    if not after or span.end_date is not None:
        return None
    return span.date, span.end + after.end()


def _date_line(line: str, reference: dt.date | None) -> tuple[dt.date, bool] | None:
    """A short line that is only a date, maybe labelled: (date, is_modified_label)."""
    if len(line) > 120:
        return None
    spans = [s for s in find_dates(line, reference) if s.has_year and s.end_date is None]
    if not spans:
        return None
    span = spans[0]
    rest = (line[:span.start] + " " + line[span.end:]).strip(" ,|·-–—:")
    modified = bool(_MODIFIED_LABEL.search(line[:span.start]))
    labelled = bool(_PUBLISHED_LABEL.match(line)) or modified
    if labelled or len(rest) <= 12:
        return span.date, modified
    return None


def _time_element_date(root: Tag, first_long: Tag | None) -> dt.date | None:
    """The first <time> before the article text (later ones are usually event dates)."""
    for t in root.find_all("time"):
        if first_long is not None and _precedes(first_long, t):
            break
        value = t.get("datetime") or t.get("content") or _text(t)
        got = _iso_date(str(value)) if value else None
        if got:
            return got
    return None


def _precedes(a: Tag, b: Tag) -> bool:
    """True when `a` starts before `b` in document order."""
    return any(el is b for el in a.next_elements)


# ----------------------------------------------------------------------------- listing pages
def _cards(root: Tag) -> list[Tag]:
    """Teaser items: blocks that link to another page with a headline-sized link text."""
    cards: list[Tag] = []
    seen: set[int] = set()
    for el in _tags(root, ("article", "li", "div")):
        if any(id(p) in seen for p in el.parents):
            continue
        # A card links to one other page (maybe twice: image and headline); a container of cards
        # links to several and is not itself a card.
        inner = _tags(el)
        targets = {str(a["href"]) for a in inner
                   if a.name == "a" and a.get("href") is not None and len(_text(a)) >= 15}
        if len(targets) != 1:
            continue
        text = _text(el)
        has_date = bool(find_dates(text, dt.date(2000, 1, 1))) or any(t.name == "time" for t in inner)
        has_heading = any(t.name in _HEADINGS for t in inner)
        if (el.name == "article" or has_date or has_heading) and len(text) < 1200 and not any(
                t.name == "h1" for t in inner):
                cards.append(el)
                seen.add(id(el))
    return cards


def _listing_signals(soup: BeautifulSoup, url: str, meta: _Meta) -> bool:
    body = soup.body or soup
    cards = _cards(body)
    card_ids = {id(c) for c in cards}
    card_text = sum(len(_text(c)) for c in cards)
    own_text = 0
    for p in _tags(body, ("p", "li")):
        inside_card = id(p) in card_ids or any(id(a) in card_ids for a in p.parents)
        if not inside_card and not _has_tag(p, ("p", "li")):
            own_text += len(_text(p))
    paginated = bool(soup.find("a", rel=re.compile("next|prev", re.I))
                     or soup.find(attrs={"class": re.compile(r"pag(er|ination|ing)", re.I)})
                     or _PAGINATION_URL.search(url))
    if meta.is_listing and len(cards) >= 2:
        return True
    if len(cards) >= 3 and own_text < max(300, 0.5 * card_text):
        return True
    # The last page of a listing may hold only one or two teasers; its pager still gives it away.
    return paginated and len(cards) >= (1 if own_text == 0 else 2) and own_text < card_text


def is_listing_page(html: str, url: str) -> bool:
    """True for index pages (news listings, search results, tag pages) rather than one article.

    Signals: several teaser cards (a link with a headline plus a date or heading), little text of
    the page's own outside them, pagination, a JSON-LD CollectionPage/ItemList.
    """
    if not html or not html.strip():
        return False
    soup = BeautifulSoup(html, "lxml")
    meta = _read_meta(soup)
    title, title_el = _find_title(soup, meta, None)
    return _listing_verdict(soup, url, meta, title_el, _p_text_len(soup))


_LISTING_DROP = ("script", "style", "noscript", "nav", "footer", "aside", "header")


def _listing_verdict(soup: BeautifulSoup, url: str, meta: _Meta, title_el: Tag | None, total: int) -> bool:
    """The listing verdict; prunes `soup`. `total` is the paragraph text length of the unpruned page."""
    pruner = _Pruner(soup, title_el, total)
    for el in _tags(soup, _LISTING_DROP):
        if _alive(el) and id(el) not in pruner.protected:
            _remove(el)
    pruner.related_sections()
    for el in soup.find_all(attrs={"class": re.compile(r"related", re.I)}):
        if _alive(el) and id(el) not in pruner.protected:
            _remove(el)
    return _listing_signals(soup, url, meta)


def _listing_copy(soup: BeautifulSoup, title_el: Tag | None) -> tuple[BeautifulSoup, Tag | None]:
    """A copy of the page for _listing_verdict, and the title's counterpart in it; `soup` is left unchanged.

    The copy leaves out what _listing_verdict removes first (scripts, menus, header, footer): copying the
    rest is several times cheaper than parsing the page again.
    """
    protected = _ancestors_of(title_el)
    detached: list[tuple[Tag, Tag, int]] = []
    gone: set[int] = set()
    for el in _tags(soup, _LISTING_DROP):
        if id(el) in protected or any(id(a) in gone for a in el.parents):
            continue
        parent = el.parent
        index = parent.index(el)
        el.extract(index)
        detached.append((el, parent, index))
        gone.add(id(el))
    path: list[int] = []
    node = title_el
    while node is not None and node.parent is not None:
        path.append(node.parent.index(node))
        node = node.parent
    copy = BeautifulSoup("", "lxml")
    try:
        for child in soup.contents:
            copy.append(child.__deepcopy__({}))
    finally:
        for el, parent, index in reversed(detached):
            parent.insert(index, el)
    if title_el is None:
        return copy, None
    found: Tag = copy
    for index in reversed(path):
        found = found.contents[index]
    return copy, found


# ----------------------------------------------------------------------------- details, teaser
def _details(lines: list[_Line]) -> dict[str, str]:
    details: dict[str, str] = {}
    for line in lines:
        m = re.match(r"^([A-Za-zÄÖÜäöüß][\wÄÖÜäöüß .\-/]{1,40}?)\s*:\s*(.+)$", line.text)
        if not m:
            continue
        key, value = m.group(1).strip(), m.group(2).strip()
        # dl pairs are key/value by markup; free lines only with a known event-detail label.
        if line.tag == "dd" or _DETAIL_KEYS.match(key):
            details.setdefault(key, value)
    return details


def _find_teaser(root: Tag, title_el: Tag | None, meta: _Meta) -> str | None:
    for el in root.find_all(("p", "div", "section", "strong")):
        if not _class_parts(el) & _LEAD_PARTS:
            continue
        if title_el is not None and (el is title_el or title_el in el.descendants):
            continue
        if _link_density(el) > 0.5:
            continue
        text = _text(el)
        if len(text) >= 20:
            return text
    return meta.description or None


# ----------------------------------------------------------------------------- main entry
def extract_article(html: str, url: str, *, selectors: Selectors | None = None,
                    feed_date: dt.date | None = None) -> ArticleRecord | None:
    """Read the article on a page, or None when the page is not one article.

    Args:
        html: the page markup (any quality; broken markup is repaired by lxml).
        url: the canonical URL, stored on the record and used to spot pagination.
        selectors: optional per-source CSS selectors that override the generic heuristics.
        feed_date: the date the feed or sitemap gave for this URL, used when the page shows none.

    Raises:
        ExtractionError: for an invalid CSS selector, or when the markup cannot be processed.
    """
    if not html or not html.strip():
        return None
    try:
        return _extract(html, url, selectors, feed_date)
    except ExtractionError:
        raise
    except (RecursionError, ValueError, TypeError, AttributeError) as exc:
        raise ExtractionError(f"cannot extract an article from {url}: {type(exc).__name__}: {exc}") from exc


def _extract(html: str, url: str, selectors: Selectors | None, feed_date: dt.date | None) -> ArticleRecord | None:
    soup = BeautifulSoup(html, "lxml")
    if soup.find("html") is None and soup.body is None:
        return None
    meta = _read_meta(soup)
    # A body selector says where the article is, so the page is read even when it looks like a listing.
    if not (selectors and selectors.body):
        total = _p_text_len(soup)
        copy, copy_title = _listing_copy(soup, _find_title(soup, meta, None)[1])
        if _listing_verdict(copy, url, meta, copy_title, total):
            return None
    title, title_el = _find_title(soup, meta, selectors)
    if not title:
        return None

    # Date, rule 1: machine-readable publication dates the page states about itself.
    published = meta.published
    selector_date = None
    if selectors and selectors.date:
        found = _safe_select(soup, selectors.date)
        if found:
            value = found[0].get("datetime") or found[0].get("content") or _text(found[0])
            selector_date = _iso_date(str(value)) if value else None
    pruner = _Pruner(soup, title_el)
    pruner.structural(selectors.remove if selectors else ())
    root = _find_root(soup, title_el, selectors)
    teaser = _find_teaser(root, title_el, meta)

    lines = _linearise(root, pruner.metadata_ids(root))
    title_idx = next((i for i, ln in enumerate(lines) if title_el is not None
                      and (ln.el is title_el or (ln.el is not None and title_el in ln.el.descendants)
                           or ln.text == title)), -1)
    # The first real paragraph bounds the search for a visible date; a lead paragraph does not count,
    # since dated first paragraphs ("14.08.2025 — ...") follow the lead on some portals.
    long_idx = [i for i, ln in enumerate(lines) if i > title_idx and len(ln.text) >= 120
                and not (teaser and ln.text == teaser)]
    first_long_idx = long_idx[0] if long_idx else len(lines)
    first_long_el = lines[first_long_idx].el if first_long_idx < len(lines) else None
    reference = published or feed_date

    # Rule 1 (cont.): a <time datetime> before the article text is as explicit as JSON-LD.
    published = selector_date or published or _time_element_date(root, first_long_el)
    # Rule 2: a visible date by the title: a date line ("Veröffentlicht am 12.03.2024",
    # "Do 23. November 2023") or a date opening the first paragraph ("14.08.2025 — ...").
    # Only lines up to the first real paragraph are read, so event dates in the text and
    # dates of related teasers (already pruned) are never taken for the publication date.
    skip: set[int] = set()
    strip_prefix: tuple[int, int] | None = None
    modified = meta.modified
    lo = max(0, title_idx - 3) if title_idx >= 0 else 0
    for i in range(lo, min(len(lines), first_long_idx + 1)):
        if i == title_idx or lines[i].tag == "dd":
            continue  # event-detail pairs ("Datum: ...") date the event, not the article
        found_line = _date_line(lines[i].text, reference)
        if found_line and i != first_long_idx:
            day, is_mod = found_line
            if is_mod:
                modified = modified or day
            elif published is None:
                published = day
            skip.add(i)
            continue
        # A lead that opens with a date usually announces an event; the dated paragraph follows it.
        lead = None if teaser and lines[i].text == teaser else _leading_date(lines[i].text, reference)
        if lead:
            day, cut = lead
            published = published or day
            # Some CMS print the date prefix twice ("12.12.2025 — 12.12.2025 — Text").
            again = _leading_date(lines[i].text[cut:], reference)
            while again and again[0] == day:
                cut += again[1]
                again = _leading_date(lines[i].text[cut:], reference)
            strip_prefix = (i, cut)
            break
    # Rule 3: the feed's date; rule 4: htmldate's reading of the markup (URL, meta, copyright lines).
    # htmldate reads the pruned page, so that dates of removed teasers cannot win.
    published = published or feed_date or _htmldate(str(soup), url)

    body_lines: list[str] = []
    kept: list[_Line] = []
    for i, ln in enumerate(lines):
        if i == title_idx or i in skip:
            continue
        if ln.meta:
            dated = _date_line(ln.text, reference)
            if dated and dated[1] and modified is None:
                modified = dated[0]
            continue
        text = ln.text
        if strip_prefix and strip_prefix[0] == i:
            text = text[strip_prefix[1]:].strip()
        if not text or _BOILERPLATE_LINE.match(text) or (len(text) <= 2 and not text.isalnum()):
            continue
        dated = _date_line(text, reference)
        if dated and ln.tag != "dd" and (i < first_long_idx or dated[1]):
            # a date line by the title, or a "Stand: ..." line anywhere: metadata, not text
            if dated[1] and modified is None:
                modified = dated[0]
            continue
        body_lines.append(text)
        kept.append(_Line(text, ln.tag, ln.el))
    body_text = "\n".join(body_lines)
    if not body_text.strip():
        return None
    details = _details(kept)
    # The page's rel=canonical names the article's identity; the caller decides whether to trust it.
    canonical = urljoin(url, meta.canonical) if meta.canonical else url
    return ArticleRecord(
        url=canonical if urlsplit(canonical).scheme in ("http", "https") else url,
        title=title,
        body_text=body_text,
        published_date=published,
        teaser=teaser,
        modified_date=modified,
        author=meta.author,
        language=meta.language,
        details=details,
    )


def _htmldate(html: str, url: str) -> dt.date | None:
    try:
        from htmldate import find_date
    except ImportError:  # optional fallback
        return None
    try:
        found = find_date(html, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises assorted errors on odd markup; the date just stays unknown
        return None
    return _iso_date(found) if found else None
