"""Faults, all or nothing: a write, fsync or rename that fails at its k-th call (every k), an
indexer killed with SIGKILL at random points of its writes, a full or read-only index folder,
two `qa index` at once, an article edited under a running pipeline. Afterwards the index is the
old generation or the new one, never a mix, and the next run answers from the new articles.
"""
from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

import qa
from qa import store
from qa.errors import IndexWriteError
from qa.retrieval.search import search

from conftest import REPO, SEEDS

BASE = ["002_5d75630997774f8f.txt", "003_6032db8118f64392.txt"]
NEW = ("Lahore zeppelin fleet refitted\n\nThe zeppelin fleet of Lahore was refitted with solar sails in the "
       "spring. Engineers from Karachi fitted the sails over six weeks. The first flight carried forty passengers.\n")
NEW_QUESTION = "Who fitted the solar sails of the zeppelin fleet?"
OPS = ("write", "fsync", "replace", "rename")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """Two seed articles and their index, built once; each case works on a copy."""
    d = tmp_path_factory.mktemp("faults-base")
    (d / "seeds").mkdir()
    for name in BASE:
        shutil.copy(SEEDS / name, d / "seeds" / name)
    store.build(d / "seeds", d / "index")
    return d


def _copy(base: Path, dest: Path) -> tuple[Path, Path, str]:
    """A copy of the base with one article added (so the index is stale); and its generation."""
    shutil.copytree(base, dest)
    (dest / "seeds" / "zz-zeppelin.txt").write_text(NEW, encoding="utf-8")
    gen = json.loads((dest / "index" / "manifest.json").read_text())["generation"]
    return dest / "seeds", dest / "index", gen


@contextmanager
def failing(op: str | None, k: int, err: int = errno.EIO):
    """Count the os-level write/fsync/replace/rename calls; the k-th call of `op` raises."""
    counts = dict.fromkeys(OPS, 0)
    real = {name: getattr(os, name) for name in OPS}

    def wrap(name):
        def call(*a, **kw):
            counts[name] += 1
            if name == op and counts[name] == k:
                raise OSError(err, f"injected failure of {name} #{k}")
            return real[name](*a, **kw)
        return call
    for name in OPS:
        setattr(os, name, wrap(name))
    try:
        yield counts
    finally:
        for name, fn in real.items():
            setattr(os, name, fn)


def _state(seeds: Path, idx: Path, old_gen: str) -> str:
    """'old' or 'new': which whole generation the folder serves (loading checks every file)."""
    ix = store.load(seeds, idx)
    docs = {c.doc_id for c in ix.chunks}
    if ix.manifest["generation"] == old_gen:
        assert "zz-zeppelin" not in docs
        return "old"
    assert "zz-zeppelin" in docs and ix.manifest["counts"]["chunks"] == len(ix.chunks)
    return "new"


def _answers_new(seeds: Path, idx: Path) -> None:
    ix = store.open_index(seeds, idx)
    assert ix.write_error is None and search(ix, NEW_QUESTION, k=1)[0].doc_id == "zz-zeppelin"
    assert not [p.name for p in idx.iterdir() if p.name.startswith(".tmp-") or p.name.endswith(".part")]


def test_a_failure_at_every_write_fsync_and_rename_leaves_a_whole_generation(base, tmp_path):
    seeds, idx, _ = _copy(base, tmp_path / "count")
    with failing(None, 0) as counts:
        store.open_index(seeds, idx)
    calls = dict(counts)
    assert calls["write"] >= 6 and calls["fsync"] >= 8 and calls["replace"] >= 7 and calls["rename"] >= 1, calls
    outcomes = {"old": 0, "new": 0}
    for op in OPS:
        for k in range(1, calls[op] + 1):
            seeds, idx, gen = _copy(base, tmp_path / f"{op}-{k}")
            with failing(op, k):
                ix = store.open_index(seeds, idx)      # the failed build falls back to the index as it was
            assert ix.write_error and "Input/output error" in ix.write_error
            assert ix.manifest["generation"] == gen
            outcomes[_state(seeds, idx, gen)] += 1
            _answers_new(seeds, idx)
            shutil.rmtree(tmp_path / f"{op}-{k}")
    print(f"fault injection: {sum(calls.values())} k values tried ({calls}); outcomes {outcomes}")
    assert outcomes["old"] >= sum(calls.values()) - 2    # only a failure after the manifest's rename leaves the new


def test_a_full_disk_without_an_index_to_fall_back_on_is_a_clear_error(base, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(base / "seeds", seeds)
    with failing("write", 3, errno.ENOSPC), pytest.raises(IndexWriteError, match="No space left on device"):
        store.open_index(seeds, tmp_path / "index")
    assert store.stale_reason(seeds, tmp_path / "index") == "no index yet"


KILLER = r"""
import os, signal, sys
from pathlib import Path
op, k = sys.argv[3], int(sys.argv[4])
real, n = getattr(os, op), [0]
def call(*a, **kw):
    n[0] += 1
    if n[0] == k:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*a, **kw)
setattr(os, op, call)
from qa import store
store.open_index(Path(sys.argv[1]), Path(sys.argv[2]))
"""


def test_an_indexer_killed_at_random_points_leaves_a_whole_generation(base, tmp_path):
    rng = random.Random(13)
    kills = []
    for i in range(8):
        op = rng.choice(OPS[:3])
        k = rng.randint(1, {"write": 7, "fsync": 16, "replace": 7}[op])
        seeds, idx, gen = _copy(base, tmp_path / f"kill-{i}")
        r = subprocess.run([sys.executable, "-c", KILLER, str(seeds), str(idx), op, str(k)], cwd=REPO,
                           capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert r.returncode == -signal.SIGKILL, r.stderr[-2000:]
        kills.append((op, k, _state(seeds, idx, gen)))
        _answers_new(seeds, idx)
    print(f"kill -9 at: {kills}")
    assert len(kills) == 8


def _tmpfs(path: Path, size_kb: int) -> bool:
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_full_or_read_only_index_folder_keeps_the_old_index_serving(base, tmp_path, fault):
    """A real tmpfs (mounting needs root, as in CI): too small for a second generation, or
    remounted read-only. The old index answers, `qa index` says why in one line, exit 2."""
    mnt = tmp_path / "mnt"
    used = sum(p.stat().st_size for p in (base / "index").rglob("*") if p.is_file())
    if not _tmpfs(mnt, used * 3 // 2 // 1024 + 64):
        pytest.skip("mounting a tmpfs needs root")
    try:
        seeds = tmp_path / "seeds"
        shutil.copytree(base / "seeds", seeds)
        shutil.copytree(base / "index", mnt / "index")
        idx = mnt / "index"
        if fault == "full":
            for name in sorted(os.listdir(SEEDS))[:5]:     # more text than the free space holds
                if name.endswith(".txt"):
                    shutil.copy(SEEDS / name, seeds / name)
        else:
            (seeds / "zz-zeppelin.txt").write_text(NEW, encoding="utf-8")
            subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        gen = json.loads((idx / "manifest.json").read_text())["generation"]
        ix = store.open_index(seeds, idx)
        want = "No space left on device" if fault == "full" else "Read-only file system"
        assert ix.write_error and want in ix.write_error and ix.manifest["generation"] == gen
        assert search(ix, "Who is Prabhat Shukla?", k=1)[0].doc_id == "003_6032db8118f64392"
        r = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(seeds), "--index", str(idx)],
                           cwd=REPO, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert r.returncode == 2 and want in r.stderr.strip().splitlines()[-1] and "Traceback" not in r.stderr
        assert store.load(seeds, idx).manifest["generation"] == gen
        assert not [p for p in idx.iterdir() if p.name.startswith(".tmp-") or p.name.endswith(".part")]
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_two_qa_index_at_once_build_once_and_neither_corrupts(base, tmp_path):
    seeds, idx, gen = _copy(base, tmp_path / "two")
    cmd = [sys.executable, "-m", "qa", "index", "--seeds", str(seeds), "--index", str(idx)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    logs = "".join(err for _, err in outs)
    assert logs.count("building the index") == 1, logs
    assert _state(seeds, idx, gen) == "new"
    _answers_new(seeds, idx)


def test_an_article_edited_under_a_running_pipeline_stops_verifying_and_is_indexed_again(base, tmp_path):
    shutil.copytree(base, tmp_path / "live")
    seeds, idx = tmp_path / "live" / "seeds", tmp_path / "live" / "index"
    p = qa.Pipeline(seeds, idx)
    ans = p.ask("Who is Prabhat Shukla?")
    assert ans.citations and p.verify(ans) == []
    cited = ans.citations[0]
    path = seeds / f"{cited.doc_id}.txt"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(cited.quote, cited.quote.replace("Shukla", "Shuklaa")), encoding="utf-8")
    problems = p.verify(ans)
    assert problems and any(cited.doc_id in x for x in problems)
    assert "changed" in (p.follow(every_s=0) or "")
    again = p.ask("Who is Prabhat Shuklaa?")
    assert "Shuklaa" in again.citations[0].quote and p.verify(again) == []


def test_the_chat_says_when_an_update_could_not_be_written(base, tmp_path):
    from qa.chat.app import responder
    mnt = tmp_path / "mnt"
    if not _tmpfs(mnt, 4096):
        pytest.skip("mounting a tmpfs needs root")
    try:
        seeds = tmp_path / "seeds"
        shutil.copytree(base / "seeds", seeds)
        shutil.copytree(base / "index", mnt / "index")
        p = qa.Pipeline(seeds, mnt / "index")
        respond = responder(p, str(tmp_path))
        chat = respond("Who is Prabhat Shukla?", [], [], "hybrid", 8)[0]
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        (seeds / "zz-zeppelin.txt").write_text(NEW, encoding="utf-8")
        time.sleep(2.1)                                   # the folder is looked at at most every 2 s
        reply = respond(NEW_QUESTION, chat, [], "hybrid", 8)[0][-1]["content"]
        assert "the index could not be updated" in reply and "Read-only file system" in reply
        assert "Traceback" not in reply
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
