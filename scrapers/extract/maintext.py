"""The main text of a page: trafilatura's extraction, rendered as lines that keep detail pairs intact."""
from __future__ import annotations

from dataclasses import dataclass

from lxml.html import HtmlElement
from trafilatura import bare_extraction

from scrapers.extract.markup import squash

__all__ = ["BodyLine", "main_text_lines"]


@dataclass(frozen=True)
class BodyLine:
    """One line of the article body; `pair` marks a key/value pair by markup (<dl>, a two-cell row)."""

    text: str
    pair: bool = False


def _texts(el) -> list[str]:
    """The element's text split at <lb/>, nested lists and tables left to the caller."""
    parts: list[str] = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag not in ("list", "table"):
            parts.append(" ".join(child.itertext()))
        parts.append(child.tail or "")
    return [squash(p) for p in "".join(parts).split("\n") if squash(p)]


def _render(el, out: list[BodyLine]) -> None:
    tag = el.tag
    if tag == "list":
        items = [child for child in el if child.tag == "item"]
        if el.get("rend") == "dl":
            key: str | None = None
            for item in items:
                text = squash(" ".join(item.itertext()))
                if (item.get("rend") or "").startswith("dt"):
                    if key:
                        out.append(BodyLine(key))
                    key = text.rstrip(":").strip()
                elif key:
                    out.append(BodyLine(f"{key}: {text}", pair=True))
                    key = None
                elif text:
                    out.append(BodyLine(text))
            if key:
                out.append(BodyLine(key))
            return
        for item in items:
            out.extend(BodyLine(t) for t in _texts(item))
            for nested in item:
                if nested.tag in ("list", "table"):
                    _render(nested, out)
        return
    if tag == "table":
        for row in el.iter("row"):
            cells = [squash(" ".join(c.itertext())) for c in row if c.tag == "cell"]
            cells = [c for c in cells if c]
            if len(cells) == 2 and len(cells[0]) <= 40:
                out.append(BodyLine(f"{cells[0].rstrip(':').strip()}: {cells[1]}", pair=True))
            elif cells:
                out.append(BodyLine(" ".join(cells)))
        return
    if tag in ("graphic", "ref") and not squash(" ".join(el.itertext())):
        return
    if tag in ("div", "body", "section"):
        for child in el:
            _render(child, out)
        return
    out.extend(BodyLine(t) for t in _texts(el))
    for child in el:
        if child.tag in ("list", "table"):
            _render(child, out)


def main_text_lines(doc: HtmlElement, url: str) -> list[BodyLine]:
    """The lines of the page's main text; empty when trafilatura finds none. May change `doc`."""
    result = bare_extraction(doc, url=url, with_metadata=False)
    if result is None or result.body is None:
        return []
    out: list[BodyLine] = []
    _render(result.body, out)
    return out
