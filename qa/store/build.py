"""Building the index: read, clean, chunk, tokenize and embed a folder, then persist it.

`open_index` is the one entry point the pipeline uses: it loads the persisted
index when it still describes the folder, and builds it when it is missing,
stale (an article added, changed or removed; settings changed) or corrupt,
saying why.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from ..config import DEFAULT, FORMAT_VERSION, Settings
from ..errors import IndexCorruptError, IndexWriteError
from ..ingest.known import arrays as cleaning_arrays
from ..ingest.read import read_folder
from ..retrieval import encoder
from ..retrieval.dense import DenseIndex, pooled
from ..retrieval.index import Index
from ..retrieval.tables import Chunks, Codes
from .distributed import InProcess
from . import model
from .files import writer_lock
from .loading import load
from .persist import persist, source_state, staleness, update_manifest
from . import carry
from .reuse import Previous

log = logging.getLogger("qa")
STREAM = 16_384                # texts encoded and quantized at a time


def _reader_record(settings: Settings) -> dict | None:
    """The reader the answers over this index come from: its folder and the sha256 its card gives."""
    folder = settings.reader_dir()
    if folder is None:
        return None
    try:
        card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
        return {"folder": settings.reader, "sha256": card["files"]["reader.onnx"]["sha256"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {"folder": settings.reader, "sha256": None}


def _note_reader(index: Index, index_dir: Path) -> None:
    """The reader changes without the index changing: the manifest then records the new one."""
    record = _reader_record(index.settings)
    if index.manifest.get("reader") == record:
        return
    try:
        index.manifest = update_manifest(index_dir, reader=record)
    except (OSError, ValueError) as e:         # a read-only index still serves
        log.warning("cannot record the reader in %s: %s", index_dir / "manifest.json", e)


def build(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT, progress: bool = False,
          previous: Index | None = None, state: tuple | None = None, engine=None) -> Index:
    """Read, clean, chunk, embed and persist; returns the loaded index. With `previous` (the
    index as it was), whatever did not change is taken from it (`reuse.py`); `state` is the
    folder's (hashes, stats, when looked) when the caller has just worked them out; `engine`
    chunks and encodes (`distributed.py`: in this process by default, or on Ray)."""
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    t0 = time.perf_counter()
    old = Previous(previous, settings)
    if state is None:
        looked_ns = time.time_ns()
        hashes, stats = source_state(seeds_dir, settings, previous.manifest if previous is not None else None)
    else:
        hashes, stats, looked_ns = state
    articles, skipped = read_folder(seeds_dir, settings, old.sources(hashes, seeds_dir), old.cleaning())
    cleaning = cleaning_arrays([a.sha256 for a in articles], settings)      # before the memory of it is replaced
    canon = [a for a in articles if a.duplicate_of is None]
    copies: dict[str, list] = {}
    for d in articles:
        if d.duplicate_of is not None:
            copies.setdefault(d.duplicate_of, []).append(d)
    engine = engine or InProcess(settings, progress)
    lay = carry.layout(canon, articles, old, engine, copies)
    texts = {a.doc_id: a.text for a in articles}
    sentences = lay.sentences
    table = Chunks(sentences, lay.runs, texts, lay.also_in)
    bm25 = old.bm25(table, lay.window_from, settings)
    t_prepared = time.perf_counter()
    if progress:
        log.info("embedding the %d sentences of %d articles (%d windows)", len(sentences), len(canon), len(table))
    # every sentence and window is encoded once: an unchanged article's vectors are carried over
    # as stored, a new text is looked up by its sha256 among the texts encoded before and encoded
    # when it was not; stored as int8, or a window's vector is pooled from its sentences'
    # (settings.window_vectors); faiss indexes the stored windows, so a rebuild gives what a
    # fresh build gives
    dim = encoder.dimension(settings)
    prev = old.index
    rows = sentences.rows

    def sentence_texts(ids) -> list[str]:
        return [texts[sentences.doc_ids[int(rows[i, 0])]][int(rows[i, 1]):int(rows[i, 2])] for i in ids]
    codes, carried = carry.vectors(prev.sentence_vectors if prev is not None else None, lay.sentence_from,
                                   sentence_texts, lambda t: _encoded(old, t, engine, dim, "sentences"), dim)
    old.reused += carried
    text_keys = _text_keys(prev, lay.sentence_from, old.keys)
    if settings.window_vectors == "pooled":      # from the stored int8 sentence vectors: a rebuild gives
        lengths = (rows[:, 2] - rows[:, 1]).astype(np.float32)                                 # a fresh build's
        windows = Codes.of(pooled(codes, [range(f, f + n) for f, n in table.runs.tolist()], lengths))
    else:
        windows, carried = carry.vectors(prev.window_vectors if prev is not None else None, lay.window_from,
                                         lambda ids: [table.text(int(i)) for i in ids],
                                         lambda t: _encoded(old, t, engine, dim, "windows"), dim)
        old.reused += carried
    t_encoded = time.perf_counter()
    dindex = DenseIndex(dim).fill(len(windows), lambda ids: windows[ids])
    manifest = {
        "format_version": FORMAT_VERSION,
        "model": model.record(settings, dim),
        "settings": settings.index_fingerprint(),
        "bm25": {"variant": "BM25 with idf log((N+1)/df)", "k1": settings.bm25_k1, "b": settings.bm25_b},
        "sources": hashes,
        "source_stats": stats,
        "source_stats_at_ns": looked_ns,
        "skipped": skipped,
        "counts": {"articles": len(articles), "indexed_articles": len(canon), "chunks": len(table),
                   "sentences": len(sentences)},
        "incremental": {"from_previous": old.index is not None, "articles_rechunked": lay.rechunked,
                        "texts_encoded": old.encoded, "texts_reused": old.reused},
        "reader": _reader_record(settings),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    persist(index_dir, manifest, articles, table, bm25, dindex, sentences, codes, windows, seeds_dir, cleaning)
    index = load(seeds_dir, index_dir, settings, articles)   # what a fresh process would serve: the files, mapped
    index.manifest["timings_s"] = {"read_clean_chunk": t_prepared - t0, "encode": t_encoded - t_prepared,
                                   "index_and_persist": time.perf_counter() - t_encoded}
    index.text_keys = text_keys                 # the next rebuild in this process need not hash them again
    return index


def _text_keys(prev: Index | None, came_from: np.ndarray, new_keys: list[str] | None) -> list[str] | None:
    """The sha256 of every sentence's text, when the previous index's and the new texts' are known."""
    if prev is None:
        return new_keys if new_keys is not None and len(new_keys) == len(came_from) else None
    have = prev.text_keys
    fresh = iter(new_keys or ())
    if have is None or len(have) != len(prev.sentence_vectors) or len(new_keys or ()) != int((came_from < 0).sum()):
        return None
    return [have[i] if i >= 0 else next(fresh) for i in came_from.tolist()]


def _encoded(old: Previous, texts: list[str], engine, dim: int, kind: str) -> Codes:
    """int8 vectors of `texts`, encoded (or taken from before) and quantized a slice at a time:
    a build never holds every float32 vector at once."""
    codes = Codes(np.zeros((len(texts), dim), np.int8), np.zeros(len(texts), np.float32))
    for lo in range(0, len(texts), STREAM):
        part = Codes.of(old.embed(texts[lo:lo + STREAM], engine.embed, dim, kind))
        codes.codes[lo:lo + len(part)], codes.scale[lo:lo + len(part)] = part.codes, part.scale
    return codes


def _on_disk(index_dir: Path) -> dict | None:
    try:
        return json.loads((Path(index_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _current(loaded: Index | None, index_dir: Path, settings: Settings) -> bool:
    """True when `loaded` is the generation the index folder holds now, built with `settings`."""
    m = _on_disk(index_dir)
    return (loaded is not None and m is not None and loaded.settings == settings
            and loaded.manifest.get("generation") == m.get("generation") is not None)


def _previous(seeds_dir: Path, index_dir: Path, settings: Settings, loaded: Index | None) -> Index | None:
    """The index as it was, when it can lend its parts to a rebuild (same format and settings):
    the one this process holds when it is still the current generation, else read from disk."""
    if _current(loaded, index_dir, settings):
        return loaded
    m = _on_disk(index_dir)
    if m is None or model.incompatible(m, settings):
        return None
    try:
        return load(seeds_dir, index_dir, settings)
    except IndexCorruptError:
        return None


def open_index(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT, progress: bool = False,
               loaded: Index | None = None, engine=None) -> Index:
    """Load the index, or build it when it is missing, stale or corrupt (saying why); a stale
    index lends the rebuild what did not change. `loaded` is the index this process already
    holds: still current, it is returned as it is; stale, it lends its parts without a reload.
    One process builds at a time (the others wait, then load what it built). When the folder
    cannot be written (read-only, full), the index as it was keeps answering, its `write_error`
    saying why; with no index to fall back on, IndexWriteError."""
    reason, state = staleness(seeds_dir, index_dir, settings)
    if reason is None and _current(loaded, index_dir, settings):
        loaded.write_error = None          # it serves the folder as it is: nothing is left unwritten
        _note_reader(loaded, Path(index_dir))
        return loaded
    if reason is None:
        try:
            return _loaded(seeds_dir, index_dir, settings)
        except IndexCorruptError as e:
            reason = str(e)
    previous = None
    try:
        with writer_lock(index_dir) as waited:
            if waited:                 # another process built while this one waited: look again
                reason, state = staleness(seeds_dir, index_dir, settings)
                if reason is None:
                    try:
                        return _loaded(seeds_dir, index_dir, settings)
                    except IndexCorruptError as e:
                        reason = str(e)
            log.warning("building the index in %s: %s", index_dir, reason)
            previous = _previous(seeds_dir, index_dir, settings, loaded)
            return build(seeds_dir, index_dir, settings, progress, previous, state if previous is not None else None,
                         engine)
    except OSError as e:
        why = f"cannot write the index in {index_dir} ({os.strerror(e.errno) if e.errno else e})"
        if previous is None:
            previous = _previous(seeds_dir, index_dir, settings, loaded)
        if previous is None:
            raise IndexWriteError(f"{why}; nothing was changed") from e
        log.warning("%s; answering from the index as it was, without the latest changes", why)
        previous.write_error = why
        return previous


def rebuild(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT, progress: bool = False,
            engine=None) -> Index:
    """Build from scratch (`qa index --force`), under the writer lock like any build: a second
    rebuild waits for the first, then takes what that one built when it serves the folder as it is."""
    with writer_lock(index_dir) as waited:
        if waited and staleness(seeds_dir, index_dir, settings)[0] is None:
            try:
                index = _loaded(seeds_dir, index_dir, settings)
                log.warning("the index in %s was rebuilt by another process while this one waited; "
                            "that build is used", index_dir)
                return index
            except IndexCorruptError:
                pass
        return build(seeds_dir, index_dir, settings, progress, engine=engine)


def _loaded(seeds_dir: Path, index_dir: Path, settings: Settings) -> Index:
    index = load(seeds_dir, index_dir, settings)
    _note_reader(index, Path(index_dir))
    return index
