"""Lexical retrieval: a sparse BM25 index over the tokens of `qa.text.tokenize`.

Scoring is BM25 with the always-positive idf log((N + 1) / df), the idf of
rank_bm25's BM25Plus (Lv & Zhai 2011) with delta = 0. Plain BM25Okapi gives a
term found in half the chunks or more an idf near or below zero, and on a corpus
of a few dozen chunks that silences words like "Putin" or "Pakistan".

The scores equal `rank_bm25.BM25Plus(corpus, k1, b, delta=0).get_scores(q)`
(checked by the tests), but instead of looping over every document in Python
per query we store each term's postings once (doc ids and precomputed term
weights) and add up only the postings of the query's terms, as bm25s does.
Left out: BM25 variants other than this one, query-time parameter changes.
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np


POSTING = np.dtype([("doc", "<i4"), ("tf", "<u2"), ("w", "<f4")])   # chunk, count, term weight


class BM25:
    """BM25 over pre-tokenized documents with `index`, `search`, `save`, `load`."""

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = float(k1), float(b)
        self.n_docs = 0
        self.vocab: dict[str, int] = {}
        self.terms: list[str] = []
        self._tf = np.zeros(0, dtype=np.uint16)
        self.idf = np.zeros(0, dtype=np.float32)
        self._ptr = np.zeros(1, dtype=np.int64)      # postings of term t: [ptr[t], ptr[t+1])
        self._docs = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)

    def index(self, corpus_tokens: list[list[str]]) -> "BM25":
        """Build the postings with array operations: one (term, doc) key per token, counted by np.unique."""
        n = len(corpus_tokens)
        ids: dict[str, int] = {}
        flat = np.fromiter((ids.setdefault(t, len(ids)) for toks in corpus_tokens for t in toks), dtype=np.int64)
        lengths = np.fromiter(map(len, corpus_tokens), dtype=np.int64, count=n)
        return self._postings(list(ids), flat, np.repeat(np.arange(n, dtype=np.int64), lengths),
                              np.ones(len(flat), np.int64), n)

    def merged(self, keep: np.ndarray, fresh: dict[int, list[str]], n: int) -> "BM25":
        """A new BM25 over n documents: document i of this one becomes keep[i] (dropped when -1),
        and the documents in `fresh` (new id -> tokens) are added; the statistics are recomputed.
        So a rebuild tokenizes only what changed. `keep` must keep the kept documents in their
        order (a rebuild's does): the kept postings stay sorted by (term, document), the few new
        ones are inserted where they belong, and no table of every posting is sorted again."""
        keep = np.asarray(keep, dtype=np.int64)
        kept = keep[keep >= 0]
        if len(kept) > 1 and (np.diff(kept) <= 0).any():
            raise ValueError("bm25: merged() needs the kept documents in their order")
        new_terms = sorted({t for toks in fresh.values() for t in toks} - set(self.vocab))
        terms = sorted(self.terms + new_terms)
        at = {t: i for i, t in enumerate(terms)}
        old_to_new = np.fromiter((at[t] for t in self.terms), dtype=np.int64, count=len(self.terms))
        docs = np.asarray(keep.astype(np.int32)[np.asarray(self._docs)] if len(self._docs) else self._docs, np.int32)
        alive = docs >= 0
        term = np.repeat(old_to_new.astype(np.int32), np.diff(self._ptr))[alive]
        docs = docs[alive]
        tf = np.asarray(self._tf)[alive].astype(np.int64)
        del alive
        triples = sorted((at[t], d, c) for d, toks in fresh.items() for t, c in Counter(toks).items())
        if triples:
            ft, fd, fc = (np.array(x, dtype=np.int64) for x in zip(*triples))
            width = max(n, 1)
            where = np.searchsorted(term.astype(np.int64) * width + docs, ft * width + fd)
            term, docs, tf = np.insert(term, where, ft), np.insert(docs, where, fd), np.insert(tf, where, fc)
        out = BM25(self.k1, self.b)
        used = np.bincount(term, minlength=len(terms)) if len(term) else np.zeros(len(terms), np.int64)
        present = np.flatnonzero(used)                      # a term only dropped documents had goes
        out.n_docs, out.terms = n, [terms[i] for i in present]
        out.vocab = {t: i for i, t in enumerate(out.terms)}
        out._ptr = np.concatenate([[0], np.cumsum(used[present])]).astype(np.int64)
        return out._counted(docs, tf)

    def _postings(self, names: list[str], term: np.ndarray, doc: np.ndarray, count: np.ndarray, n: int) -> "BM25":
        """Postings from (term id into `names`, doc, count) triples (a pair may repeat: counts add up)."""
        self.n_docs = n
        used = np.unique(term) if len(term) else np.zeros(0, np.int64)
        order = sorted(range(len(used)), key=lambda i: names[used[i]])
        self.terms = [names[used[i]] for i in order]
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        renumber = np.zeros(len(names), dtype=np.int64)
        renumber[used[order]] = np.arange(len(used))
        keys, inverse = np.unique(renumber[term] * max(n, 1) + doc, return_inverse=True)
        tfs = np.bincount(inverse.ravel(), weights=count, minlength=len(keys)).astype(np.int64)
        docs = keys % max(n, 1)
        sizes = np.bincount(keys // max(n, 1), minlength=len(self.terms)).astype(np.int64)
        self._ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return self._counted(docs, tfs)

    def _counted(self, docs: np.ndarray, tfs: np.ndarray) -> "BM25":
        """Store the postings' documents and counts (`_ptr` set) and weigh them."""
        self._docs = docs.astype(np.int32)
        if tfs.size and tfs.max() > np.iinfo(np.uint16).max:
            raise ValueError("bm25: a term occurs more than 65,535 times in one chunk")
        self._tf = tfs.astype(np.uint16)
        self._weigh()
        return self

    def _weigh(self) -> None:
        """idf and each posting's term weight from the counts (what a search adds up):
        tf * (k1 + 1) / (k1 * (1 - b + b * length / avgdl) + tf) * idf, worked out in place."""
        n, docs, tfs = self.n_docs, np.asarray(self._docs), np.asarray(self._tf, dtype=np.float64)
        sizes = np.diff(self._ptr)
        lengths = np.bincount(docs, weights=tfs, minlength=n) if n else np.zeros(0)
        avgdl = lengths.mean() if n and lengths.mean() > 0 else 1.0
        self.idf = np.log((n + 1) / np.maximum(sizes, 1)).astype(np.float32)
        norm = lengths[docs] if len(docs) else np.zeros(0)
        np.multiply(self.b, norm, out=norm)
        np.divide(norm, avgdl, out=norm)
        np.add(1 - self.b, norm, out=norm)
        np.multiply(self.k1, norm, out=norm)
        np.add(norm, tfs, out=norm)
        np.multiply(tfs, self.k1 + 1, out=tfs)
        np.divide(tfs, norm, out=tfs)
        del norm
        np.multiply(tfs, np.repeat(self.idf.astype(np.float64), sizes), out=tfs)
        self._weights = tfs.astype(np.float32)

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for the query (repeated query terms count again)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in query_tokens:
            t = self.vocab.get(term)
            if t is not None:
                lo, hi = self._ptr[t], self._ptr[t + 1]
                np.add.at(out, self._docs[lo:hi], self._weights[lo:hi])
        return out

    def search(self, query_tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (doc, score) with a positive score, best first; ties by doc order. With `mask`,
        only the documents it marks True compete (a filter inside the retriever)."""
        if self.n_docs == 0 or k <= 0:
            return []
        s = self.scores(query_tokens)
        if mask is not None:
            s[~mask] = 0.0
        hit = np.flatnonzero(s > 0)
        if hit.size == 0:
            return []
        if k < hit.size:        # keep every doc tied with the k-th: argpartition picks any of them
            hit = hit[s[hit] >= -np.partition(-s[hit], k - 1)[k - 1]]
        top = hit[np.lexsort((hit, -s[hit]))][:k]
        return [(int(d), float(s[d])) for d in top]

    def to_files(self) -> tuple[bytes, np.ndarray]:
        """What the index stores: the parameters and terms (JSON), and the postings (chunk, count,
        weight: a search adds up stored weights, so a loaded index computes nothing)."""
        head = {"k1": self.k1, "b": self.b, "n_docs": self.n_docs, "terms": self.terms, "ptr": self._ptr.tolist()}
        postings = np.empty(len(self._docs), dtype=POSTING)
        postings["doc"], postings["tf"], postings["w"] = self._docs, self._tf, self._weights
        return json.dumps(head, ensure_ascii=False).encode("utf-8"), postings

    @classmethod
    def from_files(cls, head: bytes, postings: np.ndarray) -> "BM25":
        """What `to_files` wrote (the postings may be memory-mapped); ValueError when they disagree."""
        h = json.loads(head)
        out = cls(h["k1"], h["b"])
        out.n_docs, out.terms = int(h["n_docs"]), list(h["terms"])
        out.vocab = {t: i for i, t in enumerate(out.terms)}
        out._ptr = np.asarray(h["ptr"], dtype=np.int64)
        if postings.dtype != POSTING or len(out._ptr) != len(out.terms) + 1 or out._ptr[-1] != len(postings):
            raise ValueError("bm25: the postings do not match the terms")
        out._docs, out._tf, out._weights = postings["doc"], postings["tf"], postings["w"]
        out.idf = np.log((out.n_docs + 1) / np.maximum(np.diff(out._ptr), 1)).astype(np.float32)
        return out
