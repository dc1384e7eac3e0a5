"""Immutable records passed between the fetch, extraction and load steps."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FetchedPage:
    """One HTTP response as the fetcher saw it; parsers get this and nothing else."""

    source_id: str
    requested_url: str
    final_url: str
    status: int
    content_type: str
    text: str
    fetched_at: dt.datetime
    etag: str | None = None
    last_modified: str | None = None
    kind: str = "article"  # article | listing | feed | sitemap


@dataclass(frozen=True)
class ArticleRecord:
    """An article as extracted from one page: pure data, no identity in the warehouse yet."""

    url: str
    title: str
    body_text: str
    published_date: dt.date | None
    teaser: str | None = None
    modified_date: dt.date | None = None
    author: str | None = None
    language: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CityMention:
    """A city found in text, resolved to a gazetteer entry."""

    city_id: str  # GeoNames id as text
    name: str
    surface: str  # the words as they stand in the text ("Dresdner", "Landeshauptstadt Dresden")
    offset: int  # character offset of the first occurrence


@dataclass(frozen=True)
class City:
    """A gazetteer entry."""

    city_id: str
    name: str
    country_code: str
    admin1_code: str | None
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class ProgrammeMention:
    """A programme named in text: a catalogue id, or 'discovered:<slug>' for a programme not in the catalogue."""

    programme_id: str
    surface: str
    offset: int
    discovered_name: str | None = None  # set for discovered programmes


@dataclass(frozen=True)
class Participation:
    """A city's part in a programme as one article states it: a role of the seed participation_roles
    (`mentioned` when the article names both but states no role for the city)."""

    city_id: str
    programme_id: str
    role: str  # modellprojekt | mentor_city | label | partner | mentioned
    evidence: str | None  # the sentence stating it (at most 500 characters); for `mentioned`, the first
    # sentence naming both, None when no sentence does


@dataclass(frozen=True)
class EventRecord:
    """A dated event read from an article."""

    name: str
    start_date: dt.date
    evidence: str
    end_date: dt.date | None = None
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    city_id: str | None = None
    is_online: bool = False
    venue: str | None = None
    address: str | None = None
    event_type: str | None = None  # lower-case kind: konferenz, kongress, forum, workshop, webinar, ...
    organiser: str | None = None
    programme_id: str | None = None
