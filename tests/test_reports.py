"""Run reports and source health judgements, without Prefect or a warehouse."""
from __future__ import annotations

from warehouse.health import Shares, judge
from warehouse.reports import IngestReport, SourceReport, ingest_markdown


def test_markdown_artifact_lists_sources_health_and_failed_urls():
    report = IngestReport("run-1", [
        SourceReport("dresden", discovered=5, fetched=5, new=5),
        SourceReport("dlr", discovered=3, fetched=2, new=1, healthy=False, health_reason="share of a date fell",
                     errors=["https://projekttraeger.dlr.de/de/news/x: HTTP 503"]),
    ])
    page = ingest_markdown(report)
    assert "| dresden | 5 | 5 | 5 | 0 | 0 | 0 | ok |" in page
    assert "**unhealthy**: share of a date fell" in page
    assert "[https://projekttraeger.dlr.de/de/news/x](https://projekttraeger.dlr.de/de/news/x): HTTP 503" in page
    assert not report.ok and report.summary()["errors"] == 1


GOOD = Shares(1.0, 1.0, 1.0, 0.9)


def test_a_sharp_drop_against_history_is_unhealthy():
    healthy, reason = judge(Shares(1.0, 0.2, 1.0, 0.9), [GOOD, GOOD], listings_fetched=1, discovered=5,
                            parsed_pages=5, articles=5)
    assert not healthy and "date" in reason and "20%" in reason


def test_small_wobbles_and_runs_without_new_articles_are_healthy():
    assert judge(Shares(1.0, 0.9, 0.95, 0.8), [GOOD, GOOD], listings_fetched=1, discovered=5, parsed_pages=5,
                 articles=5) == (True, None)
    assert judge(Shares(None, None, None, None), [GOOD], listings_fetched=1, discovered=5, parsed_pages=0,
                 articles=0) == (True, None)


def test_a_listing_without_matching_links_or_pages_without_articles_is_unhealthy():
    assert not judge(Shares(None, None, None, None), [], listings_fetched=2, discovered=0, parsed_pages=0,
                     articles=0)[0]
    assert not judge(Shares(None, None, None, None), [], listings_fetched=1, discovered=4, parsed_pages=4,
                     articles=0)[0]
