"""`qa train-reader` end to end on a small SQuAD-format file made from the seed articles and questions."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import QUESTIONS, REPO, SEEDS
from qa.answering.reader import Reader, ReaderError, context
from qa.retrieval.runtime import sha256_file


def squad_from_seeds(path):
    """Seed articles as SQuAD documents (paragraphs at blank lines), seed questions at the paragraph
    that holds their answer."""
    docs, questions = [], []
    for f in sorted(SEEDS.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        starts = [0] + [m.end() for m in re.finditer(r"\n\s*\n", text)]
        docs.append({"id": f.stem, "title": text.splitlines()[0][:80], "text": text, "paragraph_starts": starts})
    by_id = {d["id"]: d for d in docs}
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        for doc_id in q.get("doc_ids") or ():
            d = by_id[doc_id]
            for a in q["answers"]:
                at = d["text"].find(a)
                if at >= 0:
                    p = max(i for i, s in enumerate(d["paragraph_starts"]) if s <= at)
                    questions.append({"id": f"{q['id']}-{doc_id}", "question": q["question"], "answers": [a],
                                      "doc_id": doc_id, "paragraph_index": p})
                    break
    path.write_text(json.dumps({"documents": docs, "questions": questions}), encoding="utf-8")
    return len(questions)


def test_train_reader_smoke_run(tmp_path, index):
    data = tmp_path / "train.json"
    assert squad_from_seeds(data) >= 20
    out = tmp_path / "reader"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    run = subprocess.run([sys.executable, "-m", "qa", "train-reader", "--data", str(data), "--v2", str(tmp_path / "none"),
                          "--limit", "200", "--minutes", "0.2", "--out", str(out), "--json"],
                         capture_output=True, text=True, cwd=str(REPO), env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads(run.stdout)
    model = out / "reader.onnx"
    assert model.stat().st_size <= 30_000_000
    assert card["files"]["reader.onnx"]["sha256"] == sha256_file(model)
    assert json.loads((out / "card.json").read_text())["files"] == card["files"]
    assert card["training"]["steps"] >= 1 and card["data"]["groups"] >= 10
    assert "loss" in run.stderr and "training" in run.stderr          # progress and the loss are logged

    reader = Reader(out, 2)                                            # the loader the answerer uses
    spans = index.sentence_spans[:12]
    logits = reader.score("Who is Ruslan Pukhov?", [context(index, *s) for s in spans])
    assert logits.shape == (12,) and np.isfinite(logits).all()

    with open(model, "r+b") as f:                                      # a damaged model is refused
        f.seek(model.stat().st_size // 2)
        f.write(b"\x00" * 32)
    with pytest.raises(ReaderError, match="sha256"):
        Reader(out, 2)


def test_train_reader_without_data_is_a_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "qa", "train-reader", "--data", str(tmp_path / "missing.json"),
                          "--out", str(tmp_path / "m")], capture_output=True, text=True, cwd=str(REPO), timeout=120)
    assert run.returncode != 0 and "no training data" in run.stderr and "Traceback" not in run.stderr
