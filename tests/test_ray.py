"""`qa index --ray`: chunking and encoding on a local Ray runtime (2 CPUs here) that listens on
127.0.0.1 only, and leaves no process behind.

Each run is a real `python -m qa index --ray` in its own session; a watcher reads, every 0.3 s,
what every process of that session listens on (from /proc). Ray workers and actors start their
own process groups but stay in the session, so the session is the whole of what the run spawned.
Skipped when Ray is not installed, except with QA_REQUIRE_SCALE=1 (CI).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import REPO, copy_seeds

try:
    import ray  # noqa: F401
except ImportError:
    if os.environ.get("QA_REQUIRE_SCALE") == "1":
        raise
    pytest.skip("Ray is not installed (pip install -e '.[scale]')", allow_module_level=True)

from qa.measure.stand_ins import listeners, loopback, session_pids  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402


def run_watched(args: list[str], env: dict, timeout: float = 600) -> tuple[subprocess.CompletedProcess, set, list]:
    """Run `python -m qa ...` in a new session: (result, every address it listened on, pids left after)."""
    proc = subprocess.Popen([sys.executable, "-m", "qa", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen: set[str] = set()
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.update(listeners(session_pids(proc.pid)))
            done.wait(0.3)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        t.join()
    deadline = time.monotonic() + 20
    left = session_pids(proc.pid)
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = session_pids(proc.pid)
    for pid in left:                      # never leave them running, whatever the test says next
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), seen, left


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return copy_seeds(tmp_path_factory.mktemp("ray-seeds"))


@pytest.fixture(scope="module")
def ray_run(folder, tmp_path_factory):
    ix = tmp_path_factory.mktemp("ray-index")
    env = {**os.environ, "QA_BACKEND": "embedded"}
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)          # qa must set it itself
    result, seen, left = run_watched(["index", "--ray", "--seeds", str(folder), "--index", str(ix)], env)
    return ix, env, result, seen, left


def test_ray_indexing_listens_on_loopback_and_leaves_nothing(ray_run):
    _, _, result, seen, left = ray_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"\b\d+ chunks from 4 articles", result.stdout), result.stdout    # the same chunks: next test
    assert seen, "the watcher saw no Ray listener at all"
    assert all(loopback(a) for a in seen), sorted(seen)
    assert left == [], f"processes outlived the run: {left}"


def test_ray_builds_the_index_an_in_process_build_builds(ray_run, folder, tmp_path):
    ix, _, result, _, _ = ray_run
    assert result.returncode == 0, result.stderr[-2000:]
    by_ray = Pipeline(folder, ix).index
    here = Pipeline(folder, tmp_path / "here").index
    assert [(c.doc_id, c.start, c.end, c.sentences) for c in by_ray.chunks] == \
           [(c.doc_id, c.start, c.end, c.sentences) for c in here.chunks]
    # both are stored as 8-bit codes (the windows' quantizer fitted to each build's vectors), so
    # the two builds' cosines are a little below the float32 ones (> 0.999 before format 3)
    cos = np.sum(by_ray.dense.vectors() * here.dense.vectors(), axis=1)
    assert cos.min() > 0.995, cos.min()
    assert np.min(np.sum(by_ray.sentence_vectors[:] * here.sentence_vectors[:], axis=1)) > 0.995
    assert Pipeline(folder, ix).ask("Who is Ruslan Pukhov?").citations[0].quote == \
           Pipeline(folder, tmp_path / "here").ask("Who is Ruslan Pukhov?").citations[0].quote


def test_ray_indexing_is_incremental(ray_run, folder):
    ix, env, first, _, _ = ray_run
    assert first.returncode == 0, first.stderr[-2000:]
    new = folder / "zz_ray_new.txt"
    new.write_text("Ray test town\n\nThe council of Wexbridge voted to rebuild the old bridge. "
                   "Work starts in May.\n", encoding="utf-8")
    try:
        result, seen, left = run_watched(["index", "--ray", "--seeds", str(folder), "--index", str(ix)], env)
    finally:
        new.unlink()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "(1 articles split into sentences again)" in result.stdout, result.stdout
    encoded = int(result.stdout.split("encoded ")[1].split()[0])
    assert 1 <= encoded <= 4, result.stdout          # the new article's window and sentences, nothing else
    assert all(loopback(a) for a in seen) and left == []


def test_an_up_to_date_index_starts_no_ray(ray_run, folder):
    """Ray starts only when something is to be split or encoded: not for an unchanged folder, nor for
    a removed article (after the incremental test, the first run below drops its article)."""
    ix, env, first, _, _ = ray_run
    assert first.returncode == 0, first.stderr[-2000:]
    for _ in range(2):
        result, seen, left = run_watched(["index", "--ray", "--seeds", str(folder), "--index", str(ix)], env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert seen == set() and left == []
    assert "up to date: nothing read again, nothing encoded" in result.stdout, result.stdout
