"""Listing-page detection: index pages (news lists, search results, tag pages) are not one article."""
from __future__ import annotations

import datetime as dt
import re

from scrapers.dates import find_dates, may_hold_date
from scrapers.extract.markup import FURNITURE_TAGS, HEADINGS, Element, class_parts, text_content, text_of
from scrapers.extract.metadata import PageMeta

__all__ = ["looks_like_listing"]

_CARD_TAGS = frozenset(["article", "li", "div"])
_SKIP = FURNITURE_TAGS | {"script", "style", "noscript", "template", "svg"}
_PAGINATION_URL = re.compile(r"([?&](page|seite|p|start|offset)=\d+|/(page|seite)[-/]?\d+/?$)", re.IGNORECASE)
_PAGER_CLASS = re.compile(r"pag(er|ination|ing)", re.IGNORECASE)
# Blocks that hold teasers of other pages or readers' comments on any kind of page, listings or articles.
_NOT_LISTED = frozenset(["related", "comment", "comments", "kommentare"])
_MAX_CARD_TEXT = 1200
_ARTICLE_BLOCK = 800  # characters of paragraphs under one parent: more than any teaser list has
_EPOCH = dt.date(2000, 1, 1)


def _single_target(el: Element) -> int:
    """The length of the headline-sized link text when the element links to exactly one other page
    (maybe twice: image and headline), else 0."""
    target = None
    linked = 0
    for a in el.iter("a"):
        href = a.get("href")
        if href is None:
            continue
        size = len(text_content(a).strip())
        if size < 15:
            continue
        if target is None:
            target = href
        elif href != target:
            return 0
        linked = max(linked, size)
    return linked


def _is_card(el: Element) -> bool:
    linked = _single_target(el)
    if not linked or any(True for _ in el.iter("h1")):
        return False
    marked = el.tag == "article" or any(True for _ in el.iter(*HEADINGS)) or any(True for _ in el.iter("time"))
    if not marked and not may_hold_date("".join(el.itertext())):
        return False  # no date can be read without a digit: most menu items end here, before text_of
    text = text_of(el)
    if len(text) >= _MAX_CARD_TEXT:
        return False
    if len(text) > 400 and linked < 0.15 * len(text):
        return False  # running text with one link in it ("back to the overview") is no teaser
    return marked or bool(find_dates(text, _EPOCH))


def _walk(el: Element, cards: list[Element], own: list[int], in_link: bool = False) -> None:
    """Collect teaser cards (outermost first), the length of unlinked text outside them (own[0]) and the
    longest run of paragraphs under one parent outside them (own[1])."""
    block = 0
    if el.text and not in_link:
        own[0] += len(el.text.strip())
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and tag not in _SKIP and not class_parts(child) & _NOT_LISTED:
            if tag in _CARD_TAGS and _is_card(child):
                cards.append(child)
            else:
                if tag == "p":
                    block += len(text_of(child))
                _walk(child, cards, own, in_link or tag == "a")
        if child.tail and not in_link:
            own[0] += len(child.tail.strip())
    own[1] = max(own[1], block)


def looks_like_listing(doc: Element, url: str, meta: PageMeta) -> bool:
    """True for index pages rather than one article.

    Signals: several teaser cards (a link with a headline plus a date or heading), little text of the
    page's own outside them, pagination, JSON-LD CollectionPage/ItemList. A page that declares itself
    one article (JSON-LD Article types, og:type article) is never a listing: sites show teasers of other
    articles below their articles, and losing an article costs more than storing a listing.
    """
    if (meta.is_article or meta.og_article) and not meta.is_listing:
        return False
    body = doc.find("body")
    if body is None:
        return False
    cards: list[Element] = []
    own = [0, 0]
    _walk(body, cards, own)
    own_text, own_block = own
    # Running text of its own (paragraphs side by side, outside every teaser) makes a page an article.
    if not cards or own_block >= _ARTICLE_BLOCK:
        return False
    card_text = sum(len(text_of(c)) for c in cards)
    if meta.is_listing and len(cards) >= 2:
        return True
    if len(cards) >= 3 and own_text < max(300, 0.5 * card_text):
        return True
    paginated = bool(_PAGINATION_URL.search(url)) or any(
        "next" in (a.get("rel") or "").lower() or "prev" in (a.get("rel") or "").lower() for a in body.iter("a")
    ) or any(_PAGER_CLASS.search(el.get("class") or "") for el in body.iter("nav", "ul", "div"))
    # The last page of a listing may hold only one or two teasers; its pager still gives it away.
    return paginated and len(cards) >= (1 if own_text == 0 else 2) and own_text < card_text
