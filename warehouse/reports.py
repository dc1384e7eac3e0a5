"""What a run did, per source: the counts the CLI prints, ops tables store and the Prefect artifact shows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class SourceReport:
    """Counts and health of one source in one run."""

    source_id: str
    discovered: int = 0
    fetched: int = 0
    not_modified: int = 0
    articles: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_known: int = 0
    robots_refused: int = 0
    parsed: int = 0  # article pages whose body was new and went through extraction
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # what the run decided and the operator should know
    deferred: int = 0  # article links left for the next run (per-run cap or time budget)
    listings_fetched: int = 0  # feed, sitemap and listing pages fetched
    timings: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # step -> seconds
    failed: bool = False
    healthy: bool = True
    health_reason: str | None = None

    def counts(self) -> dict[str, int]:
        return {"discovered": self.discovered, "fetched": self.fetched, "not_modified": self.not_modified,
                "articles": self.articles, "new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "errors": len(self.errors), "robots_refused": self.robots_refused}


@dataclass
class IngestReport:
    """What an ingest run did, per source; `ok` is false when any page or source failed."""

    run_id: str
    sources: list[SourceReport]
    pages_fetched: int = 0

    @property
    def ok(self) -> bool:
        return not any(s.failed or s.errors for s in self.sources)

    def summary(self) -> dict[str, int]:
        """The run's totals, as ops.runs stores them."""
        return {
            "sources_ok": sum(1 for s in self.sources if not s.failed),
            "sources_failed": sum(1 for s in self.sources if s.failed),
            "pages_fetched": self.pages_fetched,
            "articles_new": sum(s.new for s in self.sources),
            "articles_updated": sum(s.updated for s in self.sources),
            "articles_unchanged": sum(s.unchanged for s in self.sources),
            "errors": sum(len(s.errors) for s in self.sources),
        }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def ingest_markdown(report: IngestReport, max_errors: int = 50) -> str:
    """A markdown page for the Prefect UI: per-source table, then the failed URLs with their errors."""
    lines = [
        f"# Stadtradar ingest `{report.run_id}`",
        "",
        "| source | discovered | fetched | new | updated | unchanged | failed | health |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report.sources:
        health = "ok" if s.healthy else f"**unhealthy**: {_cell(s.health_reason or '')}"
        failed = f"{len(s.errors)}" + (" (source failed)" if s.failed else "")
        lines.append(f"| {s.source_id} | {s.discovered} | {s.fetched} | {s.new} | {s.updated} | {s.unchanged} "
                     f"| {failed} | {health} |")
    errors = [(s.source_id, e) for s in report.sources for e in s.errors]
    if errors:
        lines += ["", "## Failed URLs", ""]
        for source_id, message in errors[:max_errors]:
            url, _, reason = message.partition(": ")
            target = f"[{url}]({url})" if url.startswith(("http://", "https://")) else url
            lines.append(f"- `{source_id}` {target}: {_cell(reason)}")
        if len(errors) > max_errors:
            lines.append(f"- … and {len(errors) - max_errors} more (ops.fetch_errors has them all)")
    notices = [(s.source_id, n) for s in report.sources for n in s.notices]
    if notices:
        lines += ["", "## Notices", ""] + [f"- `{source_id}` {_cell(n)}" for source_id, n in notices]
    return "\n".join(lines) + "\n"
