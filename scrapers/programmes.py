"""Find the funding programmes an article names, from the catalogue and by how names are written (pure)."""
from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from scrapers import vocabulary
from scrapers.gazetteer import norm_key
from scrapers.records import ProgrammeMention

__all__ = ["Catalogue", "Programme", "find_programmes", "load_programme_catalogue"]

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
        alts = []
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


# The roles a city can hold in a programme, with the words that state them: one vocabulary with dbt (the seed
# dbt/seeds/participation_roles.csv). `mentioned` has no pattern: it is what is left when no role is stated.
_ROLE_CUES: list[tuple[str, re.Pattern[str]]] = [
    (row["role"], re.compile(row["pattern"], re.IGNORECASE))
    for row in vocabulary.rows("participation_roles") if row["pattern"]]
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


def _role(text: str, offsets: list[int], programme: Programme | None) -> str | None:
    """The participation role stated near the mentions; "modellprojekt" only for a Modellprojekte programme."""
    spells = " ".join([programme.name, *programme.aliases]) if programme else ""
    windows = [text[max(0, o - 150):o + 150] for o in offsets]
    for role, rx in _ROLE_CUES:
        if role == "modellprojekt" and "Modellprojekt" not in spells:
            continue
        if any(rx.search(w) for w in windows):
            return role
    return None


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
    out = [ProgrammeMention(programme_id=pid, surface=surface, offset=min(offs),
                            role=_role(text, offs, cat.by_id.get(pid)),
                            discovered_name=disc)
           for pid, (surface, offs, disc) in found.items()]
    return sorted(out, key=lambda p: p.offset)


