"""The article's headline: arbitrated between the page's <h1>s, JSON-LD headline, og:title and <title>."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapers.extract.markup import (
    FURNITURE_TAGS,
    NOISE_PARTS,
    Element,
    class_parts,
    in_furniture,
    is_hidden,
    squash,
    text_of,
)
from scrapers.extract.metadata import PageMeta

__all__ = ["find_title", "strip_site_name"]

# Class-name parts of the small line above a headline ("Kicker", "Dachzeile") that sites put inside the <h1>.
_KICKER_PARTS = frozenset(["kicker", "dachzeile", "topline", "overline", "roofline", "eyebrow", "spitzmarke",
                           "supertitle", "superline", "pretitle", "preheadline", "kicker--title"])
_SEPARATORS = re.compile(r"\s+(?:\||::|:|–|—|-|·|»|/)\s+")
_SITE_WORDS = re.compile(r"\b(stadt|landeshauptstadt|gemeinde|landkreis|kreis|portal|magazin|zeitung|online"
                         r"|news|blog|verlag|verband|ministerium|bund)\b|www\.|\.(de|at|ch|com|org|net)\b",
                         re.IGNORECASE)
_QUOTES = str.maketrans({"„": '"', "“": '"', "”": '"', "«": '"', "»": '"', "‚": "'", "‘": "'", "’": "'",
                         "–": "-", "—": "-", "\u00a0": " "})


def _norm(text: str) -> str:
    return squash(text.translate(_QUOTES)).lower().strip(" .:!?")


def strip_site_name(title: str, site_name: str | None, url: str = "") -> str:
    """A page title without the site's name before or after it ("Headline | Stadt X" gives "Headline")."""
    parts = [p for p in _SEPARATORS.split(title) if p.strip()]
    if len(parts) < 2:
        return title.strip()
    host = urlsplit(url).hostname or ""
    host_words = {w for w in re.split(r"[.\-]", host.lower()) if len(w) > 3 and w not in ("www", "html")}
    site = _norm(site_name) if site_name else ""

    def is_site(part: str) -> bool:
        p = _norm(part)
        return bool(p) and ((site and (p in site or site in p)) or any(w in p.replace(" ", "") for w in host_words)
                            or bool(_SITE_WORDS.search(part) and len(part) < 40))

    kept = [p for p in parts if not is_site(p)]
    if not kept:
        return parts[0].strip()
    if len(kept) == len(parts):
        # Nothing names the site: only "|" and "::" reliably separate a site name; dashes may be the headline's.
        if re.search(r"\s(\||::)\s", title):
            return max(kept, key=len).strip()
        return title.strip()
    # The headline is what stands before the first part naming the site ("Headline | Site | Motto"), or,
    # when the title opens with the site, what follows it ("Site » Section » Headline"); rejoined as written,
    # since a headline may itself hold a dash.
    flags = [is_site(p) for p in parts]
    start = flags.index(False)
    end = next((i for i in range(start, len(parts)) if flags[i]), len(parts))
    run = parts[start:end]
    first, last = title.find(run[0]), title.rfind(run[-1]) + len(run[-1])
    return title[first:last].strip() if first >= 0 and last > first else " ".join(run)


def _heading_text(h: Element) -> str:
    """The heading's words without a kicker line nested inside it."""
    kickers = [el for el in h.iter() if el is not h and isinstance(el.tag, str) and class_parts(el) & _KICKER_PARTS]
    if not kickers:
        return text_of(h)
    text = text_of(h)
    for k in kickers:
        kicker = text_of(k)
        if kicker and text.startswith(kicker):
            text = text[len(kicker):].lstrip(" :-–—|")
    return text.strip()


def _is_site_logo(h: Element, text: str) -> bool:
    """An <h1> that is only a link to the site's home page."""
    links = list(h.iter("a"))
    if len(links) != 1 or text_of(links[0]) != text:
        return False
    href = (links[0].get("href") or "").strip()
    return urlsplit(href).path in ("", "/", "/index.html", "/index.php") and not urlsplit(href).query


def _in_box(el: Element) -> bool:
    """Inside furniture or a box named like a newsletter, donation, cookie or teaser area."""
    for anc in el.iterancestors():
        if anc.tag in FURNITURE_TAGS and anc.tag != "header":
            return True
        if class_parts(anc) & NOISE_PARTS and anc.tag not in ("body", "main", "article"):
            return True
    return False


def _in_main(el: Element) -> bool:
    return any(a.tag in ("main", "article") or a.get("role") == "main" for a in el.iterancestors())


# Over the C901 bound: the title rules in their order of precedence.
def find_title(doc: Element, meta: PageMeta, url: str = "") -> tuple[str | None, Element | None]:  # noqa: C901
    """The headline and the element it stands in (None when it comes from metadata only)."""
    headline = strip_site_name(meta.headline, meta.site_name, url) if meta.headline else None
    og_title = strip_site_name(meta.og_title, meta.site_name, url) if meta.og_title else None
    html_title = strip_site_name(meta.html_title, meta.site_name, url) if meta.html_title else None
    hints = [h for h in (headline, og_title, html_title) if h]
    norm_hints = [_norm(h) for h in hints]

    h1s = []
    for h in doc.iter("h1"):
        if is_hidden(h):
            continue
        text = _heading_text(h)
        if not text or len(text) > 400:
            continue
        if _is_site_logo(h, text):
            # The site's name as the page's <h1> (a blog theme's logo): a name to strip from the <title>.
            if meta.html_title:
                html_title = strip_site_name(meta.html_title, text, url)
                hints = [x for x in (headline, og_title, html_title) if x]
                norm_hints = [_norm(x) for x in hints]
            continue
        h1s.append((h, text))

    # 1. An <h1> the metadata agrees with (as written, or without the site's name), or whose end the
    # metadata gives (a kicker glued on in front).
    as_written = [_norm(x) for x in (meta.headline, meta.og_title) if x]
    for h, text in h1s:
        t = _norm(text)
        if t in as_written or any(n == t or (n.startswith(t) and len(t) >= 0.5 * len(n)) for n in norm_hints):
            return text, h
    for h, text in h1s:
        t = _norm(text)
        for hint, n in zip(hints, norm_hints, strict=True):
            if len(n) >= 12 and t.endswith(n) and len(n) >= 0.4 * len(t):
                return hint, h  # the <h1> has a kicker in front that the metadata leaves out
            if len(t) >= 12 and n.endswith(t) and len(t) >= 0.4 * len(n):
                return text, h  # the metadata has a kicker in front that the <h1> leaves out
    # 2. No agreement: the article's own <h1> outside boxes, else the JSON-LD headline, else any <h1>.
    own = [(h, t) for h, t in h1s if not _in_box(h)]
    in_main = [(h, t) for h, t in own if _in_main(h)]
    for group in (in_main, own if not headline else []):
        if group:
            h, text = max(group, key=lambda pair: len(pair[1]))
            return text, h
    if headline:
        return headline, None
    for group in (own, [(h, t) for h, t in h1s if not in_furniture(h)]):
        if group:
            h, text = max(group, key=lambda pair: len(pair[1]))
            return text, h
    for fallback in (og_title, html_title):
        if fallback:
            return fallback, None
    return None, None
