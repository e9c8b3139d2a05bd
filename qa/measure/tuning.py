"""Grid search of the fusion and BM25 settings (`qa eval --tune`), on a fixed split of SQuAD.

Each question's dense list, and its BM25 list per (k1, b), is computed once; every
combination then re-fuses them exactly as `qa.search` does, so a grid of dozens of
settings costs little more than one evaluation.
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from types import SimpleNamespace

from ..retrieval import encoder
from .datasets import Question
from .judge import DEPTH, retrieval_rank, summarize_ranks

GRID = {"bm25_k1": [0.9, 1.2, 1.5], "bm25_b": [0.4, 0.5, 0.75], "rrf_k": [5, 10],
        "weight_bm25": [1.0], "weight_dense": [0.5, 0.7, 0.85], "candidates": [100]}


def tune(index, questions: list[Question], grid: dict, progress: bool = True) -> list[dict]:
    """Hybrid recall@1/5/20 and MRR for every combination in `grid` (fusion and BM25 k1/b).

    Each question's dense list, and its BM25 list per (k1, b), is computed once at
    the largest depth; each combination then re-fuses them exactly as `search` does.
    """

    from tqdm import tqdm

    from ..retrieval.fusion import fuse
    from ..retrieval.lexical import BM25
    from ..retrieval.search import _select, expand_spellings
    from ..text import tokenize
    qs = [q for q in questions if q.answers]
    vecs = encoder.embed([q.question.strip() for q in qs], index.settings)
    depth = min(len(index.chunks), max(max(grid.get("candidates", [index.settings.candidates])), 4 * DEPTH))
    semantic = [index.dense.search(v, depth) for v in vecs]
    chunk_tokens = [tokenize(c.text) for c in index.chunks]
    q_tokens = [tokenize(q.question) for q in qs]
    lexical = {}
    for k1, b in itertools.product(grid.get("bm25_k1", [index.settings.bm25_k1]), grid.get("bm25_b", [index.settings.bm25_b])):
        bm = BM25(k1, b).index(chunk_tokens)
        lexical[k1, b] = [bm.search(expand_spellings(t, bm.vocab), depth) for t in q_tokens]
    keys = list(grid)
    results = []
    for combo in tqdm(list(itertools.product(*(grid[k] for k in keys))), file=sys.stderr, disable=not progress,
                      desc="grid"):
        s = replace(index.settings, **dict(zip(keys, combo)))
        ranks = []
        for q, lex, sem in zip(qs, lexical[s.bm25_k1, s.bm25_b], semantic):
            d = max(s.candidates, 4 * DEPTH)
            lex, sem = lex[:d], sem[:d]
            fused = fuse(s, lex, sem)
            b = {i: (r, x) for r, (i, x) in enumerate(lex, 1)}
            dd = {i: (r, x) for r, (i, x) in enumerate(sem, 1)}
            ranks.append(retrieval_rank(q, index, _select(index, fused, b, dd, DEPTH)))
        results.append({**dict(zip(keys, combo)), **summarize_ranks(ranks)})
    return sorted(results, key=lambda r: -(r["recall@1"] + r["recall@5"] + r["mrr"]))


def fit_abstention(pipeline, questions: list[Question], max_cost: float = 0.02, progress: bool = True) -> dict:
    """The abstention threshold on these questions: for each, the best candidate's confidence
    and whether the unabstained answer's first citation is right; then every threshold's
    precision, recall and cost (answerable questions answered right that it would refuse).
    Chosen: the highest recall whose cost is at most `max_cost`."""
    from tqdm import tqdm

    from ..answering.answer import answer, ranked
    from .judge import right_place
    index = pipeline.index
    rows = []
    for q in tqdm(questions, file=sys.stderr, disable=not progress, desc="fit", unit="q"):
        _, _, _, cands = ranked(index, q.question)
        best = max((c.confidence for c in cands), default=0.0)
        right = False
        if q.answers:
            ans = answer(index, q.question, abstain=False)
            right = bool(ans.citations) and right_place(q, index, ans.citations[0])
        rows.append((best, bool(q.answers), right))
    n_ans = max(1, sum(a for _, a, _ in rows))
    n_un = max(1, sum(not a for _, a, _ in rows))
    curve = []
    for t in sorted({round(b, 3) for b, _, _ in rows}):
        refused = [(a, r) for b, a, r in rows if b < t]
        right_refusals = sum(not a for a, _ in refused)
        curve.append({"threshold": t, "precision": right_refusals / len(refused) if refused else None,
                      "recall": right_refusals / n_un, "cost": sum(r for a, r in refused if a) / n_ans})
    ok = [c for c in curve if c["cost"] <= max_cost]
    chosen = max(ok, key=lambda c: (c["recall"], -c["threshold"])) if ok else None
    # the operating point, read off the whole curve: recall at precision >= 0.80, precision at recall 0.50
    precise = [c for c in curve if c["precision"] is not None and c["precision"] >= 0.8]
    half = [c for c in curve if c["recall"] >= 0.5]
    return {"questions": len(rows), "unanswerable": sum(not a for _, a, _ in rows), "max_cost": max_cost,
            "chosen": chosen, "curve": curve[::max(1, len(curve) // 40)],
            "recall_at_precision_0.80": max((c["recall"] for c in precise), default=0.0),
            "precision_at_recall_0.50": half[0]["precision"] if half else None}


READER_GRID = {"reader_mix": [0.0, 4.0, 8.0, 12.0], "reader_null": [0.0, 0.5, 1.0],
               "reader_type": [0.0, 1.0, 2.0], "reader_lede": [0.0, -2.0, -3.0, -4.0, -5.0]}


def tune_reader(pipeline, questions: list[Question], grid: dict | None = None, progress: bool = True) -> list[dict]:
    """The reader's order (`reader_mix`, `reader_null`, `reader_type`, `reader_lede`) on these questions: each question is
    retrieved and read once; every combination re-orders the sentences read, exactly as
    `answer.read` does, and is scored by its first citation (the best sentence, right by the
    judge's rule) and, for the unanswerable questions, by the abstention recall it allows at
    the threshold where at most 2% of the answerable questions answered right are refused."""
    from tqdm import tqdm

    from ..answering.answer import is_lede, order, ranked
    from ..answering.cite import make_citations
    from ..answering.scoring import fits_type, question_type
    from .judge import right_place
    grid = grid or READER_GRID
    index = pipeline.index
    rows = []
    for q in tqdm(questions, file=sys.stderr, disable=not progress, desc="read", unit="q"):
        _, _, _, cands = ranked(index, q.question)
        read = [c for c in cands if c.read is not None]       # each sentence judged as the first citation alone
        kind = question_type(q.question)
        spans = index.sentence_spans
        rows.append((q, [(c.span_score, c.null, c.first, fits_type(kind, c.text),
                          is_lede(spans, c.row),
                          bool(q.answers) and right_place(q, index, make_citations(index, [(c.doc_id, c.start, c.end)])[0]))
                         for c in read]))
    keys = list(grid)
    out = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        s = dict(zip(keys, combo))
        weights = SimpleNamespace(**s)
        best = []
        for q, cs in rows:
            scored = [(order(span, null, first, fit, lede, weights), ok) for span, null, first, fit, lede, ok in cs]
            best.append((q, max(scored) if scored else (float("-inf"), False)))
        ans = [(b, ok) for q, (b, ok) in best if q.answers]
        un = sorted(b for q, (b, _) in best if not q.answers)
        n_ans = max(1, len(ans))
        row = {**s, "first_citation": sum(ok for _, ok in ans) / n_ans}
        why = [ok for q, (_, ok) in best if q.answers and q.kind == "why"]
        if why:
            row["first_citation_why"] = sum(why) / len(why)
        if un:
            right_scores = sorted(b for b, ok in ans if ok)
            cut = right_scores[int(0.02 * len(right_scores))] if right_scores else float("inf")
            row["threshold_at_2pct_cost"] = round(cut, 3)
            row["abstention_recall_at_2pct_cost"] = sum(b < cut for b in un) / len(un)
        out.append(row)
    return sorted(out, key=lambda r: -(r["first_citation"] + 0.25 * r.get("abstention_recall_at_2pct_cost", 0.0)))
