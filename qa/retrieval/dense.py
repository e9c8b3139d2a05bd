"""Dense retrieval: a faiss inner-product index over L2-normalised embeddings.

Vectors come from `encoder.py`; because they are normalised, inner product is
cosine similarity. One query searches on one thread (see below); builds of an
HNSW graph use every core.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

from ..config import DEFAULT, Settings

# One query searches on one thread: on 2 cores, faiss's OpenMP team for a single query
# vector made exact search at 100k chunks ~2x slower (22 vs 12 ms) and slowed the torch
# query encoder beside it (`qa bench`). Index builds (HNSW inserts) still use every core.
faiss.omp_set_num_threads(1)


@contextmanager
def _all_cores():
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def pooled(sentence_vectors: np.ndarray, members: list[list[int]], weights: np.ndarray) -> np.ndarray:
    """Each window's vector from its sentences' vectors: their sum weighted by `weights` (the
    sentences' lengths: mean pooling over a window's tokens is, up to the context each token sees,
    the length-weighted mean of its sentences' means), normalised to unit length. So a window costs
    no model time: every sentence is encoded once, not once alone and again in each of the
    (chunk_sentences) windows that hold it."""
    if not members:
        return np.zeros((0, sentence_vectors.shape[1] if sentence_vectors.ndim == 2 else 0), np.float32)
    rows = np.fromiter((r for m in members for r in m), dtype=np.int64)
    sizes = np.fromiter(map(len, members), dtype=np.int64, count=len(members))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    w = np.asarray(weights, dtype=np.float32)[rows, None]
    out = np.add.reduceat(np.asarray(sentence_vectors[rows], dtype=np.float32) * w, starts, axis=0)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    return out.astype(np.float32)


class DenseIndex:
    """Cosine search over normalised vectors, with `index`, `search`, `write_to`, `from_file`.

    Vectors are stored as 8-bit codes (faiss's scalar quantizer, one byte a dimension, each
    dimension's range fitted to the vectors: a quarter of float32, cosines off by about 1e-3).
    Every vector is compared below `settings.ann_threshold` vectors (IndexScalarQuantizer);
    above it an approximate HNSW graph (Malkov & Yashunin 2018; faiss IndexHNSWSQ, inner
    product), whose recall@10 against exact search `qa bench` reports. Both are
    serialized by faiss (`write_to`), and `from_file` takes whichever was saved.
    """

    def __init__(self, dim: int, settings: Settings = DEFAULT):
        self.dim = dim
        self.settings = settings
        self.faiss = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)

    def index(self, vectors: np.ndarray) -> "DenseIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return self.fill(len(vectors), lambda rows: vectors[rows])

    def fill(self, n: int, rows_of, batch: int = 8192, sample: int = 20_000) -> "DenseIndex":
        """Index n vectors that `rows_of(row numbers)` makes a batch at a time (the windows pooled
        from the sentences: a build never holds them all as float32): the quantizer's ranges are
        fitted on an even sample of at most `sample` of them, then batches are added."""
        sq = faiss.ScalarQuantizer.QT_8bit
        if n >= self.settings.ann_threshold:
            self.faiss = faiss.IndexHNSWSQ(self.dim, sq, self.settings.ann_m, faiss.METRIC_INNER_PRODUCT)
            self.faiss.hnsw.efConstruction = self.settings.ann_ef_construction
        else:
            self.faiss = faiss.IndexScalarQuantizer(self.dim, sq, faiss.METRIC_INNER_PRODUCT)
        if n:
            with _all_cores():
                self.faiss.train(np.ascontiguousarray(rows_of(np.arange(0, n, max(1, n // sample))), dtype=np.float32))
                for lo in range(0, n, batch):
                    self.faiss.add(np.ascontiguousarray(rows_of(np.arange(lo, min(n, lo + batch))), dtype=np.float32))
        return self

    @property
    def approximate(self) -> bool:
        return isinstance(self.faiss, faiss.IndexHNSW)

    def __len__(self) -> int:
        return self.faiss.ntotal

    def search(self, query_vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (row, cosine), best first; faiss's -1 padding is dropped. With `mask`, only the
        rows it marks True are searched (a faiss id selector, inside the search)."""
        selector = None
        if mask is not None:
            admitted = np.flatnonzero(mask).astype(np.int64)
            if admitted.size == 0:
                return []
            selector = faiss.IDSelectorBatch(admitted)
            k = min(k, int(admitted.size))
        k = min(k, len(self))
        if k <= 0:
            return []
        q = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        if self.approximate:
            params = faiss.SearchParametersHNSW(efSearch=max(self.settings.ann_ef_search, k), sel=selector)
            scores, ids = self.faiss.search(q, k, params=params)
        elif selector is not None:
            scores, ids = self.faiss.search(q, k, params=faiss.SearchParameters(sel=selector))
        else:
            scores, ids = self.faiss.search(q, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vectors(self) -> np.ndarray:
        return self.faiss.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), np.float32)

    def write_to(self, emit) -> None:
        """Serialize through `emit(buffer)` a block at a time (what `qa.store` writes to a file)."""
        faiss.write_index(self.faiss, faiss.PyCallbackIOWriter(emit))

    @classmethod
    def from_file(cls, path: Path, settings: Settings = DEFAULT) -> "DenseIndex":
        """The index `write_to` wrote to `path` (the caller checked the file's sha256 first), read by
        faiss itself: the file's bytes are not held beside the index they become."""
        idx = faiss.read_index(str(path))
        out = cls(idx.d, settings)
        out.faiss = idx
        return out
