"""Typed configuration: run settings from the environment and the source entries of sources.yml."""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scrapers.urls import netloc_of

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Run settings; every field can be overridden by an environment variable STADTRADAR_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="STADTRADAR_")

    db: Path = PROJECT_ROOT / "warehouse" / "stadtradar.duckdb"
    sources: Path = PROJECT_ROOT / "sources.yml"
    user_agent: str = "Stadtradar/0.1 (+https://github.com/stadtradar/stadtradar; smart-city news warehouse)"
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    fetch_deadline: float = 120.0  # seconds for a whole response, however slowly it trickles in
    max_body_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    max_crawl_delay: float = 60.0  # seconds; a longer robots.txt Crawl-delay is capped (and the run says so)
    retries: int = 3  # attempts after the first one
    backoff_base: float = 1.0  # seconds; doubled per attempt, with jitter
    backoff_cap: float = 60.0  # longest wait between attempts, also caps Retry-After
    global_concurrency: int = 8
    max_listing_pages: int = 20  # pagination depth per listing
    max_sitemaps: int = 50  # child sitemaps followed per source
    # Article pages fetched per source and run, newest first; the rest come next run. Bounds a run's time and
    # memory against a sitemap of 100,000 URLs.
    max_articles_per_run: int = 10_000
    source_time_budget: float = 1800.0  # seconds of fetching per source and run; then it stops and says so
    page_time_limit: float = 30.0  # seconds to extract one page; a runaway page becomes a recorded error
    batch_size: int = 50  # article pages fetched, extracted and loaded together; bounds memory
    workers: int = min(2, os.cpu_count() or 1)  # extraction processes
    # DuckDB would cache up to 80 % of RAM; the loads need little (measured: 100 MB loses no speed at 2,000
    # articles).
    duckdb_memory_limit: str = "128MB"
    # The dbt build runs in its own process; dbt/profiles.yml reads this limit from its environment. Its peak is
    # the limit, not the data: 64MB builds 20,000 articles (raise it if a model reports "Out of Memory").
    dbt_memory_limit: str = "64MB"
    # The daily pipeline, in Europe/Berlin time: municipal newsrooms publish during office hours, so a morning
    # run picks up the previous day completely.
    pipeline_cron: str = "30 5 * * *"
    # The weekly check of every source against its live site (check-sources): Monday morning, before the run.
    check_cron: str = "0 5 * * 1"
    lock_timeout: float = 300.0  # seconds a run waits for another run to release the warehouse
    publish: bool = True  # after a successful build, copy the warehouse to published/ for BI tools
    # A re-run that built nothing writes only its changes into the earlier published copy (warehouse/publish.py);
    # false copies the whole file every time (readers without DuckDB's file lock, NFS without lockd).
    publish_in_place: bool = True
    # Regenerate the static website (`stadtradar site`) into this folder after each publish; unset: no site.
    site_dir: Path | None = None
    # Where the warehouse lives: the embedded DuckDB file `db` (the default), or a DuckLake that several workers
    # write to at once (docs/scale.md): its catalog after "ducklake:" (for PostgreSQL a libpq string such as
    # "postgres:dbname=stadtradar host=db.example user=stadtradar"), and the folder or s3:// prefix of its data.
    backend: Literal["duckdb", "ducklake"] = "duckdb"
    lake_catalog: str | None = None
    lake_data: str | None = None
    # With the lake, each worker ingests its shard into a DuckDB file of its own here (its spool, with the WARC
    # archive beside it), then pushes it to the lake; on several machines put it on shared storage.
    spool: Path = PROJECT_ROOT / "warehouse" / "spool"


class Selectors(BaseModel):
    """Optional CSS selectors that refine the generic extractor for one site."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    body: str | None = None
    date: str | None = None
    remove: list[str] = Field(default_factory=list)


class Source(BaseModel):
    """One publisher entry of sources.yml; the keys are a contract with users' files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str = Field(min_length=1)
    kind: Literal["municipal", "federal", "eu", "other"]
    city: str | None = None
    feeds: list[str] = Field(default_factory=list)
    sitemaps: list[str] = Field(default_factory=list)
    listings: list[str] = Field(default_factory=list)
    link_selector: str | None = None
    next_selector: str | None = None
    url_pattern: str | None = None
    # Also read the sitemaps robots.txt names (`Sitemap:` lines) and the feeds the listing pages announce
    # (<link rel="alternate">), so a moved feed or a new sitemap is found without editing the entry.
    autodiscover: bool = False
    # Whether `stadtradar check-sources` has confirmed the entry against the live site (set by hand after a
    # check passed); informational: an unchecked entry is crawled all the same.
    checked_live: bool = False
    allow_private_network: bool = False
    rate_limit: float = Field(default=1.0, gt=0)  # requests per second per host
    concurrency: int = Field(default=2, ge=1)  # requests in flight per host
    selectors: Selectors | None = None
    licence: str | None = None  # terms under which the publisher's texts may be reused, shown in marts.sources
    terms_url: str | None = None

    @field_validator("feeds", "sitemaps", "listings")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises for a port out of range ("x.de:99999")
            except ValueError as exc:
                raise ValueError(f"{url!r} is not a valid URL ({exc})") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("url_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return pattern

    @model_validator(mode="after")
    def _has_an_entry_point(self) -> Source:
        if not (self.feeds or self.sitemaps or self.listings):
            raise ValueError("needs at least one of feeds, sitemaps or listings")
        return self

    @property
    def hosts(self) -> frozenset[str]:
        """Hosts (with their port, when not the scheme's default) this source is declared on; fetching
        elsewhere is refused: another port of a declared host is another server."""
        return _hosts_of((*self.feeds, *self.sitemaps, *self.listings))

    def matches(self, url: str) -> bool:
        """Whether url may be an article of this source (declared host and url_pattern)."""
        try:
            if netloc_of(url) not in self.hosts:
                return False
        except ValueError:  # a port out of range
            return False
        return self.url_pattern is None or re.search(self.url_pattern, url) is not None


@lru_cache(maxsize=1024)  # Source.hosts is asked for every link a discovery finds
def _hosts_of(urls: tuple[str, ...]) -> frozenset[str]:
    return frozenset(netloc_of(u) for u in urls)


class SourcesFileError(ValueError):
    """sources.yml cannot be used; the message names the file, the entry and the key."""


def load_sources(path: Path) -> list[Source]:
    """Read and validate a sources file; raise SourcesFileError naming file, entry and key on any fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesFileError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise SourcesFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise SourcesFileError(f"{path}: expected a mapping with a list under the key 'sources'")
    sources: list[Source] = []
    seen: set[str] = set()
    for index, entry in enumerate(data["sources"], start=1):
        label = f"entry {index}"
        if isinstance(entry, dict) and entry.get("id"):
            label += f" (id {entry['id']!r})"
        if not isinstance(entry, dict):
            raise SourcesFileError(f"{path}: {label}: expected a mapping of keys, got {type(entry).__name__}")
        try:
            source = Source.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"key {'.'.join(str(p) for p in err['loc']) or '(entry)'!r}: {err['msg']}" for err in exc.errors()
            )
            raise SourcesFileError(f"{path}: {label}: {problems}") from None
        if source.id in seen:
            raise SourcesFileError(f"{path}: {label}: key 'id': duplicate id {source.id!r}")
        seen.add(source.id)
        sources.append(source)
    if not sources:
        raise SourcesFileError(f"{path}: the list 'sources' is empty")
    return sources
