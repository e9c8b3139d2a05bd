"""The trained reader as it ships: int8 ONNX export, a runner for it, and its card.

The fp32 graph is exported by `torch.onnx.export` (opset 17, dynamic batch and
token axes; inputs input_ids, attention_mask, token_type_ids; outputs
start_logits, end_logits), then quantised by onnxruntime's `quantize_dynamic`
(QInt8, per channel). The card (`card.json`, `card.md`) records the data and
amounts, the commands and commits of every run, the learning curve, the int8
model's held-out figures and the sha256 of every shipped file.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from ..retrieval.runtime import session, sha256_file


def export(model, out: Path) -> None:
    """int8 ONNX of the model at `out` (written beside it, then renamed); the fp32 export stays beside
    it as `reader.fp32.onnx` (not shipped: about 4x the size) for comparing the two."""
    import warnings

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    model = model.to("cpu").eval().float()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, dummy, str(fp32), dynamo=False, opset_version=17, input_names=names,
                              output_names=["start_logits", "end_logits"],
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                            "start_logits": {0: "batch", 1: "tokens"},
                                            "end_logits": {0: "batch", 1: "tokens"}})
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.WARNING)
        try:
            quantize_dynamic(str(fp32), str(Path(tmp) / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        os.replace(Path(tmp) / "int8.onnx", out)
        os.replace(fp32, out.with_name("reader.fp32.onnx"))


def onnx_runner(model_file: Path):
    sess = session(model_file, os.cpu_count() or 1)
    names = {i.name for i in sess.get_inputs()}

    def run(feed):
        s, e = sess.run(None, {k: v for k, v in feed.items() if k in names})
        return s, e
    return run


def write_card(out: Path, card: dict) -> None:
    card["files"] = {name: {"bytes": (out / name).stat().st_size, "sha256": sha256_file(out / name)}
                     for name in ("reader.onnx", "tokenizer.json")}
    tmp = out / ".card.json.tmp"
    tmp.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, out / "card.json")
    curve = ["| step | groups seen | minutes | sentence top-1 | span EM | span F1 | no answer wins (answerable) "
             "| no answer wins (removed) |", "|---|---|---|---|---|---|---|---|"]
    curve += [f"| {c['step']} | {c['groups_seen']} | {c['minutes']} | {c['sentence_top1']} | {c['span_em']} | "
              f"{c['span_f1']} | {c['answerable_no_answer_wins']} | {c['removed_no_answer_wins']} |"
              for c in card["curve"]]
    lines = ["# qa span reader", "",
             "Reads a question against a passage of consecutive sentences (with the article's title) and scores "
             "each token as the start and the end of the answer, and [CLS] as \"no answer here\". The sentence "
             "that holds the best span is cited and the span highlighted. Trained by the project's own command; "
             "loaded offline by onnxruntime.", "",
             f"- command: `{card['command']}`", f"- commit: {card['commit']}",
             f"- base: {card['base']}, first {card['config']['layers']} layers, max {card['config']['max_tokens']} "
             f"tokens, answers of at most {card['max_answer_tokens']} tokens inside one sentence",
             f"- data: {json.dumps(card['data'])}",
             f"- training: {card['training']['steps']} steps of {card['training']['planned_steps']} planned, "
             f"{card['training']['groups_seen']:,} questions ({card['training']['passages_seen']:,} passages), "
             f"{card['training']['minutes']} minutes, in {len(card['training']['runs'])} run(s):",
             *[f"  {i}. `{r['command']}` at commit {r['commit'][:12]}: steps {r.get('from_step', '?')} to "
               f"{r.get('to_step', '?')}, {round(r.get('seconds_this_run', 0) / 60, 1)} minutes"
               + (f" ({r['note']})" if r.get("note") else "") for i, r in enumerate(card["training"]["runs"], 1)],
             f"- device: {card['device']}; machine: {card['machine']}",
             f"- held-out (SQuAD v1.1 train articles no training question comes from), the int8 model: "
             f"{json.dumps(card['held_out_int8'])}", "",
             "Learning curve (held-out groups: one passage with the answer and one without; the fp32 model "
             "while training):", "", *curve, "",
             "| file | bytes | sha256 |", "|---|---|---|"]
    lines += [f"| {n} | {f['bytes']} | `{f['sha256']}` |" for n, f in card["files"].items()]
    lines += ["", "Data: SQuAD v1.1 train and the SQuAD v2.0 dev tune-half articles marked \"train\" "
              "(Rajpurkar et al. 2016, 2018), CC BY-SA 4.0; read from ../shared/eval/, never copied here. "
              "Evaluation figures: docs/reader.md (`qa eval`)."]
    (out / "card.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
