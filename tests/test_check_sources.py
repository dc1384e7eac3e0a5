"""check-sources on loopback sites: each kind of breakage is named with a concrete suggestion, and the exit codes."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections import Counter

import typer
from protego import Protego
from typer.testing import CliRunner

from flows.commands_sources import register
from scrapers.crawl import MAX_ROBOTS_SITEMAPS
from scrapers.discovery import DiscoveredLink
from scrapers.sitecheck import (
    RobotsCheck,
    SourceCheck,
    check_details,
    check_sources,
    checks_markdown,
    disallow_rule,
    judge,
)
from scrapers.sitefinder import ArticleSummary, EntryPoint
from tests.conftest import Reply, make_source
from tests.newsroom_sites import (
    STORIES,
    article_html,
    day,
    listing,
    robots,
    rss,
    service_page,
    sitemap_index,
    urlset,
)

runner = CliRunner()


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def check(source, settings) -> SourceCheck:
    [result] = asyncio.run(check_sources([source], settings))
    return result


def newsroom(local_site, section: str = "/aktuelles/", dated: bool = True, stories: int = 4, feed: bool = True,
             robots_txt: str | None = None, announce: str | None = None):
    """A site with a news listing at section (articles below it, newest first), an RSS feed at /feed.xml and a few
    service pages; returns the site and the article paths, newest first."""
    site = local_site({})
    base = site.base
    paths = [f"{section}{STORIES[n][0]}/" for n in reversed(range(stories))]
    head = f'<link rel="alternate" type="application/rss+xml" href="{announce}">' if announce else ""
    site.routes.update({
        section: listing([(p, STORIES[n][1]) for p, n in zip(paths, reversed(range(stories)), strict=True)]
                         + [("/rathaus/", "Rathaus")], head=head),
        **{p: Reply(article_html(n, dated)) for p, n in zip(paths, reversed(range(stories)), strict=True)},
        "/rathaus/": service_page("Rathaus"),
        "/kontakt/": service_page("Kontakt"),
    })
    if feed:
        site.routes["/feed.xml"] = rss(base, [(p, day(n)) for p, n in zip(paths, reversed(range(stories)),
                                                                            strict=True)])
    if robots_txt is not None:
        site.routes["/robots.txt"] = robots(robots_txt.replace("BASE", base))
    return site, paths


def test_a_healthy_source_is_ok_with_its_details_and_asks_each_url_once(local_site, fast_settings):
    site, paths = newsroom(local_site, robots_txt="User-agent: *\nAllow: /\nCrawl-delay: 0.01\n"
                                                  "Sitemap: BASE/sitemap.xml\n")
    source = make_source(site.base, feeds=[f"{site.base}/feed.xml"], listings=[f"{site.base}/aktuelles/"],
                         url_pattern=r"/aktuelles/[^/?#]+/$")
    result = check(source, fast_settings)
    assert result.verdict == "ok", result.reasons
    assert result.reasons == [] and result.suggestions == []
    [robots_check] = result.robots
    assert robots_check.status == "read" and robots_check.crawl_delay == 0.01
    assert robots_check.sitemaps == [f"{site.base}/sitemap.xml"] and robots_check.disallowed == []
    feed, page = result.entry_points
    assert (feed.kind, feed.status, feed.links, feed.matching) == ("feed", 200, 4, 4)
    assert (page.kind, page.links, page.matching) == ("listing", 8, 4)  # 4 articles and 4 navigation links
    assert result.article_links == 4  # the same four by both paths
    newest = result.newest_article
    assert newest is not None and newest.url == f"{site.base}{paths[0]}"
    assert newest.title == STORIES[3][1] and newest.published_date == dt.date.fromisoformat(day(3))
    assert newest.body_chars > 200 and newest.relevant is True
    assert len(result.articles) == 3
    repeated = [path for path, n in Counter(site.requests).items() if n > 1]
    assert repeated == []
    assert "/sitemap.xml" not in site.requests  # autodiscover is off: robots.txt's sitemap is reported, not read


def test_a_moved_feed_is_named_and_the_feed_the_listing_announces_is_suggested(local_site, fast_settings):
    site, _ = newsroom(local_site, announce="/aktuelles/rss/")
    site.routes["/aktuelles/rss/"] = site.routes.pop("/feed.xml")  # the feed moved; /feed.xml answers 404
    source = make_source(site.base, feeds=[f"{site.base}/feed.xml"], listings=[f"{site.base}/aktuelles/"],
                         url_pattern=r"/aktuelles/[^/?#]+/$")
    result = check(source, fast_settings)
    assert result.verdict == "degraded"  # the listing still works
    assert f"feed {site.base}/feed.xml answers HTTP 404" in result.reasons
    [suggestion] = [s for s in result.suggestions if "feed.xml" in s]
    assert f"announces the feed {site.base}/aktuelles/rss/ (4 matching links)" in suggestion
    assert "autodiscover: true" in suggestion


def test_a_feed_only_source_whose_feed_is_gone_is_broken(local_site, fast_settings):
    site, _ = newsroom(local_site, feed=False)
    source = make_source(site.base, feeds=[f"{site.base}/feed.xml"], listings=[], url_pattern=r"/aktuelles/")
    result = check(source, fast_settings)
    assert result.verdict == "broken"
    assert f"feed {site.base}/feed.xml answers HTTP 404" in result.reasons
    assert any("find the feed's new address" in s for s in result.suggestions)


def test_a_url_pattern_that_no_longer_matches_gets_a_working_proposal(local_site, fast_settings):
    site, paths = newsroom(local_site, section="/de/aktuelles/", feed=False)
    site.routes["/de/aktuelles/"] = listing(
        [(p, STORIES[n][1]) for p, n in zip(paths, reversed(range(4)), strict=True)] + [("/rathaus/", "Rathaus")],
        next_page="/de/aktuelles/seite-2/", pager=["/de/aktuelles/", "/de/aktuelles/seite-2/"])
    source = make_source(site.base, listings=[f"{site.base}/de/aktuelles/"],
                         url_pattern=rf"^{re.escape(site.base)}/news/[^/?#]+$")  # the site moved its news
    result = check(source, fast_settings)
    assert result.verdict == "broken"
    [reason] = [r for r in result.reasons if "url_pattern" in r]
    assert "the listing's article links look like /de/aktuelles/...; url_pattern does not match them; try '" in reason
    pattern = result.proposed_url_pattern
    assert pattern is not None and f"'{pattern}'" in reason and any(pattern in s for s in result.suggestions)
    links = [f"{site.base}{p}" for p in paths]
    assert all(re.search(pattern, url) for url in links)
    for other in ("/de/aktuelles/", "/de/aktuelles/seite-2/", "/rathaus/", "/kontakt/", "/"):
        assert not re.search(pattern, f"{site.base}{other}"), other
    fixed = check(source.model_copy(update={"url_pattern": pattern}), fast_settings)
    assert fixed.verdict == "ok", fixed.reasons


def test_articles_that_lost_their_dates_degrade_the_source(local_site, fast_settings):
    site, paths = newsroom(local_site, dated=False, feed=False)
    source = make_source(site.base, listings=[f"{site.base}/aktuelles/"], url_pattern=r"/aktuelles/[^/?#]+/$")
    result = check(source, fast_settings)
    assert result.verdict == "degraded"
    [reason] = result.reasons
    assert reason.startswith(f"articles lost their dates: the newest article has no date ({site.base}{paths[0]};")
    assert any("selectors.date" in s for s in result.suggestions)
    newest = result.newest_article
    assert newest is not None and newest.title == STORIES[3][1]  # extracted, only the date is missing


def test_robots_txt_forbidding_the_news_section_breaks_the_source_naming_the_rule(local_site, fast_settings):
    site, _ = newsroom(local_site, feed=False, robots_txt="User-agent: *\nDisallow: /aktuelles/\n")
    source = make_source(site.base, listings=[f"{site.base}/aktuelles/"], url_pattern=r"/aktuelles/[^/?#]+/$")
    result = check(source, fast_settings)
    assert result.verdict == "broken"
    assert (f"robots.txt of {site.base} disallows the listing {site.base}/aktuelles/ for our user agent "
            "(rule: Disallow: /aktuelles/)") in result.reasons
    [disallowed] = result.robots[0].disallowed
    assert (disallowed.kind, disallowed.rule) == ("listing", "Disallow: /aktuelles/")
    assert not any(path.startswith("/aktuelles/") for path in site.requests)  # honoured, not fetched


def test_a_source_with_only_a_sitemap_index_reads_a_few_children_news_first(local_site, fast_settings):
    site = local_site({})
    base = site.base
    news_2025: list[tuple[str, str | None]] = [(f"/meldungen/2025/{STORIES[n][0]}.html", day(n)) for n in range(2, 6)]
    news_2024: list[tuple[str, str | None]] = [(f"/meldungen/2024/{STORIES[n][0]}.html", None) for n in range(2)]
    site.routes.update({
        "/sitemap_index.xml": sitemap_index(base, ["/sitemaps/seiten.xml", "/sitemaps/bilder.xml",
                                                   "/sitemaps/news-2025.xml", "/sitemaps/news-2024.xml.gz",
                                                   "/sitemaps/archiv-2023.xml"]),
        "/sitemaps/seiten.xml": urlset(base, [("/", None), ("/rathaus/", None), ("/kontakt/", None)]),
        "/sitemaps/news-2025.xml": urlset(base, news_2025),
        "/sitemaps/news-2024.xml.gz": urlset(base, news_2024, gzipped=True),
        **{path: Reply(article_html(n)) for n, (path, _) in zip(range(2, 6), news_2025, strict=True)},
        **{path: Reply(article_html(n)) for n, (path, _) in zip(range(2), news_2024, strict=True)},
    })
    source = make_source(base, listings=[], sitemaps=[f"{base}/sitemap_index.xml"],
                         url_pattern=r"/meldungen/[0-9]+/[^/?#]+\.html$")
    result = check(source, fast_settings)
    assert result.verdict == "ok", result.reasons
    [index] = result.entry_points
    assert index.children_total == 5
    assert [c.url for c in index.children] == [f"{base}/sitemaps/news-2025.xml", f"{base}/sitemaps/news-2024.xml.gz",
                                               f"{base}/sitemaps/seiten.xml"]
    assert (index.links, index.matching) == (9, 6)
    assert [(c.links, c.matching) for c in index.children] == [(4, 4), (2, 2), (3, 0)]
    assert "/sitemaps/bilder.xml" not in site.requests and "/sitemaps/archiv-2023.xml" not in site.requests
    assert any("names 5 child sitemaps; the check read 3" in n for n in result.notes)
    newest = result.newest_article
    assert newest is not None and newest.url == f"{base}{news_2025[-1][0]}"  # by the sitemap's lastmod
    assert newest.published_date == dt.date.fromisoformat(day(5))
    as_json = json.loads(json.dumps(result.to_dict()))
    assert as_json["entry_points"][0]["children"][0]["matching"] == 4 and "found" not in as_json["entry_points"][0]


def write_sources(tmp_path, entries: str):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n" + entries, encoding="utf-8")
    return path


def entry(source_id: str, base: str, listing_path: str, pattern: str) -> str:
    return (f"  - id: {source_id}\n    name: Test {source_id}\n    kind: municipal\n"
            f"    listings: ['{base}{listing_path}']\n    url_pattern: '{pattern}'\n"
            "    allow_private_network: true\n    rate_limit: 1000\n")


def test_cli_exits_0_when_all_are_ok_and_2_when_one_is_broken(local_site, tmp_path):
    good, _ = newsroom(local_site, feed=False)
    bad, _ = newsroom(local_site, feed=False, robots_txt="User-agent: *\nDisallow: /aktuelles/\n")
    path = write_sources(tmp_path, entry("gut", good.base, "/aktuelles/", "/aktuelles/[^/?#]+/$")
                         + entry("kaputt", bad.base, "/aktuelles/", "/aktuelles/[^/?#]+/$"))
    done = runner.invoke(cli(), ["check-sources", "--sources", str(path), "--source", "gut"])
    assert done.exit_code == 0, done.output
    assert "gut" in done.stdout and "ok" in done.stdout and "kaputt" not in done.stdout
    failed = runner.invoke(cli(), ["check-sources", "--sources", str(path)])
    assert failed.exit_code == 2, failed.output
    assert "kaputt: broken" in failed.stdout and "Disallow: /aktuelles/" in failed.stdout


def test_cli_json_is_a_list_of_results(local_site, tmp_path):
    site, paths = newsroom(local_site, dated=False, feed=False)
    path = write_sources(tmp_path, entry("stadt", site.base, "/aktuelles/", "/aktuelles/[^/?#]+/$"))
    done = runner.invoke(cli(), ["check-sources", "--sources", str(path), "--format", "json"])
    assert done.exit_code == 2, done.output
    [result] = json.loads(done.stdout)
    assert result["source_id"] == "stadt" and result["verdict"] == "degraded"
    assert result["newest_article"]["url"] == f"{site.base}{paths[0]}"
    assert result["newest_article"]["published_date"] is None and result["article_links"] == 4
    assert "checked_at" not in result


def test_cli_unknown_source_or_bad_file_exits_1(tmp_path):
    path = write_sources(tmp_path, entry("stadt", "http://127.0.0.1:9", "/aktuelles/", "x"))
    done = runner.invoke(cli(), ["check-sources", "--sources", str(path), "--source", "nope"])
    assert done.exit_code == 1
    assert "no source with id 'nope'" in done.stderr and "its ids: stadt" in done.stderr
    broken = write_sources(tmp_path, "  - id: Stadt!\n    name: x\n    kind: municipal\n    listings: []\n")
    done = runner.invoke(cli(), ["check-sources", "--sources", str(broken)])
    assert done.exit_code == 1 and "entry 1" in done.stderr and "key 'id'" in done.stderr


def test_disallow_rule_names_the_deciding_prefix():
    rules = Protego.parse("User-agent: *\nDisallow: /intern\nDisallow: /de/aktuelles/\nAllow: /de/aktuelles/frei/\n")
    assert disallow_rule(rules, "https://x.de/de/aktuelles/neu-im-rathaus", "bot") == "Disallow: /de/aktuelles/"
    assert disallow_rule(rules, "https://x.de/internes/liste", "bot") == "Disallow: /intern"


def test_judge_on_parsed_data_alone():
    base = "https://www.stadt.example"
    source = make_source(base, listings=[f"{base}/aktuelles/"], url_pattern=r"/aktuelles/[^/?#]+$")
    listing_page = EntryPoint("listing", f"{base}/aktuelles/", "declared", status=200,
                              next_page=f"{base}/aktuelles/seite-2",
                              found=[DiscoveredLink(f"{base}/aktuelles/{slug}") for slug, *_ in STORIES[:3]]
                              + [DiscoveredLink(f"{base}/aktuelles/seite-2"), DiscoveredLink(f"{base}/kontakt")])
    listing_page.count(source)
    article = ArticleSummary(f"{base}/aktuelles/{STORIES[0][0]}", title="T", body_chars=120,
                             published_date=dt.date(2025, 3, 1))
    verdict = judge(source, [RobotsCheck(base, "absent")], [listing_page], [article])
    assert verdict.verdict == "degraded"
    assert verdict.reasons == [
        f"url_pattern also matches the listing's next page {base}/aktuelles/seite-2: the crawler fetches it as an "
        "article",
        f"the newest article's text is only 120 characters ({article.url}): the extractor may miss the body"]
    assert verdict.proposed_url_pattern is not None
    assert not re.search(verdict.proposed_url_pattern, f"{base}/aktuelles/seite-2")
    assert re.search(verdict.proposed_url_pattern, article.url)
    down = judge(source, [RobotsCheck(base, "unreadable", "HTTP 503")], [listing_page], [article])
    assert down.verdict == "broken" and down.reasons[0].startswith(f"robots.txt of {base} cannot be read (HTTP 503)")


def test_markdown_has_a_row_per_source_and_the_reasons():
    checks = [SourceCheck("dresden", "ok"),
              SourceCheck("dortmund", "broken", ["feed https://x/rss.xml answers HTTP 404"], ["use | the other"])]
    text = checks_markdown(checks)
    lines = text.splitlines()
    assert lines[0].startswith("| source | verdict |") and lines[2].startswith("| dresden | **ok** |")
    assert lines[3].startswith("| dortmund | **broken** |")
    assert "### dortmund: broken" in text and "- feed https://x/rss.xml answers HTTP 404" in text
    assert "### dresden" not in text
    assert check_details(checks[1]) == [("Reasons", ["feed https://x/rss.xml answers HTTP 404"]),
                                        ("Suggestions", ["use | the other"])]
    assert check_details(checks[0]) == []


def test_malformed_robots_sitemap_lines_are_skipped_and_only_the_first_few_are_read(local_site, fast_settings):
    site, paths = newsroom(local_site, feed=False)
    named = [f"/sitemaps/news-{n}.xml" for n in range(MAX_ROBOTS_SITEMAPS + 2)]
    site.routes["/robots.txt"] = robots("User-agent: *\nAllow: /\nSitemap: http://x.de:99999/s.xml\n"
                                        "Sitemap: http://[zz/\nSitemap: https://elsewhere.example/sitemap.xml\n"
                                        + "".join(f"Sitemap: {site.base}{p}\n" for p in named))
    for path in named:
        site.routes[path] = urlset(site.base, [(p, None) for p in paths])
    source = make_source(site.base, listings=[f"{site.base}/aktuelles/"], url_pattern=r"/aktuelles/[^/?#]+/$",
                         autodiscover=True)
    result = check(source, fast_settings)
    assert result.verdict == "ok", result.reasons  # not "the check itself failed: ValueError"
    assert result.robots[0].sitemaps == [f"{site.base}{p}" for p in named]  # the usable ones, canonical
    read = [e.url for e in result.entry_points if e.via == "robots.txt"]
    assert read == [f"{site.base}{p}" for p in named[:MAX_ROBOTS_SITEMAPS]]  # as many as the crawler reads
    assert not set(named[MAX_ROBOTS_SITEMAPS:]) & set(site.requests)


def hold_lock(db):
    """The warehouse's writer lock, taken the way another process would (flock on its lock file)."""
    import fcntl
    import os

    from warehouse.lock import lock_path

    fd = os.open(lock_path(db), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_cli_prints_the_results_even_when_the_warehouse_is_busy_or_cannot_store_them(local_site, tmp_path,
                                                                                     monkeypatch):
    import os

    site, _ = newsroom(local_site, feed=False)
    path = write_sources(tmp_path, entry("gut", site.base, "/aktuelles/", "/aktuelles/[^/?#]+/$"))
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("STADTRADAR_LOCK_TIMEOUT", "0.1")
    fd = hold_lock(db)
    try:
        busy = runner.invoke(cli(), ["check-sources", "--sources", str(path), "--db", str(db)])
        as_json = runner.invoke(cli(), ["check-sources", "--sources", str(path), "--db", str(db), "--format", "json"])
    finally:
        os.close(fd)
    assert busy.exit_code == 3, busy.output
    assert "gut" in busy.stdout and "1/1 readable" in busy.stdout and "error:" in busy.stderr
    assert as_json.exit_code == 3 and json.loads(as_json.stdout)[0]["verdict"] == "ok"
    missing = runner.invoke(cli(), ["check-sources", "--sources", str(path), "--db", str(tmp_path / "nix" / "w.db")])
    assert missing.exit_code == 1 and "gut" in missing.stdout and "could not be stored" in missing.stderr
