"""`qa bench --backends`: the embedded and the Milvus backend on the same corpus, and Ray
indexing against in-process indexing on the same texts.

- indexing: an in-process build (read, chunk, encode, persist) and a Ray build of the same
  folder into fresh index folders; then the in-process index written into a fresh Milvus
  collection (its vectors reused: what Milvus itself costs), in chunks per second;
- queries: the same questions on both backends, alternating, `retrieve` k=5 per mode, p50/p95
  of the whole call and of the search alone (the question's vector is computed once, outside);
- agreement: how often both backends lead with the same passage (the same window, or one
  overlapping it in the same article), per mode.
Milvus is the server $MILVUS_URI names, else a milvus-lite stand-in started on 127.0.0.1 and
stopped by its PID. Timings mean something only against each other, measured in one run.
"""
from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from pathlib import Path

from .common import stats

log = logging.getLogger("qa")
MODES = ("hybrid", "bm25", "dense")


def _timed_build(folder: Path, index_dir: Path, engine=None) -> dict:
    from ..pipeline import Pipeline
    t = time.perf_counter()
    ix = Pipeline(folder, index_dir, backend="embedded", engine=engine).index
    s = time.perf_counter() - t
    stages = ix.manifest.get("timings_s", {})
    return {"s": s, "chunks": len(ix.chunks), "chunks_per_s": len(ix.chunks) / s, "stages_s": stages,
            # what the embedded backend itself costs: BM25 postings, faiss and the files, vectors given
            "index_and_persist_chunks_per_s": len(ix.chunks) / max(stages.get("index_and_persist", 0), 1e-9)}


def _same(a, b) -> tuple[bool, bool]:
    """(the same window, the same or an overlapping window of the same article)."""
    if not a or not b:
        return (not a and not b,) * 2
    a, b = a[0], b[0]
    return a.chunk_id == b.chunk_id, a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def _queries(emb, mil, questions: list[str]) -> dict:
    from ..retrieval import encoder
    from ..retrieval.search import search
    out = {}
    for mode in MODES:
        whole = {"embedded": [], "milvus": []}
        alone = {"embedded": [], "milvus": []}
        same = near = 0
        pair = [("embedded", emb), ("milvus", mil)]
        for i, q in enumerate(questions):
            vec = encoder.embed([q], emb.settings)[0]
            tops = {}
            for name, p in pair if i % 2 else pair[::-1]:          # alternate who goes first
                t = time.perf_counter()
                p.retrieve(q, k=5, mode=mode)
                whole[name].append(time.perf_counter() - t)
                t = time.perf_counter()
                tops[name] = search(p.index, q, 5, mode, query_vector=vec)
                alone[name].append(time.perf_counter() - t)
            s, n = _same(tops["embedded"], tops["milvus"])
            same, near = same + s, near + n
        out[mode] = {"retrieve": {k: stats(v) for k, v in whole.items()},
                     "search": {k: stats(v) for k, v in alone.items()},
                     "same_top": same / len(questions), "same_or_overlapping_top": near / len(questions)}
    return out


def run(folder: Path, questions: list[str], corpus: str, ray: bool = True) -> dict:
    from contextlib import nullcontext

    from ..pipeline import Pipeline
    from .stand_ins import milvus_lite
    out = {"corpus": corpus, "questions": len(questions), "cpus": os.cpu_count(),
           "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="qa-bench-backends-") as tmp:
        work = Path(tmp)
        log.info("bench: in-process build of %s", folder)
        out["build_in_process"] = _timed_build(folder, work / "index")
        if ray:
            from ..store.distributed import RayEngine
            log.info("bench: Ray build of the same folder")
            engine = RayEngine(Pipeline(folder, work / "index").settings)
            t = time.perf_counter()
            engine.start()
            start_s = time.perf_counter() - t
            try:
                out["build_ray"] = {**_timed_build(folder, work / "index-ray", engine), "ray_start_s": start_s}
            finally:
                engine.close()
        server = nullcontext((os.environ["MILVUS_URI"], None)) if os.environ.get("MILVUS_URI") \
            else milvus_lite(work / "milvus")
        with server as (uri, _):
            before = os.environ.get("MILVUS_URI")
            os.environ["MILVUS_URI"] = uri
            os.environ["QA_MILVUS_COLLECTION"] = f"qa_bench_{uuid.uuid4().hex[:12]}"
            try:
                emb = Pipeline(folder, work / "index", backend="embedded")
                emb.index
                mil = Pipeline(folder, work / "index", backend="milvus")
                log.info("bench: writing %d chunks into Milvus at %s", len(emb.index.chunks), uri)
                t = time.perf_counter()
                mil.index
                s = time.perf_counter() - t
                out["milvus_insert"] = {"s": s, "chunks": len(emb.index.chunks),
                                        "chunks_per_s": len(emb.index.chunks) / s, "uri": uri,
                                        "stand_in": "milvus-lite" if before is None else "MILVUS_URI"}
                log.info("bench: %d questions on both backends", len(questions))
                out["queries"] = _queries(emb, mil, questions)
                mil.index.backend.drop()
            finally:
                os.environ.pop("QA_MILVUS_COLLECTION", None)
                if before is None:
                    os.environ.pop("MILVUS_URI", None)
                else:
                    os.environ["MILVUS_URI"] = before
    out["load_average_at_end"] = os.getloadavg()
    return out


def report(r: dict) -> str:
    def ms(d):
        return f"{d['p50']:7.1f} {d['p95']:7.1f}"
    b, m = r["build_in_process"], r["milvus_insert"]
    st = b.get("stages_s", {})
    lines = [f"backends on {r['corpus']}: {b['chunks']:,} chunks, {r['questions']} questions, {r['cpus']} cpus; "
             f"load average {r['load_average_at_start'][0]:.1f} at start, {r['load_average_at_end'][0]:.1f} at end",
             f"indexing: in-process build {b['s']:.1f}s ({b['chunks_per_s']:.0f} chunks/s: read, split "
             f"{st.get('read_clean_chunk', 0):.1f}s, encode {st.get('encode', 0):.1f}s, BM25 + faiss + files "
             f"{st.get('index_and_persist', 0):.1f}s)"]
    if "build_ray" in r:
        y = r["build_ray"]
        lines.append(f"          Ray build of the same texts {y['s']:.1f}s ({y['chunks_per_s']:.0f} chunks/s; "
                     f"x{b['s'] / y['s']:.2f} of in-process), after {y['ray_start_s']:.1f}s starting Ray")
    lines += [f"          into the embedded backend (vectors given): {b.get('index_and_persist_chunks_per_s', 0):.0f} "
              f"chunks/s; into Milvus ({m['stand_in']}): {m['s']:.1f}s ({m['chunks_per_s']:.0f} chunks/s, "
              "vectors reused)",
              "queries, ms                  retrieve p50  p95   search p50  p95    same top  same or overlapping"]
    for mode, q in r["queries"].items():
        for name in ("embedded", "milvus"):
            tail = (f"   {q['same_top']:8.3f}  {q['same_or_overlapping_top']:8.3f}" if name == "milvus" else "")
            lines.append(f"  {mode:7s} {name:9s}            {ms(q['retrieve'][name])}       {ms(q['search'][name])}{tail}")
    return "\n".join(lines)


def measure(dataset: str | None, seeds_dir: Path, quick: bool = False) -> dict:
    """`qa bench --backends [SQUAD_JSON]`: on the seeds and their questions, or on a SQuAD file's
    articles (its cache, as `qa eval` keeps it) and 200 of its questions drawn with seed 0
    (`--quick`: 20 questions, and no Ray build)."""
    from .common import seed_questions
    from .datasets import default_cache, load_squad, sample
    if dataset:
        ds = load_squad(Path(dataset), default_cache())
        qs = [q.question for q in sample([q for q in ds.questions if q.answers], 20 if quick else 200, 0)]
        return run(ds.seeds_dir, qs, f"the articles of {ds.name}", ray=not quick)
    qs = seed_questions()
    return run(Path(seeds_dir), qs[:20] if quick else qs, f"the seeds ({seeds_dir})", ray=not quick)
