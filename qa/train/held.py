"""Batches for training and what the reader makes of held-out groups (the learning curve's figures)."""
from __future__ import annotations

import numpy as np

from ..answering.span_input import SpanInput, decode, token_targets
from ..measure.judge import span_em, span_f1
from .span_data import Group


def batch_arrays(inputs: SpanInput, groups: list[Group]):
    """(encoded batch, gold start mask, gold end mask) for every passage of the groups, in order."""
    questions = [g.question for g in groups for _ in g.passages]
    passages = [p for g in groups for p in g.passages]
    enc = inputs.encode(questions, passages)
    gs = np.zeros(enc.context.shape, dtype=bool)
    ge = np.zeros(enc.context.shape, dtype=bool)
    row = 0
    for g in groups:
        for spans in g.gold:
            s, e = token_targets(enc, row, spans)
            gs[row, s] = True
            ge[row, e] = True
            row += 1
    return enc, gs, ge


def held_metrics(run_model, inputs: SpanInput, groups: list[Group], batch: int = 16) -> dict:
    """What the reader makes of held-out groups. `run_model(feed) -> (start, end)` numpy logits.
    Answer groups: the best span over the group's passages lies in a sentence holding the gold
    answer (sentence top-1), its exact match and F1 (SQuAD's), and how often the best span scores
    below its passage's "no answer" (would abstain); removed groups: how often no answer wins."""
    top1 = em = f1 = abstain_wrong = removed_right = 0
    n_ans = n_removed = 0
    for i in range(0, len(groups), batch):
        chunk = groups[i:i + batch]
        enc, gs, _ = batch_arrays(inputs, chunk)
        start, end = run_model(enc.feed)
        spans = decode(enc, start, end)
        row = 0
        for g in chunk:
            rows = list(range(row, row + len(g.passages)))
            row += len(g.passages)
            best = max((s for r in rows for s in spans[r][:1]), key=lambda s: s.score, default=None)
            if g.kind == "answer":
                n_ans += 1
                if best is None:
                    abstain_wrong += 1
                    continue
                p = g.passages[rows.index(best.row)]
                text = p.text[best.start:best.end]
                sent = p.sentences[best.sentence]
                top1 += any(sent[0] <= s and e <= sent[1] for s, e in g.gold[rows.index(best.row)])
                em += span_em(text, g.answers)
                f1 += span_f1(text, g.answers)
                abstain_wrong += best.score < best.null
            else:
                n_removed += 1
                removed_right += best is None or all(s.score < s.null for r in rows for s in spans[r][:1])
    a, r = max(1, n_ans), max(1, n_removed)
    return {"answer_groups": n_ans, "sentence_top1": round(top1 / a, 4), "span_em": round(em / a, 4),
            "span_f1": round(f1 / a, 4), "answerable_no_answer_wins": round(abstain_wrong / a, 4),
            "removed_groups": n_removed, "removed_no_answer_wins": round(removed_right / r, 4)}


def torch_runner(model, device):
    import torch

    def run(feed):
        model.eval()
        with torch.no_grad():
            s, e = model(**{k: torch.from_numpy(v).to(device) for k, v in feed.items()})
        model.train()
        return s.float().cpu().numpy(), e.float().cpu().numpy()
    return run
