"""Persisting the index (`loading.py` reads it back), and telling when it is stale.

Layout of an index folder (format 3: compact tables, int8 vectors; `retrieval/tables.py`):
    manifest.json            format version, model, settings, source hashes, file hashes
    gen-<id>/articles.jsonl.gz  one cleaned article a line, gzipped (text, body spans, duplicate_of)
    gen-<id>/sentences.npy   int32 [n, 3]: article (its line in articles.jsonl.gz), start, end
    gen-<id>/chunks.npy      int32 [n, 2]: a window's first sentence and its number of sentences
    gen-<id>/also_in.jsonl   the windows that also stand in duplicate scrapes, and where
    gen-<id>/bm25.json       BM25 parameters, terms and where each term's postings start
    gen-<id>/bm25.npy        the postings: (chunk int32, count uint16, weight float32)
    gen-<id>/vectors.npy     sentence embeddings, int8 [n, dim]; scales.npy their float32 scale
    gen-<id>/windows.npy     window embeddings, int8 [n, dim]; window-scales.npy their scale
    gen-<id>/dense.faiss     faiss index of the windows' vectors (8-bit scalar quantizer)
    gen-<id>/lines.npy       uint64: every article's line keys and classes (`ingest/known.py`); and
    gen-<id>/bands.npy       uint32 [articles, 17]: its duplicate bands and lines (both optional: a rebuild
                             without them cleans every text again, with them only what changed)
A build writes a new generation folder, then swaps `manifest.json` with an atomic
rename, so a reader sees the old index or the new one, never half of one; every file
is written all or nothing and checked against its sha256 before it is parsed or mapped
(`files.py`); the large arrays are then memory-mapped, not read whole, so a serving
process holds the pages it touches. Generation files are never rewritten. Nothing is pickled.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..config import DEFAULT, Settings
from ..errors import IndexCorruptError
from ..ingest.read import article_files, file_key
from ..types import Article
from . import model
from .files import check_file, fsync_dir, write_file, writer_lock

log = logging.getLogger("qa")
INDEX_FILES = ("articles.jsonl.gz", "sentences.npy", "chunks.npy", "also_in.jsonl", "bm25.json", "bm25.npy",
               "vectors.npy", "scales.npy", "windows.npy", "window-scales.npy", "dense.faiss")
OPTIONAL_FILES = ("lines.npy", "bands.npy")       # checked like the others when the manifest lists them


def source_hashes(seeds_dir: Path, settings: Settings, manifest: dict | None = None) -> dict[str, str]:
    """sha256 of the bytes of every candidate article file, readable or not."""
    return source_state(seeds_dir, settings, manifest)[0]


def source_state(seeds_dir: Path, settings: Settings, manifest: dict | None = None
                 ) -> tuple[dict[str, str], dict[str, list[int]]]:
    """(sha256, [size, mtime in ns]) of every candidate article file. A file whose size and
    modification time are those `manifest` recorded keeps its recorded hash without being read
    (as git's index does); any other file is read and hashed, and so is a file modified less
    than 2 s before the recorded look (a coarse file clock could hide a second edit)."""
    known_hash = (manifest or {}).get("sources", {})
    known_stat = (manifest or {}).get("source_stats", {})
    looked = int((manifest or {}).get("source_stats_at_ns", 0))
    hashes, stats = {}, {}
    for p in article_files(seeds_dir, settings) if Path(seeds_dir).is_dir() else []:
        key = file_key(seeds_dir, p)
        try:
            st = p.stat()
            stats[key] = [st.st_size, st.st_mtime_ns]
            if (known_stat.get(key) == stats[key] and st.st_mtime_ns + 2_000_000_000 < looked
                    and known_hash.get(key) not in (None, "unreadable")):
                hashes[key] = known_hash[key]
            else:
                hashes[key] = hashlib.sha256(p.read_bytes()).hexdigest()
        except OSError:
            hashes[key] = "unreadable"
            stats.pop(key, None)
    return hashes, stats


def folder_signature(seeds_dir: Path, settings: Settings) -> dict[str, list[int]]:
    """What a cheap look at the folder sees (each file's [size, modification time in ns]; no
    reading): when it differs from before, some file may have changed. The same form as a
    manifest's "source_stats"."""
    out = {}
    for p in article_files(seeds_dir, settings) if Path(seeds_dir).is_dir() else []:
        try:
            st = p.stat()
            out[file_key(seeds_dir, p)] = [st.st_size, st.st_mtime_ns]
        except OSError:
            out[file_key(seeds_dir, p)] = [-1, -1]
    return out


def _article_record(a: Article, folder: Path) -> dict:
    """An article as stored: its text too (an HTML page is not extracted again on every load;
    `verify` derives it again from the file), the file named relative to the folder."""
    d = {f.name: getattr(a, f.name) for f in fields(a)}      # flat fields: no deep copy (asdict)
    d["path"] = file_key(folder, a.path)
    return d


def persist(index_dir, manifest, articles, chunks, bm25, dindex, sentences, codes, windows, folder,
            cleaning: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Write a new generation folder (each file all or nothing, `files.py`), then swap the
    manifest to it. The generation before stays on disk, so a process that read the old manifest
    a moment ago still finds its files; older ones, and what an interrupted build left, go.
    `chunks` and `sentences` are the tables of `retrieval/tables.py`, `codes` and `windows` the
    int8 vectors of the sentences and the windows; `cleaning` the articles' line keys and bands
    (`ingest/known.py`), written when known (`OPTIONAL_FILES`: a rebuild without them cleans every
    text again)."""
    index_dir = Path(index_dir)
    with writer_lock(index_dir):
        before = (_read_manifest(index_dir) or {}).get("generation")
        gen = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        tmp = index_dir / f".tmp-{gen}"
        tmp.mkdir()
        head, postings = bm25.to_files()
        blobs = {
            "articles.jsonl.gz": lambda: _gzipped(_article_record(a, folder) for a in articles),
            "sentences.npy": lambda: _npy(sentences.rows),
            "chunks.npy": lambda: _npy(chunks.runs),
            "also_in.jsonl": lambda: _lines({"chunk": i, "also_in": [{f.name: getattr(loc, f.name) for f in fields(loc)}
                                                                      for loc in locs]}
                                            for i, locs in sorted(chunks.also_in.items())),
            "bm25.json": lambda: head,
            "bm25.npy": lambda: _npy(postings),
            "vectors.npy": lambda: _npy(codes.codes),
            "scales.npy": lambda: _npy(codes.scale),
            "windows.npy": lambda: _npy(windows.codes),
            "window-scales.npy": lambda: _npy(windows.scale),
            "dense.faiss": lambda: dindex.write_to,
        }
        if cleaning is not None:
            blobs.update(zip(OPTIONAL_FILES, (lambda: _npy(cleaning[0]), lambda: _npy(cleaning[1]))))
        try:
            files = {}
            for name, make in blobs.items():
                sha, size = write_file(tmp / name, make())
                files[name] = {"sha256": sha, "bytes": size}
            os.rename(tmp, index_dir / gen)
            fsync_dir(index_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        manifest = {**manifest, "generation": gen, "previous_generation": before, "files": files}
        write_file(index_dir / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
        _remove_strays(index_dir, {gen, before})


def _remove_strays(index_dir: Path, keep: set) -> list[str]:
    """Remove temporary files and folders and every generation folder not in `keep` (the writer
    lock held); the names removed."""
    removed = []
    for old in sorted(index_dir.iterdir()):
        stray = old.name.startswith((".tmp-", ".manifest")) or old.name.endswith(".part")
        if stray or old.name.startswith("gen-") and old.name not in keep:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
            removed.append(old.name)
    return removed


def sweep(index_dir: Path) -> list[str]:
    """Remove what interrupted builds left in `index_dir` (a build killed before its manifest was
    swapped leaves a generation folder that nothing points to, or a temporary one), keeping the
    manifest's generation and the one before it (a process that read the old manifest a moment
    ago still finds its files). Done only when no other writer is at work (it cleans up after
    itself); returns the names removed."""
    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        return []
    try:
        with writer_lock(index_dir, wait=False):
            m = _read_manifest(index_dir) or {}
            gens = sorted(p.name for p in index_dir.glob("gen-*"))
            current = m.get("generation")
            before = m.get("previous_generation") if "previous_generation" in m else next(
                (g for g in reversed(gens) if current and g < current), None)    # names sort by time
            removed = _remove_strays(index_dir, {current, before} - {None})
    except BlockingIOError:
        return []
    if removed:
        log.warning("removed what interrupted builds left in %s: %s", index_dir, ", ".join(removed))
    return removed


def update_manifest(index_dir: Path, **fields) -> dict:
    """Rewrite manifest.json with `fields` set (under the writer lock, all or nothing): for what
    describes the index without changing its files, such as the reader in use."""
    index_dir = Path(index_dir)
    with writer_lock(index_dir):
        manifest = {**json.loads((index_dir / "manifest.json").read_text(encoding="utf-8")), **fields}
        write_file(index_dir / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    return manifest


def _read_manifest(index_dir: Path) -> dict | None:
    try:
        m = json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8"))
        return m if isinstance(m, dict) else None
    except (OSError, ValueError):
        return None


def _gzipped(records) -> bytes:
    """JSON lines, gzipped a line at a time (the whole text is never held uncompressed)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=6, mtime=0) as z:
        for r in records:
            z.write((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8"))
    return buf.getvalue()


def _lines(records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _npy(array: np.ndarray) -> list:
    """The bytes `np.save` writes for `array`, as its header and a view of its data (not a copy)."""
    a = np.ascontiguousarray(array)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, np.lib.format.header_data_from_array_1_0(a))
    return [buf.getvalue(), a.reshape(-1).view(np.uint8)]


def stale_reason(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT) -> str | None:
    """Why the index at `index_dir` cannot serve `seeds_dir` as it is now, or None."""
    return staleness(seeds_dir, index_dir, settings)[0]


def staleness(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT) -> tuple[str | None, tuple | None]:
    """(`stale_reason`, and the folder's (hashes, stats, when looked in ns) when they were
    worked out, for a build to take instead of looking again)."""
    path = Path(index_dir) / "manifest.json"
    if not path.exists():
        return "no index yet", None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"manifest.json is unreadable ({e})", None
    if why := model.incompatible(m, settings):
        return why, None
    looked = time.time_ns()
    now, stats = source_state(seeds_dir, settings, m)
    changes = source_changes(m.get("sources", {}), now)
    reason = f"articles changed since the index was built ({changes})" if changes else None
    return reason, (now, stats, looked)


def source_changes(old: dict[str, str], now: dict[str, str]) -> str | None:
    """The files added, removed and changed between two {file: sha256} maps, in words, or None."""
    if now == old:
        return None
    added = sorted(set(now) - set(old))
    removed = sorted(set(old) - set(now))
    changed = sorted(n for n in set(now) & set(old) if now[n] != old[n])
    return "; ".join(f"{label}: {', '.join(names)}" for label, names in
                     (("added", added), ("removed", removed), ("changed", changed)) if names)


def check_files(index_dir: Path, m: dict) -> None:
    """IndexCorruptError unless every file of the manifest's generation has its size and sha256."""
    for name in INDEX_FILES + tuple(n for n in OPTIONAL_FILES if n in m["files"]):
        check_file(Path(index_dir) / m["generation"] / name, m["files"].get(name))


def up_to_date(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT) -> dict | None:
    """The manifest when the index serves the folder as it is and its files are intact (checked
    by hash, nothing parsed); else None."""
    if stale_reason(seeds_dir, index_dir, settings) is not None:
        return None
    try:
        m = json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8"))
        check_files(index_dir, m)
        return m
    except (OSError, ValueError, KeyError, IndexCorruptError):
        return None
