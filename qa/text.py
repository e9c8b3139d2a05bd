"""Words and BM25 tokens, shared by every stage that compares text.

Folding lower-cases and strips accents ("Clarín" meets "clarin"); `words` keeps
stopwords (for phrase, overlap and shingle checks); `tokenize` drops a compact
list of English function words and stems with Snowball (PyStemmer).
Left out: languages other than English, compound splitting.
"""
from __future__ import annotations

import re
import unicodedata

import Stemmer

_STEM = Stemmer.Stemmer("english")
WORD = re.compile(r"[^\W_]+", re.UNICODE)

# A compact English stopword list (function words only; no content words).
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself
just me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves s t d ll m re ve also
""".split())


class _Marks(dict):
    """str.translate table that drops combining marks, filled in as characters are met."""

    def __missing__(self, cp: int):
        self[cp] = None if unicodedata.combining(chr(cp)) else cp
        return self[cp]


_MARKS = _Marks()


def fold(text: str) -> str:
    """Lower-case and strip accents so that 'Clarín' and 'clarin' meet."""
    text = text.lower()
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text).lower()     # again: NFKD turns "ℌ", "𝐇" into "H"
    return text if text.isascii() else text.translate(_MARKS)


def words(text: str) -> list[str]:
    """Lower-cased, accent-folded word tokens, stopwords kept (for phrase and overlap checks)."""
    return WORD.findall(fold(text))


def tokenize(text: str) -> list[str]:
    """BM25 tokens: folded words, stopwords dropped, Snowball-stemmed."""
    return _STEM.stemWords([w for w in words(text) if w not in STOPWORDS])
