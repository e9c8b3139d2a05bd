"""What the measurements share: where the SQuAD data is, the seed questions, percentiles, peak RSS,
and app.py served on a loopback port (stopped by its PID)."""
from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..config import PROJECT_ROOT

SQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "squad-v1.1-dev.json"
FALLBACK_QUESTIONS = ["Why was Putin's visit cancelled?", "Who is Ruslan Pukhov?", "When did Kayani arrive in Moscow?",
                      "What does Gazprom want in Pakistan?", "How big is Russia's share of the arms trade?"]


def stats(seconds: list[float]) -> dict:
    """p50/p95/p99 and mean in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = np.asarray(seconds) * 1000.0
    return {"n": int(ms.size), "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def seed_questions() -> list[str]:
    path = PROJECT_ROOT / "tests" / "seed_questions.jsonl"
    if path.exists():
        return [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return list(FALLBACK_QUESTIONS)


def squad_articles(n: int | None = None) -> list[tuple[str, str]]:
    """(title, text) of the SQuAD v1.1 dev articles, or [] when ../shared/eval is absent."""
    if not SQUAD.exists():
        return []
    docs = json.loads(SQUAD.read_text(encoding="utf-8"))["documents"]
    return [(d["title"].replace("_", " "), d["text"]) for d in docs[:n]]


def child(module: str, name: str, *args: str, timeout: float = 3600) -> dict:
    """Run `name` in a fresh interpreter (`python -m module name out.json args`); its JSON and wall time."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="qa-bench-child-") as tmp:
        result = Path(tmp) / "result.json"
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", module, name, str(result), *args],
                             capture_output=True, text=True, timeout=timeout, env=env, cwd=str(PROJECT_ROOT))
        wall = time.perf_counter() - t
        if out.returncode != 0 or not result.exists():
            raise RuntimeError(f"bench child {name} failed: {out.stderr.strip()[-800:]}")
        return {**json.loads(result.read_text(encoding="utf-8")), "wall_s": wall}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(seeds: Path, index_dir: Path, ready_s: float = 240.0):
    """app.py on a free 127.0.0.1 port over `seeds`; yields (url, pid); stopped by its PID."""
    port = free_port()
    env = {**os.environ, "QA_SEEDS": str(seeds), "QA_INDEX": str(index_dir)}
    proc = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "app.py"), "--port", str(port)], env=env,
                            cwd=str(PROJECT_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, t = f"http://127.0.0.1:{port}", time.monotonic()
    try:
        while True:
            if proc.poll() is not None or time.monotonic() - t > ready_s:
                raise RuntimeError(f"app.py did not start serving on {url} (exit {proc.poll()})")
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        yield url, proc.pid
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
