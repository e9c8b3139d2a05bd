"""The command line, as a user runs it: python -m qa ..."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO


def run(pipeline, *args, check=None):
    cmd = [sys.executable, "-m", "qa", *args[:1], "--seeds", str(pipeline.seeds_dir),
           "--index", str(pipeline.index_dir), *args[1:]]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    if check is not None:
        assert p.returncode == check, p.stderr
    return p


def test_index_reports_what_it_built(pipeline):
    p = run(pipeline, "index", check=0)
    assert "chunks from 4 articles" in p.stdout and "1 duplicate" in p.stdout


def test_retrieve_json(pipeline):
    hits = json.loads(run(pipeline, "retrieve", "Who is Ruslan Pukhov?", "-k", "3", "--json", check=0).stdout)
    assert len(hits) == 3 and {"doc_id", "start", "end", "text", "bm25_rank", "dense_rank", "also_in"} <= set(hits[0])


def test_ask_then_check(pipeline, tmp_path):
    out = run(pipeline, "ask", "Why was Putin's visit cancelled?", "--json", check=0).stdout
    data = json.loads(out)
    assert data["schema"] == "qa.answer/4" and len(data["citations"]) >= 2
    good = tmp_path / "answer.json"
    good.write_text(out, encoding="utf-8")
    assert "OK: all" in run(pipeline, "check", str(good), check=0).stdout
    data["citations"][0]["start"] += 3
    data["citations"][1]["quote"] = "Something nobody wrote."
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    p = run(pipeline, "check", str(bad), check=1)
    assert p.stdout.count("FAIL") >= 2 and "[1]" in p.stdout and "[2]" in p.stdout


@pytest.mark.parametrize("content", [b"not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"citations": [{"doc_id": 1}]}'])
def test_check_refuses_garbage_cleanly(pipeline, tmp_path, content):
    f = tmp_path / "x.json"
    f.write_bytes(content)
    p = run(pipeline, "check", str(f))
    assert p.returncode == 2 and "Traceback" not in p.stderr and "cannot read" in p.stderr


def test_ask_markdown_and_errors(pipeline):
    p = run(pipeline, "ask", "What is the capital of France?", check=0)
    assert "Not in these articles" in p.stdout and "Nearest passages" in p.stdout
    p = run(pipeline, "ask", "   ", check=2)
    assert "empty" in p.stderr and "Traceback" not in p.stderr


def test_missing_seeds_folder_is_a_clear_error(tmp_path):
    p = subprocess.run([sys.executable, "-m", "qa", "retrieve", "x", "--seeds", str(tmp_path / "nope"),
                        "--index", str(tmp_path / "idx")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 2 and "does not exist" in p.stderr and "Traceback" not in p.stderr
