"""Source health: how complete a run's extracted records are, and whether that fell against the source's past."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from scrapers.process import ProcessedArticle

MIN_BODY_CHARS = 200  # shorter bodies are teasers or cookie walls, not articles
DROP = 0.3  # a share this much below the source's usual level means the extractor no longer fits the site
MIN_HISTORY = 1  # runs with articles needed before a drop can be judged


@dataclass(frozen=True)
class Shares:
    """Shares of a run's articles with each field present; None when the run extracted no article."""

    title: float | None
    date: float | None
    body: float | None
    entity: float | None

    def items(self) -> list[tuple[str, float | None]]:
        return [("title", self.title), ("date", self.date), ("body", self.body), ("entity", self.entity)]


@dataclass
class Tally:
    """Running counts behind Shares, so a source's batches need not be kept in memory."""

    articles: int = 0
    title: int = 0
    date: int = 0
    body: int = 0
    entity: int = 0

    def add(self, articles: list[ProcessedArticle]) -> None:
        self.articles += len(articles)
        self.title += sum(bool(a.record.title) for a in articles)
        self.date += sum(a.record.published_date is not None for a in articles)
        self.body += sum(len(a.record.body_text or "") >= MIN_BODY_CHARS for a in articles)
        self.entity += sum(bool(a.cities or a.programmes) for a in articles)

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.articles + other.articles, self.title + other.title, self.date + other.date,
                     self.body + other.body, self.entity + other.entity)

    def shares(self) -> Shares:
        n = self.articles
        if not n:
            return Shares(None, None, None, None)
        return Shares(self.title / n, self.date / n, self.body / n, self.entity / n)


def shares(articles: list[ProcessedArticle]) -> Shares:
    """Completeness of a batch of articles."""
    tally = Tally()
    tally.add(articles)
    return tally.shares()


def judge(current: Shares, history: list[Shares], *, listings_fetched: int, discovered: int, parsed_pages: int,
          articles: int) -> tuple[bool, str | None]:
    """(healthy, reason): unhealthy when a share fell sharply below its usual level, or pages yield nothing."""
    if listings_fetched and discovered == 0:
        return False, f"{listings_fetched} listing/feed page(s) fetched but no article link matched"
    if parsed_pages and articles == 0:
        return False, f"{parsed_pages} article page(s) fetched but none gave an article"
    for name, value in current.items():
        past = [v for v in (getattr(h, name) for h in history) if v is not None]
        if value is None or len(past) < MIN_HISTORY:
            continue
        usual = statistics.median(past)
        if usual - value >= DROP:
            return False, f"share of articles with a {name} fell to {value:.0%} (usually {usual:.0%})"
    return True, None
