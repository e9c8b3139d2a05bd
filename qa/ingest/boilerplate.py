"""Boilerplate: which lines of an article are its body, and what its title is.

Cleaning never edits text: it keeps a list of body paragraphs as `(start, end)`
spans into the raw file text, so every later offset still points into the file.

A line is *boilerplate* when it matches a short list of site-furniture phrases
(paywalls, newsletter sign-ups, comment widgets, donation and legal notices),
or repeats within the article, or repeats across articles that are not scrapes
of one story (the caller passes those lines in). A line is *prose* when it looks
like a sentence. Boilerplate lines cut the article into segments; the segment
with the most prose is the body, and another segment joins it only when its
vocabulary is close to the body's (teasers for unrelated stories are not).
Short non-sentence lines (headings, bylines, captions) are never part of the body.

Left out: languages other than English.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from ..text import tokenize, words

# Phrases of site furniture. STRONG ones mark a line whatever its length; the
# others only mark short lines (<= 25 words), where they cannot be a news sentence.
STRONG = re.compile("|".join([
    r"monthly limit of free", r"free articles? (left|remaining)", r"already a subscriber",
    r"subscribe (now|today)|to read the full article", r"unlimited access", r"cancel anytime",
    r"sign up (to|for) (our|the)[\w\s]*newsletter", r"disqus", r"tax[- ]deduct",
    r"disclaimer", r"fair use notice", r"all rights reserved", r"cookie (policy|settings)",
]), re.I)
WEAK = re.compile("|".join([
    r"\bnewsletter\b", r"\bsubscri(be|ber|ption)\b", r"\blog ?in\b", r"\bsign (up|in)\b",
    r"keep reading", r"show less", r"read more", r"watch video", r"most read", r"\bthe latest\b",
    r"trending", r"related (stories|articles|posts)", r"\bshare (this|on)\b", r"follow us",
    r"click here", r"post a comment", r"\bcomments?\b", r"leave a (comment|reply)",
    r"\bdonat(e|ion)\b", r"\bcopyright\b|©", r"privacy policy", r"terms of (use|service)",
    r"powered by", r"advertisement", r"\barchives\b", r"/month|/year",
]), re.I)
_END = re.compile(r"[.!?][\"'”’)\]]*$")
_DATE_LINE = re.compile(r"^\W*(\w+\s+)?\d{1,2}(,|\s)\s*\d{4}\W*$|^\W*\d{1,2}\s+\w+\s+\d{4}\W*$")
_BYLINE = re.compile(r"^(by|von|par)\s", re.I)
BODY_SIMILARITY = 0.25        # cosine a secondary segment needs to the body to join it


def lines(text: str) -> list[tuple[int, int]]:
    """Spans of the non-empty lines, stripped of surrounding whitespace."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        s, e = m.span()
        seg = m.group()
        s += len(seg) - len(seg.lstrip())
        e -= len(seg) - len(seg.rstrip())
        if e > s:
            out.append((s, e))
    return out


def line_table(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, key, class) of every non-empty line: each line's words and phrases looked
    at once (`classify`)."""
    out = []
    for s, e in lines(text):
        w = words(text[s:e])
        out.append((s, e, " ".join(w), classify(text[s:e], len(w))))
    return out


# A STRONG phrase cannot match a line that holds none of these (checked on the case-folded line).
_STRONG_WORDS = ("free", "subscri", "full article", "unlimited", "cancel", "newsletter", "disqus",
                 "deduct", "disclaimer", "fair use", "rights reserved", "cookie")


def classify(line: str, n: int | None = None) -> str:
    """'B' boilerplate phrase, 'P' prose, 'N' neutral (heading, byline, caption); `n` is the
    line's number of words when already known."""
    n = len(words(line)) if n is None else n
    folded = line.casefold()
    strong = any(w in folded for w in _STRONG_WORDS) and STRONG.search(line)
    if strong or (n <= 25 and WEAK.search(line)):
        return "B"
    if (n >= 6 and _END.search(line)) or n >= 12:
        return "P"
    return "N"


def line_key(line: str) -> str:
    """A line reduced to its words, to notice the same line repeated."""
    return " ".join(words(line))


def repeated_within(text: str, table: list | None = None) -> set[str]:
    """Keys of the lines that occur more than once in `text` (`table`: its `line_table`)."""
    keys = Counter(k for _, _, k, _ in (line_table(text) if table is None else table))
    return {k for k, n in keys.items() if n > 1}


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b.get(t, 0) for t, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def body_spans(text: str, repeated: set[str], table: list | None = None
               ) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Body paragraph spans and all classified lines (start, end, class); `table` is the
    text's `line_table` when already made."""
    classes = []
    for s, e, key, c in line_table(text) if table is None else table:
        if c != "B" and key in repeated and key.count(" ") >= 2:     # a repeated line of 3+ words
            c = "B"
        classes.append((s, e, c))
    segments, cur = [], []
    for item in classes:
        if item[2] == "B":
            segments.append(cur)
            cur = []
        else:
            cur.append(item)
    segments.append(cur)
    prose = [[(s, e) for s, e, c in seg if c == "P"] for seg in segments]
    if not any(prose):                      # a note without sentences: keep every non-boilerplate line
        return [(s, e) for s, e, c in classes if c != "B"], classes
    main = max(range(len(prose)), key=lambda i: sum(e - s for s, e in prose[i]))
    body = list(prose[main])
    others = [i for i, spans in enumerate(prose) if i != main and spans]
    bag = Counter(t for s, e in prose[main] for t in tokenize(text[s:e])) if others else None
    for i in others:
        other = Counter(t for s, e in prose[i] for t in tokenize(text[s:e]))
        if _cosine(bag, other) >= BODY_SIMILARITY:
            body.extend(prose[i])
    return sorted(body), classes


def title_of(text: str, classes: list[tuple[int, int, str]], body: list[tuple[int, int]]) -> str:
    """The first headline-like line after the last boilerplate line before the body."""
    if not body:
        return ""
    before = [c for c in classes if c[1] <= body[0][0]]
    last_b = max((i for i, c in enumerate(before) if c[2] == "B"), default=-1)
    for s, e, c in before[last_b + 1:]:
        line = text[s:e]
        if c == "N" and not _BYLINE.match(line) and not _DATE_LINE.match(line) and len(line) <= 200:
            return line
    first = next((text[s:e] for s, e, c in classes if c != "B"), text.strip().split("\n")[0])
    return first[:200]
