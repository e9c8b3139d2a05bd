"""Boilerplate: which lines of an article are its body, why each other line is not, and its title.

Cleaning never edits text: it keeps a list of body paragraphs as `(start, end)` spans into the
raw file text, so every later offset still points into the file. A line leaves the body only on
evidence that holds on any site, and `decide` says which:
- *widget*: the whole line has the form of a known widget (`WIDGETS`: a paywall or sign-up box,
  a comment counter, a share bar, a cookie, legal or donation notice, an advert slot, a "Related
  stories" heading). Forms are anchored at the start of the line and most are short, so a story
  sentence that reports on a paywall or mentions a free newsletter is never one;
- *repeated*: a line of 3+ words that recurs across articles of the folder that are not scrapes
  of one story (the caller passes those keys), or a non-sentence line that recurs inside the
  article (a photo credit, a sign-up banner); a repeated sentence loses only its later copies;
- *outside the main text*: widgets that open a block (a paywall, a "Most read" heading) cut the
  article into segments; the segment with the most prose is the story, and another joins it only
  when its vocabulary is close to the story's (teasers for unrelated stories are not);
- *before / after the story*: lines before its first sentence (masthead, headline, byline,
  dateline: a headline is not punctuated as a sentence) or after its last (a sign-off; a line of
  12+ words, an author's bio, still ends the story). Inside the story every other line is kept: short
  lines, list items, timestamps, captions, Q&A turns. Item headings of a roundup ("Leeds 3 Spurs
  2") count as story on either edge when lines of the same shape recur inside it.
A paragraph is never dropped for being short, bulleted, or for a word such as "free",
"subscribe" or "newsletter" inside a sentence. Left out: languages other than English.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

from ..text import tokenize, words

_W = r"(?:[\w'’.-]+\s+){0,%d}"
# (reason, opens a block, form). A form matches from the start of the line (bullets stripped).
WIDGETS = [(why, block, re.compile(form, re.I)) for why, block, form in [
    ("paywall notice", True, r"(you('|’)ve|you have) reached (your|the) (monthly |free )?(limit|maximum)"
     r"|to (read|continue reading) (the full|this) (article|story)|already a subscriber\b|get unlimited access"
     r"|subscribe (now|today)[^\w]*$|.{0,60}\bcancel anytime\b|\$?\d+([.,]\d+)?\s*/\s*(month|year|week)\b"),
    ("newsletter sign-up", True, r"(sign ?up|subscribe|register)( now| today| free)? (to|for) (our|the|my)\b"
     r".{0,80}\b(newsletters?|briefing|digest|bulletin|e-?mails?|inbox)\b.{0,80}$"),
    ("comment widget", True, r"(post|leave|add|write|view|show|load|read) (a |all |the )?(\d+ )?(comments?|reply|replies)\b.{0,20}$"
     r"|\d+\s+comments?$|comments?( system| \(\d+\))?$|disqus\b|log ?in to (comment|reply)|be the first to comment"),
    ("share bar", False, r"(share|tweet|e-?mail|print)( this)?( (post|article|story|page))?( on \w+| via \w+)?\s*$"
     r"|((facebook|twitter|x|whatsapp|linkedin|reddit|e-?mail|copy link)\W*){2,}$"),
    ("cookie notice", True, r"we use cookies\b|.{0,80}\bcookie (policy|settings|preferences)\b|accept( all)? cookies$"),
    ("legal notice", True, r"(disclaimer|fair use notice)\b|©|copyright (©|\(c\)|\d{4})|\(c\) \d{4}"
     r"|.{0,60}\ball rights reserved\b.{0,40}$"),
    ("donation notice", True, r"(your donation|donate( now| today)?$|make a donation|.{0,40}\btax[- ]deduct)"),
    ("teaser heading", True, r"(related|more|recommended|popular|top|latest)( stories| articles| news| posts| videos)?\W*$"
     r"|(more from|more on|most (read|popular|viewed|shared|watched))\b.{0,30}$|the latest\W*$|trending( now| topics)?\W*$"
     r"|you (may|might) also like\W*$|read next\W*$|keep reading.{0,20}$|show (less|more)\W*$|watch ?video.{0,20}$"
     r"|editor'?s picks\W*$|in other news\W*$"),
    ("advert slot", False, r"(advertisement|advertising|sponsored( content)?|ad|story continues below( advertisement)?)\W*$"),
    ("link to another story", False, r"(read more|see also|also read|read also|related|watch|listen)\s*[:|>»]\s*\S"),
    ("site credit", False, r"powered by\s+" + (_W % 4) + r"[\w'’.-]+$"),
    ("follow prompt", False, r"(follow us|click here|log ?in|sign ?in)\b.{0,40}$"),
]]
_BULLET = re.compile(r"^[\s•·▪●◦‣∙*–—-]+")
_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_ITEM = re.compile(r"^\s*([•·▪●◦‣∙*–—-]|\d{1,3}[.)])\s+\S")             # a list item
_STAMP = re.compile(r"^\s*\d{1,2}[:.]\d{2}\s*([ap]\.?m\.?)?\s*[A-Z]{0,4}\s*$", re.I)   # a live blog's time
_DATE_LINE = re.compile(r"^\W*(\w+\s+)?\d{1,2}(,|\s)\s*\d{4}\W*$|^\W*\d{1,2}\s+\w+\s+\d{4}\W*$")
_BYLINE = re.compile(r"^(by|von|par)\s", re.I)
BODY_SIMILARITY = 0.25        # cosine a secondary segment needs to the story to join it
LONG_LINE = 16                # words from which a line without end punctuation is prose (headlines are shorter)


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


def line_table(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end, key, class) of every non-empty line: each line's words and form looked at once."""
    out = []
    for s, e in lines(text):
        w = words(text[s:e])
        out.append((s, e, key_of(w), classify(text[s:e], len(w))))
    return out


def key_of(line_words: list[str]) -> int:
    """A line reduced to its words, to notice the same line repeated: a 56-bit hash of them, or 0
    for a line of fewer than 3 words (never counted as repeated). A number, not the words, so that
    the keys of every story can be kept with the index (`ingest/known.py`) in 8 bytes a line."""
    if len(line_words) < 3:
        return 0
    return int.from_bytes(hashlib.blake2b(" ".join(line_words).encode("utf-8"), digest_size=7).digest(), "little")


def widget(line: str) -> tuple[str, bool] | None:
    """(reason, opens a block) when the whole line has the form of a known widget, else None."""
    bare = _BULLET.sub("", line)
    if len(bare) > 300:                     # no widget line is this long; a story paragraph may be
        return None
    for why, block, form in WIDGETS:
        if form.match(bare):
            return why, block
    return None


def classify(line: str, n: int | None = None) -> str:
    """'B' widget, 'P' prose, 'N' other (heading, byline, caption, list item); `n` is the line's
    number of words when already known."""
    n = len(words(line)) if n is None else n
    if widget(line):
        return "B"
    if (n >= 6 and _END.search(line)) or n >= LONG_LINE:
        return "P"
    return "N"


def repeated_within(text: str, table: list | None = None) -> set[int]:
    """Keys of the lines of 3+ words that occur more than once in `text` (`table`: its `line_table`)."""
    keys = Counter(k for _, _, k, _ in (line_table(text) if table is None else table))
    return {k for k, n in keys.items() if n > 1 and k}


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b.get(t, 0) for t, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def _sentence(line: str, long: int | None = None) -> bool:
    """A line that is story by its form: a punctuated sentence, a list item, a timestamp, or (with
    `long`) a line of at least that many words."""
    return (bool(_END.search(line) and " " in line) or bool(_ITEM.match(line) or _STAMP.match(line))
            or (long is not None and len(words(line)) >= long))


def _shape(line: str) -> str:
    """The line's form: capitalised word A, other word a, number 0 ("Leeds 3 Spurs 2" -> "A0A0")."""
    return "".join("0" if t.isdigit() else "A" if t[:1].isupper() else "a" for t in re.findall(r"\w+", line))[:12]


def decide(text: str, within: set[int], across: set[int], table: list | None = None
           ) -> list[tuple[int, int, str, str | None]]:
    """(start, end, class, reason) for every line: reason None when the line is body, else why not.
    `within`: keys repeated inside the text; `across`: keys repeated across the folder's stories."""
    rows, seen = [], set()
    for s, e, key, c in line_table(text) if table is None else table:
        line, why = text[s:e], None
        if c == "B":
            why = "widget: " + widget(line)[0]
        elif key and key in across:                    # key 0: a line of fewer than 3 words
            why = "repeated: the line recurs in other stories of the folder"
        elif key and key in within and (c != "P" or key in seen):
            why = "repeated: the line recurs in this article" if c != "P" else "repeated: a copy of a sentence above"
        seen.add(key)
        rows.append([s, e, c, why])
    # segments, cut by the widgets that open a block
    segments, cur = [], []
    for i, (s, e, c, why) in enumerate(rows):
        if c == "B" and widget(text[s:e])[1]:
            segments.append(cur)
            cur = []
        elif why is None:
            cur.append(i)
    segments.append(cur)
    prose = [[i for i in seg if rows[i][2] == "P"] for seg in segments]
    if not any(prose):                      # a note without prose: every line that is not furniture
        return [tuple(r) for r in rows]
    size = [sum(rows[i][1] - rows[i][0] for i in seg) for seg in segments]   # a story of short lines counts whole
    main = max(range(len(segments)), key=lambda k: size[k])
    bag = Counter(t for i in prose[main] for t in tokenize(text[rows[i][0]:rows[i][1]]))
    chosen = {main}
    for k, p in enumerate(prose):
        if k == main:
            continue
        sim = _cosine(bag, Counter(t for i in p for t in tokenize(text[rows[i][0]:rows[i][1]]))) if p else 0.0
        if sim >= BODY_SIMILARITY:
            chosen.add(k)
        else:
            for i in segments[k]:
                rows[i][3] = (f"outside the main text: cut from the story by a widget, and its words are unlike the story's "
                              f"(cosine {sim:.2f} < {BODY_SIMILARITY})")
    story = sorted(i for k in chosen for i in segments[k])
    at = [k for k, i in enumerate(story) if _sentence(text[rows[i][0]:rows[i][1]])]
    end = [k for k, i in enumerate(story) if _sentence(text[rows[i][0]:rows[i][1]], 12)]   # a bio line ends a story
    first, last = (at or end)[0], end[-1]
    shapes = Counter(_shape(text[rows[i][0]:rows[i][1]]) for i in story[first:last + 1] if rows[i][2] == "N")
    while first > 0 and shapes[_shape(text[rows[story[first - 1]][0]:rows[story[first - 1]][1]])] >= 2:
        first -= 1                          # an item heading of the same shape as those inside
    while last < len(story) - 1 and shapes[_shape(text[rows[story[last + 1]][0]:rows[story[last + 1]][1]])] >= 2:
        last += 1
    for i in story[:first]:
        rows[i][3] = "before the story's first sentence (masthead, headline, byline, dateline)"
    for i in story[last + 1:]:
        rows[i][3] = "after the story's last sentence (sign-off, credit, furniture)"
    return [tuple(r) for r in rows]


def body_spans(text: str, within: set[int], table: list | None = None, across: set[int] = frozenset()
               ) -> tuple[list[tuple[int, int]], list[tuple[int, int, str]]]:
    """Body paragraph spans and all classified lines (start, end, class); `table` is the
    text's `line_table` when already made."""
    rows = decide(text, within, across, table)
    return [(s, e) for s, e, _, why in rows if why is None], [(s, e, c) for s, e, c, _ in rows]


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
