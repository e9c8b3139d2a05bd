"""Reading a folder of articles: which files, how each is read, then cleaned and grouped.

Every file of a supported format (`formats.py`: .txt, .md, .html, .htm, .jsonl,
.csv) gives its articles: one per text or web page, one per record of an export.
A `.txt`/`.md` article's doc_id is the file name without the extension; an
export record's is the stem plus "-<record number>". A file or record that is
empty, binary, not UTF-8, too large or of an unknown format is skipped with a
warning that names it. Offsets index the text `formats.py` defines for the
format (for plain text, exactly what `open(path, encoding="utf-8").read()` gives).
An article's text is kept whole (its sha256 is the file's), but only its first
`max_article_chars` characters (cut at a space) are cleaned and indexed, with a warning;
an export of more than `max_export_records` records is skipped.
Cleaning (`boilerplate.py`) and duplicate grouping (`duplicates.py`) run over the
whole folder, because a line repeated across unrelated articles is site furniture.
Files in sub-folders and symbolic links are not read, except the uploads folder
(`Settings.uploads`, where the chat stores what people upload), read like the top level.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import DEFAULT, Settings
from ..errors import EmptyCorpusError
from ..types import Article
from .known import Facts, on_its_own, remember, stored as stored_facts
from .boilerplate import body_spans, decide, title_of
from .duplicates import groups_of
from .dates import dateline
from .formats import Source, read_sources

log = logging.getLogger("qa")


def uploads_folder(folder: Path, settings: Settings = DEFAULT) -> Path | None:
    """The uploads folder inside `folder` (`Settings.uploads`, one plain name), or None when off."""
    name = settings.uploads
    if not name:
        return None
    if name in (".", "..") or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"the uploads folder must be one plain folder name inside the articles folder, not {name!r}")
    return Path(folder) / name


def article_files(folder: Path, settings: Settings = DEFAULT) -> list[Path]:
    """The files that qa reads, sorted: the regular files (no links) of a supported format in
    `folder` and in its uploads folder (not a link either)."""
    def readable(d: Path) -> list[Path]:       # one scandir: no stat per file for its type
        with os.scandir(d) as entries:
            names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False)
                           and os.path.splitext(e.name)[1].lower() in settings.extensions)
        return [d / n for n in names]
    up = uploads_folder(folder, settings)
    more = readable(up) if up is not None and up.is_dir() and not up.is_symlink() else []
    return readable(Path(folder)) + more


def file_key(folder: Path, path: Path) -> str:
    """How the index names a file: relative to the articles folder ("a.txt", "uploads/up-1f….html")."""
    p, f = str(path), str(folder)
    if p.startswith(f + os.sep) and ".." not in p[len(f) + 1:].split(os.sep):   # the usual case, quickly
        return p[len(f) + 1:].replace(os.sep, "/")
    return Path(os.path.relpath(path, folder)).as_posix()


def read_folder(folder: Path, settings: Settings = DEFAULT,
                known: dict[str, tuple[list[Source], list[str]]] | None = None,
                before: Before | None = None) -> tuple[list[Article], list[str]]:
    """Read, clean and de-duplicate every article in `folder`.

    Returns the articles (sorted by doc_id) and one warning per skipped file or record.
    `known` maps a file name to its articles and warnings when they are already known (the
    file is unchanged since the last build), so it is not read again; `before` (the previous
    index's cleaning) spares cleaning the texts it knows again (`clean_all`).
    Raises EmptyCorpusError when nothing readable is left.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EmptyCorpusError(f"articles folder {folder} does not exist: create it and put articles in it "
                               "(.txt, .md, .html, .jsonl or .csv)")
    sources, skipped, seen, unchanged = [], [], set(), set()
    for path in article_files(folder, settings):
        was = (known or {}).get(file_key(folder, path))
        found, warnings = was or read_sources(path, settings.max_file_bytes, settings.max_export_records)
        unchanged.update(s.doc_id for s in found if was)
        warnings = list(warnings)
        for s in found:
            if s.doc_id in seen:
                warnings.append(f"skipped {path.name}: its article id {s.doc_id} is taken by another file")
                continue
            seen.add(s.doc_id)
            sources.append(s)
            if len(s.text) > settings.max_article_chars:
                what = path.name if s.record is None else f"{path.name} record {s.record}"
                warnings.append(f"truncated {what}: {len(s.text):,} characters, more than the limit of "
                                f"{settings.max_article_chars:,} per article (max_article_chars); only the first "
                                f"{article_cut(s.text, settings.max_article_chars):,} are indexed")
        for w in warnings:
            skipped.append(w)
            log.warning("%s", w)
    if not sources:
        raise EmptyCorpusError(f"no readable article in {folder}: add UTF-8 articles "
                               "(.txt, .md, .html, .jsonl or .csv)")
    return clean_all(sources, settings, before, unchanged), skipped


def article_cut(text: str, limit: int) -> int:
    """How much of `text` is indexed: all of it up to `limit` characters, else up to the last
    white space before the limit (the whole limit when there is none in its second half)."""
    if len(text) <= limit:
        return len(text)
    cut = max(text.rfind(" ", limit // 2, limit + 1), text.rfind("\n", limit // 2, limit + 1))
    return cut if cut > 0 else limit


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dateline_by_body(text: str, body) -> str | None:
    """A dateline in the three lines above the cleaned body or at its start (mastheads come first)."""
    if not body:
        return None
    start = body[0][0]
    above = [ln for ln in text[max(0, start - 400):start].split("\n") if ln.strip()][-3:]
    return dateline("\n".join(above) + "\n" + text[start:start + 300])


@dataclass
class Before:
    """The previous index's cleaning: its articles (in its order) and their line keys and bands
    (`known.arrays`), so that a rebuild works out again only what a change touches."""
    articles: list[Article]
    keys: np.ndarray
    bands: np.ndarray


def _across(tables: dict[str, list], group: dict[str, str], settings: Settings) -> set[int]:
    """Keys of lines repeated across stories that are not duplicates of each other (a prose line
    only when `settings.prose_across` stories repeat it)."""
    seen: dict[int, set[str]] = {}
    prose: set[int] = set()
    for d, table in tables.items():
        g = group[d]
        for _, _, k, c in table:
            if k:
                seen.setdefault(k, set()).add(g)
                if c == "P":
                    prose.add(k)
    return {k for k, groups in seen.items() if len(groups) >= (settings.prose_across if k in prose else 2)}


def _context(sources: list[Source], settings: Settings, stored: dict[str, Facts] | None = None) -> tuple:
    """(sha256s, line tables, keys repeated within each text, duplicate groups, keys repeated across
    stories) of a folder's texts: lines repeated inside an article, or across articles that are not
    duplicates of each other, count as boilerplate. `stored`: facts of texts by sha256, known already."""
    stored = stored or {}
    shas = {src.doc_id: sha256_text(src.text) for src in sources}
    alone = {src.doc_id: stored.get(shas[src.doc_id]) or on_its_own(
        src.text[:article_cut(src.text, settings.max_article_chars)], shas[src.doc_id], settings) for src in sources}
    remember({shas[d]: f for d, f in alone.items()}, settings)
    tables = {d: f.table for d, f in alone.items()}
    within = {d: f.within for d, f in alone.items()}
    dups = groups_of({d: (f.shingles, f.bands) for d, f in alone.items()}, settings)
    across = _across(tables, {d: dups.get(d, d) for d in alone}, settings)
    return shas, tables, within, dups, across


def explain(path: Path, settings: Settings = DEFAULT) -> tuple[list[tuple[Article, list]], list[str]]:
    """What cleaning does to the articles of one file, read with the folder it is in (lines repeated
    across that folder's stories count): each article with its lines as (start, end, class, reason),
    reason None for a body line; and the warnings of files not read."""
    path = Path(path)
    files = article_files(path.parent, settings) if path.parent.is_dir() else []
    files = files if path in files else files + [path]
    sources, warnings = [], []
    for f in files:
        found, w = read_sources(f, settings.max_file_bytes, settings.max_export_records)
        sources.extend(found)
        warnings.extend(w if f == path else ())
    mine = {s.doc_id for s in sources if Path(s.path) == path}
    if not mine:
        raise ValueError(f"{path.name} gives no article to clean ({'; '.join(warnings) or 'not found'})")
    context = _context(sources, settings)
    _, tables, within, _, across = context
    arts = {a.doc_id: a for a in _clean(sources, context) if a.doc_id in mine}
    return [(arts[d], list(decide(arts[d].text, within[d], {k for _, _, k, _ in tables[d] if k in across}, tables[d])))
            for d in sorted(mine)], warnings


def clean_all(sources: list[Source], settings: Settings = DEFAULT, before: Before | None = None,
              unchanged: set[str] = frozenset()) -> list[Article]:
    """Clean each text (`_context` says which repeated lines are boilerplate) and date it. With
    `before`, a text cleaned before is not looked at on its own again, and the article of an
    unchanged file (`unchanged`: doc_ids) is taken as it was when the lines of it that other stories
    repeat, and its duplicate group, are as they were."""
    cut = lambda t: t[:article_cut(t, settings.max_article_chars)]     # noqa: E731
    stored = stored_facts([(a.sha256, a.text) for a in before.articles], before.keys, before.bands, settings,
                          cut) if before is not None else {}
    context = _context(sources, settings, stored)
    reuse: dict[str, tuple[Article, set[int]]] = {}
    if stored:
        tables = {a.doc_id: stored[a.sha256].table for a in before.articles}
        was = _across(tables, {a.doc_id: a.duplicate_of or a.doc_id for a in before.articles}, settings)
        reuse = {a.doc_id: (a, {k for _, _, k, _ in tables[a.doc_id] if k in was})
                 for a in before.articles if a.doc_id in unchanged}
    return _clean(sources, context, reuse)


def _clean(sources: list[Source], context: tuple, reuse: dict | None = None) -> list[Article]:
    shas, tables, within, dups, across = context
    articles = []
    for src in sources:
        text = src.text
        theirs = {key for _, _, key, _ in tables[src.doc_id] if key in across}
        old = (reuse or {}).get(src.doc_id)
        if old is not None and old[0].sha256 == shas[src.doc_id] and old[0].duplicate_of == dups.get(src.doc_id) \
                and old[1] == theirs:
            articles.append(old[0])
            continue
        body, classes = body_spans(text, within[src.doc_id], tables[src.doc_id], theirs)
        date, evidence = src.date, src.date_evidence
        if date is None and src.extractor == "text" and (date := _dateline_by_body(text, body)):
            evidence = "dateline"
        articles.append(Article(doc_id=src.doc_id, path=src.path,
                                title=src.title or title_of(text, classes, body) or src.doc_id,
                                text=text, sha256=shas[src.doc_id], body=tuple(body),
                                duplicate_of=dups.get(src.doc_id), date=date, outlet=src.outlet,
                                author=src.author, url=src.url, extractor=src.extractor, record=src.record,
                                date_evidence=evidence or (None if date else "date unknown: no dateline")))
    return sorted(articles, key=lambda a: a.doc_id)
