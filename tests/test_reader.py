"""The shipped reader: what it is, that answers use it, and that a missing article means "not in these articles"."""
from __future__ import annotations

import json
import shutil

import onnx
import pytest

import qa
from conftest import REPO, SEEDS
from qa.answering import reader as reader_mod
from qa.config import DEFAULT
from qa.pipeline import Pipeline
from qa.retrieval.runtime import sha256_file

MODEL = REPO / "models" / "reader"


def test_the_model_ships_small_int8_and_as_its_card_says():
    card = json.loads((MODEL / "card.json").read_text(encoding="utf-8"))
    model = MODEL / "reader.onnx"
    assert model.stat().st_size <= 30_000_000
    for name, meta in card["files"].items():
        assert sha256_file(MODEL / name) == meta["sha256"] and (MODEL / name).stat().st_size == meta["bytes"]
    ops = {n.op_type for n in onnx.load(str(model), load_external_data=False).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops              # int8 weights
    assert card["kind"] == "span" and card["command"].startswith("python -m qa train-reader") and card["commit"]
    assert card["data"]["questions"] > 0 and card["training"]["steps"] > 0
    steps = [c["step"] for c in card["curve"]]                           # the learning curve, in order
    assert steps[0] == 0 and steps == sorted(steps) and steps[-1] == card["training"]["steps"]
    assert (MODEL / "card.md").read_text(encoding="utf-8").count(card["files"]["reader.onnx"]["sha256"]) == 1


def test_answers_use_the_reader_and_the_manifest_records_it(pipeline):
    assert DEFAULT.reader and reader_mod.load(DEFAULT) is not None
    m = json.loads((pipeline.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["reader"]["sha256"] == sha256_file(MODEL / "reader.onnx")
    from qa.answering.answer import ranked
    _, _, _, cands = ranked(pipeline.index, "Who is Ruslan Pukhov?")
    assert cands and all(c.read is not None and 0.0 <= c.read <= 1.0 for c in cands)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert all(c.start <= c.span[0] < c.span[1] <= c.end for c in cands)     # each span inside its sentence
    answer = pipeline.ask("Who is Ruslan Pukhov?")
    c = answer.citations[0]
    text = pipeline.index.articles[c.doc_id].text
    assert c.start <= c.answer_start < c.answer_end <= c.end and text[c.answer_start:c.answer_end] == c.answer_text


def test_a_removed_article_is_not_in_these_articles(tmp_path, questions):
    """Each question that only 002 answers, asked of the seeds without 002."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for p in SEEDS.glob("*.txt"):
        if not p.name.startswith("002"):
            shutil.copy(p, seeds / p.name)
    p = Pipeline(seeds, tmp_path / "index")
    only_002 = [q for q in questions if q.get("doc_ids") == ["002_5d75630997774f8f"]]
    assert len(only_002) >= 3
    abstained = [q["id"] for q in only_002 if p.ask(q["question"]).abstained]
    # 5 of 7 with float32 vectors, 4 of 7 with index format 3's int8 vectors ("arms-share" reads a
    # passage scored just above the floor); on SQuAD v1.1's report half with those articles removed,
    # declined 0.740 -> 0.748 (docs/speed.md): the seven here sit at the margin
    assert len(abstained) >= 0.55 * len(only_002), abstained


def test_a_damaged_model_is_refused_with_a_clear_error(tmp_path):
    folder = tmp_path / "reader"
    shutil.copytree(MODEL, folder)
    with open(folder / "reader.onnx", "r+b") as f:
        f.truncate(1000)
    with pytest.raises(reader_mod.ReaderError, match="sha256"):
        reader_mod.Reader(folder, 1)
    (folder / "card.json").write_text("{", encoding="utf-8")
    with pytest.raises(reader_mod.ReaderError, match="card"):
        reader_mod.Reader(folder, 1)
    assert qa.ask("Who is Ruslan Pukhov?").citations                     # the shipped model is untouched


def test_a_new_reader_is_recorded_in_the_manifest_without_a_rebuild(tmp_path, seeds_dir, pipeline):
    """The reader changes without the index changing: the manifest follows, the index files stay."""
    index_dir = tmp_path / "index"
    shutil.copytree(pipeline.index_dir, index_dir)
    path = index_dir / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["reader"] = {"folder": "models/reader", "sha256": "0" * 64}
    path.write_text(json.dumps(m), encoding="utf-8")
    Pipeline(seeds_dir, index_dir).index
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["reader"]["sha256"] == sha256_file(MODEL / "reader.onnx")
    assert after["generation"] == m["generation"] and after["files"] == m["files"]
