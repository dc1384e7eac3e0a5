"""Turning one archived page into an article with its entities: the pure step between fetch and load."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace

from scrapers import entities
from scrapers.config import Source
from scrapers.extract import Selectors, extract_article
from scrapers.records import ArticleRecord, CityMention, EventRecord, FetchedPage, ProgrammeMention
from scrapers.relevance import Relevance, classify
from scrapers.urls import article_id, canonicalize, host_of


@dataclass(frozen=True)
class ProcessedArticle:
    """An article ready for the warehouse: its record, relevance judgement and entities."""

    article_id: str
    source_id: str
    record: ArticleRecord
    relevance: Relevance
    content_hash: str
    cities: list[CityMention]
    programmes: list[ProgrammeMention]
    events: list[EventRecord]


def content_hash(title: str, body_text: str) -> str:
    """sha256 of the whitespace-normalised title and body: equal for the same story at two URLs."""
    flat = re.sub(r"\s+", " ", f"{title}\n{body_text}").strip().casefold()
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


def article_url(page: FetchedPage, record: ArticleRecord) -> str:
    """The article's canonical URL: its rel=canonical when on the same host, else the fetched URL."""
    if record.url and host_of(record.url) == host_of(page.final_url):
        return canonicalize(record.url)
    return canonicalize(page.final_url)


def process_page(page: FetchedPage, source: Source, hint_date: dt.date | None = None) -> ProcessedArticle | None:
    """Extract the article of a fetched page and find its cities, programmes and events; None if no article."""
    selectors = None
    if source.selectors is not None:
        s = source.selectors
        selectors = Selectors(title=s.title, body=s.body, date=s.date, remove=tuple(s.remove))
    record = extract_article(page.text, page.final_url, selectors=selectors, feed_date=hint_date)
    if record is None or not record.title:
        return None
    url = article_url(page, record)
    if not source.matches(url):  # a canonical link pointing at a listing or another section
        url = canonicalize(page.final_url)
    text = f"{record.title}\n{record.body_text}"
    cities = entities.find_cities(text)
    publisher = entities.city_by_name(source.city) if source.city else None
    return ProcessedArticle(
        article_id=article_id(url),
        source_id=source.id,
        record=replace(record, url=url),
        relevance=classify(record.title, record.body_text),
        content_hash=content_hash(record.title, record.body_text),
        cities=cities,
        programmes=entities.find_programmes(text),
        events=entities.find_events(record, cities, publisher.city_id if publisher else None),
    )

