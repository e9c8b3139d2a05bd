"""A question-answering pipeline over one folder of articles, and the default one.

`Pipeline(seeds_dir, index_dir)` opens (or builds) the index lazily on first
use; the module-level `qa.retrieve`, `qa.ask` and `qa.verify` use one default
pipeline over `seeds/` and `index/` (or $QA_SEEDS and $QA_INDEX).
`Pipeline.update_in_background` indexes what changed in a worker thread while questions
are answered from the index as it was (the chat's uploads): questions go first.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from . import store
from .config import DEFAULT, Settings, default_index_dir, default_seeds_dir
from .retrieval.backend import configured
from .retrieval.filters import as_day, make_filter, read_dates
from .retrieval.index import Index
from .retrieval.search import check_question, search
from .store.distributed import InProcess
from .types import Answer, Hit, Stories

log = logging.getLogger("qa")
PAUSE_S = 2.0            # a background update waits at most this long for a question before each step


class Update:
    """An index update running in a worker thread (`Pipeline.update_in_background`)."""

    def __init__(self):
        self.started = time.monotonic()
        self.done = threading.Event()
        self.seconds: float | None = None     # once done: how long it took
        self.changes: str | None = None       # once done: the files added, removed and changed, in words
        self.error: str | None = None         # once done: why the new articles are not in, if they are not


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
        self.update: Update | None = None      # the last background update
        self._asking = 0                       # questions being answered now
        self._turn = threading.Condition()

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
            if self.updating:                  # the update in the background takes the changes in
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
        """Build the index from scratch (`qa index --force`, under the writer lock), then bring the
        backend's copy in step."""
        with self._lock:
            return self._open(store.rebuild(self.seeds_dir, self.index_dir, self.settings, self.progress,
                                            engine=self.engine))

    @property
    def updating(self) -> bool:
        """True while an update runs in the background."""
        return self.update is not None and not self.update.done.is_set()

    def update_in_background(self) -> Update:
        """Index what changed in the folder in a worker thread (the one running is returned when
        there is one), while questions are answered from the index as it is; the new index is
        swapped in when it is whole. Questions go first: before each article it splits and each
        batch it encodes, the worker waits while a question is being answered (at most PAUSE_S)."""
        with self._lock:
            if self.updating:
                return self.update
            job = self.update = Update()
            current = self._index
        threading.Thread(target=self._run_update, args=(job, current), name="qa-update", daemon=True).start()
        return job

    def _run_update(self, job: Update, current: Index | None) -> None:
        try:
            engine = self.engine or InProcess(self.settings, False, pause=self._pause)
            new = store.open_index(self.seeds_dir, self.index_dir, self.settings, False, current, engine)
            with self._lock:
                self._open(new)
            before = current.manifest.get("sources", {}) if current is not None else {}
            job.changes = store.source_changes(before, new.manifest.get("sources", {}))
            job.error = new.write_error
        except Exception as e:                 # the worker never dies silently: the job says why
            log.exception("updating the index in the background failed")
            job.error = f"{type(e).__name__}: {e}"
        finally:
            job.seconds = time.monotonic() - job.started
            job.done.set()

    def _pause(self) -> None:
        with self._turn:
            self._turn.wait_for(lambda: self._asking == 0, timeout=PAUSE_S)

    @contextmanager
    def _question(self):
        """Mark a question being answered (a background update waits for it)."""
        with self._turn:
            self._asking += 1
        try:
            yield
        finally:
            with self._turn:
                self._asking -= 1
                self._turn.notify_all()

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

    def dates(self, question: str, since=None, until=None, outlets=None, dates_in_question=None, today=None,
              doc_ids=None):
        """(the words to search, the filter, a DateScope or None): the caller's filter, and the date
        phrase of the question read as one (`filters.read_dates`) unless `dates_in_question` is
        False (None: `settings.question_dates`); relative phrases are read against `today`
        (YYYY-MM-DD; None: `settings.today`, else the newest article's date)."""
        where = make_filter(since, until, outlets, doc_ids)
        on = self.settings.question_dates if dates_in_question is None else dates_in_question
        if not on:
            return question, where, None
        return read_dates(self.index, question, where, as_day(today or self.settings.today, "today"))

    def retrieve(self, question: str, k: int = 5, mode: str = "hybrid", since=None, until=None,
                 outlets=None, doc_ids=None, dates_in_question=None, today=None) -> list[Hit]:
        """The k best passages; `since`/`until` (YYYY-MM-DD, inclusive) and `outlets` filter by the
        articles' publication date and outlet inside the retrievers, `doc_ids` to those articles,
        and a date phrase of the question ("in October 2012"; see `dates`) by date."""
        check_question(question, self.settings.max_question_chars)
        with self._question():
            words, where, _ = self.dates(question, since, until, outlets, dates_in_question, today, doc_ids)
            return search(self.index, words, k, mode, where=where)

    def ask(self, question: str, k: int = 8, mode: str = "hybrid", since=None, until=None,
            outlets=None, doc_ids=None, dates_in_question=None, today=None) -> Answer:
        """The cited answer; filters as in `retrieve`. When the question's date phrase was read,
        `answer.dates` says what it did and `answer.searched` holds the words searched. When the
        articles of the phrase's range do not answer, all dates are searched, the phrase kept."""
        from .answering.answer import answer
        check_question(question, self.settings.max_question_chars)
        with self._question():
            words, where, scope = self.dates(question, since, until, outlets, dates_in_question, today, doc_ids)
            got = answer(self.index, words, k=k, mode=mode, where=where)
            if scope is not None and scope.applied and got.abstained:
                # nothing published then answers: the phrase more likely names the event ("profits in
                # 1986" in an archive of 1987), so ask over all dates with it among the words
                got = answer(self.index, question, k=k, mode=mode, where=make_filter(since, until, outlets, doc_ids))
                scope = dataclasses.replace(scope, applied=False, note=f"no article published {scope.range} "
                                            f"(“{scope.phrase}”) answers this; searched all dates")
            return got if scope is None else dataclasses.replace(got, question=question, dates=scope)

    def stories(self, query: str, since=None, until=None, outlets=None) -> Stories:
        """Every article about `query` (no top-k cut), grouped into dated stories, each article
        cited by its best sentence (`answering/stories.py`)."""
        from .answering.stories import stories
        q = check_question(query, self.settings.max_question_chars)
        where = make_filter(since, until, outlets)
        with self._question():
            return stories(self.index, q, where)

    def verify(self, answer: Answer | Stories) -> list[str]:
        """Problems with an answer's (or a `stories` result's) citations; [] when every one holds."""
        if isinstance(answer, Stories):
            from .answering.stories import check
            return check(answer, self.seeds_dir, self.index)
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


def retrieve(question: str, k: int = 5, mode: str = "hybrid", since=None, until=None, outlets=None,
             dates_in_question=None) -> list[Hit]:
    """The k best passages for `question` from the default index, best first (optionally only
    from articles published since/until a date, YYYY-MM-DD, or by the given outlets; a date
    phrase of the question, "in October 2012", filters too unless `dates_in_question=False`)."""
    return default().retrieve(question, k, mode, since, until, outlets, dates_in_question=dates_in_question)


def ask(question: str, k: int = 8, mode: str = "hybrid", since=None, until=None, outlets=None,
        dates_in_question=None) -> Answer:
    """A cited, extractive answer from the default index (abstains when the articles do not say);
    filters as in `retrieve`, and `answer.dates` says what a date phrase of the question did."""
    return default().ask(question, k, mode, since, until, outlets, dates_in_question=dates_in_question)


def stories(query: str, since=None, until=None, outlets=None) -> Stories:
    """Every article of the default index about `query`, grouped into dated stories (best first),
    each article cited by the sentence that best matches the query."""
    return default().stories(query, since, until, outlets)


def verify(answer: Answer | Stories) -> list[str]:
    """Problems with the answer's (or stories') citations; [] when every citation holds."""
    return default().verify(answer)
