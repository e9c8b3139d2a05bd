"""What cleaning works out from each text on its own, kept so that a rebuild does it for new texts only.

For one text (by its sha256 and the settings that change it): its line table (start, end, key,
class), the keys repeated inside it, and what duplicate grouping needs (its shingles and bands).
The process that cleaned a folder keeps these for the folder's texts (`remember`), and the index
keeps the line keys and classes and the bands of every article (`arrays`: 8 bytes a line and 68 an
article, in `lines.npy` and `bands.npy`), so that a process that opened the index from disk
(the chat, `qa index`) adds one story without working out every other story again (`stored`).
A stored article's shingles are needed only when it shares a band with another article; they
are then worked out again from its text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..config import Settings
from .boilerplate import body_spans, line_table, lines, repeated_within
from .duplicates import fingerprint, shingles

CLASSES = "BPN"                       # a line's class (`boilerplate.classify`) as 0, 1, 2


@dataclass
class Facts:
    table: list[tuple[int, int, int, str]]
    within: set[int]
    shingles: object                  # np.ndarray, or a function that gives it
    bands: np.ndarray                 # uint32 [16]


_BY_TEXT: dict[tuple, Facts] = {}


def _key(sha: str, settings: Settings) -> tuple:
    return sha, settings.shingle_words, settings.max_article_chars


def _first_body(text: str, table: list, within: set[int]) -> str:
    """The body before lines repeated across stories are known: what duplicate grouping compares."""
    body, _ = body_spans(text, within, table)
    return "\n".join(text[s:e] for s, e in body)


def on_its_own(text: str, sha: str, settings: Settings) -> Facts:
    """The facts of `text` (already cut to what is indexed), from memory when known."""
    got = _BY_TEXT.get(_key(sha, settings))
    if got is None:
        table = line_table(text)
        within = repeated_within(text, table)
        sh, bs = fingerprint(_first_body(text, table, within), settings.shingle_words)
        got = Facts(table, within, sh, bs)
    return got


def remember(facts: dict[str, Facts], settings: Settings) -> None:
    """Keep the facts of these texts (by sha256) and forget the others."""
    global _BY_TEXT
    _BY_TEXT = {_key(sha, settings): f for sha, f in facts.items()}


def arrays(shas: list[str], settings: Settings) -> tuple[np.ndarray, np.ndarray] | None:
    """The line keys and classes (uint64 [lines]: key << 2 | class) and the bands and number of
    lines (uint32 [n, 17]) of these texts, in order; None when one of them was not cleaned in
    this process."""
    got = [_BY_TEXT.get(_key(sha, settings)) for sha in shas]
    if any(f is None for f in got):
        return None
    keys = [(k << 2) | CLASSES.index(c) for f in got for _, _, k, c in f.table]
    per = np.zeros((len(got), 17), dtype=np.uint32)
    for i, f in enumerate(got):
        per[i, :16], per[i, 16] = f.bands, len(f.table)
    return np.array(keys, dtype=np.uint64), per


def stored(texts: list[tuple[str, str]], keys: np.ndarray, bands: np.ndarray, settings: Settings,
           cut: Callable[[str], str]) -> dict[str, Facts]:
    """The facts of stored articles, (sha256, text) in the order `arrays` wrote them, back from
    their arrays; {} when the arrays do not fit the texts (then every text is worked out again)."""
    if bands.ndim != 2 or bands.shape[1] != 17 or len(bands) != len(texts):
        return {}
    out, at = {}, 0
    keys = keys.tolist()
    for (sha, text), row in zip(texts, bands):
        text = cut(text)
        spans = lines(text)
        mine = keys[at:at + len(spans)]
        if len(mine) != len(spans) or int(row[16]) != len(spans):
            return {}
        at += len(spans)
        table = [(s, e, k >> 2, CLASSES[k & 3]) for (s, e), k in zip(spans, mine)]
        within = repeated_within(text, table)
        out[sha] = Facts(table, within, _later(text, table, within, settings.shingle_words), np.asarray(row[:16]))
    return out if at == len(keys) else {}


def _later(text: str, table: list, within: set[int], n: int) -> Callable[[], np.ndarray]:
    def make() -> np.ndarray:
        s = shingles(_first_body(text, table, within), n)
        return np.fromiter(sorted(s), dtype=np.uint32, count=len(s))
    return make
