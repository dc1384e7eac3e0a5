"""What is not the article on a page: hidden elements, boxes named like page furniture, blocks showing other
articles; never the headline or an element that holds much of the page's text."""
from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from scrapers.extract.markup import (
    HEADINGS,
    Element,
    class_parts,
    drop_tag,
    drop_tree,
    is_hidden,
    text_content,
    text_of,
)

__all__ = ["prune_page", "drop_other_articles", "RELATED_HEADING"]

# Headings that open a block of links to other articles; everything under them is not this article.
RELATED_HEADING = re.compile(
    r"^(weitere (nachrichten|meldungen|artikel|news|beiträge|pressemitteilungen|themen)"
    r"|mehr (nachrichten|meldungen|zum thema|news|artikel|beiträge)"
    r"|das könnte sie (auch )?interessieren|könnte sie auch interessieren|auch interessant"
    r"|ähnliche (artikel|nachrichten|meldungen|beiträge)|verwandte (artikel|themen|nachrichten|beiträge)"
    r"|aktuelle (meldungen|nachrichten|news)|neueste (meldungen|nachrichten)|lesen sie auch|empfohlene artikel"
    r"|meistgelesen|top-?themen|related (news|articles|posts|content)|more news|you (may|might) also like)\b",
    re.IGNORECASE)
_CARD_PARTS = frozenset(["teaser", "card", "tile", "kachel"])
_KEEP_TAGS = frozenset(["html", "body", "main", "article"])
# Class-name parts of boxes whose lines are never article text, wherever trafilatura finds them. Wider lists
# (menus, sidebars, ads) cost recall on real pages: trafilatura handles those itself.
_FURNITURE_LINE_PARTS = frozenset(["kicker", "breadcrumb", "breadcrumbs", "cookie", "cookies", "consent",
                                   "gdpr", "skiplink", "skiplinks", "share", "sharing", "shariff", "toolbar",
                                   "pagination", "pager"])
# First cuts (one regular expression over an attribute value, cached per value) before the exact tests: most
# elements carry no such name. Scanning the attribute nodes beats both a loop over the elements and libxml2's
# XPath with contains() on real pages.
_FURNITURE_HINT = re.compile(r"kicker|crumb|ookie|onsent|gdpr|skip|shar|toolbar|pag")
_HIDDEN_HINT = re.compile(r"hid|sr-only|invisible|screen|visually|d-none|show-for-sr|none|print")
_HEADINGS_BELOW_H1 = ("h2", "h3", "h4", "h5", "h6")
_SCANNED_ATTRIBUTES = etree.XPath(".//@class | .//@id | .//@style | .//@hidden | .//@aria-hidden")
_OTHER_ARTICLES = frozenset(["related", "recommendations", "empfehlungen", "morenews", "newslist"])


def _link_share(el: Element, text_len: int) -> float:
    """The share of `text_len` characters of the element's text that are link text."""
    return sum(len(text_content(a).strip()) for a in el.iter("a")) / text_len if text_len else 0.0


def unwrap_noscript(body: Element) -> None:
    """Some blog platforms serve the post itself inside <noscript> (a script renders it for browsers): when
    the <noscript> blocks hold more text than the rest of the page, their content is the page."""
    blocks = list(body.iter("noscript"))
    if not blocks:
        return
    inside = sum(len(text_of(n)) for n in blocks)
    if inside < 200:
        return
    outside = len(text_of(body))  # text_of leaves <noscript> out
    if inside > outside:
        for n in blocks:
            if n.getparent() is not None:
                drop_tag(n)


def prune_page(doc: Element, title_el: Element | None) -> list[str]:
    """Prepare the page for the main-text extraction, in place; returns the texts of furniture boxes.

    Removes what readers never see (hidden elements) and teaser sections under a "Weitere Meldungen"-like
    heading, and opens <noscript> posts. Boxes named like furniture that is never article text (kickers,
    breadcrumbs, cookie notes, share bars) are not removed: pruning by class name before
    trafilatura changes what its own heuristics choose (measured: F1 0.952 against 0.960 on real pages).
    Their texts are returned instead, so that lines of the main text standing in one can be dropped.
    """
    body = doc.find("body")
    if body is None:
        return []
    unwrap_noscript(body)
    protected = _protected(title_el)
    hidden: list[Element] = []
    furniture: list[str] = []
    # One pass over the attributes that matter; a cheap regular expression first, the exact test after.
    for value in _SCANNED_ATTRIBUTES(body):
        hints = _hints(value.attrname, str(value))
        if not hints:
            continue
        maybe_hidden, maybe_furniture = hints & 1, hints & 2
        el = value.getparent()
        if el in protected or el.tag in _KEEP_TAGS:
            continue
        if maybe_hidden and is_hidden(el):
            hidden.append(el)
        elif maybe_furniture and class_parts(el) & _FURNITURE_LINE_PARTS:
            text = text_of(el)
            if 0 < len(text) <= 300:
                furniture.append(text)
    # A hidden element holding half of the page's text is the article in a tab or accordion that a script
    # opens, not something readers never see.
    total = len(text_content(body)) if hidden else 0
    for el in hidden:
        if el.getparent() is not None and len(text_content(el)) <= 0.5 * total:
            drop_tree(el)
    _drop_related_sections(body, protected)
    return furniture


def drop_other_articles(doc: Element) -> None:
    """Remove what shows other articles (teaser cards, related blocks, <aside>), in place."""
    body = doc.find("body")
    if body is None:
        return
    doomed: list[Element] = []
    for el in body.iter():
        tag = el.tag
        if not isinstance(tag, str) or tag in _KEEP_TAGS:
            continue
        if tag == "aside":
            doomed.append(el)
            continue
        parts = class_parts(el)
        if parts & _OTHER_ARTICLES:
            doomed.append(el)
        elif parts & _CARD_PARTS and el.find(".//a[@href]") is not None:
            text_len = len(text_content(el).strip())
            if _link_share(el, text_len) >= 0.3:
                doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            drop_tree(el)
    _drop_related_sections(body, set())


@lru_cache(maxsize=16384)
def _hints(name: str, value: str) -> int:
    """1 when an attribute may hide its element, 2 when it may name a furniture box (cached: pages repeat
    their class names many times)."""
    if name in ("hidden", "aria-hidden"):
        return 1
    value = value.lower()
    hidden = name in ("class", "style") and _HIDDEN_HINT.search(value) is not None
    furniture = name in ("class", "id") and _FURNITURE_HINT.search(value) is not None
    return hidden | (furniture << 1)


def _protected(title_el: Element | None) -> set[Element]:
    """The title and its ancestors (lxml hands out the same object for an element while one is held)."""
    return set() if title_el is None else {title_el, *title_el.iterancestors()}


# Over the C901 bound: the ways a teaser section ends, checked in order.
def _drop_related_sections(body: Element, protected: set[Element]) -> None:  # noqa: C901
    """Remove the teasers under a heading such as "Weitere Meldungen": the wrapper the heading opens, or its
    following siblings up to the next heading of its level or up to where prose resumes."""
    dropped: set[Element] = set()
    for heading in list(body.iter(_HEADINGS_BELOW_H1)):
        if len(text_content(heading)) > 160:
            continue
        text = text_of(heading)
        m = RELATED_HEADING.match(text)
        if not m or len(text) > 80:
            continue
        if any(a in dropped for a in heading.iterancestors()):
            continue  # removed with an earlier block
        node = heading
        # Climb while the heading opens its wrapper: the wrapper is the related block.
        while True:
            parent = node.getparent()
            if parent is None or parent.tag in _KEEP_TAGS or parent in protected:
                break
            first = next((c for c in parent if isinstance(c.tag, str) and text_of(c)), None)
            if first is not node or (parent.text or "").strip():
                break
            node = parent
        if node is not heading:
            if node not in protected:
                dropped.add(node)
                drop_tree(node)
            continue
        level = int(heading.tag[1])
        doomed = [heading]
        for sib in heading.itersiblings():
            if not isinstance(sib.tag, str):
                continue
            if sib.tag in HEADINGS and int(sib.tag[1]) <= level:
                break
            text_len = len(text_content(sib).strip())
            if text_len >= 80 and _link_share(sib, text_len) < 0.2:
                break  # prose again: the teasers under the heading have ended
            doomed.append(sib)
        for el in doomed:
            if el not in protected and el.getparent() is not None:
                dropped.add(el)
                drop_tree(el)
