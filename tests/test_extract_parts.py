"""Unit tests of the extractor's parts (scrapers/extract/*), each with small snippets of our own."""
from __future__ import annotations

import datetime as dt

import pytest

from scrapers.extract import extract_article, is_listing_page
from scrapers.extract.details import details_from_lines
from scrapers.extract.listing import looks_like_listing
from scrapers.extract.markup import parse_html
from scrapers.extract.metadata import machine_date, read_meta, script_date
from scrapers.extract.pruning import drop_other_articles, prune_page
from scrapers.extract.pubdate import date_line, leading_date, lines_around_title, visible_date
from scrapers.extract.title import find_title, strip_site_name

TEXT = ("Der Gemeinderat hat am Dienstag beschlossen, die Straßenbeleuchtung im ganzen Ort auf sparsame Leuchten "
        "umzustellen. Die Arbeiten beginnen im Frühjahr und sollen bis zum Herbst abgeschlossen sein. ")


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def doc_of(html: str):
    doc = parse_html(html)
    assert doc is not None
    return doc


# ----------------------------------------------------------------------------- markup
@pytest.mark.parametrize("html", ["", "   ", "nur Text ohne Markup", "\x00\x01"])
def test_parse_html_gives_none_without_markup(html):
    assert parse_html(html) is None


def test_parse_html_accepts_an_xml_declaration_and_control_characters():
    doc = parse_html("<?xml version='1.0' encoding='iso-8859-1'?><html><body><p>a\x0bb</p></body></html>")
    assert doc is not None and doc.find(".//p").text == "ab"


# ----------------------------------------------------------------------------- metadata
@pytest.mark.parametrize("value, day", [
    ("2024-03-12T10:00:00+01:00", dt.date(2024, 3, 12)),
    ("Tue, 12 Mar 2024 10:00:00 +0100", dt.date(2024, 3, 12)),
    ("Tuesday, March 12, 2024 10:00 AM CET", dt.date(2024, 3, 12)),
    ("12 March 2024", dt.date(2024, 3, 12)),
    ("20240312", dt.date(2024, 3, 12)),
    ("12. März 2024", dt.date(2024, 3, 12)),
    ("9999-01-01", None), ("0001-01-01", None), ("2025-02-31", None), ("gestern", None), ("", None), (None, None),
])
def test_machine_date_reads_the_forms_sites_write(value, day):
    assert machine_date(value) == day


def test_json_ld_article_in_a_graph_outranks_the_webpage_and_meta_tags():
    ld = ('{"@context": "https://schema.org", "@graph": ['
          '{"@type": "WebPage", "headline": "Seitenkopf", "datePublished": "2020-01-01"},'
          '{"@type": ["NewsArticle"], "headline": "Die Schlagzeile",'
          ' "datePublished": "Mon, 04 Nov 2024 08:00:00 GMT", "author": [{"@type": "Person", "name": "Eva Muster"}]}]}')
    html = page(f"<script type='application/ld+json'>{ld}</script>"
                "<meta property='article:published_time' content='2023-05-05'>"
                "<meta property='og:type' content='website'>")
    meta = read_meta(doc_of(html))
    assert (meta.headline, meta.published, meta.author) == ("Die Schlagzeile", dt.date(2024, 11, 4), "Eva Muster")
    assert meta.is_article and not meta.is_listing


def test_broken_json_ld_with_a_trailing_comma_is_still_read():
    html = page("<script type='application/ld+json'>{\"@type\": \"BlogPosting\", \"datePublished\": \"2022-02-02\",}"
                "</script>")
    assert read_meta(doc_of(html)).published == dt.date(2022, 2, 2)


def test_meta_tags_match_case_insensitively_and_skip_empty_content():
    html = page("<meta property='OG:Title' content='  Erster Titel '><meta name='author' content=''>"
                "<meta itemprop='author' content='Anna Becker'><meta name='DC.Date' content='2021-03-04'>")
    meta = read_meta(doc_of(html))
    assert (meta.og_title, meta.author, meta.published) == ("Erster Titel", "Anna Becker", dt.date(2021, 3, 4))


def test_a_date_only_in_a_script_block_is_found():
    html = page("<script>window.__STATE__ = {\"article\": {\"id\": 7, \"publishedAt\": \"2023-09-18T06:30:00Z\"}};"
                "</script>", f"<h1>Titel</h1><p>{TEXT}</p>")
    assert script_date(doc_of(html)) == dt.date(2023, 9, 18)
    assert extract_article(html, "https://e.example/a").published_date == dt.date(2023, 9, 18)


# ----------------------------------------------------------------------------- title
@pytest.mark.parametrize("title, site, expected", [
    ("Neue Leuchten für den Ort | Gemeinde Beispielhausen", None, "Neue Leuchten für den Ort"),
    ("Beispielblatt - Neue Leuchten für den Ort", "Beispielblatt", "Neue Leuchten für den Ort"),
    ("Neue Leuchten – ein Überblick", None, "Neue Leuchten – ein Überblick"),
    ("Neue Leuchten für den Ort | Beispielhausen.de", None, "Neue Leuchten für den Ort"),
])
def test_strip_site_name(title, site, expected):
    assert strip_site_name(title, site, "https://www.beispielhausen.de/x") == expected


def test_a_kicker_inside_the_h1_is_not_part_of_the_title():
    html = page(body="<main><h1><span class='article-kicker'>Verkehr</span> Neue Ampeln am Markt</h1></main>")
    doc = doc_of(html)
    assert find_title(doc, read_meta(doc))[0] == "Neue Ampeln am Markt"


def test_a_kicker_glued_on_without_separator_is_cut_by_the_metadata_headline():
    html = page("<meta property='og:title' content='Neue Ampeln am Markt'>",
                "<main><h1><span>Verkehr</span><span>Neue Ampeln am Markt</span></h1></main>")
    doc = doc_of(html)
    assert find_title(doc, read_meta(doc))[0] == "Neue Ampeln am Markt"


def test_the_h1_of_a_newsletter_box_is_not_the_title():
    ld = '{"@type": "NewsArticle", "headline": "Neue Ampeln am Markt"}'
    html = page(f"<script type='application/ld+json'>{ld}</script>",
                "<div class='newsletter-box'><h1>Jetzt den Newsletter bestellen</h1></div>"
                f"<div class='content'><h2>Neue Ampeln am Markt</h2><p>{TEXT}</p></div>")
    doc = doc_of(html)
    assert find_title(doc, read_meta(doc))[0] == "Neue Ampeln am Markt"


def test_without_h1_the_title_comes_from_og_title_or_title():
    html = page("<title>Neue Ampeln | Stadt Beispielhausen</title>", f"<div><p>{TEXT}</p></div>")
    doc = doc_of(html)
    assert find_title(doc, read_meta(doc)) == ("Neue Ampeln", None)


# ----------------------------------------------------------------------------- listing
CARDS = "".join(f"<article class='teaser'><h3><a href='/meldung-{i}'>Eine andere Meldung mit Nummer {i}</a></h3>"
                f"<time datetime='2024-01-0{i}'>0{i}.01.2024</time><p>Kurzer Anrisstext.</p></article>"
                for i in range(1, 6))


def test_a_page_of_teaser_cards_is_a_listing():
    html = page(body=f"<main><h1>Aktuelles</h1>{CARDS}</main>")
    assert is_listing_page(html, "https://e.example/aktuelles")
    assert extract_article(html, "https://e.example/aktuelles") is None


def test_an_article_with_teasers_below_it_is_not_a_listing():
    html = page(body=f"<main><h1>Neue Leuchten</h1><div class='text'><p>{TEXT}</p><p>{TEXT}</p><p>{TEXT}</p>"
                     f"</div><section>{CARDS}</section></main>")
    assert not is_listing_page(html, "https://e.example/a")


def test_a_short_article_that_declares_itself_one_is_never_a_listing():
    ld = "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"Kurz\"}</script>"
    html = page(ld, f"<main><h1>Kurz</h1><p>Nur ein Satz.</p>{CARDS}</main>")
    doc = doc_of(html)
    assert not looks_like_listing(doc, "https://e.example/a", read_meta(doc))
    assert extract_article(html, "https://e.example/a") is not None


def test_readers_comments_are_not_teaser_cards():
    comments = "".join(f"<li class='comment'><a href='/user/{i}'>Leserin Nummer {i} schreibt</a> am 0{i}.02.2024: "
                       "Schöner Beitrag!</li>" for i in range(1, 7))
    html = page(body=f"<main><h1>Gartentipps</h1><p>{TEXT}</p><ol class='comment-list'>{comments}</ol></main>")
    assert not is_listing_page(html, "https://e.example/a")


# ----------------------------------------------------------------------------- dates by the title
@pytest.mark.parametrize("line, expected", [
    ("Veröffentlicht am 03.05.2024", (dt.date(2024, 5, 3), False)),
    ("Do 23. November 2023", (dt.date(2023, 11, 23), False)),
    ("12.03.2024, 14:30 Uhr", (dt.date(2024, 3, 12), False)),
    ("Stand: 01.02.2025", (dt.date(2025, 2, 1), True)),
    ("Am 21. Juni 2024 feiert die Gemeinde ihr großes Sommerfest im Park.", None),
])
def test_date_line(line, expected):
    assert date_line(line, None) == expected


def test_leading_date_of_a_first_paragraph():
    assert leading_date("14.08.2025 — Die Gemeinde teilt mit", None) == (dt.date(2025, 8, 14), 13)
    assert leading_date("Beispielhausen, 3. März 2024: Die Gemeinde", None)[0] == dt.date(2024, 3, 3)
    assert leading_date("Im Jahr 2024 wurde gebaut", None) is None


def test_the_visible_date_is_read_by_the_title_and_never_from_the_running_text():
    html = page(body=f"<main><p class='rubrik'>Umwelt</p><h1>Neue Leuchten</h1><p>Veröffentlicht: 03.05.2024</p>"
                     f"<p>{TEXT} Das Fest ist am 21.06.2024.</p><p>01.01.2020</p></main>")
    doc = doc_of(html)
    title, title_el = find_title(doc, read_meta(doc))
    lines, _ = lines_around_title(doc, title_el)
    assert [ln.is_title for ln in lines].count(True) == 1
    assert visible_date(lines, None, None) == (dt.date(2024, 5, 3), None)


def test_an_event_details_pair_by_the_title_does_not_date_the_article():
    html = page(body=f"<main><h1>Werkstatt</h1><dl><dt>Datum</dt><dd>24.09.2025</dd></dl><p>{TEXT}</p></main>")
    rec = extract_article(html, "https://e.example/a", feed_date=dt.date(2025, 7, 1))
    assert rec.published_date == dt.date(2025, 7, 1)
    assert rec.details == {"Datum": "24.09.2025"}


# ----------------------------------------------------------------------------- details
def test_details_from_markup_pairs_and_labelled_lines():
    lines = [("Ort: Rathaus, Saal 2", False), ("Fazit: gut", False), ("Raum: 2.14", True), ("Ort: zweiter", True)]
    assert details_from_lines(lines) == {"Ort": "Rathaus, Saal 2", "Raum": "2.14"}


def test_a_two_cell_table_becomes_detail_pairs():
    html = page(body=f"<main><h1>Forum Stadtdaten</h1><p>{TEXT}</p><table><tr><th>Beginn</th><td>10:00 Uhr</td></tr>"
                     "<tr><th>Veranstaltungsort</th><td>Bürgerhaus Nord</td></tr></table><p>" + TEXT + "</p></main>")
    rec = extract_article(html, "https://e.example/a")
    assert rec.details == {"Beginn": "10:00 Uhr", "Veranstaltungsort": "Bürgerhaus Nord"}


# ----------------------------------------------------------------------------- pruning and main text
@pytest.mark.parametrize("wrapper", ["page page--has-sidebar", "content share-enabled", "section Ads-wrapper"])
def test_a_class_fragment_on_a_wrapper_never_deletes_the_article(wrapper):
    html = page(body=f"<div class='{wrapper}'><h1>Neue Leuchten</h1><p>{TEXT}</p><p>{TEXT}</p><p>{TEXT}</p></div>"
                     "<div class='share-bar'><a href='/s'>Teilen auf Plattform</a></div>")
    rec = extract_article(html, "https://e.example/a")
    assert rec is not None and "Straßenbeleuchtung" in rec.body_text
    assert "Plattform" not in rec.body_text


def test_hidden_labels_go_and_cookie_boxes_are_furniture():
    html = page(body="<div class='cookie-consent'><p>Wir verwenden Cookies, um die Website zu verbessern. Mit Klick "
                     "auf Zustimmen willigen Sie ein.</p></div><main><h1>Neue Leuchten</h1>"
                     f"<span class='visually-hidden'>Inhaltsbereich</span><p>{TEXT}</p><p>{TEXT}</p>"
                     "<p hidden>Versteckter Hinweis</p><p style='display: none'>Noch einer</p></main>")
    doc = doc_of(html)
    boxes = prune_page(doc, doc.find(".//h1"))
    text = "".join(doc.itertext())
    assert "Straßenbeleuchtung" in text and "Cookies" in text
    assert not any(word in text for word in ("Inhaltsbereich", "Versteckter", "Noch einer"))
    assert any("Cookies" in box for box in boxes) and not any("Straßenbeleuchtung" in box for box in boxes)


def test_other_articles_are_dropped_before_the_page_is_dated():
    html = page(body=f"<main><h1>Neue Leuchten</h1><p>{TEXT}</p><h2>Weitere Meldungen</h2><ul><li><a href='/a'>"
                     "Alte Meldung über den Markt</a> 01.01.2020</li></ul></main><aside><p>Termine 02.02.2021</p>"
                     "</aside><div class='teaser'><a href='/b'>Noch eine andere Meldung</a></div>")
    doc = doc_of(html)
    drop_other_articles(doc)
    text = "".join(doc.itertext())
    assert "Straßenbeleuchtung" in text
    assert not any(word in text for word in ("Alte Meldung", "Termine", "andere Meldung", "Weitere Meldungen"))


def test_a_post_served_inside_noscript_is_read():
    html = page("<title>Herbst im Garten | Gartenblog</title>",
                "<div id='app'>Bitte aktivieren Sie JavaScript.</div><noscript><article><h1>Herbst im Garten</h1>"
                f"<p>{TEXT}</p><p>{TEXT}</p></article></noscript>")
    rec = extract_article(html, "https://blog.example/herbst")
    assert rec is not None and rec.title == "Herbst im Garten" and "Straßenbeleuchtung" in rec.body_text


def test_a_page_without_h1_does_not_return_the_cookie_banner_as_its_body():
    html = page("<title>Neue Leuchten | Gemeinde</title>",
                "<div id='consent-layer'><p>Diese Website verwendet Cookies und vergleichbare Technologien. Sie "
                "können Ihre Einwilligung jederzeit widerrufen.</p><button>Akzeptieren</button></div>"
                f"<div class='inhalt'><p>{TEXT}</p><p>{TEXT}</p></div>")
    rec = extract_article(html, "https://e.example/a")
    assert rec is not None and "Cookies" not in rec.body_text and "Straßenbeleuchtung" in rec.body_text


# ----------------------------------------------------------------------------- main text repairs
LONG = TEXT * 3


def body_of(html: str) -> str:
    rec = extract_article(html, "https://e.example/a")
    assert rec is not None
    return rec.body_text


def test_the_lead_paragraph_by_the_headline_is_put_back_in_front_of_the_body():
    html = page(body="<main><article><header><h1>Neue Leuchten für den Ort</h1><p class='article-lead'>Die Gemeinde "
                     "stellt bis zum Herbst alle Straßenlaternen auf sparsame Leuchten um, beginnend am Markt.</p>"
                     f"</header><div class='article-text'><p>{LONG}</p><p>{LONG}</p></div></article></main>")
    body = body_of(html)
    assert body.startswith("Die Gemeinde stellt bis zum Herbst")
    assert body.count("Die Gemeinde stellt") == 1


def test_a_boilerplate_heading_takes_its_teaser_links_along():
    teasers = "".join(f"<p><a href='/t{i}'>Eine andere Meldung Nummer {i}</a></p>" for i in range(3))
    html = page(body=f"<main><article><h1>Neue Leuchten</h1><p>{LONG}</p><p>{LONG}</p><h3>Das könnte Sie auch "
                     f"interessieren</h3>{teasers}</article></main>")
    body = body_of(html)
    assert "Straßenbeleuchtung" in body
    assert "interessieren" not in body and "andere Meldung" not in body


@pytest.mark.parametrize("line", ["Foto: Gemeinde Beispielhausen", "Teilen", "Anzeige",
                                  "Zuletzt aktualisiert: gestern"])
def test_furniture_lines_are_dropped(line):
    html = page(body=f"<main><article><h1>Neue Leuchten</h1><p>{LONG}</p><p>{line}</p><p>{LONG}</p></article></main>")
    assert line not in body_of(html).splitlines()


def test_author_and_related_boxes_are_pruned_but_never_a_wrapper_named_alike():
    html = page(body=f"<main><div class='post has-related-box'><h1>Neue Leuchten</h1><p>{LONG}</p><p>{LONG}</p>"
                     "<div class='author-box'><p>Eva Muster schreibt seit vielen Jahren über die Gemeinde und ihre "
                     "Vereine.</p></div><div class='related-posts'><p>Noch ein Beitrag über den Sportverein und sein "
                     "Sommerfest im Park.</p></div></div></main>")
    body = body_of(html)
    assert "Straßenbeleuchtung" in body and "Eva Muster" not in body and "Sportverein" not in body


def test_a_facts_table_kept_in_the_text_gives_detail_pairs_and_other_tables_give_rows():
    html = page(body=f"<main><article><h1>Forum</h1><p>{LONG}</p><table><tr><th>Datum</th><td>3. März 2025</td>"
                     "</tr><tr><th>Ort</th><td>Rathaus</td></tr></table><table><tr><td>Team</td><td>Spiele</td>"
                     f"<td>Punkte</td></tr><tr><td>Nord</td><td>3</td><td>9</td></tr></table><p>{LONG}</p></article>"
                     "</main>")
    rec = extract_article(html, "https://e.example/a")
    assert rec.details == {"Datum": "3. März 2025", "Ort": "Rathaus"}
    assert "Nord 3 9" in rec.body_text.splitlines()


def test_a_long_subtitle_does_not_end_the_search_for_the_dated_first_paragraph():
    subtitle = ("Die Gemeinde erneuert die Beleuchtung in allen Straßen und Gassen des Ortes und spart damit "
                "jedes Jahr viel Strom und Geld ein")
    assert len(subtitle) > 120
    doc = doc_of(page(body=f"<main><h1>Neue Leuchten</h1><h3>{subtitle}</h3><p>27.1.2025 - {TEXT}</p></main>"))
    lines, _ = lines_around_title(doc, doc.find(".//h1"))
    assert visible_date(lines, None, None) == (dt.date(2025, 1, 27), None)


def test_an_h1_the_metadata_states_as_written_keeps_a_prefix_that_looks_like_a_site_name():
    html = page("<meta property='og:title' content='Stadt Beispielhausen: Neue Radwege am Fluss'>",
                "<main><h1>Stadt Beispielhausen: Neue Radwege am Fluss</h1></main>")
    doc = doc_of(html)
    assert find_title(doc, read_meta(doc))[0] == "Stadt Beispielhausen: Neue Radwege am Fluss"


def test_broken_element_names_near_a_pruned_box_do_not_break_the_extraction():
    html = page(body=f"<main><h1>Neue Leuchten</h1><p>{LONG}</p><o:p><div class='related-posts'><p>Eine andere "
                     f"Meldung über den Markt und seine Händler</p></div></o:p><p>{LONG}</p></main>")
    rec = extract_article(html, "https://e.example/a")
    assert rec is not None and "Straßenbeleuchtung" in rec.body_text


def test_a_hidden_element_holding_most_of_the_page_is_still_read():
    html = page(body=f"<main><h1>Neue Leuchten</h1><div class='tab-panel hidden'><p>{LONG}</p><p>{LONG}</p></div>"
                     "<span class='sr-only'>Nur für Vorleseprogramme</span></main>")
    body = body_of(html)
    assert "Straßenbeleuchtung" in body and "Vorleseprogramme" not in body


def test_a_press_contact_block_is_not_article_text():
    html = page(body=f"<main><article><h1>Neue Leuchten</h1><p>{LONG}</p><p>{LONG}</p><h4>Pressekontakt</h4>"
                     "<p>Amt für Kommunikation</p><p>Telefon: 01234 5678</p></article></main>")
    body = body_of(html)
    assert "Straßenbeleuchtung" in body and "Pressekontakt" not in body and "Telefon" not in body


@pytest.mark.parametrize("placeholder", [
    "Externer Inhalt: Hier steht ein Video. Sie können es mit einem Klick anzeigen lassen.",
    "Mit dem Laden des Videos akzeptieren Sie die Datenschutzerklärung von YouTube. Ich bin einverstanden, dass "
    "mir Inhalte von Drittanbietern angezeigt werden und dabei Daten übermittelt werden können.",
])
def test_a_consent_placeholder_for_an_embedded_video_is_not_article_text(placeholder):
    html = page(body=f"<main><article><h1>Neue Leuchten</h1><p>{LONG}</p><p>{placeholder}</p><p>{LONG}</p>"
                     "</article></main>")
    body = body_of(html)
    assert "Straßenbeleuchtung" in body and placeholder[:30] not in body


def test_a_job_market_box_under_its_heading_is_not_article_text():
    jobs = "".join(f"<p><a href='/job{i}'>Sachbearbeitung im Bürgeramt Nummer {i}</a></p>" for i in range(3))
    html = page(body=f"<main><article><h1>Neue Leuchten</h1><p>{LONG}</p><p>{LONG}</p><h3>Stellenangebote</h3>{jobs}"
                     "</article></main>")
    body = body_of(html)
    assert "Straßenbeleuchtung" in body and "Bürgeramt" not in body
