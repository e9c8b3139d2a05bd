"""The reader's input: question, title and the candidate sentence between its neighbours.

`[CLS] question [SEP] title : previous CANDIDATE next [SEP]`, at most `max_len`
tokens (a model's card records the lengths it was trained with; new models use
MAX_LEN and MAX_NEIGHBOUR). The question keeps at most MAX_QUESTION tokens, the
title MAX_TITLE, the two neighbours together 2 x `max_neighbour`. The
candidate's tokens carry token_type_ids 1, every other token 0, so the mark
costs no tokens and survives truncation. When space runs out, the neighbours
are cut first (the previous sentence keeps its end, the next its start, space
shared evenly), then the candidate. Training and serving use this one function,
so the model reads at query time what it read in training. No torch here: it
runs under onnxruntime.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_LEN = 96
MAX_NEIGHBOUR = 16               # tokens of each neighbour at most: the candidate itself is what is judged
MAX_QUESTION = 48
MAX_TITLE = 12


class ReaderInput:
    def __init__(self, tokenizer_json: Path, max_len: int = MAX_LEN, max_neighbour: int = MAX_NEIGHBOUR):
        from tokenizers import Tokenizer
        self.max_len = max_len
        self.max_neighbour = max_neighbour
        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self.tokenizer.no_padding()          # the MiniLM file carries a fixed padding and truncation
        self.tokenizer.no_truncation()
        self.cls = self.tokenizer.token_to_id("[CLS]")
        self.sep = self.tokenizer.token_to_id("[SEP]")
        self.colon = self.tokenizer.encode(":", add_special_tokens=False).ids

    def _ids(self, texts: list[str]) -> dict[str, list[int]]:
        unique = list(dict.fromkeys(texts))
        encoded = self.tokenizer.encode_batch(unique, add_special_tokens=False)
        return {t: e.ids for t, e in zip(unique, encoded)}

    def pair(self, q: list[int], title: list[int], prev: list[int], cand: list[int], nxt: list[int]):
        """(ids, types) of one input from token lists."""
        q, title = q[:MAX_QUESTION], (title[:MAX_TITLE] + self.colon) if title else []
        room = self.max_len - 3 - len(q) - len(title)
        cand = cand[:max(1, room)]
        rest = min(max(0, room - len(cand)), 2 * self.max_neighbour)
        take_prev = min(len(prev), max(rest // 2, rest - len(nxt)))
        take_next = min(len(nxt), rest - take_prev)
        prev = prev[len(prev) - take_prev:] if take_prev else []
        nxt = nxt[:take_next]
        ids = [self.cls, *q, self.sep, *title, *prev, *cand, *nxt, self.sep]
        start = 2 + len(q) + len(title) + len(prev)
        types = [0] * len(ids)
        types[start:start + len(cand)] = [1] * len(cand)
        return ids, types

    def encode(self, items: list[tuple[str, str, str, str, str]]) -> dict[str, np.ndarray]:
        """int64 arrays input_ids, attention_mask, token_type_ids and question_mask (1 on the
        question's tokens) for (question, title, prev, candidate, next) tuples, padded to the
        longest input of the batch."""
        ids = self._ids([t for item in items for t in item])
        rows = [self.pair(*(ids[t] for t in item)) for item in items]
        width = max((len(r[0]) for r in rows), default=0)
        names = ("input_ids", "attention_mask", "token_type_ids", "question_mask")
        out = {k: np.zeros((len(rows), width), dtype=np.int64) for k in names}
        for i, (row_ids, row_types) in enumerate(rows):
            out["input_ids"][i, :len(row_ids)] = row_ids
            out["attention_mask"][i, :len(row_ids)] = 1
            out["token_type_ids"][i, :len(row_ids)] = row_types
            out["question_mask"][i, 1:row_ids.index(self.sep)] = 1
        return out
