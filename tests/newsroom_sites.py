"""Small invented German newsroom pages for the loopback sites of the check-sources and add-source tests."""
from __future__ import annotations

import asyncio
import gzip
from collections.abc import Sequence

from scrapers.config import Settings, Source
from scrapers.crawl import CrawlResult, Deadline, discover, fetch_articles
from scrapers.fetch import Fetcher
from tests.conftest import Reply

# (slug, title, lead, detail): invented news of a fictional city's Digitalwerkstatt and smart-city projects.
STORIES = [
    ("digitalwerkstatt-eroeffnet", "Digitalwerkstatt in der Stadtbibliothek eröffnet",
     "In der Stadtbibliothek Görlitz hat am Montag die neue Digitalwerkstatt ihre Türen geöffnet.",
     "Besucherinnen und Besucher können dort 3D-Drucker, Lötstationen und einen Lasercutter ausprobieren."),
    ("sensoren-im-stadtpark", "Sensoren messen die Bodenfeuchte im Stadtpark",
     "Im Stadtpark melden seit dieser Woche zwanzig Bodensensoren, wann die jungen Bäume Wasser brauchen.",
     "Das Grünflächenamt spart damit Fahrten und gießt nur noch dort, wo es wirklich nötig ist."),
    ("parkplatz-app-startet", "Neue App zeigt freie Parkplätze in der Altstadt",
     "Eine neue App der Stadtwerke zeigt an, wie viele Stellplätze in den Parkhäusern der Altstadt frei sind.",
     "Die Daten stammen von Zählschleifen an den Einfahrten und werden jede Minute aktualisiert."),
    ("online-termine-buergeramt", "Bürgerportal vergibt Termine jetzt online",
     "Wer einen neuen Personalausweis braucht, bucht den Termin im Bürgeramt ab sofort über das Bürgerportal.",
     "Die Stadtverwaltung will so Wartezeiten im Foyer verkürzen und die Sprechzeiten besser planen."),
    ("workshop-offene-daten", "Workshop zu offenen Daten für Vereine",
     "Die Digitalwerkstatt lädt Vereine zu einem Workshop über offene Daten der Stadt ein.",
     "Gezeigt wird, wie man Haltestellen, Spielplätze und Wahlergebnisse aus dem Datenportal nutzt."),
    ("led-laternen-mit-sensoren", "Laternen mit Bewegungsmeldern im Wohngebiet",
     "Im Wohngebiet am Weinberg leuchten die Laternen nur noch hell, wenn jemand vorbeikommt.",
     "Die Umrüstung auf LED und Bewegungsmelder senkt den Stromverbrauch der Straßenbeleuchtung deutlich."),
    ("tablets-fuer-schulen", "Grundschulen erhalten Tablets für den Unterricht",
     "Alle sechs Grundschulen der Stadt bekommen bis zum Sommer Klassensätze mit Tablets.",
     "Die Lehrkräfte werden vorher in der Digitalwerkstatt geschult, die auch die Wartung übernimmt."),
]

NAV = ('<nav class="main-nav"><ul><li><a href="/">Start</a></li><li><a href="/rathaus/">Rathaus</a></li>'
       '<li><a href="/kontakt/">Kontakt</a></li><li><a href="/impressum/">Impressum</a></li></ul></nav>')


def day(n: int) -> str:
    """The ISO day of story n (newest has the highest n)."""
    return f"2025-03-{n + 1:02d}"


def article_html(n: int, dated: bool = True, site: str = "Stadt Görlitz", nav: str = NAV) -> str:
    """An article page for story n: headline, date (unless dated is false), three paragraphs, page furniture."""
    slug, title, lead, detail = STORIES[n]
    meta = f'<meta property="article:published_time" content="{day(n)}T09:30:00+01:00">' if dated else ""
    shown = f'<p class="date"><time datetime="{day(n)}">{n + 1:02d}.03.2025</time></p>' if dated else ""
    return (f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{title} | {site}</title>'
            f'<meta property="og:site_name" content="{site}">{meta}</head><body>'
            f'<header>{nav}</header><main><article><h1>{title}</h1>{shown}'
            f"<p>{lead} {detail}</p>"
            "<p>Das Projekt gehört zur Strategie für die digitale Stadt, die der Stadtrat im vergangenen Jahr "
            "beschlossen hat. Fragen beantwortet das Team der Digitalwerkstatt per E-Mail.</p>"
            "<p>Weitere Vorhaben sollen im Laufe des Jahres folgen; die Stadt berichtet auf dieser Seite darüber.</p>"
            f"</article></main><footer><p>{site} · Untermarkt 6 · 02826 Görlitz</p></footer></body></html>")


def page(body: str, title: str = "Stadt Görlitz", head: str = "") -> Reply:
    return Reply(f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
                 f"<body><header>{NAV}</header><main>{body}</main></body></html>")


def service_page(title: str) -> Reply:
    return page(f"<h1>{title}</h1><p>Öffnungszeiten: montags bis freitags.</p>", title)


def listing(links: list[tuple[str, str]], next_page: str | None = None, pager: Sequence[str] = (), head: str = "",
            heading: str = "Aktuelles") -> Reply:
    """A news listing: teaser links, optional numbered pager links and a rel=next link."""
    teasers = "".join(f'<div class="teaser"><h3><a href="{href}">{text}</a></h3></div>' for href, text in links)
    pages = "".join(f'<a href="{p}">{i}</a> ' for i, p in enumerate(pager, start=1))
    after = f'<a rel="next" href="{next_page}">Weiter</a>' if next_page else ""
    return page(f"<h1>{heading}</h1>{teasers}<div class='pager'>{pages}{after}</div>", heading, head)


def rss(base: str, items: list[tuple[str, str]]) -> Reply:
    """An RSS feed of (path, iso day) items."""
    entries = "".join(
        f"<item><title>Meldung</title><link>{base}{path}</link><pubDate>{_rfc822(d)}</pubDate></item>"
        for path, d in items)
    return Reply(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Aktuelles</title>'
                 f"<link>{base}/</link>{entries}</channel></rss>", headers={"Content-Type": "application/rss+xml"})


def _rfc822(iso: str) -> str:
    import datetime as dt

    return dt.date.fromisoformat(iso).strftime("%a, %d %b %Y 09:30:00 +0100")


def urlset(base: str, items: Sequence[tuple[str, str | None]], gzipped: bool = False) -> Reply:
    """A sitemap of (path, lastmod) items."""
    urls = "".join(f"<url><loc>{base}{path}</loc>" + (f"<lastmod>{d}</lastmod>" if d else "") + "</url>"
                   for path, d in items)
    text = f'<?xml version="1.0" encoding="utf-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    if gzipped:
        return Reply(gzip.compress(text.encode()), headers={"Content-Type": "application/x-gzip"})
    return Reply(text, headers={"Content-Type": "application/xml"})


def sitemap_index(base: str, paths: list[str]) -> Reply:
    children = "".join(f"<sitemap><loc>{base}{p}</loc></sitemap>" for p in paths)
    return Reply(f'<?xml version="1.0" encoding="utf-8"?><sitemapindex '
                 f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>',
                 headers={"Content-Type": "application/xml"})


def robots(text: str) -> Reply:
    return Reply(text, headers={"Content-Type": "text/plain"})


def crawl(source: Source, settings: Settings) -> CrawlResult:
    """Discovery, then the article pages, as warehouse.ingest runs them (there in batches)."""
    async def run() -> CrawlResult:
        async with Fetcher(settings) as fetcher:
            deadline = Deadline(settings.source_time_budget)
            result = await discover(source, fetcher, settings, None, False, deadline)
            result.pages += await fetch_articles(fetcher, source, result.to_fetch, {}, result, deadline)
            return result

    return asyncio.run(run())
