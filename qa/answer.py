"""The extractive answerer: choose, merge and cite the sentences that answer a question.

1. Retrieve passages (hybrid by default) and score each of their sentences by
   dense similarity to the question, idf-weighted coverage of the question's
   terms, the passage's rank, and whether it holds what the question type asks
   for (a date for "when", a number for "how much", a cause for "why"...).
2. Abstain when even the best sentence is far from the question (threshold
   calibrated on labelled seed questions and SQuAD v2.0 unanswerables).
3. Keep the best sentence and the others that score close to it, preferring new
   articles and dropping near-repeats; bring in the other side when another
   article states a different date or amount for the same fact.
4. Merge adjacent sentences of one article into one quote and cite each quote
   with its offsets and its places in duplicate scrapes.
No text is generated: the answer is the quotes, markers and fixed notes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import dense
from .cite import compose, make_citations
from .facts import dates, names, quantities, same_date, spelled_alike
from .index import Index
from .lexical import tokenize
from .search import check_question, search
from .types import Answer

# Weights of the sentence score and the selection policy. Checked on 800 questions of the SQuAD v1.1
# "tune" half (best sentence right 0.678 with neighbouring windows read, 0.670 without; the best
# grid point over these four weights is within noise of them) and on the labelled seed questions.
W_DENSE, W_LEX, W_RANK = 0.55, 0.35, 0.10
W_TYPE = {"why": 0.3, "purpose": 0.3, "when": 0.15, "duration": 0.2, "quantity": 0.15, "who": 0.1, "where": 0.1, "other": 0.0}
# Abstain when the best sentence's confidence (0.6 * dense + 0.4 * lexical) is below this. On the seed
# questions every answerable one scores >= 0.49 and every unanswerable one <= 0.37. On 1,200 SQuAD v2.0
# questions (8 articles; 570 unanswerable, written to look answerable) 0.42 abstains with precision
# 0.71 and recall 0.10 at a cost of 1.4 points of answered accuracy; higher thresholds buy recall
# at a steep cost (0.55: precision 0.59, recall 0.32, cost 10 points).
ABSTAIN_BELOW = 0.42
KEEP_WITHIN = 0.86            # other sentences need this share of the best score...
KEEP_REASON = 0.5             # ...or, for why/purpose questions, a stated cause and this share
MAX_QUOTES = 4
SAME_FACT = 0.55              # sentence cosine above which two dated sentences speak of one fact

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

    @property
    def confidence(self) -> float:
        return 0.6 * self.dense + 0.4 * self.lexical


def candidates(index: Index, ranked: list[tuple[int, int]], question: str, qv: np.ndarray) -> list[Candidate]:
    """Every sentence of the given (chunk id, passage rank) pairs, scored against the question."""
    vocab, idf = index.bm25.vocab, index.bm25.idf
    oov = float(np.log(len(index.chunks) + 1))
    q_terms = set(tokenize(question))
    weight = {t: (float(idf[vocab[t]]) if t in vocab else oov) for t in q_terms}
    total = sum(weight.values()) or 1.0
    kind = question_type(question)
    out, seen = [], set()
    for cid, rank in ranked:
        chunk = index.chunks[cid]
        text = index.articles[chunk.doc_id].text
        for s, e in chunk.sentences:
            if (chunk.doc_id, s, e) in seen:
                continue
            seen.add((chunk.doc_id, s, e))
            row = index.sentence_row[(chunk.doc_id, s, e)]
            terms = set(tokenize(text[s:e]))
            lex = sum(w for t, w in weight.items() if t in terms) / total
            c = Candidate(chunk.doc_id, s, e, text[s:e], row, float(index.sentence_vectors[row] @ qv), lex, rank)
            c.score = (W_DENSE * c.dense + W_LEX * c.lexical + W_RANK / (1 + rank)
                       + W_TYPE[kind] * fits_type(kind, c.text) * max(c.dense, 0.0))
            out.append(c)
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


def _similar(index: Index, a: Candidate, b: Candidate) -> float:
    return float(index.sentence_vectors[a.row] @ index.sentence_vectors[b.row])


def _redundant(index: Index, c: Candidate, chosen: list[Candidate]) -> bool:
    words = set(tokenize(c.text))
    for o in chosen:
        other = set(tokenize(o.text))
        if _similar(index, c, o) > 0.9 or len(words & other) / max(1, len(words | other)) > 0.6:
            return True
    return False


def select(index: Index, cands: list[Candidate], kind: str, question: str, qv: np.ndarray) -> list[Candidate]:
    """The best sentence, then close runners-up, preferring articles not yet cited.

    Causes are often stated apart from the event ("the summit was cancelled..." /
    "his office said it was due to scheduling conflicts"), and articles give
    different ones, so for why/purpose questions a sentence that states a cause
    stays in the running further below the best.
    """
    best = cands[0]
    chosen = [best]

    def eligible(c: Candidate) -> bool:
        if kind in ("why", "purpose") and fits_type(kind, c.text) >= 1.0:
            return c.score >= KEEP_REASON * best.score and c.confidence >= ABSTAIN_BELOW - 0.1
        return c.score >= KEEP_WITHIN * best.score and c.confidence >= ABSTAIN_BELOW

    pool = [c for c in cands[1:] if eligible(c)]
    while pool and len(chosen) < MAX_QUOTES:
        cited = {c.doc_id for c in chosen}
        pool.sort(key=lambda c: -(c.score + (0.05 if c.doc_id not in cited else 0.0)))
        c = pool.pop(0)
        if not _redundant(index, c, chosen):
            chosen.append(c)
    return chosen + (other_sides(index, cands, chosen, question, qv) if kind == "when" else [])


def other_sides(index: Index, cands: list[Candidate], chosen: list[Candidate], question: str,
                qv: np.ndarray) -> list[Candidate]:
    """For a "when" question: sentences of other articles that give a different date for the
    fact a chosen sentence dates, so that the answer shows each side. Besides the retrieved
    passages, the passages nearest to the dated sentence itself are searched."""
    extra: list[Candidate] = []
    floor = 0.5 * chosen[0].score
    for c in chosen:
        mine = [v for _, v in dates(c.text)]
        if not mine:
            continue
        near = [(cid, 10) for cid, _ in index.dense.search(index.sentence_vectors[c.row], 10)]
        for o in cands + candidates(index, near, question, qv):
            if o in chosen or o in extra or o.doc_id == c.doc_id or o.score < floor:
                continue
            theirs = [v for _, v in dates(o.text)]
            if theirs and not any(same_date(a, b) for a in mine for b in theirs) \
                    and _similar(index, c, o) >= SAME_FACT and len(chosen) + len(extra) < MAX_QUOTES + 2:
                extra.append(o)
    return extra


def answer(index: Index, question: str, k: int = 8, mode: str = "hybrid", abstain: bool = True) -> Answer:
    """A cited answer to `question`, or an abstention with the nearest passages.
    `abstain=False` answers even when unsure (the eval uses it to price abstention)."""
    q = check_question(question, index.settings.max_question_chars)
    qv = dense.embed([q], index.settings)[0]
    hits = search(index, q, k=k, mode=mode, query_vector=qv)
    cands = candidates(index, with_neighbours(index, [h.chunk_id for h in hits]), q, qv)
    if not cands or (abstain and max(c.confidence for c in cands) < ABSTAIN_BELOW):
        n = len({a.doc_id for a in index.articles.values() if a.duplicate_of is None})
        text = (f"Not in these articles: none of the {n} articles answers this question. "
                "The nearest passages are listed below for you to judge.")
        return Answer(question=question, text=text, citations=(), abstained=True, searched=q,
                      passages=tuple(hits[:3]), mode=mode)
    chosen = select(index, cands, question_type(q), q, qv)
    citations = make_citations(index, [(c.doc_id, c.start, c.end) for c in chosen])
    notes = disagreements(index, chosen, citations)
    return Answer(question=question, text=compose(citations, notes), citations=tuple(citations),
                  abstained=False, searched=q, notes=tuple(notes), passages=tuple(hits), mode=mode)


def disagreements(index: Index, chosen: list[Candidate], citations) -> list[str]:
    """A note for each kind of fact (date, share, amount) on which cited articles that speak
    of the same thing (similar sentences) state different values."""
    def marker(c: Candidate) -> int:
        return next(i for i, cit in enumerate(citations, 1)
                    if cit.doc_id == c.doc_id and cit.start <= c.start < cit.end)

    facts = [("date", [(c, s, v) for c in chosen for s, v in dates(c.text)], same_date)]
    for kind, label in (("percent", "share"), ("money", "amount")):
        found = [(c, s, re.sub(r"\s+", " ", s.lower())) for c in chosen for s, k in quantities(c.text) if k == kind]
        facts.append((label, found, lambda a, b: a == b))
    notes = []
    for label, found, equal in facts:
        involved = []
        for a, sa, va in found:
            for b, sb, vb in found:
                if a.doc_id < b.doc_id and not equal(va, vb) and _similar(index, a, b) >= SAME_FACT:
                    involved += [(a, sa, va), (b, sb, vb)]
        shown, parts = [], []
        for c, s, v in sorted(involved, key=lambda x: marker(x[0])):
            if not any(equal(v, w) for w in shown):
                shown.append(v)
                parts.append(f"{s} [{marker(c)}]")
        if len(parts) > 1:
            notes.append(f"The sources differ on the {label}: " + "; ".join(parts) + ".")
    spelled = [(i, n, c.doc_id) for i, c in enumerate(citations, 1) for n in names(c.quote)]
    variants: list[tuple[int, str]] = []
    for i, a, da in spelled:
        for j, b, db in spelled:
            if da != db and spelled_alike(a, b):
                for item in ((i, a), (j, b)):
                    if item[1] not in [v for _, v in variants]:
                        variants.append(item)
    if variants:
        notes.append("The sources spell the name differently: "
                     + "; ".join(f"{n} [{i}]" for i, n in sorted(variants)) + ".")
    return notes
