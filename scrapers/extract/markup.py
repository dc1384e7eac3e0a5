"""Parsing a page with lxml once, and the small questions every extraction layer asks of its elements."""
from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from lxml import etree
from lxml import html as lxml_html

__all__ = ["Element", "parse_html", "squash", "text_of", "text_content", "class_parts", "is_hidden", "in_furniture",
           "drop_tree", "drop_tag", "FURNITURE_TAGS", "NOISE_PARTS", "HEADINGS"]

# The helpers below take any lxml element; parse_html gives lxml.html's.
Element = etree._Element

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
    "subscribe", "abo", "promo", "recommendations", "empfehlungen", "crumbs", "kicker", "tags",
    "tagcloud", "rating", "morenews", "newslist", "servicebox", "contactbox", "subnav", "contentinfo",
    "complementary", "skip", "skiplinks", "suche", "socials", "paging",
])
# Whole class tokens of elements that sighted readers do not see on screen (screen-reader labels, the header
# and footer a page prints); "print-only" is not among them: sites give it to the article they want printed.
_HIDDEN_TOKENS = frozenset([
    "visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text", "screenreader", "element-invisible",
    "hidden", "d-none", "invisible", "hide", "u-hidden", "is-hidden", "show-for-sr",
    "print-header", "print-footer", "print-logo",
])
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\ufeff"), None)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)
# Every element is an lxml.html HtmlElement (which trafilatura requires), assigned in C: lxml.html's own parser
# asks a Python method for each element lxml hands out, which cost a tenth of an extraction.
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(element=lxml_html.HtmlElement))


def parse_html(html: str) -> Element | None:
    """The page as an lxml tree, or None when there is no markup to speak of; lxml repairs broken markup."""
    # lxml refuses str input that declares an encoding, and control characters break its tokenizer.
    text = _CONTROL.sub("", _XML_DECLARATION.sub("", html, count=1))
    if "<" not in text:
        return None
    try:
        doc = etree.fromstring(text, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    return doc if doc is not None and doc.tag == "html" else None


def text_content(el: Element) -> str:
    """All text inside an element, as lxml.html's text_content() gives it."""
    return "".join(el.itertext())


def drop_tree(el: Element) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    parent.remove(el)


def drop_tag(el: Element) -> None:
    """Remove an element's tag, keeping its content in place."""
    parent = el.getparent()
    if parent is None:
        return
    previous = el.getprevious()
    if el.text:
        if previous is None:
            parent.text = (parent.text or "") + el.text
        else:
            previous.tail = (previous.tail or "") + el.text
    if el.tail:
        if len(el):
            el[-1].tail = (el[-1].tail or "") + el.tail
        elif previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    index = parent.index(el)
    parent[index:index + 1] = el[:]


def squash(text: str | None) -> str:
    """One line of text: runs of whitespace become one space, soft hyphens and zero-width marks go."""
    return " ".join((text or "").translate(_ZERO_WIDTH).split())


# Elements that break a line: their words never run into the words around them.
_BREAKING = frozenset(["p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "h1", "h2",
                       "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "table",
                       "tr", "td", "th", "caption", "address", "br", "hr", "figure", "figcaption", "form"])


def text_of(el: Element | None) -> str:
    """The visible words of an element (script and style bodies excluded), squashed; inline markup joins
    without a space ("<b>Rathaus</b>:" gives "Rathaus:"), blocks and line breaks with one."""
    if el is None:
        return ""
    return squash("".join(_visible_text(el, el)))


def _visible_text(node: Element, top: Element) -> Iterator[str]:
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


def class_parts(el: Element) -> frozenset[str]:
    """Lower-case parts of the class, id and role of an element, split at '-' and '_'."""
    attrib = el.attrib
    return _token_parts(" ".join((attrib.get("class", ""), attrib.get("id", ""), attrib.get("role", ""))).lower())


@lru_cache(maxsize=8192)
def _token_parts(tokens: str) -> frozenset[str]:
    return frozenset(part for token in tokens.split() for part in re.split(r"[-_]+", token) if part)


def is_hidden(el: Element) -> bool:
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


def in_furniture(el: Element) -> bool:
    """True when the element sits inside nav, header, footer, aside, menu, form or dialog."""
    return any(anc.tag in FURNITURE_TAGS for anc in el.iterancestors())
