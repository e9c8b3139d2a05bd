"""Sentences and windows of sentences, with offsets into the raw article text.

Sentences come from pysbd (rule-based, knows abbreviations such as "U.S." and
"Mr."), run on one body paragraph at a time; a paragraph longer than
`max_sentence_chars` is first cut at line breaks or spaces, because pysbd has
catastrophic-backtracking cases on long unbroken inputs (pysbd #79, #92). Given the
encoder's window (`fits`: how many leading characters of a text the encoder reads), a
sentence longer than the window is then cut at the last space inside it, again and again
(a run of words without punctuation too); only a word longer than the window is cut inside.
So every sentence is read whole by the encoder, and a text of n characters gives at most
n / 2 sentences (each holds a character other than a lone separator; see `_merge_fragments`).
A window never crosses a line that is not body (a heading, boilerplate), so
`article.text[chunk.start:chunk.end] == chunk.text` never includes furniture.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from ..config import DEFAULT, Settings
from ..types import Article, Chunk

Fits = Callable[[str], int]     # the number of leading characters of a text that the encoder reads


@lru_cache(maxsize=1)
def _segmenter():
    """pysbd, imported on first use: answering a question from a stored index never needs it."""
    import pysbd
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces of at most `limit` chars at whitespace."""
    out = []
    while end - start > limit:
        cut = text.rfind(" ", start, start + limit)
        cut = cut if cut > start else start + limit
        out.append((start, cut))
        start = cut
    out.append((start, end))
    return out


# pysbd crashes (int("\x1f1")) on a list number after these separators, which regex \s matches
_SEPARATORS = str.maketrans("\x1c\x1d\x1e\x1f", "    ")


def sentences(text: str, start: int, end: int, settings: Settings = DEFAULT,
              fits: Fits | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], stripped of surrounding whitespace; with `fits`,
    none longer than the encoder reads."""
    spans = []
    for ps, pe in _pieces(text, start, end, settings.max_sentence_chars):
        piece = text[ps:pe].translate(_SEPARATORS)      # same length: offsets hold
        pos = 0
        for seg in _segmenter().segment(piece):
            # pysbd's spans can drift on repeated text; locate each sentence ourselves
            at = piece.find(seg.sent, pos)
            if at < 0:
                at = seg.start
            s, e = at, at + len(seg.sent)
            pos = e
            raw = piece[s:e]
            s += len(raw) - len(raw.lstrip())
            e -= len(raw) - len(raw.rstrip())
            if e > s:
                spans.append((ps + s, ps + e))
    spans = _merge_fragments(text, spans)
    return _within(text, spans, fits) if fits is not None else spans


def _within(text: str, spans: list[tuple[int, int]], fits: Fits) -> list[tuple[int, int]]:
    """Each span cut at word boundaries into parts that `fits` reads whole."""
    out = []
    for s, e in spans:
        while s < e:
            n = fits(text[s:e])
            if n >= e - s:
                out.append((s, e))
                break
            n = max(1, n)
            cut = next((i for i in range(s + n, s, -1) if text[i].isspace()), s + n)
            part = text[s:cut].rstrip()
            out.append((s, s + len(part)))
            s = cut
            while s < e and text[s].isspace():
                s += 1
    return out


_TINY = re.compile(r"^[\W\d]{0,3}$")


def _merge_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Glue pieces that are not sentences on their own (a lone quote mark, "1.") to the previous one."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and _TINY.match(text[s:e]):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def runs(article: Article) -> list[list[tuple[int, int]]]:
    """Body paragraphs grouped into runs of paragraphs with nothing but whitespace between them."""
    out: list[list[tuple[int, int]]] = []
    for s, e in article.body:
        if out and not article.text[out[-1][-1][1]:s].strip():
            out[-1].append((s, e))
        else:
            out.append([(s, e)])
    return out


def chunk_article(article: Article, first_id: int = 0, settings: Settings = DEFAULT,
                  fits: Fits | None = None) -> list[Chunk]:
    """Windows of `chunk_sentences` sentences overlapping by `chunk_overlap`, within each run;
    with `fits`, no sentence is longer than the encoder reads (a build passes the encoder's)."""
    size, step = settings.chunk_sentences, max(1, settings.chunk_sentences - settings.chunk_overlap)
    chunks: list[Chunk] = []
    for run in runs(article):
        sents = [sp for s, e in run for sp in sentences(article.text, s, e, settings, fits)]
        starts = list(range(0, max(1, len(sents) - size + step), step))
        for i in starts:
            window = tuple(sents[i:i + size])
            if not window:
                continue
            s, e = window[0][0], window[-1][1]
            chunks.append(Chunk(chunk_id=first_id + len(chunks), doc_id=article.doc_id, start=s, end=e,
                                text=article.text[s:e], sentences=window))
            if i + size >= len(sents):
                break
    return chunks
