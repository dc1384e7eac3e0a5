"""Find cities, funding programmes and dated events in article text (pure functions over text and records)."""
from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from scrapers import gazetteer as gz
from scrapers.dates import find_dates, find_times
from scrapers.gazetteer import Gazetteer, norm_key
from scrapers.records import ArticleRecord, City, CityMention, EventRecord, ProgrammeMention

__all__ = ["Catalogue", "Programme", "city_by_id", "city_by_name", "find_cities", "find_events",
           "find_programmes", "load_programme_catalogue"]

# ----------------------------------------------------------------------------------------------- cities


def _names(block: str) -> list[str]:
    """Words of a whitespace-separated block (keeps the long word lists below readable)."""
    return block.split()


# States, regions, rivers and countries: never a city, even where a village carries the same name.
# "Stadt Brandenburg" still reaches the city (a title noun before a blocked name lifts the block).
NOT_CITIES = {norm_key(n) for n in _names("""
Baden-Württemberg Bayern Berlin-Brandenburg Brandenburg Bremen-Nord Hessen Mecklenburg-Vorpommern Mecklenburg
Vorpommern Niedersachsen Nordrhein-Westfalen NRW Rheinland-Pfalz Saarland Sachsen Sachsen-Anhalt Schleswig-Holstein
 Thüringen Westfalen Rheinland Pfalz Baden Württemberg Holstein Franken Oberfranken Mittelfranken
Unterfranken Schwaben Oberbayern Niederbayern Oberpfalz Allgäu Erzgebirge Vogtland Lausitz Oberlausitz
Niederlausitz Spreewald Uckermark Prignitz Altmark Harz Eifel Hunsrück Westerwald Sauerland Siegerland
Münsterland Emsland Ostfriesland Friesland Nordfriesland Dithmarschen Niederrhein Ruhrgebiet Ruhr Ruhrpott
Südwestfalen Ostwestfalen Ostwestfalen-Lippe Lippe Bodensee Bodenseeregion Schwarzwald Odenwald Taunus Wetterau
Rhön Eichsfeld Altmark Elbe Saale Havel Spree Oder Main Rhein Mosel Neckar Donau Weser Isar Lahn Förde Ostsee
Nordsee Metropolregion Deutschland Österreich Schweiz Frankreich Italien Spanien Portugal Niederlande Holland
Belgien Luxemburg Dänemark Schweden Norwegen Finnland Island Irland Großbritannien England Schottland Wales
Polen Tschechien Slowakei Ungarn Slowenien Kroatien Rumänien Bulgarien Griechenland Zypern Malta Estland
Lettland Litauen Ukraine Russland Türkei Kanada USA Amerika China Japan Indien Israel Europa Elsass Tirol
Südtirol Vorarlberg Kärnten Steiermark Flandern Wallonien Katalonien Toskana Lombardei Schlesien Pommern
Ostpreußen Iowa Bund Land Region Stadt Kreis Landkreis
""")} | {norm_key(n) for n in ("Kreis Unna", "Rhein-Kreis Neuss", "Hohe Tatra")}

# Capitalised German words (nouns, and verbs or conjunctions at a sentence start) that are also place names.
# They count only after a title noun ("Stadt Halle") or as "in/aus/nach X" when X is a large town.
COMMON_WORDS = {norm_key(n) for n in _names("""
Acht Anger Appel Au Aue Auen Bach Bad Bann Bell Bengel Berg Berge Bergen Besitz Binnen Boden Bogen Born Brand
Bruch Buch Bühne Burg Damm Dingen Eich Eichen Einig Elend Ernst Esche Essen Fahren Fell Felde Fisch Forst Furth
Gering Neubau Altbau Graben Grube Grande Hahn Hain Halle Hardt Hatten Hausen Hecken Heide Heiden Hof Horn Horst
Hütten Insel Kalk Kalt Kappel Karl Kommen Korb Kraft Kuchen Kummer Lachen Lage Langen Lauf Laufen Lauter Leer
Lehre Lichte Linden List Loose Mandel Mantel Mark Mauer Mauern Meine Mitte Moos Much Murr Nagel Nahe Nebel Ohne
Osten Otter Pech Pracht Rain Rath Rech Regen Reich Rohr Rosa Rot Roth Rust Saal Salz Sand Sande Scheer Schuld
Schutz Seelen Senden Singen Sinn Sonnen Stein Stelle Tanne Thal Train Wald Wang Wangen Waren Wehr Weil Weiler
Welle Wellen Welt Wenden Werben Werder Werden Wetter Wiesen Winden Winzer Wissen Zell Zoo Mitte Holle Hohn
""")}

# Words before a name that say a place is meant: prepositions of place and nouns for a municipality.
_PLACE_PREPS = {"in", "aus", "nach", "von", "bis", "zwischen", "gen", "nahe", "bei"}
_TITLE_NOUNS = {norm_key(n) for n in _names("""
Stadt Gemeinde Landeshauptstadt Hauptstadt Hansestadt Kreisstadt Großstadt Universitätsstadt Kommune
Ortsgemeinde Marktgemeinde Stadtgemeinde Samtgemeinde Stadtverwaltung Gastgeberstadt Gastgeberkommune
Partnerstadt Nachbarstadt Modellkommune Modellstadt Gemeindeverwaltung Stadtrat Kreisstadt Bundesstadt
Messestadt Bischofsstadt Domstadt Residenzstadt Kurstadt Klingenstadt Ortschaft Dorf
""")}
# Streets and squares named after a city ("Weseler Straße", "Münchner Platz") are not that city.
_STREET_WORDS = re.compile(r"(straße|str\.|strasse|platz|allee|weg|ring|tor|brücke|damm|chaussee|ufer|landstraße"
                           r"|gasse|markt|berg|ei)\b", re.IGNORECASE)
# Phrases in which a city adjective names no place ("Pariser Klimaabkommen").
_FIXED_PHRASES = re.compile(r"\b(Pariser (Klima\w*|Abkommen|Übereinkommen)|Weimarer Republik|Wiener Schnitzel|"
                            r"Frankfurter (Würstchen|Kranz|Allgemeine)|Hamburger (Abendblatt|Menü)|"
                            r"Berliner Pfannkuchen|"
                            r"Leipziger Allerlei|Aachener Printen|Nürnberger (Lebkuchen|Prozesse)|Kieler Woche|"
                            r"Kasseler|Thüringer Klöße|Münchner Freiheit|Berliner Mauer|Bremer Stadtmusikanten|"
                            r"Kölner Dom|Dresdner Stollen|Dortmunder U)\b")
# Given names and titles before a surname that happens to be a town ("Christina Hammer").
_PERSON_BEFORE = {norm_key(n) for n in _names("""
Herr Frau Dr Prof Hans Peter Klaus Michael Thomas Andreas Stefan Stephan Christian Markus Frank Jürgen Uwe
Wolfgang Martin Jan Jens Dirk Jörg Ulf Felix Claus Nils Axel Anja Sabine Renate Michaela Christina Johannes
Sebastian Heiko Franziska Iris Nicole Kurt Angela Ullrich Ulrich Gerhard Patrick Sarah Anna Maria Julia Laura
Lisa Lena Katrin Petra Monika Susanne Andrea Claudia Karin Ute Birgit Heike Tanja Daniela Simone Melanie Sandra
Nadine Kerstin Silke Anke Tobias Florian Alexander Maximilian Lukas Paul Tim Tom Max Moritz Jonas Leon Niklas
David Daniel Philipp Matthias Sven Holger Ralf Rainer Bernd Dieter Manfred Helmut Werner Horst Günter Gerd Karl
Heinz Walter Fritz Otto Friedrich Wilhelm Georg Ludwig Robert Oliver Marco Mario Marc Simon Benjamin Jakob
Johanna Giulia Kader Denes Annekatrin Arend Roland Larissa Markus Gregor Thomas Dominik Carsten Torsten Volker
Norbert Reinhard Joachim Hubert Armin Olaf Angelika Gabriele Ursula Barbara Elke Gisela Ingrid Hildegard Ulrike
Stefanie Katharina Christine Kathrin Marion Bettina
""")}

_WORD = re.compile(r"[^\W\d_]+(?:['’]s\b)?")
_JOIN_OK = re.compile(r"^(?:\s+|-|\s*/\s*|\.\s*|\s+\(|\s*-\s*)$")
_GLUE_WORDS = {"am", "an", "der", "im", "in", "ob", "a", "d", "i", "bei", "vor", "auf", "unter", "ober", "dem",
               "den", "de", "la", "le", "sur", "upon", "on", "st", "sankt"}
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
    common: bool  # the surface is also an everyday word


def _adjective_forms(name: str) -> set[str]:
    forms = {name + "er"}
    if name.endswith("en"):
        forms |= {name[:-2] + "ner", name[:-2] + "er"}
    if name.endswith(("e", "a")):
        forms.add(name + ("r" if name.endswith("e") else "er"))
    return forms


_IRREGULAR_ADJECTIVES = {"Münsteraner": "Münster", "Hannoveraner": "Hannover", "Hallenser": "Halle (Saale)",
                         "Hallesche": "Halle (Saale)", "Bremer": "Bremen", "Göttinger": "Göttingen",
                         "Tübinger": "Tübingen", "Erlanger": "Erlangen", "Solinger": "Solingen",
                         "Recklinghäuser": "Recklinghausen", "Bielefelder": "Bielefeld",
                         "Gelsenkirchener": "Gelsenkirchen", "Wiener": "Wien", "Brüsseler": "Brüssel",
                         "Pariser": "Paris", "Londoner": "London", "Prager": "Prag", "Römer": "Rom",
                         "Zürcher": "Zürich", "Grazer": "Graz", "Linzer": "Linz", "Salzburger": "Salzburg",
                         "Lissabonner": "Lissabon", "Mailänder": "Mailand", "Kopenhagener": "Kopenhagen"}


@functools.lru_cache(maxsize=4)
def _adjective_index(gazetteer: Gazetteer) -> dict[str, str]:
    """City adjectives ("Dresdner" → Dresden) for German cities of 50,000 people or more."""
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
    for adj, name in _IRREGULAR_ADJECTIVES.items():
        resolved = gazetteer.resolve(name)
        if resolved:
            out[norm_key(adj)] = resolved.city_id
    for bad in ("hammer", "hofer", "weiler", "essener", "worser", "singener"):
        out.pop(bad, None)
    return out


def _prev_word(text: str, start: int) -> tuple[str, int]:
    m = re.search(r"([^\W\d_]+)\.?[\s(„\"]*$", text[max(0, start - 40):start])
    if not m:
        return "", -1
    return m.group(1), max(0, start - 40) + m.start(1)


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" „\"'(")
    return not before or before[-1] in ".!?:\n–—•-"


def _scan(text: str, gazetteer: Gazetteer) -> list[_Candidate]:
    """Every place-name candidate in text, longest phrase first at each position."""
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
        matched = 0
        for n in range(min(5, len(words) - i), 0, -1):
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
            if key in NOT_CITIES:
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
        surface, end = surface + text[end], end + 1  # "Zwönitz'": the genitive apostrophe
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
    if prev_key in _PERSON_BEFORE and not _sentence_start(text, start):
        return None
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
    elif kind == "name" and re.match(r"-?(straße|strasse|str\.|platz|allee)", text[end:end + 10], re.IGNORECASE):
        return None
    city = gazetteer.cities[city_ids[0]]
    titled = prev_key in _TITLE_NOUNS
    strong = titled or (prev.lower() in _PLACE_PREPS)
    return _Candidate(city, surface, start, end, kind, strong, titled, common)


def find_cities(text: str, gazetteer: Gazetteer | None = None) -> list[CityMention]:
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
    states = {c.city.admin1_code for c in cands if c.city.country_code == "DE"
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
    # Lists spread acceptance: "von Aalen bis Zwönitz", "Castrop-Rauxel und Schwerte".
    changed = True
    while changed:
        changed = False
        for k, c in enumerate(resolved):
            if accepted[k] or c.common:
                continue
            for j in (k - 1, k + 1):
                if 0 <= j < len(resolved) and accepted[j] and not resolved[j].common:
                    a, b = (resolved[j], c) if j < k else (c, resolved[j])
                    if re.fullmatch(r"\s*(,|und|oder|sowie|bis|&|/)\s*(der Stadt |die Stadt )?", text[a.end:b.start]):
                        accepted[k] = changed = True
                        break
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


# ------------------------------------------------------------------------------------------- programmes
DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "programmes.csv"
CATALOGUE_COLUMNS = ["programme_id", "name", "acronym", "aliases", "level", "funder", "start_year", "end_year", "url"]
LEVELS = {"EU", "federal", "state", "municipal"}
# Aliases kept for matching gold spellings but too generic to recognise a programme in running text alone.
_WEAK_ALIASES = {norm_key(a) for a in ("Zukunftsstadt", "Lighthouse Cities", "Smart Cities and Communities",
                                       "Digitale Modellregion", "Kommunalrichtlinie")}


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
    sep = r"[\s\-–‐_/„“”\"'»«‚‘’]*"
    body = sep.join(parts)
    if len(words) == 1 and words[0].isupper() and len(words[0]) <= 6:
        return r"(?-i:(?<![^\W_])" + body + r"(?![^\W\d_]))"
    return r"(?<![^\W_])" + body + r"(?![^\W\d_])"


def _build_catalogue(programmes: list[Programme]) -> Catalogue:
    patterns = []
    for p in programmes:
        alts = []
        for alias in sorted({p.name, p.acronym or "", *p.aliases} - {""}, key=len, reverse=True):
            if _loose(alias) in {_loose(w) for w in _WEAK_ALIASES}:
                continue
            pat = _alias_pattern(alias)
            if pat:
                alts.append(pat)
        if alts:
            patterns.append((p.programme_id, re.compile("|".join(alts), re.IGNORECASE)))
    return Catalogue(programmes=tuple(programmes), by_id={p.programme_id: p for p in programmes},
                     patterns=tuple(patterns))


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


_ROLE_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("mentor_city", re.compile(r"Mentor[\s-]?Cit(y|ies)|Mentor(en)?st(a|ä)dt", re.IGNORECASE)),
    ("label", re.compile(r"\b(Missions)?[Ll]abel|\bSiegel\b|Mission[\s-]Label", re.IGNORECASE)),
    ("modellprojekt", re.compile(r"Modellprojekts? (Smart[\s-]Cit(y|ies) )?[A-ZÄÖÜ][a-zäöüß]+|\bals Modellprojekt|"
                                 r"Modellkommunen?\b|Modellstadt", re.IGNORECASE)),
    ("partner", re.compile(r"\b(Projekt)?[Pp]artner(stadt|kommune|in|innen)?\b|Konsortium|teilnehmende[nr]? St(a|ä)dt",
                           re.IGNORECASE)),
]
_PROG_HEAD = (r"(?:Förderprogramm|Bundesförderprogramm|Bundesprogramm|Landesprogramm|Landesförderprogramm|"
              r"Förderprojekt|EU-Projekt|EU-Förderprojekt|EU-Forschungsprojekt|Horizon-Europe-Projekt|"
              r"Forschungsprogramm|Sonderprogramm|Förderinitiative|Förderaufruf|Programm|Wettbewerb)"
              r"(?:s|es|e|en)?")
_DISCOVER = [
    re.compile(_PROG_HEAD + r"\s+„([^“”\"\n]{3,70})[“”\"]"),
    re.compile(r"(?:EU-Projekt|EU-Förderprojekt|EU-Forschungsprojekt|Horizon-Europe-Projekt)(?:s|es|e|en)?\s+"
               r"((?:[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)(?:\s(?:for|4|of)\s[A-Z][A-Za-z]*)?"
               r"(?:\s(?:und|sowie)\s(?:[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*))*)"),
    re.compile(r"((?:[A-ZÄÖÜ][\w-]*\s){0,4}[A-ZÄÖÜ][\w-]*(?:programm|Programm|[Ii]nitiative|Challenge|Mission|"
               r"[Ww]ettbewerb|[Ff]onds))(?:es|s)?\s+\(([A-Z][A-Za-z]{1,7})\)"),
]


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), text.rfind("! ", 0, pos), text.rfind("? ", 0, pos))
    ends = [e for e in (text.find(". ", pos), text.find("\n", pos)) if e != -1]
    return start + 1, (min(ends) if ends else len(text))


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
    for pid, rx in cat.patterns:
        for m in rx.finditer(text):
            surface, offs, _ = found.setdefault(pid, (m.group(0), [], None))
            offs.append(m.start())
            taken.append(m.span())
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


# ----------------------------------------------------------------------------------------------- events
_EVENT_WORDS = re.compile(
    r"(?<![^\W\d_])(?:[\w-]*?(?:[Kk]onferenz|[Kk]ongress|[Ff]orum|[Ww]orkshop|[Ww]ebinar|[Tt]agung|[Ff]achtag|"
    r"[Mm]esse|[Aa]uftakt|[Vv]eranstaltung|[Pp]reisverleihung|[Ff]estival|[Ss]ymposium|[Ss]ummit|[Gg]ipfel|"
    r"[Nn]etzwerktreffen|[Bb]arcamp|[Hh]ackathon|[Ii]nfoabend|[Ii]nformationsabend|[Ff]achforum|[Ee]xkursion|"
    r"[Ss]itzung|[Vv]ortrag|[Pp]odiumsdiskussion|[Ee]mpfang|[Gg]ala|[Ss]precherrat|[Ss]tammtisch|"
    r"[Ll]abor?abend|[Aa]ktionstag|[Ii]nnovationstag|[Zz]ukunftstag|[Bb]ürgerdialog|[Ff]est(?!ival))|"
    r"Fest|Kick-off|Kickoff|Startschuss|Convention|Tag der offenen Tür)(?:[a-zäöüß]*)(?![^\W\d_])")
_ONLINE = re.compile(r"\b(online|Online|digital stattfind|virtuell|Livestream|Webinar|Web-Seminar|Zoom|"
                     r"Videokonferenz|Web-Konferenz)", re.IGNORECASE)
# A date after these words is a deadline or the page's own date, not the day of an event.
_NOT_EVENT_BEFORE = re.compile(r"(bis\s+(zum|spätestens)?|spätestens|Frist|Anmeldeschluss|Einsendeschluss|"
                               r"Bewerbungsschluss|Stand|veröffentlicht\s+am|Veröffentlicht\s+am|Nachricht vom|"
                               r"Pressemitteilung vom|seit|ab dem|ab|gültig)\W*$", re.IGNORECASE)
_VENUE = re.compile(r"\b(?:[Ii]m|[Ii]n der|[Ii]n den|[Ii]m Haus der|[Aa]uf dem|[Aa]uf der)\s+"
                    r"((?:[A-ZÄÖÜ][\w-]+)(?:\s(?:für|der|des|am|an der|zu)\s(?:[A-ZÄÖÜ][\w-]+)(?:\s[A-ZÄÖÜ][\w-]+)?)?)")
_VENUE_HEADS = re.compile(r"(Institut|Haus|Halle|hallen?\b|Zentrum|zentrum|Museum|museum|Saal|saal|Rathaus|forum\b|"
                          r"Forum\b|Arena|arena|Kongress|Theater|theater|Hotel|Bibliothek|bibliothek|Universität|"
                          r"Hochschule|Messe|Kirche|kirche|Schloss|Villa|Fabrik|Werk|Hafen|Bahnhof|[Pp]ark\b|Garten|"
                          r"Foyer|Aula|Campus|Stadion|Rotunde|Lab\b|Labor|Galerie|Speicher|Kulturhaus|Atelier)")
_DETAIL_VENUE_KEYS = ("veranstaltungsort", "ort", "venue", "location", "wo", "adresse", "veranstaltungsadresse")
_DETAIL_DATE_KEYS = ("datum", "termin", "date", "wann", "zeit", "zeitraum")
_DETAIL_TIME_KEYS = ("uhrzeit", "zeit", "time", "beginn")


_ABBREVIATIONS = {"Dr", "St", "ca", "Nr", "Prof", "bzw", "vgl", "ggf", "u.a", "z.B", "Str", "inkl", "evtl"}


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split at full stops before a capital letter, at line breaks and at dashes after a date."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"[.!?](?=\s+[„\"A-ZÄÖÜ])|\n", text):
        word = re.search(r"(\S*)$", text[max(0, m.start() - 12):m.start()]).group(1)
        if m.group(0) != "\n" and (word[-1:].isdigit() or word.isupper() or word in _ABBREVIATIONS):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _event_name(sentence: str, word: re.Match[str]) -> str:
    """The event's name: the event word with an ordinal before it and a title or genitive after it."""
    start, end = word.start(), word.end()
    ordinal = re.search(r"(\d{1,3}\.\s*)$", sentence[:start])
    if ordinal:
        start = ordinal.start()
    tail = sentence[end:]
    m = re.match(r"(\s+(?:der|des|zur|zum|für|über|zu|„)[^,;:()\n]*?)(?=\s+(?:am|vom|im|in|an|bei|mit|war|ist|"
                 r"wird|findet|fand|stand|steht|statt|lädt|hat|zeigte|zeigten|trafen)\b|[,;:()\n]|\.\s|$)", tail)
    if m and len(m.group(1)) < 90:
        end += m.end(1)
    quoted = re.match(r"\s*„[^“]{2,120}“", sentence[end:])
    if quoted:
        end += quoted.end()
    return sentence[start:end].strip(" ,.–-")


def _venue_from_details(details: dict[str, str]) -> str | None:
    for k, v in details.items():
        if k.strip().casefold().rstrip(":") in _DETAIL_VENUE_KEYS and v and v.strip():
            return v.strip()
    return None


def find_events(article: ArticleRecord, cities: list[CityMention],
                publisher_city_id: str | None = None) -> list[EventRecord]:
    """Dated events in an article: a date in a sentence with an event word (or right after a title that
    announces one), with its city ("in Konstanz", the venue's city, a city in that sentence, else the
    article's main city or the publisher's city). One event per (start date, city)."""
    reference = article.published_date
    parts = [article.title or ""]
    if article.teaser and article.teaser.strip() and article.teaser.strip() not in (article.body_text or ""):
        parts.append(article.teaser)
    parts.append(article.body_text or "")
    text = "\n".join(parts)
    details = {k: v for k, v in (article.details or {}).items() if isinstance(v, str)}
    g = gz.load()
    detail_venue = _venue_from_details(details)
    venue_city = None
    if detail_venue:
        vc = find_cities(detail_venue, g)
        venue_city = vc[-1].city_id if vc else None
    title_cities = find_cities(article.title or "", g)
    # The article's main city: the one in its title, else the first one named, else the publisher's.
    main_city = ((title_cities[0].city_id if title_cities else cities[0].city_id if cities else None)
                 or publisher_city_id)
    title_has_event = bool(_EVENT_WORDS.search(article.title or ""))
    sentences = _sentences(text)
    events: dict[tuple[dt.date, str | None], EventRecord] = {}

    def add(date, end_date, sentence: str, s_start: int, date_pos: int, word: re.Match[str] | None) -> None:
        if reference is not None and not (reference - dt.timedelta(days=180) <= date
                                          <= reference + dt.timedelta(days=550)):
            return  # a historical year or a far-off plan is not an event the article reports
        online = bool(_ONLINE.search(sentence)) and not re.search(r"\bin\s+[A-ZÄÖÜ]", sentence)
        city_id = None
        if not online:
            local = find_cities(sentence, g)
            after_in = [c for c in local if re.search(r"\b(in|nach)\s+(der\s+Stadt\s+)?$", sentence[:c.offset])]
            if after_in:
                city_id = min(after_in, key=lambda c: abs(c.offset - (date_pos - s_start))).city_id
            elif venue_city:
                city_id = venue_city
            elif local:
                city_id = min(local, key=lambda c: abs(c.offset - (date_pos - s_start))).city_id
            else:
                city_id = main_city
        key = (date, city_id if not online else "online")
        if key in events:
            return
        times = find_times(sentence) or [t for k, v in details.items()
                                         if k.strip().casefold().rstrip(":") in _DETAIL_TIME_KEYS
                                         for t in find_times(v)][:1]
        name = _event_name(sentence, word) if word else (
            _event_name(article.title, _EVENT_WORDS.search(article.title)) if title_has_event else sentence[:80])
        venue = detail_venue
        if venue is None:
            vm = next((v for v in _VENUE.finditer(sentence) if _VENUE_HEADS.search(v.group(1))
                       and not find_cities(v.group(1), g)), None)
            venue = vm.group(1) if vm else None
        events[key] = EventRecord(name=name or sentence[:80].strip(), start_date=date, evidence=sentence.strip()[:500],
                                  end_date=end_date, start_time=times[0].start_time if times else None,
                                  end_time=times[0].end_time if times else None,
                                  city_id=None if online else city_id, is_online=online, venue=venue)

    for s_start, s_end in sentences:
        sentence = text[s_start:s_end]
        words = list(_EVENT_WORDS.finditer(sentence))
        for span in find_dates(sentence, reference):
            before = sentence[:span.start]
            if _NOT_EVENT_BEFORE.search(before):
                continue
            # "14.08.2025 — ..." opening a paragraph is the publication date.
            if not before.strip() and re.match(r"\s*[—–-]", sentence[span.end:]):
                continue
            if words:
                word = min(words, key=lambda w: abs(w.start() - span.start))
                add(span.date, span.end_date, sentence, s_start, s_start + span.start, word)
            elif title_has_event and re.search(r"(^|\b)(Am|am|Vom|vom)\s*$", before[-12:]):
                add(span.date, span.end_date, sentence, s_start, s_start + span.start, None)
    # A details block ("Datum: 24. September 2025", "Veranstaltungsort: ...") describes the event itself.
    for k, v in details.items():
        if k.strip().casefold().rstrip(":") in _DETAIL_DATE_KEYS:
            spans = find_dates(v, reference)
            if spans:
                word = _EVENT_WORDS.search(article.title or "")
                sentence = f"{article.title}. {v}"
                add(spans[0].date, spans[0].end_date, sentence, 0, 0, None if word is None else word)
    return list(events.values())
