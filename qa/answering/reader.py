"""The reader: a span model trained by `qa train-reader`, run by onnxruntime.

It reads the question against passages of consecutive sentences of the
retrieved articles and scores every token as the start and the end of the
answer, and [CLS] as "no answer here" (`span_input.py` encodes and decodes).
Passages are built around the best sentences of the first stage: each starts
up to BEFORE sentences ahead of such a sentence and runs on as far as the
model's length allows, so that the sentences after a news lede that restates
the question are read beside it. The model ships in `models/reader/` (int8
ONNX, its tokenizer and its card); its sha256 is checked against the card
before it is loaded, and recorded in the index manifest.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Settings
from ..errors import QAError
from ..retrieval import runtime
from ..retrieval.index import Index
from ..text import tokenize
from .span_input import MAX_LEN, Passage, Span, SpanInput, decode

_READERS: dict[str, "Reader"] = {}
_LOCK = threading.Lock()
BEFORE = 2                       # sentences read ahead of a passage's seed sentence
FOLLOW = 2                       # articles read on past their first passage


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
        if card.get("kind") != "span":
            raise ReaderError(f"the reader in {folder} is not a span reader: retrain it with `python -m qa train-reader`")
        if not model.is_file():
            raise ReaderError(f"no reader model at {model}: run `python -m qa train-reader`")
        self.sha256 = runtime.sha256_file(model)
        if self.sha256 != expected:
            raise ReaderError(f"{model} does not match the sha256 in its card: re-fetch or retrain it")
        self.session = runtime.session(model, threads, mem_pattern=False)
        self.inputs = SpanInput(folder / "tokenizer.json", int(card.get("config", {}).get("max_tokens", MAX_LEN)))
        self.max_answer = int(card.get("max_answer_tokens", 30))
        self.names = {i.name for i in self.session.get_inputs()}
        self._lock = threading.Lock()          # the Rust tokenizer is not to be shared across threads

    def read(self, question: str, passages: list[Passage]) -> list[list[Span]]:
        """For each passage, the best span of each of its sentences, best first. A span whose words
        are all words of the question (or that has none) is passed over for the next best: an
        answer names something the question does not ("Who named the chief executive?" is not
        answered by "the chief executive")."""
        if not passages:
            return []
        with self._lock:
            enc = self.inputs.encode([question] * len(passages), passages)
            start, end = self.session.run(None, {k: v for k, v in enc.feed.items() if k in self.names})
        asked = set(tokenize(question))

        def echo(row: int, a: int, b: int) -> bool:
            words = set(tokenize(passages[row].text[a:b]))
            return not words or words <= asked
        return decode(enc, start, end, self.max_answer, skip=echo)

    def lengths(self, texts: list[str]) -> list[int]:
        with self._lock:
            return self.inputs.lengths(texts)

    def room(self, question: str, title: str) -> int:
        with self._lock:
            return self.inputs.room(question, title)


def load(settings: Settings) -> Reader | None:
    """The process-wide reader of `settings.reader` (a folder; "" switches the reader off)."""
    folder = settings.reader_dir()
    if folder is None:
        return None
    with _LOCK:
        if str(folder) not in _READERS:
            _READERS[str(folder)] = Reader(folder, settings.encoder_threads)
        return _READERS[str(folder)]


@dataclass(frozen=True)
class Window:
    doc_id: str
    base: int                                 # where the passage starts in the article text
    rows: tuple[int, ...]                     # sentence rows of the index, in order
    passage: Passage


def windows(index: Index, reader: Reader, question: str, seeds: list[int], n: int, follow: int = FOLLOW) -> list[Window]:
    """Up to n passages, one around each seed sentence row (best first) not yet read: from BEFORE
    sentences ahead of it as far on as the reader's room allows, then further back if the article
    ends first. The articles of the first `follow` seeds are read on: the passage after each of
    their windows comes next, ahead of the next seed (news stories give the answer after the lede)."""
    spans = index.sentence_spans
    covered: set[int] = set()
    sizes: dict[int, int] = {}
    out: list[Window] = []

    def same(r: int, doc: str) -> bool:
        return 0 <= r < len(spans) and spans[r][0] == doc

    def window(seed: int, before: int) -> Window:
        doc = spans[seed][0]
        art = index.articles[doc]
        room = reader.room(question, art.title or "")
        near = [r for r in range(seed - before - 12, seed + 16) if same(r, doc) and r not in sizes]
        sizes.update(zip(near, reader.lengths([art.text[spans[r][1]:spans[r][2]] for r in near])))
        a = seed
        while a > seed - before and same(a - 1, doc) and a - 1 not in covered:
            a -= 1
        b, used = a, 0
        while same(b, doc) and b in sizes and b not in covered - {seed} and (b == a or used + sizes[b] <= room):
            used += sizes[b]
            b += 1
        while same(a - 1, doc) and a - 1 in sizes and a - 1 not in covered and used + sizes[a - 1] <= room:
            a -= 1
            used += sizes[a]
        rows = tuple(range(a, b))
        covered.update(rows)
        base, stop = spans[a][1], spans[b - 1][2]
        sents = tuple((spans[r][1] - base, spans[r][2] - base) for r in rows)
        return Window(doc, base, rows, Passage(art.title or "", art.text[base:stop], sents))

    queue = list(seeds)
    followed = 0
    while queue and len(out) < n:
        seed = queue.pop(0)
        if seed in covered:
            continue
        w = window(seed, BEFORE)
        out.append(w)
        if followed < follow and seed in seeds[:follow + 1]:
            followed += 1
            nxt = w.rows[-1] + 1
            if same(nxt, w.doc_id) and nxt not in covered:
                queue.insert(0, nxt)
    return out


def probabilities(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
