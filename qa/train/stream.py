"""The training questions in a seeded order, read as groups (`span_data.Builder`) on demand.

SQuAD v1.1 train, minus a held-out share of its articles (the learning curve's
questions), then the SQuAD v2.0 dev tune half's "train" articles' questions
(`datasets.tune_part`; never a report half). Files are read where they lie and
fingerprinted, so a checkpoint knows what it was trained on.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from ..answering.span_input import SpanInput
from ..measure.datasets import tune_part
from ..retrieval.runtime import sha256_file
from .span_data import Builder, Corpus, Group


def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def fingerprint(path: Path | None) -> str:
    return sha256_file(Path(path))[:16] if path is not None and Path(path).is_file() else "-"


class Stream:
    """Every training question (SQuAD v1.1 train, then the v2.0 tune-half "train" articles' ones)
    in a seeded order per epoch; `take(cursor, n)` builds the groups at positions [cursor, cursor+n)."""

    def __init__(self, train: Path, v2: Path | None, inputs: SpanInput, limit: int | None, seed: int,
                 removed_share: float = 0.1, held_share: int = 40, lede_share: float = 0.0,
                 restate_share: float = 0.0, vague_share: float = 0.0):
        self.seed = seed
        data = load(train)
        rng = random.Random(seed)
        corpus = Corpus(data["documents"], inputs)
        doc_ids = sorted(corpus.docs)
        rng.shuffle(doc_ids)
        self.held_docs = set(doc_ids[:max(1, len(doc_ids) // held_share)])
        qs = [q for q in data["questions"] if q["doc_id"] not in self.held_docs]
        qs = qs[:limit] if limit else qs
        self.items = [(q, "v1") for q in qs]
        self.builders = {"v1": Builder(corpus, inputs, removed_share, lede_share, restate_share, vague_share)}
        self.held = [q for q in data["questions"] if q["doc_id"] in self.held_docs]
        random.Random(seed + 1).shuffle(self.held)
        self.amounts = {"train_file": Path(train).name, "train_sha256_16": fingerprint(train),
                        "train_questions": len(qs), "held_out_articles": len(self.held_docs),
                        "held_out_questions_available": len(self.held), "removed_share": removed_share,
                        "lede_share": lede_share, "restate_share": restate_share, "vague_share": vague_share}
        if v2 is not None and Path(v2).is_file():
            vdata = load(v2)
            titles = {d["id"]: d.get("title", d["id"]) for d in vdata["documents"]}
            vdocs = [d for d in vdata["documents"] if tune_part(titles[d["id"]]) == "train"]
            vqs = [q for q in vdata["questions"] if tune_part(titles[q["doc_id"]]) == "train"]
            vqs = vqs[:limit] if limit else vqs
            self.builders["v2"] = Builder(Corpus(vdocs, inputs), inputs, 0.0, lede_share, restate_share, vague_share)
            self.items += [(q, "v2") for q in vqs]
            self.amounts.update(v2_file=Path(v2).name, v2_sha256_16=fingerprint(v2), v2_articles=len(vdocs),
                                v2_unanswerable=sum(not q["answers"] for q in vqs),
                                v2_answerable=sum(bool(q["answers"]) for q in vqs))
        self.amounts["questions"] = len(self.items)
        self._orders: dict[int, list[int]] = {}

    def order(self, epoch: int) -> list[int]:
        if epoch not in self._orders:
            idx = list(range(len(self.items)))
            random.Random(f"{self.seed}:{epoch}").shuffle(idx)
            self._orders = {epoch: idx}
        return self._orders[epoch]

    def at(self, position: int) -> Group | None:
        epoch, i = divmod(position, len(self.items))
        q, source = self.items[self.order(epoch)[i]]
        rng = random.Random(f"{self.seed}:{epoch}:{q['id']}")
        return self.builders[source].group(q, rng)

    def take(self, cursor: int, n: int) -> tuple[list[Group], int]:
        """n groups from position `cursor` on (questions that make no group are passed over) and the
        position after the last one read."""
        out = []
        while len(out) < n:
            g = self.at(cursor)
            cursor += 1
            if g is not None:
                out.append(g)
        return out, cursor

    def held_out(self, n: int, removed: int) -> list[Group]:
        """Answerable groups from the held-out articles, then `removed` ones, fixed by the seed."""
        b = self.builders["v1"]
        out = []
        for q in self.held:
            if len(out) >= n:
                break
            g = Builder(b.corpus, b.inputs, 0.0).group(q, random.Random(f"held:{q['id']}"))
            if g is not None:
                out.append(g)
        for q in self.held[n:]:
            if sum(g.kind == "removed" for g in out) >= removed:
                break
            g = Builder(b.corpus, b.inputs, 1.0).group(q, random.Random(f"held:{q['id']}"))
            if g is not None:
                out.append(g)
        return out
