"""Discovery parsers: feeds, sitemaps (with index files) and paginated listings."""
from __future__ import annotations

import datetime as dt

import pytest

from scrapers.discovery import DiscoveryError, alternate_feeds, parse_feed, parse_listing, parse_sitemap
from scrapers.urls import article_id, canonicalize

FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>N</title>
<item><title>A</title><link>https://www.example.de/news/a.html?utm_source=rss</link>
<pubDate>Fri, 01 Mar 2024 09:00:00 +0000</pubDate></item>
<item><title>B</title><link>/news/b.html</link></item></channel></rss>"""

SITEMAP_INDEX = """<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.example.de/sitemap-news.xml</loc></sitemap></sitemapindex>"""

SITEMAP = """<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://www.example.de/news/a.html</loc><lastmod>2024-03-02T10:00:00+01:00</lastmod></url>
<url><loc>https://www.example.de/kontakt</loc></url></urlset>"""

LISTING = """<html><body><nav><a href="/">Start</a></nav>
<div class="teaser"><a href="/news/a.html#top">A</a></div><div class="teaser"><a href="news/b.html">B</a></div>
<a href="mailto:x@example.de">Mail</a><a rel="next" href="?page=2">Weiter</a></body></html>"""


def test_feed_links_dates_and_tracking_params_dropped():
    links = parse_feed(FEED, "https://www.example.de/rss.xml")
    assert [link.url for link in links] == ["https://www.example.de/news/a.html", "https://www.example.de/news/b.html"]
    assert links[0].published == dt.date(2024, 3, 1) and links[1].published is None


def test_broken_feed_names_its_url():
    with pytest.raises(DiscoveryError, match="https://x.de/feed"):
        parse_feed("<html>nope", "https://x.de/feed")


def test_sitemap_index_and_lastmod():
    links, children = parse_sitemap(SITEMAP_INDEX, "https://www.example.de/sitemap.xml")
    assert links == [] and children == ["https://www.example.de/sitemap-news.xml"]
    links, children = parse_sitemap(SITEMAP, "https://www.example.de/sitemap-news.xml")
    assert children == [] and links[0].published == dt.date(2024, 3, 2) and len(links) == 2


def test_broken_sitemap_names_its_url():
    with pytest.raises(DiscoveryError, match="sitemap.xml"):
        parse_sitemap("<urlset><url>", "https://x.de/sitemap.xml")


def test_listing_links_and_next_page():
    links, next_url = parse_listing(LISTING, "https://www.example.de/news/")
    urls = [link.url for link in links]
    assert "https://www.example.de/news/a.html" in urls and "https://www.example.de/news/news/b.html" in urls
    assert not any(u.startswith("mailto") for u in urls)
    assert next_url == "https://www.example.de/news/?page=2"


def test_listing_with_selector():
    links, _ = parse_listing(LISTING, "https://www.example.de/news/", link_selector="div.teaser")
    assert [link.url for link in links] == ["https://www.example.de/news/a.html",
                                            "https://www.example.de/news/news/b.html"]


def test_canonical_urls_are_one_identity():
    assert canonicalize("HTTPS://WWW.Example.de:443/a?utm_medium=x&id=3&fbclid=y#frag") == "https://www.example.de/a?id=3"
    assert article_id("https://www.example.de/news/a/") == article_id("https://www.example.de/news/a")
    assert article_id("https://www.example.de/news/a") != article_id("https://www.example.de/news/b")


NEWS_SITEMAP = """<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://www.example.de/news/erster-bericht</loc>
  <news:news><news:publication><news:name>Stadt</news:name><news:language>de</news:language></news:publication>
  <news:publication_date>2025-05-06T08:30:00+02:00</news:publication_date><news:title>Bericht</news:title></news:news>
</url>
<url><loc>https://www.example.de/news/zweiter-bericht</loc><lastmod>2025-05-07</lastmod>
  <news:news><news:publication_date>2025-05-01</news:publication_date></news:news></url>
</urlset>"""


def test_a_news_sitemap_gives_its_publication_date_where_there_is_no_lastmod():
    links, children = parse_sitemap(NEWS_SITEMAP, "https://www.example.de/news-sitemap.xml")
    assert children == []
    first, second = links
    assert first.published == dt.date(2025, 5, 6) and first.updated_at == dt.datetime(2025, 5, 6, 6, 30)
    assert second.published == dt.date(2025, 5, 7)  # lastmod wins: the page's own change time


def test_alternate_feeds_are_the_announced_rss_and_atom_feeds_in_page_order():
    html = """<html><head>
      <link rel="alternate" type="application/rss+xml" title="Nachrichten" href="/rss/nachrichten.xml">
      <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="https://www.example.de/atom">
      <link rel="alternate" type="application/feed+json" href="/feed.json">
      <link rel="alternate" hreflang="en" href="/en/">
      <link rel="stylesheet" type="text/css" href="/style.css">
      <link rel="alternate" type="application/rss+xml" href="/rss/nachrichten.xml">
    </head><body><a href="/rss/andere.xml" type="application/rss+xml">RSS</a></body></html>"""
    assert alternate_feeds(html, "https://www.example.de/aktuelles/") == [
        "https://www.example.de/rss/nachrichten.xml", "https://www.example.de/atom"]
    broken = "<html><link rel=alternate type=application/rss+xml href='http://[x'>"
    assert alternate_feeds(broken, "https://a.de/") == []
