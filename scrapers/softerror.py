"""Telling a soft error (a maintenance or error page served with status 200) from an article."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

# A title seen on this many URLs of one source in one run, over a short text, is the site's error page.
SAME_TITLE_URLS = 3
SHORT_TEXT = 1200  # characters of body text: an error page says little
SHRUNK_TO = 1 / 3  # a new text under this share of the stored one (and without its title) replaces nothing


@dataclass(frozen=True)
class PageText:
    """What the screen needs of one extracted page."""

    url: str
    title: str
    body: str


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


class SoftErrorScreen:
    """Remembers the titles of one source's pages over a run and flags those that look like one error page
    answered on many URLs (a maintenance notice, a 'page not found' with status 200)."""

    def __init__(self) -> None:
        self._urls_by_title: dict[str, set[str]] = defaultdict(set)

    def flag(self, pages: list[PageText]) -> dict[str, str]:
        """The URLs among pages that look like a soft error, each with the reason."""
        short = [(p, title) for p in pages if len(p.body) < SHORT_TEXT and (title := _normal(p.title))]
        for page, title in short:
            self._urls_by_title[title].add(page.url)
        flagged = {}
        for page, title in short:
            urls = self._urls_by_title[title]
            if len(urls) >= SAME_TITLE_URLS:
                flagged[page.url] = (f"looks like an error page, not an article: the title {page.title!r} "
                                     f"came on {len(urls)} URLs of this source in this run")
        return flagged


def replaces_stored(stored_title: str, stored_length: int, new_title: str, new_body: str) -> bool:
    """Whether a new extraction may replace a stored article: not when its text shrank to a fraction of the
    stored one and neither its title nor its text carries the stored title (a site answering with something
    else under the article's URL)."""
    if stored_length <= 0 or len(new_body) >= SHRUNK_TO * stored_length:
        return True
    wanted = _normal(stored_title)
    return bool(wanted) and (wanted in _normal(new_title) or wanted in _normal(new_body))
