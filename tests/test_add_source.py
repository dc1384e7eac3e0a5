"""add-source on three differently built loopback sites: the printed entry validates and the real crawler finds with
it every article of the site and nothing else; --write appends safely; and the url_pattern proposal itself."""
from __future__ import annotations

import re
import unicodedata

import pytest
import typer
import yaml
from typer.testing import CliRunner, Result

from flows.commands_sources import register
from scrapers.config import Source, load_sources
from scrapers.sitefinder import news_links, same_site, site_name
from scrapers.source_entries import AppendError, append_entry, derive_id, entry_text, parse_entry
from scrapers.url_patterns import article_like, is_pagination, propose_url_pattern
from tests.conftest import Reply
from tests.newsroom_sites import (
    STORIES,
    article_html,
    crawl,
    day,
    listing,
    page,
    robots,
    rss,
    service_page,
    sitemap_index,
    urlset,
)

runner = CliRunner()
PROBE = ["--allow-private-network", "--rate-limit", "1000"]  # a local test site, and no politeness pauses


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def add_source(*args: str) -> Result:
    return runner.invoke(cli(), ["add-source", *args, *PROBE])


def printed_source(stdout: str) -> Source:
    data = yaml.safe_load("sources:\n" + stdout)
    [item] = data["sources"]
    return Source.model_validate(item)


def crawled_articles(source: Source, settings) -> set[str]:
    """The article URLs the real crawler fetches with an entry (politeness relaxed for the local site)."""
    fast = source.model_copy(update={"rate_limit": 1000.0, "concurrency": 4})
    result = crawl(fast, settings)
    assert not result.errors, result.errors
    return {p.requested_url for p in result.pages if p.kind == "article"}


HOME = page("<h1>Willkommen in Görlitz</h1><p>Die Stadt informiert über Projekte und Termine.</p>")


def test_a_feed_only_site(local_site, fast_settings, tmp_path):
    site = local_site({})
    base = site.base
    paths = [f"/nachrichten/{STORIES[n][0]}" for n in range(5)]
    site.routes.update({
        "/": HOME,  # announces no feed and links no article: the feed is found at a usual path
        "/rss.xml": rss(base, [(p, day(n)) for n, p in enumerate(paths)]),
        **{p: Reply(article_html(n)) for n, p in enumerate(paths)},
        "/rathaus/": service_page("Rathaus"), "/kontakt/": service_page("Kontakt"),
    })
    done = add_source(f"{base}/", "--city", "Görlitz", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    source = printed_source(done.stdout)
    assert source.feeds == [f"{base}/rss.xml"] and source.sitemaps == [] and source.listings == []
    assert (source.kind, source.city, source.autodiscover, source.name) == ("municipal", "Görlitz", True,
                                                                             "Stadt Görlitz")
    assert source.url_pattern == rf"^http://127\.0\.0\.1:{site.server.server_address[1]}/nachrichten/[^/?#]+$"
    assert "# 3/3 test articles extracted with title and date" in done.stdout
    assert "# feed " + f"{base}/rss.xml (guessed): 5 of 5 links match url_pattern" in done.stdout
    assert crawled_articles(source, fast_settings) == {f"{base}{p}" for p in paths}
    assert "/feed" in site.requests and "/index.rss" not in site.requests  # stops at the first feed that answers


def test_a_sitemap_only_site(local_site, fast_settings, tmp_path):
    site = local_site({})
    base = site.base
    articles = [f"/meldungen/{2025 if n > 1 else 2024}/{STORIES[n][0]}.html" for n in range(6)]
    pages = ["/", "/rathaus/", "/kontakt/", "/meldungen/", "/rathaus/buergerbuero-oeffnungszeiten.html"]
    site.routes.update({
        "/": page("<noscript>Bitte aktivieren Sie JavaScript.</noscript>"),
        "/robots.txt": robots(f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap_index.xml\n"),
        "/sitemap_index.xml": sitemap_index(base, ["/sitemaps/seiten.xml", "/sitemaps/meldungen.xml.gz"]),
        "/sitemaps/seiten.xml": urlset(base, [(p, "2025-01-10") for p in pages]),
        "/sitemaps/meldungen.xml.gz": urlset(base, [(p, day(n)) for n, p in enumerate(articles)], gzipped=True),
        **{p: Reply(article_html(n)) for n, p in enumerate(articles)},
        **{p: service_page("Seite") for p in pages[1:]},
    })
    done = add_source(f"{base}/", "--id", "goerlitz", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    source = printed_source(done.stdout)
    assert source.id == "goerlitz" and source.kind == "other" and source.city is None
    assert source.sitemaps == [f"{base}/sitemap_index.xml"] and source.feeds == [] and source.listings == []
    assert source.url_pattern is not None and source.url_pattern.endswith(r"/meldungen/[0-9]+/[^/?#]+\.html$")
    assert "an index: 2 of 2 child sitemaps read" in done.stdout
    assert "# 3/3 test articles extracted with title and date" in done.stdout
    assert crawled_articles(source, fast_settings) == {f"{base}{p}" for p in articles}


def paginated_site(local_site):
    """A site whose news are only on a paginated listing (rel=next, numbered pages, an archive link)."""
    site = local_site({})
    paths = [f"/aktuelles/{STORIES[n][0]}/" for n in reversed(range(7))]  # newest first
    teasers = [(p, STORIES[6 - i][1]) for i, p in enumerate(paths)]
    pager = ["/aktuelles/", "/aktuelles/seite-2/", "/aktuelles/seite-3/"]
    extra = [("/aktuelles/archiv/", "Archiv"), ("/rathaus/buergerservice-online/", "Bürgerservice online")]
    site.routes.update({
        "/": page('<h1>Willkommen</h1><p><a href="/aktuelles/">Aktuelles</a></p>'
                  + "".join(f'<p><a href="{p}">{t}</a></p>' for p, t in teasers[:2])),
        "/aktuelles/": listing(teasers[:3] + extra, "/aktuelles/seite-2/", pager),
        "/aktuelles/seite-2/": listing(teasers[3:6] + extra, "/aktuelles/seite-3/", pager),
        "/aktuelles/seite-3/": listing(teasers[6:] + extra, None, pager),
        **{p: Reply(article_html(6 - i)) for i, p in enumerate(paths)},
        "/aktuelles/archiv/": service_page("Archiv"),
        "/rathaus/buergerservice-online/": service_page("Bürgerservice online"),
    })
    return site, paths


def test_a_paginated_listing_only_site(local_site, fast_settings, tmp_path):
    site, paths = paginated_site(local_site)
    base = site.base
    done = add_source(f"{base}/", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    source = printed_source(done.stdout)
    assert source.listings == [f"{base}/aktuelles/"] and source.feeds == [] and source.sitemaps == []
    assert source.id == "site_127_0_0_1"
    pattern = source.url_pattern
    assert pattern is not None
    for other in ("/aktuelles/seite-2/", "/aktuelles/archiv/", "/aktuelles/", "/rathaus/buergerservice-online/"):
        assert not re.search(pattern, f"{base}{other}"), other
    assert "pagination by rel=next" in done.stdout
    assert crawled_articles(source, fast_settings) == {f"{base}{p}" for p in paths}
    assert site.count("/aktuelles/archiv/") == 0


def test_a_redirect_to_another_host_is_followed_and_the_entry_names_that_host(local_site, tmp_path):
    site, paths = paginated_site(local_site)
    alias = local_site({"/": Reply("", 301, {"Location": f"{site.base}/"})})  # example.de -> www.example.de
    done = add_source(f"{alias.base}/", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    assert f"{alias.base}/ redirects to {site.base}/" in done.stderr
    source = printed_source(done.stdout)
    assert source.listings == [f"{site.base}/aktuelles/"] and source.url_pattern is not None
    assert source.url_pattern.startswith(f"^http://127\\.0\\.0\\.1:{site.server.server_address[1]}/")
    assert alias.requests == ["/robots.txt", "/"]


def test_write_appends_a_valid_entry_keeping_the_file_and_refuses_a_duplicate(local_site, tmp_path):
    site, _ = paginated_site(local_site)
    path = tmp_path / "sources.yml"
    original = ("# Unsere Quellen\nsources:\n- id: dresden   # the first city\n  name: Dresden\n  kind: municipal\n"
                "  listings: [https://smartcity.dresden.de/news/neuigkeiten]\n")
    path.write_text(original, encoding="utf-8")
    done = add_source(f"{site.base}/", "--id", "goerlitz", "--city", "Görlitz", "--sources", str(path), "--write")
    assert done.exit_code == 0, done.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith(original)  # comments and layout kept; the entry is appended at the list's indentation
    assert "\n- id: goerlitz\n" in text
    assert [s.id for s in load_sources(path)] == ["dresden", "goerlitz"]
    requests = len(site.requests)
    again = add_source(f"{site.base}/", "--id", "goerlitz", "--sources", str(path), "--write")
    assert again.exit_code == 1
    assert "a source with id 'goerlitz' exists already" in again.stderr
    assert path.read_text(encoding="utf-8") == text and len(site.requests) == requests  # refused before probing


def test_write_refuses_a_sources_file_that_does_not_validate(local_site, tmp_path):
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n  - id: Kaputt\n", encoding="utf-8")
    done = add_source("http://127.0.0.1:9/", "--sources", str(path), "--write")
    assert done.exit_code == 1 and "key 'id'" in done.stderr
    assert path.read_text(encoding="utf-8") == "sources:\n  - id: Kaputt\n"


def test_a_site_without_news_exits_2_saying_why(local_site, tmp_path):
    site = local_site({"/": HOME, "/rathaus/": service_page("Rathaus")})
    done = add_source(f"{site.base}/", "--sources", str(tmp_path / "sources.yml"), "--write")
    assert done.exit_code == 2
    assert "no usable entry" in done.stderr and "no article links found" in done.stderr
    assert done.stdout == "" and not (tmp_path / "sources.yml").exists()


def test_bad_input_exits_1(tmp_path):
    assert add_source("ftp://example.org/", "--sources", str(tmp_path / "s.yml")).exit_code == 1
    done = add_source("http://127.0.0.1:9/", "--id", "Görlitz!", "--sources", str(tmp_path / "s.yml"))
    assert done.exit_code == 1 and "--id" in done.stderr


# The pure parts


def test_propose_url_pattern_takes_the_dominant_section_and_excludes_the_rest():
    base = "https://www.stadt.example"
    links = [f"{base}/de/aktuelles/{slug}" for slug, *_ in STORIES] + [
        f"{base}/de/aktuelles/seite-2", f"{base}/de/aktuelles/archiv", f"{base}/de/aktuelles",
        f"{base}/service/abfall-kalender", f"{base}/kontakt", f"{base}/files/haushalt-2025.pdf",
        "https://other.example/de/aktuelles/fremde-meldung"]
    proposal = propose_url_pattern(links, avoid=[f"{base}/de/aktuelles/seite-2"], hosts={"www.stadt.example"})
    pattern = proposal.pattern
    assert pattern is not None and pattern.startswith(r"^https://www\.stadt\.example/de/aktuelles/")
    assert (proposal.matched, proposal.candidates, proposal.shape) == (7, 8, "/de/aktuelles/...")
    assert all(re.search(pattern, f"{base}/de/aktuelles/{slug}") for slug, *_ in STORIES)
    assert not [u for u in links[7:] if re.search(pattern, u)]
    assert "7 of 8 article-like links are under /de/aktuelles/..." in proposal.explanation


def test_propose_url_pattern_generalises_years_keeps_suffixes_and_joins_sibling_sections():
    base = "https://www.stadt.example"
    years = [f"{base}/meldungen/{2023 + n % 3}/{slug}.html" for n, (slug, *_) in enumerate(STORIES)]
    assert propose_url_pattern(years).pattern == r"^https://www\.stadt\.example/meldungen/[0-9]+/[^/?#]+\.html$"
    sections = ([f"{base}/news/neuigkeiten/{slug}" for slug, *_ in STORIES[:4]]
                + [f"{base}/news/pressemitteilungen/{slug}" for slug, *_ in STORIES[4:]]
                + [f"{base}/ueber-uns/team-und-kontakt/ansprech-partner"])
    assert (propose_url_pattern(sections).pattern
            == r"^https://www\.stadt\.example/news/(neuigkeiten|pressemitteilungen)/[^/?#]+$")


def test_propose_url_pattern_without_articles_says_so():
    proposal = propose_url_pattern(["https://x.example/", "https://x.example/kontakt", "https://x.example/a.pdf"])
    assert proposal.pattern is None and "none of the 3 links looks like an article" in proposal.explanation


@pytest.mark.parametrize(("url", "expected"), [
    ("https://x.de/aktuelles/digitalwerkstatt-eroeffnet", True),
    ("https://x.de/presse/12345", True),
    ("https://x.de/aktuelles/seite-2", False),
    ("https://x.de/aktuelles/page/3", False),
    ("https://x.de/aktuelles/neu-im-rathaus?id=4", False),
    ("https://x.de/kontakt-formular", False),  # not below a section
    ("https://x.de/service/kontakt", False),
    ("https://x.de/files/bericht-2025.pdf", False),
])
def test_article_like(url, expected):
    assert article_like(url) is expected


def test_news_links_site_name_and_ids():
    html = ('<title>Start | Stadt Görlitz</title><a href="/aktuelles/">Aktuelles</a><a href="/aktuelles/neu-hier/">'
            'Neuigkeiten aus der Digitalwerkstatt heute</a><a href="/presse/pressemitteilungen">PM</a>'
            '<a href="https://other.example/news/">News</a><a href="/kontakt/">Kontakt</a>')
    assert news_links(html, "https://www.goerlitz.example/") == [
        "https://www.goerlitz.example/aktuelles/", "https://www.goerlitz.example/presse/pressemitteilungen"]
    assert site_name(html) == "Stadt Görlitz"
    assert derive_id("https://www.leipzig.de/news") == "leipzig"
    assert derive_id("https://smartcity.dresden.de/", {"smartcity_dresden"}) == "smartcity_dresden_2"


def test_entry_text_round_trips_and_append_keeps_a_zero_indented_list(tmp_path):
    entry = {"id": "goerlitz", "name": "Stadt Görlitz – Aktuelles 'neu'", "kind": "municipal", "city": "Görlitz",
             "feeds": ["https://www.goerlitz.example/rss.xml"],
             "listings": ["https://www.goerlitz.example/aktuelles/", "https://www.goerlitz.example/presse/"],
             "url_pattern": r"^https://www\.goerlitz\.example/(aktuelles|presse)/[^/?#]+$", "autodiscover": True}
    source = parse_entry(entry_text(entry, ["found: a feed"]))
    assert source.name == entry["name"] and source.url_pattern == entry["url_pattern"]
    assert source.listings == entry["listings"] and source.autodiscover
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n- id: dresden\n  name: Dresden\n  kind: municipal\n  listings: [https://d.example/]\n")
    append_entry(path, entry, ["found: a feed"])
    assert [s.id for s in load_sources(path)] == ["dresden", "goerlitz"]
    assert "\n# found: a feed\n- id: goerlitz\n" in path.read_text()
    with pytest.raises(AppendError, match="exists already"):
        append_entry(path, entry)


def test_append_starts_a_missing_sources_file(tmp_path):
    path = tmp_path / "neu.yml"
    append_entry(path, {"id": "goerlitz", "name": "G", "kind": "other", "feeds": ["https://g.example/rss.xml"]})
    assert [s.id for s in load_sources(path)] == ["goerlitz"]
    assert [p.name for p in tmp_path.iterdir()] == ["neu.yml"]  # no temporary file left behind


def test_append_refuses_a_file_where_the_entry_would_not_land_in_the_list(tmp_path):
    path = tmp_path / "sources.yml"
    original = ("sources:\n  - id: dresden\n    name: Dresden\n    kind: municipal\n"
                "    listings: [https://d.example/]\ndefaults:\n  rate_limit: 1\n")
    path.write_text(original)
    entry = {"id": "goerlitz", "name": "G", "kind": "other", "listings": ["https://g.example/aktuelles/"]}
    with pytest.raises(AppendError, match="nothing written"):
        append_entry(path, entry)
    assert path.read_text() == original and [p.name for p in tmp_path.iterdir()] == ["sources.yml"]


# Review fixes: robots.txt's own text, redirects to other sites, bad URLs, query-named articles, hostile names


def test_malformed_robots_sitemap_lines_do_not_hide_the_good_one(local_site, tmp_path):
    site = local_site({})
    base = site.base
    articles = [f"/meldungen/{STORIES[n][0]}.html" for n in range(4)]
    site.routes.update({
        "/": page("<p>Willkommen</p>"),
        "/robots.txt": robots("User-agent: *\nAllow: /\nSitemap: http://x.de:99999/s.xml\nSitemap: http://[zz/\n"
                              f"Sitemap: {base}/karten/alles.xml\n"),  # not at a usual path: only robots.txt names it
        "/karten/alles.xml": urlset(base, [(p, day(n)) for n, p in enumerate(articles)]),
        **{p: Reply(article_html(n)) for n, p in enumerate(articles)},
    })
    done = add_source(f"{base}/", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    assert printed_source(done.stdout).sitemaps == [f"{base}/karten/alles.xml"]


def test_a_redirect_to_another_site_is_reported_not_followed(local_site, tmp_path):
    elsewhere = "http://127.0.0.2:8/aktuelles/"  # another host: nothing is asked there
    alias = local_site({"/": Reply("", 301, {"Location": elsewhere})})
    done = add_source(f"{alias.base}/", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 2 and done.stdout == ""
    assert f"redirects to another site: {elsewhere}; run add-source on that URL" in done.stderr
    assert alias.requests == ["/robots.txt", "/"]


@pytest.mark.parametrize(("host", "other", "expected"), [
    ("example.de", "www.example.de", True),
    ("www.example.de", "example.de", True),
    ("stadt.de", "presse.stadt.de", True),  # the same registrable domain (last two labels)
    ("www.stadt.de", "www.stadt-info.de", False),
    ("stadt.de", "stadt.com", False),
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.1", "127.0.0.2", False),  # addresses share no domain
    ("localhost", "www.localhost", True),
])
def test_same_site(host, other, expected):
    assert same_site(host, other) is expected


@pytest.mark.parametrize("url", ["http://[::1", "http://x.de:99999/"])
def test_a_malformed_url_exits_1_naming_it(url, tmp_path):
    done = add_source(url, "--sources", str(tmp_path / "s.yml"))
    assert done.exit_code == 1 and isinstance(done.exception, SystemExit), done.exception
    assert f"{url!r} is not a valid URL" in done.stderr


def test_write_through_a_symlink_keeps_the_link_and_the_mode(tmp_path):
    real = tmp_path / "config" / "sources.yml"
    real.parent.mkdir()
    real.write_text("sources:\n- id: dresden\n  name: Dresden\n  kind: municipal\n  listings: [https://d.example/]\n")
    real.chmod(0o640)
    link = tmp_path / "sources.yml"
    link.symlink_to(real)
    append_entry(link, {"id": "goerlitz", "name": "G", "kind": "other", "feeds": ["https://g.example/rss.xml"]})
    assert link.is_symlink() and link.resolve() == real
    assert [s.id for s in load_sources(real)] == ["dresden", "goerlitz"]
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["sources.yml"]


def test_a_new_sources_file_is_readable_by_others_as_the_umask_allows(tmp_path):
    import os

    path = tmp_path / "neu.yml"
    mask = os.umask(0o022)
    try:
        append_entry(path, {"id": "goerlitz", "name": "G", "kind": "other", "feeds": ["https://g.example/rss.xml"]})
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


TYPO3_NEWS = "/aktuelles/detail"


def typo3_link(news: int) -> str:
    """A TYPO3 news link as the page writes it: the article in tx_news_pi1[news], a cHash that differs with it."""
    return (f"{TYPO3_NEWS}?tx_news_pi1[action]=detail&tx_news_pi1[controller]=News&tx_news_pi1[news]={news}"
            f"&cHash={news * 7919:x}")


def canonical_path(link: str) -> str:
    from scrapers.urls import canonicalize

    full = canonicalize(link, "http://h.example/")
    return full.removeprefix("http://h.example")


def test_articles_named_by_a_query_parameter_get_a_pattern(local_site, fast_settings, tmp_path):
    site = local_site({})
    links = [typo3_link(100 + n) for n in range(5)]
    teasers = [(link.replace("&", "&amp;"), STORIES[n][1]) for n, link in enumerate(links)]
    site.routes.update({
        "/": page('<h1>Willkommen</h1><p><a href="/aktuelles/">Aktuelles</a></p>'),
        "/aktuelles/": listing(teasers + [("/rathaus/", "Rathaus")]),
        **{canonical_path(link): Reply(article_html(n)) for n, link in enumerate(links)},
        "/rathaus/": service_page("Rathaus"),
    })
    done = add_source(f"{site.base}/", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    source = printed_source(done.stdout)
    assert source.listings == [f"{site.base}/aktuelles/"]
    assert source.url_pattern is not None and "tx_news_pi1%5Bnews%5D=[0-9]+" in source.url_pattern
    assert "naming the article in the query parameter tx_news_pi1[news]" in done.stdout
    assert crawled_articles(source, fast_settings) == {f"{site.base}{canonical_path(link)}" for link in links}


def test_articles_named_by_a_generic_page_id_are_left_to_the_user_saying_so(local_site, tmp_path):
    site = local_site({})
    news = [f"/index.php?id={200 + n}" for n in range(5)]
    nav = [("/index.php?id=1", "Start"), ("/index.php?id=2", "Rathaus"), ("/index.php?id=3", "Kontakt")]
    site.routes.update({
        "/index.php?id=12": listing([(p, STORIES[n][1]) for n, p in enumerate(news)] + nav),
        **{p: Reply(article_html(n)) for n, p in enumerate(news)},
    })
    done = add_source(f"{site.base}/index.php?id=12", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 2 and done.stdout == ""
    assert f"article links carry query strings (e.g. {site.base}/index.php?id=" in done.stderr
    assert "write url_pattern and link_selector by hand" in done.stderr


def test_propose_url_pattern_for_query_named_articles():
    base = "https://www.stadt.example"
    links = [f"{base}{canonical_path(typo3_link(n))}" for n in (11, 12, 13, 14)]
    others = [f"{base}/aktuelles/", f"{base}/rathaus/buergerservice",
              f"{base}{canonical_path('/aktuelles/?tx_news_pi1[@widget_0][currentPage]=2')}"]
    proposal = propose_url_pattern([*links, *others], avoid=[f"{base}/aktuelles/"])
    pattern = proposal.pattern
    assert pattern is not None and pattern.startswith(r"^https://www\.stadt\.example/aktuelles/detail\?")
    assert all(re.search(pattern, link) for link in links)
    assert not [u for u in others if re.search(pattern, u)]
    assert proposal.shape == "/aktuelles/detail?tx_news_pi1[news]=..." and proposal.matched == 4
    assert is_pagination(others[2])
    # The same links with one generic page number: no pattern, and why.
    ids = [f"{base}/index.php?id={n}" for n in (1, 2, 301, 302, 303)]
    refused = propose_url_pattern(ids, avoid=[f"{base}/index.php?id=12"])
    assert refused.pattern is None and refused.query_note is not None
    assert "write url_pattern and link_selector by hand" in refused.explanation
    # A few query links beside a clear path section change nothing.
    mixed = propose_url_pattern([f"{base}/aktuelles/{slug}" for slug, *_ in STORIES] + [f"{base}/suche?lang=en"])
    assert mixed.pattern is not None and mixed.query_note is None


HOSTILE = ("Stadt 'X': \"Nachrichten\" # nicht kommentiert\n- id: evil\n  name: pwned\x00\x1b[31m\u2028"
           + "sehr lange " * 30)


def test_a_hostile_site_name_is_one_capped_line_and_the_yaml_stays_valid(local_site, tmp_path):
    from scrapers.source_entries import MAX_NAME_CHARS

    name = site_name(f'<meta property="og:site_name" content="{HOSTILE.replace(chr(34), "&quot;")}">')
    assert name is not None and len(name) <= MAX_NAME_CHARS and name.endswith("…")
    assert name.startswith("Stadt 'X': \"Nachrichten\" # nicht kommentiert - id: evil name: pwned")
    assert not [ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]
    entry = {"id": "x", "name": HOSTILE, "kind": "other", "feeds": ["https://x.example/rss.xml"]}
    assert parse_entry(entry_text(entry, ["a comment\x00 with\nlines"])).name == " ".join(
        HOSTILE.replace("\x00", "").replace("\x1b", "").split())
    site, _ = paginated_site(local_site)
    site.routes["/"] = Reply(site.routes["/"].body.replace(
        "<title>", f'<meta property="og:site_name" content="{HOSTILE.replace(chr(34), "&quot;")}"><title>'))
    done = add_source(f"{site.base}/", "--sources", str(tmp_path / "sources.yml"))
    assert done.exit_code == 0, done.output
    source = printed_source(done.stdout)  # exactly one entry
    assert source.name == name and source.id == "site_127_0_0_1"
