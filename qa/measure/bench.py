"""Measuring speed: index build, warm query latency by stage, cold start, and scale.

Every figure comes from this run on this machine; where a ratio is given, its
baseline ran in the same run on the same input:
- build: chunks/s of `qa.store.build` end to end against the bare encoder on
  the same chunk and sentence texts (in a child process, for a clean peak RSS);
- warm queries on the seed index: p50/p95/p99 of retrieve per mode, split into
  BM25, query embedding, dense search and fusion, and of `ask` (answer selection
  = ask minus a k=8 retrieve of the same question), with the reader and, on the
  same index in the same run, without it and reading twice as many candidates;
- cold start: a fresh process from `import qa` to the first answer, index on disk;
- scale: synthetic corpora grown from the SQuAD dev articles (or the seeds when
  ../shared/eval is absent): each chunk is three sentences drawn at random from
  the real text, tokenised by our tokenizer; dense vectors are *synthetic*
  (clustered random unit vectors: encoding 100k chunks would take ~50 minutes),
  the query embedding is real. Peers on the same chunks: rank-bm25 called
  directly, bm25s with our variant, exact faiss search against our ANN index.
Left out: throughput under concurrent load (the chat serialises model calls).
"""
from __future__ import annotations

import copy
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from dataclasses import replace

from ..config import DEFAULT
from .bench_start import bench_cold
from .common import child, rss_mb, seed_questions, squad_articles, stats

log = logging.getLogger("qa")

# ---- build ---------------------------------------------------------------------------------------

ENCODERS = ("sentence-transformers", "onnx", "onnx-int8")


def _child_build(corpus: str, index_dir: str, encoder_name: str) -> dict:
    """One encoder, fresh process: model load, end-to-end build, bare encoding, question latency."""
    from dataclasses import replace
    from ..retrieval import encoder
    from ..store import build
    settings = replace(DEFAULT, encoder=encoder_name)
    t = time.perf_counter()
    enc = encoder.load(settings)              # an export into an empty cache is not counted
    load_s, rss_loaded = time.perf_counter() - t, rss_mb()
    t = time.perf_counter()
    ix = build(Path(corpus), Path(index_dir), settings)
    build_s, rss_built = time.perf_counter() - t, rss_mb()
    texts = [c.text for c in ix.chunks] + [ix.articles[d].text[s:e] for d, s, e in ix.sentence_spans]
    t = time.perf_counter()
    enc.embed(texts)
    raw_s = time.perf_counter() - t
    question_s = []
    for q in seed_questions() * 3:
        t = time.perf_counter()
        enc.embed([q])
        question_s.append(time.perf_counter() - t)
    return {"encoder": encoder_name, "model_load_s": load_s, "build_s": build_s, "chunks": len(ix.chunks),
            "sentences": len(ix.sentence_spans), "chars": sum(len(a.text) for a in ix.articles.values()),
            "raw_encode_s": raw_s, "texts": len(texts), "question": stats(question_s[3:]),
            "rss_after_model_mb": rss_loaded, "peak_rss_mb": rss_built}


def bench_build(corpus: Path, work: Path) -> dict:
    """Each encoder builds the same corpus in its own process; ratios are to sentence-transformers.
    Without the train extra only the shipped int8 encoder runs (the others need torch)."""
    import importlib.util
    train = importlib.util.find_spec("sentence_transformers") is not None
    out = {"corpus": str(corpus), "encoders": {}}
    if not train:
        out["note"] = "only onnx-int8: the fp32 export and sentence-transformers need the train extra"
    for name in ENCODERS if train else ("onnx-int8",):
        r = child("qa.measure.bench", "build", str(corpus), str(work / f"build-{name}"), name)
        r.update(chunks_per_s=r["chunks"] / r["build_s"], texts_per_s=r["texts"] / r["raw_encode_s"],
                 encoder_share=r["raw_encode_s"] / r["build_s"])
        out["encoders"][name] = r
    base = out["encoders"]["sentence-transformers" if train else "onnx-int8"]
    for r in out["encoders"].values():
        r["build_speedup"] = r["chunks_per_s"] / base["chunks_per_s"]
        r["encode_speedup"] = r["texts_per_s"] / base["texts_per_s"]
    return out


def build_corpus(work: Path, seeds_dir: Path, quick: bool) -> Path:
    """Seeds for --quick; otherwise the first 8 SQuAD articles (about 900 chunks) when present."""
    arts = [] if quick else squad_articles(8)
    if not arts:
        return seeds_dir
    d = work / "build-corpus"
    d.mkdir(parents=True, exist_ok=True)
    for i, (title, text) in enumerate(arts):
        (d / f"a{i:02d}.txt").write_text(f"{title}\n\n{text}", encoding="utf-8")
    return d


# ---- warm queries -----------------------------------------------------------------

STAGES = {"hybrid": ("total", "bm25", "embed", "dense", "fusion"), "bm25": ("total", "bm25", "fusion"),
          "dense": ("total", "embed", "dense", "fusion")}


def bench_queries(pipeline, questions: list[str], repeats: int) -> dict:
    """Warm latency of retrieve (per mode, by stage) and ask on the pipeline's index."""
    from ..retrieval.search import search
    ix = pipeline.index
    search(ix, questions[0], 5)            # warm the model and caches
    out = {"chunks": len(ix.chunks), "questions": len(questions), "repeats": repeats, "retrieve": {}}
    for mode in ("hybrid", "bm25", "dense"):
        stages = {"total": [], "bm25": [], "embed": [], "dense": [], "fusion": []}
        for _ in range(repeats):
            for q in questions:
                t, tm = time.perf_counter(), {}
                search(ix, q, 5, mode, timings=tm)
                stages["total"].append(time.perf_counter() - t)
                for k, v in tm.items():
                    stages[k].append(v)
        out["retrieve"][mode] = {k: stats(v) for k, v in stages.items() if k in STAGES[mode]}
    try:
        pipeline.ask(questions[0])
    except ImportError as e:              # the answerer is not there yet
        out["ask"] = {"error": f"qa.ask unavailable: {e}"}
        return out
    total, retr, select = [], [], []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            search(ix, q, 8)
            r = time.perf_counter() - t
            t = time.perf_counter()
            pipeline.ask(q)
            a = time.perf_counter() - t
            total.append(a), retr.append(r), select.append(max(0.0, a - r))
    out["ask"] = {"total": stats(total), "retrieve_k8": stats(retr), "answer_selection": stats(select)}
    # the same questions on the same index with the reader off: before and after in one run
    from ..answering.answer import answer
    variants = {"total_without_reader": replace(ix.settings, reader=""),      # and reading twice as many
                "total_reading_2x_passages": replace(ix.settings, reader_passages=2 * ix.settings.reader_passages)}
    for name, settings in variants.items():
        other, times = copy.copy(ix), []
        other.settings = settings
        answer(other, questions[0])
        for _ in range(repeats):
            for q in questions:
                t = time.perf_counter()
                answer(other, q)
                times.append(time.perf_counter() - t)
        out["ask"][name] = stats(times)
    return out


# ---- the command -----------------------------------------------------------------------------------

def parse_sizes(text: str | None) -> list[int] | None:
    """`--sizes 10000,100000` as numbers (None: the defaults); ValueError saying what to give."""
    try:
        return [int(x) for x in text.split(",")] if text else None
    except ValueError:
        raise ValueError(f"--sizes {text!r}: give whole numbers separated by commas, e.g. 10000,100000") from None


def run(seeds_dir: Path, index_dir: Path, quick: bool = False, sizes: list[int] | None = None,
        progress: bool = True) -> dict:
    """Every section of the benchmark; `quick` is a smoke run of well under a minute."""
    from ..pipeline import Pipeline
    from .bench_scale import bench_scale, bm25_agreement, scale_questions, sentence_pool

    def say(msg):
        if progress:
            log.info("bench: %s", msg)

    sizes = sizes or ([2_000] if quick else [10_000, 100_000])
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                       "load_average_at_start": os.getloadavg()}, "quick": quick}
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        work = Path(tmp)
        corpus = build_corpus(work, seeds_dir, quick)
        say(f"index build on {corpus}")
        out["build"] = bench_build(corpus, work)
        pipeline = Pipeline(seeds_dir, index_dir)
        questions = seed_questions()
        say(f"warm queries on {len(pipeline.index.chunks)} chunks")
        out["query"] = bench_queries(pipeline, questions[:8] if quick else questions, 1 if quick else 5)
        out["bm25_agreement"] = bm25_agreement(pipeline.index)
        say("cold start")
        out["cold_start"] = bench_cold(pipeline.seeds_dir, pipeline.index_dir, questions[0])
        pool, source = sentence_pool(pipeline.seeds_dir, quick)
        scale_qs = scale_questions(quick) or questions
        out["scale"] = {"source": source, "sentences": len(pool), "vectors": "synthetic: clustered random unit vectors "
                        "(query embeddings are real)", "sizes": []}
        for n in sizes:
            say(f"scale {n:,} chunks")
            out["scale"]["sizes"].append(bench_scale(n, pool, scale_qs, 0 if n > 200_000 else (3 if quick else 10)))
    out["machine"]["load_average_at_end"] = os.getloadavg()
    return out


def report(r: dict) -> str:
    """The benchmark as text tables (milliseconds unless marked)."""
    def ms(d):
        return f"{d['p50']:7.2f} {d['p95']:7.2f} {d['p99']:7.2f}" if d.get("n") else "      -       -       -"
    b = r["build"]
    m = r["machine"]
    first = next(iter(b["encoders"].values()))
    lines = [f"{m['cpus']} cpus, Python {m['python']}; load average (1, 5, 15 min) at start "
             f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'])}, at end "
             f"{', '.join(f'{x:.1f}' for x in m.get('load_average_at_end', ()))} (other work on the machine skews timings)",
             f"index build, each encoder in its own process on the same {first['chunks']} chunks and "
             f"{first['sentences']} sentences ({first['chars']:,} chars):",
             "  encoder               build chunks/s  (x ST)  encode texts/s  (x ST)  share  question ms p50   p95"
             "  peak RSS MB"]
    for name, e in b["encoders"].items():
        lines.append(f"  {name:21s} {e['chunks_per_s']:14.1f}  {e['build_speedup']:5.2f}x  {e['texts_per_s']:14.1f}  "
                     f"{e['encode_speedup']:5.2f}x  {e['encoder_share']:4.0%}  {e['question']['p50']:15.2f} "
                     f"{e['question']['p95']:5.2f}  {e['peak_rss_mb']:11.0f}")
    lines += ["", f"warm queries on the seed index ({r['query']['chunks']} chunks), ms        p50     p95     p99"]
    for mode, st in r["query"]["retrieve"].items():
        for k, d in st.items():
            lines.append(f"  retrieve {mode:7s} {k:8s}                      {ms(d)}")
    for k, d in r["query"].get("ask", {}).items():
        lines.append(f"  ask {k:18s}                        {ms(d)}" if isinstance(d, dict) else f"  ask: {d}")
    c = r["cold_start"]
    cli = c["cli_ask"]
    serving = f"{c['chat_serving_s']:.2f}s" if c.get("chat_serving_s") else "did not serve within 60 s"
    lines += ["", f"cold start to first answer: {c['wall_s']:.2f}s (interpreter + imports "
              f"{c['startup_and_import_s']:.2f}s, index load {c['load_index_s']:.2f}s, model load "
              f"{c['load_model_s']:.2f}s, reader load {c.get('load_reader_s', 0.0):.2f}s, first answer {c['first_answer_s']:.2f}s; torch loaded: {c['torch_loaded']})",
              f"`python -m qa ask` process, median of {cli['runs']}: {cli['wall_s_median']:.2f}s wall, "
              f"{cli['peak_rss_mib_median']:.0f} MiB peak RSS; app.py serving after {serving}"]
    a = r["bm25_agreement"]
    lines += [f"BM25 agreement on {a['questions']} seed questions: top-10 equal rank_bm25 "
              f"{a['top10_equal']['rank_bm25']}/{a['questions']}, bm25s {a['top10_equal']['bm25s']}/{a['questions']}; "
              f"max score gap {a['max_score_gap']['rank_bm25']:.1e} / {a['max_score_gap']['bm25s']:.1e}", "",
              f"scale ({r['scale']['source']}; dense vectors {r['scale']['vectors']}), ms p50 p95 p99"]
    for s in r["scale"]["sizes"]:
        lines.append(f"  {s['chunks']:>9,} chunks  dense index {s['dense_index']}  ANN recall@10 "
                     f"{s['ann_recall@10']['synthetic_queries']:.3f} (synthetic queries)  build s: " + ", ".join(f"{k} {v:.1f}" for k, v in s["build_s"].items() if v)
                     + f"  peak RSS {s['peak_rss_mb']:.0f} MB")
        for k, d in s["hybrid"].items():
            lines.append(f"      hybrid {k:12s} {ms(d)}")
        for k, d in s["peers"].items():
            lines.append(f"      peer   {k:12s} {ms(d)}")
    return "\n".join(lines)


if __name__ == "__main__":           # a child process of the benchmark: name, result file, arguments
    _name, _result, *_args = sys.argv[1:]
    _out = {"build": _child_build}[_name](*_args)
    Path(_result).write_text(json.dumps(_out), encoding="utf-8")
