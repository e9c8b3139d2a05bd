"""Where the passages are searched: the retrieval backend interface and its embedded default.

A backend answers three searches over the chunks of a loaded `Index` (BM25 terms,
a query vector, or both fused), each honouring a metadata `Filter`, and keeps its
own copy of the chunks in step with the index (`sync`: add what is new, remove
what is gone). Results are `(chunk_id, score)` lists, best first, where chunk_id
is the row in `index.chunks`, so that overlap checks, "also in" and citations are
the same whichever backend searched.

- `Embedded` (the default): BM25 and faiss in this process, stored in `index/`;
  the index generation is its copy, so `sync` has nothing to do.
- `milvus.Milvus`: a Milvus collection (`QA_BACKEND=milvus`, `MILVUS_URI=...`).

`configured()` picks one from the environment: the embedded default when nothing is set.
"""
from __future__ import annotations

import hashlib
import os
from typing import Protocol

import numpy as np

from ..errors import BackendError
from .filters import Filter, chunk_mask
from .fusion import fuse


Ranked = list[tuple[int, float]]


class Backend(Protocol):
    name: str
    fuses: bool          # True: `hybrid` fuses on the backend; False: the caller fuses bm25 and dense

    def sync(self, index) -> dict: ...
    def bm25(self, index, terms: list[str], depth: int, where: Filter | None) -> Ranked: ...
    def dense(self, index, vector: np.ndarray, depth: int, where: Filter | None) -> Ranked: ...
    def hybrid(self, index, terms: list[str], vector: np.ndarray, depth: int, where: Filter | None) -> Ranked: ...


class Embedded:
    """BM25 postings and a faiss index held by the `Index` itself; filters become a chunk mask."""

    name = "embedded"
    fuses = False

    def sync(self, index) -> dict:
        return {"added": 0, "removed": 0, "kept": len(index.chunks)}

    def bm25(self, index, terms, depth, where):
        return index.bm25.search(terms, depth, chunk_mask(index, where))

    def dense(self, index, vector, depth, where):
        return index.dense.search(vector, depth, chunk_mask(index, where))

    def hybrid(self, index, terms, vector, depth, where):
        return fuse(index.settings, self.bm25(index, terms, depth, where), self.dense(index, vector, depth, where))


EMBEDDED = Embedded()
BACKENDS = ("embedded", "milvus")


def collection_name(index_dir, fingerprint: dict) -> str:
    """One collection per index folder and index settings (a changed setting is a new collection)."""
    key = f"{os.path.realpath(index_dir)}\0{sorted(fingerprint.items())!r}"
    return "qa_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def configured(index_dir, settings, name: str | None = None, uri: str | None = None) -> Backend:
    """The backend that `name` (else $QA_BACKEND) selects: "embedded" (the default, also when
    nothing is set) or "milvus" at `uri` (else $MILVUS_URI), one collection per index folder
    ($QA_MILVUS_COLLECTION overrides its name); BackendError saying what to fix."""
    name = (name or os.environ.get("QA_BACKEND") or "embedded").strip().lower()
    if name == "embedded":
        return EMBEDDED
    if name != "milvus":
        raise BackendError(f"unknown retrieval backend {name!r} (QA_BACKEND): use one of {', '.join(BACKENDS)}")
    uri = uri or os.environ.get("MILVUS_URI")
    if not uri:
        raise BackendError("QA_BACKEND=milvus needs MILVUS_URI, e.g. http://127.0.0.1:19530")
    from .milvus import Milvus
    collection = os.environ.get("QA_MILVUS_COLLECTION") or collection_name(index_dir, settings.index_fingerprint())
    return Milvus(uri, collection, settings, token=os.environ.get("MILVUS_TOKEN") or None)
