"""The word lists the extractors read: one CSV file per vocabulary in this folder, each entry with its reason."""
from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent.parent / "dbt" / "seeds"  # vocabularies dbt needs as well live there, as seeds


def path_of(name: str) -> Path:
    """The file of a vocabulary: `scrapers/vocabulary/<name>.csv`, else the dbt seed `<name>.csv`."""
    own = HERE / f"{name}.csv"
    return own if own.exists() else SEEDS / f"{name}.csv"


@functools.cache
def rows(name: str) -> tuple[dict[str, str], ...]:
    """Every row of a vocabulary. A file without a `reason` column, or a row without a reason or without its
    first column, raises ValueError naming the file and line: no entry may stand there unexplained."""
    path = path_of(name)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "reason" not in fields or not fields[0] or fields[0] == "reason":
            raise ValueError(f"{path}: the header must name the entry column first and have a 'reason' column")
        out = []
        for line, row in enumerate(reader, start=2):
            if None in row or any(value is None for value in row.values()):
                raise ValueError(f"{path}:{line}: expected {len(fields)} columns")
            if not row[fields[0]].strip():
                raise ValueError(f"{path}:{line}: the {fields[0]!r} column is empty")
            if not row["reason"].strip():
                raise ValueError(f"{path}:{line}: {row[fields[0]]!r} has no reason")
            out.append({k: v.strip() for k, v in row.items()})
    return tuple(out)


def entries(name: str, **where: str) -> tuple[str, ...]:
    """The first column of a vocabulary, optionally only the rows whose columns equal `where`."""
    first = next(iter(rows(name)[0])) if rows(name) else ""
    return tuple(r[first] for r in rows(name) if all(r.get(k) == v for k, v in where.items()))


def alternation(name: str, column: str | None = None, **where: str) -> str:
    """The entries (regex pieces, in file order) of a vocabulary as one regex alternation."""
    pieces = [r[column] for r in rows(name) if all(r.get(k) == v for k, v in where.items())] if column else \
        list(entries(name, **where))
    return "|".join(p for p in pieces if p)


def words(name: str, **where: str) -> str:
    """The entries of a vocabulary of plain words as an escaped regex alternation, longest first."""
    return "|".join(re.escape(w) for w in sorted(set(entries(name, **where)), key=len, reverse=True))


def all_files() -> list[Path]:
    """Every vocabulary file of this folder (for the extractor version)."""
    return sorted(HERE.glob("*.csv"))
