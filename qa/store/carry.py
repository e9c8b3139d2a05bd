"""A build's tables as arrays: an unchanged article's sentences, windows and vectors carried over
from the previous generation by row, the other articles' made from their new `Chunk` records.

A rebuild after one story was added used to take every stored window back as a `Chunk` record
(its text copied, its sentences as tuples), renumber it, and turn all of them into arrays again:
at 10,000 stories some 360 MB and seconds for one story. Here a kept article is a slice of the
stored sentence rows and window runs, renumbered with numpy, and its vectors are copied as the
stored int8 rows; only the changed articles' windows are records. What comes out is what a
fresh build of the same folder gives: sentence rows sorted by article then start, windows in
article order and, inside an article, in the order they were cut.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ingest.align import Aligner
from ..retrieval.tables import Codes, Sentences
from ..types import Article
from .reuse import Previous


@dataclass
class Layout:
    sentences: Sentences
    runs: np.ndarray                  # int32 [windows, 2]: first sentence row, sentence count
    also_in: dict                     # window id -> where it also stands (duplicate scrapes)
    sentence_from: np.ndarray         # int64 [sentences]: its row in the previous index, -1 when new
    window_from: np.ndarray           # int64 [windows]: its id in the previous index, -1 when new
    rechunked: int                    # articles split into sentences again


def layout(canon: list[Article], articles: list[Article], old: Previous, engine,
           copies: dict[str, list[Article]]) -> Layout:
    """The sentence and window tables of `canon` (the articles that are not duplicates), in order."""
    at = {a.doc_id: i for i, a in enumerate(articles)}
    kept = {a.doc_id: w for a in canon if (w := old.windows(a)) is not None}
    fresh = [a for a in canon if a.doc_id not in kept]
    made = dict(zip((a.doc_id for a in fresh), engine.chunk(fresh)))
    rows, runs, s_from, w_from = [], [], [], []
    n = 0
    if kept:
        prev_rows, prev_runs = old.index.sentence_spans.rows, old.index.chunks.runs
    for a in canon:
        if a.doc_id in kept:
            w = kept[a.doc_id]
            mine = np.asarray(prev_runs[w], dtype=np.int64)
            lo = int(mine[:, 0].min())
            hi = int((mine[:, 0] + mine[:, 1]).max())
            block = np.array(prev_rows[lo:hi], dtype=np.int32)
            block[:, 0] = at[a.doc_id]
            mine[:, 0] += n - lo
            s_from.append(np.arange(lo, hi, dtype=np.int64))
            w_from.append(np.asarray(w, dtype=np.int64))
        else:
            chunks = made[a.doc_id]
            spans = sorted({sp for c in chunks for sp in c.sentences})
            pos = {sp: n + i for i, sp in enumerate(spans)}
            block = np.array([(at[a.doc_id], s, e) for s, e in spans], dtype=np.int32).reshape(-1, 3)
            mine = np.array([(pos[c.sentences[0]], len(c.sentences)) for c in chunks], dtype=np.int64).reshape(-1, 2)
            s_from.append(np.full(len(spans), -1, dtype=np.int64))
            w_from.append(np.full(len(chunks), -1, dtype=np.int64))
        rows.append(block)
        runs.append(mine)
        n += len(block)
    doc_ids = [a.doc_id for a in articles]
    sentences = Sentences(doc_ids, np.concatenate(rows) if rows else np.zeros((0, 3), np.int32))
    run_table = (np.concatenate(runs) if runs else np.zeros((0, 2), np.int64)).astype(np.int32)
    also, first = {}, 0
    for a, mine in zip(canon, runs):
        dups = copies.get(a.doc_id)
        if dups:
            aligner = Aligner(a, dups)
            for j, (f, k) in enumerate(mine.tolist()):
                locs = aligner.locate(int(sentences.rows[f, 1]), int(sentences.rows[f + k - 1, 2]))
                if locs:
                    also[first + j] = locs
        first += len(mine)
    return Layout(sentences, run_table, also,
                  np.concatenate(s_from) if s_from else np.zeros(0, np.int64),
                  np.concatenate(w_from) if w_from else np.zeros(0, np.int64), len(fresh))


def vectors(stored: Codes | None, came_from: np.ndarray, new_texts, encode, dim: int) -> tuple[Codes, int]:
    """int8 vectors for rows that were `stored` rows before (`came_from`, -1 for a new row, whose
    text `new_texts(rows)` gives and `encode(texts)` turns into codes); and how many were carried."""
    carried = np.flatnonzero(came_from >= 0)
    new = np.flatnonzero(came_from < 0)
    made = encode(new_texts(new))
    out = Codes(np.zeros((len(came_from), dim), np.int8), np.zeros(len(came_from), np.float32))
    if len(carried):
        src = came_from[carried]
        out.codes[carried] = stored.codes[src]
        out.scale[carried] = stored.scale[src]
    if len(new):
        out.codes[new], out.scale[new] = made.codes, made.scale
    return out, len(carried)

