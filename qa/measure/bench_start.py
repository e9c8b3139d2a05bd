"""Measuring a cold start: a fresh process to its first answer, the `qa ask` command, the chat serving.

Each runs in its own process against an index already on disk, so what is
measured is what a user waits for: interpreter, imports, index load, model load
and the first answer; `python -m qa ask` as a whole (median wall and peak RSS
of a few runs); and `app.py` until it answers HTTP on a loopback port (then it
is stopped by its PID).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ..config import PROJECT_ROOT
from .common import child, serving


def _child_cold(seeds: str, index_dir: str, question: str) -> dict:
    """Runs in a fresh process (qa already imported by `-m qa.measure.bench`): load, model, first answer."""
    from ..answering.reader import load as load_reader
    from ..pipeline import Pipeline
    from ..retrieval import encoder
    t1 = time.perf_counter()
    p = Pipeline(seeds, index_dir)
    p.index
    t2 = time.perf_counter()
    encoder.load(p.settings)
    t3 = time.perf_counter()
    load_reader(p.settings)
    t3r = time.perf_counter()
    ans = p.ask(question)
    t4 = time.perf_counter()
    return {"load_index_s": t2 - t1, "load_model_s": t3 - t2, "load_reader_s": t3r - t3, "first_answer_s": t4 - t3r,
            "citations": len(ans.citations), "torch_loaded": "torch" in sys.modules}


# Started from a small interpreter, so that the peak is the command's own: a child's ru_maxrss
# keeps the peak of the memory it was forked or vforked with, which from the benchmark's own
# process (several hundred MB) would be the benchmark's, not the command's.
_PEAK = ("import os, sys\n"
         "pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=["
         "(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])\n"
         "_, status, usage = os.wait4(pid, 0)\n"
         "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n")


def bench_cold(seeds: Path, index_dir: Path, question: str, runs: int = 3) -> dict:
    """In-process stages once, then `python -m qa ask` as a user runs it: median wall and peak RSS."""
    import statistics
    r = child("qa.measure.bench_start", "cold", str(seeds), str(index_dir), question)
    r["startup_and_import_s"] = (r["wall_s"] - r["load_index_s"] - r["load_model_s"] - r["load_reader_s"]
                                 - r["first_answer_s"])
    env = {**os.environ, "QA_SEEDS": str(seeds), "QA_INDEX": str(index_dir)}
    walls, peaks = [], []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-S", "-c", _PEAK, sys.executable, "-m", "qa", "ask", question],
                             env=env, cwd=str(PROJECT_ROOT), capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        code, peak_kib = (int(x) for x in out.stdout.split()[-2:])
        peaks.append(peak_kib / 1024)
    r["cli_ask"] = {"runs": runs, "wall_s_median": statistics.median(walls), "peak_rss_mib_median":
                    statistics.median(peaks), "exit": code}
    r["chat_serving_s"] = bench_chat_start(seeds, index_dir)
    return r


def bench_chat_start(seeds: Path, index_dir: Path, limit_s: float = 60) -> float | None:
    """Seconds from starting `app.py` on a free loopback port until it answers HTTP; it is then stopped."""
    t = time.perf_counter()
    try:
        with serving(seeds, index_dir, limit_s):
            return time.perf_counter() - t
    except RuntimeError:
        return None


if __name__ == "__main__":           # a child process of the benchmark: name, result file, arguments
    _name, _result, *_args = sys.argv[1:]
    _out = {"cold": _child_cold}[_name](*_args)
    Path(_result).write_text(json.dumps(_out), encoding="utf-8")
