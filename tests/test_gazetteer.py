"""Tests for the offline gazetteer: names, German exonyms, homonyms and districts."""
from __future__ import annotations

import pytest

from scrapers import gazetteer


@pytest.fixture(scope="module")
def gz() -> gazetteer.Gazetteer:
    return gazetteer.load()


def test_city_ids_are_geonames_ids(gz):
    dresden = gz.resolve("Dresden")
    assert dresden is not None
    assert dresden.city_id == "2935022"
    assert dresden.country_code == "DE" and dresden.admin1_code == "13"
    assert dresden.population > 500_000
    assert gz.get("2935022") == dresden


def test_foreign_cities_carry_german_names(gz):
    for name in ("Wien", "Lissabon", "Göteborg", "Brüssel", "Mailand", "Straßburg"):
        city = gz.resolve(name)
        assert city is not None and city.name == name and city.country_code != "DE"


def test_german_names_replace_english_ones(gz):
    assert gz.resolve("Munich").name == "München"
    assert gz.resolve("Nürnberg").name == "Nürnberg"


def test_short_forms_and_spelling_variants(gz):
    assert gz.resolve("Frankfurt").name == "Frankfurt am Main"
    assert gz.resolve("Halle").name == "Halle (Saale)"
    assert gz.resolve("St. Wendel").name == "Sankt Wendel"
    assert gz.resolve("castrop rauxel").name == "Castrop-Rauxel"
    assert gz.resolve("Atlantis") is None


def test_homonyms_prefer_germany_then_population_then_state(gz):
    assert gz.resolve("Berlin").country_code == "DE"
    # Two Halle in North Rhine-Westphalia and Saxony-Anhalt: the state hint picks the Westphalian town.
    assert gz.resolve("Halle", states={"07"}).name.startswith("Halle")
    assert gz.resolve("Halle", states={"07"}).admin1_code == "07"


def test_districts_are_enclosed_by_their_city(gz):
    hoerde = next(c for c in gz.candidates("Hörde") if c.country_code == "DE")
    assert gz.enclosing_city(hoerde).name == "Dortmund"
    assert gz.enclosing_city(gz.resolve("Castrop-Rauxel")) is None
    assert gz.enclosing_city(gz.resolve("Offenbach")) is None


def test_noise_alternates_are_not_indexed(gz):
    # GeoNames lists "Esse" (a German noun) among the foreign names of Essen.
    assert all(c.name != "Essen" for c in gz.candidates("Esse"))


def test_border_towns_abroad_are_indexed_but_not_distant_small_towns(gz):
    assert gz.resolve("Słubice").country_code == "PL"
    assert gz.resolve("Zgorzelec").country_code == "PL"
    assert gz.resolve("Kerkrade").country_code == "NL"
    assert gz.candidates("Best") == []  # a Dutch town far from the border, and an English word


def test_a_big_city_abroad_beats_a_german_hamlet(gz):
    assert gz.resolve("Schaffhausen").country_code == "CH"
    assert gz.resolve("Linz").country_code == "AT"
    assert gz.resolve("Essen").country_code == "DE"


def test_first_words_bound_the_scan(gz):
    assert gz.first_words["frankfurt"] >= 3  # "Frankfurt am Main"
    assert gz.first_words["st"] >= 2  # "St. Wendel", "Sankt Wendel"
    assert "digitalisierung" not in gz.first_words and "verwaltung" not in gz.first_words
