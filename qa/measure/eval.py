"""Measuring quality: retrieval and answering on labelled questions, per mode.

The question sets are read by `datasets.py` (the labelled seed questions and
SQuAD-format files from `../shared/eval/`).

What counts as right is `judge.py`'s rule: a gold answer inside the passage
and inside the gold paragraph (or gold article).

The index always holds every article of a set, whichever split is evaluated.
The highlighted answer span of the first citation is scored by SQuAD's own exact match and
F1 (`judge.span_em`, `judge.span_f1`) over the answerable questions (0 when nothing is shown).
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from ..config import DEFAULT, Settings
from ..pipeline import Pipeline
from ..retrieval import encoder
from ..retrieval.encoder import ENCODERS
from ..retrieval.search import search
from .datasets import NEWS_STORIES, Question, open_dataset, sample
from .judge import DEPTH, retrieval_rank, right_article, right_place, span_em, span_f1, summarize_ranks

TUNABLE = ("rrf_k", "weight_bm25", "weight_dense", "candidates")
READER_KNOBS = ("reader_passages", "reader_abstain", "reader_null", "reader_mix", "reader_type", "reader_lede")


def _ask_anyway(pipeline: Pipeline, question: str, mode: str):
    """The answer with abstention switched off (to price what abstaining costs)."""
    from ..answering.answer import answer
    return answer(pipeline.index, question, mode=mode, abstain=False)


def evaluate(pipeline: Pipeline, questions: list[Question], modes, answering: bool = True,
             progress: bool = True) -> dict:
    """Retrieval (and answering) figures per mode for `questions`."""
    from tqdm import tqdm
    index = pipeline.index
    answerable = [q for q in questions if q.answers]
    vecs = encoder.embed([q.question.strip() for q in questions], index.settings) if questions else None
    bar = tqdm(total=len(questions) * len(modes) * (2 if answering else 1), file=sys.stderr,
               disable=not progress, desc="eval", unit="q")
    modes_out = {}
    for mode in modes:
        ranks = []
        for q, v in zip(questions, vecs if vecs is not None else []):
            if q.answers:
                ranks.append(retrieval_rank(q, index, search(index, q.question, DEPTH, mode, query_vector=v)))
            bar.update()
        m = summarize_ranks(ranks)
        if answering:
            m.update(_answering(pipeline, questions, mode, bar))
        modes_out[mode] = m
    bar.close()
    s = index.settings
    return {"questions": len(questions), "answerable": len(answerable), "chunks": len(index.chunks),
            "settings": {k: getattr(s, k) for k in TUNABLE + ("chunk_sentences", "chunk_overlap", "encoder", "reader",
                                                             "question_dates") + READER_KNOBS},
            "modes": modes_out}


def _answering(pipeline: Pipeline, questions: list[Question], mode: str, bar) -> dict:
    index = pipeline.index
    valid = correct = abstained_right = abstained_wrong = rescued = article = spans = 0
    em = f1 = 0.0
    n_ans = n_unans = 0
    kinds: dict[str, list[int]] = {}
    dated = {"read": 0, "applied": 0, "applied_right": 0, "all_dates": 0, "all_dates_right": 0}
    for q in questions:
        ans = pipeline.ask(q.question, mode=mode)
        valid += not pipeline.verify(ans)
        if ans.dates is not None:          # a date phrase was read: applied as the filter, or all dates
            way = "applied" if ans.dates.applied else "all_dates"
            dated["read"] += 1
            dated[way] += 1
            dated[way + "_right"] += bool(q.answers and not ans.abstained and ans.citations
                                          and right_place(q, index, ans.citations[0]))
        if q.answers:
            n_ans += 1
            ok = not ans.abstained and bool(ans.citations) and right_place(q, index, ans.citations[0])
            correct += ok
            shown = ans.citations[0].answer_text if ans.citations and not ans.abstained else None
            spans += shown is not None
            em += span_em(shown, q.answers) if shown else 0.0
            f1 += span_f1(shown, q.answers) if shown else 0.0
            article += not ans.abstained and bool(ans.citations) and right_article(q, ans.citations[0])
            if q.kind:
                kinds.setdefault(q.kind, [0, 0])
                kinds[q.kind][0] += ok
                kinds[q.kind][1] += 1
            if ans.abstained:
                abstained_wrong += 1
                alt = _ask_anyway(pipeline, q.question, mode)
                rescued += bool(alt.citations and right_place(q, index, alt.citations[0]))
        else:
            n_unans += 1
            abstained_right += ans.abstained
        bar.update()
    out = {"first_citation_accuracy": correct / max(1, n_ans), "citations_valid": valid / max(1, len(questions)),
           "answered": (n_ans - abstained_wrong) / max(1, n_ans), "first_article": article / max(1, n_ans),
           "answer_span": {"shown": spans / max(1, n_ans), "exact_match": em / max(1, n_ans), "f1": f1 / max(1, n_ans)}}
    out["question_dates"] = dated
    if kinds:
        out["first_citation_by_kind"] = {k: {"right": r, "of": n, "share": r / n} for k, (r, n) in sorted(kinds.items())}
    if n_unans:
        n_abst = abstained_right + abstained_wrong
        out["abstention"] = {
            "unanswerable": n_unans,
            "precision": abstained_right / n_abst if n_abst else None,
            "recall": abstained_right / n_unans,
            "answerable_abstained": abstained_wrong / max(1, n_ans),
            "accuracy_without_abstention": (correct + rescued) / max(1, n_ans),
            "cost": rescued / max(1, n_ans),
        }
    return out


def with_overrides(settings: Settings, pairs: list[str]) -> Settings:
    """Settings with `key=value` fusion overrides applied (for tuning without editing config.py)."""
    changes = {}
    for pair in pairs or ():
        key, _, value = pair.partition("=")
        if key == "encoder" and value in ENCODERS:
            changes[key] = value
            continue
        if key == "milvus_fusion" and value in ("server", "client"):
            changes[key] = value
            continue
        if key == "question_dates" and value in ("true", "false"):   # date phrases as the filter, or not
            changes[key] = value == "true"
            continue
        if key == "reader":                    # a model folder, or empty for the hand-set scores
            changes[key] = value
            continue
        if key in READER_KNOBS and value:
            changes[key] = type(getattr(DEFAULT, key))(float(value))
            continue
        if key not in TUNABLE or not value:
            raise ValueError(f"--set {pair!r}: use key=value with key one of {', '.join(TUNABLE + READER_KNOBS)}, "
                             f"reader=FOLDER (empty: no reader), milvus_fusion=server|client, question_dates=true|false "
                             f"or encoder={'|'.join(ENCODERS)}")
        changes[key] = type(getattr(DEFAULT, key))(float(value)) if key != "rrf_k" else float(value)
    return replace(settings, **changes)


def run(dataset: Path | None, seeds_dir: Path, index_dir: Path, cache: Path | None = None,
        modes: tuple[str, ...] = ("bm25", "dense", "hybrid"), split: str = "all", limit: int | None = None,
        seed: int = 0, overrides: list[str] | None = None, answering: bool = True, tune: bool = False,
        absent: bool = False, fit_abstention: bool = False, backend: str | None = None,
        stories: int | None = None, tune_reader: bool = False) -> dict:
    """`qa eval`: the figures for one question set (or, with `tune`, the fusion grid) as a dict.
    `absent`: the split's own articles are left out of the index (every question unanswerable)."""
    if absent and split not in ("tune", "report"):
        raise ValueError("--absent needs --split tune or --split report (that half's articles are removed)")
    ds = open_dataset(dataset, seeds_dir, index_dir, cache, split if absent else None,
                      NEWS_STORIES if stories is None else stories)
    for m in modes:
        if m not in ("bm25", "dense", "hybrid"):
            raise ValueError(f"--modes: unknown mode {m!r}; use bm25, dense, hybrid")
    qs = sample([q for q in ds.questions if split in ("all", q.split, q.part)], limit, seed)
    pipeline = Pipeline(ds.seeds_dir, ds.index_dir, settings=with_overrides(DEFAULT, overrides), progress=True,
                        backend=backend)
    head = {"dataset": ds.name, "split": split, "limit": limit, "seed": seed,
            "backend": pipeline.index.backend.name}
    if tune:
        from .tuning import GRID, tune as grid_search
        return {**head, "grid": grid_search(pipeline.index, qs, GRID)}
    if tune_reader:
        from .tuning import tune_reader as reader_grid
        return {**head, "grid": reader_grid(pipeline, qs)}
    if fit_abstention:
        from .tuning import fit_abstention as fit
        return {**head, "abstention_fit": fit(pipeline, qs)}
    r = {**head, **evaluate(pipeline, qs, list(modes), answering=answering)}
    if pipeline.index.backend.name == "milvus":
        r["settings"]["milvus_fusion"] = pipeline.settings.milvus_fusion
    abst = {m: d.pop("abstention") for m, d in r["modes"].items() if "abstention" in d}
    if abst:
        r["abstention"] = abst
    return r


def report(r: dict) -> str:
    """The evaluation as a text table."""
    def f(x):
        return "     -" if x is None else f"{x:6.3f}"
    lines = [f"{r['dataset']} (split {r['split']}): {r['questions']} questions, {r['answerable']} answerable; "
             f"index of {r['chunks']} chunks ({r.get('backend', 'embedded')} backend); settings {r['settings']}",
             "mode      R@1    R@5   R@20    MRR  first-citation  citations-valid  answered"]
    for m, d in r["modes"].items():
        lines.append(f"{m:7s} {f(d['recall@1'])} {f(d['recall@5'])} {f(d['recall@20'])} {f(d['mrr'])}"
                     f"          {f(d.get('first_citation_accuracy'))}           {f(d.get('citations_valid'))}"
                     f"    {f(d.get('answered'))}")
    for m, d in r["modes"].items():
        if d.get("answer_span"):
            a = d["answer_span"]
            lines.append(f"{m:7s} the first citation's highlighted answer (SQuAD's normalisation, over answerable "
                         f"questions): exact match {a['exact_match']:.3f}, F1 {a['f1']:.3f}; shown on {a['shown']:.3f}")
        if "first_article" in d:
            by = d.get("first_citation_by_kind") or {}
            lines.append(f"{m:7s} first citation from a right article {d['first_article']:.3f}"
                         + ("; first citation by kind: " + ", ".join(f"{k} {v['right']}/{v['of']} ({v['share']:.2f})"
                                                                    for k, v in by.items()) if by else ""))
        if (qd := d.get("question_dates")) and qd["read"]:
            lines.append(f"{m:7s} date phrases read in {qd['read']} questions: {qd['applied']} as the filter "
                         f"({qd['applied_right']} first citations right), {qd['all_dates']} searched all dates "
                         f"({qd['all_dates_right']} right)")
    if r.get("abstention"):
        lines.append("abstention  precision  recall  answerable-abstained  accuracy-without-abstaining  cost")
        for m, a in r["abstention"].items():
            lines.append(f"{m:7s}       {f(a['precision'])}  {f(a['recall'])}                {f(a['answerable_abstained'])}"
                         f"                       {f(a['accuracy_without_abstention'])}  {f(a['cost'])}")
    return "\n".join(lines)


def fit_report(r: dict) -> str:
    """The abstention threshold fit: the chosen threshold, then the curve."""
    f = r["abstention_fit"]
    def row(c):
        p = "     -" if c["precision"] is None else f"{c['precision']:6.3f}"
        return f"  threshold {c['threshold']:.3f}  precision {p}  recall {c['recall']:.3f}  cost {c['cost']:.3f}"
    lines = [f"{r['dataset']} (split {r['split']}): {f['questions']} questions, {f['unanswerable']} unanswerable; "
             f"the highest recall at a cost of at most {f['max_cost']:.2f}:",
             row(f["chosen"]) if f["chosen"] else "  none",
             f"the highest recall at precision >= 0.80: {f['recall_at_precision_0.80']:.3f}; precision at recall "
             f"0.50: {'-' if f['precision_at_recall_0.50'] is None else format(f['precision_at_recall_0.50'], '.3f')}",
             "curve:"]
    return "\n".join(lines + [row(c) for c in f["curve"]])


def grid_report(r: dict) -> str:
    """The tuning grid, one combination a line, best first."""
    return "\n".join(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
                     for row in r["grid"])
