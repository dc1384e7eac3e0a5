"""Find cities, funding programmes and dated events in article text (pure functions over text and records)."""
from __future__ import annotations

import bisect
import csv
import dataclasses
import datetime as dt
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scrapers import gazetteer as gz
from scrapers.dates import DateSpan, find_dates, find_times, is_plausible
from scrapers.gazetteer import Gazetteer, norm_key
from scrapers.records import ArticleRecord, City, CityMention, EventRecord, ProgrammeMention

__all__ = ["EVENT_TYPES", "Catalogue", "Programme", "city_by_id", "city_by_name", "event_type", "find_address",
           "find_cities", "find_events", "find_organiser",
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
Echt Helden Wisch Velden Borne Ulft Gendt Wehl
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
# The rest of a hyphenated street or square name after a word ("-Luther-Ring", "-Straße"): a name inside a
# street named after a person or a place refers to neither.
_IN_STREET_NAME = re.compile(r"(?:-[A-ZÄÖÜ][\wäöüß.]*)*-[\wäöüß]*(?:straße|strasse|str\.|platz|allee|weg|ring"
                             r"|gasse|damm|ufer|chaussee|brücke|promenade|steig|pfad|kai)(?![\wäöüß])", re.IGNORECASE)
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
Stefanie Katharina Christine Kathrin Marion Bettina Svenja Jana Jasmin Janina Jessica Vanessa Saskia Carina
Carolin Caroline Charlotte Clara Klara Emma Emilia Mia Hannah Hanna Lea Leonie Luisa Louisa Marie Sophie Sofia
Amelie Antonia Theresa Teresa Helena Elena Greta Ida Frieda Ella Lina Nina Eva Miriam Judith Ruth Esther Rebecca
Nora Paula Pia Alina Annika Anne Anna-Lena Britta Dagmar Doris Edith Erika Gudrun Hannelore Heidi Helga Ilse
Irmgard Jutta Karla Karola Lydia Margit Margarete Marlene Martina Regina Rita Rosemarie Sigrid Sonja Tamara Vera
Viola Waltraud Wiebke Yvonne Constanze Cornelia Friederike Henrike Ines Isabel Isabell Kirsten Manuela Mareike
Meike Nadja Natalie Ramona Sabrina Stephanie Svea Tina Verena Beate Bärbel Brigitte Christiane Diana Franziska
Lars Lutz Malte Marcel Mathias Mathis Nico Niko Ole Oskar Pascal Rene René Robin Rolf Rüdiger Sascha Steffen
Thorsten Timo Tino Ulrich Wilfried Winfried Achim Alfred Bernhard Bruno Detlef Eckhard Egon Erich Ernst Erwin
Gerald Gottfried Günther Hartmut Heiner Helmuth Henning Herbert Hermann Hinrich Ingo Jochen Konrad Kai Lothar
Manuel Mirko Rudolf Siegfried Tilo Till Theo Valentin Vincent Wolf Benedikt Christoph Clemens Fabian Hendrik
Henrik Jannik Jannis Jonathan Julian Justus Kevin Konstantin Leonard Linus Lucas Luca Marius Mats Nick Noah
Ben Elias Emil Erik Finn Hannes Henry Jakob Jan-Peter Joscha Karsten Knut Leo Magnus Mattis Quentin Raphael
Rafael Sören Stephen Steven Sebastian Silvio Timm Tjark Vinzenz Yannick Ahmet Mehmet Ali Murat Can Deniz Elif
Aylin Ayşe Fatma Emre Yusuf Olga Irina Natalia Katarzyna Agnieszka Piotr Tomasz Jean Pierre Marc-André
John James Mark Paul-Henri Jörn Jost Gunnar Harald Ruben Jürgen-Peter Ann Anneliese
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
    elif kind == "name" and (re.match(r"-?(straße|strasse|str\.|platz|allee)", text[end:end + 10], re.IGNORECASE)
                             or _IN_STREET_NAME.match(text, end)):
        return None
    city = gazetteer.cities[city_ids[0]]
    titled = prev_key in _TITLE_NOUNS
    strong = titled or (prev.lower() in _PLACE_PREPS)
    return _Candidate(city, surface, start, end, kind, strong, titled, common)


_LIST_JOINER = re.compile(r"\s*(,|und|oder|sowie|bis|&|/)\s*(der Stadt |die Stadt )?")
_LIST_JOINER_COMMON = re.compile(r"\s*(,|und|oder|sowie|&|/)\s*")


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
    # Lists spread acceptance: "von Aalen bis Zittau", "Castrop-Rauxel und Schwerte". From each accepted
    # name to its neighbours, each name once: a long list accepted from its far end costs one pass, not one
    # pass per name.
    spreading = [j for j, ok in enumerate(accepted) if ok and not resolved[j].common]
    while spreading:
        j = spreading.pop()
        for k in (j - 1, j + 1):
            if not 0 <= k < len(resolved) or accepted[k]:
                continue
            c = resolved[k]
            # An everyday word joins a list only as a big city ("Essen und Oberhausen", not "Essen und Wald").
            if c.common and (c.city.population < 100_000 or c.kind != "name"):
                continue
            a, b = (resolved[j], c) if j < k else (c, resolved[j])
            joiner = _LIST_JOINER_COMMON if c.common else _LIST_JOINER
            if joiner.fullmatch(text, a.end, b.start):
                accepted[k] = True
                if not c.common:
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


# ------------------------------------------------------------------------------------------- programmes
DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "programmes.csv"
CATALOGUE_COLUMNS = ["programme_id", "name", "acronym", "aliases", "level", "funder", "start_year", "end_year", "url"]
LEVELS = {"EU", "federal", "state", "municipal"}
# Aliases kept for matching gold spellings but too generic to recognise a programme in running text alone.
_WEAK_ALIASES = {norm_key(a) for a in ("Zukunftsstadt", "Lighthouse Cities", "Smart Cities and Communities",
                                       "Digitale Modellregion", "Kommunalrichtlinie", "Kommunen innovativ")}


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
    # A name starts where a word starts: tried at every capital inside a long word instead, the pattern would
    # scan the rest of the word from each one (minutes on a page with a long run of letters).
    re.compile(r"(?<![\w-])((?:[A-ZÄÖÜ][\w-]*\s){0,4}[A-ZÄÖÜ][\w-]*(?:programm|Programm|[Ii]nitiative|Challenge|"
               r"Mission|[Ww]ettbewerb|[Ff]onds))(?:es|s)?\s+\(([A-Z][A-Za-z]{1,7})\)"),
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


# ----------------------------------------------------------------------------------------------- events
_EVENT_WORDS = re.compile(
    r"(?<![^\W\d_])(?:[\w-]*?(?:[Kk]onferenz|[Kk]ongress|[Ff]orum|[Ww]orkshop|[Ww]ebinar|[Tt]agung|[Ff]achtag|"
    r"(?<=[\w-])messe|Messe|[Aa]uftakt|[Vv]eranstaltung|[Pp]reisverleihung|[Ff]estival|[Ss]ymposium|[Ss]ummit|[Gg]ipfel|"
    r"[Nn]etzwerktreffen|[Bb]arcamp|[Hh]ackathon|[Ii]nfoabend|[Ii]nformationsabend|[Ff]achforum|[Ee]xkursion|"
    r"[Ss]itzung|(?<=[\w-])vortrag|Vortrag(?!en)|[Pp]odiumsdiskussion|(?<=[\w-])empfang|Empfang|[Gg]ala|[Ss]precherrat|[Ss]tammtisch|"
    r"[Ll]abor?abend|[Aa]ktionstag|[Ii]nnovationstag|[Zz]ukunftstag|[Bb]ürgerdialog|(?<=[\w-])fest(?!ival|ge|st|l|e[nr]?\b)|"
    r"[Vv]ersammlung|[Ss]eminar|[Dd]iskussionsabend|[Tt]hemenabend|[Bb]ürgerabend|[Ff]achgespräch|"
    r"[Ww]erkstattgespräch|[Ee]xpertengespräch|[Bb]ürgergespräch|[Ee]inweihung|[Ee]röffnung|(?<=[\w-])feier|Feier(?!n)|"
    r"[Pp]räsentation|[Rr]undgang|[Ss]paziergang|[Aa]ktionswoche|[Tt]hemenwoche|[Dd]igitalwoche|[Aa]usstellung|"
    r"[Mm]eetup|[Ee]xpo\b|(?<=[\w-])treffen|Treffen|[Ss]prechstunde|[Ff]ragestunde|(?<=[a-zäöü-])tag(?=e?s?\b))|"
    r"Fest|Kick-off|Kickoff|Startschuss|Convention|Tag der offenen Tür)(?:[a-zäöüß]*)(?![^\W\d_])")
# Every stem of an event word, for a fast first pass over long texts (a superset of _EVENT_WORDS).
_EVENT_STEMS = (
    "konferenz", "kongress", "forum", "workshop", "webinar", "tagung", "fachtag", "messe", "auftakt",
    "veranstaltung", "verleihung", "festival", "symposium", "summit", "gipfel", "treffen", "barcamp", "hackathon",
    "abend", "exkursion", "sitzung", "vortrag", "diskussion", "empfang", "gala", "sprecherrat", "stammtisch", "tag",
    "bürgerdialog", "fest", "versammlung", "seminar", "gespräch", "einweihung", "eröffnung", "feier", "präsentation",
    "rundgang", "spaziergang", "woche", "ausstellung", "meetup", "expo", "kick", "startschuss", "convention",
    "stunde",
)
# "am 5. Mai", "am Dienstag, 14. Oktober", "vom 3. bis": a date that may follow a title announcing an event.
_AM_DATE = re.compile(r"\b[Aa]m\s+(?:[A-Z][a-z]+,?\s+)?\d|\b[Vv]om\s+\d")
# Compounds of "-tag" that name a weekday, a parliament or a date, never an event ("Digitaltag" is one).
_NOT_EVENT_TAG = re.compile(r"(?:mon|diens|donners|frei|sams|sonn|feier|land|bundes|kreis|all|geburts|jahres|stich|"
                            r"werk|vor|folge|wochen|arbeits|schul|kalender|ruhe|namens|gedenk|städte|gemeinde|"
                            r"landkreis|brücken|wahl|erscheinungs|sitzungs|mitt|nachmit|stadt)tag(?:e|es|en|s)?$",
                            re.IGNORECASE)


def _event_words(text: str) -> list[re.Match[str]]:
    """The event words in `text`, without weekdays and other "-tag" compounds that name no event."""
    return [w for w in _EVENT_WORDS.finditer(text) if not _NOT_EVENT_TAG.search(w.group(0))]


def _first_event_word(text: str) -> re.Match[str] | None:
    words = _event_words(text)
    return words[0] if words else None


def _stem_positions(text: str) -> list[int]:
    """Sorted offsets of every event-word stem in `text` (str.find on the lower-cased text: fast on long texts)."""
    low = text.lower()
    out = []
    for stem in _EVENT_STEMS:
        pos = low.find(stem)
        while pos != -1:
            out.append(pos)
            pos = low.find(stem, pos + 1)
    return sorted(out)


_ONLINE = re.compile(r"\b(online|Online|digital stattfind|virtuell|Livestream|Webinar|Web-Seminar|Zoom|"
                     r"Videokonferenz|Web-Konferenz)", re.IGNORECASE)
# A date after these words is a deadline or the page's own date, not the day of an event.
_NOT_EVENT_BEFORE = re.compile(r"(bis\s+(zum|spätestens)?|spätestens|Frist|Anmeldeschluss|Einsendeschluss|"
                               r"Bewerbungsschluss|Stand|veröffentlicht\s+am|Veröffentlicht\s+am|Nachricht vom|"
                               r"Pressemitteilung vom|seit|ab dem|ab|gültig)\W*$", re.IGNORECASE)
# A deadline named earlier in the clause ("Anmeldeschluss für die Konferenz ist der 15. September").
_DEADLINE_BEFORE = re.compile(r"(Anmeldeschluss|Bewerbungsschluss|Einsendeschluss|Abgabeschluss|Antragsschluss|"
                              r"Anmeldefrist|Bewerbungsfrist|Einreichungsfrist|Deadline|Stichtag)\b[^.;]{0,40}$",
                              re.IGNORECASE)
# ... or a verb of applying right after it ("bis 31. März eingereicht werden").
_DEADLINE_AFTER = re.compile(r"^\W{0,3}(?:\d{4}\s*)?(?:\w+\s+){0,3}(eingereicht|beantragt|einzureichen|zu beantragen|"
                             r"anzumelden|bewerben)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(fand|fanden|war|waren|hatte|hatten|trafen|kamen|diskutierten|diskutierte|zeigte|zeigten|"
                   r"stellte|stellten|präsentierte|präsentierten|nahmen|besuchten|ging|gingen|wurde|wurden|"
                   r"beteiligten|folgten|erlebten|sprach|sprachen|informierten|verteilt|unterzeichnet|"
                   r"eröffnete|eröffneten|zog|zogen|lud|luden)\b")
_FUTURE = re.compile(r"\b(findet|finden|wird|werden|folgt|folgen|lädt|laden|soll|sollen|plant|geplant|"
                     r"beginnt|startet|können|kann|erwartet|anmelden|Anmeldung|bevorstehend\w*)\b")
_VENUE = re.compile(r"\b(?:[Ii]m|[Ii]n der|[Ii]n den|[Ii]m Haus der|[Aa]uf dem|[Aa]uf der)\s+"
                    r"((?:[A-ZÄÖÜ][\w-]+)(?:\s(?:für|der|des|am|an der|zu)\s(?:[A-ZÄÖÜ][\w-]+)(?:\s[A-ZÄÖÜ][\w-]+)?)?)")
_VENUE_HEADS = re.compile(r"(Institut|Haus|Halle|hallen?\b|Zentrum|zentrum|Museum|museum|Saal|saal|Rathaus|forum\b|"
                          r"Forum\b|Arena|arena|Kongress|Theater|theater|Hotel|Bibliothek|bibliothek|Universität|"
                          r"Hochschule|Messe|Kirche|kirche|Schloss|Villa|Fabrik|Werk|Hafen|Bahnhof|[Pp]ark\b|Garten|"
                          r"Foyer|Aula|Campus|Stadion|Rotunde|Lab\b|Labor|Galerie|Speicher|Kulturhaus|Atelier|Konzil)")
_DETAIL_VENUE_KEYS = ("veranstaltungsort", "ort", "venue", "location", "wo", "adresse", "veranstaltungsadresse",
                      "anschrift")
_DETAIL_DATE_KEYS = ("datum", "termin", "date", "wann", "zeit", "zeitraum")
_DETAIL_TIME_KEYS = ("uhrzeit", "zeit", "time", "beginn")
_DETAIL_ORGANISER_KEYS = ("veranstalter", "veranstalterin", "veranstaltende", "organisator", "organisation",
                          "ausrichter", "ausrichterin", "gastgeber", "gastgeberin", "organizer")

# The kinds of event, from the event word: one vocabulary with dbt (the seed dbt/seeds/event_types.csv, which
# says why each kind is there). First match wins, so compounds go before their heads; `other` has no pattern.
EVENT_TYPES_FILE = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "event_types.csv"


def _read_event_types(path: Path = EVENT_TYPES_FILE) -> tuple[tuple[str, re.Pattern[str]], ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return tuple((row["event_type"], re.compile(row["pattern"], re.IGNORECASE)) for row in rows if row["pattern"])


EVENT_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = _read_event_types()
_ABBREVIATIONS = {"Dr", "St", "ca", "Nr", "Prof", "bzw", "vgl", "ggf", "u.a", "z.B", "Str", "inkl", "evtl"}
# Words that open a sentence or a phrase but never an event's name.
_NAME_STOP = {norm_key(w) for w in _names("""
Am Im Beim Bei Der Die Das Dem Den Des Zum Zur Auf Aus In Nach Vom Von Ein Eine Einen Einem Einer Auch Zudem Dann
Danach Zuvor Schon Bereits Nun Jetzt Mit Für Über Unter Wie Wer Was Als Und Oder Diese Dieser Dieses Ihre Ihr Sein
Seine Unsere Unser Erste Ersten Nächste Nächsten Zweite Zweiten Dritte Dritten Neue Neuen Große Großen Jährliche
Jährlichen Ab Bis Seit Während Wegen Trotz Rund Insgesamt Heute Morgen Gestern Dort Hier So Doch Bislang
Anschließend Zum Ende Beginn Anfang Mitte Ende Woche Monat Jahr Tag Tage Tagen
""")}
_ADDRESS = re.compile(
    r"((?:Am|An der|An den|Auf der|Auf dem|Im|In der|Zum|Zur)\s[A-ZÄÖÜ][\wäöüß-]+\s\d+\s?[a-z]?"
    r"|(?:[A-ZÄÖÜ][\wäöüß.-]*[ -]){0,3}(?:[A-ZÄÖÜ][\wäöüß.-]*(?:straße|str\.|weg|platz|allee|gasse|ring|damm|"
    r"ufer|markt|chaussee|steig|promenade|hof|berg|tor|kai)|(?:Straße|Platz|Weg|Allee|Gasse|Ring|Markt|Ufer|Kai|"
    r"Damm|Chaussee|Promenade)(?:\s(?:der|des|am)\s[A-ZÄÖÜ][\wäöüß-]+)?)(?:\s+\d+\s?[a-z]?(?:\s?[-–]\s?\d+)?)?)"
    r",?\s+(\d{5})\s+((?:(?:Bad|Sankt|St\.|Groß|Klein|Neu|Alt|Hohen)\s)?[A-ZÄÖÜ][\wäöüß-]*(?:/[A-ZÄÖÜ][\wäöüß]+)?"
    r"(?:\s(?:\([^)]{2,20}\)|(?:an|am|im|in|ob|bei)\s(?:der\s)?[A-ZÄÖÜ][\wäöüß-]+))?)")
_ORGANISER = [
    re.compile(r"\bVeranstalter(?:in|innen)?\s*(?:ist|sind|war|waren|:)\s+(?P<o>[^.;\n]{3,120})"),
    re.compile(r"\b(?:[Vv]eranstaltet|[Oo]rganisiert|[Aa]usgerichtet)\s+(?:wird\s+(?:sie|er|es|das\s+\w+|die\s+\w+|"
               r"der\s+\w+)\s+|wurde\s+(?:sie|er|es|das\s+\w+|die\s+\w+|der\s+\w+)\s+|werden\s+|wurden\s+)?"
               r"(?:von|vom|durch)\s+(?P<o>[^.;\n]{3,120})"),
    re.compile(r"\b(?:Gastgeber(?:in)?|Ausrichter(?:in)?)\s+(?:ist|sind|war|waren)\s+(?P<o>[^.;\n]{3,120})"),
    re.compile(r"\bauf Einladung\s+(?P<o>(?:der|des|von)\s[^.;,\n]{3,100})"),
    re.compile(r"(?:^|[.!?]\s+|\n)(?P<o>(?:Die|Der|Das)\s[^.;,\n]{2,80}?)\s+(?:lädt|laden|lud|luden)\b[^.;\n]{0,200}?\bein\b"),
    re.compile(r"(?:^|[.!?]\s+|\n)(?P<o>(?:Die|Der|Das)\s[^.;,\n]{2,80}?)\s+(?:hatte|hatten|hat|haben)\s+"
               r"(?:[^.;\n]{0,60}\s)?eingeladen\b"),
    re.compile(r"\b(?:Die|Der|Das)\s+(?P<o>[^.;,\n]{2,80}?)\s+(?:hatte|hatten|hat|haben)\s+(?:dazu|hierzu)\s+eingeladen\b"),
]


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
    """The event's name: the event word with an ordinal and name words before it, and a title, a genitive
    or capitalised name words after it ("24. Regionalkonferenz der Modellprojekte Smart Cities",
    "Smart Country Convention", "Forum Digitale Daseinsvorsorge")."""
    start, end = word.start(), word.end()
    # Capitalised words right before the event word belong to its name ("Smart Country Convention").
    for m in reversed(list(re.finditer(r"[A-ZÄÖÜ][\w.-]*\s+", sentence[max(0, start - 60):start]))):
        abs_start = max(0, start - 60) + m.start()
        if abs_start + len(m.group(0)) != start or norm_key(m.group(0).strip()) in _NAME_STOP:
            break
        if _sentence_start_of(sentence, abs_start) and not re.match(r"[A-ZÄÖÜ][\w-]*[A-ZÄÖÜ]|[A-ZÄÖÜ]+\b", m.group(0)):
            break  # a capital only because the sentence starts here
        start = abs_start
    ordinal = re.search(r"(\d{1,3}\.\s*)$", sentence[:start])
    if ordinal:
        start = ordinal.start()
    tail = sentence[end:]
    motto = re.match(r"\s*„[^“]{2,120}“", tail)
    if motto:  # a quoted motto right after the word is the rest of the name, commas and all
        return sentence[start:end + motto.end()].strip(" ,.–-")
    m = re.match(r"(\s+(?:der|des|zur|zum|für|über|zu|„)[^,;:()\n]*?)(?=\s+(?:am|vom|im|in|an|bei|mit|war|ist|"
                 r"wird|findet|fand|stand|steht|statt|lädt|hat|haben|zeigte|zeigten|trafen|sollen|soll|sind|"
                 r"diskutierten|beginnt|folgt|läuft|von|ab|um)\b|[,;:()\n]|\.\s|\.$|$)", tail)
    if m and len(m.group(1)) < 90:
        end += m.end(1)
    else:
        # Capitalised words after a generic event word name it ("Forum Digitale Daseinsvorsorge").
        caps = re.match(r"(?:\s+(?!(?:Am|Im|In|Vom|Von|Bei|Beim|Ab|Um)\b)[A-ZÄÖÜ][\w-]+){1,4}", tail)
        if caps:
            end += caps.end()
    quoted = re.match(r"\s*„[^“]{2,120}“", sentence[end:])
    if quoted:
        end += quoted.end()
    return sentence[start:end].strip(" ,.–-")


def _sentence_start_of(sentence: str, pos: int) -> bool:
    before = sentence[:pos].rstrip(" „\"'(")
    return not before or before[-1] in ".!?:\n–—•-"


def event_type(name: str) -> str:
    """The kind of event a name describes (konferenz, kongress, forum, workshop, webinar, ...), else "other"."""
    for kind, rx in EVENT_TYPES:
        if rx.search(name):
            return kind
    return "other"


def _detail(details: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for k, v in details.items():
        if k.strip().casefold().rstrip(":") in keys and v and v.strip():
            return v.strip()
    return None


_STRAY_BEFORE_STREET = re.compile(r"^(?:Ort|Adresse|Anschrift|Veranstaltungsort|Im|In|Bei)\s+"
                                  r"(?=[A-ZÄÖÜ]\S*(?:straße|str\.|weg|platz|allee|gasse|ring|damm|ufer|markt)\b)")


def _addresses(text: str) -> list[tuple[str, str]]:
    """(address, place) of every postal address in `text`, read around each five-digit postcode."""
    out = []
    for pc in re.finditer(r"(?<![\d.,])\d{5}(?![\d.,])", text or ""):
        # Only the window around a postcode is matched: the street pattern is costly on long texts.
        lo = max(0, pc.start() - 120)
        for m in _ADDRESS.finditer(text[lo:pc.end() + 60]):
            if m.start(2) + lo == pc.start():
                # "Am Kurpark 2" is a street; "Ort Hafenstraße 2" or "Im Hafenstraße …" carry a stray word.
                street = _STRAY_BEFORE_STREET.sub("", m.group(1).strip())
                out.append((f"{street}, {m.group(2)} {m.group(3).strip()}", m.group(3).strip()))
                break
    return out


def find_address(text: str) -> str | None:
    """The first postal address in `text`: street (and number), postcode and place."""
    found = _addresses(text)
    return found[0][0] if found else None


_ORGANISER_CUE = re.compile(r"Veranstalt|[Oo]rganisiert|[Aa]usgerichtet|Gastgeber|Ausrichter|Einladung|lädt|laden|"
                            r"lud|eingeladen")


def find_organiser(text: str | list[str]) -> str | None:
    """Who organises an event, as the text says it ("Veranstalter: …", "organisiert von …", "… lädt … ein").

    `text` may be a list of sentences: the clearest wording wins anywhere in it ("Veranstalter ist …"
    before "Gastgeberin ist …"), else the first sentence that has one.
    """
    chunks = [text] if isinstance(text, str) else text
    chunks = [c for c in chunks if c and _ORGANISER_CUE.search(c)]
    for rx in _ORGANISER:
        for chunk in chunks:
            m = rx.search(chunk)
            if not m:
                continue
            org = re.split(r"\s+(?:gemeinsam mit|zusammen mit|in Kooperation mit|im Auftrag|im Rahmen|statt\b|ein\b|"
                           r"zu\b|zur\b|zum\b|am\s+\d)|,\s+(?=[a-zäöü\d])", m.group("o"))[0]
            org = re.sub(r"^(?:der|die|das|dem|den|von|vom)\s+", "", org.strip(" ,:–-"), flags=re.IGNORECASE)
            if len(org) >= 3 and org[0].isupper():
                return org
    return None


def _pick_year(date: dt.date, end: dt.date | None, reference: dt.date, sentence: str) -> tuple[dt.date, dt.date | None]:
    """The year of a date written without one: the nearest to the publication day, unless the tense says
    otherwise (a report in January about "am 12. Dezember" means last December)."""
    options = []
    for delta in (-1, 0, 1):
        try:
            start = date.replace(year=reference.year + delta)
        except ValueError:  # 29 February
            continue
        shift = start.year - date.year
        options.append((start, end.replace(year=end.year + shift) if end else None))
    past, future = bool(_PAST.search(sentence)), bool(_FUTURE.search(sentence))
    slack = dt.timedelta(days=3)
    if past and not future:
        earlier = [o for o in options if o[0] <= reference + slack]
        if earlier:
            return max(earlier)
    if future and not past:
        later = [o for o in options if o[0] >= reference - slack]
        if later:
            return min(later)
    return min(options, key=lambda o: abs((o[0] - reference).days))


# A stretch of text this long without a sentence break is no sentence (a page without full stops): each of its
# dates is read with _DATE_CONTEXT characters either side instead. The longest sentence on the 354 real pages of
# ../shared/realworld has about 1,050 characters, 99 in 100 have under 350.
_LONGEST_SENTENCE = 1500
_DATE_CONTEXT = 600
_LONGEST_DATE = 100  # "Mittwoch, 18. November 2025 bis Donnerstag, 2. Dezember 2026" and then some
# More dated mentions than this in the sentences with event words is a calendar dump or a hostile page, not an
# article (real ones have up to about 50): the first ones give its events, and the cost of a page stays bounded.
_MAX_EVENT_DATES = 300


def _dated_clauses(sentence: str, reference: dt.date | None, words: list[re.Match[str]], find_words: bool
                   ) -> Iterator[tuple[DateSpan, str, int, list[re.Match[str]]]]:
    """(date, clause, offset of the clause in the sentence, event words of the clause) for each date of the
    sentence, in order. The clause is the sentence with its `words`; in an over-long one, the text around the
    date, with its event words when `find_words`. Read lazily: the caller may stop early."""
    if len(sentence) <= _LONGEST_SENTENCE:
        for span in find_dates(sentence, reference):
            yield span, sentence, 0, words
        return
    for span in _dates_piecewise(sentence, reference):
        at, until = _window(sentence, span.start, span.end, _DATE_CONTEXT)
        clause = sentence[at:until]
        yield (dataclasses.replace(span, start=span.start - at, end=span.end - at), clause, at,
               _event_words(clause) if find_words else [])


def _dates_piecewise(text: str, reference: dt.date | None) -> Iterator[DateSpan]:
    """find_dates over a long text, one piece of about _LONGEST_SENTENCE characters at a time: the same dates
    (a piece reads on far enough to finish a date that starts in it), at a cost that grows with the length of
    the text no faster than the text itself, and only as far as the caller reads."""
    piece, done_until = 0, 0
    while piece < len(text):
        end = piece + _LONGEST_SENTENCE
        if end >= len(text):
            end = len(text)
        else:
            # Pieces meet at a space, where the look-behinds of the date patterns see what they would in the
            # whole text; a stretch without one is cut where it is.
            space = text.find(" ", end, end + _LONGEST_DATE)
            end = space if space != -1 else end
        for span in find_dates(text[piece:min(len(text), end + _LONGEST_DATE)], reference):
            start = span.start + piece
            if start >= end:
                break  # the next piece reads it
            if start >= done_until:  # not the tail of a date the piece before finished
                done_until = span.end + piece
                yield dataclasses.replace(span, start=start, end=done_until)
        piece = end + 1 if text[end:end + 1] == " " else end


def _window(text: str, start: int, end: int, reach: int) -> tuple[int, int]:
    """Bounds of the text around text[start:end], `reach` characters either side, cut at spaces so that no
    word is cut short (a cut-off "Neustadt" must not be read as "Stadt")."""
    lo, hi = max(0, start - reach), min(len(text), end + reach)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else start
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else end
    return lo, hi


def find_events(article: ArticleRecord, cities: list[CityMention],
                publisher_city_id: str | None = None) -> list[EventRecord]:
    """Dated events in an article: a date in a sentence with an event word (or right after a title that
    announces one), with its city ("in Konstanz", the venue's city, a city in that sentence, else the
    article's main city or the publisher's city). One event per (start date, city).

    Each event carries its kind (`event_type`), the address and organiser when the details block or the
    text gives them, and the catalogue programme named in its sentence (else the article's first).
    """
    # A far-off date would put yearless dates (and the arithmetic around them) out of range.
    reference = article.published_date if is_plausible(article.published_date) else None
    parts = [article.title or ""]
    if article.teaser and article.teaser.strip() and article.teaser.strip() not in (article.body_text or ""):
        parts.append(article.teaser)
    parts.append(article.body_text or "")
    text = "\n".join(parts)
    details = {k: v for k, v in (article.details or {}).items() if isinstance(v, str)}
    g = gz.load()
    cat = load_programme_catalogue()
    detail_venue = _detail(details, _DETAIL_VENUE_KEYS)
    venue_city = None
    if detail_venue:
        vc = find_cities(detail_venue, g)
        venue_city = vc[-1].city_id if vc else None
        rest = detail_venue
        for c in vc:
            rest = rest.replace(c.surface, " ")
        if vc and not re.sub(r"[\W\d_]+|\b(?:in|der|die|Stadt|Gemeinde)\b", "", rest):
            detail_venue = None  # "Ort: Dresden" says where, not in which venue: a city is no venue
    title_cities = find_cities(article.title or "", g)
    # The article's main city: the one in its title, else the first one named, else the publisher's.
    main_city = ((title_cities[0].city_id if title_cities else cities[0].city_id if cities else None)
                 or publisher_city_id)
    title_word = _first_event_word(article.title or "")
    title_has_event = title_word is not None
    title_name = _event_name(article.title, title_word) if title_word else None
    events: dict[tuple[dt.date, str | None], EventRecord] = {}

    @functools.cache
    def article_wide() -> tuple[list[tuple[str, int, int]], str | None, list[tuple[str, str | None]]]:
        """Programmes, organiser and addresses of the whole article: read once, and only if it has events."""
        programmes = _catalogue_matches(text, cat)
        organiser = _detail(details, _DETAIL_ORGANISER_KEYS)
        if organiser is None:
            organiser = find_organiser([text[a:b] for a, b in sentences])
        addresses = []
        for address, place in _addresses(text):
            where = find_cities(place, g)
            addresses.append((address, where[0].city_id if where else None))
        return programmes, organiser, addresses

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
        name = _event_name(sentence, word) if word else (title_name if title_name is not None else sentence[:80])
        # A bare "Webinar" in the text: another mention of the same word (the title, the teaser, another
        # sentence) often names the event in full.
        if (word or title_name is not None) and len(name.split()) == 1:
            pool = [title_name, *fuller_names(name)]
            if title_name is not None and len(title_name.split()) == 1:
                pool += fuller_names(title_name)  # "Forums" in the text, "Zukunftsforum" in the title
            fuller = [n for n in pool if n is not None and event_type(n) == event_type(name) and len(n) > len(name)]
            if fuller:
                name = max(fuller, key=len)
        venue = detail_venue
        if venue is None:
            vm = next((v for v in _VENUE.finditer(sentence) if _VENUE_HEADS.search(v.group(1))
                       and not find_cities(v.group(1), g)), None)
            venue = vm.group(1) if vm else None
        article_programmes, article_organiser, article_addresses = article_wide()
        address = find_address(detail_venue or "") or find_address(sentence)
        if address is None and city_id is not None:
            # An address elsewhere in the article counts when it lies in the event's city.
            address = next((a for a, where in article_addresses if where == city_id), None)
        in_sentence = [pid for pid, a, _b in article_programmes if s_start <= a < s_start + len(sentence)]
        programme_id = (in_sentence or [pid for pid, _a, _b in article_programmes] or [None])[0]
        events[key] = EventRecord(name=name or sentence[:80].strip(), start_date=date, evidence=sentence.strip()[:500],
                                  end_date=end_date, start_time=times[0].start_time if times else None,
                                  end_time=times[0].end_time if times else None,
                                  city_id=None if online else city_id, is_online=online, venue=venue,
                                  address=address, event_type=event_type(name or ""),
                                  organiser=find_organiser(sentence) or article_organiser,
                                  programme_id=programme_id)

    sentences = _sentences(text)
    sentence_starts = [a for a, _b in sentences]

    @functools.cache
    def fuller_names(bare: str) -> tuple[str, ...]:
        """The names other mentions of a bare event word give it (at most 20 mentions, names under 150
        characters that begin with the word)."""
        names = []
        for m in itertools.islice(re.finditer(rf"(?<![\w-]){re.escape(bare)}(?![\w-])", text), 20):
            k = bisect.bisect_right(sentence_starts, m.start()) - 1
            if k < 0:
                continue
            a, b = sentences[k]
            if b - a > _LONGEST_SENTENCE:
                continue
            mention = next((w for w in _event_words(text[a:b]) if w.start() == m.start() - a), None)
            if mention is not None:
                candidate = _event_name(text[a:b], mention)
                if candidate.startswith(bare) and len(candidate) < 150:
                    names.append(candidate)
        return tuple(names)

    # One cheap pass marks where event words may stand; the exact pattern runs only in those sentences.
    stems = _stem_positions(text)
    dates_read = 0
    for s_start, s_end in sentences:
        sentence = text[s_start:s_end]
        lo = bisect.bisect_left(stems, s_start)
        has_stem = lo < len(stems) and stems[lo] < s_end
        overlong = len(sentence) > _LONGEST_SENTENCE  # read clause by clause below, its stems tell enough here
        words = _event_words(sentence) if has_stem and not overlong else []
        if not (words or (overlong and has_stem)) and not (title_has_event and _AM_DATE.search(sentence)):
            continue  # no event word, no event: most sentences end here, before any date parsing
        for span, clause, at, clause_words in _dated_clauses(sentence, reference, words, overlong and has_stem):
            dates_read += 1
            if dates_read > _MAX_EVENT_DATES:
                break
            before = clause[:span.start]
            if _NOT_EVENT_BEFORE.search(before) or _DEADLINE_BEFORE.search(before[-80:]):
                continue
            if _DEADLINE_AFTER.match(clause[span.end:span.end + 60]):
                continue
            # "14.08.2025 — ..." opening a paragraph is the publication date.
            if not before.strip() and re.match(r"\s*[—–-]", clause[span.end:]):
                continue
            date, end_date = span.date, span.end_date
            if not span.has_year and reference is not None:
                date, end_date = _pick_year(date, end_date, reference, clause)
            if clause_words:
                word = min(clause_words, key=lambda w: abs(w.start() - span.start))
                add(date, end_date, clause, s_start + at, s_start + at + span.start, word)
            elif title_has_event and re.search(r"(^|\b)(Am|am|Vom|vom)\s*$", before[-12:]):
                add(date, end_date, clause, s_start + at, s_start + at + span.start, None)
        if dates_read > _MAX_EVENT_DATES:
            break
    # A details block ("Datum: 24. September 2025", "Veranstaltungsort: ...") describes the event itself.
    for k, v in details.items():
        if k.strip().casefold().rstrip(":") in _DETAIL_DATE_KEYS:
            spans = find_dates(v, reference)
            if spans:
                sentence = f"{article.title}. {v}"
                date, end_date = spans[0].date, spans[0].end_date
                if not spans[0].has_year and reference is not None:
                    date, end_date = _pick_year(date, end_date, reference, sentence)
                add(date, end_date, sentence, 0, 0, title_word)
    return list(events.values())
