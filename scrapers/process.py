"""Turning one archived page into an article with its entities: the pure step between fetch and load."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from scrapers import dates, event_fields, events, extract, names, places, programmes, relevance, vocabulary
from scrapers.config import Source
from scrapers.extract import Selectors, extract_article
from scrapers.fingerprint import content_hash, simhash
from scrapers.records import ArticleRecord, City, CityMention, EventRecord, FetchedPage, Participation, ProgrammeMention
from scrapers.relevance import Relevance, classify
from scrapers.urls import article_id, canonicalize, host_of

# Changes whenever the extraction code or the programme catalogue changes, so every article row can say
# which extractor produced it and `stadtradar reparse` results are distinguishable from older ones.
# ModuleType.__file__ is typed `str | None` (the ignore below); these modules are files, so it is set.
_EXTRACTOR_FILES = sorted(
    [Path(m.__file__) for m in (dates, event_fields, events, names, places, programmes, relevance, vocabulary)]  # type: ignore[arg-type]
    + list(Path(extract.__file__).parent.glob("*.py"))
    + vocabulary.all_files()
) + [programmes.DEFAULT_CATALOGUE, event_fields.EVENT_TYPES_FILE, vocabulary.path_of("participation_roles")]
EXTRACTOR_VERSION = hashlib.sha1(b"".join(p.read_bytes() for p in _EXTRACTOR_FILES)).hexdigest()[:12]


def page_hash(text: str) -> str:
    """sha256 of a decoded page body: the archive key of a page version in raw.pages."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ProcessedArticle:
    """An article ready for the warehouse: its record, relevance judgement and entities."""

    article_id: str
    source_id: str
    record: ArticleRecord
    relevance: Relevance
    content_hash: str
    simhash: int
    page_url: str  # the archive record this article was extracted from: raw.pages(url, content_hash)
    page_content_hash: str
    cities: list[CityMention]
    programmes: list[ProgrammeMention]
    events: list[EventRecord]
    places: dict[str, City]  # gazetteer entries of every city above, so the loader needs no gazetteer
    # each city's part in each programme (programmes.find_participations)
    participations: list[Participation] = field(default_factory=list)


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
    cities = places.find_cities(text)
    named = programmes.find_programmes(text)
    participations = programmes.find_participations(text, cities, named)
    # A programme only a participation names ("Modellprojekt Smart City X") is one the article names too.
    named = programmes.linked_programmes(text, participations, named)
    publisher = places.city_by_name(source.city) if source.city else None
    found_events = events.find_events(record, cities, publisher.city_id if publisher else None)
    place_ids = {c.city_id for c in cities} | {e.city_id for e in found_events if e.city_id}
    return ProcessedArticle(
        article_id=article_id(url),
        source_id=source.id,
        record=replace(record, url=url),
        relevance=classify(record.title, record.body_text),
        content_hash=content_hash(record.title, record.body_text),
        simhash=simhash(record.body_text),
        page_url=canonicalize(page.requested_url),
        page_content_hash=page_hash(page.text),
        cities=cities,
        programmes=named,
        events=found_events,
        places={i: city for i in place_ids if (city := places.city_by_id(i)) is not None},
        participations=participations,
    )



def process_safely(page: FetchedPage, source: Source, hint_date: dt.date | None = None
                   ) -> tuple[ProcessedArticle | None, str | None]:
    """process_page, with an unexpected failure returned as a message: one bad page must not cost the
    source's other articles (and a worker process must not die on it)."""
    try:
        return process_page(page, source, hint_date), None
    except Exception as exc:  # noqa: BLE001 - reported per page, see docstring
        return None, f"extraction failed: {type(exc).__name__}: {exc}"


def warm_up() -> None:
    """Start an extraction worker: load the gazetteer and programme catalogue, so it pays for them once, up
    front, and make it end with the run that started it."""
    _exit_with_parent()
    places.find_cities("Dresden")
    programmes.find_programmes("Modellprojekte Smart Cities")


def _exit_with_parent() -> None:
    """End this worker when its parent goes. A run killed with SIGKILL cannot stop its workers; they would
    wait for work that never comes (about 250 MB each, for good). The parent's going shows as a new parent
    process id."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
