"""Parsing a page with lxml once, and the small questions every extraction layer asks of its elements."""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

__all__ = ["parse_html", "squash", "text_of", "class_parts", "is_hidden", "in_furniture", "is_element",
           "FURNITURE_TAGS", "NOISE_PARTS", "HEADINGS"]

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Page furniture: the parts of a page around its content on nearly every site.
FURNITURE_TAGS = frozenset(["nav", "header", "footer", "aside", "menu", "form", "dialog"])
# Parts of class/id names (split at "-" and "_") that mark boxes which are not the article: menus, banners,
# sharing, newsletter and donation boxes, cookie consent. Only ever applied to small elements by callers.
NOISE_PARTS = frozenset([
    "breadcrumb", "breadcrumbs", "cookie", "cookies", "consent", "cmp", "gdpr", "related", "share", "sharing",
    "shariff", "social", "newsletter", "pagination", "pager", "skiplink", "toolbar", "sidebar", "menu",
    "navbar", "nav", "navigation", "footer", "banner", "advert", "advertisement", "ads", "comments", "comment",
    "login", "search", "modal", "popup", "overlay", "offcanvas", "donation", "donate", "spenden", "paywall",
    "subscribe", "abo", "promo", "recommendations", "empfehlungen", "crumbs", "print", "kicker", "tags",
    "tagcloud", "rating", "morenews", "newslist", "servicebox", "contactbox", "subnav", "contentinfo",
    "complementary", "skip", "skiplinks", "suche", "socials", "paging",
])
_HIDDEN_TOKENS = frozenset([
    "visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text", "screenreader", "element-invisible",
    "hidden", "d-none", "invisible", "hide", "u-hidden", "is-hidden", "show-for-sr",
])
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\ufeff"), None)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PARSER = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)


def parse_html(html: str) -> HtmlElement | None:
    """The page as an lxml tree, or None when there is no markup to speak of; lxml repairs broken markup."""
    # lxml refuses str input that declares an encoding, and control characters break its tokenizer.
    text = _CONTROL.sub("", _XML_DECLARATION.sub("", html, count=1))
    if "<" not in text:
        return None
    try:
        doc = lxml_html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
    return doc if doc is not None and doc.tag == "html" else None


def is_element(node: object) -> bool:
    """True for real elements (lxml also yields comments and processing instructions as nodes)."""
    return isinstance(node, HtmlElement) and isinstance(node.tag, str)


def squash(text: str | None) -> str:
    """One line of text: runs of whitespace become one space, soft hyphens and zero-width marks go."""
    return " ".join((text or "").translate(_ZERO_WIDTH).split())


# Elements that break a line: their words never run into the words around them.
_BREAKING = frozenset(["p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2",
                       "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "table",
                       "tr", "td", "th", "caption", "address", "br", "hr", "figure", "figcaption", "form"])


def text_of(el: HtmlElement | None) -> str:
    """The visible words of an element (script and style bodies excluded), squashed; inline markup joins
    without a space ("<b>THW</b>:" gives "THW:"), blocks and line breaks with one."""
    if el is None:
        return ""
    return squash("".join(_visible_text(el, el)))


def _visible_text(node: HtmlElement, top: HtmlElement) -> Iterator[str]:
    tag = node.tag
    skipped = not isinstance(tag, str) or tag in ("script", "style", "template", "noscript")
    if not skipped:
        breaking = tag in _BREAKING
        if breaking:
            yield " "
        if node.text:
            yield node.text
        for child in node:
            yield from _visible_text(child, top)
        if breaking:
            yield " "
    if node is not top and node.tail:
        yield node.tail


def class_parts(el: HtmlElement) -> frozenset[str]:
    """Lower-case parts of the class, id and role of an element, split at '-' and '_'."""
    attrib = el.attrib
    return _token_parts(" ".join((attrib.get("class", ""), attrib.get("id", ""), attrib.get("role", ""))).lower())


@lru_cache(maxsize=8192)
def _token_parts(tokens: str) -> frozenset[str]:
    return frozenset(part for token in tokens.split() for part in re.split(r"[-_]+", token) if part)


def is_hidden(el: HtmlElement) -> bool:
    """Hidden from sighted readers by attribute, inline style or a widespread utility class."""
    attrib = el.attrib
    if "hidden" in attrib or attrib.get("aria-hidden", "").lower() == "true":
        return True
    style = attrib.get("style")
    if style:
        style = style.replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
    classes = attrib.get("class")
    return bool(classes) and any(t in _HIDDEN_TOKENS for t in classes.lower().split())


def in_furniture(el: HtmlElement, stop: HtmlElement | None = None) -> bool:
    """True when the element sits inside nav, header, footer, aside, menu, form or dialog (below `stop`)."""
    for anc in el.iterancestors():
        if anc is stop:
            return False
        if anc.tag in FURNITURE_TAGS:
            return True
    return False
