"""Reading a folder of articles: which files, how each is read, then cleaned and grouped.

Every file of a supported format (`formats.py`: .txt, .md, .html, .htm, .jsonl,
.csv) gives its articles: one per text or web page, one per record of an export.
A `.txt`/`.md` article's doc_id is the file name without the extension; an
export record's is the stem plus "-<record number>". A file or record that is
empty, binary, not UTF-8, too large or of an unknown format is skipped with a
warning that names it. Offsets index the text `formats.py` defines for the
format (for plain text, exactly what `open(path, encoding="utf-8").read()` gives).
Cleaning (`boilerplate.py`) and duplicate grouping (`duplicates.py`) run over the
whole folder, because a line repeated across unrelated articles is site furniture.
Files in sub-folders and symbolic links are not read.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ..config import DEFAULT, Settings
from ..errors import EmptyCorpusError
from ..types import Article
from .boilerplate import body_spans, line_key, lines, repeated_within, title_of
from .duplicates import duplicate_groups
from .formats import Source, dateline, read_sources

log = logging.getLogger("qa")


def article_files(folder: Path, settings: Settings = DEFAULT) -> list[Path]:
    """The files of `folder` that qa reads, sorted: regular files (no links) of a supported format."""
    return [p for p in sorted(Path(folder).iterdir())
            if not p.is_symlink() and p.is_file() and p.suffix.lower() in settings.extensions]


def read_folder(folder: Path, settings: Settings = DEFAULT,
                known: dict[str, tuple[list[Source], list[str]]] | None = None) -> tuple[list[Article], list[str]]:
    """Read, clean and de-duplicate every article in `folder`.

    Returns the articles (sorted by doc_id) and one warning per skipped file or record.
    `known` maps a file name to its articles and warnings when they are already known (the
    file is unchanged since the last build), so it is not read again.
    Raises EmptyCorpusError when nothing readable is left.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EmptyCorpusError(f"articles folder {folder} does not exist: create it and put articles in it "
                               "(.txt, .md, .html, .jsonl or .csv)")
    sources, skipped, seen = [], [], set()
    for path in article_files(folder, settings):
        found, warnings = (known or {}).get(path.name) or read_sources(path, settings.max_file_bytes)
        warnings = list(warnings)
        for s in found:
            if s.doc_id in seen:
                warnings.append(f"skipped {path.name}: its article id {s.doc_id} is taken by another file")
                continue
            seen.add(s.doc_id)
            sources.append(s)
        for w in warnings:
            skipped.append(w)
            log.warning("%s", w)
    if not sources:
        raise EmptyCorpusError(f"no readable article in {folder}: add UTF-8 articles "
                               "(.txt, .md, .html, .jsonl or .csv)")
    return clean_all(sources, settings), skipped


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dateline_by_body(text: str, body) -> str | None:
    """A dateline in the three lines above the cleaned body or at its start (mastheads come first)."""
    if not body:
        return None
    start = body[0][0]
    above = [ln for ln in text[max(0, start - 400):start].split("\n") if ln.strip()][-3:]
    return dateline("\n".join(above) + "\n" + text[start:start + 300])


def clean_all(sources: list[Source], settings: Settings = DEFAULT) -> list[Article]:
    """Clean each text; lines repeated inside an article, or across articles that
    are not duplicates of each other, count as boilerplate."""
    first = {}
    for src in sources:
        body, _ = body_spans(src.text, repeated_within(src.text))
        first[src.doc_id] = "\n".join(src.text[s:e] for s, e in body)
    dups = duplicate_groups(first, settings)
    group = {d: dups.get(d, d) for d in first}
    seen: dict[str, set[str]] = {}
    for src in sources:
        for k in {line_key(src.text[s:e]) for s, e in lines(src.text)}:
            seen.setdefault(k, set()).add(group[src.doc_id])
    across = {k for k, groups in seen.items() if len(groups) > 1}
    articles = []
    for src in sources:
        text = src.text
        body, classes = body_spans(text, repeated_within(text) | across)
        date = src.date or _dateline_by_body(text, body)
        articles.append(Article(doc_id=src.doc_id, path=src.path,
                                title=src.title or title_of(text, classes, body) or src.doc_id,
                                text=text, sha256=sha256_text(text), body=tuple(body),
                                duplicate_of=dups.get(src.doc_id), date=date, outlet=src.outlet,
                                author=src.author, url=src.url, extractor=src.extractor, record=src.record))
    return sorted(articles, key=lambda a: a.doc_id)
