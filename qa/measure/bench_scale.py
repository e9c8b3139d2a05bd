"""Speed at scale: synthetic corpora of 10k to 1M chunks grown from real sentences, and the peers.

Each synthetic chunk is three sentences drawn at random from the SQuAD dev articles (or the
seeds), tokenised by our tokenizer; dense vectors are clustered random unit vectors (encoding
1M chunks would take hours), the query embedding is real. Peers on the same chunks: rank-bm25
called directly, bm25s with our BM25 variant, exact faiss search against our ANN index.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..config import DEFAULT
from .common import SQUAD, rss_mb, seed_questions, squad_articles, stats


class _SyntheticChunks:
    """A lazy list of placeholder chunks (50 per synthetic article) for a synthetic Index."""

    def __init__(self, n: int, per_doc: int = 50):
        self.n, self.per_doc = n, per_doc

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        from ..types import Chunk
        d, j = divmod(int(i), self.per_doc)
        return Chunk(chunk_id=int(i), doc_id=f"syn{d}", start=j * 100, end=j * 100 + 90, text="", sentences=())


def sentence_pool(seeds_dir: Path, quick: bool) -> tuple[list[list[str]], str]:
    """Tokenised sentences of the SQuAD dev articles (or of the seeds), and which source it was."""
    import re

    from ..text import tokenize
    texts, source = ([], "seeds") if quick else ([t for _, t in squad_articles()], "SQuAD v1.1 dev articles")
    if not texts:
        texts, source = [p.read_text(encoding="utf-8") for p in sorted(Path(seeds_dir).glob("*.txt"))], "seeds"
    sents = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t)]
    return [toks for toks in map(tokenize, sents) if toks], source


def clustered_vectors(n: int, dim: int, seed: int, clusters: int | None = None) -> np.ndarray:
    """Unit vectors around n/100 random centres (cosine ~0.7 to their centre), built in blocks."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters or max(1, n // 100), dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        v = centres[rng.integers(0, len(centres), hi - lo)] + rng.normal(0, 0.052, (hi - lo, dim)).astype(np.float32)
        out[lo:hi] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def _quiet_bm25s():
    import logging
    logging.getLogger("bm25s").setLevel(logging.WARNING)


def bench_scale(n: int, pool: list[list[str]], questions: list[str], rank_bm25_queries: int) -> dict:
    """Latency of each stage of hybrid retrieval, and of the peers, on n synthetic chunks."""
    import bm25s
    import faiss
    import rank_bm25

    from ..retrieval import encoder
    from ..retrieval.dense import DenseIndex
    from ..retrieval.index import Index
    from ..retrieval.lexical import BM25
    from ..retrieval.search import search
    from ..text import tokenize
    from ..types import Article
    s = DEFAULT
    _quiet_bm25s()
    rng = np.random.default_rng(n)
    tokens = [pool[a] + pool[b] + pool[c] for a, b, c in rng.integers(0, len(pool), (n, 3))]
    bm25, t_bm25 = _timed(lambda: BM25(s.bm25_k1, s.bm25_b).index(tokens))
    bm = bm25s.BM25(k1=s.bm25_k1, b=s.bm25_b, method="atire", idf_method="bm25+")
    _, t_peer = _timed(lambda: bm.index(tokens, show_progress=False))
    dim = encoder.dimension()
    vecs = clustered_vectors(n, dim, seed=n)
    ours, t_dense = _timed(lambda: DenseIndex(dim).index(vecs))
    exact = faiss.IndexFlatIP(dim)
    exact.add(vecs)
    chunks = _SyntheticChunks(n)
    arts = [Article(doc_id=f"syn{d}", path="", title=f"synthetic {d}", text="", sha256="", body=())
            for d in range((n + chunks.per_doc - 1) // chunks.per_doc)]
    ix = Index(arts, chunks, bm25, ours, [], np.zeros((0, dim), np.float32), s, {}, Path("."))
    del vecs
    stages = {k: [] for k in ("total", "bm25", "embed", "dense", "fusion")}
    qvecs = encoder.embed(questions)
    qtoks = [tokenize(q) for q in questions]
    search(ix, questions[0], 5)
    for q in questions:
        t, tm = time.perf_counter(), {}
        search(ix, q, 5, "hybrid", timings=tm)
        stages["total"].append(time.perf_counter() - t)
        for k, v in tm.items():
            stages[k].append(v)
    depth = min(n, s.candidates)
    peers = {"bm25_ours": [], "bm25s": [], "dense_ours": [], "dense_exact": [], "rank_bm25": []}
    for qt, qv in zip(qtoks, qvecs):
        peers["bm25_ours"].append(_timed(bm25.search, qt, depth)[1])
        known = [t for t in qt if t in bm.vocab_dict]
        if known:
            peers["bm25s"].append(_timed(lambda: bm.retrieve([known], k=depth, show_progress=False))[1])
        peers["dense_ours"].append(_timed(ours.search, qv, depth)[1])
        peers["dense_exact"].append(_timed(exact.search, qv.reshape(1, -1), depth)[1])
    t_rank = None
    if rank_bm25_queries:
        rb, t_rank = _timed(lambda: rank_bm25.BM25Plus(tokens, k1=s.bm25_k1, b=s.bm25_b, delta=0))
        for qt in qtoks[:rank_bm25_queries]:
            peers["rank_bm25"].append(_timed(lambda: np.argsort(-rb.get_scores(qt))[:depth])[1])
    probe = clustered_vectors(200, dim, seed=n, clusters=max(1, n // 100))   # same centres as the corpus
    recall = {"synthetic_queries": ann_recall(ours, exact, probe)}   # real queries have no neighbours in random data
    return {"chunks": n, "dense_index": type(ours.faiss).__name__, "build_s": {
                "bm25_ours": t_bm25, "bm25s": t_peer, "rank_bm25": t_rank, "dense_ours": t_dense},
            "hybrid": {k: stats(v) for k, v in stages.items()},
            "peers": {k: stats(v) for k, v in peers.items()}, "ann_recall@10": recall, "peak_rss_mb": rss_mb()}


def ann_recall(ours, exact, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k that our (possibly approximate) index also returns."""
    found = 0
    for q in queries:
        truth = set(exact.search(q.reshape(1, -1), k)[1][0].tolist())
        found += len(truth & {i for i, _ in ours.search(q, k)})
    return found / (k * max(1, len(queries)))


def bm25_agreement(index) -> dict:
    """Our BM25 against rank-bm25 and bm25s on the indexed chunks: max score gap, equal top-10 rankings."""
    import bm25s
    import rank_bm25

    from ..text import tokenize
    s = index.settings
    _quiet_bm25s()
    tokens = [tokenize(c.text) for c in index.chunks]
    rb = rank_bm25.BM25Plus(tokens, k1=s.bm25_k1, b=s.bm25_b, delta=0)
    bm = bm25s.BM25(k1=s.bm25_k1, b=s.bm25_b, method="atire", idf_method="bm25+")
    bm.index(tokens, show_progress=False)
    gap = {"rank_bm25": 0.0, "bm25s": 0.0}
    equal = {"rank_bm25": 0, "bm25s": 0}
    qs = seed_questions()

    def top(scores):
        order = np.lexsort((np.arange(len(scores)), -np.round(scores, 4)))
        return [int(i) for i in order[:10] if scores[i] > 0]

    for q in qs:
        qt = tokenize(q)
        ours = index.bm25.scores(qt)
        known = [t for t in qt if t in bm.vocab_dict]
        theirs = {"rank_bm25": rb.get_scores(qt),
                  "bm25s": bm.get_scores(known) if known else np.zeros(len(tokens))}
        for name, sc in theirs.items():
            gap[name] = max(gap[name], float(np.abs(np.asarray(sc, np.float64) - ours).max()))
            equal[name] += top(np.asarray(sc)) == top(ours)
    return {"questions": len(qs), "max_score_gap": gap, "top10_equal": equal,
            "bm25s_settings": "method='atire' (tf part (k1+1)tf/(tf+k1(1-b+b dl/avgdl))), idf_method='bm25+' "
                              "(log((N+1)/df)) = rank_bm25.BM25Plus(delta=0) = ours"}


def scale_questions(quick: bool, n: int = 100) -> list[str]:
    """SQuAD questions (drawn with a fixed seed) for the scale runs; [] when unavailable or quick."""
    if quick or not SQUAD.exists():
        return []
    import random
    qs = [q["question"] for q in json.loads(SQUAD.read_text(encoding="utf-8"))["questions"]]
    return random.Random(0).sample(qs, n)
