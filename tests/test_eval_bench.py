"""`qa eval` and `qa bench` run end to end on the seed index: shapes and ranges, not thresholds.

Both commands run as the user runs them (`python -m qa ...`) against the session's
temp copy of the seeds; nothing here reads ../shared.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qa.measure import eval as evaluation, judge
from conftest import QUESTIONS as SEED_QUESTIONS, REPO, raw, train_extra

RATES = ("recall@1", "recall@5", "recall@20", "mrr", "first_citation_accuracy", "citations_valid")


def run_qa(pipeline, *args: str) -> dict:
    cmd = [sys.executable, "-m", "qa", *args, "--seeds", str(pipeline.seeds_dir), "--index", str(pipeline.index_dir)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=900,
                         env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_eval_json_on_seed_questions(pipeline):
    r = run_qa(pipeline, "eval", "--json", "--limit", "5")
    assert r["dataset"] == "seed_questions.jsonl" and r["questions"] == 5
    assert set(r["modes"]) == {"bm25", "dense", "hybrid"}
    for figures in r["modes"].values():
        for key in RATES:
            assert 0.0 <= figures[key] <= 1.0, (key, figures)
        assert figures["recall@1"] <= figures["recall@5"] <= figures["recall@20"]
    for a in r.get("abstention", {}).values():
        assert 0.0 <= a["recall"] <= 1.0


def test_eval_sample_is_deterministic(questions):
    qs = [evaluation.Question(q["id"], q["question"], tuple(q["answers"]), ()) for q in questions]
    a, b = evaluation.sample(qs, 5, 7), evaluation.sample(qs, 5, 7)
    assert [q.id for q in a] == [q.id for q in b] and len(a) == 5
    assert evaluation.sample(qs, None, 7) == qs


def test_a_hit_counts_only_inside_the_gold_region(index, seeds_dir):
    doc = "000_d7d3e32efbec5146"
    text = raw(seeds_dir, doc)
    answer = "the director of the Center of Strategic Analysis"
    at = text.index(answer)
    whole = evaluation.Question("pukhov", "Who is Ruslan Pukhov?", (answer.upper(),), ((doc, 0, len(text)),))
    assert judge.right(whole, index, doc, at - 10, at + len(answer) + 5)     # case is ignored
    assert not judge.right(whole, index, doc, at + 5, at + len(answer) + 5)  # answer cut: not inside
    elsewhere = evaluation.Question("pukhov", "?", (answer,), ((doc, 0, at),))
    assert not judge.right(elsewhere, index, doc, 0, len(text))            # outside the gold paragraph
    other = evaluation.Question("pukhov", "?", (answer,), (("002_5d75630997774f8f", 0, 10**9),))
    assert not judge.right(other, index, doc, 0, len(text))                # not a gold article


def test_bad_overrides_are_refused():
    with pytest.raises(ValueError, match="key=value"):
        evaluation.with_overrides(evaluation.DEFAULT, ["chunk_sentences=4"])
    assert evaluation.with_overrides(evaluation.DEFAULT, ["rrf_k=20"]).rrf_k == 20
    assert evaluation.with_overrides(evaluation.DEFAULT, ["question_dates=false"]).question_dates is False
    with pytest.raises(ValueError, match="question_dates=true|false"):
        evaluation.with_overrides(evaluation.DEFAULT, ["question_dates=0"])


def test_bench_quick_json(pipeline):
    r = run_qa(pipeline, "bench", "--quick", "--json")
    encoders = r["build"]["encoders"]
    assert set(encoders) == ({"sentence-transformers", "onnx", "onnx-int8"} if train_extra() else {"onnx-int8"})
    assert len({(e["chunks"], e["sentences"]) for e in encoders.values()}) == 1     # the same texts
    for e in encoders.values():
        assert e["chunks"] > 0 and e["chunks_per_s"] > 0 and e["texts_per_s"] > 0 and e["peak_rss_mb"] > 0
        assert 0 < e["question"]["p50"] <= e["question"]["p95"]
    assert encoders["sentence-transformers" if train_extra() else "onnx-int8"]["build_speedup"] == 1.0
    for mode in ("hybrid", "bm25", "dense"):
        t = r["query"]["retrieve"][mode]["total"]
        assert 0 < t["p50"] <= t["p95"] <= t["p99"]
    assert set(r["query"]["retrieve"]["hybrid"]) == {"total", "bm25", "embed", "dense", "fusion"}
    cold = r["cold_start"]
    assert cold["wall_s"] > 0 and cold["citations"] >= 1 and cold["torch_loaded"] is False
    assert cold["cli_ask"]["exit"] == 0 and cold["cli_ask"]["peak_rss_mib_median"] > 0
    assert cold["chat_serving_s"] is not None and cold["chat_serving_s"] > 0
    agree = r["bm25_agreement"]
    assert agree["top10_equal"] == {"rank_bm25": agree["questions"], "bm25s": agree["questions"]}
    assert max(agree["max_score_gap"].values()) < 1e-3
    [scale] = r["scale"]["sizes"]
    assert scale["chunks"] == 2000 and 0.0 <= scale["ann_recall@10"]["synthetic_queries"] <= 1.0
    assert scale["hybrid"]["total"]["p50"] > 0


def test_squad_split_is_by_article_in_every_file():
    from qa.measure.datasets import V11_DEV_TITLES, split_of, tune_part
    # v1.1 dev keeps its halves: even positions tune, odd report
    assert [split_of(t, 0) for t in V11_DEV_TITLES[:4]] == ["tune", "report", "tune", "report"]
    # the same article in v2.0 dev, at another position, keeps its v1.1 half
    assert split_of("Islamism", 0) == "report" and split_of("Normans", 1) == "tune"
    assert split_of("Super_Bowl_50", 1) == "tune"                 # titles with _ for spaces too
    assert split_of("Some other article", 4) == "tune" and split_of("Some other article", 3) == "report"
    parts = [tune_part(t) for t in V11_DEV_TITLES]
    assert parts.count("train") == 12 and parts.count("fit") == 12 and parts.count(None) == 24
    assert tune_part("Islamism") is None


def test_fit_abstention_curve_on_the_seeds(pipeline):
    from qa.measure.datasets import load_seeds
    from qa.measure.tuning import fit_abstention
    ds = load_seeds(SEED_QUESTIONS, pipeline.seeds_dir, pipeline.index_dir)
    fit = fit_abstention(pipeline, ds.questions, progress=False)
    assert fit["questions"] == len(ds.questions) and fit["unanswerable"] == sum(not q.answers for q in ds.questions)
    recalls = [c["recall"] for c in fit["curve"]]
    assert recalls == sorted(recalls)                       # a higher threshold refuses more
    assert fit["chosen"] is not None and fit["chosen"]["cost"] <= 0.02
    # the operating point on the seeds (it asks for 8 of 8 of their unanswerables declined)
    assert fit["recall_at_precision_0.80"] >= 0.75 and fit["precision_at_recall_0.50"] >= 0.8
