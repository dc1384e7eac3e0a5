"""Pages built to be expensive (deeply nested markup, long text without sentence breaks) cost bounded work.

No test here measures time: each checks a structural property that keeps the work linear, such as the depth
of the parsed tree or the size of the texts handed to the expensive helpers. benchmarks/ measures speed.
"""
from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from scrapers import events, places, programmes
from scrapers.config import Source
from scrapers.dates import find_dates
from scrapers.extract import extract_article
from scrapers.extract.markup import MAX_NESTING, parse_html, text_of
from scrapers.process import process_page
from scrapers.records import ArticleRecord, FetchedPage

URL = "https://example.org/aktuelles/tiefe-seite"
PARAGRAPH = ("Die Stadt Dresden startet am 12. März 2025 ein Pilotprojekt mit Sensoren an Laternen und lädt "
             "die Bürgerinnen und Bürger zu einer Konferenz über die Ergebnisse ins Rathaus ein.")
# German prose with many dates, times and places, and not one full stop: the whole text is one "sentence".
RUN_ON = ("am 12. März 2025 trifft sich in Leipzig das Forum der Modellprojekte um 10:00 Uhr und am 3.4.2025 "
          "folgt in Chemnitz ein Workshop zur Datenplattform und vom 18.–19. Mai die Tagung in Görlitz ")


def _depth(doc: etree._Element) -> int:
    return max(sum(1 for _ in el.iterancestors()) for el in doc.iter())


def _deep_page(levels: int, tag: str = "div", inner: str = "") -> str:
    return ("<html><head><title>Tiefe Seite</title></head><body><h1>Sensoren an Laternen in Dresden</h1>"
            + f"<{tag}>" * levels + inner + f"<p>{PARAGRAPH}</p>" + f"</{tag}>" * levels
            + "<p>Der Absatz nach dem tiefen Block gehört ebenfalls zum Artikel über das Projekt.</p></body></html>")


def test_deeply_nested_markup_is_parsed_to_a_bounded_depth_with_all_its_text():
    doc = parse_html(_deep_page(3000))
    assert _depth(doc) <= MAX_NESTING + 2
    text = text_of(doc.find("body"))
    assert PARAGRAPH in text
    assert "Der Absatz nach dem tiefen Block" in text  # what follows the deep block is not lost either


def test_unclosed_tags_on_every_paragraph_keep_the_page():
    # Broken markup of the kind a CMS produces: a <font> opened on every paragraph and never closed.
    paragraphs = "".join(f"<font><p>Absatz {i} über Radwege und Laternen.</p>" for i in range(400))
    doc = parse_html(f"<html><body><h1>Kaputtes Markup</h1>{paragraphs}<p>Letzter Absatz.</p></body></html>")
    assert _depth(doc) <= MAX_NESTING + 2
    text = text_of(doc.find("body"))
    assert "Absatz 399 über Radwege" in text and "Letzter Absatz." in text


def test_a_script_too_deep_to_nest_stays_out_of_the_text():
    doc = parse_html(_deep_page(1000, inner="<script>var geheim = '<div>kein Text</div>';</script>"))
    text = text_of(doc.find("body"))
    assert "geheim" not in text and "kein Text" not in text
    assert PARAGRAPH in text


def test_markup_of_an_ordinary_depth_is_parsed_as_lxml_parses_it():
    html = _deep_page(60, inner="<span>Text <b>fett</b></span><ul><li>eins<li>zwei</ul>")
    plain = etree.fromstring(html, etree.HTMLParser(remove_comments=True, remove_pis=True, default_doctype=False))
    assert etree.tostring(parse_html(html)) == etree.tostring(plain)


def test_text_of_reads_markup_nested_deeper_than_the_recursion_limit():
    root = etree.Element("div")
    node = root
    for i in range(5000):
        node = etree.SubElement(node, "span" if i % 2 else "div")
        node.text = "x" if i % 100 == 0 else None
    node = etree.SubElement(node, "p")
    node.text, node.tail = "Ende", "Schluss"
    text = text_of(root)
    assert text.endswith("Ende Schluss")
    assert text.count("x") == 50


def test_text_of_keeps_word_joins_and_skips_scripts():
    el = etree.fromstring("<div><p><b>Rathaus</b>: offen<br/>heute</p><script>nein()</script>ja<p>neu</p></div>")
    assert text_of(el) == "Rathaus: offen heute ja neu"


def test_a_deeply_nested_article_is_processed_with_its_city_and_event():
    page = FetchedPage(source_id="muster", requested_url=URL, final_url=URL, status=200, content_type="text/html",
                       text=_deep_page(3000), fetched_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))
    source = Source(id="muster", name="Musterstadt", kind="municipal", feeds=["https://example.org/feed"])
    processed = process_page(page, source, hint_date=dt.date(2025, 3, 1))
    assert processed is not None
    assert PARAGRAPH in processed.record.body_text
    assert [c.name for c in processed.cities] == ["Dresden"]
    assert [e.start_date for e in processed.events] == [dt.date(2025, 3, 12)]


def _spy(monkeypatch, module, name: str) -> list[int]:
    """Record the length of the text each call of module.name gets."""
    lengths: list[int] = []
    real = getattr(module, name)

    def spy(text, *args, **kwargs):
        lengths.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return lengths


def test_events_in_text_without_sentence_breaks_are_read_in_bounded_windows(monkeypatch):
    body = RUN_ON * 40  # about 8,000 characters, one "sentence"
    article = ArticleRecord(url=URL, title="Termine", body_text=body, published_date=dt.date(2025, 3, 1))
    city_texts = _spy(monkeypatch, events, "find_cities")
    date_texts = _spy(monkeypatch, events, "find_dates")
    found = events.find_events(article, [])
    assert {e.start_date for e in found} >= {dt.date(2025, 3, 12), dt.date(2025, 4, 3), dt.date(2025, 5, 18)}
    context = 2 * events._DATE_CONTEXT + events._LONGEST_DATE
    assert city_texts and max(city_texts) <= context
    assert date_texts and max(date_texts) <= events._LONGEST_SENTENCE + 2 * events._LONGEST_DATE


def test_the_dates_of_an_overlong_sentence_are_those_of_the_whole_text():
    text = (RUN_ON + "und am Mittwoch, 18. November bis Donnerstag, 2. Dezember 2026 ") * 30
    whole = [(s.start, s.end, s.date, s.end_date) for s in find_dates(text, dt.date(2025, 3, 1))]
    pieces = [(s.start, s.end, s.date, s.end_date) for s in events._dates_piecewise(text, dt.date(2025, 3, 1))]
    assert pieces == whole


def test_events_read_a_bounded_number_of_dates(monkeypatch):
    body = " ".join(f"Am {d}. März 2025 tagt der Arbeitskreis Nummer {d} in Leipzig." for d in range(1, 29)) * 15
    article = ArticleRecord(url=URL, title="Sitzungen", body_text=body, published_date=dt.date(2025, 3, 1))
    city_texts = _spy(monkeypatch, events, "find_cities")
    found = events.find_events(article, [])
    assert len(found) == 28  # one per day: the first mentions give every event
    # one look-up per dated mention read, plus the title's
    assert len(city_texts) <= events._MAX_EVENT_DATES + 1


def test_a_long_list_of_places_is_accepted_in_one_pass(monkeypatch):
    small_towns = ["Zwönitz", "Schwerte", "Aalen"] * 200  # accepted through the big city at the end of the list
    text = "Teilnehmer: " + ", ".join(small_towns) + " und Dresden"
    joins: list[int] = []
    real = places._LIST_JOINER

    class CountingJoiner:
        def fullmatch(self, *args):
            joins.append(1)
            return real.fullmatch(*args)

    monkeypatch.setattr(places, "_LIST_JOINER", CountingJoiner())
    assert {c.name for c in places.find_cities(text)} >= {"Zwönitz", "Schwerte", "Dresden"}
    assert len(joins) <= 2 * (len(small_towns) + 1)


def test_programme_names_are_looked_for_only_where_a_word_starts():
    # Tried at every capital inside one long word, the pattern would read the rest of the word each time.
    pattern = programmes._DISCOVER[2]
    assert pattern.search("Gefördert mit dem Digitalprogramm (DGP).").group(1) == "Digitalprogramm"
    assert pattern.search("xDigitalprogramm (DGP)") is None
    assert programmes.find_programmes("Aa" * 20_000) == []


def test_extraction_of_a_page_without_sentence_breaks_keeps_its_text():
    body = RUN_ON * 40
    html = (f"<html><head><title>Termine</title></head><body><article><h1>Termine des Forums</h1><p>{body}</p>"
            "</article></body></html>")
    record = extract_article(html, URL)
    assert record is not None
    assert re.sub(r"\s+", " ", record.body_text).strip() == body.strip()


def test_overlapping_dates_are_resolved_longest_first_by_neighbours_only():
    """The linear overlap check keeps what comparing each span with every kept span kept."""
    import random

    from scrapers.dates import TimeSpan, _longest_without_overlap

    def every_kept_span(spans):
        kept = []
        for span in sorted(spans, key=lambda s: (-(s.end - s.start), s.start)):
            if all(span.end <= k.start or span.start >= k.end for k in kept):
                kept.append(span)
        return sorted(kept, key=lambda s: s.start)

    rng = random.Random(15)
    for _ in range(500):
        spans = []
        for _ in range(rng.randint(0, 25)):
            start = rng.randint(0, 80)
            spans.append(TimeSpan(start, start + rng.randint(1, 12), "", None, None))
        assert _longest_without_overlap(list(spans)) == every_kept_span(spans)
