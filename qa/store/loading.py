"""Loading a persisted index (the layout: `persist.py`): every file checked against the sha256
the manifest records before it is parsed or mapped; the large arrays memory-mapped read-only, so a
serving process holds the pages it touches; then the tables and counts must agree.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from ..config import DEFAULT, Settings
from ..errors import IndexCorruptError
from ..retrieval.dense import DenseIndex
from ..retrieval.index import Index
from ..retrieval.lexical import BM25
from ..retrieval.tables import Chunks, Codes, Sentences
from ..types import Article, Location
from .files import check_file, read_checked
from .persist import OPTIONAL_FILES


def _split(data: bytes) -> list[str]:
    """JSON lines; not splitlines(): U+2028 and U+0085 may stand raw inside a JSON string."""
    return [line for line in data.decode("utf-8").split("\n") if line]


def load(seeds_dir: Path, index_dir: Path, settings: Settings = DEFAULT, articles: list[Article] | None = None) -> Index:
    """Load a persisted index. Each file is checked against the size and sha256 the manifest
    records before a parser sees it; the large arrays are then memory-mapped (`MAPPED`); then the
    counts of the manifest, the tables, the faiss header and the BM25 postings must agree.
    `articles`: the build that has just written the index passes the articles it wrote, so that
    they are not parsed back (and held twice) while the index it replaces still serves."""
    index_dir = Path(index_dir)
    try:
        m = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
        gen = index_dir / m["generation"]
        def checked(name: str) -> bytes:           # read and checked one file at a time, parsed, let go
            return read_checked(gen / name, m["files"].get(name))
        def mapped(name: str) -> np.ndarray:       # checked, then mapped (read-only)
            check_file(gen / name, m["files"].get(name))
            return np.asarray(np.load(gen / name, mmap_mode="r", allow_pickle=False))   # plain views: fast rows
        if articles is None:
            articles = [Article(**{**r, "path": str(Path(seeds_dir) / r["path"]), "body": tuple(tuple(b) for b in r["body"])})
                        for r in map(json.loads, _split(gzip.decompress(checked("articles.jsonl.gz"))))]
        sentences = Sentences([a.doc_id for a in articles], mapped("sentences.npy"))
        also = {int(r["chunk"]): tuple(Location(**loc) for loc in r["also_in"])
                for r in map(json.loads, _split(checked("also_in.jsonl")))}
        runs = mapped("chunks.npy")
        _check_tables(sentences, runs, articles)
        chunks = Chunks(sentences, runs, {a.doc_id: a.text for a in articles}, also)
        bm25 = BM25.from_files(checked("bm25.json"), mapped("bm25.npy"))
        check_file(gen / "dense.faiss", m["files"].get("dense.faiss"))
        dindex = DenseIndex.from_file(gen / "dense.faiss")
        codes = Codes(mapped("vectors.npy"), mapped("scales.npy"))
        windows = Codes(mapped("windows.npy"), mapped("window-scales.npy"))
        counts, dim = m["counts"], m["model"]["dim"]
        cleaning = tuple(mapped(n) for n in OPTIONAL_FILES) if all(n in m["files"] for n in OPTIONAL_FILES) else None
    except IndexCorruptError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError, IndexError) as e:
        raise IndexCorruptError(f"index at {index_dir} is unreadable: {e}") from e
    if not (len(dindex) == bm25.n_docs == len(chunks) == counts["chunks"]
            and len(codes) == len(sentences) == len(codes.scale) == counts["sentences"] and dindex.dim == dim
            and codes.ndim == 2 and codes.shape[1] == dim and windows.shape == (len(chunks), dim)):
        raise IndexCorruptError(f"index at {index_dir} is inconsistent (the manifest's counts, the faiss header "
                                f"and the BM25 postings differ)")
    index = Index(articles, chunks, bm25, dindex, sentences, codes, settings, m, seeds_dir)
    index.window_vectors = windows
    index.cleaning = cleaning
    return index


def _check_tables(sentences: Sentences, runs: np.ndarray, articles: list[Article]) -> None:
    """ValueError unless every sentence lies inside its article and every window inside the table."""
    rows = sentences.rows
    if rows.ndim != 2 or rows.shape[1] != 3 or runs.ndim != 2 or runs.shape[1] != 2:
        raise ValueError("the sentence or window table has the wrong shape")
    if len(rows):
        lengths = np.fromiter((len(a.text) for a in articles), dtype=np.int64, count=len(articles))
        d = np.asarray(rows[:, 0], dtype=np.int64)
        if d.min() < 0 or d.max() >= len(articles) or (rows[:, 1] < 0).any() or (rows[:, 2] > lengths[d]).any() \
                or (rows[:, 1] >= rows[:, 2]).any():
            raise ValueError("a sentence lies outside its article")
    if len(runs) and ((runs[:, 0] < 0).any() or (runs[:, 1] < 1).any()
                      or (runs[:, 0].astype(np.int64) + runs[:, 1] > len(rows)).any()):
        raise ValueError("a window names sentences the table does not have")
