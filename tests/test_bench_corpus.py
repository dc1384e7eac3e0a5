"""Smoke test of the benchmark corpus: deterministic, realistic pages that the extractor reads correctly."""
from __future__ import annotations

import datetime as dt
import re
from itertools import combinations

from benchmarks.corpus import PER_PAGE, STYLES, Corpus
from scrapers.config import load_sources
from scrapers.discovery import parse_feed, parse_listing, parse_sitemap
from scrapers.fingerprint import hamming, simhash
from scrapers.process import process_page
from scrapers.records import FetchedPage

BASES = [f"http://127.0.0.1:{9100 + i}" for i in range(len(STYLES))]


def test_corpus_is_deterministic_and_sized_like_real_pages():
    a, b = Corpus(10, BASES, seed=3), Corpus(10, BASES, seed=3)
    first = a.all_articles()[0]
    assert a.article_html(first) == b.article_html(b.all_articles()[0])
    assert a.article_html(first) != Corpus(10, BASES, seed=4).article_html(first)
    for meta in a.all_articles():
        assert 40_000 <= len(a.article_html(meta).encode("utf-8")) <= 110_000


def test_discovery_documents_list_every_article(tmp_path):
    corpus = Corpus(2 * PER_PAGE + 5, BASES[:1])
    site = corpus.sites[0]
    sitemap, _ = parse_sitemap(corpus.sitemap_xml(0), site.base_url + "/sitemap.xml")
    assert {link.url for link in sitemap} == {corpus.url(a) for a in corpus.all_articles()}
    assert len(parse_feed(corpus.feed_xml(0), site.base_url + "/aktuelles/rss.xml")) == 45
    links, next_url = parse_listing(corpus.listing_html(0, 1), site.base_url + "/aktuelles/")
    assert next_url == site.base_url + "/aktuelles/seite-2/"
    (tmp_path / "s.yml").write_text(corpus.sources_yaml(), encoding="utf-8")
    source = load_sources(tmp_path / "s.yml")[0]
    assert sum(source.matches(link.url) for link in links) == PER_PAGE


def test_every_page_style_is_extracted(tmp_path):
    corpus = Corpus(len(STYLES), BASES)  # one article per site, one site per style
    (tmp_path / "s.yml").write_text(corpus.sources_yaml(), encoding="utf-8")
    sources = load_sources(tmp_path / "s.yml")
    for meta in corpus.all_articles():
        url = corpus.url(meta)
        page = FetchedPage(sources[meta.site].id, url, url, 200, "text/html; charset=utf-8",
                           corpus.article_html(meta), dt.datetime(2026, 1, 1))
        article = process_page(page, sources[meta.site])
        style = corpus.sites[meta.site].style
        assert article is not None, style
        assert article.record.title == meta.title, style
        assert article.record.published_date == meta.published, style
        first_sentence = re.split(r"(?<=\.) ", corpus.paragraphs(meta)[0])[0]
        assert first_sentence in article.record.body_text, style
        assert "Cookies" not in article.record.body_text, style
        assert meta.city in {c.name for c in article.cities}, style


def test_articles_are_not_near_duplicates_of_each_other():
    # The marts merge texts whose SimHashes are at most 3 bits apart; the corpus intends no duplicates, so
    # the off-topic templates must vary enough that raw.articles and marts.articles count the same.
    corpus = Corpus(400, BASES)
    articles = corpus.all_articles()
    hashes = [simhash("\n\n".join(corpus.paragraphs(a))) for a in articles]
    close = [(a.number, b.number) for (a, x), (b, y) in combinations(zip(articles, hashes, strict=True), 2)
             if hamming(x, y) <= 3]
    assert not close
    assert sum(not a.relevant for a in articles) > 50
