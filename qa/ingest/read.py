"""Reading a folder of articles: which files, how each is read, then cleaned and grouped.

Every `.txt` / `.md` file is one article; its name without the extension is its
doc_id. A file that is empty, binary, not UTF-8 or too large is skipped with a
warning that names it. The text kept is exactly what `open(path, encoding="utf-8")
.read()` gives, so every offset later points into the file as a user reads it.
Cleaning (`boilerplate.py`) and duplicate grouping (`duplicates.py`) run over the
whole folder, because a line repeated across unrelated articles is site furniture.

Left out: HTML extraction (bring plain text).
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

log = logging.getLogger("qa")


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


def clean_all(raw: list[tuple[Path, str]], settings: Settings = DEFAULT) -> list[Article]:
    """Clean each text; lines repeated inside an article, or across articles that
    are not duplicates of each other, count as boilerplate."""
    first = {}
    for path, text in raw:
        body, _ = body_spans(text, repeated_within(text))
        first[path.stem] = "\n".join(text[s:e] for s, e in body)
    dups = duplicate_groups(first, settings)
    group = {d: dups.get(d, d) for d in first}
    seen: dict[str, set[str]] = {}
    for path, text in raw:
        for k in {line_key(text[s:e]) for s, e in lines(text)}:
            seen.setdefault(k, set()).add(group[path.stem])
    across = {k for k, groups in seen.items() if len(groups) > 1}
    articles = []
    for path, text in raw:
        body, classes = body_spans(text, repeated_within(text) | across)
        articles.append(Article(doc_id=path.stem, path=str(path), title=title_of(text, classes, body) or path.stem,
                                text=text, sha256=sha256_text(text), body=tuple(body),
                                duplicate_of=dups.get(path.stem)))
    return sorted(articles, key=lambda a: a.doc_id)
