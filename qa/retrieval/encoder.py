"""The sentence encoder: all-MiniLM-L6-v2 run by onnxruntime, no torch at run time.

The default ("onnx-int8") is the int8 ONNX file shipped in models/encoder with its
tokenizer and card (`shipped.py`; written by `qa export-encoder`), checked by sha256 and
loaded; nothing is exported at run time. A text is tokenised by `tokenizers` (the same
truncation length as sentence-transformers), run by onnxruntime, mean pooled over the
attention mask and L2-normalised, as sentence-transformers does; `tests/test_encoder.py`
holds every seed sentence close to it. Texts are batched by length (dynamic padding), and
a text given twice is encoded once. One encoder per process and kind (`settings.encoder`);
the fp32 export ("onnx") and sentence-transformers itself stay available as references,
with the `train` extra.
"""
from __future__ import annotations

import json
import logging
import os
import threading

import numpy as np

from ..config import DEFAULT, Settings
from . import runtime, shipped
from .export import EXPORT_SETTINGS, export, model_path

log = logging.getLogger("qa")

_ENCODERS: dict[tuple, object] = {}
_LOAD_LOCK = threading.Lock()


class Encoder:
    """Tokenizer plus ONNX session; `embed(texts)` gives normalised float32 rows."""

    def __init__(self, model_file, tokenizer_file, max_tokens: int, threads: int, batch: int):
        from tokenizers import Tokenizer
        self.session = runtime.session(model_file, threads)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_padding()          # the file carries a fixed padding to 128; pad per batch instead
        self.tokenizer.enable_truncation(max_tokens)
        self.batch = batch
        self.dim = int(self.session.get_outputs()[0].shape[-1] or 384)
        self._lock = threading.Lock()        # the Rust tokenizer is not to be shared across threads

    def _run(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)

    def plan(self, unique: list[str]) -> tuple[list, list[list[int]]]:
        """(encodings, batches): the rows of `unique` run together, by token count. An int8 model
        quantizes each batch's activations with one scale, so a text's vector depends on its
        batchmates (cosine ~0.99 across groupings): whoever encodes in parallel runs these batches."""
        with self._lock:
            encodings = self.tokenizer.encode_batch(unique)
        order = sorted(range(len(unique)), key=lambda i: len(encodings[i].ids))
        return encodings, [order[i:i + self.batch] for i in range(0, len(order), self.batch)]

    def embed(self, texts: list[str], progress: bool = False, pause=None) -> np.ndarray:
        """Normalised rows of `texts`; `pause()`, when given, is called before each batch (a
        background build lets questions go first there)."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings, batches = self.plan(unique)
        out = np.zeros((len(unique), self.dim), dtype=np.float32)
        bar = None
        if progress and len(batches) > 1:
            from tqdm import tqdm
            bar = tqdm(total=len(unique), unit="text", desc="embedding")
        for rows in batches:
            if pause is not None:
                pause()
            out[rows] = self._run([encodings[i] for i in rows])
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        where = {t: i for i, t in enumerate(unique)}
        return np.ascontiguousarray(out[[where[t] for t in texts]])


def _max_tokens() -> int:
    config = json.loads((model_path() / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return int(config["max_seq_length"])


def model_sha256(settings: Settings = DEFAULT) -> str:
    """What identifies the encoder's weights in an index manifest: the shipped file's sha256 for
    "onnx-int8", else the packaged source weights' (the fp32 export and the reference)."""
    if settings.encoder == "onnx-int8":
        return shipped.sha256()
    return runtime.source_hash(model_path() / "model.safetensors")


class Reference:
    """sentence-transformers behind the same `embed` and `dim` (the reference, and the old build path)."""

    def __init__(self, batch: int):
        from .export import reference_model
        self.model, self.batch = reference_model(), batch
        self.dim = self.model.get_embedding_dimension()

    def embed(self, texts: list[str], progress: bool = False, pause=None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if pause is not None:
            pause()
        vecs = self.model.encode(texts, batch_size=self.batch, show_progress_bar=progress,
                                 convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vecs, dtype=np.float32)


ENCODERS = ("onnx", "onnx-int8", "sentence-transformers")


def load(settings: Settings = DEFAULT):
    """The process-wide encoder named by `settings.encoder`: the shipped int8 file, checked by sha256
    (EncoderFileError when it fails), or the fp32 export made once into the cache."""
    if settings.encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {settings.encoder!r}; choose one of {', '.join(ENCODERS)}")
    key = (settings.encoder, settings.encoder_threads, settings.embed_batch)
    with _LOAD_LOCK:
        if key not in _ENCODERS:
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            if settings.encoder == "sentence-transformers":
                _ENCODERS[key] = Reference(64)    # its own default batch (measured best for it)
                return _ENCODERS[key]
            if settings.encoder == "onnx-int8":
                model, tokenizer, max_tokens = shipped.checked()
            else:                                  # fp32: exported once into the cache (train extra)
                weights = model_path() / "model.safetensors"
                cache_key = {"source": settings.model_name, "weights_sha256": runtime.source_hash(weights),
                             "export": EXPORT_SETTINGS}
                model = runtime.cached_model("minilm-fp32", cache_key, lambda out: export(out, int8=False))
                tokenizer, max_tokens = model_path() / "tokenizer.json", _max_tokens()
            _ENCODERS[key] = Encoder(model, tokenizer, max_tokens, settings.encoder_threads, settings.embed_batch)
    return _ENCODERS[key]


def dimension(settings: Settings = DEFAULT) -> int:
    return load(settings).dim


def embed(texts: list[str], settings: Settings = DEFAULT, progress: bool = False, pause=None) -> np.ndarray:
    """Normalised float32 embeddings, one row per text (`pause()` before each batch, when given)."""
    return load(settings).embed(list(texts), progress, pause)


class _Fits:
    """`fits(text)`: how many leading characters of `text` the model reads, [CLS] and [SEP] aside."""

    def __init__(self, tokenizer, limit: int):
        self.tokenizer, self.limit = tokenizer, limit
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        if 3 * len(text) <= self.limit:       # one character makes at most 3 tokens (NFD of a Hangul
            return len(text)                  # syllable; checked over every code point)
        with self._lock:
            enc = self.tokenizer.encode(text, add_special_tokens=False)
        return len(text) if len(enc.ids) <= self.limit else enc.offsets[self.limit][0]


_FITS: list[_Fits] = []


def window() -> _Fits:
    """The model's window as a chunker needs it (`ingest.chunking.Fits`): the shipped tokenizer,
    untruncated, and `max_seq_length` less the two special tokens (254 of 256). The fp32 export
    and the reference read the same tokenizer.json (the card records its sha256)."""
    with _LOAD_LOCK:
        if not _FITS:
            from tokenizers import Tokenizer
            path, max_tokens = shipped.tokenizer()
            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            _FITS.append(_Fits(tokenizer, max_tokens - 2))
    return _FITS[0]
