"""The fetch layer against misbehaving servers on 127.0.0.1: retries, caps, redirects, charsets, robots."""
from __future__ import annotations

import asyncio

import pytest

from scrapers.config import Settings
from scrapers.fetch import Fetcher, FetchError, decode_body, is_private_address
from tests.conftest import Reply, make_source

HTML = "<html><head><title>t</title></head><body><p>Grüße aus Dresden</p></body></html>"


def fetch(settings: Settings, url: str, source, sleeps: list[float] | None = None):
    async def recording_sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    async def go():
        async with Fetcher(settings, sleep=recording_sleep) as fetcher:
            return await fetcher.fetch(url, source)

    return asyncio.run(go())


def test_sends_user_agent_and_decodes_utf8(local_site, fast_settings):
    site = local_site({"/a": Reply(HTML)})
    page = fetch(fast_settings, f"{site.base}/a", make_source(site.base))
    assert page.status == 200 and "Grüße" in page.text
    assert site.request_headers[-1]["User-Agent"].startswith("Stadtradar/")


def test_retries_5xx_then_succeeds(local_site, fast_settings):
    site = local_site({"/a": lambda n: Reply("busy", 503) if n < 3 else Reply(HTML)})
    sleeps: list[float] = []
    page = fetch(fast_settings, f"{site.base}/a", make_source(site.base), sleeps)
    assert page.status == 200 and site.count("/a") == 3
    assert len([s for s in sleeps if s > 0]) >= 2  # backed off between attempts


def test_honours_retry_after_with_a_cap(local_site, fast_settings):
    site = local_site({"/a": lambda n: Reply("slow down", 429, {"Retry-After": "3600"}) if n == 1 else Reply(HTML)})
    sleeps: list[float] = []
    fetch(fast_settings, f"{site.base}/a", make_source(site.base), sleeps)
    assert max(sleeps) == fast_settings.backoff_cap  # an hour asked, the cap given


def test_gives_up_after_retries_and_names_the_url(local_site, fast_settings):
    site = local_site({"/a": Reply("down", 500)})
    with pytest.raises(FetchError) as caught:
        fetch(fast_settings, f"{site.base}/a", make_source(site.base))
    assert caught.value.status == 500 and caught.value.attempts == fast_settings.retries + 1
    assert f"{site.base}/a" in str(caught.value)


def test_no_retry_on_404(local_site, fast_settings):
    site = local_site({})
    with pytest.raises(FetchError) as caught:
        fetch(fast_settings, f"{site.base}/missing", make_source(site.base))
    assert caught.value.status == 404 and site.count("/missing") == 1


def test_redirect_to_another_host_is_refused(local_site, fast_settings):
    site = local_site({"/a": Reply("", 302, {"Location": "http://127.0.0.2:9/elsewhere"})})
    with pytest.raises(FetchError, match="redirect to http://127.0.0.2:9/elsewhere refused"):
        fetch(fast_settings, f"{site.base}/a", make_source(site.base))


def test_same_host_redirect_is_followed(local_site, fast_settings):
    site = local_site({"/old": Reply("", 301, {"Location": "/new"}), "/new": Reply(HTML)})
    page = fetch(fast_settings, f"{site.base}/old", make_source(site.base))
    assert page.final_url == f"{site.base}/new" and page.requested_url == f"{site.base}/old"


def test_private_address_refused_unless_allowed(local_site, fast_settings):
    site = local_site({"/a": Reply(HTML)})
    with pytest.raises(FetchError, match="private or loopback"):
        fetch(fast_settings, f"{site.base}/a", make_source(site.base, allow_private_network=False))
    assert site.requests == []  # refused before any traffic


def test_host_not_declared_is_refused(local_site, fast_settings):
    site = local_site({"/a": Reply(HTML)})
    with pytest.raises(FetchError, match="not declared"):
        fetch(fast_settings, "http://127.0.0.2:9/a", make_source(site.base))


def test_body_cap_aborts_large_bodies(local_site, tmp_path):
    settings = Settings(db=tmp_path / "x.duckdb", max_body_bytes=1000, retries=0)
    site = local_site({"/big": Reply("x" * 5000), "/chunked": Reply("y" * 5000, headers={
        "Content-Type": "text/html", "Content-Length": "100"})})
    with pytest.raises(FetchError, match="exceeds the cap"):
        fetch(settings, f"{site.base}/big", make_source(site.base))


def test_only_html_and_xml_are_parsed(local_site, fast_settings):
    site = local_site({"/file.pdf": Reply(b"%PDF-1.4", headers={"Content-Type": "application/pdf"})})
    with pytest.raises(FetchError, match="content type 'application/pdf' is not parsed"):
        fetch(fast_settings, f"{site.base}/file.pdf", make_source(site.base))


def test_robots_disallow_is_honoured(local_site, fast_settings):
    site = local_site({
        "/robots.txt": Reply("User-agent: *\nDisallow: /intern/\n", headers={"Content-Type": "text/plain"}),
        "/intern/a": Reply(HTML),
    })
    with pytest.raises(FetchError, match="robots.txt"):
        fetch(fast_settings, f"{site.base}/intern/a", make_source(site.base))
    assert "/intern/a" not in site.requests


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<p>Grüße aus Münster</p>".encode("iso-8859-1"), "text/html; charset=ISO-8859-1"),
        ('<meta charset="windows-1252"><p>Grüße aus Münster</p>'.encode("cp1252"), "text/html"),
        ("<p>Grüße aus Münster</p>".encode(), "text/html"),
    ],
)
def test_charset_from_header_then_document_then_utf8(body, content_type):
    assert "Grüße aus Münster" in decode_body(body, content_type)


def test_private_address_detection():
    assert is_private_address("127.0.0.1") and is_private_address("10.1.2.3") and is_private_address("localhost")
    assert is_private_address("169.254.0.1") and is_private_address("[::1]")
    assert not is_private_address("smartcity.dresden.de")
