"""Rank fusion: pure functions over ranked lists of ids."""
from __future__ import annotations


def rrf(rankings: dict[str, list[int]], weights: dict[str, float] | None = None, k: int = 60) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum_m w_m / (k + rank_m(d)), ranks from 1.

    Cormack, Clarke & Buettcher, "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods", SIGIR 2009 (k = 60). Ties keep the order in
    which ids were first seen, so the result is deterministic.
    """
    weights = weights or {}
    scores: dict[int, float] = {}
    for name, ids in rankings.items():
        w = weights.get(name, 1.0)
        for rank, d in enumerate(ids, start=1):
            scores[d] = scores.get(d, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def fuse(settings, lexical: list[tuple[int, float]], semantic: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The hybrid ranking of a BM25 list and a dense list: `rrf` with the settings' weights and k."""
    return rrf({"bm25": [d for d, _ in lexical], "dense": [d for d, _ in semantic]},
               {"bm25": settings.weight_bm25, "dense": settings.weight_dense}, settings.rrf_k)
