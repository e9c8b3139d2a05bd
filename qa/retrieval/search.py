"""Retrieval over a loaded index: BM25, dense, or both fused; returns Hits.

Policy for odd input: an empty or whitespace-only question raises
BadQuestionError (a ValueError); `k` below 1 is an error, `k` above the number
of chunks is clamped. Two hits never overlap within one story: a window that
overlaps a better-ranked one from the same article is skipped, and duplicate
scrapes are not indexed at all (they ride along as `also_in`).
"""
from __future__ import annotations

import math
import time

import numpy as np
from rapidfuzz import fuzz, process

from ..errors import BadQuestionError
from ..text import tokenize
from ..types import Hit
from . import encoder
from .filters import Filter, chunk_mask
from .fusion import fuse
from .index import Index

MODES = ("hybrid", "bm25", "dense")


def check_question(question, max_chars: int) -> str:
    """The question stripped, or BadQuestionError saying what to fix."""
    if not isinstance(question, str):
        raise BadQuestionError(f"the question must be text, not {type(question).__name__}")
    q = question.strip()
    if not q:
        raise BadQuestionError("the question is empty: type a question about the articles")
    if len(q) > max_chars:
        raise BadQuestionError(f"the question is {len(q):,} characters long; ask in at most {max_chars:,}")
    if "\x00" in q:
        raise BadQuestionError("the question contains a NUL character; send plain text")
    try:
        q.encode("utf-8")
    except UnicodeEncodeError as e:                 # a lone surrogate: the tokenizers cannot take it
        raise BadQuestionError(f"the question contains {q[e.start]!r}, half of a UTF-16 pair and not a "
                               "character; send valid Unicode text") from None
    return q


def expand_spellings(tokens: list[str], vocab: dict[str, int], cutoff: float = 70.0) -> list[str]:
    """Add, for each query word the corpus never uses, the corpus words spelled like it
    (same first letter, rapidfuzz ratio >= cutoff): "Kiani" finds "Kayani", "Pervez" finds
    "Parvez". Words the corpus has are left alone, so exact matches keep their weight.

    Only words with the same first letter and a length that can reach the cutoff are
    compared (ratio <= 200 * min(n, m) / (n + m)): at a 1M-word vocabulary, comparing
    with every word took ~100 ms per unknown word."""
    out = list(tokens)
    buckets = None
    for t in tokens:
        if t in vocab or len(t) < 5 or not t.isalpha():
            continue
        buckets = buckets or _spelling_buckets(vocab)
        n = len(t)
        lo, hi = math.floor(n * cutoff / (200 - cutoff)), math.ceil(n * (200 - cutoff) / cutoff)
        pool = [w for m in range(lo, hi + 1) for w in buckets.get((t[0], m), ())]
        for word, _, _ in process.extract(t, pool, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3):
            if word not in out:
                out.append(word)
    return out


_BUCKETS: dict[int, tuple[dict, dict]] = {}


def _spelling_buckets(vocab: dict[str, int]) -> dict[tuple[str, int], list[str]]:
    """The vocabulary grouped by (first letter, length), built once per vocabulary."""
    held = _BUCKETS.get(id(vocab))
    if held is None or held[0] is not vocab:
        groups: dict[tuple[str, int], list[str]] = {}
        for w in vocab:
            groups.setdefault((w[0], len(w)), []).append(w)
        if len(_BUCKETS) >= 8:
            _BUCKETS.clear()
        held = _BUCKETS[id(vocab)] = (vocab, groups)
    return held[1]


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise BadQuestionError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode


def check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise BadQuestionError(f"k must be a whole number of at least 1, got {k!r}")
    return int(k)


def search(index: Index, question: str, k: int = 5, mode: str = "hybrid",
           timings: dict | None = None, query_vector: np.ndarray | None = None,
           where: Filter | None = None) -> list[Hit]:
    """The k best non-overlapping passages for `question`, best first; with `where`, only from
    the articles it admits (`filters.make_filter(since, until, outlets)`)."""
    q = check_question(question, index.settings.max_question_chars)
    mode, k = check_mode(mode), check_k(k)
    mask = chunk_mask(index, where)
    n = len(index.chunks) if mask is None else int(mask.sum())
    if n == 0:
        return []
    k = min(k, n)
    depth = min(n, max(index.settings.candidates, 4 * k))
    backend = index.backend
    t = time.perf_counter()
    lexical, semantic, fused = [], [], None
    terms = expand_spellings(tokenize(q), index.bm25.vocab) if mode in ("hybrid", "bm25") else []
    if mode == "bm25" or mode == "hybrid" and not backend.fuses:
        lexical = backend.bm25(index, terms, depth, where)
    t_bm25 = time.perf_counter()
    if mode in ("hybrid", "dense"):
        if query_vector is None:
            query_vector = encoder.embed([q], index.settings)[0]
        t_embed = time.perf_counter()
        if mode == "dense" or not backend.fuses:
            semantic = backend.dense(index, query_vector, depth, where)
        else:                                  # one round trip: the backend searches both and fuses
            fused = backend.hybrid(index, terms, query_vector, depth, where)
    else:
        t_embed = t_bm25
    t_dense = time.perf_counter()
    b_rank = {d: (r, s) for r, (d, s) in enumerate(lexical, start=1)}
    d_rank = {d: (r, s) for r, (d, s) in enumerate(semantic, start=1)}
    if fused is None and mode == "hybrid":
        fused = fuse(index.settings, lexical, semantic)
    elif fused is None:
        fused = lexical or semantic
    hits = _select(index, fused, b_rank, d_rank, k)
    if timings is not None:
        timings.update(bm25=t_bm25 - t, embed=t_embed - t_bm25, dense=t_dense - t_embed,
                       fusion=time.perf_counter() - t_dense)
    return hits


def _select(index: Index, fused, b_rank, d_rank, k: int) -> list[Hit]:
    taken: dict[str, list[tuple[int, int]]] = {}
    hits: list[Hit] = []
    for cid, score in fused:
        c = index.chunks[cid]
        spans = taken.setdefault(c.doc_id, [])
        if any(c.start < e and s < c.end for s, e in spans):
            continue
        spans.append((c.start, c.end))
        br, bs = b_rank.get(cid, (None, None))
        dr, ds = d_rank.get(cid, (None, None))
        art = index.articles[c.doc_id]
        hits.append(Hit(doc_id=c.doc_id, title=art.title, start=c.start, end=c.end,
                        text=c.text, score=float(score), bm25_rank=br, bm25_score=bs, dense_rank=dr,
                        dense_score=ds, chunk_id=c.chunk_id, also_in=c.also_in, date=art.date, outlet=art.outlet))
        if len(hits) == k:
            break
    return hits
