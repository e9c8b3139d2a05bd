"""Facts in a sentence that sources can disagree on: dates and quantities.

Used by the answerer to notice when cited passages state different values for
the same thing ("September 26" in one article, "2-3 October" in another). The
patterns are deliberately narrow: a missed value costs a note, a false one
would put words in the sources' mouths. Names are compared for spelling only
("Ashfk Pervez Kayani" / "Ashfaq Parvez Kayani"): same number of words, each
pair alike. Left out: relative dates ("last week"), spelled-out numbers,
currencies other than $, £ and €, and names shortened or reordered.
"""
from __future__ import annotations

import re

from rapidfuzz import fuzz

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
_MON = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}))?"
DATE_PATTERNS = [
    re.compile(rf"\b{_DAY}\s*[-–]\s*{_DAY}\s+({_MON})\b{_YEAR}"),          # 2-3 October 2012
    re.compile(rf"\b({_MON})\s+{_DAY}\s*[-–]\s*{_DAY}\b{_YEAR}"),          # October 2-3, 2012
    re.compile(rf"\b{_DAY}\s+({_MON})\b{_YEAR}"),                          # 10th September
    re.compile(rf"\b({_MON})\s+{_DAY}\b(?!\s*[-–]){_YEAR}"),               # September 26
]
QUANTITY = re.compile(r"(?:[$£€]\s?\d[\d,.]*(?:\s*(?:to|-|–)\s*[$£€]?\d[\d,.]*)?(?:\s*(?:million|billion|bn|m)\b)?"
                      r"|\b\d[\d,.]*\s*(?:per\s?cent|percent|%))", re.I)


def _month(name: str) -> int:
    return next(i for i, m in enumerate(MONTHS, 1) if m.startswith(name.lower()[:3]))


def dates(text: str) -> list[tuple[str, tuple]]:
    """(surface text, normalised value) for each calendar date; value = (month, days, year)."""
    found, taken = [], []
    for n, pat in enumerate(DATE_PATTERNS):
        for m in pat.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            g = m.groups()
            if n == 0:
                value = (_month(g[2]), tuple(range(int(g[0]), int(g[1]) + 1)), g[3])
            elif n == 1:
                value = (_month(g[0]), tuple(range(int(g[1]), int(g[2]) + 1)), g[3])
            elif n == 2:
                value = (_month(g[1]), (int(g[0]),), g[2])
            else:
                value = (_month(g[0]), (int(g[1]),), g[2])
            if all(1 <= d <= 31 for d in value[1]):
                taken.append(m.span())
                found.append((m.group().strip(), value))
    return found


def quantities(text: str) -> list[tuple[str, str]]:
    """(surface text, kind) for money amounts and percentages."""
    out = []
    for m in QUANTITY.finditer(text):
        s = m.group().strip()
        kind = "percent" if re.search(r"cent|%", s, re.I) else "money"
        out.append((s, kind))
    return out


def same_date(a: tuple, b: tuple) -> bool:
    """Same month and days; a missing year matches any year."""
    return a[0] == b[0] and a[1] == b[1] and (a[2] is None or b[2] is None or a[2] == b[2])


_NAME_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+){1,3}\b")
_TITLES = {"General", "Gen", "Mr", "Mrs", "Ms", "Dr", "President", "Minister", "Chief", "Army", "Staff",
           "Marshal", "Air", "Commodore", "Foreign", "Prime", "Col", "Director", "The", "Russian",
           "Pakistani", "Pakistan", "According", "Likewise", "Despite", "Meanwhile"}


def names(text: str) -> list[str]:
    """Runs of two to four capitalised words, titles and sentence openers trimmed."""
    out = []
    for m in _NAME_RUN.finditer(text):
        words = m.group().split()
        while words and words[0] in _TITLES:
            words.pop(0)
        if len(words) >= 2:
            out.append(" ".join(words))
    return out


def spelled_alike(a: str, b: str) -> bool:
    """Two spellings of one name: same word count, every word pair alike, not identical."""
    wa, wb = a.split(), b.split()
    if a == b or len(wa) != len(wb):
        return False
    return all(x == y or (x[0] == y[0] and fuzz.ratio(x.lower(), y.lower()) >= 60) for x, y in zip(wa, wb))
