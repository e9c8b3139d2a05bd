"""The span reader's network and loss (torch, for training and export only).

MiniLM (all-MiniLM-L6-v2's layers) reads `[CLS] question [SEP] title : passage
[SEP]`; one linear map of each token's state gives its start and end logits.
An answer's score is its start logit plus its end logit; a passage's "no
answer here" score is the same at [CLS] (Devlin et al. 2019, SQuAD 2.0).

The loss has two parts, averaged:
- per passage, a softmax over [CLS] and the passage's tokens, for start and for
  end: the gold answer's positions (all its occurrences, summed) or [CLS] when
  the passage does not hold it. This teaches "no answer here";
- per group (one question, several passages), a softmax over the passage
  tokens of all its passages together ("shared normalisation", Clark and
  Gardner 2018), so that a score in one passage is comparable with a score in
  another and the best span anywhere leads.
The ONNX graph takes input_ids, attention_mask, token_type_ids and returns
start_logits and end_logits, one per token.
"""
from __future__ import annotations

import torch
from torch import nn

NEG = -1e4


class SpanReader(nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        self.span = nn.Linear(bert.config.hidden_size, 2)
        nn.init.normal_(self.span.weight, std=0.02)
        nn.init.zeros_(self.span.bias)

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=token_type_ids).last_hidden_state
        logits = self.span(h)
        return logits[..., 0], logits[..., 1]


def build(layers: int = 6) -> SpanReader:
    """The untrained reader: MiniLM's first `layers` layers (word embeddings frozen) and a new span head."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from ..retrieval.export import model_path
    hf_logging.set_verbosity_error()
    torch.manual_seed(0)
    bert = AutoModel.from_pretrained(str(model_path()), num_hidden_layers=layers, attn_implementation="eager",
                                     use_safetensors=True, add_pooling_layer=False)
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return SpanReader(bert)


def is_head(name: str) -> bool:
    """Parameters trained at the head's learning rate."""
    return not name.startswith("bert.")


def _gold_nll(logits, allowed, gold):
    """-log of the probability mass on the gold positions, softmax over the allowed ones."""
    logp = torch.log_softmax(logits.masked_fill(~allowed, NEG), dim=-1)
    return -torch.logsumexp(logp.masked_fill(~gold, NEG), dim=-1)


def loss(start, end, context, gold_start, gold_end, passages: int):
    """The two-part loss above. start/end: [B, T] logits; context: bool [B, T] passage tokens;
    gold_start/gold_end: bool [B, T] the answer's positions (none in a passage without it).
    Rows come in groups of `passages` consecutive rows."""
    cls = torch.zeros_like(context)
    cls[:, 0] = True
    allowed = context | cls
    has = gold_start.any(dim=1)
    per = 0.0
    for logits, gold in ((start, gold_start), (end, gold_end)):
        target = torch.where(has[:, None], gold, cls)
        per = per + _gold_nll(logits, allowed, target).mean() / 2
    b, t = start.shape
    g = b // passages
    group_has = has.view(g, passages).any(dim=1)
    shared = start.new_zeros(())
    if bool(group_has.any()):
        for logits, gold in ((start, gold_start), (end, gold_end)):
            nll = _gold_nll(logits.reshape(g, passages * t), context.reshape(g, passages * t),
                            gold.reshape(g, passages * t))
            shared = shared + nll[group_has].mean() / 2
    return (per + shared) / 2, float(per.detach()), float(shared.detach())
