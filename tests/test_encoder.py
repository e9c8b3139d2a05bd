"""The ONNX Runtime encoder: shipped with its card and checked, equal to sentence-transformers, and no
torch at run time. The comparisons with sentence-transformers need the train extra (they skip without it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import needs_train
from qa.config import DEFAULT
from qa.retrieval import encoder, export, runtime, shipped

FP32 = replace(DEFAULT, encoder="onnx")
INT8 = replace(DEFAULT, encoder="onnx-int8")

REPO = Path(__file__).resolve().parent.parent


def seed_texts(index) -> list[str]:
    sentences = [index.articles[d].text[s:e] for d, s, e in index.sentence_spans]
    return sentences + [c.text for c in index.chunks]


@needs_train
def test_every_seed_sentence_and_chunk_matches_the_reference(index):
    texts = seed_texts(index)
    ours, ref = encoder.embed(texts, FP32), export.reference_embed(texts)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    cos = (ours * ref).sum(axis=1)
    assert cos.min() >= 0.9999, texts[int(cos.argmin())]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@needs_train
def test_int8_stays_close_to_the_reference(index):
    """int8 is the default because the eval allows it (README); it must stay near the reference."""
    texts = seed_texts(index)
    cos = (encoder.embed(texts, INT8) * export.reference_embed(texts)).sum(axis=1)
    assert cos.mean() >= 0.98 and cos.min() >= 0.93, (cos.mean(), cos.min())
    # dynamic int8 scales activations per batch: a text alone (a question) and in a build batch differ
    alone = np.stack([encoder.embed([t], INT8)[0] for t in texts[:len(index.sentence_vectors)]])
    assert (alone * index.sentence_vectors[:]).sum(axis=1).min() >= 0.97


@needs_train
def test_batching_and_duplicates_do_not_change_a_vector(index):
    texts = seed_texts(index)[:40]
    alone = np.stack([encoder.embed([t], FP32)[0] for t in texts[:6]])
    together = encoder.embed(texts[:6] + texts + texts[:6], FP32)
    assert np.abs(together[:6] - alone).max() < 1e-5
    assert np.abs(together[-6:] - alone).max() < 1e-5
    assert encoder.embed([]).shape == (0, 384)


@needs_train
def test_long_text_is_truncated_as_the_reference_does():
    text = "The pipeline would carry gas from Iran to Pakistan. " * 80
    ours, ref = encoder.embed([text], FP32)[0], export.reference_embed([text])[0]
    assert float(ours @ ref) >= 0.9999


@needs_train
def test_a_corrupt_cached_model_is_exported_again(tmp_path, monkeypatch, index):
    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    monkeypatch.setattr(encoder, "_ENCODERS", {})
    first = encoder.load(FP32)
    model = next(tmp_path.glob("minilm-fp32-*/model-*.onnx"))
    meta = json.loads((model.parent / "meta.json").read_text())
    assert meta["sha256"] == runtime.sha256_file(model) and meta["key"]["weights_sha256"]
    with open(model, "r+b") as f:                       # flip bytes in the middle of the weights
        f.seek(model.stat().st_size // 2)
        f.write(b"\x00\xff" * 64)
    monkeypatch.setattr(encoder, "_ENCODERS", {})
    again = encoder.load(FP32)
    assert again is not first
    [fixed] = list(tmp_path.glob("minilm-fp32-*/model-*.onnx"))          # the damaged file is gone
    assert runtime.sha256_file(fixed) == json.loads((fixed.parent / "meta.json").read_text())["sha256"]
    text = ["Who is Ruslan Pukhov?"]
    assert float(again.embed(text)[0] @ export.reference_embed(text)[0]) >= 0.9999
    assert not list(tmp_path.glob("minilm-fp32-*/.tmp-*"))


def test_the_shipped_encoder_is_the_file_its_card_describes():
    card = shipped.card()
    assert card["source"]["model"] == "sentence-transformers/all-MiniLM-L6-v2" and card["source"]["licence"] == "Apache-2.0"
    assert card["command"].startswith("qa export-encoder") and card["max_seq_length"] == 256 and card["dim"] == 384
    assert card["check"]["texts"] >= 100 and card["check"]["fp32_min"] >= 0.9999 and card["check"]["int8_min"] >= 0.97
    model, tokenizer, _ = shipped.checked()
    for path in (model, tokenizer):
        f = card["files"][path.name]
        assert path.stat().st_size == f["bytes"] and runtime.sha256_file(path) == f["sha256"]
        assert f["sha256"] in (shipped.FOLDER / "card.md").read_text(encoding="utf-8")
    assert model.stat().st_size < 30_000_000
    assert encoder.load(DEFAULT).session._model_path == str(model)     # the default runs the shipped file


def test_a_changed_shipped_encoder_is_refused(tmp_path):
    folder = tmp_path / "encoder"
    folder.mkdir()
    for p in shipped.FOLDER.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    shipped.checked(folder)
    with open(folder / shipped.MODEL, "r+b") as f:
        f.seek(f.seek(0, 2) // 2)
        f.write(b"\x00\xff" * 64)
    with pytest.raises(shipped.EncoderFileError, match="does not match the sha256 in its card"):
        shipped.checked(folder)
    (folder / "card.json").write_text("{}", encoding="utf-8")
    with pytest.raises(shipped.EncoderFileError, match="no usable encoder card"):
        shipped.checked(folder)


@needs_train
def test_the_shipped_encoder_is_what_export_encoder_writes(tmp_path, index):
    """The export is deterministic: `qa export-encoder` writes the very file that ships."""
    from qa.retrieval import ship
    texts = [index.articles[d].text[s:e] for d, s, e in index.sentence_spans][:20]
    card = ship.write(tmp_path / "encoder", texts, "test")
    assert card["files"] == shipped.card()["files"]
    assert card["check"]["int8_min"] >= 0.97 and card["check"]["fp32_min"] >= 0.9999


def test_unknown_encoder_is_a_clear_error():
    from qa.config import Settings
    with pytest.raises(ValueError, match="unknown encoder 'gpu'"):
        encoder.load(Settings(encoder="gpu"))


def test_no_torch_on_the_query_path(pipeline, tmp_path):
    """A fresh process asks over the persisted index: torch and sentence-transformers never load,
    and nothing is exported (no model cache is written)."""
    code = ("import json, sys, qa\n"
            "a = qa.ask('Why was Putin\\'s visit to Pakistan cancelled?')\n"
            "print(json.dumps({'citations': len(a.citations), 'loaded': sorted(m for m in "
            "('torch', 'sentence_transformers', 'transformers', 'gradio', 'pysbd', 'dateparser', 'trafilatura') "
            "if m in sys.modules)}))\n")
    cache = tmp_path / "cache"
    env = {**os.environ, "QA_SEEDS": str(pipeline.seeds_dir), "QA_INDEX": str(pipeline.index_dir), "QA_CACHE": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(REPO), timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["citations"] >= 1
    assert result["loaded"] == []
    assert "building the index" not in out.stderr
    assert not cache.exists()
