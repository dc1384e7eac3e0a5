"""Decide whether an article is about smart cities, digital or climate-neutral urban development."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Relevance", "classify", "THRESHOLD", "TERMS"]


@dataclass(frozen=True)
class Relevance:
    """The verdict, its score and the terms that produced it (for explaining the verdict)."""

    is_relevant: bool
    score: float
    terms: tuple[str, ...]


# (label, pattern, weight). Patterns are matched case-insensitively on word starts, so German
# inflections ("Smart-City-Strategie", "klimaneutralen") are covered by the stem. Weights: 3 for
# terms that alone make an article relevant, 1-2 for the vocabulary of the field, below 1 for words
# that only count together with others (a library's "digitale Medien" must not suffice).
TERMS: tuple[tuple[str, str, float], ...] = (
    ("smart city", r"smart[\s-]?cit(y|ies)", 3.0),
    ("smarte stadt", r"smarte[nrs]?[\s-]+(stadt|städte|region|kommune|quartier)", 3.0),
    ("smart region", r"smart[\s-]?(region|country|village|district)s?", 3.0),
    ("MPSC", r"mpsc", 3.0),
    ("modellprojekt", r"modellprojekte?s?\b", 1.0),
    ("digitalisierungsstrategie", r"digital(isierungs)?strategie", 3.0),
    ("digitale stadt", r"digitale[nrs]?\s+(stadt|städte|kommune|verwaltung|region|zwilling)|digitalste", 3.0),
    ("digitaler zwilling", r"digitale[rn]?\s+zwilling", 3.0),
    ("datenplattform", r"(urbane[nr]?\s+)?daten(plattform|strategie|raum|räume|kompetenz)", 2.5),
    ("open data", r"open[\s-]?data|offene[nr]?\s+daten", 2.5),
    ("klimaneutral", r"klimaneutral|klimaneutralität|treibhausgasneutral", 2.5),
    ("stadtentwicklung", r"(nachhaltige|integrierte|digitale|smarte)[nr]?\s+stadtentwicklung"
                         r"|stadtentwicklungspolitik", 2.5),
    ("stadtentwicklung (allgemein)", r"stadtentwicklung", 1.0),
    ("digitalisierung", r"digitalisierung", 1.5),
    ("digital", r"digital(e[nmrs]?)?\b", 0.7),
    ("transferstelle", r"koordinierungs-\s*und\s+transferstelle|\bkts\b", 2.0),
    ("internet der dinge", r"internet\s+der\s+dinge|\biot\b|lorawan|sensor(en|ik|netz)", 2.0),
    ("e-government", r"e-government|onlinezugangsgesetz|\bozg\b|verwaltungsdigitalisierung|bürgerportal", 2.0),
    ("reallabor", r"reallabor|experimentierr[aä]um", 1.5),
    ("klimaschutz", r"klimaschutz|klimaanpassung|klimafolgenanpassung|klimawandel", 1.0),
    ("energiewende", r"energiewende|wärmeplanung|wärmewende|erneuerbar|photovoltaik|solaranlage", 1.0),
    ("mobilitätswende", r"mobilitätswende|verkehrswende|elektromobilität|e-mobilität|elektroauto|ladesäule"
                        r"|ladepunkt|ladeinfrastruktur|sharing-angebot|carsharing|bikesharing", 1.0),
    ("beteiligung", r"(digitale|online)[rn]?[\s-]+beteiligung|beteiligungsplattform|bürgerbeteiligung", 1.0),
    ("innovation", r"innovation|innovativ", 0.5),
    ("daten", r"daten\b", 0.5),
    ("nachhaltigkeit", r"nachhaltig", 0.5),
    ("künstliche intelligenz", r"künstliche[rn]?\s+intelligenz|\bki\b", 1.0),
)
_COMPILED = tuple((label, re.compile(rf"(?<![\wäöüß]){pattern}", re.IGNORECASE), weight)
                  for label, pattern, weight in TERMS)
# An article needs about one strong term plus some field vocabulary, or a lot of field vocabulary.
THRESHOLD = 4.0
TITLE_FACTOR = 2.0


def _hits(text: str) -> dict[str, tuple[int, float]]:
    found: dict[str, tuple[int, float]] = {}
    for label, rx, weight in _COMPILED:
        count = len(rx.findall(text or ""))
        if count:
            found[label] = (count, weight)
    return found


def classify(title: str, body_text: str) -> Relevance:
    """Score the title and body against the weighted term list.

    Each term counts its weight once plus a diminishing bonus for repeats (1 + log2 of the count),
    so one incidental word cannot make an article relevant but a topic that runs through the text
    does. Title hits count TITLE_FACTOR times. The verdict is score >= THRESHOLD.
    """
    title_hits, body_hits = _hits(title), _hits(body_text)
    score = 0.0
    for _count, weight in title_hits.values():
        score += TITLE_FACTOR * weight
    for count, weight in body_hits.values():
        score += weight * (1.0 + math.log2(count))
    terms = tuple(label for label, *_ in TERMS if label in title_hits or label in body_hits)
    score = round(score, 2)
    return Relevance(is_relevant=score >= THRESHOLD, score=score, terms=terms)
