"""The index's tables in compact form: sentences, windows (chunks) and int8 sentence vectors.

A news archive has about one window per sentence; held as Python objects (a `Chunk` with its
own copy of its text, a tuple and a dict entry per sentence, a float32 vector per sentence),
they cost several times the text. Here each is a numpy array (memory-mapped from the index
files when loaded), and the records the answerer reads are made when asked for:
- `Sentences`: rows of (article, start, end), sorted by article then start; `row(span)` finds
  a sentence's row by binary search within its article;
- `Chunks`: a window is a run of consecutive sentence rows (first row, count); `chunks[i]` is
  the `Chunk` record, its text sliced from the article's;
- `Codes`: unit vectors stored as int8 with one float32 scale per row (symmetric, per row:
  the largest component maps to 127); `codes[i]` gives float32. The rounding error of a cosine
  is about 1e-3 (`qa eval` measures what it changes).
Left out: anything that needs the whole table as objects at once.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..types import Chunk, Location


class Sentences(Sequence):
    """Sentence rows: `table[i]` is (doc_id, start, end); `row((doc_id, start, end))` its row."""

    def __init__(self, doc_ids: list[str], rows: np.ndarray):
        self.doc_ids = doc_ids                    # article index -> doc_id
        self.rows = rows                          # int32 [n, 3]: article index, start, end
        self._span: dict[str, tuple[int, int]] = {}
        if len(rows):
            docs = np.asarray(rows[:, 0])
            cut = np.flatnonzero(np.diff(docs)) + 1
            for lo, hi in zip(np.concatenate([[0], cut]), np.concatenate([cut, [len(docs)]])):
                self._span[doc_ids[int(docs[lo])]] = (int(lo), int(hi))

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        d, s, e = self.rows[i]
        return self.doc_ids[int(d)], int(s), int(e)

    def row(self, span: tuple[str, int, int]) -> int:
        """The row of a sentence; KeyError when the index has no such sentence."""
        doc_id, s, e = span
        lo, hi = self._span.get(doc_id, (0, 0))
        i = lo + int(np.searchsorted(self.rows[lo:hi, 1], s))
        if i < hi and self.rows[i, 1] == s and self.rows[i, 2] == e:
            return i
        raise KeyError(span)

    def runs(self) -> list[tuple[int, int, str]]:
        """(first row, end row, doc_id) of each article's sentences, in row order."""
        return sorted((lo, hi, d) for d, (lo, hi) in self._span.items())

    def of(self, doc_id: str) -> range:
        """The rows of one article's sentences."""
        return range(*self._span.get(doc_id, (0, 0)))


class Chunks(Sequence):
    """Windows of consecutive sentences: `chunks[i]` is the `Chunk` record (made when asked for)."""

    def __init__(self, sentences: Sentences, runs: np.ndarray, texts: dict[str, str],
                 also_in: dict[int, tuple[Location, ...]] | None = None):
        self.sentences = sentences
        self.runs = runs                          # int32 [n, 2]: first sentence row, sentence count
        self.texts = texts                        # doc_id -> article text
        self.also_in = also_in or {}
        self.doc_index = (np.asarray(sentences.rows[np.asarray(runs[:, 0]), 0], dtype=np.int32)
                          if len(runs) else np.zeros(0, np.int32))   # chunk -> article index

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        doc_id, s, e, rows = self._span(i)
        return Chunk(chunk_id=i, doc_id=doc_id, start=s, end=e, text=self.texts[doc_id][s:e],
                     sentences=tuple((int(a), int(b)) for _, a, b in rows), also_in=self.also_in.get(i, ()))

    def _span(self, i: int) -> tuple[str, int, int, np.ndarray]:
        first, n = (int(x) for x in self.runs[i])
        rows = self.sentences.rows[first:first + n]
        return self.sentences.doc_ids[int(rows[0, 0])], int(rows[0, 1]), int(rows[-1, 2]), rows

    def text(self, i: int) -> str:
        """Window i's text, cut from its article (no record made)."""
        doc_id, s, e, _ = self._span(i)
        return self.texts[doc_id][s:e]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __eq__(self, other) -> bool:          # the same records, whatever holds them
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None

    def doc_id(self, i: int) -> str:
        return self.sentences.doc_ids[int(self.doc_index[i])]


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes, float32 scale per row) of float vectors: row = codes * scale."""
    v = np.asarray(vectors, dtype=np.float32)
    scale = np.abs(v).max(axis=1) / 127.0 if len(v) else np.zeros(0, np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    return np.clip(np.rint(v / scale[:, None]), -127, 127).astype(np.int8), scale


class Codes:
    """int8 rows with a scale each; indexing gives float32 (`codes[i]`, `codes[[i, j]]`)."""

    def __init__(self, codes: np.ndarray, scale: np.ndarray):
        self.codes, self.scale = codes, scale

    @classmethod
    def of(cls, vectors: np.ndarray) -> "Codes":
        return cls(*quantize(vectors))

    @property
    def shape(self) -> tuple[int, ...]:
        return self.codes.shape

    @property
    def ndim(self) -> int:
        return self.codes.ndim

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, i) -> np.ndarray:
        out = np.array(self.codes[i], dtype=np.float32)          # a new array, scaled in place
        out *= self.scale[i, None] if np.ndim(self.scale[i]) else self.scale[i]
        return out

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def dot(self, v: np.ndarray, block: int = 16_384) -> np.ndarray:
        """Every row's inner product with `v` (float32 [n]), a block of rows at a time."""
        out = np.zeros(len(self), np.float32)
        for lo in range(0, len(self), block):
            out[lo:lo + block] = (np.asarray(self.codes[lo:lo + block], dtype=np.float32) @ v) * self.scale[lo:lo + block]
        return out
