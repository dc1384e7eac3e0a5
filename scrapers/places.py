"""Find the cities an article refers to as places: gazetteer names judged by their context (pure functions)."""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from scrapers import gazetteer as gz
from scrapers import vocabulary
from scrapers.gazetteer import Gazetteer, norm_key
from scrapers.names import is_given_name
from scrapers.records import City, CityMention

__all__ = ["city_by_id", "city_by_name", "find_cities"]

# States, regions, rivers and countries: never a city, even where a village carries the same name.
# "Stadt Brandenburg" still reaches the city (a title noun before a blocked name lifts the block).
NOT_CITIES = frozenset(norm_key(n) for n in vocabulary.entries("not_cities"))
# Capitalised German words (nouns, and verbs or conjunctions at a sentence start) that are also place names.
# They count only after a title noun ("Stadt Halle") or as "in/aus/nach X" when X is a large town.
COMMON_WORDS = frozenset(norm_key(n) for n in vocabulary.entries("common_words"))
# Words before a name that say a place is meant: prepositions of place and nouns for a municipality.
_PLACE_PREPS = frozenset(vocabulary.entries("place_cues", kind="preposition"))
_TITLE_NOUNS = frozenset(norm_key(n) for n in vocabulary.entries("place_cues", kind="title"))
# Plural nouns that open a list of municipalities ("die Gemeinden Bunde, Jemgum und Moormerland").
_LIST_TITLES = frozenset(norm_key(n) for n in vocabulary.entries("place_cues", kind="list"))
_LIST_OPENING = re.compile(r"([^\W\d_]+)(?:\s+(?:" + vocabulary.words("place_cues", kind="list_link") + r"))?\s*:?\s*$")
_ARTICLES = frozenset(vocabulary.entries("place_cues", kind="article"))
_PERSON_TITLES = frozenset(norm_key(n) for n in vocabulary.entries("person_titles"))
# Streets and squares named after a city ("Weseler Straße", "Münchner Platz") are not that city.
_STREET_WORDS = re.compile(r"(" + vocabulary.words("street_words") + r")\b", re.IGNORECASE)
# The rest of a hyphenated street or square name after a word ("-Luther-Ring", "-Straße"): a name inside a
# street named after a person or a place refers to neither.
_IN_STREET_NAME = re.compile(r"(?:-[A-ZÄÖÜ][\wäöüß.]*)*-[\wäöüß]*(?:" + vocabulary.words(
    "street_words", in_hyphenated_name="yes") + r")(?![\wäöüß])", re.IGNORECASE)
# Phrases in which a city adjective names no place ("Pariser Klimaabkommen").
_FIXED_PHRASES = re.compile(r"\b(" + vocabulary.alternation("fixed_phrases") + r")\b")
_WORD = re.compile(r"[^\W\d_]+(?:['’]s\b)?")
_JOIN_OK = re.compile(r"^(?:\s+|-|\s*/\s*|\.\s*|\s+\(|\s*-\s*)$")
_GLUE_WORDS = frozenset(vocabulary.entries("name_glue_words"))
_SMALL = 20_000


@dataclass
class _Candidate:
    city: City
    surface: str
    start: int
    end: int
    kind: str  # name | adjective | genitive
    strong: bool  # a title noun or preposition of place stands before it
    titled: bool  # a title noun ("Stadt", "Gemeinde") stands before it
    listed: bool  # a plural title noun opens the list it stands in ("die Gemeinden A, B und C")
    common: bool  # the surface is also an everyday word


def _adjective_forms(name: str) -> set[str]:
    forms = {name + "er"}
    if name.endswith("en"):
        forms |= {name[:-2] + "ner", name[:-2] + "er"}
    if name.endswith(("e", "a")):
        forms.add(name + ("r" if name.endswith("e") else "er"))
    return forms



@functools.lru_cache(maxsize=4)
def _adjective_index(gazetteer: Gazetteer) -> dict[str, str]:
    """City adjectives ("Dresdner" → Dresden) for German cities of 50,000 people or more, and the irregular
    ones of the vocabulary; an entry there without a city says the word is no city's adjective."""
    out: dict[str, str] = {}
    for city in sorted(gazetteer.cities.values(), key=lambda c: c.population):
        if city.country_code != "DE" or city.population < 50_000:
            continue
        base = gz._DE_SUFFIX.sub("", city.name).strip()
        if norm_key(base) in COMMON_WORDS or " " in base:
            continue
        for form in _adjective_forms(base):
            key = norm_key(form)
            if key not in gazetteer.index:
                out[key] = city.city_id
    for row in vocabulary.rows("city_adjectives"):
        resolved = gazetteer.resolve(row["city"]) if row["city"] else None
        if resolved:
            out[norm_key(row["adjective"])] = resolved.city_id
        else:
            out.pop(norm_key(row["adjective"]), None)
    return out


def _prev_word(text: str, start: int) -> tuple[str, int]:
    m = re.search(r"([^\W\d_]+)\.?[\s(„\"]*$", text[max(0, start - 40):start])
    if not m:
        return "", -1
    return m.group(1), max(0, start - 40) + m.start(1)


def _sentence_start(text: str, pos: int) -> bool:
    # A bounded window: looking back over the whole text would make long articles quadratic.
    before = text[max(0, pos - 60):pos].rstrip(" „\"'(")
    return (not before and pos < 60) or (bool(before) and before[-1] in ".!?:\n–—•-")


_NOT_CITY_FIRST = {k.split()[0]: len(k.split()) for k in NOT_CITIES}


def _token_key(tok: str) -> str:
    key = unicodedata.normalize("NFC", tok).casefold().replace("ß", "ss")
    if key.endswith(("'s", "’s")):
        key = key[:-2]
    return "st" if key == "sankt" else key


def _max_words(tok: str, gazetteer: Gazetteer, adjectives: dict[str, str]) -> int:
    """How many words a place name starting with this word can have; 0 when no name starts with it."""
    key = _token_key(tok)
    first = gazetteer.first_words
    n = max(first.get(key, 0), _NOT_CITY_FIRST.get(key, 0))
    if key.endswith("s"):  # a genitive: "Kiels", "Dortmunds"
        n = max(n, first.get(key[:-1], 0))
    if key in adjectives:
        n = max(n, 1)
    return min(n, 5)


def _scan(text: str, gazetteer: Gazetteer) -> list[_Candidate]:
    """Every place-name candidate in text, longest phrase first at each position.

    Only words that start some name in the gazetteer are looked at (a dictionary look-up each), so the
    scan stays linear in the length of the text.
    """
    adjectives = _adjective_index(gazetteer)
    words = list(_WORD.finditer(text))
    out: list[_Candidate] = []
    i = 0
    while i < len(words):
        w = words[i]
        tok = w.group(0)
        if not tok[0].isupper() or (tok.isupper() and len(tok) < 5):
            i += 1
            continue
        longest = _max_words(tok, gazetteer, adjectives)
        if not longest:
            i += 1
            continue
        matched = 0
        for n in range(min(longest, len(words) - i), 0, -1):
            last = words[i + n - 1]
            if n > 1:
                if not last.group(0)[0].isupper() and last.group(0).lower() not in _GLUE_WORDS and not (
                        last.group(0).islower() and text[last.start() - 1] == "("):
                    continue
                if any(not _JOIN_OK.match(text[words[k].end():words[k + 1].start()]) for k in range(i, i + n - 1)):
                    continue
            end = last.end()
            if text[w.start():end].count("(") > text[w.start():end].count(")") and text[end:end + 1] == ")":
                end += 1
            surface = text[w.start():end]
            key = norm_key(surface)
            if key in NOT_CITIES or (key.endswith("s") and key[:-1] in NOT_CITIES):  # "Brandenburgs"
                prev, _ = _prev_word(text, w.start())
                if norm_key(prev) not in _TITLE_NOUNS:
                    matched = n
                    break
            cand = _lookup(key, surface, w.start(), end, text, gazetteer, adjectives)
            if cand is not None:
                out.append(cand)
                matched = n
                break
        i += max(matched, 1)
    return out


def _lookup(key: str, surface: str, start: int, end: int, text: str, gazetteer: Gazetteer,
            adjectives: dict[str, str]) -> _Candidate | None:
    kind = "name"
    city_ids: tuple[str, ...] = gazetteer.index.get(key, ())
    if not city_ids and text[end:end + 1] and text[end:end + 1] in "'’" and key.endswith(("s", "z", "x", "ß")):
        surface, end = surface + text[end], end + 1  # "Seelitz'": the genitive apostrophe
        city_ids = gazetteer.index.get(key, ())
    if not city_ids and key.endswith("s") and len(key) > 4:
        city_ids, kind = gazetteer.index.get(key[:-1], ()), "genitive"
    if not city_ids and key.endswith(("'s", "’s")):
        city_ids, kind = gazetteer.index.get(key[:-2], ()), "genitive"
    if not city_ids and key in adjectives:
        city_ids, kind = (adjectives[key],), "adjective"
    if not city_ids:
        return None
    prev, _ = _prev_word(text, start)
    prev_key = norm_key(prev)
    if (prev_key in _PERSON_TITLES or is_given_name(prev)) and not _sentence_start(text, start):
        return None  # "Frau Hammer", "Christina Hammer": a surname
    if (kind == "name" and prev in _ARTICLES and text[start - 1:start].isspace()
            and not text[max(0, start - 60):start].rstrip()[:-len(prev)].rstrip().endswith(",")):
        return None  # "das Essen", "die Gräben": a noun; a place takes no article (", den X" is a pronoun)
    base_key = key if kind != "genitive" else key.rstrip("s").rstrip("'’")
    common = base_key in COMMON_WORDS
    if kind == "adjective":
        after = text[end:end + 40]
        # An adjective qualifies a following noun; a street name is no reference to the city.
        if not re.match(r"\s+[A-ZÄÖÜ]", after) or re.match(r"\s*-?\s*" + _STREET_WORDS.pattern, after,
                                                           re.IGNORECASE):
            return None
        if _FIXED_PHRASES.match(text, start):
            return None
    elif kind == "name" and (re.match(r"-?(straße|strasse|str\.|platz|allee)", text[end:end + 10], re.IGNORECASE)
                             or _IN_STREET_NAME.match(text, end)):
        return None
    if common and re.match(r"\s+\d", text[end:end + 3]):
        return None  # "Halle 5", "Essen 2": a numbered hall or dish, not the town
    city = gazetteer.cities[city_ids[0]]
    titled = prev_key in _TITLE_NOUNS
    strong = titled or (prev.lower() in _PLACE_PREPS)
    opening = _LIST_OPENING.search(text, max(0, start - 40), start)
    listed = opening is not None and norm_key(opening.group(1)) in _LIST_TITLES
    return _Candidate(city, surface, start, end, kind, strong=strong or listed, titled=titled or listed, listed=listed,
                      common=common)


# What joins the names of a list; a region in brackets may follow a name ("Blankenburg (Harz) und Ilsenburg").
_LIST_JOINER = re.compile(r"\s*(?:\([^()]{1,30}\)\s*)?(,|und|oder|sowie|bis|&|/)\s*(der Stadt |die Stadt )?")
_LIST_JOINER_COMMON = re.compile(r"\s*(,|und|oder|sowie|&|/)\s*")


# Over the C901 bound: the cue rules of the docstring over shared candidates.
def find_cities(text: str, gazetteer: Gazetteer | None = None) -> list[CityMention]:  # noqa: C901
    """Cities referred to as places in `text`: one mention per city, at its first occurrence.

    Small places (under 20,000 people) and names that are also everyday words need a cue: a title
    noun ("Stadt", "Gemeinde"), a preposition of place, a list with other cities, or a repeat. States,
    regions and countries are never cities; districts inside a large city are dropped.
    """
    if not text:
        return []
    g = gazetteer or gz.load()
    cands = _scan(text, g)
    # Resolve homonyms with the states of the unambiguous cities in the same text.
    states = {c.city.admin1_code for c in cands if c.city.country_code == "DE" and c.city.admin1_code is not None
              and len(g.index.get(norm_key(c.city.name), ())) == 1}
    resolved: list[_Candidate] = []
    for c in cands:
        if c.kind == "name":
            better = g.resolve(c.surface.rstrip("'’"), states)
            if better is not None:
                c.city = better
        resolved.append(c)
    counts: dict[str, int] = {}
    for c in resolved:
        counts[c.city.city_id] = counts.get(c.city.city_id, 0) + 1

    def plain_ok(c: _Candidate) -> bool:
        if c.common:
            return c.titled or (c.strong and c.city.population >= _SMALL and _prev_word(text, c.start)[0].lower() in
                                {"in", "aus", "nach"})
        if c.city.population >= _SMALL or c.kind == "adjective":
            return True
        return c.strong or counts[c.city.city_id] >= 2

    accepted = [plain_ok(c) for c in resolved]

    def joined(a: _Candidate, b: _Candidate, joiner: re.Pattern[str] = _LIST_JOINER) -> bool:
        return bool(joiner.fullmatch(text, a.end, b.start))

    # A list of German towns supports each of its names ("Bad Reichenhall und Tittmoning"), when they are
    # no everyday words and one of them is no hamlet.
    for k in range(len(resolved) - 1):
        a, b = resolved[k], resolved[k + 1]
        if (not a.common and not b.common and a.kind == b.kind == "name" and joined(a, b)
                and a.city.country_code == b.city.country_code == "DE"
                and max(a.city.population, b.city.population) >= 5_000):
            accepted[k] = accepted[k + 1] = True
    # Lists spread acceptance: "von Aalen bis Zittau", "Castrop-Rauxel und Schwerte". From each accepted
    # name to its neighbours, each name once: a long list accepted from its far end costs one pass, not one
    # pass per name.
    spreading = [j for j, ok in enumerate(accepted) if ok and (not resolved[j].common or resolved[j].listed)]
    while spreading:
        j = spreading.pop()
        for k in (j - 1, j + 1):
            if not 0 <= k < len(resolved) or accepted[k]:
                continue
            c = resolved[k]
            # An everyday word joins a list only as a big city ("Essen und Oberhausen", not "Essen und Wald"),
            # or in a list a plural title noun opens ("die Kommunen Wissen, Betzdorf und Daaden").
            in_titled_list = resolved[j].listed
            if c.common and not in_titled_list and (c.city.population < 100_000 or c.kind != "name"):
                continue
            a, b = (resolved[j], c) if j < k else (c, resolved[j])
            joiner = _LIST_JOINER_COMMON if c.common and not in_titled_list else _LIST_JOINER
            if joined(a, b, joiner):
                accepted[k] = True
                c.listed = c.listed or in_titled_list
                if not c.common or in_titled_list:
                    spreading.append(k)
    mentions: dict[str, CityMention] = {}
    for ok, c in zip(accepted, resolved, strict=True):
        if not ok or c.city.city_id in mentions:
            continue
        if g.enclosing_city(c.city):
            continue  # a district such as Hörde or Friedrichstadt: not a city of its own
        mentions[c.city.city_id] = CityMention(city_id=c.city.city_id, name=c.city.name, surface=c.surface,
                                               offset=c.start)
    return sorted(mentions.values(), key=lambda m: m.offset)


def city_by_id(city_id: str) -> City | None:
    """The gazetteer entry for a GeoNames id (for writing raw.cities)."""
    return gz.load().get(str(city_id))


def city_by_name(name: str) -> City | None:
    """The gazetteer entry a plain city name means ("Dresden", "Halle (Saale)"), or None."""
    if not name or not name.strip():
        return None
    return gz.load().resolve(name.strip())

