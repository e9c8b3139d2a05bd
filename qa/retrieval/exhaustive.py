"""Exhaustive retrieval for `qa.stories`: every article a query is about, not the k best passages.

Two signals per article, each taken over the whole index:
- term coverage: the idf-weighted share of the query's words that the article uses. The
  chunks holding each word come from the backend's BM25 search at full depth (a chunk with a
  positive score for a one-word query holds the word), so the embedded and Milvus backends
  find the same articles, each honouring the filter. A word the corpus never uses counts as
  the corpus words spelled like it (`search.expand_spellings`), or not at all when there is none.
- best sentence: the cosine of the query to every sentence vector of the index (the index
  folder keeps them whichever backend searches), the best per article.

Left out: ranking. The caller (`answering/stories.py`) applies the floors and groups.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ..text import tokenize
from . import encoder
from .filters import Filter
from .search import expand_spellings

MILVUS_LIMIT = 16_384            # the most rows one Milvus search returns (its topk cap)
BLOCK = 16_384                   # sentence vectors turned into float32 at a time


@dataclass(frozen=True)
class Layout:
    """The index's canonical articles in sentence order, worked out once per loaded index."""
    doc_ids: tuple[str, ...]             # articles that have sentences (duplicate scrapes have none)
    starts: np.ndarray                   # first sentence row of each, for np.*.reduceat
    ends: np.ndarray
    chunk_article: np.ndarray            # chunk row -> position in doc_ids (-1: none)
    centroids: np.ndarray                # each article's mean sentence vector, normalised


@dataclass(frozen=True)
class Matches:
    layout: Layout
    coverage: np.ndarray                 # per article of the layout, 0..1
    cosine: np.ndarray                   # per article: its best sentence's cosine to the query
    sims: np.ndarray                     # per sentence row: cosine to the query
    slots: tuple[tuple[str, ...], ...]   # the query's words, each with its spellings in the corpus
    admitted: np.ndarray                 # per article: the filter admits it


_LAYOUTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def layout(index) -> Layout:
    held = _LAYOUTS.get(index)
    if held is not None:
        return held
    sentences = index.sentence_spans
    runs = sentences.runs()                   # one run of sentence rows per article
    doc_ids = [d for _, _, d in runs]
    starts_a = np.asarray([lo for lo, _, _ in runs], dtype=np.int64)
    ends_a = np.asarray([hi for _, hi, _ in runs], dtype=np.int64)
    pos = {d: i for i, d in enumerate(doc_ids)}
    of_article = np.fromiter((pos.get(d, -1) for d in sentences.doc_ids), dtype=np.int64, count=len(sentences.doc_ids))
    chunk_article = of_article[index.chunks.doc_index] if len(index.chunks) else np.zeros(0, np.int64)
    vecs, dim = index.sentence_vectors, index.sentence_vectors.shape[1]
    cent = np.zeros((len(doc_ids), dim), np.float32)
    k = 0
    while k < len(doc_ids):                   # whole articles a block at a time: never every vector as float32
        k2 = max(k + 1, int(np.searchsorted(starts_a, starts_a[k] + BLOCK)))
        lo, hi = int(starts_a[k]), int(ends_a[k2 - 1])
        cent[k:k2] = np.add.reduceat(vecs[lo:hi], starts_a[k:k2] - lo, axis=0)
        k = k2
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)
    held = _LAYOUTS[index] = Layout(tuple(doc_ids), starts_a, ends_a, chunk_article, cent.astype(np.float32))
    return held


def match(index, query: str, where: Filter | None = None, query_vector: np.ndarray | None = None) -> Matches:
    """Term coverage and best-sentence cosine of every article for `query` (see the module note)."""
    lay = layout(index)
    n = len(lay.doc_ids)
    vocab, idf = index.bm25.vocab, index.bm25.idf
    slots, weights = [], []
    for t in dict.fromkeys(tokenize(query)):
        spellings = [w for w in expand_spellings([t], vocab) if w in vocab]
        if spellings:
            slots.append(tuple(spellings))
            weights.append(max(float(idf[vocab[w]]) for w in spellings))
    present = np.zeros((len(slots), n), dtype=bool)
    depth = len(index.chunks)
    if index.backend.name == "milvus":
        depth = min(depth, MILVUS_LIMIT)
    for i, spellings in enumerate(slots):
        for w in spellings:
            rows = np.fromiter((cid for cid, _ in index.backend.bm25(index, [w], depth, where)), dtype=np.int64)
            arts = lay.chunk_article[rows] if rows.size else rows
            present[i, arts[arts >= 0]] = True
    w = np.asarray(weights, dtype=np.float64)
    coverage = (w @ present) / w.sum() if w.size and w.sum() > 0 else np.zeros(n)
    if query_vector is None:
        query_vector = encoder.embed([query], index.settings)[0]
    sims = index.sentence_vectors.dot(np.asarray(query_vector, dtype=np.float32))
    cosine = np.maximum.reduceat(sims, lay.starts) if n else np.zeros(0, np.float32)
    admitted = np.ones(n, dtype=bool)
    if where is not None:
        arts = index.articles
        admitted = np.fromiter((where.admits(arts[d].date, arts[d].outlet, d) for d in lay.doc_ids),
                               dtype=bool, count=n)
    return Matches(lay, coverage, cosine, sims, tuple(slots), admitted)
