"""Persisting and loading the index, and telling when it is stale.

Layout of an index folder:
    manifest.json            format version, model, settings, source hashes, file hashes
    gen-<id>/articles.jsonl  one cleaned article a line (body spans, duplicate_of)
    gen-<id>/chunks.jsonl    one chunk a line (offsets, sentence spans, also_in)
    gen-<id>/bm25.jsonl      BM25 parameters, then one token list a line
    gen-<id>/dense.faiss     the faiss index of chunk embeddings
    gen-<id>/sentences.npy   sentence embeddings (float32; loaded with allow_pickle=False)
A build writes a new generation folder, then swaps `manifest.json` with an atomic
rename, so a reader sees the old index or the new one, never half of one. Nothing
is pickled. Every file is checked against its size and sha256 in the manifest
before it is parsed.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..config import DEFAULT, FORMAT_VERSION, Settings
from ..errors import IndexCorruptError
from ..ingest.read import article_files, file_key
from ..retrieval.dense import DenseIndex
from ..retrieval.index import Index
from ..retrieval.lexical import BM25
from ..retrieval.runtime import sha256_file
from ..types import Article, Chunk, Location


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


def _chunk_record(c: Chunk) -> dict:
    d = {f.name: getattr(c, f.name) for f in fields(c)}
    d["also_in"] = [{f.name: getattr(loc, f.name) for f in fields(loc)} for loc in c.also_in]
    return d


def persist(index_dir, manifest, articles, chunks, bm25, tokens, dindex, sent_spans, sent_vecs, folder) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        gen = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        tmp = index_dir / f".tmp-{gen}"
        tmp.mkdir()
        try:
            _write_lines(tmp / "articles.jsonl", (_article_record(a, folder) for a in articles))
            _write_lines(tmp / "chunks.jsonl", (_chunk_record(c) for c in chunks))
            _write_lines(tmp / "sentences.jsonl", ({"doc_id": d, "start": s, "end": e} for d, s, e in sent_spans))
            bm25.save(tmp / "bm25.jsonl", tokens)
            dindex.save(tmp / "dense.faiss")
            np.save(tmp / "sentences.npy", sent_vecs, allow_pickle=False)
            files = {}
            for p in sorted(tmp.iterdir()):
                with open(p, "rb") as f:
                    os.fsync(f.fileno())
                files[p.name] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            os.rename(tmp, index_dir / gen)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        manifest = {**manifest, "generation": gen, "files": files}
        mtmp = index_dir / f".manifest-{gen}.json"
        mtmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        with open(mtmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(mtmp, index_dir / "manifest.json")
        for old in index_dir.iterdir():
            if old.name != gen and (old.name.startswith("gen-") or old.name.startswith(".tmp-")):
                shutil.rmtree(old, ignore_errors=True)


def update_manifest(index_dir: Path, **fields) -> dict:
    """Rewrite manifest.json with `fields` set (under the build lock, then an atomic rename):
    for what describes the index without changing its files, such as the reader in use."""
    index_dir = Path(index_dir)
    with open(index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = {**json.loads((index_dir / "manifest.json").read_text(encoding="utf-8")), **fields}
        tmp = index_dir / f".manifest-{uuid.uuid4().hex[:8]}.json"
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, index_dir / "manifest.json")
    return manifest


def _write_lines(path: Path, records) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


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
    if m.get("format_version") != FORMAT_VERSION:
        return f"index format {m.get('format_version')} is not the current format {FORMAT_VERSION}", None
    if m.get("settings") != settings.index_fingerprint():
        return "index settings differ from the current settings", None
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
    gen = Path(index_dir) / m["generation"]
    for name, meta in m["files"].items():
        p = gen / name
        if not p.exists():
            raise IndexCorruptError(f"{p} is missing")
        if p.stat().st_size != meta["bytes"] or sha256_file(p) != meta["sha256"]:
            raise IndexCorruptError(f"{p} does not match its manifest hash (truncated or edited)")


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


def load(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT) -> Index:
    """Load a persisted index, checking every file against the manifest's hashes."""
    index_dir = Path(index_dir)
    try:
        m = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
        gen = index_dir / m["generation"]
        check_files(index_dir, m)
        records = [json.loads(x) for x in (gen / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
        articles = [Article(**{**r, "path": str(Path(seeds_dir) / r["path"]),
                               "body": tuple(tuple(b) for b in r["body"])}) for r in records]
        chunks = []
        for line in (gen / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            chunks.append(Chunk(**{**c, "sentences": tuple(tuple(s) for s in c["sentences"]),
                                   "also_in": tuple(Location(**loc) for loc in c["also_in"])}))
        sent_spans = [(r["doc_id"], r["start"], r["end"]) for r in
                      map(json.loads, (gen / "sentences.jsonl").read_text(encoding="utf-8").splitlines())]
        bm25, tokens = BM25.load(gen / "bm25.jsonl")
        dindex = DenseIndex.load(gen / "dense.faiss")
        sent_vecs = np.load(gen / "sentences.npy", allow_pickle=False)
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as e:
        raise IndexCorruptError(f"index at {index_dir} is unreadable: {e}") from e
    if len(dindex) != len(chunks) or bm25.n_docs != len(chunks) or len(sent_vecs) != len(sent_spans):
        raise IndexCorruptError(f"index at {index_dir} is inconsistent (chunk counts differ between files)")
    return Index(articles, chunks, bm25, dindex, sent_spans, sent_vecs, settings, m, seeds_dir, tokens)
