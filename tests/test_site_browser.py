"""The static website in a real browser: Debian's Chromium driven by Playwright, over the demo warehouse's site.

Each test fails on a console error or an uncaught exception in the page. Screenshots go to the test's folder, or
to STADTRADAR_SCREENSHOTS (`make screenshots` writes docs/screenshots/ that way). No browser is downloaded:
Playwright drives /usr/bin/chromium (`.ci/run` installs Debian's package), and nothing leaves the machine (the
pages load files only).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.warehouse_fixture import demo_warehouse, stadtradar  # noqa: F401

CHROMIUM = Path(os.environ.get("STADTRADAR_CHROMIUM", "/usr/bin/chromium"))
# CI (.ci/run) sets STADTRADAR_REQUIRE_BROWSER: there a missing browser fails the tests instead of skipping them.
REQUIRED = bool(os.environ.get("STADTRADAR_REQUIRE_BROWSER"))
if not REQUIRED:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup installs it)")
from playwright import sync_api  # noqa: E402 - after the skip above

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not CHROMIUM.exists() and not REQUIRED, reason=(
    f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; .ci/run does)"))]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox; a container's /dev/shm is often small
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """The site the demo run wrote (STADTRADAR_SITE_DIR, tests/warehouse_fixture.py), else one made here."""
    built = demo_warehouse.parent / "site"
    if (built / "index.html").exists():
        return built
    out = tmp_path_factory.mktemp("site")
    done = stadtradar("site", "--out", str(out), "--db", str(demo_warehouse), home=out.parent / "home")
    assert done.returncode == 0, done.stderr
    return out


class Page:
    """A page opened from the file system that fails the test on console errors, page errors, dialogs (a script
    that ran from scraped text) and requests that leave the site's folder."""

    def __init__(self, browser: Any, path: Path, width: int = 1280):
        self.problems: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: None if r.url.startswith("file://") else self.problems.append(
            f"request outside the folder: {r.url}"))
        self.page.goto(path.as_uri())

    def shot(self, tmp_path: Path, name: str) -> None:
        folder = Path(os.environ.get("STADTRADAR_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}.png"))  # the window, not the whole page: small files

    def close(self) -> None:
        self.page.close()
        assert self.problems == []


PAGES = {"index.html": "Termine", "karte.html": "Karte", "programme.html": "Programme", "staedte.html": "Städte",
         "artikel.html": "Artikel", "quellen.html": "Quellen"}


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_loads_in_german_without_errors(browser, site, tmp_path, name):
    page = Page(browser, site / name)
    assert page.page.locator("h1").inner_text() == PAGES[name]
    assert page.page.locator("html").get_attribute("lang") == "de"
    assert page.page.locator("nav a[aria-current=page]").inner_text() == PAGES[name]
    page.shot(tmp_path, name.removesuffix(".html"))
    page.close()


def test_events_filter_by_city_and_the_month_view(browser, site, tmp_path):
    page = Page(browser, site / "index.html")
    items = page.page.locator("li.event")
    total = items.count()
    assert total > 1 and page.page.locator("output.count").inner_text() == f"{total} Termine"
    options = page.page.locator("select[name=city] option")
    city = options.nth(1).get_attribute("value")
    page.page.select_option("select[name=city]", city)
    visible = page.page.locator("li.event:visible")
    filtered = visible.count()
    assert 0 < filtered < total
    assert {visible.nth(i).get_attribute("data-city") for i in range(visible.count())} == {city}
    assert page.page.locator("output.count").inner_text() == f"{filtered} Termine"
    page.page.get_by_role("button", name="Monatsansicht").click()
    assert page.page.locator("section.month-view").is_visible()
    assert not page.page.locator("section.list-view").is_visible()
    assert page.page.locator("table.month caption").first.inner_text()[-4:].isdigit()
    in_month = page.page.locator("table.month span.event:visible")
    assert in_month.count() == filtered  # the month view shows what the filter leaves
    page.page.select_option("select[name=city]", "")
    assert page.page.locator("table.month span.event:visible").count() == total
    page.shot(tmp_path, "termine-monat")
    page.close()


def test_a_click_on_a_city_on_the_map_shows_its_programmes_events_and_articles(browser, site, tmp_path):
    page = Page(browser, site / "karte.html")
    cities = page.page.locator("svg.map a.city")
    assert cities.count() >= 5
    biggest = max(range(cities.count()), key=lambda i: float(cities.nth(i).locator("circle").get_attribute("r")))
    target = cities.nth(biggest)
    name = target.get_attribute("aria-label").split(":")[0]
    target.click()
    panel = page.page.locator("aside.city-panel")
    assert panel.locator("h2").inner_text() == name
    assert page.page.evaluate("document.activeElement.tagName") == "H2"  # the keyboard goes on in the panel
    assert [h.inner_text() for h in panel.locator("h3").all()] == ["Programme", "Termine", "Artikel"]
    assert panel.locator("li").count() >= 1
    page.shot(tmp_path, "karte-stadt")
    # the keyboard reaches the cities too: focus one and press Enter
    other = cities.nth(0 if biggest else 1)
    other.focus()
    page.page.keyboard.press("Enter")
    assert panel.locator("h2").inner_text() == other.get_attribute("aria-label").split(":")[0]
    page.close()


def test_article_search_narrows_the_list_and_says_how_many(browser, site, tmp_path):
    page = Page(browser, site / "artikel.html")
    items = page.page.locator("ol.articles li")
    total = items.count()
    page.page.fill("#q", "Modellprojekt")
    shown = page.page.locator("ol.articles li:visible")
    assert 0 < shown.count() < total
    assert page.page.locator("form.search output").inner_text() == f"{shown.count()} von {total} Artikeln"
    page.shot(tmp_path, "artikel-suche")
    page.page.fill("#q", "Qxzzyvw")
    assert page.page.locator("ol.articles li:visible").count() == 0
    page.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_a_phone(browser, site, name):
    page = Page(browser, site / name, width=390)
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 391  # no sideways scrolling
    page.close()


def test_a_city_page_on_a_phone(browser, site, tmp_path):
    page = Page(browser, site / "staedte.html", width=390)
    page.page.locator("table a").first.click()
    assert page.page.locator("h2").all_inner_texts()[:3] == ["Programme", "Termine", "Artikel"]
    assert page.page.evaluate("document.documentElement.scrollWidth") <= 391
    page.shot(tmp_path, "stadt-handy")
    page.close()


def test_a_search_of_short_words_says_why_it_finds_everything(browser, site):
    page = Page(browser, site / "artikel.html")
    page.page.fill("#q", "EU")
    assert "mindestens 3 Buchstaben" in page.page.locator("form.search output").inner_text()
    page.close()


def test_a_hostile_title_shows_as_text_in_the_browser(browser, tmp_path):
    from tests.test_site import HOSTILE, hostile_site
    from warehouse.site import write_site

    out = tmp_path / "site"
    write_site(hostile_site(dt.date(2026, 3, 19)), out)
    for name in ("index.html", "artikel.html", "karte.html"):
        page = Page(browser, out / name)  # a dialog (alert) would be recorded as a problem
        if name != "karte.html":  # the map names its cities in the panel a click opens
            assert HOSTILE in page.page.locator("main").inner_text()
        if name == "karte.html":
            page.page.locator("svg.map a.city").first.click()
            assert HOSTILE in page.page.locator("aside.city-panel").inner_text()
        if name == "artikel.html":
            page.page.fill("#q", "script")
            assert page.page.locator("ol.articles li:visible").count() == 1
        page.close()
    shutil.rmtree(out)
