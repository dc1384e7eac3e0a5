"""Extraction in worker processes: every page is processed off the event loop, and stopped at its time limit."""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import date
from multiprocessing import get_context

from pebble import ProcessExpired, ProcessPool

from scrapers.config import Source
from scrapers.discovery import DiscoveredLink
from scrapers.process import ProcessedArticle, process_safely, warm_up
from scrapers.records import FetchedPage

Extraction = tuple[ProcessedArticle | None, str | None]  # (article or None, error or None) of one page
Extractor = Callable[[FetchedPage, Source, date | None], Extraction]


class ExtractionWorkers:
    """A pool of extraction processes, started on first use: a run that finds nothing new starts none (each
    loads the gazetteer, a second and a half of CPU).

    Every page is extracted in a worker, never on the event loop: a page that takes long would stall every
    source's fetching. A worker is killed when a page exceeds the time limit, and replaced.
    """

    def __init__(self, workers: int, page_time_limit: float, extractor: Extractor = process_safely):
        self.size, self.page_time_limit = max(1, workers), page_time_limit
        self.extractor = extractor  # a module-level function: it is pickled to the workers
        self._pool: ProcessPool | None = None

    def start(self) -> ProcessPool:
        if self._pool is None:
            # forkserver, not fork: this process runs threads (Prefect), which a fork would copy mid-flight.
            self._pool = ProcessPool(self.size, initializer=warm_up, context=get_context("forkserver"))
        return self._pool

    @property
    def running(self) -> bool:
        """Whether the worker processes have been started."""
        return self._pool is not None and self._pool.active

    def start_now(self) -> None:
        """Spawn the workers (and run their warm_up) now rather than at the first page: pebble starts its
        processes with the first task it is given, so it gets an empty one."""
        self.start().schedule(os.getpid)

    async def extract(self, pages: list[FetchedPage], source: Source, hints: dict[str, DiscoveredLink]
                      ) -> list[Extraction]:
        """(article or None, error or None) of each page, in the order of pages."""
        pool, limit = self.start(), self.page_time_limit
        futures = [pool.schedule(self.extractor, (p, source, getattr(hints.get(p.requested_url), "published", None)),
                                 timeout=limit) for p in pages]
        results: list[Extraction] = []
        for future in futures:
            try:
                results.append(await asyncio.wrap_future(future))
            except TimeoutError:
                results.append((None, f"extraction stopped after {limit:g} s (STADTRADAR_PAGE_TIME_LIMIT); "
                                      "the page stays archived"))
            except ProcessExpired as exc:
                results.append((None, f"the extraction worker died on this page ({exc}); the page stays archived"))
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
