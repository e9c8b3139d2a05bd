"""Scoring candidate sentences: which sentences of the retrieved passages answer the question.

A candidate is every sentence of the retrieved windows and of their neighbours.
Its score mixes dense similarity to the question, idf-weighted coverage of the
question's terms, the passage's rank, and whether it holds what the question
type asks for (a date for "when", a number for "how much", a cause for "why").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..retrieval.index import Index
from ..text import tokenize
from .facts import dates

# Weights of the sentence score. Checked on 800 questions of the SQuAD v1.1
# "tune" half (best sentence right 0.678 with neighbouring windows read, 0.670 without; the best
# grid point over these four weights is within noise of them) and on the labelled seed questions.
W_DENSE, W_LEX, W_RANK = 0.55, 0.35, 0.10
W_TYPE = {"why": 0.3, "purpose": 0.3, "when": 0.15, "duration": 0.2, "quantity": 0.15, "who": 0.1, "where": 0.1, "other": 0.0}

_WHEN = re.compile(r"^\s*(when|what (date|day|time|year|month))\b|\bwhat date\b", re.I)
_QTY = re.compile(r"\b(how (much|many|big|large|old|far)|what (share|percentage|proportion|amount))\b", re.I)
_LONG = re.compile(r"\bhow long\b|\bfor how many (days|weeks|months|years)\b", re.I)
_WHY = re.compile(r"^\s*(why|what (was|is|were) the reasons?|for what reason|how come)\b|\breasons?\b", re.I)
_PURPOSE = re.compile(r"\b(purpose|aim|goal|objective|intended)\b|^\s*what for\b", re.I)
_WHO = re.compile(r"^\s*(who|whom|whose)\b", re.I)
_WHERE = re.compile(r"^\s*where\b", re.I)
_CALENDAR = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|"
                       r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|(19|20)\d\d)\b")
_RELATIVE_TIME = re.compile(r"\b(week|month|year|yesterday|today|tomorrow|days?|ago|earlier|later)\b", re.I)
_CAUSE = re.compile(r"\b(because|due to|reasons?|owing to|as a result|in protest|unhappy|displeased|not pleased|"
                    r"angered|wanted|insisted|the story that)\b", re.I)
_PURPOSE_CUE = re.compile(r"\b(was to|were to|in order to|so as to|so that|aim(ed)? (to|at)|purpose|intended to|"
                          r"meant to|sought to)\b", re.I)
_WEAK_CAUSE = re.compile(r"\b(after|since|over|following|amid)\b", re.I)
_DURATION = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|several|few)[- ]"
                       r"(minutes?|hours?|days?|weeks?|months?|years?|decades?)\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z.]*){1,3}\b")
_ROLE = re.compile(r"\b(director|envoy|minister|chief|editor|president|expert|reader|head|general|commander|"
                   r"analyst|spokesman|ambassador|professor)\b", re.I)
_DIGIT = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.I)


def question_type(q: str) -> str:
    for name, pat in (("why", _WHY), ("purpose", _PURPOSE), ("when", _WHEN), ("duration", _LONG), ("quantity", _QTY), ("who", _WHO),
                      ("where", _WHERE)):
        if pat.search(q):
            return name
    return "other"


def fits_type(kind: str, sentence: str) -> float:
    """How well the sentence holds what the question type asks for (0..1)."""
    if kind == "why":
        return 1.0 if _CAUSE.search(sentence) else 0.3 if _WEAK_CAUSE.search(sentence) else 0.0
    if kind == "purpose":
        return 1.0 if _PURPOSE_CUE.search(sentence) else 0.0
    if kind == "when":
        if dates(sentence) or _CALENDAR.search(sentence):
            return 1.0                                  # a calendar date beats "later that week"
        return 0.4 if _RELATIVE_TIME.search(sentence) else 0.0
    if kind == "duration":
        return bool(_DURATION.search(sentence))
    if kind == "quantity":
        return bool(_DIGIT.search(sentence))
    if kind == "who":
        return bool(_ROLE.search(sentence) or _NAME.search(sentence))
    if kind == "where":
        return bool(re.search(r"\b(in|at|from|to|through|via)\s+(the\s+)?[A-Z]", sentence))
    return 0.0


@dataclass
class Candidate:
    doc_id: str
    start: int
    end: int
    text: str
    row: int            # row of its vector in index.sentence_vectors
    dense: float
    lexical: float
    rank: int           # rank of the passage it came from (0 = best)
    score: float = 0.0
    read: float | None = None   # the reader's probability that its best span answers, when it was read
    first: float = 0.0          # the first-stage score (score before the reader re-weighs it)
    span: tuple[int, int] | None = None   # the reader's best answer span in it (article offsets)
    span_score: float = 0.0     # that span's start + end logit
    null: float = 0.0           # the "no answer here" score of the passage it was read in

    @property
    def confidence(self) -> float:
        """What abstention compares with its threshold: the order score (the reader's scale)
        when the reader read it, else 0.6 x cosine + 0.4 x term coverage."""
        return self.score if self.read is not None else 0.6 * self.dense + 0.4 * self.lexical


class Scorer:
    """The first-stage score of sentences against one question."""

    def __init__(self, index: Index, question: str, qv: np.ndarray):
        self.index, self.qv = index, qv
        vocab, idf = index.bm25.vocab, index.bm25.idf
        oov = float(np.log(len(index.chunks) + 1))
        self.weight = {t: (float(idf[vocab[t]]) if t in vocab else oov) for t in set(tokenize(question))}
        self.total = sum(self.weight.values()) or 1.0
        self.kind = question_type(question)

    def candidate(self, doc_id: str, s: int, e: int, rank: int) -> Candidate:
        index = self.index
        text = index.articles[doc_id].text
        row = index.sentence_spans.row((doc_id, s, e))
        terms = set(tokenize(text[s:e]))
        lex = sum(w for t, w in self.weight.items() if t in terms) / self.total
        c = Candidate(doc_id, s, e, text[s:e], row, float(index.sentence_vectors[row] @ self.qv), lex, rank)
        c.score = (W_DENSE * c.dense + W_LEX * c.lexical + W_RANK / (1 + rank)
                   + W_TYPE[self.kind] * fits_type(self.kind, c.text) * max(c.dense, 0.0))
        c.first = c.score
        return c


def candidates(index: Index, ranked: list[tuple[int, int]], question: str, qv: np.ndarray) -> list[Candidate]:
    """Every sentence of the given (chunk id, passage rank) pairs, scored against the question."""
    scorer = Scorer(index, question, qv)
    out, seen = [], set()
    for cid, rank in ranked:
        chunk = index.chunks[cid]
        for s, e in chunk.sentences:
            if (chunk.doc_id, s, e) in seen:
                continue
            seen.add((chunk.doc_id, s, e))
            out.append(scorer.candidate(chunk.doc_id, s, e, rank))
    return sorted(out, key=lambda c: -c.score)


def with_neighbours(index: Index, chunk_ids: list[int]) -> list[tuple[int, int]]:
    """(chunk id, rank) of each retrieved window and of the windows just before and after it in
    the same article, at its rank: retrieval keeps hits from overlapping, so the sentence that
    answers can sit in a neighbouring window that lost out to this one."""
    out: dict[int, int] = {}
    for rank, cid in enumerate(chunk_ids):
        for n in (cid, cid - 1, cid + 1):
            if 0 <= n < len(index.chunks) and index.chunks[n].doc_id == index.chunks[cid].doc_id:
                out.setdefault(n, rank)
    return list(out.items())
