"""Find the funding programmes an article names and the part each of its cities takes in them (pure)."""
from __future__ import annotations

import bisect
import csv
import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from scrapers import vocabulary
from scrapers.gazetteer import norm_key
from scrapers.records import CityMention, Participation, ProgrammeMention

__all__ = ["Catalogue", "Programme", "find_participations", "find_programmes", "linked_programmes",
           "load_programme_catalogue"]

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "programmes.csv"
CATALOGUE_COLUMNS = ["programme_id", "name", "acronym", "aliases", "level", "funder", "start_year", "end_year", "url"]
LEVELS = {"EU", "federal", "state", "municipal"}
# Aliases kept for matching gold spellings but too generic to recognise a programme in running text alone.
_WEAK_ALIASES = frozenset(norm_key(a) for a in vocabulary.entries("programme_weak_aliases"))


@dataclass(frozen=True)
class Programme:
    """One catalogue row: a funding programme, initiative or network."""

    programme_id: str
    name: str
    acronym: str | None
    aliases: tuple[str, ...]
    level: str
    funder: str | None = None
    start_year: int | None = None
    end_year: int | None = None
    url: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """The programme catalogue with one compiled matcher per programme."""

    programmes: tuple[Programme, ...]
    by_id: dict[str, Programme] = field(default_factory=dict)
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()
    anchors: dict[str, list[tuple[str, int, re.Pattern[str]]]] = field(default_factory=dict)

    def match_name(self, name: str) -> Programme | None:
        """The catalogue programme one of whose spellings equals `name` (case, hyphens, quotes ignored)."""
        key = _loose(name)
        for p in self.programmes:
            if key in {_loose(x) for x in (p.name, p.acronym or "", *p.aliases) if x}:
                return p
        return None


def _loose(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().replace("ß", "ss")
    text = re.sub(r"[-–—_/„“”\"'«»‚‘’:,.()]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _alias_pattern(alias: str) -> str | None:
    """A regex for one alias: tolerant of hyphens, spaces and quotes between words and of German endings."""
    words = re.findall(r"[^\W_]+", alias)
    if not words:
        return None
    parts = []
    for w in words:
        esc = re.escape(w).replace("ß", "(?:ß|ss)")
        parts.append(esc + (r"(?:s|es|n|en)?" if w[-1].isalpha() and not w.isupper() else ""))
    # A dot joins words only inside a name ("Smarte.Land.Regionen"), never across a sentence end.
    sep = r"(?:[\s\-–‐_/„“”\"'»«‚‘’]|\.(?!\s))*"
    body = sep.join(parts)
    if alias[0].isupper() and len(words) > 1:
        # "Lebendige Zentren" is a programme; "lebendige Zentren" in running text is not.
        body = r"(?-i:(?=[A-ZÄÖÜ0-9]))" + body
    if len(words) == 1 and words[0].isupper() and (len(words[0]) <= 6 or words[0].isalpha()):
        # An acronym, or a name in capitals ("REGIONALE"), in any other case is an everyday word.
        return r"(?-i:(?<![^\W_])" + body + r"(?![^\W\d_]))"
    return r"(?<![^\W_])" + body + r"(?![^\W\d_])"


def _build_catalogue(programmes: list[Programme]) -> Catalogue:
    patterns = []
    anchors: dict[str, list[tuple[str, int, re.Pattern[str]]]] = {}
    for p in programmes:
        alts: list[str] = []
        for alias in sorted({p.name, p.acronym or "", *p.aliases} - {""}, key=len, reverse=True):
            if _loose(alias) in {_loose(w) for w in _WEAK_ALIASES}:
                continue
            pat = _alias_pattern(alias)
            if pat:
                rank = len(alts)
                alts.append(pat)
                # Every match of an alias starts with its first word as written (any case; ß or ss).
                first = re.findall(r"[^\W_]+", alias)[0].lower()
                for anchor in {first, first.replace("ß", "ss")}:
                    anchors.setdefault(anchor, []).append((p.programme_id, rank, re.compile(pat, re.IGNORECASE)))
        if alts:
            patterns.append((p.programme_id, re.compile("|".join(alts), re.IGNORECASE)))
    return Catalogue(programmes=tuple(programmes), by_id={p.programme_id: p for p in programmes},
                     patterns=tuple(patterns), anchors=anchors)


def _catalogue_matches(text: str, cat: Catalogue) -> list[tuple[str, int, int]]:
    """(programme id, start, end) of every catalogue alias in `text`, non-overlapping per programme.

    Equivalent to running each programme's alternation over the text, but only where the first word of
    an alias occurs (found with str.find), which keeps long texts fast.
    """
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two; offsets would shift
        return [(pid, m.start(), m.end()) for pid, rx in cat.patterns for m in rx.finditer(text)]
    best: dict[tuple[str, int], tuple[int, int]] = {}  # (programme, start) -> (alias rank, end)
    for anchor, entries in cat.anchors.items():
        pos = low.find(anchor)
        while pos != -1:
            for pid, rank, rx in entries:
                if (pid, pos) in best and best[(pid, pos)][0] <= rank:
                    continue
                m = rx.match(text, pos)
                if m:
                    best[(pid, pos)] = (rank, m.end())
            pos = low.find(anchor, pos + 1)
    out: list[tuple[str, int, int]] = []
    last_end: dict[str, int] = {}
    for (pid, start), (_rank, end) in sorted(best.items(), key=lambda kv: kv[0][1]):
        if start >= last_end.get(pid, 0):
            out.append((pid, start, end))
            last_end[pid] = end
    return out


def load_programme_catalogue(path: Path | None = None) -> Catalogue:
    """Read the programme catalogue (default: dbt/seeds/programmes.csv); a malformed row raises ValueError
    naming the file and line."""
    path = Path(path) if path else DEFAULT_CATALOGUE
    return _load_catalogue_cached(str(path.resolve()), path.stat().st_mtime)


@functools.lru_cache(maxsize=8)
def _load_catalogue_cached(path: str, _mtime: float) -> Catalogue:
    programmes: list[Programme] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != CATALOGUE_COLUMNS:
            raise ValueError(f"{path}: header must be {','.join(CATALOGUE_COLUMNS)}, got {reader.fieldnames}")
        seen: set[str] = set()
        for n, row in enumerate(reader, start=2):
            pid, name, level = (row.get("programme_id") or "").strip(), (row.get("name") or "").strip(), row["level"]
            if not pid or not name:
                raise ValueError(f"{path}:{n}: programme_id and name are required")
            if pid in seen:
                raise ValueError(f"{path}:{n}: duplicate programme_id {pid!r}")
            if level not in LEVELS:
                raise ValueError(f"{path}:{n}: level {level!r} is not one of {sorted(LEVELS)}")
            seen.add(pid)

            def year(v: str | None, col: str, n: int = n) -> int | None:
                if not v:
                    return None
                if not v.strip().isdigit():
                    raise ValueError(f"{path}:{n}: {col} {v!r} is not a year")
                return int(v)

            programmes.append(Programme(
                programme_id=pid, name=name, acronym=(row.get("acronym") or "").strip() or None,
                aliases=tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()),
                level=level, funder=(row.get("funder") or "").strip() or None,
                start_year=year(row.get("start_year"), "start_year"), end_year=year(row.get("end_year"), "end_year"),
                url=(row.get("url") or "").strip() or None))
    return _build_catalogue(programmes)


_PROG_HEAD = r"(?:" + vocabulary.words("programme_heads") + r")(?:s|es|e|en)?"
_PROJECT_HEAD = r"(?:" + vocabulary.words("programme_heads", project="yes") + r")(?:s|es|e|en)?"
_DISCOVER = [
    re.compile(_PROG_HEAD + r"\s+„([^“”\"\n]{3,70})[“”\"]"),
    re.compile(_PROJECT_HEAD + r"\s+"
               r"((?:[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)(?:\s(?:for|4|of)\s[A-Z][A-Za-z]*)?"
               r"(?:\s(?:und|sowie)\s(?:[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*))*)"),
    # A name starts where a word starts: tried at every capital inside a long word instead, the pattern would
    # scan the rest of the word from each one (minutes on a page with a long run of letters).
    re.compile(r"(?<![\w-])((?:[A-ZÄÖÜ][\w-]*\s){0,4}[A-ZÄÖÜ][\w-]*(?:"
               + vocabulary.alternation("programme_name_endings") + r"))(?:es|s)?\s+\(([A-Z][A-Za-z]{1,7})\)"),
]


def _slug(name: str) -> str:
    s = unicodedata.normalize("NFKD", name.replace("ß", "ss")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def find_programmes(text: str, catalogue: Catalogue | None = None) -> list[ProgrammeMention]:
    """Programmes named in `text`: catalogue programmes by any alias, plus a few discovered ones
    ("Förderprogramm „X“", "EU-Projekt X", "X-Programm (ACR)") with id 'discovered:<slug>'."""
    if not text:
        return []
    cat = catalogue or load_programme_catalogue()
    found: dict[str, tuple[str, list[int], str | None]] = {}
    taken: list[tuple[int, int]] = []
    for pid, start, end in _catalogue_matches(text, cat):
        surface, offs, _ = found.setdefault(pid, (text[start:end], [], None))
        offs.append(start)
        taken.append((start, end))
    for rx in _DISCOVER:
        for m in rx.finditer(text):
            names = re.split(r"\s(?:und|sowie)\s", m.group(1)) if rx is _DISCOVER[1] else [m.group(1)]
            for name in names:
                name = name.strip(" -–")
                pos = m.start(1) + m.group(1).find(name)
                if any(a <= pos < b for a, b in taken):
                    continue
                known = cat.match_name(name)
                if known is None and m.lastindex and m.lastindex >= 2:
                    known = cat.match_name(m.group(2))
                if known is not None:
                    found.setdefault(known.programme_id, (name, [], None))[1].append(pos)
                    continue
                words = name.split()
                if not name[0].isupper() or len(words) > 8 or not re.search(r"[A-Za-zÄÖÜäöü]{3}", name):
                    continue
                pid = "discovered:" + _slug(name)
                found.setdefault(pid, (name, [], name))[1].append(pos)
    out = [ProgrammeMention(programme_id=pid, surface=surface, offset=min(offs), discovered_name=disc)
           for pid, (surface, offs, disc) in found.items()]
    return sorted(out, key=lambda p: p.offset)




# ------------------------------------------------------------------------------------------ participations
# The roles a city can hold in a programme, with the words that state them: one vocabulary with dbt (the seed
# dbt/seeds/participation_roles.csv). `mentioned` has no pattern: it is what is left when no role is stated.
_ROLE_CUES: list[tuple[str, re.Pattern[str]]] = [
    (row["role"], re.compile(row["pattern"], re.IGNORECASE))
    for row in vocabulary.rows("participation_roles") if row["pattern"]]
MENTIONED = next(row["role"] for row in vocabulary.rows("participation_roles") if not row["pattern"])


def _words(kind: str) -> frozenset[str]:
    return frozenset(e.lower() for e in vocabulary.entries("participation_words", kind=kind))


# How a role word is tied to the city that holds it (scrapers/vocabulary/participation_words.csv).
_COPULA, _HOLDING, _AS = _words("link"), _words("holding"), _words("as")
_HELD_ROLES = _words("held_role")
_EXAMPLE, _JOINER, _DETERMINER = _words("example"), _words("joiner"), _words("determiner")
_PARTICLE, _NEGATION = _words("particle"), _words("negation")
_RELATIVE, _RELATIVE_PLURAL = _words("relative"), _words("relative_plural")
_PREPOSITION, _COMPANION = _words("preposition"), _words("companion")
_TITLES = _words("title") | frozenset(e.lower() for e in vocabulary.entries("place_cues", kind="title"))
_ABBREVIATIONS = frozenset(vocabulary.entries("abbreviations"))
_HEAD_WORD = re.compile(_PROG_HEAD, re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s+[„\"'»(A-ZÄÖÜ0-9])|\n")
_TOKEN = re.compile(r"[^\W_]+(?:[-‐'’.][^\W_]+)*|[,;:()–—&]|(?<=\s)-(?=\s)")
_EVIDENCE_CHARS = 500
_MAX_GAP = 8  # words between a city and the role word it holds, within one clause
_MAX_INVERTED_GAP = 5  # words between "hat Gera" and the role word after it
_MAX_APPOSITION = 4  # words between "Gera," and its role word ("Gera, eines der 73 Modellprojekte")
_MAX_RELATIVE = 12  # words between "Gera, das" and its role word in a relative clause
_MAX_PARENTHESIS = 12  # tokens of a parenthesis read past ("Gera (Thüringen) ist ...")
_MAX_SKIPPED = 6  # articles, titles, numbers read past to the word before a city or a role word
_PROGRAMME_WINDOW = 40  # tokens either side of a role word where the programme it is about is looked for
_PAIR_BUDGET = 200_000  # (city, programme) checks for the evidence of `mentioned`: bounded on hostile pages
_MAX_MENTIONED = 20_000  # `mentioned` rows of one article: a page naming thousands of cities and programmes
# gets them for its first cities only


@dataclass(slots=True)
class _Tok:
    kind: str  # city | cue | prog | word | punct
    start: int
    end: int
    text: str  # lower-case word or punctuation; the role of a cue
    ref: str | None = None  # city id of a city; programme id of a prog, or of the programme a cue names


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: a full stop before a capital, digit or quote ends one unless it ends an abbreviation,
    an initial or an ordinal ("am 3. Mai"); a line break always does."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.group() != "\n":
            before = re.search(r"[^\s(]*$", text[max(0, m.start() - 20):m.start()])
            word = before.group() if before else ""  # always a match, if only the empty one
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or (word.isdigit() and len(word) <= 2):
                continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _city_pattern(cities: list[CityMention]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern for every spelling of the article's cities (name, name without its qualifier, the words
    found in the text), each also in the genitive ("Geras Rolle als ..."), and the city id of each spelling."""
    ids: dict[str, str] = {}
    for c in cities:
        for spelling in (c.name, re.sub(r"\s*\(.*\)$", "", c.name), c.surface):
            spelling = spelling.strip()
            words = spelling.split()
            while len(words) > 1 and words[0].lower() in _TITLES:  # "Landeshauptstadt Dresden": the title
                words = words[1:]  # is read as a word before the city
            if words:
                ids.setdefault(" ".join(words), c.city_id)
    if not ids:
        return None, ids
    alternation = "|".join(re.escape(s) for s in sorted(ids, key=len, reverse=True))
    return re.compile(r"(?<![\w-])(" + alternation + r")s?(?![\w-])"), ids


def _programme_spellings(p: ProgrammeMention, cat: Catalogue) -> list[str]:
    known = cat.by_id.get(p.programme_id)
    return [known.name, *known.aliases] if known else [p.discovered_name or p.surface]


def _owners(role_rx: re.Pattern[str], names: dict[str, list[str]]) -> set[str]:
    """The programmes whose own name states the role ("Modellprojekte Smart Cities", "EU-Missionslabel"):
    a role some catalogue programme is named for belongs to such programmes only."""
    return {pid for pid, spellings in names.items() if any(role_rx.search(s) for s in spellings)}


_owners_in_catalogue: list[tuple[Catalogue, list[set[str]]]] = []  # of the catalogue last asked about


def _catalogue_owners(cat: Catalogue) -> list[set[str]]:
    """_owners among the catalogue's programmes for each entry of _ROLE_CUES: the same for every article, so
    worked out once per catalogue (a few thousand regex searches, the most of an article's participations)."""
    if not _owners_in_catalogue or _owners_in_catalogue[0][0] is not cat:
        names = {p.programme_id: [p.name, *p.aliases] for p in cat.programmes}
        _owners_in_catalogue[:] = [(cat, [_owners(rx, names) for _role, rx in _ROLE_CUES])]
    return _owners_in_catalogue[0][1]


# Over the C901 bound: builds the shared token spans, then ties roles to cities.
def find_participations(text: str, cities: list[CityMention], programmes: list[ProgrammeMention],  # noqa: C901
                        catalogue: Catalogue | None = None) -> list[Participation]:
    """The part each city of `text` takes in each programme the text names: the role a sentence states about
    that city, else `mentioned` (one row per city and programme; a stated role replaces `mentioned`).

    A role word (the seed participation_roles) counts only in a sentence that names the city and ties the
    word to it: apposition ("Gera, Mentorstadt der ..."), a copula or a verb of holding ("Gera ist eines der
    Modellprojekte", "hat Gera das Label erhalten"), the word before the city or a list of them ("den
    Modellprojekten Gera und Jena"); the nearest city wins, a tie gives no role. A city after a preposition
    ("Der Auftakt fand in Gera statt") holds no role. A role some programme is named for ("Modellprojekt",
    "Missionslabel") goes to that programme only, and only when the article names it or the phrase does
    ("Modellprojekt Smart City Gera"): such a programme may be missing from `programmes`, see
    linked_programmes.
    """
    if not text or not cities:
        return []
    cat = catalogue or load_programme_catalogue()
    cues = _cue_spans(text)
    if not programmes and not cues:
        return []
    listed = {p.programme_id: p for p in programmes}
    # Programmes a role may go to: every catalogue programme, and the article's programmes found outside it.
    discovered = {p.programme_id: _programme_spellings(p, cat) for p in programmes if p.programme_id not in cat.by_id}
    restricted = {role: owners for (role, rx), known in zip(_ROLE_CUES, _catalogue_owners(cat), strict=True)
                  if (owners := known | _owners(rx, discovered))}

    prog_spans = [(s, e, pid) for pid, s, e in _catalogue_matches(text, cat)]
    for p in programmes:
        if p.programme_id not in cat.by_id:
            spelling = p.discovered_name or p.surface
            pos = text.find(spelling)
            while pos != -1 and len(prog_spans) < 10_000:
                prog_spans.append((pos, pos + len(spelling), p.programme_id))
                pos = text.find(spelling, pos + len(spelling))
    # A role word inside a programme's name names that programme ("Modellprojekt Smart City", "Missionslabel").
    prog_spans.sort()
    span_starts = [s for s, _, _ in prog_spans]
    longest = max((e - s for s, e, _ in prog_spans), default=0)
    cue_tokens: list[_Tok] = []
    for start, end, role in cues:
        i = bisect.bisect_left(span_starts, end)
        overlapping = [prog_spans[j] for j in range(i - 1, bisect.bisect_left(span_starts, start - longest) - 1, -1)
                       if prog_spans[j][1] > start]
        bound = max(overlapping, key=lambda span: (span[1] - span[0], -span[0]), default=None)
        if bound:
            start, end = min(start, bound[0]), max(end, bound[1])
        cue_tokens.append(_Tok("cue", start, end, role, bound[2] if bound else None))
    # A programme name overlapping a role word is part of that cue token (_non_overlapping keeps cues first).
    prog_tokens = [_Tok("prog", s, e, "", pid) for s, e, pid in prog_spans if pid in listed]
    pattern, spelling_ids = _city_pattern(cities)
    city_tokens = [_Tok("city", m.start(), m.end(), m.group(1).lower(), spelling_ids[m.group(1)])
                   for m in pattern.finditer(text)] if pattern else []

    specials = _non_overlapping(cue_tokens + prog_tokens + city_tokens)
    sentences = _sentences(text)
    by_sentence: list[list[_Tok]] = [[] for _ in sentences]
    starts = [a for a, _ in sentences]
    for tok in specials:
        i = bisect.bisect_right(starts, tok.start) - 1
        if i >= 0 and tok.end <= sentences[i][1]:
            by_sentence[i].append(tok)

    stated: dict[tuple[str, str, str], str] = {}
    for (a, b), found in zip(sentences, by_sentence, strict=True):
        if not any(t.kind == "cue" for t in found) or not any(t.kind == "city" for t in found):
            continue
        toks = _tokens(text, a, b, found)
        groups = _groups(toks)
        for q, tok in enumerate(toks):
            if tok.kind != "cue":
                continue
            holders = _holders(toks, groups, q)
            if not holders:
                continue
            programme = _programme_of(toks, q, listed, restricted.get(tok.text))
            if programme is None:
                continue
            for city_id in holders:
                if (city_id, programme, tok.text) not in stated:
                    stated[(city_id, programme, tok.text)] = _evidence(text, a, b, tok.start, tok.end)

    article_programmes = list(dict.fromkeys([*listed, *(pid for _, pid, _ in stated)]))
    out = [Participation(city_id=c, programme_id=p, role=r, evidence=e) for (c, p, r), e in stated.items()]
    with_role = {(c, p) for c, p, _ in stated}
    missing = set(itertools.islice(
        ((c.city_id, pid) for c in cities for pid in article_programmes if (c.city_id, pid) not in with_role),
        _MAX_MENTIONED))
    first = _first_shared_sentences(text, sentences, by_sentence, missing)
    out += [Participation(city_id=c, programme_id=p, role=MENTIONED, evidence=first.get((c, p)))
            for c, p in missing]
    order = {c.city_id: i for i, c in enumerate(cities)}
    rank = {pid: i for i, pid in enumerate(article_programmes)}
    return sorted(out, key=lambda x: (order.get(x.city_id, len(order)), rank[x.programme_id], x.role))


def linked_programmes(text: str, participations: list[Participation], programmes: list[ProgrammeMention],
                      catalogue: Catalogue | None = None) -> list[ProgrammeMention]:
    """`programmes` plus a mention of every programme only a participation names (a phrase such as
    "Modellprojekt Smart City Gera" that find_programmes did not see), so the article's programmes hold every
    programme its cities take part in."""
    have = {p.programme_id for p in programmes}
    extra = list(dict.fromkeys(p.programme_id for p in participations if p.programme_id not in have))
    if not extra:
        return programmes
    cat = catalogue or load_programme_catalogue()
    matches = _catalogue_matches(text, cat)
    added = []
    for pid in extra:
        span = next(((s, e) for p, s, e in matches if p == pid), None)
        evidence = next((p.evidence for p in participations if p.programme_id == pid and p.evidence), "")
        offset = span[0] if span else max(0, text.find(evidence))
        surface = text[span[0]:span[1]] if span else (cat.by_id[pid].name if pid in cat.by_id else pid)
        added.append(ProgrammeMention(programme_id=pid, surface=surface, offset=offset))
    return sorted([*programmes, *added], key=lambda p: p.offset)


def _cue_spans(text: str) -> list[tuple[int, int, str]]:
    spans = [(m.start(), m.end(), role) for role, rx in _ROLE_CUES for m in rx.finditer(text)]
    return _non_overlapping_spans(spans)


def _non_overlapping_spans(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda x: (x[0], -x[1])):
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out


def _non_overlapping(toks: list[_Tok]) -> list[_Tok]:
    """Cues first, then programmes, then cities: a city inside a programme's name is part of the name."""
    priority = {"cue": 0, "prog": 1, "city": 2}
    taken: list[_Tok] = []
    starts: list[int] = []
    for tok in sorted(toks, key=lambda t: (priority[t.kind], t.start, -t.end)):
        i = bisect.bisect_left(starts, tok.start)
        # The kept tokens do not overlap: only the one before and the one at i can overlap this one.
        if not any(t.start < tok.end and tok.start < t.end for t in taken[max(0, i - 1):i + 1]):
            taken.insert(i, tok)
            starts.insert(i, tok.start)
    return taken


def _tokens(text: str, a: int, b: int, specials: list[_Tok]) -> list[_Tok]:
    """The sentence text[a:b] as words, punctuation and the given city, cue and programme tokens; quotation
    marks are left out, a short parenthesis without such tokens is read past."""
    toks: list[_Tok] = []
    pos = a
    for special in [*specials, None]:
        end = special.start if special else b
        for m in _TOKEN.finditer(text, pos, end):
            word = m.group()
            toks.append(_Tok("word" if word[0].isalnum() else "punct", m.start(), m.end(), word.lower()))
        if special:
            toks.append(special)
            pos = special.end
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        if toks[i].text == "(" and toks[i].kind == "punct":
            close = next((j for j in range(i + 1, min(len(toks), i + _MAX_PARENTHESIS))
                          if toks[j].kind != "word"), None)
            if close is not None and toks[close].text == ")":
                i = close + 1
                continue
        out.append(toks[i])
        i += 1
    return out


def _groups(toks: list[_Tok]) -> dict[int, tuple[int, int]]:
    """For every city token: the (first, last) token of the list of cities it stands in ("A, B und C")."""
    group: dict[int, tuple[int, int]] = {}
    i = 0
    while i < len(toks):
        if toks[i].kind != "city":
            i += 1
            continue
        first = last = i
        while True:
            k = last + 1
            joined = False
            if k < len(toks) and toks[k].text == ",":
                k, joined = k + 1, True
            if k < len(toks) and toks[k].kind == "word" and toks[k].text in _JOINER:
                k, joined = k + 1, True
            while k < len(toks) and toks[k].kind == "word" and (toks[k].text in _DETERMINER or toks[k].text in _TITLES):
                k += 1
            if joined and k < len(toks) and toks[k].kind == "city":
                last = k
            else:
                break
        for j in range(first, last + 1):
            if toks[j].kind == "city":
                group[j] = (first, last)
        i = last + 1
    return group


def _word_before(toks: list[_Tok], i: int, skip: frozenset[str]) -> str | None:
    k = i - 1
    while k >= max(0, i - _MAX_SKIPPED) and toks[k].kind == "word" and (
            toks[k].text in skip or toks[k].text.isdigit()):
        k -= 1
    return toks[k].text if k >= 0 and toks[k].kind == "word" else None


def _governed(toks: list[_Tok], first: int) -> bool:
    """Whether the city list starting at token `first` follows a preposition: a place, not a holder."""
    word = _word_before(toks, first, _DETERMINER | _TITLES)
    return word in _PREPOSITION or word in _COMPANION


def _cue_governed(toks: list[_Tok], q: int) -> bool:
    """Whether the role word follows a preposition ("Geld aus dem Programm Modellprojekte ..."): it is then
    no predicate of the sentence's subject."""
    k = q - 1
    while k >= max(0, q - _MAX_SKIPPED) and toks[k].kind in ("word", "prog") and (
            toks[k].kind == "prog" or toks[k].text in _DETERMINER or toks[k].text.isdigit()
            or _HEAD_WORD.fullmatch(toks[k].text)):
        k -= 1
    return k >= 0 and toks[k].kind == "word" and toks[k].text in _PREPOSITION


def _next_holder(toks: list[_Tok], groups: dict[int, tuple[int, int]], q: int, step: int) -> int | None:
    """The nearest city token from the role word at q in direction `step` (+1 or -1) within _MAX_GAP tokens
    of one clause (words and programme names only), reading past cities after a preposition; None if none."""
    k = q + step
    while 0 <= k < len(toks) and abs(k - q) <= _MAX_GAP and toks[k].kind in ("word", "prog", "city"):
        if toks[k].kind == "city":
            first, last = groups[k]
            if not _governed(toks, first):
                return k
            k = first if step < 0 else last  # "neben Gera ist auch Jena ...": a place, read past
        k += step
    return None


def _members(toks: list[_Tok], first: int, last: int, whole: bool = True) -> tuple[int, ...]:
    """The city tokens of the list toks[first:last + 1]; without `whole`, only those up to a member with an
    article or title of its own ("dem Modellprojekt Gera und der Stadt Jena": the role word is Gera's)."""
    out: list[int] = []
    for k in range(first, last + 1):
        if toks[k].kind != "city":
            continue
        if out and not whole and toks[k - 1].kind == "word" and (
                toks[k - 1].text in _DETERMINER or toks[k - 1].text in _TITLES):
            break
        out.append(k)
    return tuple(out)


def _relative_clause_city(toks: list[_Tok], groups: dict[int, tuple[int, int]], q: int,
                          links: frozenset[str]) -> int | None:
    """The city token the relative clause holding the role word at q is about, when the clause opens right
    after that city ("Heidelberg, das ... das Label erhalten hat") and has a link word; else None."""
    k = q - 1
    while k >= 0 and q - k <= _MAX_RELATIVE and toks[k].kind in ("word", "prog"):
        k -= 1
    if not (k >= 1 and toks[k].text == "," and toks[k - 1].kind == "city" and k + 1 < q):
        return None
    pronoun = toks[k + 1].text
    first, last = groups[k - 1]
    several = len(_members(toks, first, last)) > 1 or _word_before(toks, first, frozenset()) in _TITLES
    if not (pronoun in _RELATIVE or (several and pronoun in _RELATIVE_PLURAL)):
        return None
    end = q + 1
    while end < len(toks) and end - q <= 3 and toks[end].kind in ("word", "prog"):
        end += 1
    clause = toks[k + 2:end]
    if _negated(toks, k + 2, end) or not any(t.kind == "word" and t.text in links for t in clause):
        return None
    return k - 1


def _negated(toks: list[_Tok], a: int, b: int) -> bool:
    """Whether a negation stands among toks[a:b] ("Gera ist kein Modellprojekt")."""
    return any(t.kind == "word" and t.text in _NEGATION for t in toks[max(0, a):b])


def _holders(toks: list[_Tok], groups: dict[int, tuple[int, int]], q: int) -> list[str]:
    """The city ids the role word at token q is said of, or [] when no city (or no single nearest one) is;
    `groups` are the city lists of the sentence (_groups)."""
    role = toks[q].text
    links = _COPULA | (_HOLDING if role in _HELD_ROLES else frozenset())
    after_as = _word_before(toks, q, frozenset()) in _AS
    candidates: list[tuple[int, tuple[int, ...]]] = []  # (distance, city tokens)

    # "Mentorstadt Gera", "den Modellprojekten Gera und Jena", "Projektpartner: Gera, Jena", "Partner wie Gera"
    k = q + 1
    if k < len(toks) and toks[k].text == ":":
        k += 1
    elif k + 1 < len(toks) and toks[k].text == "," and toks[k + 1].text in _EXAMPLE:
        k += 2
    while k < len(toks) and k - q <= 4 and (toks[k].kind == "prog" or (
            toks[k].kind == "word" and (toks[k].text in _TITLES or toks[k].text in _EXAMPLE))):
        k += 1
    if k < len(toks) and toks[k].kind == "city" and not _negated(toks, q - 2, k):
        candidates.append((k - q - 1, _members(toks, k, groups[k][1], whole=False)))

    # "Gera, Mentorstadt der ...", "Gera, eines der 73 Modellprojekte" (also after a preposition: "in Gera,
    # einer der Mentorstädte,")
    k, words = q - 1, 0
    while k >= 0 and toks[k].kind == "word" and words < _MAX_APPOSITION and toks[k].text not in links:
        k, words = k - 1, words + 1
    if k >= 1 and toks[k].text == "," and toks[k - 1].kind == "city" and not _negated(toks, k, q):
        candidates.append((q - k, _members(toks, *groups[k - 1])))
    else:  # "Heidelberg, das seit 2021 Mentorstadt ist", "Gera und Jena, die das Label erhalten haben"
        relative = _relative_clause_city(toks, groups, q, links)
        if relative is not None:
            candidates.append((q - relative - 1, _members(toks, *groups[relative])))

    # The subject before the role word: "Gera ist Mentorstadt", "Gera beteiligt sich als Partner",
    # "Gera hat das Label erhalten", "hat Gera das Label erhalten", "ist Gera seit 2021 Mentorstadt"
    holder = None if _cue_governed(toks, q) else _next_holder(toks, groups, q, -1)
    if holder is not None and not _negated(toks, holder, q):
        first = groups[holder][0]
        gap = toks[holder + 1:q]
        opener = gap[0].text if gap and gap[0].kind == "word" else None
        if gap and (opener in links or opener in _AS or after_as) or (
                len(gap) <= _MAX_INVERTED_GAP
                and _word_before(toks, first, _DETERMINER | _TITLES | _PARTICLE) in links):
            candidates.append((len(gap), _members(toks, *groups[holder])))

    # The subject after the role word: "Mentorstadt der ICC ist Gera", "Zu den Partnern gehören A und B",
    # "Als Mentorstadt unterstützt Gera ..."
    holder = _next_holder(toks, groups, q, 1)
    if holder is not None and holder - q > 1 and not _negated(toks, q, holder):
        gap = toks[q + 1:holder]
        if any(t.kind == "word" and t.text in links for t in gap) or (after_as and len(gap) == 1):
            candidates.append((len(gap), _members(toks, *groups[holder])))

    if not candidates:
        return []
    best = min(d for d, _ in candidates)
    nearest = {members for d, members in candidates if d == best}
    if len(nearest) != 1:
        return []  # two cities as near: in doubt, neither
    return list(dict.fromkeys(ref for k in nearest.pop() if (ref := toks[k].ref)))


def _programme_of(toks: list[_Tok], q: int, listed: dict[str, ProgrammeMention], owners: set[str] | None
                  ) -> str | None:
    """The programme the role word at token q is about: the one it is part of the name of; else the nearest
    one of the sentence (within _PROGRAMME_WINDOW tokens); else the article's only one. A role some programme
    is named for goes to those only."""
    cue = toks[q]
    if cue.ref:
        return cue.ref
    allowed = [pid for pid in listed if owners is None or pid in owners]
    window = range(max(0, q - _PROGRAMME_WINDOW), min(len(toks), q + _PROGRAMME_WINDOW + 1))
    near = sorted((abs(i - q), toks[i].ref) for i in window
                  if toks[i].kind in ("prog", "cue") and i != q and toks[i].ref in allowed)
    if near and (len(near) == 1 or near[0][0] != near[1][0] or near[0][1] == near[1][1]):
        return near[0][1]
    if near:
        return None
    return allowed[0] if len(allowed) == 1 else None


def _evidence(text: str, a: int, b: int, focus_start: int, focus_end: int) -> str:
    """The sentence text[a:b], or the 500 characters of it around the focus, on word boundaries."""
    if b - a <= 4 * _EVIDENCE_CHARS:  # only spaces may shrink it below the limit
        sentence = " ".join(text[a:b].split())
        if len(sentence) <= _EVIDENCE_CHARS:
            return sentence
    centre = (focus_start + focus_end) // 2
    lo = max(a, min(centre - _EVIDENCE_CHARS // 2, b - _EVIDENCE_CHARS))
    window = " ".join(text[lo:lo + _EVIDENCE_CHARS].split())
    if lo > a:
        window = window.split(" ", 1)[-1]
    if lo + _EVIDENCE_CHARS < b:
        window = window.rsplit(" ", 1)[0]
    return window[:_EVIDENCE_CHARS]


def _first_shared_sentences(text: str, sentences: list[tuple[int, int]], by_sentence: list[list[_Tok]],
                            pairs: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """For each (city, programme) pair: the first sentence naming both (within a budget of checks)."""
    found: dict[tuple[str, str], str] = {}
    budget = _PAIR_BUDGET
    for (a, b), toks in zip(sentences, by_sentence, strict=True):
        if len(found) == len(pairs) or budget <= 0:
            break
        city_ids = {t.ref for t in toks if t.kind == "city" and t.ref}  # a city token always has one
        programme_ids = {t.ref for t in toks if t.kind in ("prog", "cue") and t.ref}
        for c in city_ids:
            for p in programme_ids:
                budget -= 1
                if (c, p) in pairs and (c, p) not in found:
                    found[(c, p)] = _evidence(text, a, b, a, b)
    return found
