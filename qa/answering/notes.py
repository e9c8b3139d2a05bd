"""Notes under an answer: where the cited sources disagree on a date, share or amount,
and where they spell a name differently. Each side is cited by its [n] marker, with
its outlet and publication date where the article's metadata has them.
"""
from __future__ import annotations

import re

from ..retrieval.index import Index
from .facts import dates, names, quantities, same_date, spelled_alike
from .scoring import Candidate

SAME_FACT = 0.55              # sentence cosine above which two dated sentences speak of one fact


def similar(index: Index, a: Candidate, b: Candidate) -> float:
    """Cosine of the two sentences' vectors."""
    return float(index.sentence_vectors[a.row] @ index.sentence_vectors[b.row])


def _source(index: Index, doc_id: str) -> str:
    """" (Dawn, 2012-10-08)": who said it and when, as far as the article's metadata knows."""
    art = index.articles[doc_id]
    known = [x for x in (art.outlet, art.date) if x]
    return f" ({', '.join(known)})" if known else ""


def disagreements(index: Index, chosen: list[Candidate], citations) -> list[str]:
    """A note for each kind of fact (date, share, amount) on which cited articles that speak
    of the same thing (similar sentences) state different values."""
    def marker(c: Candidate) -> int:
        return next(i for i, cit in enumerate(citations, 1)
                    if cit.doc_id == c.doc_id and cit.start <= c.start < cit.end)

    facts = [("date", [(c, s, v) for c in chosen for s, v in dates(c.text)], same_date)]
    for kind, label in (("percent", "share"), ("money", "amount")):
        found = [(c, s, re.sub(r"\s+", " ", s.lower())) for c in chosen for s, k in quantities(c.text) if k == kind]
        facts.append((label, found, lambda a, b: a == b))
    notes = []
    for label, found, equal in facts:
        involved = []
        for a, sa, va in found:
            for b, sb, vb in found:
                if a.doc_id < b.doc_id and not equal(va, vb) and similar(index, a, b) >= SAME_FACT:
                    involved += [(a, sa, va), (b, sb, vb)]
        shown, parts = [], []
        for c, s, v in sorted(involved, key=lambda x: marker(x[0])):
            if not any(equal(v, w) for w in shown):
                shown.append(v)
                parts.append(f"{s}{_source(index, c.doc_id)} [{marker(c)}]")
        if len(parts) > 1:
            notes.append(f"The sources differ on the {label}: " + "; ".join(parts) + ".")
    spelled = [(i, n, c.doc_id) for i, c in enumerate(citations, 1) for n in names(c.quote)]
    variants: list[tuple[int, str]] = []
    for i, a, da in spelled:
        for j, b, db in spelled:
            if da != db and spelled_alike(a, b):
                for item in ((i, a), (j, b)):
                    if item[1] not in [v for _, v in variants]:
                        variants.append(item)
    if variants:
        notes.append("The sources spell the name differently: "
                     + "; ".join(f"{n} [{i}]" for i, n in sorted(variants)) + ".")
    return notes
