"""Load: many askers at once, in one process and through the chat's HTTP API.

- `threads`: T threads call `Pipeline.ask` over the seed questions, N asks in all. Every
  answer must equal the one asked alone (sequentially, before); errors are counted; p50/p95
  per ask; resident memory after a warm-up and at the end (growth over the N asks).
- `api`: C clients, each in a loop for S seconds, POST `/gradio_api/call/ask` to app.py on
  127.0.0.1 and read the result stream. An answer must equal the first one for its question;
  a 503 ("queue is full") is a refusal, timed: it must come at once. Then a burst of requests
  sent together, more than the queue holds: how many are refused and how fast, and that every
  request ends (none hangs).
- `upload` and `flood` (`bench_upload.py`), against app.py over a copy of the articles: `/ask`
  while an upload of N MB is indexed against `/ask` alone; and what Gradio's upload folder
  holds after K files are posted to it, until it is back under its cap and once the server stops.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import bench_upload, common
from .common import TIMEOUT_S, call, pid_rss_mb, stats  # noqa: F401  (call: the tests' too)


def rss_now_mb() -> float:
    """Resident memory of this process now (not its peak), in MB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def threads(pipeline, questions: list[str], n_threads: int = 16, n_asks: int = 500) -> dict:
    """`n_asks` asks from `n_threads` threads at once; answers compared with sequential ones."""
    pipeline.ask(questions[0])                                          # load the index and models
    t_seq = time.perf_counter()
    expected = {q: pipeline.ask(q).to_dict() for q in questions}
    seq_s = (time.perf_counter() - t_seq) / len(questions)
    rss_start = rss_now_mb()
    lock, lat, errors, differ = threading.Lock(), [], [], []

    def one(i: int) -> None:
        q = questions[i % len(questions)]
        t = time.perf_counter()
        try:
            got = pipeline.ask(q).to_dict()
        except Exception as e:        # noqa: BLE001: counting every failure is the point
            with lock:
                errors.append(f"{q!r}: {type(e).__name__}: {e}")
            return
        with lock:
            lat.append(time.perf_counter() - t)
            if got != expected[q]:
                differ.append(q)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        list(pool.map(one, range(n_asks)))
    wall = time.perf_counter() - t0
    return {"threads": n_threads, "asks": n_asks, "questions": len(questions), "errors": len(errors),
            "error_examples": errors[:3], "differ_from_sequential": len(differ), "wall_s": wall,
            "asks_per_s": n_asks / wall, "sequential_asks_per_s": 1 / seq_s, "latency_ms": stats(lat), "rss_mb_after_warmup": rss_start,
            "rss_mb_end": rss_now_mb(), "rss_growth_mb": rss_now_mb() - rss_start}


def api(url: str, questions: list[str], clients: int = 20, seconds: float = 60.0, burst: int = 40) -> dict:
    """`clients` looping for `seconds` against the chat at `url` (127.0.0.1), then a burst."""
    url = url.rstrip("/")
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the load bench talks to 127.0.0.1 only, not {url}")
    first = {}
    for q in questions:                                   # alone: the reference answers, and a warm-up
        kind, data, _ = call(url, q)
        if kind != "answer":
            raise RuntimeError(f"the chat did not answer {q!r} alone: {kind} {data}")
        first[q] = data
    lock = threading.Lock()
    out = {"answer": [], "refused": [], "error": [], "hung": [], "differ": 0, "error_examples": []}
    stop = time.monotonic() + seconds

    def client(c: int) -> None:
        i = c
        while time.monotonic() < stop:
            q = questions[i % len(questions)]
            i += clients
            kind, data, dt = call(url, q)
            with lock:
                out[kind].append(dt)
                if kind == "answer" and data != first[q]:
                    out["differ"] += 1
                if kind == "error" and len(out["error_examples"]) < 3:
                    out["error_examples"].append(str(data)[:200])
            if kind == "refused":
                time.sleep(0.05)          # a refused client tries again shortly, as a browser would
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - t0
    with ThreadPoolExecutor(max_workers=burst) as pool:
        burst_results = list(pool.map(lambda i: call(url, questions[i % len(questions)]), range(burst)))
    kinds = [k for k, _, _ in burst_results]
    return {"clients": clients, "seconds": seconds, "wall_s": wall, "answered": len(out["answer"]),
            "refused": len(out["refused"]), "errors": len(out["error"]), "hung": len(out["hung"]),
            "error_examples": out["error_examples"], "differ_from_alone": out["differ"],
            "answer_ms": stats(out["answer"]), "refusal_ms": stats(out["refused"]),
            "burst": {"requests": burst, "answered": kinds.count("answer"), "refused": kinds.count("refused"),
                      "errors": kinds.count("error"), "hung": kinds.count("hung"),
                      "refusal_ms": stats([dt for k, _, dt in burst_results if k == "refused"]),
                      "slowest_s": max(dt for _, _, dt in burst_results)}}


def run(seeds: Path, index_dir: Path, quick: bool = False, upload_mb: float = 4.9) -> dict:
    """The load bench: threads in this process, then clients against app.py, then asking while an
    upload of `upload_mb` MB is indexed and a flood of the upload route (quick: a smoke run)."""
    from ..pipeline import Pipeline
    from .common import seed_questions
    questions = list(dict.fromkeys(seed_questions()))
    pipeline = Pipeline(seeds, index_dir)
    out = {"threads": threads(pipeline, questions[:8] if quick else questions, 16, 48 if quick else 500)}
    with common.serving(seeds, index_dir) as (url, pid):
        start = pid_rss_mb(pid)
        out["api"] = api(url, questions[:6] if quick else questions, 20, 8.0 if quick else 60.0, 40)
        out["api"].update(rss_mb_start=start, rss_mb_end=pid_rss_mb(pid))
    out.update(bench_upload.run(seeds, index_dir, questions[:6], upload_mb, quick))
    return out


def report(r: dict) -> str:
    t, a = r["threads"], r.get("api")
    lines = [f"threads: {t['threads']} threads, {t['asks']} asks of {t['questions']} seed questions in "
             f"{t['wall_s']:.1f} s ({t['asks_per_s']:.1f}/s; one at a time {t['sequential_asks_per_s']:.1f}/s): errors {t['errors']}, answers differing from "
             f"sequential {t['differ_from_sequential']}; per ask p50 {t['latency_ms']['p50']:.0f} ms, "
             f"p95 {t['latency_ms']['p95']:.0f} ms; memory after warm-up {t['rss_mb_after_warmup']:.0f} MB, "
             f"at the end {t['rss_mb_end']:.0f} MB (growth {t['rss_growth_mb']:+.1f} MB)"]
    if a:
        b = a["burst"]
        lines.append(f"api: {a['clients']} clients for {a['seconds']:.0f} s on 127.0.0.1: answered {a['answered']} "
                     f"(p50 {a['answer_ms'].get('p50', 0):.0f} ms, p95 {a['answer_ms'].get('p95', 0):.0f} ms), "
                     f"refused at once {a['refused']} (p95 {a['refusal_ms'].get('p95', 0):.0f} ms), errors "
                     f"{a['errors']}, hung {a['hung']}, answers differing from the one alone {a['differ_from_alone']}")
        lines.append(f"burst: {b['requests']} requests at once: answered {b['answered']}, refused {b['refused']} "
                     f"(p95 {b['refusal_ms'].get('p95', 0):.0f} ms), errors {b['errors']}, hung {b['hung']}; "
                     f"slowest {b['slowest_s']:.1f} s")
        if "rss_mb_start" in a:
            lines.append(f"server memory: {a['rss_mb_start']:.0f} MB after warm-up, {a['rss_mb_end']:.0f} MB at the end")
    if "upload" in r:
        lines += [bench_upload.report(r["upload"]), bench_upload.flood_report(r["flood"])]
    return "\n".join(lines)
