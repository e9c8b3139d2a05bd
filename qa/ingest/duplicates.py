"""Duplicate scrapes: articles that are the same story scraped twice.

Two articles are one story when the Jaccard similarity of their 5-word shingles
(over the cleaned body) reaches `settings.duplicate_jaccard`. Candidates come from
MinHash LSH, so a large folder is not compared pair by pair: 64 min-hashes per
article (universal hashing of the shingles' crc32 modulo the Mersenne prime 2^61-1,
fixed coefficients, so a build is the same in every process), cut into 16 bands of 4;
articles that share a band are candidates (a pair at Jaccard 0.8 shares one with
probability 0.9998). Each candidate pair is confirmed by the exact Jaccard. The
canonical article of a group is the first by doc_id; the others are aligned to it
(`align.py`).
"""
from __future__ import annotations

import zlib

import numpy as np

from ..config import DEFAULT, Settings
from ..text import words

_PRIME = np.uint64((1 << 61) - 1)
_PERMS, _BANDS = 64, 16
_coef = np.random.default_rng(20121008)
_A = _coef.integers(1, 1 << 32, size=(_PERMS, 1), dtype=np.uint64)
_B = _coef.integers(0, 1 << 32, size=(_PERMS, 1), dtype=np.uint64)


def shingles(text: str, n: int) -> set[int]:
    w = words(text)
    return {zlib.crc32(" ".join(w[i:i + n]).encode("utf-8")) for i in range(max(1, len(w) - n + 1))}


def signature(shingle_set) -> np.ndarray:
    """The 64 min-hashes of 32-bit shingle hashes ((a*x + b) mod p stays below 2^64)."""
    x = np.fromiter(shingle_set, dtype=np.uint64, count=len(shingle_set))[None, :]
    return ((_A * x + _B) % _PRIME).min(axis=1)


def fingerprint(body: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """What grouping needs of one article: its shingles (sorted, unique) and its bands."""
    s = shingles(body, n)
    return np.fromiter(sorted(s), dtype=np.uint32, count=len(s)), bands(signature(s))


def bands(sig: np.ndarray) -> np.ndarray:
    """The signature's 16 bands of 4 min-hashes, each as a 32-bit hash (uint32 [16]): two articles
    that share a band share its hash (a collision only adds a candidate, which the exact Jaccard
    then checks). 64 bytes an article, kept with the index (`known.py`)."""
    raw = sig.astype("<u8").tobytes()
    width = len(raw) // _BANDS
    return np.array([zlib.crc32(raw[b * width:(b + 1) * width]) for b in range(_BANDS)], dtype=np.uint32)


def duplicate_groups(bodies: dict[str, str], settings: Settings = DEFAULT) -> dict[str, str]:
    """Map each near-duplicate doc_id to its group's canonical doc_id."""
    return groups_of({d: fingerprint(t, settings.shingle_words) for d, t in bodies.items()}, settings)


def groups_of(prints: dict[str, tuple], settings: Settings = DEFAULT) -> dict[str, str]:
    """`duplicate_groups` from each article's `fingerprint`; its shingles may be a function that
    gives them, called only for an article that shares a band with another."""
    buckets: dict[tuple[int, int], list[str]] = {}
    for d, (_, bs) in prints.items():
        for b, h in enumerate(bs.tolist()):
            buckets.setdefault((b, h), []).append(d)
    made: dict[str, np.ndarray] = {}

    def shingles_of(d: str) -> np.ndarray:
        if d not in made:
            got = prints[d][0]
            made[d] = got() if callable(got) else got
        return made[d]
    parent = {d: d for d in prints}

    def find(d):
        while parent[d] != d:
            d = parent[d]
        return d

    checked: set[tuple[str, str]] = set()
    for members in buckets.values():
        for i, d in enumerate(members):
            for other in members[i + 1:]:
                pair = (d, other) if d < other else (other, d)
                if pair in checked:
                    continue
                checked.add(pair)
                s, o = shingles_of(pair[0]), shingles_of(pair[1])
                common = np.intersect1d(s, o, assume_unique=True).size
                if common / max(1, s.size + o.size - common) >= settings.duplicate_jaccard:
                    a, b = sorted((find(pair[0]), find(pair[1])))
                    parent[b] = a
    return {d: find(d) for d in prints if find(d) != d}
