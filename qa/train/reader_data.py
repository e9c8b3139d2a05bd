"""Training groups for the reader, from SQuAD files read where they lie (never copied).

A group is one question and 8 candidate sentences, each in its context (title,
previous sentence, sentence, next sentence: `ReaderInput`'s tuple). The
negatives are the sentences the reader meets at query time, where retrieval has
mostly found the right article: the ones sharing the most question terms first.
- answerable: 1 positive (a gold-paragraph sentence holding a gold answer) and
  7 negatives: up to 3 other sentences of the gold paragraph, 2 of the same
  article's other paragraphs, the rest hard negatives from our own BM25 over
  the paragraphs of other articles; none holds the answer string;
- "removed article" (a share of the answerable questions): 8 sentences from
  other articles' best BM25 paragraphs and none from the question's own, as
  when the article that answers is not indexed;
- SQuAD v2.0 unanswerable questions (only from the v2.0 dev articles that
  `datasets.tune_part` marks "train"): 8 sentences of the paragraph the
  question was written against, none of which answers it.
`limit` caps the questions drawn from each file. Training stops at its time
budget, not at the end of the groups, so a limit near what the budget reaches
(about 5,000 groups in 50 minutes here) keeps every kind at its drawn share
instead of the budget seeing a random fifth of a larger draw.
Sentences are split inside each paragraph at ., ! or ? followed by a space
(a fast stand-in for pysbd over 19k paragraphs); neighbours run across
paragraph breaks, as they do in the index.
"""
from __future__ import annotations

import json
import logging
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..measure.datasets import tune_part
from ..retrieval.lexical import BM25
from ..text import tokenize

log = logging.getLogger("qa")
GROUP = 8
_SPLIT = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Doc:
    title: str
    sentences: list[str]
    paragraph_of: list[int]              # paragraph index of each sentence
    first: list[int]                     # first sentence index of each paragraph (and the end)
    terms: list[frozenset] = field(default_factory=list)   # the tokens of each sentence


@dataclass
class Group:
    question: str
    items: list[tuple[str, str, str, str]]   # (title, prev, sentence, next)
    labels: list[int]
    kind: str                                # "answer", "removed", "unanswerable"
    qid: str = ""
    extra: dict = field(default_factory=dict)


def _doc(d: dict) -> Doc:
    text, starts = d["text"], d["paragraph_starts"]
    ends = starts[1:] + [len(text)]
    sents, para_of, first = [], [], []
    for p, (s, e) in enumerate(zip(starts, ends)):
        first.append(len(sents))
        for piece in _SPLIT.split(text[s:e].strip()):
            if piece.strip():
                sents.append(piece.strip())
                para_of.append(p)
    first.append(len(sents))
    return Doc(d.get("title", d["id"]).replace("_", " "), sents, para_of, first,
               [frozenset(tokenize(x)) for x in sents])


def _item(doc: Doc, i: int) -> tuple[str, str, str, str]:
    prev = doc.sentences[i - 1] if i > 0 else ""
    nxt = doc.sentences[i + 1] if i + 1 < len(doc.sentences) else ""
    return doc.title, prev, doc.sentences[i], nxt


def _holds(sentence: str, answers) -> bool:
    low = sentence.lower()
    return any(a.strip() and a.strip().lower() in low for a in answers)


class Corpus:
    """Documents, their paragraphs, and a BM25 over the paragraphs for hard negatives."""

    def __init__(self, data: dict):
        self.docs = {d["id"]: _doc(d) for d in data["documents"]}
        self.paragraphs = [(did, p) for did, doc in self.docs.items() for p in range(len(doc.first) - 1)]
        tokens = []
        for did, p in self.paragraphs:
            doc = self.docs[did]
            tokens.append(tokenize(" ".join(doc.sentences[doc.first[p]:doc.first[p + 1]])))
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

    def hard_negatives(self, question: str, doc_id: str, answers, rng: random.Random, n: int):
        q = set(tokenize(question))
        pool = []
        for did, p in self.others(question, doc_id, 5):
            doc = self.docs[did]
            for i in range(doc.first[p], doc.first[p + 1]):
                if not _holds(doc.sentences[i], answers):
                    pool.append((len(q & doc.terms[i]), rng.random(), did, i))
        pool.sort(reverse=True)
        best = pool[:8]
        rng.shuffle(best)
        return [_item(self.docs[did], i) for _, _, did, i in best[:n]]


def _closest(doc: Doc, rows, q_terms: set, rng: random.Random, n: int) -> list[int]:
    """The n sentences of `rows` sharing the most question terms (ties broken at random)."""
    return sorted(rows, key=lambda i: (-len(q_terms & doc.terms[i]), rng.random()))[:n]


def answer_group(corpus: Corpus, q: dict, rng: random.Random) -> Group | None:
    doc = corpus.docs[q["doc_id"]]
    p = q["paragraph_index"]
    inside = list(range(doc.first[p], doc.first[p + 1]))
    pos = [i for i in inside if _holds(doc.sentences[i], q["answers"])]
    if not pos:
        return None                            # the answer crosses sentences
    q_terms = set(tokenize(q["question"]))
    same = [i for i in inside if i not in pos]
    rest = [i for i in range(len(doc.sentences)) if doc.paragraph_of[i] != p
            and not _holds(doc.sentences[i], q["answers"])]
    negatives = _closest(doc, same, q_terms, rng, 3)
    negatives += _closest(doc, rest, q_terms, rng, 5 - len(negatives))
    items = [_item(doc, rng.choice(pos))] + [_item(doc, i) for i in negatives]
    items += corpus.hard_negatives(q["question"], q["doc_id"], q["answers"], rng, GROUP - len(items))
    if len(items) < GROUP:
        return None
    return Group(q["question"], items, [1] + [0] * (GROUP - 1), "answer", q["id"])


def removed_group(corpus: Corpus, q: dict, rng: random.Random) -> Group | None:
    items = corpus.hard_negatives(q["question"], q["doc_id"], q["answers"], rng, GROUP)
    return Group(q["question"], items, [0] * GROUP, "removed", q["id"]) if len(items) == GROUP else None


def unanswerable_group(corpus: Corpus, q: dict, rng: random.Random) -> Group | None:
    doc = corpus.docs[q["doc_id"]]
    p = q["paragraph_index"]
    inside = list(range(doc.first[p], doc.first[p + 1]))
    rng.shuffle(inside)
    items = [_item(doc, i) for i in inside[:GROUP]]
    items += corpus.hard_negatives(q["question"], q["doc_id"], (), rng, GROUP - len(items))
    return Group(q["question"], items, [0] * GROUP, "unanswerable", q["id"]) if len(items) == GROUP else None


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def training_groups(train: Path, v2: Path | None, limit: int | None, removed_share: float, seed: int,
                    held_out: int = 300) -> tuple[list[Group], list[Group], dict]:
    """(training groups, held-out answerable groups, amounts). The held-out questions come from
    articles no training question comes from."""
    rng = random.Random(seed)
    data = load(train)
    corpus = Corpus(data)
    doc_ids = sorted(corpus.docs)
    rng.shuffle(doc_ids)
    held_docs = set(doc_ids[:max(1, len(doc_ids) // 40)])
    qs = [q for q in data["questions"] if q["doc_id"] not in held_docs]
    rng.shuffle(qs)
    qs = qs[:limit] if limit else qs
    groups, skipped = [], 0
    for q in qs:
        removed = rng.random() < removed_share
        g = removed_group(corpus, q, rng) if removed else answer_group(corpus, q, rng)
        skipped += g is None
        if g:
            groups.append(g)
    held = [q for q in data["questions"] if q["doc_id"] in held_docs]
    rng.shuffle(held)
    held_groups = [g for g in (answer_group(corpus, q, rng) for q in held[:held_out]) if g]
    amounts = {"train_file": Path(train).name, "train_questions_drawn": len(qs), "skipped": skipped,
               "held_out_articles": len(held_docs), "held_out_questions": len(held_groups)}
    if v2 is not None and Path(v2).is_file():
        vdata = load(v2)
        titles = {d["id"]: d.get("title", d["id"]) for d in vdata["documents"]}
        vqs = [q for q in vdata["questions"] if tune_part(titles[q["doc_id"]]) == "train"]
        vcorpus = Corpus({"documents": [d for d in vdata["documents"] if tune_part(d.get("title", d["id"])) == "train"]})
        rng.shuffle(vqs)
        vqs = vqs[:limit] if limit else vqs      # all of them (3,182) unless the limit is smaller
        extra = [unanswerable_group(vcorpus, q, rng) if not q["answers"] else answer_group(vcorpus, q, rng) for q in vqs]
        extra = [g for g in extra if g]
        groups += extra
        amounts.update(v2_file=Path(v2).name, v2_articles=len(vcorpus.docs),
                       v2_unanswerable_groups=sum(g.kind == "unanswerable" for g in extra),
                       v2_answer_groups=sum(g.kind == "answer" for g in extra))
    rng.shuffle(groups)
    amounts["groups"] = len(groups)
    amounts["by_kind"] = {k: sum(g.kind == k for g in groups) for k in ("answer", "removed", "unanswerable")}
    amounts["pairs"] = len(groups) * GROUP
    return groups, held_groups, amounts


def as_arrays(inputs, groups: list[Group]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One padded batch of every pair of the groups, and their labels."""
    feed = inputs.encode([(g.question, *item) for g in groups for item in g.items])
    return feed, np.array([lab for g in groups for lab in g.labels], dtype=np.float32)
