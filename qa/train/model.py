"""The reader's network (torch, for training and export only): MiniLM read as a cross-encoder.

The question and the candidate are read together, in one sequence, by the first
`layers` layers of all-MiniLM-L6-v2. Three heads are summed into one logit:
- the cosine of the mean states of the question tokens and of the candidate
  tokens, scaled (a bi-encoder's similarity, but computed after the two have
  attended to each other): it starts where the embedding model already is, so
  the little training a CPU hour allows refines a ranking instead of building
  one from nothing (held-out groups, 6 layers, untrained: top-1 of 8 0.57);
- a linear map of their element-wise product (which dimensions agree);
- a linear map of the [CLS] state, as in a plain cross-encoder.
The two new linear heads start at zero, so step 0 is the scaled cosine.
The ONNX graph takes input_ids, attention_mask, token_type_ids (1 on the
candidate: also its pooling mask) and question_mask, and returns one logit per row.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PooledReader(nn.Module):
    def __init__(self, bert, scale: float = 10.0, bias: float = -5.0):
        super().__init__()
        self.bert = bert
        width = bert.config.hidden_size
        self.scale = nn.Parameter(torch.tensor(scale))
        self.bias = nn.Parameter(torch.tensor(bias))
        self.agree = nn.Linear(width, 1)
        self.cls = nn.Linear(width, 1)
        for lin in (self.agree, self.cls):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, input_ids, attention_mask, token_type_ids, question_mask):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=token_type_ids).last_hidden_state
        qm = question_mask.to(h.dtype).unsqueeze(-1)
        cm = token_type_ids.to(h.dtype).unsqueeze(-1)
        q = F.normalize((h * qm).sum(1) / qm.sum(1).clamp(min=1.0), dim=-1)
        c = F.normalize((h * cm).sum(1) / cm.sum(1).clamp(min=1.0), dim=-1)
        logit = self.scale * (q * c).sum(-1) + self.bias + self.agree(q * c).squeeze(-1) + self.cls(h[:, 0]).squeeze(-1)
        return logit.unsqueeze(-1)


def build(layers: int) -> PooledReader:
    """The untrained reader: MiniLM's first `layers` layers (word embeddings frozen) and new heads."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from ..retrieval.export import model_path
    hf_logging.set_verbosity_error()
    torch.manual_seed(0)
    bert = AutoModel.from_pretrained(str(model_path()), num_hidden_layers=layers, attn_implementation="eager",
                                     use_safetensors=True, add_pooling_layer=False)
    bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return PooledReader(bert)


def is_head(name: str) -> bool:
    """Parameters trained at the head's learning rate."""
    return not name.startswith("bert.")
