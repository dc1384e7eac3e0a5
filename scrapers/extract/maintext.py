"""The main text of a page: trafilatura's extraction with generic repairs, rendered as lines that keep
detail pairs intact.

trafilatura (public API: `bare_extraction` with `prune_xpath`) does the bulk. Around it, each repair
measured on real pages (benchmarks/README.md has the table):

* before: containers that are not the article are handed to trafilatura to prune (related-article
  boxes, author boxes, tables of contents, social-media embeds), never a wrapper holding much of the page;
* after: blocks opened by a boilerplate heading ("Weitere Artikel", "Kommentare", "Newsletter") go with
  their teaser links; whole lines of page furniture go (photo credits, "Teilen", ad labels);
* recall: the lead paragraph that trafilatura often leaves with the headline is put back in front.

The tree is not modified here: trafilatura prunes its own copy, everything else only reads it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree
from trafilatura import bare_extraction

from scrapers.extract.markup import Element, squash, text_content

__all__ = ["BodyLine", "main_text_lines"]


@dataclass(frozen=True)
class BodyLine:
    """One line of the article body; `pair` marks a key/value pair by markup (<dl>, a two-cell row)."""

    text: str
    pair: bool = False


def _norm(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------- one scan of class/id values
# Looking at attribute nodes is the cheapest way to find a handful of elements by class fragment
# (an //*[contains(@class, ..)] predicate per element costs several times more on big pages).
_SCAN = etree.XPath(
    "//body//@class[contains(., 'elated') or contains(., 'uthor') or contains(., 'toc') or contains(., 'TOC')]"
    " | //body//@id[contains(., 'elated')]"
    # embeds are (nearly) always blockquotes or iframes' wrappers with a telling class; blockquotes are few
    " | //body//blockquote/@class[contains(., 'tweet') or contains(., 'instagram') or contains(., 'tiktok')]"
)

# ----------------------------------------------------------------------------- pre-extraction prune
# what -> (regex on "class id", minimum link density or None)
_PRUNE_RULES = {
    # tweets / posts embedded from social networks
    "embeds": (re.compile(r"twitter-tweet|instagram-media|tiktok-embed", re.I), None),
    # "related articles" boxes; trafilatura's own class rules miss them in its fallback extractors
    "related_boxes": (re.compile(r"related", re.I), None),
    # author boxes with the writer's bio under the article
    "author_boxes": (re.compile(r"author[-_]?(?:box|bio|info|profile|teaser|about)|about[-_]?(?:the[-_])?author", re.I),
                    None),
    # tables of contents repeat the headings; a real one is mostly links ("toc-content" wrappers are not)
    "tables_of_contents": (re.compile(r"(?:^|[\s_-])toc(?:$|[\s_-])|table-of-contents|inhaltsverzeichnis", re.I), 0.5),
}
_PLAIN_PATH = re.compile(r"(/[A-Za-z_][\w.-]*(\[\d+\])?)+")
# A matched element holding this share of the page's text is a wrapper ("...--has-related",
# "post-author-info" around the whole post), not a box: keep it.
_PRUNE_MAX_SHARE = 0.4


def _link_text_len(el) -> int:
    return sum(len(text_content(a)) for a in el.iter("a"))


def _prune_xpath(tree, attrs) -> str | None:
    """One XPath (a union of absolute paths) selecting the containers to prune, or None."""
    found: dict[Element, None] = {}  # an ordered set
    total = None
    for attr in attrs:
        el = attr.getparent()
        if el in found or el.tag in ("body", "main", "article"):
            continue
        value = (el.get("class") or "") + " " + (el.get("id") or "")
        for rx, min_link_density in _PRUNE_RULES.values():
            if not rx.search(value):
                continue
            if total is None:
                body = tree.find("body")
                total = len(text_content(body)) if body is not None else 0
            n = len(text_content(el))
            if n > _PRUNE_MAX_SHARE * total:
                continue
            if min_link_density and n and _link_text_len(el) < min_link_density * n:
                continue
            found[el] = None
            break
    if not found:
        return None
    outer = [el for el in found if not any(a in found for a in el.iterancestors())]
    root = tree.getroottree()
    # A single union expression: trafilatura evaluates it once, so removing one node cannot shift the
    # positional steps of another. A path through an element whose broken-markup name XPath cannot spell
    # ("o:p") is left out.
    paths = [path for path in map(root.getpath, outer) if _PLAIN_PATH.fullmatch(path)]
    return " | ".join(paths) or None


# ------------------------------------------------------------------------------ lead paragraph
_LEAD_CLASS = re.compile(r"lead(?!ing)|intro|teaser|excerpt|abstract|summary|standfirst", re.I)
_TEXT_NODE_WITH = etree.XPath("//body//text()[contains(., $x)]")
_TEXT_NODE_WITH_NORM = etree.XPath("//body//text()[contains(normalize-space(.), $x)]")
_VISIBLE_TEXT = etree.XPath(".//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")
# a lead is a paragraph of the article, not of a menu, a link card or a picture
_NOT_LEAD_ANCESTOR = frozenset({"nav", "aside", "footer", "form", "a", "li", "figure", "button"})
_BLOCKS = frozenset({"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "section", "header", "nav",
                     "table", "article"})
_LEAD_MAX_LEVELS = 14    # containers of the body start searched for a preceding lead
_LEAD_MAX_VISITS = 600   # elements looked at, at most


def _visible_text(el) -> str:
    return _norm("".join(_VISIBLE_TEXT(el)))


def _body_start(tree, lines):
    """(element, line): where the first paragraph-like line of the extracted text sits in the tree."""
    tried = 0
    for line in lines:
        if len(line) < 80:  # headings, datelines, bylines are ambiguous anchors
            continue
        tried += 1
        if tried > 3:
            break
        for n in (40, 20):
            probe = line[:n].strip()
            hits = _TEXT_NODE_WITH(tree, x=probe) or _TEXT_NODE_WITH_NORM(tree, x=probe)
            if hits:
                return hits[0].getparent(), line
    return None, None


def _lead_like(el, container) -> bool:
    if not isinstance(el.tag, str):
        return False
    cls = el.get("class")
    if cls and _LEAD_CLASS.search(cls):
        return True
    if el.get("itemprop") == "description":
        return True
    # a paragraph in the article's own header
    if el.tag == "p":
        for a in el.iterancestors():
            if a.tag == "header":
                return True
            if a is container:
                break
    return False


def _lead_candidates(start):
    """Lead-like elements before `start` inside its containers below <body>, nearest first."""
    visits = 0
    node = start
    for _ in range(_LEAD_MAX_LEVELS):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return
        for sib in node.itersiblings(preceding=True):
            found = []
            for el in sib.iter():
                visits += 1
                if _lead_like(el, parent):
                    found.append(el)
            yield from reversed(found)
            if visits > _LEAD_MAX_VISITS:
                return
        node = parent


def _find_lead(tree, text: str):
    """(lead text, first body line) for a lead paragraph trafilatura left out, or None.

    Candidates: elements with a lead-like class or itemprop=description, and paragraphs in a
    <header>, found before the extracted body inside the containers it shares with it below <body>
    (a teaser of another article sits elsewhere). The nearest acceptable one wins: not a truncated
    teaser ("..."), not mostly links, not in the text already.
    """
    lines = [_norm(line) for line in text.split("\n") if line.strip()]
    start, start_line = _body_start(tree, lines)
    if start is None:
        return None
    flat = _norm(text)
    for el in _lead_candidates(start):
        if any(d.tag in _BLOCKS for d in el.iterdescendants()):
            # a wrapper (header, intro box): its lead is its first substantial paragraph
            el = next((p for p in el.iter("p") if len(text_content(p)) >= 50), None)
            if el is None:
                continue
        if not 50 <= len(text_content(el)) <= 3000:
            continue
        if any(a.tag in _NOT_LEAD_ANCESTOR for a in el.iterancestors()):
            continue
        lead = _visible_text(el)
        if not 50 <= len(lead) <= 1500 or lead[:60] in flat or lead.endswith(("...", "…")):
            continue
        if _link_text_len(el) > 0.3 * len(lead):
            continue
        return lead, start_line
    return None


# ------------------------------------------------------------------- boilerplate-headed sections
_BOILER_HEAD = re.compile(
    r"^(?:"
    r"(?:weitere|mehr|ähnliche|verwandte|passende|empfohlene|beliebte|neueste|aktuelle|andere|top)\s+"
    r"(?:[\wäöü-]+\s+)?"
    r"(?:artikel|beiträge|themen|nachrichten|news|meldungen|geschichten|posts|stories|inhalte|videos|rezepte)\b"
    r"|mehr\s+(?:zum|zu\s+diesem)\s+thema"
    r"|(?:das|dies)\s+(?:könnte|dürfte)\s+(?:sie|dich|euch)\s+(?:auch|ebenfalls)\s+interessieren"
    r"|(?:auch|ebenfalls)\s+interessant|interessant\s+auch|auch\s+lesenswert"
    r"|lesen\s+sie\s+(?:auch|mehr)|lies\s+auch|schon\s+gelesen"
    r"|meist[\s-]?(?:gelesen|kommentiert|diskutiert|geklickt|geteilt)|am\s+meisten\s+gelesen|kommentierte\s+artikel"
    r"|(?:keine\s+|\d+\s+)?kommentare?\b(?:\s*\(\d+\))?\s*:?$"
    r"|(?:einen\s+)?kommentar\s+(?:schreiben|verfassen|hinzufügen|abgeben)|(?:schreibe|hinterlasse)\s+einen\s+kommentar"
    r"|(?:zum\s+)?newsletter\b"
    r"|vorschau\s+auf\s+den\s+nächsten|nächster\s+artikel|vorheriger\s+artikel"
    r"|beiträge\s+aus\s+dem\s+forum"
    r"|(?:presse)?kontakt\s*:?$|ansprechpartner(?:in|innen)?\b|pressestelle\s*:?$"
    r"|(?:aktuelle\s+)?(?:jobs|stellenangebote|stellenmarkt|jobbörse|stellenanzeigen)\s*:?$"
    r"|(?:top-?)?(?:deals|schnäppchen|gutscheine)(?:\s+des\s+tages)?\s*:?$"
    r")",
    re.I,
)
_HEAD_MAX_LEN = 80      # a longer line is a sentence, not a heading
_SECTION_HEAD_LEN = 50  # a <p> this short that *is* the phrase opens a section, like a <head>
_SECTION_ITEM_MAX = 200  # a paragraph longer than this after such a heading is article text again
_CONTAINERS = ("div", "cell", "row", "table", "quote", "list")


def _elem_text(el) -> str:
    return _norm("".join(el.itertext()))


def _drop_boilerplate_sections(body) -> None:
    """Remove output blocks opened by a boilerplate heading ("Weitere Artikel", "Kommentare", ...).

    The heading goes, and when it is a real heading the short blocks after it (the teaser links)
    go too, up to the next heading or the first long paragraph.
    """
    containers = [body] + [e for e in body.iter(*_CONTAINERS) if len(e)]
    for container in containers:
        kids = list(container)
        i = 0
        while i < len(kids):
            el = kids[i]
            i += 1
            if el.tag not in ("head", "p"):
                continue
            t = _elem_text(el)
            if not 0 < len(t) <= _HEAD_MAX_LEN or not _BOILER_HEAD.match(t):
                continue
            container.remove(el)
            if el.tag != "head" and len(t) > _SECTION_HEAD_LEN:
                continue  # "Lesen Sie auch: <title>" inline: only that line
            while i < len(kids) and kids[i].tag != "head":
                if kids[i].tag == "p" and len(_elem_text(kids[i])) > _SECTION_ITEM_MAX:
                    break
                container.remove(kids[i])
                i += 1


# ------------------------------------------------------------------------ furniture lines
_CREDIT_LINE = re.compile(
    r"^[(\[]?\s*(?:fotos?|bild(?:er|quelle|nachweise?|rechte)?|titelbild|beitragsbild|titelfoto|headerbild|"
    r"foto-?credits?|credits?|copyright|quellen?|quellenangaben?|abbildung(?:\s*\d+)?|grafik|illustration|"
    r"image|photo|picture)\s*:", re.I)
_META_LINE = re.compile(
    r"^(?:letzte\s+(?:änderung|aktualisierung)|zuletzt\s+(?:aktualisiert|geändert)|aktualisiert\s+am|stand:"
    r"|video\s+verfügbar\s+bis|verfügbar\s+bis)\b", re.I)
_DATE_LINE = re.compile(r"^\d{1,2}\.\s?\d{1,2}\.\s?\d{2,4}$")
_AD_LINE = re.compile(r"^\W{0,3}(?:anzeige|werbung|sponsored|advertorial)\s*(?:[.,:|*)/-]|$)", re.I)
_UI_LINE = re.compile(
    r"^(?:teilen|drucken|merken|gemerkt|speichern|e-?mail|mail|facebook|twitter|whatsapp|pinterest|linkedin|xing|"
    r"tweet|flipboard|telegram|artikel\s+(?:teilen|drucken|merken|versenden)|link\s+kopieren|seite\s+drucken|"
    r"teilen\s+auf\s+\w+|auf\s+\w+\s+teilen|bild\s+(?:anzeigen|schließen|vergrößern)|zum\s+vergrößern\s+klicken|"
    r"\d+\s+von\s+\d+|weiterlesen|mehr\s+lesen|mehr\s+erfahren|weiter\s+lesen|read\s+more|"
    r"nach\s+oben|zum\s+seitenanfang|seitenanfang|zurück(?:\s+zur\s+übersicht)?|zur\s+übersicht|vorlesen|anhören|"
    r"drucken\s*/\s*pdf|zum\s+inhalt\s+springen|zur\s+navigation\s+springen|seite\s+teilen|schließen|image|bild|"
    r"alle\s+(?:nachrichten|meldungen)|mehr\s+nachrichten)"
    r"\s*[:!.→»>]*\s*$", re.I)
_TEASER_LINK = (">>", "... weiter", "…weiter", "… weiter")
_COPYRIGHT_LINE = re.compile(r"^©.{0,100}$")
# The placeholder a page shows instead of an embedded video or post until the reader consents.
_CONSENT_LINE = re.compile(
    r"^(?:empfohlener\s+)?externer\s+inhalt\b"
    r"|(?=.*\b(?:youtube|vimeo|twitter|instagram|facebook|tiktok|spotify|podcast|google\s+maps|drittanbieter))"
    r"(?=.*\b(?:video|inhalt|inhalte|beitrag|player)\b)"
    r"(?=.*(?:zustimm|einwillig|aktivier|einverstanden|datenschutz|cookies))", re.I)


def _is_furniture(line: str) -> bool:
    """A whole output line that is page furniture rather than article text."""
    t = line.strip()
    if not t or len(t) > 400:
        return False
    if len(t) > 200:  # consent placeholders run longer than other furniture lines
        return bool(_CONSENT_LINE.match(t))
    return bool(
        _CREDIT_LINE.match(t)  # "Foto: ...", "Quelle: ...", "Abbildung 3: ..."
        or _META_LINE.match(t) or _DATE_LINE.match(t)  # "Letzte Änderung ...", a bare date
        or (len(t) <= 120 and _AD_LINE.match(t))  # "Anzeige", "*Werbung. ..."
        or (len(t) <= 60 and _UI_LINE.match(t))  # "Teilen", "Drucken", "Bild anzeigen", "3 von 17"
        or t.startswith(_TEASER_LINK)  # ">> Other article <<", "... weiter zu ..."
        or _COPYRIGHT_LINE.match(t)  # "© Stadt Beispielhausen"
        or _CONSENT_LINE.match(t)  # "Mit Klick auf Zustimmen wird ein Video von YouTube geladen ..."
    )


# ------------------------------------------------------------------------------------ rendering
# Elements of trafilatura's output that stand apart from the words around them; inline markup (<hi>, <ref>)
# joins without a space, so that "Rad-<hi>Schnellweg</hi>" stays one word.
_SEPARATE = frozenset(["p", "head", "item", "list", "quote", "lb", "cell", "row", "table", "div", "code"])


def _flat(el) -> str:
    parts = [el.text or ""]
    for child in el:
        gap = " " if child.tag in _SEPARATE else ""
        parts += [gap, _flat(child), gap, child.tail or ""]
    return "".join(parts)


def _texts(el) -> list[str]:
    """The element's text split at <lb/>, nested lists and tables left to the caller."""
    parts: list[str] = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append("\n")
        elif child.tag not in ("list", "table"):
            parts.append(_flat(child))
        parts.append(child.tail or "")
    return [squash(p) for p in "".join(parts).split("\n") if squash(p)]


# Over the C901 bound: one branch per element kind of trafilatura's XML.
def _render(el, out: list[BodyLine]) -> None:  # noqa: C901
    tag = el.tag
    if tag == "list":
        items = [child for child in el if child.tag == "item"]
        if el.get("rend") == "dl":
            key: str | None = None
            for item in items:
                text = squash(_flat(item))
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
        # trafilatura's <row>/<cell>, or HTML rows it kept verbatim (inside <code>, say)
        for row in el.iter("row", "tr"):
            cells = [squash(_flat(c)) for c in row if c.tag in ("cell", "td", "th")]
            cells = [c for c in cells if c]
            if len(cells) == 2 and len(cells[0]) <= 40:
                out.append(BodyLine(f"{cells[0].rstrip(':').strip()}: {cells[1]}", pair=True))
            elif cells:
                out.append(BodyLine(" ".join(cells)))
        return
    if tag in ("graphic", "ref") and not squash(_flat(el)):
        return
    if tag in ("div", "body", "section"):
        for child in el:
            _render(child, out)
        return
    out.extend(BodyLine(t) for t in _texts(el))
    for child in el:
        if child.tag in ("list", "table"):
            _render(child, out)


# --------------------------------------------------------------------------------------- main
def _extract(tree: Element, url: str, prune: str | None):
    # Readers' comments are not the article; leaving them out also spares trafilatura a pass.
    result = bare_extraction(tree, url=url, with_metadata=False, include_comments=False, prune_xpath=prune)
    if result is None and prune:
        result = bare_extraction(tree, url=url, with_metadata=False, include_comments=False)
    return result


def main_text_lines(doc: Element, url: str) -> list[BodyLine]:
    """The lines of the page's main text; empty when there is none. Does not modify `doc`."""
    attrs = _SCAN(doc)
    result = _extract(doc, url, _prune_xpath(doc, attrs) if attrs else None)
    if result is None or result.body is None:
        return []
    _drop_boilerplate_sections(result.body)
    lines: list[BodyLine] = []
    _render(result.body, lines)
    if not lines:
        return []
    lead = _find_lead(doc, "\n".join(ln.text for ln in lines))
    if lead is not None:
        lead_text, first_line = lead
        at = next((i for i, ln in enumerate(lines) if ln.text == first_line), 0)
        lines.insert(at, BodyLine(lead_text))
    return [ln for ln in lines if ln.pair or not _is_furniture(ln.text)]
