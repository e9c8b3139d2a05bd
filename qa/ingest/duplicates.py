"""Duplicate scrapes: articles that are the same story scraped twice.

Two articles are one story when the Jaccard similarity of their 5-word shingles
(over the cleaned body) reaches `settings.duplicate_jaccard`. Candidates come
from MinHash LSH (datasketch), so a large folder is not compared pair by pair;
each candidate pair is confirmed by the exact Jaccard. The canonical article of
a group is the first by doc_id; the others are aligned to it (`align.py`).
"""
from __future__ import annotations

from ..config import DEFAULT, Settings
from ..text import words


def shingles(text: str, n: int) -> set[int]:
    w = words(text)
    return {hash(" ".join(w[i:i + n])) for i in range(max(1, len(w) - n + 1))}


def duplicate_groups(bodies: dict[str, str], settings: Settings = DEFAULT) -> dict[str, str]:
    """Map each near-duplicate doc_id to its group's canonical doc_id."""
    from datasketch import MinHash, MinHashLSH     # only a build needs it

    sets = {d: shingles(t, settings.shingle_words) for d, t in bodies.items()}
    lsh = MinHashLSH(threshold=settings.duplicate_jaccard * 0.75, num_perm=64)
    hashes = {}
    for d, s in sets.items():
        m = MinHash(num_perm=64)
        m.update_batch([str(x).encode() for x in s])
        lsh.insert(d, m)
        hashes[d] = m
    parent = {d: d for d in bodies}

    def find(d):
        while parent[d] != d:
            d = parent[d]
        return d

    for d, s in sets.items():
        for other in lsh.query(hashes[d]):
            if other <= d:
                continue
            o = sets[other]
            if len(s & o) / max(1, len(s | o)) >= settings.duplicate_jaccard:
                a, b = sorted((find(d), find(other)))
                parent[b] = a
    return {d: find(d) for d in bodies if find(d) != d}
