"""A question-answering pipeline over one folder of articles, and the default one.

`Pipeline(seeds_dir, index_dir)` opens (or builds) the index lazily on first
use; the module-level `qa.retrieve`, `qa.ask` and `qa.verify` use one default
pipeline over `seeds/` and `index/` (or $QA_SEEDS and $QA_INDEX).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from . import store
from .config import DEFAULT, Settings, default_index_dir, default_seeds_dir
from .retrieval.backend import configured
from .retrieval.filters import make_filter
from .retrieval.index import Index
from .retrieval.search import check_question, search
from .types import Answer, Hit


class Pipeline:
    def __init__(self, seeds_dir: Path | str | None = None, index_dir: Path | str | None = None,
                 settings: Settings = DEFAULT, progress: bool = False, backend: str | None = None,
                 engine=None):
        self.seeds_dir = Path(seeds_dir) if seeds_dir else default_seeds_dir()
        self.index_dir = Path(index_dir) if index_dir else default_index_dir()
        self.settings = settings
        self.progress = progress
        self._index = None
        self._seen: dict | None = None         # the folder as it looked when the index was opened
        self._looked = 0.0
        self._lock = threading.Lock()
        self.backend_name = backend            # None: $QA_BACKEND, else the embedded default
        self._backend = None
        self.engine = engine                   # what chunks and encodes a build (None: this process)
        self.synced: dict | None = None        # what the last sync of the backend's copy did

    @property
    def index(self) -> Index:
        """The loaded index; built on first use if missing, stale or corrupt."""
        with self._lock:
            if self._index is None:
                self._open()
            return self._index

    def refresh(self) -> Index:
        """Re-check the sources and reload or rebuild (incrementally) when they changed."""
        with self._lock:
            return self._open()

    def follow(self, every_s: float = 2.0) -> str | None:
        """Keep up with the folder: when its files changed since the index was opened (a cheap
        look at names, sizes and times, at most once per `every_s` seconds), update the index
        and say what changed; None when nothing did, or when the update could not be written
        (the index as it was serves, `index.write_error` says why, and it is tried again a
        minute later)."""
        with self._lock:
            if self._index is None:
                self._open()
                return None
            now = time.monotonic()
            if now - self._looked < every_s:
                return None
            self._looked = now
            seen = store.folder_signature(self.seeds_dir, self.settings)
            if seen == self._seen:
                return None
            before = self._index.manifest
            self._open()
            if self._index.manifest.get("generation") == before.get("generation"):
                if self._index.write_error is None:
                    self._seen = seen          # touched, same bytes
                else:                          # could not be written: try again in a minute, not at once
                    self._looked = now + 60.0
                return None
            return store.source_changes(before.get("sources", {}), self._index.manifest.get("sources", {}))

    def rebuild(self) -> Index:
        """Build the index from scratch (`qa index --force`), then bring the backend's copy in step."""
        with self._lock:
            return self._open(store.build(self.seeds_dir, self.index_dir, self.settings, self.progress,
                                          engine=self.engine))

    def _attach(self, index: Index) -> Index:
        """`index`, searched by the configured backend, whose copy is synced to it when it is new."""
        if self._backend is None:
            self._backend = configured(self.index_dir, self.settings, self.backend_name)
        if index.backend is not self._backend:   # a new generation: the backend's copy follows it
            self.synced = self._backend.sync(index)
            index.backend = self._backend
        return index

    def _open(self, built: Index | None = None) -> Index:
        self._index = self._attach(built or store.open_index(self.seeds_dir, self.index_dir, self.settings,
                                                             self.progress, self._index, self.engine))
        # the folder as the index saw it (taken before reading, so a change during a build shows)
        seen = self._index.manifest.get("source_stats")
        self._seen = seen if seen is not None else store.folder_signature(self.seeds_dir, self.settings)
        self._looked = time.monotonic()
        return self._index

    def retrieve(self, question: str, k: int = 5, mode: str = "hybrid", since=None, until=None,
                 outlets=None) -> list[Hit]:
        """The k best passages; `since`/`until` (YYYY-MM-DD, inclusive) and `outlets` filter by the
        articles' publication date and outlet inside the retrievers."""
        check_question(question, self.settings.max_question_chars)
        return search(self.index, question, k, mode, where=make_filter(since, until, outlets))

    def ask(self, question: str, k: int = 8, mode: str = "hybrid", since=None, until=None,
            outlets=None) -> Answer:
        from .answering.answer import answer
        where = make_filter(since, until, outlets)
        return answer(self.index, question, k=k, mode=mode, where=where)

    def verify(self, answer: Answer) -> list[str]:
        from .answering.cite import verify
        return verify(answer, self.seeds_dir, self.index)


_DEFAULT: Pipeline | None = None
_DEFAULT_LOCK = threading.Lock()


def default() -> Pipeline:
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Pipeline()
        return _DEFAULT


def retrieve(question: str, k: int = 5, mode: str = "hybrid", since=None, until=None, outlets=None) -> list[Hit]:
    """The k best passages for `question` from the default index, best first (optionally only
    from articles published since/until a date, YYYY-MM-DD, or by the given outlets)."""
    return default().retrieve(question, k, mode, since, until, outlets)


def ask(question: str, k: int = 8, mode: str = "hybrid", since=None, until=None, outlets=None) -> Answer:
    """A cited, extractive answer from the default index (abstains when the articles do not say)."""
    return default().ask(question, k, mode, since, until, outlets)


def verify(answer: Answer) -> list[str]:
    """Problems with the answer's citations; [] when every citation holds."""
    return default().verify(answer)
