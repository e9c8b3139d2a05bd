"""Articles added through the chat: the format told by the content, stored under a generated name.

An upload is refused, with the reason, when it is empty, too large, binary, not UTF-8
text, or gives no article when read as its format. The format comes from the content
(a web page, a JSON-lines or CSV export with a `text` column, or plain text); the
client's file name only has to carry a supported extension; it tells `.md` from `.txt`,
and a name that promises an export must hold one.
It is never used as a path: the file is stored as `up-<sha256 of its bytes, 16 hex>.<format>`
in the uploads folder inside the articles folder (`Settings.uploads`), written to a
temporary dot-file, synced and renamed, so a half-written upload is never read. The same
bytes uploaded twice are one file.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import DEFAULT, Settings
from . import html
from .formats import read_sources
from .read import article_cut, uploads_folder

MAGIC = {b"%PDF": "a PDF", b"PK\x03\x04": "a zip archive (or a Word/Excel file)", b"\x89PNG": "a PNG image",
         b"GIF8": "a GIF image", b"\xff\xd8\xff": "a JPEG image", b"\x7fELF": "a program",
         b"\x1f\x8b": "a gzip archive"}


class UploadRefused(ValueError):
    """An upload that is not stored; the message says why, naming the file."""


@dataclass(frozen=True)
class Stored:
    name: str              # the generated file name inside the uploads folder
    path: Path
    format: str            # ".html", ".jsonl", ".csv", ".md" or ".txt"
    titles: tuple[str, ...]
    duplicate: bool        # the same bytes were uploaded before
    notes: tuple[str, ...] = ()   # what of it is not indexed: records skipped, an article truncated


def content_format(data: bytes, client_name: str, settings: Settings = DEFAULT) -> str:
    """The format the bytes are in (".html", ".jsonl", ".csv", ".md" or ".txt"); UploadRefused
    naming the file and the reason when they are none of them, or the name's extension is not
    one qa reads."""
    label = _label(client_name)
    claimed = os.path.splitext(label)[1].lower()
    if claimed not in settings.extensions:
        raise UploadRefused(f"{label}: qa takes {', '.join(settings.extensions)} files")
    if not data.strip():
        raise UploadRefused(f"{label}: the file is empty")
    if len(data) > settings.max_file_bytes:
        raise UploadRefused(f"{label}: too large ({len(data):,} bytes; the limit is {settings.max_file_bytes:,})")
    what = next((w for magic, w in MAGIC.items() if data.startswith(magic)), None)
    if what or b"\x00" in data:
        raise UploadRefused(f"{label}: this is {what or 'a binary file'}, not an article")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and html.looks_like_html(head):
        return ".html"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UploadRefused(f"{label}: not UTF-8 text (bad byte at position {e.start}); "
                            "re-save it as UTF-8") from None
    found = ".jsonl" if _is_jsonl(text) else ".csv" if _is_csv(text) else None
    if claimed in (".jsonl", ".csv") and found != claimed:
        kind = "JSON lines, one object per line" if claimed == ".jsonl" else "CSV with a header that has a text column"
        raise UploadRefused(f"{label}: not an export qa reads ({kind})")
    return found or (".md" if claimed == ".md" else ".txt")


def store(folder: Path, data: bytes, client_name: str, settings: Settings = DEFAULT) -> Stored:
    """Check one upload and store it in the uploads folder of `folder`; UploadRefused says why not."""
    label = _label(client_name)
    fmt = content_format(data, client_name, settings)
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as tmp:   # read it as qa will, before it is kept
        trial = Path(tmp) / f"upload{fmt}"
        trial.write_bytes(data)
        sources, warnings = read_sources(trial, settings.max_file_bytes, settings.max_export_records)
    if not sources:
        why = "; ".join(w.split(": ", 1)[-1] for w in warnings[:3]) or "no article in it"
        raise UploadRefused(f"{label}: not added ({why}{'; …' if len(warnings) > 3 else ''})")
    notes = [f"{label}: {w.split(' ', 2)[2]}" for w in warnings]      # "record 3 (line 4): no text"
    notes += [f"{label}{f' record {s.record}' if s.record else ''}: {len(s.text):,} characters, more than the "
              f"limit of {settings.max_article_chars:,} per article (max_article_chars); only the first "
              f"{article_cut(s.text, settings.max_article_chars):,} are indexed"
              for s in sources if len(s.text) > settings.max_article_chars]
    target_dir = uploads_folder(folder, settings)
    if target_dir is None:
        raise UploadRefused("uploads are turned off (Settings.uploads is empty)")
    if target_dir.is_symlink() or (target_dir.exists() and not target_dir.is_dir()):
        raise UploadRefused(f"the uploads folder {target_dir} is not a folder: remove or rename it")
    target_dir.mkdir(parents=True, exist_ok=True)
    name = f"up-{hashlib.sha256(data).hexdigest()[:16]}{fmt}"
    path = target_dir / name
    titles = tuple(s.title or s.doc_id for s in sources)
    if path.is_file() and path.read_bytes() == data:
        return Stored(name, path, fmt, titles, True, tuple(notes))
    kept = sum(1 for p in target_dir.iterdir() if p.name.startswith("up-"))
    if kept >= settings.max_uploads:
        raise UploadRefused(f"{label}: the uploads folder already holds {kept:,} files, the limit "
                            f"({settings.max_uploads:,}); move some into the articles folder")
    part = target_dir / f".{name}.part"
    try:
        with open(part, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
        dfd = os.open(target_dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as e:
        part.unlink(missing_ok=True)
        raise UploadRefused(f"{label}: could not be saved ({e.strerror or e})") from None
    return Stored(name, path, fmt, titles, False, tuple(notes))


def _label(client_name) -> str:
    """The client's file name as shown in messages: its last part, printable, at most 80 characters."""
    base = str(client_name or "upload").replace("\\", "/").rsplit("/", 1)[-1] or "upload"
    base = "".join(ch if ch.isprintable() else "?" for ch in base)
    return base if len(base) <= 80 else base[:60] + "…" + base[-19:]


def _is_jsonl(text: str) -> bool:
    rows = [x for x in text.splitlines()[:50] if x.strip()]
    if not rows or not rows[0].lstrip().startswith("{"):
        return False
    try:
        return all(isinstance(json.loads(x), dict) for x in rows)
    except ValueError:
        return False


def _is_csv(text: str) -> bool:
    try:
        header = next(csv.reader(io.StringIO(text[:65536])), [])
    except csv.Error:
        return False
    names = {h.strip().lower() for h in header}
    return len(header) >= 2 and "text" in names
