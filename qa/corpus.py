"""Articles: reading a folder, stripping boilerplate, grouping duplicate scrapes.

Cleaning never edits text: it keeps a list of body paragraphs as `(start, end)`
spans into the raw file text, so every later offset still points into the file.

A line is *boilerplate* when it matches a short list of site-furniture phrases
(paywalls, newsletter sign-ups, comment widgets, donation and legal notices),
or repeats within the article, or repeats across articles that are not scrapes
of one story. A line is *prose* when it looks like a sentence. Boilerplate
lines cut the article into segments; the segment with the most prose is the
body, and another segment joins it only when its vocabulary is close to the
body's (teasers for unrelated stories are not). Short non-sentence lines
(headings, bylines, captions) are never part of the body.

Left out: HTML extraction (bring plain text), languages other than English.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

from datasketch import MinHash, MinHashLSH

from .config import DEFAULT, Settings
from .errors import EmptyCorpusError
from .lexical import tokenize, words
from .types import Article

log = logging.getLogger("qa")

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


def read_folder(folder: Path, settings: Settings = DEFAULT) -> tuple[list[Article], list[str]]:
    """Read, clean and de-duplicate every article in `folder`.

    Returns the articles (sorted by doc_id) and one warning per skipped file.
    Raises EmptyCorpusError when nothing readable is left.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EmptyCorpusError(f"articles folder {folder} does not exist: create it and put .txt articles in it")
    raw, skipped = [], []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in settings.extensions:
            text, why = read_text(path, settings)
            if text is None:
                skipped.append(f"skipped {path.name}: {why}")
                log.warning("skipped %s: %s", path.name, why)
            else:
                raw.append((path, text))
    if not raw:
        raise EmptyCorpusError(f"no readable article in {folder}: add UTF-8 .txt files (one article each)")
    articles = clean_all(raw, settings)
    return articles, skipped


def read_text(path: Path, settings: Settings = DEFAULT) -> tuple[str | None, str]:
    """The file's text exactly as `open(path, encoding='utf-8').read()` gives it, or (None, reason)."""
    try:
        size = path.stat().st_size
        if size > settings.max_file_bytes:
            return None, f"too large ({size:,} bytes; the limit is {settings.max_file_bytes:,})"
        data = path.read_bytes()
    except OSError as e:
        return None, f"unreadable ({e.strerror or e})"
    if b"\x00" in data[:65536]:
        return None, "binary file (contains NUL bytes)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 (bad byte at position {e.start}); re-save it as UTF-8"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        return None, "empty"
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\t\r\f")
    if control > 0.01 * min(len(text), 65536):
        return None, "binary-looking text (many control characters)"
    return text, ""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


def classify(line: str) -> str:
    """'B' boilerplate phrase, 'P' prose, 'N' neutral (heading, byline, caption)."""
    n = len(words(line))
    if STRONG.search(line) or (n <= 25 and WEAK.search(line)):
        return "B"
    if (n >= 6 and _END.search(line)) or n >= 12:
        return "P"
    return "N"


def _key(line: str) -> str:
    return " ".join(words(line))


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b.get(t, 0) for t, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def body_spans(text: str, repeated: set[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Body paragraph spans and all classified lines (start, end, class)."""
    classes = []
    for s, e in lines(text):
        c = classify(text[s:e])
        if c != "B" and len(words(text[s:e])) >= 3 and _key(text[s:e]) in repeated:
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
    bag = Counter(t for s, e in prose[main] for t in tokenize(text[s:e]))
    body = list(prose[main])
    for i, spans in enumerate(prose):
        if i != main and spans:
            other = Counter(t for s, e in spans for t in tokenize(text[s:e]))
            if _cosine(bag, other) >= BODY_SIMILARITY:
                body.extend(spans)
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


def shingles(text: str, n: int) -> set[int]:
    w = words(text)
    return {hash(" ".join(w[i:i + n])) for i in range(max(1, len(w) - n + 1))}


def duplicate_groups(bodies: dict[str, str], settings: Settings = DEFAULT) -> dict[str, str]:
    """Map each near-duplicate doc_id to its group's canonical doc_id (5-word-shingle Jaccard).

    Candidates come from MinHash LSH (datasketch); each is confirmed by exact
    Jaccard. The canonical article of a group is the first by doc_id.
    """
    sets = {d: shingles(t, settings.shingle_words) for d, t in bodies.items()}
    lsh = MinHashLSH(threshold=settings.duplicate_jaccard * 0.75, num_perm=64)
    for d, s in sets.items():
        m = MinHash(num_perm=64)
        m.update_batch([str(x).encode() for x in s])
        lsh.insert(d, m)
        sets[d] = (s, m)
    parent = {d: d for d in bodies}

    def find(d):
        while parent[d] != d:
            d = parent[d]
        return d

    for d, (s, m) in sets.items():
        for other in lsh.query(m):
            if other <= d:
                continue
            o = sets[other][0]
            if len(s & o) / max(1, len(s | o)) >= settings.duplicate_jaccard:
                a, b = sorted((find(d), find(other)))
                parent[b] = a
    return {d: find(d) for d in bodies if find(d) != d}


def clean_all(raw: list[tuple[Path, str]], settings: Settings = DEFAULT) -> list[Article]:
    """Clean each text; lines repeated inside an article, or across articles that
    are not duplicates of each other, count as boilerplate."""
    def repeated_within(text):
        keys = Counter(_key(text[s:e]) for s, e in lines(text))
        return {k for k, n in keys.items() if n > 1}

    first = {}
    for path, text in raw:
        body, _ = body_spans(text, repeated_within(text))
        first[path.stem] = "\n".join(text[s:e] for s, e in body)
    dups = duplicate_groups(first, settings)
    group = {d: dups.get(d, d) for d in first}
    seen: dict[str, set[str]] = {}
    for path, text in raw:
        for k in {_key(text[s:e]) for s, e in lines(text)}:
            seen.setdefault(k, set()).add(group[path.stem])
    across = {k for k, groups in seen.items() if len(groups) > 1}
    articles = []
    for path, text in raw:
        body, classes = body_spans(text, repeated_within(text) | across)
        articles.append(Article(doc_id=path.stem, path=str(path), title=title_of(text, classes, body) or path.stem,
                                text=text, sha256=sha256_text(text), body=tuple(body),
                                duplicate_of=dups.get(path.stem)))
    return sorted(articles, key=lambda a: a.doc_id)


