"""The static website: German dates, the search index, escaping of every scraped string, and the demo's pages."""
from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from tests.warehouse_fixture import demo_warehouse, stadtradar  # noqa: F401
from warehouse.calendar import EventRow
from warehouse.site import (
    SiteArticle,
    SiteCity,
    SiteData,
    SiteEvent,
    SiteProgramme,
    city_page,
    german_date,
    german_time,
    http_url,
    search_index,
    write_site,
)

PAGES = ("index.html", "karte.html", "programme.html", "staedte.html", "artikel.html", "quellen.html")
HOSTILE = '<script>alert("x")</script>"onerror="alert(1)'


def test_german_dates_and_times():
    assert german_date(dt.date(2026, 3, 19)) == "Do., 19. März 2026"
    assert german_date(dt.date(2025, 12, 7), weekday=False) == "7. Dezember 2025"
    assert german_date(None) == ""
    assert german_time(dt.time(17), dt.time(19)) == "17:00–19:00 Uhr"
    assert german_time(dt.time(9, 30), None) == "09:30 Uhr"


def test_the_search_index_holds_each_word_once_per_article():
    articles = [SiteArticle("a", "Digitale Stadt", "https://a.de/1", "s", None, True, "", "Digitale Stadt Ulm plant"),
                SiteArticle("b", "Stadtwerke", "https://a.de/2", "s", None, False, "", "Stadtwerke Ulm Ulm")]
    index = search_index(articles)
    assert index["ulm"] == [0, 1] and index["stadtwerke"] == [1] and index["digitale"] == [0]
    assert "in" not in index  # words under three letters would match everything


def test_only_http_links_become_hrefs():
    assert http_url("https://www.dresden.de/x") == "https://www.dresden.de/x"
    assert http_url("javascript:alert(1)") == "#" and http_url("data:text/html,x") == "#" and http_url(None) == "#"


def hostile_site(today: dt.date) -> SiteData:
    event = SiteEvent("e/1", HOSTILE, today, None, dt.time(17), None, HOSTILE, "x1", HOSTILE, HOSTILE, "p1",
                      "javascript:alert(1)", HOSTILE, HOSTILE)
    city = SiteCity("x1", HOSTILE, HOSTILE, 51.05, 13.74, 3,
                    programmes=[{"programme_id": "p1", "name": HOSTILE, "role": HOSTILE, "is_stated": True,
                                 "evidence": HOSTILE}],
                    events=[event], articles=[{"url": "javascript:alert(1)", "title": HOSTILE,
                                               "published_date": today, "source_id": HOSTILE}])
    programme = SiteProgramme("p1", HOSTILE, HOSTILE, HOSTILE, 1,
                              members=[{"city_id": "x1", "city": HOSTILE, "role": HOSTILE, "is_stated": True,
                                        "evidence": HOSTILE}], mentions_by_month=[("2026-03", 2)])
    article = SiteArticle("a1", HOSTILE, "javascript:alert(1)", HOSTILE, today, True, HOSTILE, HOSTILE + " Ulm")
    source = {"source_id": HOSTILE, "name": HOSTILE, "kind": "other", "city": None, "articles": 1,
              "relevant_articles": 1, "last_published": today, "last_run_at": dt.datetime(2026, 3, 1, 5, 30),
              "last_success_at": None, "healthy": False, "health_reason": HOSTILE}
    run = {"run_id": "r1", "flow": "ingest", "started_at": dt.datetime(2026, 3, 1, 5, 30), "status": HOSTILE,
           "articles_new": 1, "errors": 0}
    rows = [EventRow("e/1", HOSTILE, today, start_time=dt.time(17), venue=HOSTILE, city_name=HOSTILE,
                     url="https://a.de/1")]
    return SiteData(today, [event], [city], [programme], [article], [source], [run], rows)


def test_a_hostile_title_shows_as_text_on_every_page(tmp_path):
    written = write_site(hostile_site(dt.date(2026, 3, 19)), tmp_path)
    pages = [p for p in written if p.suffix == ".html"]
    assert {p.name for p in pages} >= set(PAGES) and (tmp_path / city_page("x1")).exists()
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html, page
        assert 'onerror="alert' not in html, page
        assert "javascript:" not in html, page
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
        assert all("<" not in body for body in scripts), page  # embedded JSON cannot close its element
    events = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in events  # shown as text


def test_pages_link_to_nothing_outside_the_folder(tmp_path):
    write_site(hostile_site(dt.date(2026, 3, 19)), tmp_path)
    for page in tmp_path.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for ref in re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="([^"]+)"', html):
            assert not re.match(r"[a-z]+:|//", ref), (page, ref)  # stylesheet, script, images: relative only
            assert (page.parent / ref).resolve().exists(), (page, ref)


@pytest.mark.e2e
def test_the_site_of_the_demo_warehouse(demo_warehouse, tmp_path):  # noqa: F811
    out = tmp_path / "site"
    stale = out / "staedte" / "frueher.html"  # a city page of an earlier site whose city is gone
    stale.parent.mkdir(parents=True)
    stale.write_text("alt")
    done = stadtradar("site", "--out", str(out), "--db", str(demo_warehouse), home=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in PAGES:
        assert (out / name).exists(), name
    assert not stale.exists()
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        events = con.execute("select name from marts.events").fetchall()
        cities = con.execute("select city_id, name from marts.cities").fetchall()
        articles = con.execute("select count(*) from marts.articles").fetchone()[0]
    finally:
        con.close()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert events and all(_escaped(name) in index for (name,) in events)
    for city_id, name in cities:
        assert _escaped(name) in (out / city_page(city_id)).read_text(encoding="utf-8")
    listing = (out / "artikel.html").read_text(encoding="utf-8")
    assert listing.count("<li data-index=") == articles
    assert (out / "termine.ics").read_bytes().count(b"BEGIN:VEVENT") == len(events)
    karte = (out / "karte.html").read_text(encoding="utf-8")
    assert karte.count('class="city"') >= 5 and "Sachsen" in karte


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace(
        "'", "&#39;")


def test_a_missing_warehouse_is_named_and_the_old_site_kept(tmp_path):
    from warehouse.db import WarehouseError
    from warehouse.site import generate_site

    stale = tmp_path / "out" / "staedte" / "alt.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("alt")
    with pytest.raises(WarehouseError, match="fehlt.duckdb"):
        generate_site(tmp_path / "fehlt.duckdb", tmp_path / "out", dt.date(2026, 3, 19))
    assert stale.exists()  # nothing removed before the warehouse was read


@pytest.mark.e2e
def test_a_run_with_a_site_folder_regenerates_the_site(demo_warehouse):  # noqa: F811
    import os

    if os.environ.get("STADTRADAR_TEST_WAREHOUSE"):
        pytest.skip("a prebuilt warehouse comes without the run that writes the site")
    site = demo_warehouse.parent / "site"
    for name in PAGES:
        assert (site / name).exists(), name
    assert (site / "termine.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_an_event_reported_by_several_articles_says_so(tmp_path):
    data = hostile_site(dt.date(2026, 3, 19))
    data.events[0].report_count = 3
    write_site(data, tmp_path)
    assert "2 weitere Berichte" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_hostile_ids_stay_inside_their_attributes_and_file_names(tmp_path):
    data = hostile_site(dt.date(2026, 3, 19))
    evil = '"><script>alert(2)</script>/../x'
    data.events[0].event_id = data.events[0].city_id = data.events[0].programme_id = evil
    data.cities[0].city_id = evil
    data.programmes[0].programme_id = evil
    data.calendar_rows[0] = EventRow(evil, HOSTILE, dt.date(2026, 3, 19))
    written = write_site(data, tmp_path)
    assert all(path.resolve().is_relative_to(tmp_path.resolve()) for path in written)  # no file outside the folder
    for page in tmp_path.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html, page
