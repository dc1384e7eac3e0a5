"""Parsing a page with lxml once, and the small questions every extraction layer asks of its elements."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TypeAlias

from lxml import etree
from lxml import html as lxml_html

__all__ = ["Element", "parse_html", "squash", "text_of", "text_content", "class_parts", "is_hidden", "in_furniture",
           "drop_tree", "drop_tag", "FURNITURE_TAGS", "NOISE_PARTS", "HEADINGS", "MAX_NESTING"]

# The helpers below take any lxml element; parse_html gives lxml.html's.
Element: TypeAlias = etree._Element

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
    """The page as an lxml tree, or None when there is no markup to speak of; lxml repairs broken markup.

    A page nested deeper than libxml2 reads is read again without the tags beyond MAX_NESTING levels, their
    content joined to the element at that depth, as browsers do (libxml2 would drop the rest of the page).
    """
    # lxml refuses str input that declares an encoding, and control characters break its tokenizer.
    text = _CONTROL.sub("", _XML_DECLARATION.sub("", html, count=1))
    if "<" not in text:
        return None
    doc = _parse(text)
    if doc is not None and _cut_at_nesting_limit(doc):
        doc = _parse(_bounded_nesting(text, MAX_NESTING))
    return doc if doc is not None and doc.tag == "html" else None


def _parse(text: str) -> Element | None:
    try:
        return etree.fromstring(text, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


# libxml2 stops reading a page where its elements nest 256 levels deep (and its "huge" mode at 2048): what
# follows is missing from the tree. Unclosed inline tags on every paragraph of a long page get there, and so
# do hostile pages. Browsers go on (Blink attaches deeper elements at the depth of 512).
_LIBXML2_DEPTH_LIMIT = 256
MAX_NESTING = 100  # well clear of libxml2's limit, and twice as deep as the markup of real pages (up to about 45)


def _cut_at_nesting_limit(doc: Element) -> bool:
    """libxml2 gave up at its nesting limit. It stops at the element it cannot nest, so the last element of
    the tree sits at the limit: a walk down the last children tells, without a look at the whole tree."""
    depth, node = 0, doc
    while (node := next(node.iterchildren(reversed=True), None)) is not None:
        depth += 1
    return depth >= _LIBXML2_DEPTH_LIMIT - 2 and any(
        e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in _PARSER.error_log)


# One tag or comment. The tokenizer below is a rough one (a "<" or ">" inside an attribute value ends its tag)
# but only ever decides which tags of an over-deep page to leave out. A tag ends before the next "<", so that
# a run of unclosed "<a<a<a" costs one look each, not a scan to the end of the page.
_MARKUP = re.compile(r"<!--.*?(?:-->|\Z)|<(/?)([A-Za-z][^\s/<>]*)[^<>]*>", re.DOTALL)
_VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "basefont", "bgsound", "frame", "isindex"])
# Elements whose content is text, not markup, up to their end tag.
_RAW_TEXT = frozenset(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"])
# The end tags parsers imply: an open <p> ends where a block starts, a list item where the next one starts.
_P_CLOSERS = frozenset(["address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
                        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
                        "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "table", "ul"])
_IMPLIED_END = {"p": _P_CLOSERS, "li": frozenset(["li"]), "dt": frozenset(["dt", "dd"]),
                "dd": frozenset(["dt", "dd"]), "td": frozenset(["td", "th", "tr"]),
                "th": frozenset(["td", "th", "tr"]), "tr": frozenset(["tr"]), "option": frozenset(["option"])}


@lru_cache(maxsize=16)
def _raw_text_end(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}\b[^>]*>", re.IGNORECASE)


def _bounded_nesting(html: str, limit: int) -> str:
    """The markup without the start tags that would open an element deeper than `limit` levels, and without
    their end tags: their content joins the element at the limit. One pass, linear in the length of the page."""
    out: list[str] = []
    copied = 0  # html[:copied] is in `out` already
    open_names: list[str] = []
    open_count: dict[str, int] = {}  # how many elements of a name are open: stray end tags cost no search
    left_out: dict[str, int] = {}  # start tags left out whose end tag is still to come

    def leave_out(start: int, end: int) -> None:
        nonlocal copied
        out.append(html[copied:start])
        copied = end

    pos = 0
    while (m := _MARKUP.search(html, pos)) is not None:
        pos = m.end()
        if m.group(2) is None:  # a comment
            continue
        name = m.group(2).lower()
        if m.group(1):  # an end tag
            if left_out.get(name):
                left_out[name] -= 1
                leave_out(m.start(), m.end())
            elif open_count.get(name):
                at = len(open_names) - 1 - open_names[::-1].index(name)
                for closed in open_names[at:]:
                    open_count[closed] -= 1
                del open_names[at:]
            continue
        if name in _VOID:
            continue
        if open_names and name in _IMPLIED_END.get(open_names[-1], ()):
            open_count[open_names.pop()] -= 1
        raw_end = _raw_text_end(name).search(html, pos) if name in _RAW_TEXT else None
        if len(open_names) < limit:
            if name in _RAW_TEXT:
                pos = raw_end.end() if raw_end else len(html)  # a closed raw-text element stays as it is
            else:
                open_names.append(name)
                open_count[name] = open_count.get(name, 0) + 1
        elif name in _RAW_TEXT:  # too deep: left out whole, or its script would become text
            pos = raw_end.end() if raw_end else len(html)
            leave_out(m.start(), pos)
        else:
            left_out[name] = left_out.get(name, 0) + 1
            leave_out(m.start(), m.end())
    out.append(html[copied:])
    return "".join(out)


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
# Elements whose content readers do not see as text.
_UNSEEN = frozenset(["script", "style", "template", "noscript"])


def text_of(el: Element | None) -> str:
    """The visible words of an element (script and style bodies excluded), squashed; inline markup joins
    without a space ("<b>Rathaus</b>:" gives "Rathaus:"), blocks and line breaks with one."""
    if el is None:
        return ""
    # An explicit stack, not recursion: the cost stays linear in the size of the element however deep
    # its markup nests (nested generators pass every piece of text up through each level).
    parts: list[str] = []
    todo: list[Element | str] = [el]  # elements still to open, and strings to emit once their content is out
    while todo:
        node = todo.pop()
        if isinstance(node, str):
            parts.append(node)
            continue
        tag = node.tag
        tail = node.tail if node is not el else None
        if not isinstance(tag, str) or tag in _UNSEEN:
            if tail:
                parts.append(tail)
            continue
        if tag in _BREAKING:
            parts.append(" ")
            if tail:
                todo.append(tail)
            todo.append(" ")
        elif tail:
            todo.append(tail)
        if node.text:
            parts.append(node.text)
        todo.extend(reversed(node))
    return squash("".join(parts))


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
