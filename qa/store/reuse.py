"""What a rebuild takes from the previous generation of the index, so that adding, changing or
removing one article costs about that article.

- sources: a file whose bytes hash as before is not read again (a web page is not
  extracted again); its articles come back from the stored texts and metadata;
- cleaning: a text cleaned before is not looked at on its own again (its line keys and
  duplicate bands are stored), and an unchanged article keeps its cleaned body unless the
  lines of it that other stories repeat, or its duplicate group, changed;
- windows: an article whose text and cleaned body are as before keeps its sentences and
  windows (no sentence splitting), carried over as rows of the stored tables (`carry.py`);
- BM25: a window seen before keeps its postings; only new windows are tokenized (the
  statistics are recomputed);
- vectors: every sentence (and window, when windows are encoded) is looked up by the sha256 of
  its text, and only the texts never encoded are sent to the model.
Only a generation built with the same format and index settings is used; anything else
(or no previous index) means a full build.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Settings
from ..ingest.formats import Source
from ..ingest.read import Before, file_key, sha256_text
from ..retrieval.index import Index
from ..retrieval.lexical import BM25
from ..retrieval.tables import Chunks
from ..text import tokenize
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

    def cleaning(self) -> Before | None:
        """What cleaning worked out for the previous index's articles, when it stored that."""
        if self.index is None or self.index.cleaning is None:
            return None
        return Before(list(self.index.articles.values()), *self.index.cleaning)

    def windows(self, article) -> np.ndarray | None:
        """The previous index's window ids of the article (in order), or None when its text or
        cleaned body changed (or it had none): then it is split into sentences again."""
        if self.index is None:
            return None
        old = self.index.articles.get(article.doc_id)
        if old is None or old.sha256 != article.sha256 or old.body != article.body:
            return None
        if not hasattr(self, "_docs"):
            table = self.index.chunks
            order = np.argsort(table.doc_index, kind="stable")
            cut = np.flatnonzero(np.diff(table.doc_index[order])) + 1
            self._docs = {table.doc_id(int(ids[0])): ids for ids in (np.split(order, cut) if len(order) else ())}
        mine = self._docs.get(article.doc_id)
        return mine if mine is not None and len(mine) else None

    def bm25(self, table: Chunks, window_from: np.ndarray, settings: Settings) -> BM25:
        """BM25 over the new windows: a window carried over from the previous index (`window_from`,
        -1 for a new one) keeps its postings; only the new ones are tokenized (the statistics
        are recomputed)."""
        new = np.flatnonzero(window_from < 0)
        fresh = {int(i): tokenize(table.text(int(i))) for i in new}
        if self.index is None:
            return BM25(settings.bm25_k1, settings.bm25_b).index([fresh[i] for i in range(len(table))])
        keep = np.full(len(self.index.chunks), -1, dtype=np.int64)
        carried = np.flatnonzero(window_from >= 0)
        keep[window_from[carried]] = carried
        return self.index.bm25.merged(keep, fresh, len(table))

    def embed(self, texts: list[str], encode, dim: int, kind: str = "sentences") -> np.ndarray:
        """Vectors of `texts` (float32 [n, dim]) of one kind ("sentences" or "windows"): from
        before where the same text of that kind was encoded, `encode(rest)` for the rest. Called on
        a build's texts a slice at a time; `keys`, `encoded` and `reused` add up over the calls."""
        known, stored = self._known(kind)
        keys = [sha256_text(t) for t in texts]
        if kind == "sentences":
            self.keys = self.keys if self.keys is not None else []
            self.keys.extend(keys)
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if missing:
            first = {k: t for t, k in zip(texts, keys)}
            fresh = dict(zip(missing, range(len(missing))))
            new = np.asarray(encode([first[k] for k in missing]), dtype=np.float32)
            at = [i for i, k in enumerate(keys) if k in fresh]
            out[at] = new[[fresh[keys[i]] for i in at]]
        at = [i for i, k in enumerate(keys) if k in known]
        if at:
            out[at] = stored[np.array([known[keys[i]] for i in at])]
        self.encoded += len(missing)
        self.reused += len(set(keys)) - len(missing)
        return out

    def _known(self, kind: str) -> tuple[dict[str, int], object]:
        """sha256 of a text of that kind -> its row in the previous index, and those vectors
        (worked out once per kind)."""
        if not hasattr(self, "_rows"):
            self._rows: dict[str, tuple[dict[str, int], object]] = {}
        if kind not in self._rows:
            ix, rows, stored = self.index, {}, None
            if ix is not None and kind == "sentences":
                if ix.text_keys is None or len(ix.text_keys) != len(ix.sentence_vectors):
                    ix.text_keys = [sha256_text(ix.articles[d].text[s:e]) for d, s, e in ix.sentence_spans]
                rows, stored = {k: i for i, k in enumerate(ix.text_keys)}, ix.sentence_vectors
            elif ix is not None and ix.window_vectors is not None:
                rows = {sha256_text(ix.chunks.text(i)): i for i in range(len(ix.chunks))}
                stored = ix.window_vectors
            self._rows[kind] = (rows, stored)
        return self._rows[kind]

