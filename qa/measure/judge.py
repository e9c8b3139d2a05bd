"""What counts as a right passage or citation, and the recall figures over ranks.

A passage is *right* only when a gold answer occurs inside it *and* inside the
gold region: the gold paragraph for SQuAD (so a lucky match elsewhere in the
article does not count), one of the listed articles (or a duplicate scrape of
one) for the seeds. Answer matching ignores case and runs of whitespace.
"""
from __future__ import annotations

import re
import string
from collections import Counter

from .datasets import Question

_PUNCT = set(string.punctuation)

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


def right_article(q: Question, item) -> bool:
    """The hit or citation comes from one of the question's gold articles (or a duplicate scrape of one)."""
    gold = {d for d, _, _ in q.gold}
    return item.doc_id in gold or any(x.doc_id in gold for x in item.also_in)


def retrieval_rank(q: Question, index, hits) -> int | None:
    """1-based rank of the first right hit, or None."""
    return next((i for i, h in enumerate(hits, 1) if right_place(q, index, h)), None)


def summarize_ranks(ranks: list[int | None]) -> dict:
    n = max(1, len(ranks))
    out = {f"recall@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 5, 20)}
    out["mrr"] = sum(1.0 / r for r in ranks if r) / n
    return out


def normalize_answer(s: str) -> str:
    """SQuAD's answer normalisation (Rajpurkar et al. 2016, the official evaluate-v1.1 script's rule):
    lower case, punctuation and the articles a/an/the removed, white space collapsed."""
    s = "".join(ch for ch in s.lower() if ch not in _PUNCT)
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def span_em(prediction: str, answers) -> float:
    """1.0 when the prediction equals a gold answer after normalisation."""
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(a) for a in answers))


def span_f1(prediction: str, answers) -> float:
    """The best token-overlap F1 of the prediction against any gold answer (SQuAD's rule)."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for a in answers:
        gold = normalize_answer(a).split()
        common = sum((Counter(pred) & Counter(gold)).values())
        if not pred or not gold:
            best = max(best, float(pred == gold))
        elif common:
            precision, recall = common / len(pred), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
