"""Content fingerprints for duplicate detection: an exact hash and a 64-bit SimHash for near-duplicates."""
from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
SHINGLE = 3  # words per shingle: long enough to carry word order, short enough to survive small edits


def content_hash(title: str, body_text: str) -> str:
    """sha256 of the whitespace-normalised, case-folded title and body: equal for the same story at two URLs."""
    flat = re.sub(r"\s+", " ", f"{title}\n{body_text}").strip().casefold()
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


def simhash(text: str) -> int:
    """64-bit SimHash over word shingles; near-identical texts differ in few bits (Charikar 2002)."""
    words = _WORD.findall(text.casefold())
    if not words:
        return 0
    shingles = [" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))]
    weights = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()
