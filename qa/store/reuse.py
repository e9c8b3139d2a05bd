"""What a rebuild takes from the previous generation of the index, so that adding, changing or
removing one article costs about that article.

- sources: a file whose bytes hash as before is not read again (a web page is not
  extracted again); its articles come back from the stored texts and metadata;
- chunks: an article whose text and cleaned body are as before keeps its sentences and
  windows (no sentence splitting); only their ids are renumbered;
- tokens: a chunk text seen before keeps its BM25 tokens (the statistics are recomputed);
- vectors: every sentence is looked up by the sha256 of its text, and only the sentences never
  encoded are sent to the model (a window's vector is pooled from its sentences').
Only a generation built with the same format and index settings is used; anything else
(or no previous index) means a full build.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import Settings
from ..ingest.formats import Source
from ..ingest.read import file_key, sha256_text
from ..retrieval.index import Index
from ..types import Chunk
from . import model


class Previous:
    """The reusable parts of a loaded earlier index (or nothing, when `index` is None)."""

    def __init__(self, index: Index | None, settings: Settings):
        ok = index is not None and model.incompatible(index.manifest, settings) is None
        self.index = index if ok else None
        self.encoded = self.reused = 0
        self.keys: list[str] | None = None     # of the texts given to `embed`

    def sources(self, hashes: dict[str, str], folder: Path) -> dict[str, tuple[list[Source], list[str]]]:
        """File key -> (its articles, its warnings) for every file whose bytes are unchanged."""
        if self.index is None:
            return {}
        old = self.index.manifest.get("sources", {})
        same = {name for name, h in hashes.items() if old.get(name) == h and h != "unreadable"}
        out: dict[str, tuple[list[Source], list[str]]] = {name: ([], []) for name in same}
        for a in self.index.articles.values():
            name = file_key(folder, Path(a.path))
            if name in out:
                out[name][0].append(Source(a.doc_id, a.path, a.text, a.title, a.date, a.outlet, a.author,
                                           a.url, a.extractor, a.record))
        for line in self.index.manifest.get("skipped", []):
            name = next((n for n in same if line.startswith((f"skipped {Path(n).name}:", f"skipped {Path(n).name} "))),
                        None)
            if name:
                out[name][1].append(line)
        return out

    def chunks(self, article, first_id: int) -> list[Chunk] | None:
        """The article's windows from before, renumbered from `first_id`, or None when it changed."""
        if self.index is None:
            return None
        old = self.index.articles.get(article.doc_id)
        if old is None or old.sha256 != article.sha256 or old.body != article.body:
            return None
        mine = self._by_doc().get(article.doc_id)
        if not mine:
            return None
        return [replace(c, chunk_id=first_id + i, also_in=()) for i, c in enumerate(mine)]

    def _by_doc(self) -> dict[str, list[Chunk]]:
        if not hasattr(self, "_docs"):
            self._docs: dict[str, list[Chunk]] = {}
            for c in self.index.chunks:
                self._docs.setdefault(c.doc_id, []).append(c)
        return self._docs

    def tokens(self) -> dict[str, list[str]]:
        """Chunk text -> its tokens, from before."""
        if self.index is None or self.index.tokens is None:
            return {}
        return {c.text: t for c, t in zip(self.index.chunks, self.index.tokens)}

    def embed(self, texts: list[str], encode) -> np.ndarray:
        """Vectors of `texts`: from before where the same text was encoded, `encode(rest)` for the rest."""
        known: dict[str, np.ndarray] = {}
        if self.index is not None:
            ix = self.index
            vecs = ix.sentence_vectors
            if ix.text_keys is None or len(ix.text_keys) != len(vecs):
                ix.text_keys = [sha256_text(ix.articles[d].text[s:e]) for d, s, e in ix.sentence_spans]
            known = dict(zip(ix.text_keys, vecs))
        keys = self.keys = [sha256_text(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            first = {k: t for t, k in zip(texts, keys)}
            for k, v in zip(missing, encode([first[k] for k in missing])):
                known[k] = v
        self.encoded, self.reused = len(missing), len(set(keys)) - len(missing)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([known[k] for k in keys]).astype(np.float32)
