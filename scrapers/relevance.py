"""Decide whether an article is about smart cities, digital or climate-neutral urban development."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from scrapers import vocabulary

__all__ = ["Relevance", "classify", "THRESHOLD", "TERMS", "CUES"]


@dataclass(frozen=True)
class Relevance:
    """The verdict, its score and the terms that produced it (for explaining the verdict).

    terms lists the labels that moved the score, largest contribution first; labels of negative cues
    (topics a city newsroom also covers: sport, road works, strikes ...) carry a leading "-".
    """

    is_relevant: bool
    score: float
    terms: tuple[str, ...]


# The weighted terms and the negative cues live in scrapers/vocabulary/relevance_terms.csv, one row per
# label with its regex pattern, weight, kind (term | cue) and reason, in the order they are scored.
# Patterns are matched ANYWHERE in the lowercased text, so that German compounds count: "sensor" finds
# "Bodensensoren" and "Füllstandssensor", "daten" finds "Stadtdatenportal". A pattern anchors with \b only
# where a short stem would otherwise hit unrelated words.
# Weights: 3 = the term alone makes an article relevant when it is in the title or repeated;
# 2 = vocabulary of the field; 1 or less = words that only count together with others
# (a library's "digitale Medien" or a festival "App" must not suffice).
# Negative cues (negative weights) are the other topics of a city newsroom. They subtract, so that an incidental
# "App" in a strike notice or an LED floodlight on a football pitch does not tip the verdict, while an article
# whose topic is a smart-city one (strong terms, in the title or repeated) stays relevant despite a "Sperrung"
# or a "Konzert".
_VOCABULARY = "relevance_terms"
_KINDS = ("term", "cue")


def _weighted(kind: str) -> tuple[tuple[str, str, float], ...]:
    """The (label, pattern, weight) rows of one kind, in file order."""
    rows = vocabulary.rows(_VOCABULARY)
    unknown = {row["kind"] for row in rows} - set(_KINDS)
    if unknown:
        raise ValueError(f"{vocabulary.path_of(_VOCABULARY)}: unknown kind {sorted(unknown)}, expected one of {_KINDS}")
    return tuple((row["label"], row["pattern"], float(row["weight"])) for row in rows if row["kind"] == kind)


TERMS: tuple[tuple[str, str, float], ...] = _weighted("term")
CUES: tuple[tuple[str, str, float], ...] = _weighted("cue")

_META = set("\\.^$*+?{}[]()|")


def _alternatives(pattern: str) -> list[str]:
    """Split a pattern at its top-level "|" (outside groups and character classes)."""
    parts: list[str] = []
    current: list[str] = []
    depth, in_class, escaped = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


_LEAD = re.compile(r"(\\b|\(\?<![^)]*\))*")


def _literal_first(alternative: str) -> str:
    """Move a leading \\b or negative lookbehind behind the literal that follows it.

    The same match, but the pattern now starts with a literal, which lets re skip ahead to the
    candidates instead of trying the pattern at every position of the text.
    """
    lead = _LEAD.match(alternative).group(0)  # type: ignore[union-attr]
    rest = alternative[len(lead):]
    literal = rest[:next((i for i, ch in enumerate(rest) if ch in _META), len(rest))]
    if not lead or not literal:
        return alternative
    checks = "".join(f"(?<!{inner}{literal})" for inner in re.findall(r"\(\?<!([^)]*)\)", lead))
    if "\\b" in lead:
        checks += f"(?<!\\w{literal})"
    return literal + checks + rest[len(literal):]


_Compiled = tuple[str, tuple[str, ...], tuple[re.Pattern[str], ...], float]


def _compile(label: str, pattern: str, weight: float) -> _Compiled:
    """Plain stems are counted with str.count; the other alternatives are compiled one by one.

    Python's re tries every alternative at every position, which made the full term list cost about
    25 ms on a 5 KB body; substring counting and patterns that start with a literal keep a call at a
    few milliseconds.
    """
    alternatives = _alternatives(pattern.lower())
    stems = [a for a in alternatives if not _META & set(a)]
    # A stem that contains another stem of the same label would count the same place twice.
    stems = [s for s in stems if not any(o != s and o in s for o in stems)]
    rest = tuple(re.compile(_literal_first(a)) for a in alternatives if _META & set(a))
    return label, tuple(stems), rest, weight


_COMPILED = tuple(_compile(label, pattern, weight) for label, pattern, weight in TERMS + CUES)
_NEGATIVE = {label for label, *_ in CUES}
# About one strong term in the title, or a strong term plus field vocabulary in the body, or a lot of
# field vocabulary; negative cues raise the bar for articles on other topics.
THRESHOLD = 2.5
TITLE_FACTOR = 2.0


def _hits(text: str) -> dict[str, int]:
    text = text.lower()
    found: dict[str, int] = {}
    for label, stems, patterns, _weight in _COMPILED:
        count = sum(text.count(stem) for stem in stems) + sum(len(rx.findall(text)) for rx in patterns)
        if count:
            found[label] = count
    return found


def classify(title: str, body_text: str) -> Relevance:
    """Score the title and body against the weighted terms and the negative cues.

    Each label counts its weight once plus a diminishing bonus for repeats (1 + log2 of the count),
    so one incidental word cannot decide but a topic that runs through the text does. Title hits count
    TITLE_FACTOR times. The verdict is score >= THRESHOLD.
    """
    title_hits, body_hits = _hits(title or ""), _hits(body_text or "")
    contributions: dict[str, float] = {}
    for label, _stems, _rx, weight in _COMPILED:
        part = 0.0
        if label in title_hits:
            part += TITLE_FACTOR * weight
        if label in body_hits:
            part += weight * (1.0 + math.log2(body_hits[label]))
        if part:
            contributions[label] = part
    score = round(float(sum(contributions.values())), 2)
    ranked = sorted(contributions, key=lambda lab: -abs(contributions[lab]))
    terms = tuple(f"-{lab}" if lab in _NEGATIVE else lab for lab in ranked)
    return Relevance(is_relevant=score >= THRESHOLD, score=score, terms=terms)
