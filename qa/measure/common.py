"""What the measurements share: where the SQuAD data is, the seed questions, percentiles, peak RSS,
app.py served on a loopback port (stopped by its PID), one `/ask` over HTTP and a process's memory."""
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
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..config import PROJECT_ROOT

SQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "squad-v1.1-dev.json"
TIMEOUT_S = 120.0            # a request to app.py that takes longer than this counts as hung
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
def serving(seeds: Path, index_dir: Path, ready_s: float = 240.0, env: dict | None = None):
    """app.py on a free 127.0.0.1 port over `seeds` (`env`: more environment); yields (url, pid);
    stopped by its PID."""
    port = free_port()
    env = {**os.environ, **(env or {}), "QA_SEEDS": str(seeds), "QA_INDEX": str(index_dir)}
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


def call(url: str, question: str, timeout: float = TIMEOUT_S) -> tuple[str, object, float]:
    """One `/ask` through Gradio's HTTP API: ("answer", the answer's dict) | ("refused", detail) |
    ("error", message) | ("hung", None); and its seconds."""
    t = time.perf_counter()
    body = json.dumps({"data": [question, "hybrid", 8, [], "", "", []]}).encode("utf-8")
    req = urllib.request.Request(f"{url}/gradio_api/call/ask", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            event_id = json.loads(resp.read())["event_id"]
        with urllib.request.urlopen(f"{url}/gradio_api/call/ask/{event_id}", timeout=timeout) as resp:
            event = None
            for raw in resp:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event in ("complete", "error"):
                    data = json.loads(line[6:])
                    kind = "answer" if event == "complete" else "error"
                    if kind == "answer" and isinstance(data, list):
                        data = json.loads(data[0])          # the endpoint returns the answer as JSON text
                    return kind, data, time.perf_counter() - t
        return "error", "the result stream ended without a result", time.perf_counter() - t
    except urllib.error.HTTPError as e:
        detail = e.read().decode("utf-8", "replace")[:200]
        return ("refused" if e.code == 503 else "error"), f"{e.code} {detail}", time.perf_counter() - t
    except TimeoutError:
        return "hung", None, time.perf_counter() - t
    except (OSError, ValueError, KeyError) as e:
        return "error", f"{type(e).__name__}: {e}", time.perf_counter() - t


def pid_rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return next((int(x.split()[1]) / 1024.0 for x in f if x.startswith("VmRSS:")), 0.0)
    except OSError:
        return 0.0
