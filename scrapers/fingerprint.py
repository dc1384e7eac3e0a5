"""Content fingerprints for duplicate detection: an exact hash and a 64-bit SimHash for near-duplicates."""
from __future__ import annotations

import hashlib
import re
from collections import Counter

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
    digests = [hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest() for s in shingles]
    # A bit is set where more shingles have it than not. Counting the values of each byte first, instead of
    # looking at 64 bits per shingle, makes long texts several times cheaper; the result is the same.
    fingerprint = 0
    for k in range(8):  # byte k of a big-endian digest holds bits 8 * (7 - k) and up
        ones = [0] * 8
        for byte, count in Counter(digest[k] for digest in digests).items():
            for bit in range(8):
                if byte >> bit & 1:
                    ones[bit] += count
        for bit in range(8):
            if 2 * ones[bit] > len(digests):
                fingerprint |= 1 << (8 * (7 - k) + bit)
    return fingerprint


def hamming(a: int, b: int) -> int:
    """Number of differing bits."""
    return (a ^ b).bit_count()
