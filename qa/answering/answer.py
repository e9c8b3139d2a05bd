"""The extractive answerer: choose, merge and cite the sentences that answer a question.

1. Retrieve passages (hybrid by default) and score each of their sentences, and
   those of the neighbouring windows, by a first-stage mix: dense similarity to
   the question, idf-weighted coverage of its terms, the passage's rank, and
   whether it holds what the question type asks for (a date for "when"...).
2. The reader (`reader.py`, a cross-encoder trained by `qa train-reader`) reads
   the best of them in context and gives each a probability of answering; its
   order replaces the first stage's, across articles and retrievers.
3. Abstain when no sentence is likely enough to answer (the reader's threshold is
   fit on the SQuAD v2.0 tune half; without a reader, the first-stage threshold).
4. Keep the best sentence and the others that score close to it, preferring new
   articles and dropping near-repeats; bring in the other side when another
   article states a different date or amount for the same fact.
5. Merge adjacent sentences of one article into one quote and cite each quote
   with its offsets and its places in duplicate scrapes.
No text is generated: the answer is the quotes, markers and fixed notes.
"""
from __future__ import annotations

import numpy as np

from ..retrieval import encoder
from ..retrieval.filters import Filter, chunk_mask
from ..retrieval.index import Index
from ..retrieval.search import check_question, search
from ..text import tokenize
from ..types import Answer
from .cite import compose, make_citations
from .facts import dates, same_date
from .notes import SAME_FACT, disagreements, similar
from .reader import load as load_reader
from .reader import probabilities, windows
from .scoring import Candidate, Scorer, candidates, fits_type, question_type, with_neighbours

# Abstain when the best sentence's confidence (0.6 * dense + 0.4 * lexical) is below this. On the seed
# questions every answerable one scores >= 0.49 and every unanswerable one <= 0.37. On 1,200 SQuAD v2.0
# questions (8 articles; 570 unanswerable, written to look answerable) 0.42 abstains with precision
# 0.71 and recall 0.10 at a cost of 1.4 points of answered accuracy; higher thresholds buy recall
# at a steep cost (0.55: precision 0.59, recall 0.32, cost 10 points).
ABSTAIN_BELOW = 0.42
KEEP_WITHIN = 0.86            # other sentences need this share of the best first-stage score...
KEEP_MARGIN = 1.0             # ...or to be within this many logits of the best on the reader's scale...
KEEP_REASON = 0.5             # ...or, for why/purpose questions, a stated cause and this share
NEW_ARTICLE, NEW_ARTICLE_LOGITS = 0.05, 0.5   # the edge of an article not yet cited, on either scale
MAX_QUOTES = 4


def _redundant(index: Index, c: Candidate, chosen: list[Candidate]) -> bool:
    words = set(tokenize(c.text))
    for o in chosen:
        other = set(tokenize(o.text))
        if similar(index, c, o) > 0.9 or len(words & other) / max(1, len(words | other)) > 0.6:
            return True
    return False


def is_lede(spans: list, row: int) -> bool:
    """Is sentence `row` (of `index.sentence_spans`) an article's first, with more of the article
    after it? A one-sentence article (a brief, an export record) has no lede to pass over."""
    doc = spans[row][0]
    return (row == 0 or spans[row - 1][0] != doc) and row + 1 < len(spans) and spans[row + 1][0] == doc


def order(span: float, null: float, first: float, fit: float, lede: bool, s) -> float:
    """A sentence's place among those read: its span score - reader_null x its passage's no-answer
    score + reader_mix x its first-stage score + reader_type x its question-type fit + reader_lede
    when it is a lede; `s` holds the weights (Settings, or a combination `qa eval --tune-reader` tries)."""
    return span - s.reader_null * null + s.reader_mix * first + s.reader_type * fit + s.reader_lede * lede


def read(index: Index, question: str, cands: list[Candidate], qv: np.ndarray) -> list[Candidate]:
    """The reader's view: passages around the best first-stage sentences are read, and every
    sentence read gets its best answer span (`span`, `span_score`), `read` (the probability that
    the span beats its passage's "no answer here") and `score`, its order and confidence: the
    span score, minus `reader_null` times the passage's no-answer score, plus `reader_mix` times
    the first-stage score and `reader_type` times how well the sentence holds what the question
    type asks for (a stated cause for "why", a date for "when": `scoring.fits_type`), plus
    `reader_lede` for the first sentence of an article (a news lede: a question that restates
    the story asks for what follows it; see docs/reader.md). Sentences not read are dropped. Without a reader
    (settings.reader == ""), the first stage stands."""
    reader = load_reader(index.settings)
    if reader is None or not cands:
        return cands
    s = index.settings
    by_row = {c.row: c for c in cands}
    seeds = [c.row for c in sorted(cands, key=lambda c: -c.first)]
    wins = windows(index, reader, question, seeds, s.reader_passages)
    scorer = None
    for win, spans in zip(wins, reader.read(question, [w.passage for w in wins])):
        for sp in spans:
            row = win.rows[sp.sentence]
            c = by_row.get(row)
            if c is None:                       # a sentence the window reached beyond the candidates
                if scorer is None:
                    scorer = Scorer(index, question, qv)
                _, a, b = index.sentence_spans[row]
                rank = min(x.rank for x in cands if x.doc_id == win.doc_id)     # its article's passage rank
                c = by_row[row] = scorer.candidate(win.doc_id, a, b, rank)
            if c.read is None or sp.score - s.reader_null * sp.null > c.span_score - s.reader_null * c.null:
                c.span = (win.base + sp.start, win.base + sp.end)
                c.span_score, c.null = sp.score, sp.null
                c.read = float(probabilities(np.array(sp.score - sp.null))[()])
    out = [c for c in by_row.values() if c.read is not None]
    kind = question_type(question)
    spans = index.sentence_spans
    for c in out:
        c.score = order(c.span_score, c.null, c.first, fits_type(kind, c.text), is_lede(spans, c.row), s)
    return sorted(out, key=lambda c: -c.score)


def close_to(index: Index, c: Candidate, best: Candidate) -> bool:
    """Is `c` close enough to the best to be quoted beside it? On the reader's scale, within
    KEEP_MARGIN logits; on the first stage's, within KEEP_WITHIN of its score."""
    if best.read is not None and c.read is not None:
        return c.score >= best.score - KEEP_MARGIN
    return c.score >= KEEP_WITHIN * best.score


def threshold(index: Index) -> float:
    return index.settings.reader_abstain if index.settings.reader else ABSTAIN_BELOW


def select(index: Index, cands: list[Candidate], kind: str, question: str, qv: np.ndarray,
           where: Filter | None = None) -> list[Candidate]:
    """The best sentence, then close runners-up, preferring articles not yet cited.

    Causes are often stated apart from the event ("the summit was cancelled..." /
    "his office said it was due to scheduling conflicts"), and articles give
    different ones, so for why/purpose questions a sentence that states a cause
    stays in the running further below the best.
    """
    best = cands[0]
    chosen = [best]
    floor = threshold(index)
    slack = KEEP_MARGIN if best.read is not None else 0.1     # a stated cause may sit a little below it

    def eligible(c: Candidate) -> bool:
        if kind in ("why", "purpose") and fits_type(kind, c.text) >= 1.0:
            # another stated cause stays in by the first stage's measure: the reader leads, and
            # articles that give a different reason still get their say
            return c.first >= KEEP_REASON * best.first and c.confidence >= floor - slack
        return close_to(index, c, best) and c.confidence >= floor

    pool = [c for c in cands[1:] if eligible(c)]
    bonus = NEW_ARTICLE_LOGITS if best.read is not None else NEW_ARTICLE
    while pool and len(chosen) < MAX_QUOTES:
        cited = {c.doc_id for c in chosen}
        pool.sort(key=lambda c: -(c.score + (bonus if c.doc_id not in cited else 0.0)))
        c = pool.pop(0)
        if not _redundant(index, c, chosen):
            chosen.append(c)
    return chosen + (other_sides(index, cands, chosen, question, qv, where) if kind == "when" else [])


def other_sides(index: Index, cands: list[Candidate], chosen: list[Candidate], question: str,
                qv: np.ndarray, where: Filter | None = None) -> list[Candidate]:
    """For a "when" question: sentences of other articles that give a date unlike every date shown
    for the fact a chosen sentence dates, or that a side already added dates (A ~ B ~ C), so that
    the answer shows each side. Besides the retrieved passages, the passages nearest to each dated
    sentence (chosen or added) are searched."""
    extra: list[Candidate] = []
    floor = 0.5 * chosen[0].first            # by the first stage's measure, as for several reasons
    dated = [(c, [v for _, v in dates(c.text)]) for c in chosen]
    dated = [(c, mine) for c, mine in dated if mine]
    if not dated:
        return []
    mask = chunk_mask(index, where)
    known = {(o.doc_id, o.start) for o in cands}
    pool = list(cands)

    def near(c: Candidate) -> list[Candidate]:
        """The sentences of the passages nearest to `c` that are not in the pool yet."""
        hits = [(cid, 10) for cid, _ in index.dense.search(index.sentence_vectors[c.row], 10, mask)]
        new = [o for o in candidates(index, hits, question, qv) if (o.doc_id, o.start) not in known]
        known.update((o.doc_id, o.start) for o in new)
        return new

    for c, _ in dated:
        pool += near(c)
    shown = [v for _, mine in dated for v in mine]
    while dated:
        c, mine = dated.pop(0)
        for o in list(pool):
            if o in chosen or o in extra or o.doc_id == c.doc_id or o.first < floor:
                continue
            theirs = [v for _, v in dates(o.text)]
            if theirs and not any(same_date(a, b) for a in shown for b in theirs) \
                    and similar(index, c, o) >= SAME_FACT and len(chosen) + len(extra) < MAX_QUOTES + 2:
                extra.append(o)
                dated.append((o, theirs))
                shown.extend(theirs)
                pool += near(o)
    return extra


def ranked(index: Index, question: str, k: int = 8, mode: str = "hybrid", where: Filter | None = None):
    """(checked question, question vector, hits, candidates best first): what answering starts from."""
    q = check_question(question, index.settings.max_question_chars)
    qv = encoder.embed([q], index.settings)[0]
    hits = search(index, q, k=k, mode=mode, query_vector=qv, where=where)
    cands = read(index, q, candidates(index, with_neighbours(index, [h.chunk_id for h in hits]), q, qv), qv)
    return q, qv, hits, cands


def answer(index: Index, question: str, k: int = 8, mode: str = "hybrid", abstain: bool = True,
           where: Filter | None = None) -> Answer:
    """A cited answer to `question`, or an abstention with the nearest passages; with `where`,
    from the articles it admits only. `abstain=False` answers even when unsure (the eval uses
    it to price abstention)."""
    q, qv, hits, cands = ranked(index, question, k, mode, where)
    wordless = not tokenize(q)        # "?!", emoji, "the of and": no word to look for, nothing to quote
    if not cands or (abstain and (wordless or max(c.confidence for c in cands) < threshold(index))):
        n = sum(1 for a in index.articles.values()
                if a.duplicate_of is None and (where is None or where.admits(a.date, a.outlet, a.doc_id)))
        scope = f"the {n} articles{' the filter admits' if where else ''}"
        text = (f"Not in these articles: none of {scope} answers this question. "
                "The nearest passages are listed below for you to judge.")
        return Answer(question=question, text=text, citations=(), abstained=True, searched=q,
                      passages=tuple(hits[:3]), mode=mode)
    chosen = select(index, cands, question_type(q), q, qv, where)
    citations = make_citations(index, [(c.doc_id, c.start, c.end) for c in chosen], [c.span for c in chosen])
    notes = disagreements(index, chosen, citations)
    return Answer(question=question, text=compose(citations, notes), citations=tuple(citations),
                  abstained=False, searched=q, notes=tuple(notes), passages=tuple(hits), mode=mode)
