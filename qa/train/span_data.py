"""Training groups for the span reader, from SQuAD files read where they lie (never copied).

A group is one question and PASSAGES passages, each a run of consecutive
sentences of one article (across paragraph breaks, as the index reads them),
sized to fill the reader's room, with the article's title:
- answerable: one passage that holds the gold answer, the gold sentence at a
  random place in it (first, or after up to three sentences, so that a lede
  or a topic sentence often comes before the answer, as in news), and one
  that does not hold the answer string anywhere: half the time from the same
  article (seeded at the sentence sharing most question terms outside the
  gold paragraph), half from another article's best BM25 paragraph;
- "removed" (a share of the answerable questions): two passages of other
  articles, as when the article that answers is not indexed;
- SQuAD v2.0 unanswerable questions (only the v2.0 dev articles that
  `datasets.tune_part` marks "train"): a passage over the paragraph the
  question was written against and one of another article, neither answers.
Groups are built lazily from (seed, epoch, question): a resumed run reads the
same groups. Sentences end at ., ! or ? before white space (a fast stand-in for
pysbd). The answer's targets are all its occurrences in the gold paragraph.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ..answering.span_input import Passage, SpanInput
from ..retrieval.lexical import BM25
from ..text import tokenize
from .ledes import holds, restated, restating, with_lede

PASSAGES = 2
SHARES = ("lede_share", "restate_share", "vague_share")     # the Builder's shares of led groups
_SPLIT = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Doc:
    title: str
    text: str
    sents: list[tuple[int, int]]          # sentence spans in text
    para_of: list[int]
    first: list[int]                      # first sentence of each paragraph, and the end
    paragraphs: list[tuple[int, int]]
    ntok: list[int]
    terms: list[frozenset]


@dataclass
class Group:
    qid: str
    question: str
    answers: tuple[str, ...]
    kind: str                             # "answer", "removed", "unanswerable", "vague"
    passages: list[Passage]
    gold: list[list[tuple[int, int]]]     # answer character spans in each passage's text


def split(text: str, s: int, e: int) -> list[tuple[int, int]]:
    out, at = [], s
    for m in list(_SPLIT.finditer(text, s, e)) + [None]:
        stop = m.start() if m else e
        a, b = at, stop
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
        if m:
            at = m.end()
    return out


class Corpus:
    """Documents, their sentences with token counts, and a BM25 over paragraphs for negatives."""

    def __init__(self, documents: list[dict], inputs: SpanInput):
        self.docs: dict[str, Doc] = {}
        for d in documents:
            text, starts = d["text"], d["paragraph_starts"]
            ends = starts[1:] + [len(text)]
            sents, para_of, first = [], [], []
            for p, (s, e) in enumerate(zip(starts, ends)):
                first.append(len(sents))
                got = split(text, s, e)
                sents += got
                para_of += [p] * len(got)
            first.append(len(sents))
            pieces = [text[a:b] for a, b in sents]
            self.docs[d["id"]] = Doc(d.get("title", d["id"]).replace("_", " "), text, sents, para_of, first,
                                     list(zip(starts, ends)), inputs.lengths(pieces),
                                     [frozenset(tokenize(x)) for x in pieces])
        self.paragraphs = [(did, p) for did, doc in self.docs.items() for p in range(len(doc.paragraphs))]
        tokens = []
        for did, p in self.paragraphs:
            s, e = self.docs[did].paragraphs[p]
            tokens.append(tokenize(self.docs[did].text[s:e]))
        self.bm25 = BM25().index(tokens)

    def others(self, question: str, doc_id: str, n: int) -> list[tuple[str, int]]:
        """The n best paragraphs for the question outside article doc_id."""
        out = []
        for row, _ in self.bm25.search(tokenize(question), 4 * n + 8):
            if self.paragraphs[row][0] != doc_id:
                out.append(self.paragraphs[row])
            if len(out) == n:
                break
        return out


def window(doc: Doc, seed: int, room: int, before: int) -> tuple[int, int]:
    """Sentences [a, b) around `seed`: up to `before` sentences before it, then as many after as fit."""
    a = max(0, seed - before)
    while a < seed and sum(doc.ntok[a:seed + 1]) > room:
        a += 1
    b, used = a, 0
    while b < len(doc.sents) and (b == a or used + doc.ntok[b] <= room):
        used += doc.ntok[b]
        b += 1
    return a, max(b, seed + 1)


def passage(doc: Doc, a: int, b: int) -> tuple[Passage, int]:
    """The passage of sentences [a, b) and the character offset where it starts in the article."""
    base, stop = doc.sents[a][0], doc.sents[b - 1][1]
    spans = tuple((s - base, e - base) for s, e in doc.sents[a:b])
    return Passage(doc.title, doc.text[base:stop], spans), base


def occurrences(doc: Doc, p: int, answer: str) -> list[tuple[int, int]]:
    s, e = doc.paragraphs[p]
    region = doc.text[s:e]
    found = [m.start() for m in re.finditer(re.escape(answer), region)]
    if not found:
        found = [m.start() for m in re.finditer(re.escape(answer), region, re.I)]
    return [(s + f, s + f + len(answer)) for f in found]


class Builder:
    """Groups for questions, one at a time. With `lede_share`, that share of the answerable groups'
    answer passages open with a sentence of the article that restates the question without its answer
    (`restating`), as a news story's lede does: the reader learns that sharing the question's words is
    not answering it."""

    def __init__(self, corpus: Corpus, inputs: SpanInput, removed_share: float, lede_share: float = 0.0,
                 restate_share: float = 0.0, vague_share: float = 0.0):
        self.corpus, self.inputs, self.removed_share = corpus, inputs, removed_share
        self.lede_share, self.restate_share, self.vague_share = lede_share, restate_share, vague_share

    def _negative_other(self, q: dict, rng: random.Random, room: int, answers) -> Passage | None:
        paras = self.corpus.others(q["question"], q["doc_id"], 5)
        rng.shuffle(paras)
        qt = set(tokenize(q["question"]))
        for did, p in paras:
            doc = self.corpus.docs[did]
            rows = range(doc.first[p], doc.first[p + 1])
            if not rows:
                continue
            seed = max(rows, key=lambda i: (len(qt & doc.terms[i]), rng.random()))
            a, b = window(doc, seed, room, rng.randint(0, 3))
            pas, _ = passage(doc, a, b)
            if not holds(pas.text, answers):
                return pas
        return None

    def _negative_same(self, q: dict, rng: random.Random, room: int, answers) -> Passage | None:
        doc = self.corpus.docs[q["doc_id"]]
        qt = set(tokenize(q["question"]))
        rows = [i for i in range(len(doc.sents)) if doc.para_of[i] != q["paragraph_index"]]
        rows.sort(key=lambda i: (-len(qt & doc.terms[i]), rng.random()))
        for seed in rows[:6]:
            a, b = window(doc, seed, room, rng.randint(0, 3))
            pas, _ = passage(doc, a, b)
            if not holds(pas.text, answers):
                return pas
        return None

    def _vague(self, q: dict, rng: random.Random, room: int, answers, gold: int, said: str) -> Group | None:
        """A group no passage of which answers: the story says the answer vaguely ("an undisclosed
        amount", `restated`) and the sentence that says it is gone, as a story that does not give a
        detail; the other passage from another article."""
        doc = self.corpus.docs[q["doc_id"]]
        left = room - doc.ntok[gold] - 9
        if gold + 1 < len(doc.sents):
            a, b = window(doc, gold + 1, left, 0)
        elif gold > 0:
            a, b = window(doc, gold - 1, left, 3)
        else:
            return None
        own, _ = passage(doc, a, min(b, gold) if a < gold else b)
        own, _ = with_lede(said, own)
        other = self._negative_other(q, rng, room, answers)
        if other is None or holds(own.text, answers):
            return None
        pair = [own, other]
        rng.shuffle(pair)
        return Group(q["id"], q["question"], answers, "vague", pair, [[], []])

    def group(self, q: dict, rng: random.Random, unanswerable: bool = False) -> Group | None:
        doc = self.corpus.docs[q["doc_id"]]
        answers = tuple(a for a in q.get("answers") or () if a.strip())
        room = self.inputs.room(q["question"], doc.title)
        if unanswerable or not answers:
            p = q["paragraph_index"]
            qt = set(tokenize(q["question"]))
            rows = list(range(doc.first[p], doc.first[p + 1])) or [0]
            seed = max(rows, key=lambda i: (len(qt & doc.terms[i]), rng.random()))
            own, _ = passage(doc, *window(doc, seed, room, rng.randint(0, 3)))
            other = self._negative_other(q, rng, room, ())
            return Group(q["id"], q["question"], (), "unanswerable", [own, other], [[], []]) if other else None
        if rng.random() < self.removed_share:
            first = self._negative_other(q, rng, room, answers)
            second = self._negative_other(q, rng, room, answers)
            if first is None or second is None:
                return None
            return Group(q["id"], q["question"], answers, "removed", [first, second], [[], []])
        occ = occurrences(doc, q["paragraph_index"], answers[0])
        inside = [(s, e, i) for s, e in occ for i, (a, b) in enumerate(doc.sents) if a <= s and e <= b]
        if not inside:
            return None                              # the answer crosses sentences
        s0, e0, gold_sentence = rng.choice(inside)
        before = rng.choice((0, 0, 1, 2, 3))
        head, head_tokens, lede = None, 0, None     # a sentence put before the answer's passage
        if self.lede_share or self.restate_share or self.vague_share:
            draw = rng.random()
            if draw < self.restate_share:
                head = restated(doc, gold_sentence, s0, e0, q["question"], answers, rng)
                head_tokens = doc.ntok[gold_sentence] + 8            # the vague phrase may be longer
            elif draw < self.restate_share + self.lede_share:
                lede = restating(doc, q["question"], answers, range(gold_sentence - 3, gold_sentence + 1))
                if lede is not None:
                    head, head_tokens = doc.text[doc.sents[lede][0]:doc.sents[lede][1]], doc.ntok[lede]
            elif draw < self.restate_share + self.lede_share + self.vague_share:
                said = restated(doc, gold_sentence, s0, e0, q["question"], answers, rng)
                return self._vague(q, rng, room, answers, gold_sentence, said) if said else None
        if head is not None and head_tokens < room // 3:
            a, b = window(doc, gold_sentence, room - head_tokens - 1, before)
            if lede is not None and a <= lede < b:
                b = lede                                   # it follows the answer: the passage stops before it
            pos, base = passage(doc, a, b)
            pos, shift = with_lede(head, pos)
            base -= shift
        else:
            a, b = window(doc, gold_sentence, room, before)
            pos, base = passage(doc, a, b)
        spans = [(s - base, e - base) for s, e, i in inside if a <= i < b]
        neg = (self._negative_same(q, rng, room, answers) if rng.random() < 0.5 else None) \
            or self._negative_other(q, rng, room, answers)
        if neg is None:
            return None
        pair = [(pos, spans), (neg, [])]
        rng.shuffle(pair)
        return Group(q["id"], q["question"], answers, "answer", [p for p, _ in pair], [g for _, g in pair])
