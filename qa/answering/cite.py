"""Citations: building them from sentence spans, writing the answer text, verifying them.

A citation is a verbatim slice `text[start:end]` of an article's text, plus the
places where the same passage stands in duplicate scrapes. `verify` derives
every cited text again from its file (reading a .txt, extracting a page,
parsing an export record), so a saved answer can be checked long after it was
made, and says so when the extractor is no longer the one that indexed it.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from pathlib import Path

from ..config import DEFAULT
from ..ingest.align import MIN_ALIGNED
from ..ingest.formats import ExtractorChanged, derive_text
from ..ingest.read import file_key, sha256_text, uploads_folder
from ..text import words
from ..types import Answer, Citation, shown

_SAFE_ID = re.compile(r"[\w.\-]{1,200}")          # an id the index does not know: a plain file name
_MARKER = re.compile(r"\[([0-9]+)\]")


def merge_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans of one article that touch or are separated only by whitespace."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and (s <= out[-1][1] or not text[out[-1][1]:s].strip()):
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def make_citations(index, spans: list[tuple[str, int, int]],
                   answers: list[tuple[int, int] | None] | None = None) -> list[Citation]:
    """Citations for (doc_id, start, end) spans in order of importance; adjacent spans of one
    article merge into one quote, placed where its most important sentence was, and carrying
    that sentence's answer span (`answers`, parallel to `spans`: article offsets or None)."""
    merged: dict[str, list[tuple[int, int]]] = {}
    for doc_id in dict.fromkeys(d for d, _, _ in spans):
        text = index.articles[doc_id].text
        merged[doc_id] = merge_spans(text, [(s, e) for d, s, e in spans if d == doc_id])
    out: list[Citation] = []
    for i, (doc_id, s, e) in enumerate(spans):
        ms, me = next((a, b) for a, b in merged[doc_id] if a <= s < b)
        if any(c.doc_id == doc_id and c.start == ms for c in out):
            continue
        art = index.articles[doc_id]
        span = answers[i] if answers else None
        if span is not None and not (ms <= span[0] < span[1] <= me):
            span = None
        out.append(Citation(doc_id=doc_id, title=art.title, start=ms, end=me, quote=art.text[ms:me],
                            also_in=index.aligner(doc_id).locate(ms, me), date=art.date, outlet=art.outlet,
                            author=art.author, answer_start=span[0] if span else None,
                            answer_end=span[1] if span else None,
                            answer_text=art.text[span[0]:span[1]] if span else None))
    return out


def compose(citations: list[Citation], notes: list[str]) -> str:
    """The answer as a person reads it: each quote followed by its [n] marker, then the notes."""
    parts = [f"{' '.join(c.quote.split())} [{i}]" for i, c in enumerate(citations, 1)]
    text = " ".join(parts)
    if notes:
        text += "\n\n" + "\n".join(notes)
    return text


def verify(answer: Answer, seeds_dir: Path, index=None) -> list[str]:
    """Every problem with the answer's citations; [] when each one holds.

    Checks, per citation (and per "also in" location): the article file exists, the
    offsets are inside it, `text[start:end] == quote` (at an "also in" location: the quote's
    words, as the duplicate aligner matches them), the file is unchanged since it was indexed,
    and the span lies in the article's cleaned body, not its boilerplate; and that the text of
    an answer is its quotes, markers and notes as `compose` wrote them. Each file is read once.
    """
    problems, seen = [], {}
    marked = set(_MARKER.findall(answer.text))
    for n, c in enumerate(answer.citations, 1):
        found = _check(f"[{n}]", c.doc_id, c.start, c.end, c.quote, seeds_dir, index, seen)
        problems += found
        if not found:
            problems += _check_answer_span(f"[{n}]", c, seen[c.doc_id][0])
        if str(n) not in marked:
            problems.append(f"[{n}] has no marker in the answer text")
        for loc in c.also_in:
            problems += _check(f"[{n}] also in", loc.doc_id, loc.start, loc.end, c.quote, seeds_dir, index, seen,
                               loose=True)
    if answer.abstained and answer.citations:
        problems.append("the answer abstains but carries citations")
    elif not answer.abstained and answer.text != compose(list(answer.citations), list(answer.notes)):
        problems.append("the answer text is not its quotes, [n] markers and notes as qa wrote them (edited?)")
    return problems


def _check_answer_span(label: str, c: Citation, text: str) -> list[str]:
    """The answer span of a citation whose quote holds: inside the quote, and its text there."""
    fields = (c.answer_start, c.answer_end, c.answer_text)
    if all(f is None for f in fields):
        return []
    a, b = c.answer_start, c.answer_end
    if not (type(a) is int and type(b) is int and c.start <= a < b <= c.end):
        return [f"{label} {c.doc_id}: the answer span {shown(a)}:{shown(b)} is not inside the quote ({c.start}:{c.end})"]
    if c.answer_text is None or text[a:b] != c.answer_text:
        return [f"{label} {c.doc_id} {a}:{b}: the answer text differs from the article text there"]
    return []


def _same_words(passage: str, quote: str) -> bool:
    """True when `passage` holds the quote's words in order, as the duplicate aligner requires
    (ingest/align.py): at least MIN_ALIGNED of the words of the longer of the two match."""
    a, b = words(passage), words(quote)
    need = MIN_ALIGNED * max(len(a), len(b))
    if min(len(a), len(b)) < need:
        return False
    return sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()) >= need


def _article_text(doc_id: str, seeds_dir: Path, index) -> tuple[str | None, str]:
    """The text the article's offsets index, derived again from its file, or (None, problem).
    Only files directly inside the articles folder or its uploads folder are opened, never
    through a link."""
    folder = Path(seeds_dir).resolve()
    art = index.articles.get(doc_id) if index is not None else None
    settings = index.settings if index is not None else DEFAULT
    if art is not None:
        key = file_key(index.seeds_dir, Path(art.path))      # as the index names it, under the folder asked
        path, extractor, record = folder / key, art.extractor, art.record
    else:
        path = next((folder / f"{doc_id}{x}" for x in (".txt", ".md") if (folder / f"{doc_id}{x}").is_file()),
                    folder / f"{doc_id}.txt")
        extractor, record = "text", None
    up = uploads_folder(folder, settings)
    if path.is_symlink() or path.resolve().parent not in (folder, up) or up is not None and up.is_symlink():
        return None, f"{path.name} is not a file of the articles folder {folder}"
    if not path.is_file():
        return None, f"article file {path} is missing"
    try:
        if extractor == "text":
            with open(path, encoding="utf-8") as f:
                return f.read(), ""
        limit = index.settings.max_file_bytes if index is not None else 5_000_000
        return derive_text(path, record, extractor, limit), ""
    except ExtractorChanged as e:
        return None, str(e)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return None, f"cannot read the article ({e})"


def _check(label, doc_id, start, end, quote, seeds_dir, index, seen: dict, loose: bool = False) -> list[str]:
    """The problems of one cited span; `seen` keeps each article's (text, problem, sha256) for the answer."""
    known = isinstance(doc_id, str) and index is not None and doc_id in index.articles   # its file is the index's
    if not known and not (isinstance(doc_id, str) and _SAFE_ID.fullmatch(doc_id) and not doc_id.startswith(".")):
        return [f"{label} {shown(doc_id)} is not a valid article id"]
    if doc_id not in seen:
        try:
            text, why = _article_text(doc_id, seeds_dir, index)
        except OSError as e:                          # e.g. a name too long for the file system
            text, why = None, f"cannot look the article file up ({e.strerror or e})"
        seen[doc_id] = text, why, None if text is None else sha256_text(text)
    text, why, sha = seen[doc_id]
    if text is None:
        return [f"{label} {doc_id}: {why}"]
    if not (type(start) is int and type(end) is int and 0 <= start < end <= len(text)):
        return [f"{label} {doc_id}: offsets {shown(start)}:{shown(end)} are outside the article (0:{len(text)})"]
    problems = []
    if quote is not None and loose and not _same_words(text[start:end], quote):
        problems.append(f"{label} {doc_id} {start}:{end}: not the quoted passage (the words differ)")
    elif quote is not None and not loose and text[start:end] != quote:
        problems.append(f"{label} {doc_id} {start}:{end}: the quote differs from the article text there")
    if index is not None:
        art = index.articles.get(doc_id)
        if art is None:
            problems.append(f"{label} {doc_id}: not an article of this index")
        else:
            if sha != art.sha256:
                problems.append(f"{label} {doc_id}: the article changed since it was indexed")
            elif not art.in_body(start, end):
                problems.append(f"{label} {doc_id} {start}:{end}: outside the article's cleaned body (boilerplate)")
    return problems
