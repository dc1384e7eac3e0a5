"""Boxes removed before the main-text extraction: hidden elements, page furniture named by class, blocks
of links to other articles; never an element that holds most of the page's text or the headline."""
from __future__ import annotations

import re

from lxml.html import HtmlElement

from scrapers.extract.markup import HEADINGS, NOISE_PARTS, class_parts, is_hidden, text_of

__all__ = ["prune", "RELATED_HEADING"]

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
_OTHER_ARTICLES = frozenset(["related", "recommendations", "empfehlungen", "morenews", "newslist"])


def _paragraph_text(el: HtmlElement) -> int:
    return sum(len(text_of(p)) for p in el.iter("p"))


def _link_share(el: HtmlElement, text_len: int) -> float:
    return sum(len(text_of(a)) for a in el.iter("a")) / text_len if text_len else 0.0


def unwrap_noscript(body: HtmlElement) -> None:
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
                n.drop_tag()


def prune(doc: HtmlElement, title_el: HtmlElement | None, only_other_articles: bool = False) -> None:
    """Remove boxes that are not the article from `doc`, in place.

    With `only_other_articles`, only what shows other articles goes (teaser cards, related blocks, <aside>):
    the page stays as served otherwise, for readers that weigh the whole page (htmldate).
    """
    body = doc.find("body")
    if body is None:
        return
    if not only_other_articles:
        unwrap_noscript(body)
    noise = _OTHER_ARTICLES if only_other_articles else NOISE_PARTS
    protected = set() if title_el is None else {id(a) for a in (title_el, *title_el.iterancestors())}
    keep_alive = [] if title_el is None else [title_el, *title_el.iterancestors()]  # ids stay valid
    total = _paragraph_text(body) or 1
    doomed: list[HtmlElement] = []
    for el in body.iter():
        tag = el.tag
        if not isinstance(tag, str) or tag in _KEEP_TAGS or id(el) in protected:
            continue
        if only_other_articles and tag == "aside":
            doomed.append(el)
            continue
        if not only_other_articles and is_hidden(el):
            doomed.append(el)
            continue
        parts = class_parts(el)
        if parts & noise or (parts & _CARD_PARTS and el.find(".//a[@href]") is not None):
            # A class such as "has-sidebar" on a wrapper must not take the article with it.
            size = _paragraph_text(el)
            if size > 0.4 * total and total > 300:
                continue
            if parts & _CARD_PARTS and not parts & noise:
                text_len = len(text_of(el))
                if _link_share(el, text_len) < 0.3:
                    continue
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            el.drop_tree()
    _drop_related_sections(body, protected)
    del keep_alive


def _drop_related_sections(body: HtmlElement, protected: set[int]) -> None:
    for heading in list(body.iter(*HEADINGS, "strong", "b", "p", "span")):
        if not any(a is body for a in heading.iterancestors()):
            continue  # removed with an earlier block
        text = text_of(heading)
        m = RELATED_HEADING.match(text)
        if not m or len(text) > 80:
            continue
        if heading.tag not in HEADINGS and (len(text) > 50 or text[m.end():].strip(" :.…»>")):
            continue  # a sentence in the text that merely starts like a heading
        node = heading
        # Climb while the heading opens its wrapper: the wrapper is the related block.
        while True:
            parent = node.getparent()
            if parent is None or parent.tag in _KEEP_TAGS or id(parent) in protected:
                break
            first = next((c for c in parent if isinstance(c.tag, str) and text_of(c)), None)
            if first is not node or (parent.text or "").strip():
                break
            node = parent
        if node is not heading or heading.tag not in HEADINGS:
            if id(node) not in protected:
                node.drop_tree()
            continue
        level = int(heading.tag[1])
        doomed = [heading]
        for sib in heading.itersiblings():
            if isinstance(sib.tag, str) and sib.tag in HEADINGS and int(sib.tag[1]) <= level:
                break
            doomed.append(sib)
        for el in doomed:
            if id(el) not in protected and el.getparent() is not None:
                el.drop_tree()
