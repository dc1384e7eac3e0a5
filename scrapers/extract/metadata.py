"""What a page says about itself: <meta> tags, JSON-LD, <title>, canonical link and dates in script blocks."""
from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

from scrapers.dates import parse_date
from scrapers.extract.markup import Element, squash, text_content

__all__ = ["PageMeta", "read_meta", "machine_date", "script_date"]

ARTICLE_TYPES = frozenset({"newsarticle", "article", "blogposting", "reportagenewsarticle", "report",
                           "analysisnewsarticle", "pressrelease", "scholarlyarticle", "techarticle",
                           "opinionnewsarticle", "backgroundnewsarticle", "liveblogposting", "socialmediaposting",
                           "discussionforumposting", "recipe", "howto"})
LISTING_TYPES = frozenset({"collectionpage", "itemlist", "searchresultspage"})
_META_ATTRS = ("property", "name", "itemprop", "http-equiv")
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})(?!\d)")
_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:\D|$)")
# Publication dates that sites write into data layers and app state instead of JSON-LD.
_SCRIPT_DATE = re.compile(
    r"""["']?(?:datePublished|publishDate|publishedDate|publicationDate|pubDate|published_at|publishedAt"""
    r"""|date_published|first_published_at|firstPublished|publish_date|publication_date)["']?\s*[:=]\s*"""
    r"""["']([^"'<>]{6,40})["']""")
# Publication dates before the web or far in the future are typing errors or placeholders, not dates.
_FIRST_YEAR, _LAST_YEAR = 1990, 2100


@dataclass
class PageMeta:
    """The page's statements about itself; None where it says nothing."""

    headline: str | None = None
    published: dt.date | None = None
    modified: dt.date | None = None
    author: str | None = None
    language: str | None = None
    description: str | None = None
    og_title: str | None = None
    html_title: str | None = None
    site_name: str | None = None
    is_article: bool = False  # JSON-LD names an article type
    is_listing: bool = False  # JSON-LD names a collection, item list or search result page
    og_article: bool = False
    canonical: str | None = None
    types: set[str] = field(default_factory=set)


def _plausible(day: dt.date | None) -> dt.date | None:
    return day if day is not None and _FIRST_YEAR <= day.year <= _LAST_YEAR else None


def machine_date(value: object) -> dt.date | None:
    """A date written for machines: ISO 8601, RFC 2822 ("Tue, 12 Mar 2024 10:00:00 +0100"), English month
    names ("March 12, 2024"), compact 20240312, or German ("12. März 2024"); None when it is none of them."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 80:
        return None
    m = _ISO_DATE.search(value) or _COMPACT_DATE.match(value)
    if m:
        try:
            return _plausible(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return None
    german = parse_date(value)
    if german is not None:
        return _plausible(german)
    try:
        return _plausible(parsedate_to_datetime(value).date())
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    if not re.search(r"[A-Za-z]{3}", value) or not re.search(r"\d", value):
        return None  # dateutil reads bare numbers as dates of its own choosing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown zone names ("CET") only cost the time of day
        try:
            return _plausible(dateutil_parser.parse(value, ignoretz=True, fuzzy=False).date())
        except (ValueError, OverflowError, TypeError):
            return None


def _json_ld_objects(doc: Element) -> Iterator[dict]:
    for script in doc.iter("script"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            # Broken JSON-LD is common: a trailing comma or an HTML comment around it.
            cleaned = re.sub(r",\s*([}\]])", r"\1", raw.replace("<!--", "").replace("-->", ""))
            try:
                data = json.loads(cleaned, strict=False)
            except ValueError:
                continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                for key in ("@graph", "mainEntity", "mainEntityOfPage"):
                    if isinstance(item.get(key), (dict, list)):
                        stack.append(item[key])


def _ld_types(obj: dict) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def _ld_name(value: object) -> str | None:
    if isinstance(value, list):
        names = [n for n in (_ld_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        return squash(str(value.get("name") or "")) or None
    if isinstance(value, str):
        return squash(value) or None
    return None


class _MetaTags:
    """Every <meta> of a page read once: the first non-empty content per (attribute, lower-case name)."""

    def __init__(self, doc: Element):
        self.first: dict[tuple[str, str], str] = {}
        for tag in doc.iter("meta"):
            content = (tag.get("content") or "").strip()
            if not content:
                continue
            for attr in _META_ATTRS:
                value = tag.get(attr)
                if value:
                    self.first.setdefault((attr, value.strip().lower()), content)

    def content(self, *names: str) -> str | None:
        for name in names:
            for attr in _META_ATTRS:
                hit = self.first.get((attr, name))
                if hit:
                    return hit
        return None


def read_meta(doc: Element) -> PageMeta:
    """Everything the page states about itself; JSON-LD article objects outrank the WebPage around them."""
    meta = PageMeta()
    for obj in _json_ld_objects(doc):
        types = _ld_types(obj)
        meta.types |= types
        if types & LISTING_TYPES:
            meta.is_listing = True
        is_article = bool(types & ARTICLE_TYPES)
        if not is_article and "webpage" not in types:
            continue
        meta.is_article |= is_article
        if obj.get("headline") and isinstance(obj["headline"], str) and (is_article or not meta.headline):
            meta.headline = squash(obj["headline"]) or meta.headline
        if obj.get("datePublished") and (is_article or not meta.published):
            meta.published = machine_date(obj.get("datePublished")) or meta.published
        if obj.get("dateModified") and (is_article or not meta.modified):
            meta.modified = machine_date(obj.get("dateModified")) or meta.modified
        meta.author = meta.author or _ld_name(obj.get("author"))
        if isinstance(obj.get("inLanguage"), str):
            meta.language = meta.language or obj["inLanguage"]
        if isinstance(obj.get("description"), str):
            meta.description = meta.description or squash(obj["description"]) or None
    tags = _MetaTags(doc)
    meta.published = meta.published or machine_date(tags.content(
        "article:published_time", "og:published_time", "datepublished", "dc.date.issued", "dcterms.issued",
        "dc.date", "dcterms.date", "date", "publish-date", "pubdate", "publishdate", "parsely-pub-date",
        "sailthru.date"))
    meta.modified = meta.modified or machine_date(tags.content(
        "article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified"))
    meta.author = meta.author or tags.content("author", "article:author", "dc.creator", "parsely-author")
    if meta.author and re.fullmatch(r"https?://\S+", meta.author):
        meta.author = None
    meta.og_title = squash(tags.content("og:title", "twitter:title")) or None
    meta.site_name = squash(tags.content("og:site_name", "application-name")) or None
    meta.description = meta.description or squash(tags.content("og:description", "description")) or None
    meta.og_article = (tags.content("og:type") or "").lower() == "article"
    head = doc.find("head")
    title_el = head.find("title") if head is not None else None
    if title_el is None:
        title_el = next(doc.iter("title"), None)
    if title_el is not None:
        meta.html_title = squash(text_content(title_el)) or None
    for link in doc.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            meta.canonical = link.get("href").strip()
            break
    language = meta.language or doc.get("lang") or tags.content("content-language", "language", "og:locale")
    if language:
        meta.language = language.strip().split("-")[0].split("_")[0].lower()[:3] or None
    return meta


def script_date(doc: Element) -> dt.date | None:
    """A publication date that only a script block states (a data layer, an app's state)."""
    for script in doc.iter("script"):
        text = script.text
        if not text or "ld+json" in (script.get("type") or "").lower():
            continue
        for m in _SCRIPT_DATE.finditer(text):
            day = machine_date(m.group(1))
            if day is not None:
                return day
    return None
