"""Politeness and safety of the fetch and crawl layers against hostile sites on 127.0.0.1 (issue 15, items
6-13, 18, 19, 23): robots.txt as RFC 9309 reads it, Crawl-delay, pinned addresses, caps and budgets."""
from __future__ import annotations

import asyncio
import datetime as dt
import time
import tracemalloc

import pytest

from scrapers import fetch as fetch_module
from scrapers.config import Settings
from scrapers.crawl import CrawlResult, Deadline, KnownPage, _as_fetch_error, discover, fetch_articles, needs_fetch
from scrapers.discovery import DiscoveredLink
from scrapers.fetch import (
    Fetcher,
    FetchError,
    RobotsRefusal,
    RobotsUnavailable,
    _CappedBody,
    decode_body,
)
from scrapers.urls import canonicalize
from tests.conftest import Reply, make_source

HTML = "<html><head><title>t</title></head><body><p>Grüße aus Dresden</p></body></html>"
TEXT = {"Content-Type": "text/plain"}


def robots(rules: str) -> Reply:
    return Reply(rules, headers=TEXT)


async def fetch_all(settings: Settings, source, urls: list[str], sleeps: list[float] | None = None,
                    resolve=None) -> tuple[list[object], Fetcher]:
    """Fetch urls one after another; each result is a page or the FetchError raised."""
    async def recording_sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    results: list[object] = []
    async with Fetcher(settings, sleep=recording_sleep, resolve=resolve) as fetcher:
        for url in urls:
            try:
                results.append(await fetcher.fetch(url, source))
            except FetchError as exc:
                results.append(exc)
    return results, fetcher


# 9. Crawl-delay


@pytest.mark.parametrize(("delay", "expected"), [("1", 1.0), ("4", 4.0), ("100000", 60.0)])
def test_crawl_delay_spaces_requests_and_an_absurd_one_is_capped(local_site, fast_settings, delay, expected):
    site = local_site({"/robots.txt": robots(f"User-agent: *\nCrawl-delay: {delay}\n"),
                       "/a": Reply(HTML), "/b": Reply(HTML), "/c": Reply(HTML)})
    sleeps: list[float] = []
    _, fetcher = asyncio.run(fetch_all(fast_settings, make_source(site.base),
                                       [f"{site.base}/a", f"{site.base}/b", f"{site.base}/c"], sleeps))
    waits = [s for s in sleeps if s > 0.5]
    assert len(waits) == 2 and all(expected - 0.5 < w <= expected for w in waits)  # before /b and /c
    assert any("capped at 60" in n for n in fetcher.notices) == (expected == 60.0)


# 10. RFC 9309 matching


def test_wildcards_and_the_longest_match_decide(local_site, fast_settings):
    site = local_site({
        "/robots.txt": robots("User-agent: *\nDisallow: /news/*-2\nAllow: /news/\nDisallow: /news/1\n"),
        "/news/a-2": Reply(HTML), "/news/1": Reply(HTML), "/news/ok": Reply(HTML),
    })
    results, _ = asyncio.run(fetch_all(fast_settings, make_source(site.base),
                                       [f"{site.base}/news/a-2", f"{site.base}/news/1", f"{site.base}/news/ok"]))
    assert isinstance(results[0], RobotsRefusal) and isinstance(results[1], RobotsRefusal)
    assert not isinstance(results[2], FetchError)
    assert "/news/a-2" not in site.requests and "/news/1" not in site.requests


# 11. An unreadable robots.txt


@pytest.mark.parametrize("answer", [Reply("down", 503, TEXT), Reply("x" * (600 * 1024), 200, TEXT)],
                         ids=["5xx", "over the size cap"])
def test_unreadable_robots_txt_means_nothing_is_fetched(local_site, fast_settings, answer):
    site = local_site({"/robots.txt": answer, "/a": Reply(HTML)})
    results, _ = asyncio.run(fetch_all(fast_settings, make_source(site.base), [f"{site.base}/a"]))
    assert isinstance(results[0], RobotsUnavailable) and "RFC 9309" in results[0].reason
    assert not isinstance(results[0], RobotsRefusal)  # a failure the run reports, not a quiet refusal
    assert "/a" not in site.requests


def test_robots_txt_timeout_means_nothing_is_fetched(local_site, tmp_path):
    settings = Settings(db=tmp_path / "w.duckdb", retries=0, read_timeout=0.3, fetch_deadline=0.5)

    def slow(_: int) -> Reply:
        time.sleep(1.0)
        return robots("User-agent: *\nAllow: /\n")

    site = local_site({"/robots.txt": slow, "/a": Reply(HTML)})
    results, _ = asyncio.run(fetch_all(settings, make_source(site.base), [f"{site.base}/a"]))
    assert isinstance(results[0], RobotsUnavailable) and "/a" not in site.requests


def test_missing_robots_txt_allows_everything(local_site, fast_settings):
    site = local_site({"/a": Reply(HTML)})  # robots.txt answers 404
    results, _ = asyncio.run(fetch_all(fast_settings, make_source(site.base), [f"{site.base}/a"]))
    assert not isinstance(results[0], FetchError)


# 12. Redirects and robots.txt


def test_redirect_into_a_disallowed_path_is_not_followed(local_site, fast_settings):
    site = local_site({"/robots.txt": robots("User-agent: *\nDisallow: /intern/\n"),
                       "/a": Reply("", 302, {"Location": "/intern/secret"}), "/intern/secret": Reply(HTML)})
    results, _ = asyncio.run(fetch_all(fast_settings, make_source(site.base), [f"{site.base}/a"]))
    assert isinstance(results[0], RobotsRefusal) and "redirect to" in results[0].reason
    assert "/intern/secret" not in site.requests


# 13. Ports and pinned addresses


def test_another_port_of_a_declared_host_is_another_host(local_site, fast_settings):
    site, other = local_site({"/a": Reply("", 302, {"Location": "PLACEHOLDER"})}), local_site({"/x": Reply(HTML)})
    site.routes["/a"] = Reply("", 302, {"Location": f"{other.base}/x"})
    source = make_source(site.base)
    assert not source.matches(f"{other.base}/news/1") and source.matches(f"{site.base}/news/1")
    results, _ = asyncio.run(fetch_all(fast_settings, source, [f"{site.base}/a", f"{other.base}/x"]))
    assert all(isinstance(r, FetchError) and "not declared" in str(r) for r in results)
    assert other.requests == []


def test_the_checked_address_is_the_one_connected_to(local_site, fast_settings):
    """DNS rebinding: a name that resolves to another address on the second lookup still reaches the first."""
    site = local_site({"/a": Reply(HTML), "/b": Reply(HTML)})
    port = site.base.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["127.0.0.2"], ["127.0.0.2"]])
    lookups: list[str] = []

    async def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    base = f"http://site.test:{port}"
    results, _ = asyncio.run(fetch_all(fast_settings, make_source(base), [f"{base}/a", f"{base}/b"],
                                       resolve=resolve))
    assert not any(isinstance(r, FetchError) for r in results), results
    assert lookups == ["site.test"]  # looked up once, then pinned
    assert {h["Host"] for h in site.request_headers} == {f"site.test:{port}"}


def test_a_name_resolving_to_a_private_address_is_refused(local_site, fast_settings):
    async def resolve(host: str, _port: int) -> list[str]:
        return ["10.0.0.7"]

    source = make_source("http://intranet.test", allow_private_network=False)
    results, _ = asyncio.run(fetch_all(fast_settings, source, ["http://intranet.test/a"], resolve=resolve))
    assert isinstance(results[0], FetchError) and "resolves to a private address" in results[0].reason


# 18, 19. URLs and charsets


def test_ipv6_literals_keep_their_brackets():
    assert canonicalize("http://[::1]:8080/x") == "http://[::1]:8080/x"
    assert canonicalize("HTTP://[2001:DB8::1]/a") == "http://[2001:db8::1]/a"


def test_a_few_invalid_bytes_do_not_garble_a_utf8_page():
    body = "<p>Grüße aus Münster, Köln und Düsseldorf</p>".encode() + b"\xff\xfe" + "<p>Straße</p>".encode()
    for content_type in ("text/html; charset=utf-8", "text/html"):
        text = decode_body(body, content_type)
        assert "Grüße aus Münster, Köln und Düsseldorf" in text and "Straße" in text


# 8. Tiny chunks


def test_one_byte_chunks_cost_no_more_than_the_body():
    body = _CappedBody("http://x/a", "", cap=1_000_000, status=200)
    tracemalloc.start()
    try:
        for n in range(200_000):
            body.feed(bytes([65 + n % 26]))
        held = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, fetch_module.__file__)])
    finally:
        tracemalloc.stop()
    assert len(body.finish()) == 200_000
    # what the fetch module holds for the body; a list of 1-byte chunks held about 40 times the body
    assert sum(stat.size for stat in held.statistics("filename")) < 2 * 200_000


# 6. URL cap and failures that keep nothing alive


def test_a_recorded_failure_holds_no_traceback():
    try:
        try:
            raise OSError("connection reset")
        except OSError:
            raise FetchError("http://x/a", "reset") from None
    except FetchError as exc:
        recorded = _as_fetch_error("http://x/a", exc)
    assert recorded.__traceback__ is None and recorded.__context__ is None and recorded.reason == "reset"


def sitemap(urls: list[tuple[str, str]]) -> str:
    entries = "".join(f"<url><loc>{u}</loc><lastmod>{d}</lastmod></url>" for u, d in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'


def test_articles_per_run_are_capped_newest_unknown_first(local_site, tmp_path):
    settings = Settings(db=tmp_path / "w.duckdb", max_articles_per_run=10)
    site = local_site({})
    urls = [(f"{site.base}/news/{n}", (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat()) for n in range(30)]
    site.routes["/sitemap.xml"] = Reply(sitemap(urls), headers={"Content-Type": "application/xml"})
    source = make_source(site.base, listings=[], sitemaps=[f"{site.base}/sitemap.xml"])
    known = {f"{site.base}/news/29": KnownPage(f"{site.base}/news/29", dt.datetime(2024, 1, 1))}

    async def go() -> CrawlResult:
        async with Fetcher(settings) as fetcher:
            return await discover(source, fetcher, settings, known)

    result = asyncio.run(go())
    assert [link.url.rsplit("/", 1)[1] for link in result.to_fetch] == [str(n) for n in range(28, 18, -1)]
    assert result.deferred == 20


# 7. Time budget


def test_a_slow_source_stops_at_its_time_budget_and_says_so(local_site, tmp_path):
    settings = Settings(db=tmp_path / "w.duckdb", retries=0, read_timeout=5, fetch_deadline=5)

    def drip(_: int) -> Reply:
        time.sleep(2.0)
        return Reply(HTML)

    site = local_site({f"/news/{n}": drip for n in range(6)} | {"/news/fast": Reply(HTML)})
    source = make_source(site.base)
    links = [DiscoveredLink(f"{site.base}/news/{n}") for n in range(6)]

    async def go() -> CrawlResult:
        result = CrawlResult(source.id)
        async with Fetcher(settings) as fetcher:
            deadline = Deadline(0.5)
            result.pages = await fetch_articles(fetcher, source, links, {}, result, deadline)
            # a URL asked for after the budget is not requested at all
            result.pages += await fetch_articles(fetcher, source, [DiscoveredLink(f"{site.base}/news/fast")], {},
                                                 result, deadline)
        return result

    result = asyncio.run(go())
    assert result.out_of_time and result.deferred == 7 and result.pages == [] and result.errors == []
    assert "/news/fast" not in site.requests


# 23. Incremental fetching by time, not by day


def test_a_feed_time_later_the_same_day_triggers_a_refetch():
    fetched = dt.datetime(2025, 3, 4, 8, 0)
    known = KnownPage("http://x/a", fetched)
    later = DiscoveredLink("http://x/a", dt.date(2025, 3, 4))
    object.__setattr__(later, "updated_at", dt.datetime(2025, 3, 4, 15, 30))
    earlier = DiscoveredLink("http://x/a", dt.date(2025, 3, 4))
    object.__setattr__(earlier, "updated_at", dt.datetime(2025, 3, 4, 7, 0))
    assert needs_fetch(later, known, refresh=False)
    assert not needs_fetch(earlier, known, refresh=False)
    assert not needs_fetch(DiscoveredLink("http://x/a", dt.date(2025, 3, 4)), known, refresh=False)


def test_with_a_proxy_configured_the_name_is_left_to_the_proxy(fast_settings, monkeypatch):
    """A proxy from the environment resolves names itself: no lookup, no pinned address in the request."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # loopback, refused: nothing leaves this machine
    monkeypatch.setenv("NO_PROXY", "")
    lookups: list[str] = []

    async def resolve(host: str, _port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    settings = fast_settings.model_copy(update={"retries": 0})
    results, _ = asyncio.run(fetch_all(settings, make_source("http://site.test"), ["http://site.test/a"],
                                       resolve=resolve))
    assert isinstance(results[0], FetchError) and lookups == []
