"""Every recorded article of the snapshot against its expected record (tests/snapshot/expected.yml).

In the style of fundus and trafilatura: one parametrised test over all recorded articles, snippet checks
for the body, and a test that fails when a source in sources.yml has no recorded article.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import cache

import pytest
import yaml

from scrapers import places
from scrapers.config import PROJECT_ROOT, load_sources
from scrapers.extract import extract_article, is_listing_page
from scrapers.process import ProcessedArticle, process_page
from scrapers.records import FetchedPage
from scrapers.replay import load_snapshot

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshot"
EXPECTED = yaml.safe_load((SNAPSHOT / "expected.yml").read_text(encoding="utf-8"))["articles"]
SOURCES = {s.id: s for s in load_sources(PROJECT_ROOT / "sources.yml")}


@cache
def recorded() -> dict:
    return load_snapshot(SNAPSHOT)


@cache
def processed(url: str) -> ProcessedArticle:
    expected = EXPECTED[url]
    response = recorded()[url]
    page = FetchedPage(expected["source_id"], url, url, 200, response.content_type, response.body.decode("utf-8"),
                       dt.datetime(2026, 1, 1))
    article = process_page(page, SOURCES[expected["source_id"]])
    assert article is not None, f"{url}: no article extracted"
    return article


def squash(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@pytest.mark.parametrize("source_id", sorted(SOURCES))
def test_every_source_has_recorded_articles(source_id):
    assert sum(1 for e in EXPECTED.values() if e["source_id"] == source_id) >= 3


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_article_fields(url):
    expected, article = EXPECTED[url], processed(url)
    assert squash(article.record.title) == squash(expected["title"])
    assert str(article.record.published_date) == expected["published"]
    assert article.relevance.is_relevant == expected["relevant"], article.relevance.terms
    body = squash(article.record.body_text)
    for snippet in expected["body_must_contain"]:
        assert squash(snippet) in body
    for snippet in expected["body_must_not_contain"]:
        assert squash(snippet) not in body


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_article_cities(url):
    expected, article = EXPECTED[url], processed(url)
    found = {c.name for c in article.cities}
    assert set(expected["cities"]) <= found, "missed"
    assert found <= set(expected["cities"]) | set(expected.get("cities_optional") or []), "extra"
    assert not found & set(expected.get("not_cities") or [])


def test_events_over_the_snapshot():
    """Events are scored like the evaluation: (start date, city or 'online') pairs over the whole set."""
    def key(start, city):
        return str(start), city

    gold = {key(e["start_date"], e["city"]) for x in EXPECTED.values() for e in x["events"]}
    optional = {key(e["start_date"], e["city"]) for x in EXPECTED.values() for e in x.get("events_optional") or []}
    found = set()
    for url in EXPECTED:
        for event in processed(url).events:
            city = places.city_by_id(event.city_id) if event.city_id else None
            found.add(key(event.start_date, "online" if event.is_online or city is None else city.name))
    assert found - gold - optional == set(), "spurious events"
    recall = len(found & gold) / len(gold)
    assert recall >= 0.9, f"event recall {recall:.2f}; missed {sorted(gold - found)}"


def test_listing_pages_are_not_articles():
    listings = [u for u, r in recorded().items() if "html" in r.content_type and u not in EXPECTED
                and not u.endswith("robots.txt")]
    assert len(listings) >= 6
    for url in listings:
        html = recorded()[url].body.decode("utf-8")
        assert is_listing_page(html, url), url
        assert extract_article(html, url) is None, url
