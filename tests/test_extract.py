"""Tests for article extraction (scrapers.extract) against own fixtures in tests/fixtures/extract."""
import datetime as dt
import json
from pathlib import Path

import pytest

from scrapers.extract import ExtractionError, Selectors, extract_article, is_listing_page
from scrapers.relevance import classify

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
ARTICLES = sorted(p.stem for p in FIXTURES.glob("*.json"))
LISTINGS = sorted(p.name for p in FIXTURES.glob("listing_*.html"))


def _load(name: str) -> tuple[str, dict]:
    expected = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return (FIXTURES / f"{name}.html").read_text(encoding="utf-8"), expected


def test_every_article_fixture_has_expectations():
    assert len(ARTICLES) >= 4


@pytest.mark.parametrize("name", ARTICLES)
def test_article_fixture(name):
    html, exp = _load(name)
    rec = extract_article(html, exp["url"])
    assert rec is not None
    assert rec.url == exp["url"]
    assert rec.title == exp["title"]
    assert rec.published_date == dt.date.fromisoformat(exp["published_date"])
    if "modified_date" in exp:
        assert rec.modified_date == dt.date.fromisoformat(exp["modified_date"])
    for key in ("teaser", "author", "language", "details"):
        if key in exp:
            assert getattr(rec, key) == exp[key], key
    if "body_starts_with" in exp:
        assert rec.body_text.startswith(exp["body_starts_with"])
    for snippet in exp["must_contain"]:
        assert snippet in rec.body_text, snippet
    for snippet in exp["must_not_contain"]:
        assert snippet not in rec.body_text, snippet
    assert rec.title not in rec.body_text.splitlines()
    assert classify(rec.title, rec.body_text).is_relevant is exp["relevant"]


@pytest.mark.parametrize("name", LISTINGS)
def test_listing_pages_are_not_articles(name):
    html = (FIXTURES / name).read_text(encoding="utf-8")
    assert is_listing_page(html, "https://www.example.org/presse/")
    assert extract_article(html, "https://www.example.org/presse/") is None


@pytest.mark.parametrize("name", ARTICLES)
def test_articles_are_not_listings(name):
    html, exp = _load(name)
    assert not is_listing_page(html, exp["url"])


def test_broken_markup_still_gives_the_article():
    html = (FIXTURES / "broken.html").read_text(encoding="utf-8")
    rec = extract_article(html, "https://www.example.org/a")
    assert rec is not None
    assert rec.title == "Quartiersstrom für das Neubaugebiet"
    assert rec.published_date == dt.date(2022, 5, 9)
    assert "Die Anlage ist seit April in Betrieb." in rec.body_text
    assert "Überschüssiger Strom wird ins Netz eingespeist." in rec.body_text


@pytest.mark.parametrize(
    "html",
    ["", "   ", "kein HTML, nur Text", "<html><head><title>Offen", "<<<>>>", "<div>" * 3000 + "Tief",
     "<html><body><h1>Nur ein Titel</h1></body></html>", "\x00\x01binär\xff"],
)
def test_bad_input_returns_none_or_record(html):
    rec = extract_article(html, "https://www.example.org/x")
    assert rec is None or rec.body_text


def _page(head: str = "", body: str = "") -> str:
    return f"<html lang='de'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


ARTICLE = ("<main><article><h1>Neuer Radweg am Fluss</h1>{meta}"
           "<p>Der Radweg verbindet zwei Stadtteile und ist vier Kilometer lang. Er wurde in sieben Monaten "
           "gebaut und ist ab sofort befahrbar. Die Eröffnung feiert die Stadt am 21. Juni 2024 mit einem Fest.</p>"
           "<p>Zweiter Absatz mit weiteren Einzelheiten zum Projekt.</p></article>"
           "<aside><h2>Das könnte Sie auch interessieren</h2><div class='teaser'><a href='/x'>Alte Meldung über "
           "Brücken</a><span class='date'>01.01.2020</span></div></aside></main>")


def test_json_ld_date_beats_visible_and_feed_dates():
    ld = '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2024-05-02"}</script>'
    html = _page(ld, ARTICLE.format(meta="<p class='date'>Veröffentlicht am 03.05.2024</p>"))
    rec = extract_article(html, "https://e.example/a", feed_date=dt.date(2024, 5, 4))
    assert rec.published_date == dt.date(2024, 5, 2)


def test_visible_date_beats_feed_date():
    html = _page(body=ARTICLE.format(meta="<p>Veröffentlicht am 03.05.2024</p>"))
    rec = extract_article(html, "https://e.example/a", feed_date=dt.date(2024, 5, 4))
    assert rec.published_date == dt.date(2024, 5, 3)
    assert "Veröffentlicht" not in rec.body_text


def test_feed_date_when_the_page_has_none_and_never_an_event_or_teaser_date():
    html = _page(body=ARTICLE.format(meta=""))
    rec = extract_article(html, "https://e.example/a", feed_date=dt.date(2024, 5, 4))
    assert rec.published_date == dt.date(2024, 5, 4)
    assert "Alte Meldung" not in rec.body_text
    rec = extract_article(html, "https://e.example/a")
    assert rec.published_date not in (dt.date(2024, 6, 21), dt.date(2020, 1, 1))


def test_time_element_by_the_title():
    html = _page(body=ARTICLE.format(meta="<time datetime='2023-11-23T09:00'>Do 23. November 2023</time>"))
    rec = extract_article(html, "https://e.example/a")
    assert rec.published_date == dt.date(2023, 11, 23)
    assert "23. November" not in rec.body_text


def test_title_falls_back_to_og_title_without_site_suffix():
    html = _page("<title>Neuer Radweg | Stadt Flussheim</title>", "<div><p>" + "Ein Satz über den Radweg. " * 10
                 + "</p></div>")
    rec = extract_article(html, "https://e.example/a")
    assert rec.title == "Neuer Radweg"


def test_selectors_refine_the_generic_result():
    text = "Der Artikeltext steht hier. " * 3
    html = _page(body="<div class='kopf'><span class='titel'>Der echte Titel</span><span class='tag'>12.04.2022</span>"
                      f"</div><h1>Portalname</h1><div class='inhalt'><p>{text}</p>"
                      "<p class='werbung'>Jetzt abonnieren</p></div>")
    sel = Selectors(title=".titel", body=".inhalt", date=".tag", remove=(".werbung",))
    rec = extract_article(html, "https://e.example/a", selectors=sel)
    assert rec.title == "Der echte Titel"
    assert rec.published_date == dt.date(2022, 4, 12)
    assert "Der Artikeltext steht hier." in rec.body_text
    assert "abonnieren" not in rec.body_text and "Portalname" not in rec.body_text


def test_invalid_selector_is_a_clear_error():
    with pytest.raises(ExtractionError, match="selector"):
        extract_article(_page(body=ARTICLE.format(meta="")), "https://e.example/a", selectors=Selectors(body="div[["))


def test_related_block_inside_the_article_is_cut():
    body = ("<div class='news'><h1>Titel der Meldung</h1><p>Erster Absatz der Meldung mit genug Text, damit er "
            "als Absatz zählt und nicht als Metadatum.</p><h2>Hintergrund</h2><p>Noch ein Absatz.</p>"
            "<h2>Weitere Nachrichten</h2><ul><li><a href='/1'>Andere Meldung Nummer eins</a> 02.02.2022</li>"
            "<li><a href='/2'>Andere Meldung Nummer zwei</a> 01.02.2022</li></ul></div>")
    rec = extract_article(_page(body=body), "https://e.example/a")
    assert "Erster Absatz der Meldung" in rec.body_text and "Noch ein Absatz." in rec.body_text
    assert "Andere Meldung" not in rec.body_text and "Weitere Nachrichten" not in rec.body_text


def test_the_prose_after_a_related_heading_is_article_text_again():
    prose = "Die Stadt lädt alle Interessierten ein, ihre Ideen für den Platz bis Ende Mai einzureichen. " * 2
    body = (f"<article><h1>Ein neuer Platz</h1><p>{prose}</p><h2>Mehr zum Thema</h2><ul><li><a href='/1'>"
            f"Die erste Bürgerwerkstatt zum Platz</a></li></ul><p>Weitere Hinweise: {prose}</p></article>")
    rec = extract_article(_page(body=body), "https://e.example/a")
    assert "Weitere Hinweise" in rec.body_text and "Bürgerwerkstatt" not in rec.body_text


def test_canonical_link_sets_the_url():
    html = _page("<link rel='canonical' href='/news/radweg'>", ARTICLE.format(meta=""))
    assert extract_article(html, "https://e.example/news/radweg?utm=x").url == "https://e.example/news/radweg"
    assert extract_article(_page(body=ARTICLE.format(meta="")), "https://e.example/a").url == "https://e.example/a"
