"""What counts as a right passage or citation, and the recall figures over ranks.

A passage is *right* only when a gold answer occurs inside it *and* inside the
gold region: the gold paragraph for SQuAD (so a lucky match elsewhere in the
article does not count), one of the listed articles (or a duplicate scrape of
one) for the seeds. Answer matching ignores case and runs of whitespace.
"""
from __future__ import annotations

import re

from .datasets import Question

DEPTH = 20                      # retrieval is scored on the top 20 passages


def _pattern(answer: str) -> re.Pattern:
    words = [re.escape(w) for w in answer.replace("’", "'").split()]
    return re.compile(r"\s+".join(w.replace("'", "['’]") for w in words), re.I)


def right(q: Question, index, doc_id: str, start: int, end: int) -> bool:
    """True when a gold answer occurs in text[start:end] of `doc_id`, inside a gold region."""
    regions = [(s, e) for d, s, e in q.gold if d == doc_id]
    if not regions or doc_id not in index.articles:
        return False
    text = index.articles[doc_id].text[start:end]
    for a in q.answers:
        for m in _pattern(a).finditer(text):
            if any(s <= start + m.start() and start + m.end() <= e for s, e in regions):
                return True
    return False


def right_place(q: Question, index, item) -> bool:
    """A hit or citation is right in its own article or in any duplicate scrape it stands in."""
    places = [(item.doc_id, item.start, item.end)] + [(x.doc_id, x.start, x.end) for x in item.also_in]
    return any(right(q, index, *p) for p in places)


def retrieval_rank(q: Question, index, hits) -> int | None:
    """1-based rank of the first right hit, or None."""
    return next((i for i, h in enumerate(hits, 1) if right_place(q, index, h)), None)


def summarize_ranks(ranks: list[int | None]) -> dict:
    n = max(1, len(ranks))
    out = {f"recall@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 5, 20)}
    out["mrr"] = sum(1.0 / r for r in ranks if r) / n
    return out
