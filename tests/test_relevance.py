"""Tests for the explainable relevance classifier in scrapers.relevance."""
from scrapers.relevance import THRESHOLD, classify


def test_smart_city_article_is_relevant_and_explained():
    r = classify(
        "Modellprojekt Smart City: Stadt startet urbane Datenplattform",
        "Die Stadt bündelt Verkehrs- und Umweltdaten auf einer offenen Datenplattform. "
        "Die Digitalisierungsstrategie sieht außerdem einen digitalen Zwilling der Innenstadt vor.",
    )
    assert r.is_relevant
    assert r.score >= THRESHOLD
    assert "smart city" in r.terms and "datenplattform" in r.terms


def test_climate_neutral_city_is_relevant():
    r = classify("Auf dem Weg zur klimaneutralen Stadt",
                 "Der Stadtrat beschloss die kommunale Wärmeplanung. Bis 2035 soll die Verwaltung "
                 "klimaneutral arbeiten, Photovoltaik kommt auf alle Schuldächer.")
    assert r.is_relevant


def test_city_news_without_topic_is_not_relevant():
    for title, body in [
        ("Vollsperrung der Brückenstraße ab Montag",
         "Wegen Kanalarbeiten ist die Brückenstraße zwei Wochen gesperrt. Eine Umleitung ist ausgeschildert."),
        ("Sportlerehrung im Rathaus",
         "Die Stadt ehrt ihre Meisterinnen und Meister. Die Plaketten überreicht der Oberbürgermeister."),
        ("Stadtteilbibliothek zieht um",
         "Die Bibliothek öffnet am neuen Standort. Neben Büchern gibt es digitale Medien zum Ausleihen."),
        ("Warnstreik: Busse bleiben im Depot",
         "Die Gewerkschaft ruft zum Streik auf. Fahrgäste sollen sich in der App informieren."),
    ]:
        r = classify(title, body)
        assert not r.is_relevant, (title, r)


def test_one_incidental_term_is_not_enough():
    r = classify("Frühlingsfest im Stadtpark", "Das Programm gibt es auch digital auf der Website der Stadt.")
    assert not r.is_relevant
    assert r.terms == ("digital",)


def test_title_counts_more_than_body():
    title_hit = classify("Smart City", "Ein Text.")
    body_hit = classify("Ein Titel", "Smart City")
    assert title_hit.score > body_hit.score


def test_empty_input():
    r = classify("", "")
    assert (r.is_relevant, r.score, r.terms) == (False, 0.0, ())
