"""Crawling one source: every discovery path, each article fetched once, incremental re-runs, failures kept."""
from __future__ import annotations

import asyncio
import datetime as dt

from scrapers.crawl import Deadline, KnownPage, discover, fetch_articles
from scrapers.fetch import Fetcher
from tests.conftest import Reply, make_source


def article(n: int) -> Reply:
    return Reply(f"<html><body><h1>Artikel {n}</h1><p>Text {n}</p></body></html>")


def site_routes(base_holder: list[str]) -> dict:
    def listing(page: int, links: list[int], next_page: str | None) -> Reply:
        anchors = "".join(f'<a href="/news/{n}-artikel/">Artikel {n}</a>' for n in links)
        pager = f'<a rel="next" href="{next_page}">Weiter</a>' if next_page else ""
        return Reply(f"<html><body>{anchors}<a href='/kontakt/'>Kontakt</a>{pager}</body></html>")

    feed = lambda n: Reply(  # noqa: E731
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f'<item><title>1</title><link>{base_holder[0]}/news/1-artikel/</link>'
        "<pubDate>Mon, 03 Mar 2025 09:00:00 +0000</pubDate></item></channel></rss>",
        headers={"Content-Type": "application/rss+xml"})
    sitemap = lambda n: Reply(  # noqa: E731
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{base_holder[0]}/news/2-artikel/</loc><lastmod>2025-03-04</lastmod></url>"
        f"<url><loc>{base_holder[0]}/kontakt/</loc></url></urlset>",
        headers={"Content-Type": "application/xml"})
    return {
        "/feed.xml": feed,
        "/sitemap.xml": sitemap,
        "/news/": listing(1, [1, 2, 3], "/news/seite-2/"),
        "/news/seite-2/": listing(2, [4, 5], None),
        **{f"/news/{n}-artikel/": article(n) for n in range(1, 5)},
        # article 5 is missing: a 404 that must be recorded, not fatal
    }


def crawl(source, settings, known=None, refresh=False):
    """Discovery, then the article pages, as warehouse.ingest calls them (there in batches)."""
    async def go():
        async with Fetcher(settings) as fetcher:
            deadline = Deadline(settings.source_time_budget)
            result = await discover(source, fetcher, settings, known, refresh, deadline)
            result.pages += await fetch_articles(fetcher, source, result.to_fetch, known or {}, result, deadline)
            return result

    return asyncio.run(go())


def test_every_path_is_followed_and_each_article_fetched_once(local_site, fast_settings):
    holder: list[str] = []
    site = local_site({})
    holder.append(site.base)
    site.routes.update(site_routes(holder))
    source = make_source(site.base, feeds=[f"{site.base}/feed.xml"], sitemaps=[f"{site.base}/sitemap.xml"])
    result = crawl(source, fast_settings)
    articles = sorted(p.requested_url for p in result.pages if p.kind == "article")
    assert articles == [f"{site.base}/news/{n}-artikel/" for n in range(1, 5)]
    assert all(site.count(f"/news/{n}-artikel/") == 1 for n in range(1, 5))
    assert site.count("/kontakt/") == 0  # url_pattern keeps non-articles out
    assert result.hints[f"{site.base}/news/1-artikel/"].published == dt.date(2025, 3, 3)
    assert result.discovered == 5
    assert [e.status for e in result.errors] == [404] and not result.source_failed


def test_known_articles_are_not_fetched_again(local_site, fast_settings):
    holder: list[str] = []
    site = local_site({})
    holder.append(site.base)
    site.routes.update(site_routes(holder))
    source = make_source(site.base, feeds=[f"{site.base}/feed.xml"], sitemaps=[f"{site.base}/sitemap.xml"])
    later = dt.datetime(2025, 6, 1)
    known = {f"{site.base}/news/{n}-artikel/": KnownPage(f"{site.base}/news/{n}-artikel/", later) for n in range(1, 6)}
    result = crawl(source, fast_settings, known)
    assert [p for p in result.pages if p.kind == "article"] == []
    assert site.count("/news/seite-2/") == 0  # a listing page of only known articles ends the pagination
    refreshed = crawl(source, fast_settings, known, refresh=True)
    assert len([p for p in refreshed.pages if p.kind == "article"]) == 4


def test_changed_article_per_sitemap_is_fetched_again(local_site, fast_settings):
    holder: list[str] = []
    site = local_site({})
    holder.append(site.base)
    site.routes.update(site_routes(holder))
    source = make_source(site.base, listings=[], sitemaps=[f"{site.base}/sitemap.xml"])
    earlier = dt.datetime(2025, 3, 1)
    known = {f"{site.base}/news/2-artikel/": KnownPage(f"{site.base}/news/2-artikel/", earlier)}
    result = crawl(source, fast_settings, known)
    assert [p.requested_url for p in result.pages if p.kind == "article"] == [f"{site.base}/news/2-artikel/"]


def test_a_site_that_is_down_fails_the_source_not_the_run(fast_settings):
    source = make_source("http://127.0.0.1:9", listings=["http://127.0.0.1:9/news/"])
    result = crawl(source, fast_settings)
    assert result.source_failed and result.pages == []
    assert "127.0.0.1:9/news/" in str(result.errors[0])


def _autodiscovery_site(local_site):
    import gzip

    site = local_site({})
    base = site.base
    child = gzip.compress(
        ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         f"<url><loc>{base}/news/2-artikel/</loc><lastmod>2025-03-04</lastmod></url></urlset>").encode())
    site.routes.update({
        "/robots.txt": Reply(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap_index.xml\n"
                             "Sitemap: http://127.0.0.2:9/elsewhere.xml\n", headers={"Content-Type": "text/plain"}),
        "/sitemap_index.xml": Reply(
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{base}/sitemap-news.xml.gz</loc></sitemap></sitemapindex>",
            headers={"Content-Type": "application/xml"}),
        "/sitemap-news.xml.gz": Reply(child, headers={"Content-Type": "application/x-gzip"}),
        "/news/": Reply('<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
                        '<body><a href="/news/3-artikel/">3</a></body></html>'),
        "/rss.xml": Reply('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                          f"<item><title>1</title><link>{base}/news/1-artikel/</link></item></channel></rss>",
                          headers={"Content-Type": "application/rss+xml"}),
        **{f"/news/{n}-artikel/": article(n) for n in range(1, 4)},
    })
    return site


def test_autodiscovery_reads_robots_sitemaps_gzipped_indexes_and_announced_feeds(local_site, fast_settings):
    site = _autodiscovery_site(local_site)
    result = crawl(make_source(site.base, autodiscover=True), fast_settings)
    assert sorted(result.hints) == [f"{site.base}/news/{n}-artikel/" for n in (1, 2, 3)]
    assert result.hints[f"{site.base}/news/2-artikel/"].published == dt.date(2025, 3, 4)
    assert result.autodiscovered == [f"{site.base}/sitemap_index.xml", f"{site.base}/rss.xml"]
    assert not result.errors  # the sitemap on another host is not fetched
    assert "/elsewhere.xml" not in site.requests


def test_without_autodiscovery_only_the_entry_points_are_read(local_site, fast_settings):
    site = _autodiscovery_site(local_site)
    result = crawl(make_source(site.base), fast_settings)
    assert sorted(result.hints) == [f"{site.base}/news/3-artikel/"]
    assert result.autodiscovered == [] and "/rss.xml" not in site.requests
    assert "/sitemap_index.xml" not in site.requests


def test_a_gzip_bomb_sitemap_stops_at_the_body_cap(local_site, fast_settings):
    import gzip

    site = local_site({"/sitemap.xml.gz": Reply(gzip.compress(b"<" + b" " * 3_000_000),
                                                headers={"Content-Type": "application/gzip"}),
                       "/news/": Reply("<html></html>")})
    settings = fast_settings.model_copy(update={"max_body_bytes": 1_000_000})
    result = crawl(make_source(site.base, sitemaps=[f"{site.base}/sitemap.xml.gz"]), settings)
    assert [e.reason for e in result.errors] == ["body exceeds the cap of 1000000 bytes (after decompression)"]


def test_a_sitemap_of_several_gzip_members_is_read_whole_and_trailing_junk_is_named(local_site, fast_settings):
    import gzip

    site = local_site({})
    head = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    body = f"<url><loc>{site.base}/news/1-artikel/</loc></url><url><loc>{site.base}/news/2-artikel/</loc></url>"
    joined = gzip.compress((head + body[:40]).encode()) + gzip.compress((body[40:] + "</urlset>").encode())
    site.routes.update({"/a.xml.gz": Reply(joined, headers={"Content-Type": "application/octet-stream"}),
                        "/b.xml.gz": Reply(gzip.compress(head.encode() + b"</urlset>") + b"junk",
                                           headers={"Content-Type": "application/gzip"}),
                        "/news/": Reply("<html></html>"),
                        **{f"/news/{n}-artikel/": article(n) for n in (1, 2)}})
    result = crawl(make_source(site.base, sitemaps=[f"{site.base}/a.xml.gz", f"{site.base}/b.xml.gz"]),
                   fast_settings)
    assert sorted(result.hints) == [f"{site.base}/news/{n}-artikel/" for n in (1, 2)]
    assert [e.reason for e in result.errors] == ["gzip file followed by 4 bytes that are not gzip data"]


def test_a_refused_redirect_names_its_target(local_site, fast_settings):
    import pytest

    from scrapers.fetch import RedirectRefused

    site = local_site({"/weg": Reply("", status=301, headers={"Location": "http://127.0.0.2:9/da"})})

    async def go() -> None:
        async with Fetcher(fast_settings) as fetcher:
            await fetcher.fetch(f"{site.base}/weg", make_source(site.base))

    with pytest.raises(RedirectRefused) as caught:
        asyncio.run(go())
    assert caught.value.target == "http://127.0.0.2:9/da"
