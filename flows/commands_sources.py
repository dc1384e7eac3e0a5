"""The `stadtradar` commands that hold sources.yml against the live sites: check-sources and add-source.

`register(app)` adds them to the CLI in flows/cli.py; the logic lives in scrapers/sitecheck.py,
scrapers/sitefinder.py, scrapers/url_patterns.py and scrapers/source_entries.py, and only scrapers/fetch.py talks
HTTP.
"""
from __future__ import annotations

import asyncio
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer
from rich.table import Table
from rich.text import Text

from flows.terminal import err, out
from flows.terminal import fail as _fail
from scrapers.config import Settings, SourcesFileError, load_sources

if TYPE_CHECKING:  # the scrapers are imported when a command runs: `stadtradar --help` stays quick
    from scrapers.sitecheck import SourceCheck


SETTINGS = Settings()
EXIT_PROBLEMS = 2  # as in flows/cli.py: the command ran, but something needs attention
SourcesOption = Annotated[Path, typer.Option("--sources", help="Sources file (YAML).")]
VERDICT_STYLES = {"ok": "green", "degraded": "yellow", "broken": "bold red"}


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


class SourceKind(StrEnum):
    municipal = "municipal"
    federal = "federal"
    eu = "eu"
    other = "other"


def _line(text: str, style: str = "") -> None:
    out.print(Text(text, style=style), soft_wrap=True)  # Text: URLs and patterns hold [brackets], not markup


DETAIL_MARKS = {"Reasons": ("-", ""), "Suggestions": ("→", "cyan"), "Notes": ("·", "dim")}


def _print_checks(checks: list[SourceCheck]) -> None:
    """The checks for a terminal: a table, then each source's details (the markdown report's, see sitecheck)."""
    from scrapers.sitecheck import check_details, check_row

    table = Table("source", "verdict", "entry points", "article links", "newest article")
    for check in checks:
        row = check_row(check)
        table.add_row(Text(row.source_id), Text(row.verdict, style=VERDICT_STYLES.get(row.verdict, "")),
                      f"{row.working}/{row.entry_points} readable", str(row.article_links), Text(row.newest))
    out.print(table)
    for check in checks:
        details = check_details(check)
        if details:
            _line(f"{check.source_id}: {check.verdict}", VERDICT_STYLES.get(check.verdict, ""))
        for title, items in details:
            mark, style = DETAIL_MARKS.get(title, ("-", ""))
            for item in items:
                _line(f"  {mark} {item}", style)


def check_sources(
    sources: SourcesOption = SETTINGS.sources,
    source: Annotated[list[str] | None, typer.Option("--source", help="Check only this source (its id); repeat "
                                                     "for several.")] = None,
    format: Annotated[CheckFormat, typer.Option("--format", help="Output format (json: a list, one object per "
                                                "source).")] = CheckFormat.table,
    db: Annotated[Path | None, typer.Option("--db", help="Also store the verdicts in this warehouse's "
                                            "ops.source_checks, where `status` shows them.")] = None,
) -> None:
    """Check each source against its live site: robots.txt, feeds, sitemaps, listings and the newest article.

    A few requests per source, none that robots.txt refuses; a verdict (ok, degraded, broken), reasons, suggestions.

    Exit status: 0 every checked source is ok; 2 some are degraded or broken; 1 bad input (sources file, --source)
    or the verdicts could not be stored; 3 the warehouse is busy (another run holds it: the verdicts are printed
    but not stored).
    """
    from scrapers.sitecheck import check_sources as run_checks

    try:
        configured = load_sources(sources)
    except SourcesFileError as exc:
        raise _fail(str(exc)) from None
    known = [s.id for s in configured]
    unknown = [i for i in source or [] if i not in known]
    if unknown:
        raise _fail(f"no source with id {unknown[0]!r} in {sources}; its ids: {', '.join(known)}")
    selected = [s for s in configured if not source or s.id in source]
    settings = Settings()
    checks = asyncio.run(run_checks(selected, settings))
    # Printed before they are stored: a busy or broken warehouse must not cost the results of the requests made.
    if format is CheckFormat.json:
        sys.stdout.write(json.dumps([c.to_dict() for c in checks], ensure_ascii=False, indent=2) + "\n")
        sys.stdout.flush()
    else:
        _print_checks(checks)
    if db is not None:
        _store(db, checks, settings)
    if any(c.verdict != "ok" for c in checks):
        raise typer.Exit(EXIT_PROBLEMS)


def _store(db: Path, checks: list[SourceCheck], settings: Settings) -> None:
    """The verdicts into ops.source_checks, under the warehouse's writer lock (a run may be writing)."""
    from warehouse.checks import record_checks
    from warehouse.db import WarehouseError, connect
    from warehouse.load import now
    from warehouse.lock import WarehouseBusy, writer_lock

    try:
        with writer_lock(db, settings.lock_timeout), connect(db) as con:
            record_checks(con, now(), [c.to_dict() for c in checks])
    except WarehouseBusy as exc:
        raise _fail(str(exc), 3) from None
    except (WarehouseError, OSError) as exc:
        raise _fail(f"{db}: the verdicts could not be stored: {exc}") from None


def _taken_ids(sources: Path, write: bool) -> set[str]:
    """The ids the sources file holds; a file that does not validate is an error only when it is to be written."""
    if not sources.exists():
        return set()
    try:
        return {s.id for s in load_sources(sources)}
    except SourcesFileError as exc:
        if write:
            raise _fail(str(exc)) from None
        err.print(Text(f"warning: {exc}; ids are not checked against it"), soft_wrap=True)
        return set()


def add_source(
    url: Annotated[str, typer.Argument(help="The site's home page or news page.")],
    id: Annotated[str | None, typer.Option("--id", help="Id of the new source (lower case, digits, underscores; "
                                           "default: from the host name).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: the site's own).")] = None,
    city: Annotated[str | None, typer.Option("--city", help="The publisher's city.")] = None,
    kind: Annotated[SourceKind | None, typer.Option("--kind", help="Publisher kind (default: municipal with --city, "
                                                    "else other).")] = None,
    sources: SourcesOption = SETTINGS.sources,
    write: Annotated[bool, typer.Option("--write", help="Append the entry to the sources file, after validating the "
                                        "whole resulting file.")] = False,
    allow_private_network: Annotated[bool, typer.Option("--allow-private-network", help="Allow loopback and private "
                                                        "addresses: for local test sites only.")] = False,
    rate_limit: Annotated[float, typer.Option("--rate-limit", min=0.01, help="Requests per second to the site while "
                                              "probing.")] = 1.0,
) -> None:
    """Propose a sources.yml entry for a news site: feeds, sitemaps, the listing page and a url_pattern, with
    three test articles extracted. The entry goes to standard output (with --write, into the sources file too).

    Exit status: 0 a usable entry; 2 none could be proposed (the reasons are printed); 1 bad input.
    """
    from scrapers.sitefinder import find_source
    from scrapers.source_entries import AppendError, append_entry
    from scrapers.urls import canonicalize

    try:  # as find_source will: a port out of range or a broken IPv6 literal raises only here
        parts = urlsplit(canonicalize(url.strip()))
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError as exc:
        raise _fail(f"{url!r} is not a valid URL: {exc}") from None
    if not valid:
        raise _fail(f"{url!r} is not an http(s) URL")
    if id is not None and not re.fullmatch(r"[a-z0-9_]+", id):
        raise _fail(f"--id {id!r}: use lower case letters, digits and underscores")
    taken = _taken_ids(sources, write)
    if id is not None and id in taken:
        if write:
            raise _fail(f"{sources}: a source with id {id!r} exists already; choose another with --id")
        err.print(Text(f"warning: {sources} has a source with id {id!r} already"), soft_wrap=True)
    proposal = asyncio.run(find_source(
        url.strip(), Settings(), source_id=id, name=name, city=city, kind=kind.value if kind else None,
        taken_ids=taken, allow_private_network=allow_private_network, rate_limit=rate_limit))
    for note in proposal.notes:
        err.print(Text(note), soft_wrap=True)
    if proposal.entry is not None:
        typer.echo(proposal.text(), nl=False)  # plain: a YAML entry to paste, never wrapped
    if not proposal.usable:
        raise _fail("no usable entry for " + url.strip() + ": " + "; ".join(proposal.problems), EXIT_PROBLEMS)
    if write:
        assert proposal.entry is not None
        try:
            append_entry(sources, proposal.entry, proposal.comments)
        except (AppendError, SourcesFileError, OSError) as exc:
            raise _fail(str(exc)) from None
        err.print(Text(f"appended source {proposal.entry['id']!r} to {sources}; try it with `stadtradar check-sources "
                       f"--source {proposal.entry['id']}`"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add check-sources and add-source to the `stadtradar` command."""
    app.command()(check_sources)
    app.command()(add_source)
