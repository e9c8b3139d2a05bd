"""Where a passage of a canonical article stands in its duplicate scrapes.

Two scrapes of one story differ in quote marks, spacing and sentence splits, so
passages are matched word by word: the body words of both articles (folded, as
the BM25 tokenizer sees them) are aligned with difflib's SequenceMatcher, and a
span counts as "also in" the duplicate when at least 80% of its words align.
The returned location is a verbatim slice of the duplicate's raw text.
"""
from __future__ import annotations

import bisect
import re
from difflib import SequenceMatcher

from ..text import WORD, fold
from ..types import Article, Location

MIN_ALIGNED = 0.8
_TRAIL = re.compile(r"[^\s\w]*")


def body_words(article: Article) -> tuple[list[str], list[tuple[int, int]]]:
    """Folded words of the body and their character spans in the raw text."""
    toks, spans = [], []
    for s, e in article.body:
        for m in WORD.finditer(article.text, s, e):
            toks.append(fold(m.group()))
            spans.append(m.span())
    return toks, spans


class Aligner:
    """Word alignment of one canonical article with each of its duplicates."""

    def __init__(self, canon: Article, dups: list[Article]):
        self.canon = canon
        self.words, self.spans = body_words(canon)
        self.starts = [s for s, _ in self.spans]
        self.targets = []
        for dup in dups:
            dwords, dspans = body_words(dup)
            mapping = [-1] * len(self.words)
            sm = SequenceMatcher(None, self.words, dwords, autojunk=False)
            for a, b, size in sm.get_matching_blocks():
                for i in range(size):
                    mapping[a + i] = b + i
            self.targets.append((dup, dspans, mapping))

    def locate(self, start: int, end: int) -> tuple[Location, ...]:
        """Locations of canonical text[start:end] in each duplicate where it aligns."""
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        if hi <= lo:
            return ()
        out = []
        for dup, dspans, mapping in self.targets:
            matched = [mapping[i] for i in range(lo, hi) if mapping[i] >= 0]
            if matched and len(matched) >= MIN_ALIGNED * (hi - lo):
                s, e = dspans[min(matched)][0], dspans[max(matched)][1]
                e += len(_TRAIL.match(dup.text, e).group())   # keep the closing punctuation
                while s > 0 and not dup.text[s - 1].isspace() and not dup.text[s - 1].isalnum():
                    s -= 1                                    # and the opening quote mark
                out.append(Location(dup.doc_id, dup.title, s, e))
        return tuple(out)
