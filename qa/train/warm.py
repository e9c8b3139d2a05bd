"""Go on from a shipped reader when its run's checkpoint is gone: `qa train-reader --init-from models/reader`.

A checkpoint lives outside the repository and can be lost with the machine that
trained it; the int8 ONNX model and its card are in the repository. This reads
the torch weights back from the ONNX graph:
- a quantised MatMul (`MatMulInteger`) holds a Linear layer's weight, int8 per
  output channel, transposed; its module is named by the node's output
  (`/bert/encoder/layer.0/attention/self/query/MatMul...`), so the weight is
  (q - zero_point) * scale, transposed back;
- the position and token-type embeddings are int8 per tensor, dequantised the
  same way; the word embeddings were frozen in training, so MiniLM's own fp32
  ones are kept (the int8 copy would only add noise);
- biases and LayerNorm parameters are stored in fp32 under their own names.
The result differs from the lost fp32 weights by the int8 rounding only (the
held-out figures of the model read back are checked against the card's).
The card gives where the run stood: steps, questions read, the learning curve
and the runs so far, so that the new run goes on over questions it has not read.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_EMBEDDINGS = ("bert.embeddings.position_embeddings.weight", "bert.embeddings.token_type_embeddings.weight")


def _array(init):
    from onnx import numpy_helper
    return numpy_helper.to_array(init)


def onnx_weights(model_file: Path) -> dict[str, np.ndarray]:
    """The reader's parameters (torch names and shapes) read from its int8 ONNX graph, word embeddings excepted."""
    import onnx
    graph = onnx.load(str(model_file)).graph
    inits = {i.name: i for i in graph.initializer}
    out: dict[str, np.ndarray] = {}
    for name, init in inits.items():
        if (name.startswith("bert.") or name.startswith("span.")) and init.data_type == onnx.TensorProto.FLOAT \
                and not name.endswith(("_scale",)):
            out[name] = _array(init).astype(np.float32)
    for name in _EMBEDDINGS:
        q = _array(inits[name + "_quantized"]).astype(np.float32)
        out[name] = (q - float(_array(inits[name + "_zero_point"]))) * float(_array(inits[name + "_scale"]))
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        weight = node.input[1]
        if not weight.endswith("_quantized") or weight not in inits:
            continue
        module = node.output[0].split("/MatMul")[0].strip("/").replace("/", ".")
        base = weight[: -len("_quantized")]
        q = _array(inits[weight]).astype(np.float32)                       # [in, out]
        w = (q - _array(inits[base + "_zero_point"]).astype(np.float32)) * _array(inits[base + "_scale"])
        out[module + ".weight"] = np.ascontiguousarray(w.T)
    return out


def load_into(model, model_file: Path) -> list[str]:
    """Set the model's parameters from the ONNX graph; returns the names left as they were (word embeddings)."""
    import torch
    weights = onnx_weights(model_file)
    state = model.state_dict()
    missing = [k for k in state if k not in weights]
    unknown = [k for k in weights if k not in state]
    if unknown or set(missing) - {"bert.embeddings.word_embeddings.weight"}:
        raise ValueError(f"{model_file} is not a reader of this shape: unknown {unknown[:3]}, missing {missing[:3]}")
    for k, v in weights.items():
        if tuple(state[k].shape) != v.shape:
            raise ValueError(f"{model_file}: {k} has shape {v.shape}, the reader {tuple(state[k].shape)}")
        state[k] = torch.from_numpy(v)
    model.load_state_dict(state)
    return missing


def card_of(folder: Path) -> dict:
    """The shipped reader's card, checked to be a span reader's."""
    path = Path(folder) / "card.json"
    if not path.is_file() or not (Path(folder) / "reader.onnx").is_file():
        raise ValueError(f"no reader at {folder}: --init-from takes a folder with reader.onnx and card.json")
    card = json.loads(path.read_text(encoding="utf-8"))
    if card.get("kind") != "span":
        raise ValueError(f"{folder} holds a {card.get('kind')!r} reader, not a span reader")
    return card
