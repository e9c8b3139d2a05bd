"""The reader: a cross-encoder trained by `qa train-reader`, run by onnxruntime.

It reads the question against one candidate sentence in its context (the
article's title, the sentence before, the sentence marked, the sentence after)
and says how likely that sentence answers the question (a probability: the
model is trained with a pointwise loss beside the listwise one, on questions
whose answer is absent too, so a low best score means "not in these articles").
The model ships in `models/reader/` (int8 ONNX, its tokenizer and its card);
its sha256 is checked against the card before it is loaded, and recorded in
the index manifest. Only the best `settings.reader_candidates` sentences by the
first-stage score are read, in one batch.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from ..config import Settings
from ..errors import QAError
from ..retrieval import runtime
from ..retrieval.index import Index

_READERS: dict[str, "Reader"] = {}
_LOCK = threading.Lock()


class ReaderError(QAError):
    """The reader model is missing or fails its hash check."""


class Reader:
    def __init__(self, folder: Path, threads: int):
        folder = Path(folder)
        model = folder / "reader.onnx"
        try:
            card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
            expected = card["files"]["reader.onnx"]["sha256"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ReaderError(f"no usable reader card in {folder}: {e}") from e
        if not model.is_file():
            raise ReaderError(f"no reader model at {model}: run `python -m qa train-reader`")
        self.sha256 = runtime.sha256_file(model)
        if self.sha256 != expected:
            raise ReaderError(f"{model} does not match the sha256 in its card: re-fetch or retrain it")
        from .reader_input import ReaderInput
        self.session = runtime.session(model, threads)
        self.inputs = ReaderInput(folder / "tokenizer.json", int(card.get("max_tokens", 160)),
                                  int(card.get("max_neighbour_tokens", 160)))
        self.names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()          # the Rust tokenizer is not to be shared across threads

    def score(self, question: str, items: list[tuple[str, str, str, str]]) -> np.ndarray:
        """Logits, one per (title, previous, candidate, next)."""
        if not items:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            feed = self.inputs.encode([(question, t, p, c, n) for t, p, c, n in items])
            out = self.session.run(None, {k: v for k, v in feed.items() if k in self.names})[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)


def load(settings: Settings) -> Reader | None:
    """The process-wide reader of `settings.reader` (a folder; "" switches the reader off)."""
    folder = settings.reader_dir()
    if folder is None:
        return None
    with _LOCK:
        if str(folder) not in _READERS:
            _READERS[str(folder)] = Reader(folder, settings.encoder_threads)
        return _READERS[str(folder)]


def context(index: Index, doc_id: str, start: int, end: int) -> tuple[str, str, str, str]:
    """(title, previous sentence, the sentence, next sentence) of an indexed sentence."""
    text = index.articles[doc_id].text
    row = index.sentence_row[(doc_id, start, end)]
    spans = index.sentence_spans

    def at(r: int) -> str:
        if 0 <= r < len(spans) and spans[r][0] == doc_id:
            return text[spans[r][1]:spans[r][2]]
        return ""
    return index.articles[doc_id].title or "", at(row - 1), text[start:end], at(row + 1)


def probabilities(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
