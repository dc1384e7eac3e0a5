"""Where a page's CPU goes: process_page over benchmark corpus pages, split by step, beside trafilatura's bare
extraction of the same pages.

    .venv/bin/python benchmarks/profile_page.py [--pages 300] [--seed 8]

Each step is timed by wrapping the function process_page calls (CPU time of this process, so other load on
the machine changes little); a step called inside another counts toward the outer one, and the rest of
process_page (ids, the record, the result) is `other`.
Prints a markdown table for benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from benchmarks.corpus import Corpus  # noqa: E402
from benchmarks.run_bench import article_pages, measure_reference  # noqa: E402

# (label, module, function) of each step process_page calls, in its order.
STEPS = [
    ("extraction (extract_article)", "scrapers.process", "extract_article"),
    ("cities (places.find_cities)", "scrapers.places", "find_cities"),
    ("programmes (find_programmes, linked_programmes)", "scrapers.programmes", "find_programmes"),
    ("programmes (find_programmes, linked_programmes)", "scrapers.programmes", "linked_programmes"),
    ("participations (find_participations)", "scrapers.programmes", "find_participations"),
    ("events (events.find_events)", "scrapers.events", "find_events"),
    ("relevance (classify)", "scrapers.process", "classify"),
    ("fingerprints (content_hash, simhash, page_hash)", "scrapers.process", "content_hash"),
    ("fingerprints (content_hash, simhash, page_hash)", "scrapers.process", "simhash"),
    ("fingerprints (content_hash, simhash, page_hash)", "scrapers.process", "page_hash"),
]


_inside: list[str] = []  # the step being timed: a step another step calls counts toward the outer one


def timed(spent: dict[str, float], label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _inside:
            return function(*args, **kwargs)
        _inside.append(label)
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - started
            _inside.pop()
    return wrapper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)

    import importlib

    from scrapers import process
    from scrapers.config import load_sources

    with tempfile.TemporaryDirectory(prefix="stadtradar-profile-") as scratch:
        corpus = Corpus(args.pages, ["http://127.0.0.1:9"], seed=args.seed)
        routes = corpus.write(Path(scratch) / "site")
        sources_file = Path(scratch) / "sources.yml"
        sources_file.write_text(corpus.sources_yaml(), encoding="utf-8")
        pages = article_pages(corpus, routes, load_sources(sources_file))

    process.process_page(*pages[0])  # gazetteer and catalogue load once per process
    spent: dict[str, float] = defaultdict(float)
    for label, module_name, name in STEPS:
        module = importlib.import_module(module_name)
        setattr(module, name, timed(spent, label, getattr(module, name)))
    started = time.process_time()
    for page, source, hint in pages:
        process.process_page(page, source, hint)
    total = time.process_time() - started
    reference = measure_reference([page for page, _source, _hint in pages])["cpu_s"]

    n = len(pages)
    print(f"{n} pages of the benchmark corpus (seed {args.seed}), CPU ms per page\n")
    print("| step | ms per page | share |")
    print("|---|---:|---:|")
    for label in dict.fromkeys(label for label, _m, _n in STEPS):
        print(f"| {label} | {1000 * spent[label] / n:.1f} | {spent[label] / total:.0%} |")
    other = total - sum(spent.values())
    print(f"| other (ids, record, result) | {1000 * other / n:.1f} | {other / total:.0%} |")
    print(f"| **process_page** | **{1000 * total / n:.1f}** | 100% |")
    print(f"| trafilatura `bare_extraction(with_metadata=True)`, same pages | {1000 * reference / n:.1f} | "
          f"{reference / total:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
