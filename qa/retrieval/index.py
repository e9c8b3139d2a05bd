"""The index a search runs over: articles, windows (chunks), BM25, faiss, sentences and their vectors.

`qa.store` builds, persists and loads it; `search.py` and the answerer read it.
Duplicate scrapes are kept as articles (citable as "also in") but have no chunks.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from ..config import Settings
from ..ingest.align import Aligner
from ..types import Article
from .backend import EMBEDDED, Backend
from .dense import DenseIndex
from .lexical import BM25
from .tables import Chunks, Codes, Sentences


class Index:
    """A loaded index: articles, windows, BM25, faiss, sentences and their vectors (`tables.py`)."""

    def __init__(self, articles, chunks: Chunks, bm25, dense_index, sentences: Sentences, sentence_vectors: Codes,
                 settings: Settings, manifest: dict, seeds_dir: Path):
        self.articles: dict[str, Article] = {a.doc_id: a for a in articles}
        self.chunks: Chunks = chunks                  # chunks[i] is a `Chunk` record
        self.bm25: BM25 = bm25
        self.dense: DenseIndex = dense_index
        self.sentence_spans: Sentences = sentences   # [row] -> (doc_id, start, end); .row(span) -> row
        self.sentence_vectors: Codes = sentence_vectors                # [row] -> float32 unit vector
        self.window_vectors: Codes | None = None                       # [chunk] -> float32, when stored
        self.settings = settings
        self.manifest = manifest
        self.seeds_dir = Path(seeds_dir)
        self.text_keys: list[str] | None = None  # sha256 of each sentence's text, when known
        self.cleaning: tuple | None = None        # the articles' line keys and bands (`ingest/known.py`), when stored
        self.write_error: str | None = None     # set when a rebuild could not be written and this one serves
        self.backend: Backend = EMBEDDED        # where passages are searched (`backend.py`)
        self.masks: dict = {}                   # filter -> chunk mask, the last few (`filters.chunk_mask`)
        self._aligners: dict[str, Aligner] = {}

    @cached_property
    def newest_date(self) -> str | None:
        """The latest publication date of the articles (what relative date phrases are read against)."""
        return max((a.date for a in self.articles.values() if a.date), default=None)

    def aligner(self, doc_id: str) -> Aligner:
        """Word alignment of an article with its duplicate scrapes (cached)."""
        if doc_id not in self._aligners:
            dups = [a for a in self.articles.values() if a.duplicate_of == doc_id]
            self._aligners[doc_id] = Aligner(self.articles[doc_id], dups)
        return self._aligners[doc_id]
