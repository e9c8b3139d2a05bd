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
from pathlib import Path

import numpy as np


class BM25:
    """BM25 over pre-tokenized documents with `index`, `search`, `save`, `load`."""

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        self.k1, self.b = float(k1), float(b)
        self.n_docs = 0
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0, dtype=np.float32)
        self._ptr = np.zeros(1, dtype=np.int64)      # postings of term t: [ptr[t], ptr[t+1])
        self._docs = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)

    def index(self, corpus_tokens: list[list[str]]) -> "BM25":
        """Build the postings with array operations: one (term, doc) key per token, counted by np.unique."""
        self.n_docs = n = len(corpus_tokens)
        if n == 0:
            return self
        ids: dict[str, int] = {}
        flat = np.fromiter((ids.setdefault(t, len(ids)) for toks in corpus_tokens for t in toks), dtype=np.int64)
        lengths = np.fromiter(map(len, corpus_tokens), dtype=np.int64, count=n)
        terms = sorted(ids)
        self.vocab = {t: i for i, t in enumerate(terms)}
        renumber = np.empty(len(terms), dtype=np.int64)
        renumber[np.fromiter((ids[t] for t in terms), dtype=np.int64, count=len(terms))] = np.arange(len(terms))
        keys, tfs = np.unique(renumber[flat] * n + np.repeat(np.arange(n, dtype=np.int64), lengths),
                              return_counts=True)      # sorted by term, then doc: the postings in order
        docs = keys % n
        sizes = np.bincount(keys // n, minlength=len(terms))
        self._ptr = np.concatenate([[0], np.cumsum(sizes)])
        avgdl = lengths.mean() or 1.0
        self.idf = np.log((n + 1) / np.maximum(sizes, 1)).astype(np.float32)
        norm = self.k1 * (1 - self.b + self.b * lengths[docs] / avgdl)
        tw = tfs * (self.k1 + 1) / (norm + tfs)
        self._docs = docs.astype(np.int32)
        self._weights = (tw * np.repeat(self.idf.astype(np.float64), sizes)).astype(np.float32)
        return self

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

    def to_bytes(self, corpus_tokens: list[list[str]]) -> bytes:
        """The parameters, then the tokens (one JSON list a line); postings are rebuilt on load."""
        head = json.dumps({"k1": self.k1, "b": self.b, "n_docs": self.n_docs}) + "\n"
        return (head + "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in corpus_tokens)).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> tuple["BM25", list[list[str]]]:
        """What `to_bytes` wrote: (BM25, tokens); ValueError when the token lists are not all there."""
        lines = [x for x in data.decode("utf-8").split("\n") if x]   # not splitlines(): U+2028 in a token
        head = json.loads(lines[0]) if lines else {}
        tokens = [json.loads(line) for line in lines[1:]]
        if not isinstance(head, dict) or len(tokens) != head.get("n_docs"):
            raise ValueError(f"bm25: expected {head.get('n_docs') if isinstance(head, dict) else '?'} token lists, "
                             f"found {len(tokens)}")
        return cls(head["k1"], head["b"]).index(tokens), tokens

