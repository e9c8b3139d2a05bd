"""The span reader's input and output: a question against a passage of consecutive sentences.

`[CLS] question [SEP] title : passage [SEP]`, at most `max_len` tokens (a model's
card records the length it was trained with). Token types are BERT's pair
convention: 0 for `[CLS] question [SEP]`, 1 for the rest. Only passage tokens
may start or end an answer; position 0 (`[CLS]`) is where "no answer here"
points. The question keeps at most MAX_QUESTION tokens and the title MAX_TITLE;
a passage longer than the room left is cut at its end (whoever builds passages
keeps them under `room`, so the cut is rare).

Decoding keeps an answer inside one sentence and at most `max_answer` tokens
long, starting and ending at a word's edge, and gives every sentence of the
passage its best span, so the sentence that holds the best span is the one
cited (a caller may pass over spans, e.g. ones that only repeat the question). Training and serving use this one
module, so the model reads at query time what it read in training. No torch
here: it runs beside onnxruntime.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

MAX_LEN = 192
MAX_QUESTION = 32
MAX_TITLE = 12
MAX_ANSWER = 30                  # tokens; SQuAD's "why" answers run long, names and numbers are short


@dataclass(frozen=True)
class Passage:
    title: str
    text: str                                  # consecutive sentences, as they stand in the article
    sentences: tuple[tuple[int, int], ...]     # sentence spans, offsets into `text`


@dataclass
class Encoded:
    feed: dict[str, np.ndarray]                # input_ids, attention_mask, token_type_ids (int64, [B, T])
    context: np.ndarray                        # bool [B, T]: a passage token (may start or end an answer)
    sentence: np.ndarray                       # int [B, T]: index of the token's sentence, -1 elsewhere
    offsets: np.ndarray                        # int [B, T, 2]: the token's characters in the passage text
    can_start: np.ndarray                      # bool [B, T]: a passage token where an answer may start
    can_end: np.ndarray                        # bool [B, T]: ... and end (at a word's edge, not inside it)


@dataclass(frozen=True)
class Span:
    row: int                                   # which passage of the batch
    sentence: int                              # which of its sentences holds the span
    start: int                                 # characters in the passage text, half-open
    end: int
    score: float                               # start logit + end logit (comparable across passages)
    null: float                                # the passage's "no answer here" score, [CLS] + [CLS]


class SpanInput:
    def __init__(self, tokenizer_json: Path, max_len: int = MAX_LEN):
        from tokenizers import Tokenizer
        self.max_len = max_len
        self.tokenizer = Tokenizer.from_file(str(tokenizer_json))
        self.tokenizer.no_padding()            # the MiniLM file carries a fixed padding and truncation
        self.tokenizer.no_truncation()
        self.cls = self.tokenizer.token_to_id("[CLS]")
        self.sep = self.tokenizer.token_to_id("[SEP]")
        self.colon = self.tokenizer.encode(":", add_special_tokens=False).ids
        vocab = self.tokenizer.get_vocab()
        self.inner = np.zeros(max(vocab.values()) + 1, dtype=bool)     # "##" pieces inside a word
        self.closing = np.zeros_like(self.inner)                        # ",", ".", ")": no answer starts there
        for token, i in vocab.items():
            self.inner[i] = token.startswith("##")
            self.closing[i] = bool(token) and all(ch in ",.;:!?)]}" for ch in token)

    def room(self, question: str, title: str) -> int:
        """Passage tokens that fit beside this question and title."""
        q = len(self.tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION])
        t = min(len(self.tokenizer.encode(title, add_special_tokens=False).ids), MAX_TITLE) + len(self.colon) if title else 0
        return self.max_len - 3 - q - t

    def lengths(self, texts: list[str]) -> list[int]:
        """Token counts of texts (sentences), for sizing passages."""
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)] if texts else []

    def encode(self, questions: list[str], passages: list[Passage]) -> Encoded:
        """One padded batch: row i reads questions[i] against passages[i]."""
        tok = self.tokenizer
        uniq = list(dict.fromkeys(list(questions) + [p.title for p in passages if p.title]))
        ids = {t: e.ids for t, e in zip(uniq, tok.encode_batch(uniq, add_special_tokens=False))}
        bodies = tok.encode_batch([p.text for p in passages], add_special_tokens=False)
        rows = []
        for q, p, body in zip(questions, passages, bodies):
            qi = ids[q][:MAX_QUESTION]
            ti = (ids[p.title][:MAX_TITLE] + self.colon) if p.title else []
            room = self.max_len - 3 - len(qi) - len(ti)
            pi, po = body.ids[:room], body.offsets[:room]
            rows.append(([self.cls, *qi, self.sep, *ti, *pi, self.sep], len(qi) + 2, 2 + len(qi) + len(ti), pi, po, p))
        width = max((len(r[0]) for r in rows), default=0)
        n = len(rows)
        feed = {k: np.zeros((n, width), dtype=np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
        context = np.zeros((n, width), dtype=bool)
        sentence = np.full((n, width), -1, dtype=np.int64)
        offsets = np.zeros((n, width, 2), dtype=np.int64)
        can_start = np.zeros((n, width), dtype=bool)
        can_end = np.zeros((n, width), dtype=bool)
        for i, (row, second, first_ctx, pi, po, p) in enumerate(rows):
            feed["input_ids"][i, :len(row)] = row
            feed["attention_mask"][i, :len(row)] = 1
            feed["token_type_ids"][i, second:len(row)] = 1
            if not pi:
                continue
            span = slice(first_ctx, first_ctx + len(pi))
            context[i, span] = True
            off = np.asarray(po, dtype=np.int64)
            offsets[i, span] = off
            starts = np.asarray([s for s, _ in p.sentences], dtype=np.int64)
            ends = np.asarray([e for _, e in p.sentences], dtype=np.int64)
            k = np.searchsorted(starts, off[:, 0], side="right") - 1
            inside = (k >= 0) & (off[:, 0] < ends[np.clip(k, 0, None)])
            sentence[i, span] = np.where(inside, k, -1)
            context[i, span] &= inside              # a token between sentences answers nothing
            tokens = np.asarray(pi)
            can_start[i, span] = context[i, span] & ~self.inner[tokens] & ~self.closing[tokens]
            can_end[i, span] = context[i, span] & ~np.append(self.inner[tokens[1:]], False)
        return Encoded(feed, context, sentence, offsets, can_start, can_end)


def token_targets(enc: Encoded, row: int, char_spans) -> tuple[list[int], list[int]]:
    """Token positions where the given character spans (in the passage text) start and end: the
    first passage token reaching past the span's start, the last one starting before its end.
    Spans cut off by truncation are left out."""
    ctx = np.flatnonzero(enc.context[row])
    off = enc.offsets[row]
    starts, ends = [], []
    for s, e in char_spans:
        first = ctx[off[ctx, 1] > s]
        last = ctx[off[ctx, 0] < e]
        if not len(first) or not len(last) or off[last[-1], 1] < e:
            continue
        a, b = int(first[0]), int(last[-1])
        if a <= b and enc.sentence[row, a] == enc.sentence[row, b]:
            starts.append(a)
            ends.append(b)
    return starts, ends


def decode(enc: Encoded, start_logits: np.ndarray, end_logits: np.ndarray, max_answer: int = MAX_ANSWER,
           skip: Callable[[int, int, int], bool] | None = None) -> list[list[Span]]:
    """For each row, the best span of each of its sentences (best first). `skip(row, start, end)`
    (characters in the passage text) passes over a span for the next best one of its sentence."""
    out = []
    for r in range(start_logits.shape[0]):
        ctx, sent = enc.context[r], enc.sentence[r]
        t = int(ctx.shape[0])
        s = np.asarray(start_logits[r, :t], dtype=np.float64)
        e = np.asarray(end_logits[r, :t], dtype=np.float64)
        null = float(s[0] + e[0])
        idx = np.flatnonzero(ctx)
        if not len(idx):
            out.append([])
            continue
        ks = sent[idx]
        gap = idx[None, :] - idx[:, None]
        ok = ((gap >= 0) & (gap < max_answer) & (ks[:, None] == ks[None, :])
              & enc.can_start[r, idx][:, None] & enc.can_end[r, idx][None, :])
        m = np.where(ok, s[idx][:, None] + e[idx][None, :], -np.inf)
        a_idx, b_idx = np.nonzero(ok)
        order = np.argsort(-m[a_idx, b_idx], kind="stable")
        spans: dict[int, Span] = {}
        off = enc.offsets[r]
        need = len(set(ks.tolist()))
        for i in order:
            a, b = int(a_idx[i]), int(b_idx[i])
            k = int(ks[a])
            if k in spans:
                continue
            start, end = int(off[idx[a], 0]), int(off[idx[b], 1])
            if skip is not None and skip(r, start, end):
                continue
            spans[k] = Span(r, k, start, end, float(m[a, b]), null)
            if len(spans) == need:
                break
        out.append(sorted(spans.values(), key=lambda x: -x.score))
    return out
