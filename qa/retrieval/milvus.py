"""The Milvus retrieval backend: one collection per index, searched through `pymilvus.MilvusClient`.

Each chunk is one row: its text, its article's id, its offsets, the article's date and
outlet (lower-cased), a dense vector (HNSW, cosine) and a sparse BM25 vector that a
Milvus BM25 `Function` fills from the `terms` field (SPARSE_INVERTED_INDEX, our k1 and b).
`terms` holds the chunk's tokens as `qa.text.tokenize` makes them (folded, stopwords
dropped, stemmed) joined by spaces, and queries are tokenized the same way: Milvus's
standard analyzer then only splits on the spaces, so both backends score the same terms
(milvus-lite's analyzer does not stem, nor can it be told to). Hybrid queries go through
`hybrid_search` with an `RRFRanker` of our `rrf_k` (Milvus's RRF has no per-route
weights: `weight_bm25`/`weight_dense` are not applied there).

Only the passage search is here. What the answerer reads beyond a passage (article texts,
sentence spans and vectors, BM25 idf for its term overlap) stays in the index folder the
pipeline loads; see the README's "Scaling out" for why and for what that does not scale.

milvus-lite returns BM25 scores negated and a real server does not; the scores here are
|distance|, and order is the server's. Install with `pip install -e .[milvus]`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import weakref

import numpy as np

from ..errors import BackendError
from ..text import tokenize
from .filters import Filter

BATCH = 512                     # rows per insert and ids per delete
MAX_TEXT = 65_535               # VARCHAR max_length Milvus accepts (bytes there, characters in lite)


def chunk_key(doc_id: str, start: int, end: int, text: str) -> int:
    """A chunk's id outside this process: a positive int64 from its article, offsets and text, so
    the same passage keeps its id across rebuilds and a changed one gets a new id."""
    h = hashlib.sha256(f"{doc_id}\0{start}\0{end}\0{text}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(h[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


def _client(uri: str, token: str | None):
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise BackendError("QA_BACKEND=milvus needs pymilvus: pip install -e '.[milvus]'") from None
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)   # it logs a traceback before every raise
    try:
        return MilvusClient(uri=uri, token=token or "", timeout=30)
    except Exception as e:          # pymilvus raises MilvusException or grpc errors: one message
        raise BackendError(f"cannot reach Milvus at {uri}: {_said(e)}") from None


def _fit(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8 (a Milvus server counts VARCHAR lengths in bytes)."""
    return text.encode("utf-8", "surrogatepass")[:max_bytes].decode("utf-8", "ignore")


def _said(e: Exception) -> str:
    """What a pymilvus error says, without its class name and code wrapper."""
    return str(getattr(e, "message", None) or e)


def literal(text: str) -> str:
    """A string literal for a Milvus filter expression: double-quoted, `"` and `\\` escaped, so an
    outlet name can never close the string and add to the expression."""
    return json.dumps(text, ensure_ascii=False)


def expression(where: Filter | None) -> str:
    """The Milvus filter for a qa Filter (an unknown date or outlet is stored as "")."""
    if where is None:
        return ""
    parts = []
    if where.since or where.until:
        parts.append('date != ""')
    if where.since:
        parts.append(f"date >= {literal(where.since)}")
    if where.until:
        parts.append(f"date <= {literal(where.until)}")
    if where.outlets:
        parts.append(f"outlet in [{', '.join(literal(o) for o in where.outlets)}]")
    if where.doc_ids is not None:
        parts.append(f"doc_id in [{', '.join(literal(d) for d in where.doc_ids)}]")
    return " and ".join(parts)


class Milvus:
    """Chunks of an `Index` in a Milvus collection; searches return rows of `index.chunks`."""

    name = "milvus"
    fuses = True

    def __init__(self, uri: str, collection: str, settings, token: str | None = None):
        self.uri, self.collection, self.settings = uri, collection, settings
        if settings.milvus_fusion not in ("server", "client"):
            raise BackendError(f"milvus_fusion must be 'server' or 'client', not {settings.milvus_fusion!r}")
        self.fuses = settings.milvus_fusion == "server"
        self.client = _client(uri, token)
        self._rows: tuple[weakref.ref, dict[int, int]] | None = None   # (the index, chunk key -> row)

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BackendError:
            raise
        except Exception as e:
            raise BackendError(f"Milvus at {self.uri} could not {what}: {_said(e)}") from None

    # -- the collection ----------------------------------------------------------------------
    def _create(self, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType
        c = self.client
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
        schema.add_field("terms", DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("date", DataType.VARCHAR, max_length=10)
        schema.add_field("outlet", DataType.VARCHAR, max_length=256)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["terms"], output_field_names=["sparse"]))
        params = c.prepare_index_params()
        params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"bm25_k1": self.settings.bm25_k1, "bm25_b": self.settings.bm25_b})
        params.add_index(field_name="dense", index_type="HNSW", metric_type="COSINE",
                         params={"M": self.settings.ann_m, "efConstruction": max(self.settings.ann_ef_construction, 64)})
        c.create_collection(self.collection, schema=schema, index_params=params)

    def _stored_ids(self) -> set[int]:
        it = self.client.query_iterator(self.collection, batch_size=10_000, filter="", output_fields=["id"])
        ids: set[int] = set()
        try:
            while batch := it.next():
                ids.update(int(r["id"]) for r in batch)
        finally:
            it.close()
        return ids

    def _keys(self, index) -> dict[int, int]:
        """Chunk key -> row in index.chunks, worked out once per loaded index."""
        if self._rows is None or self._rows[0]() is not index:     # not id(): a freed index's id is reused
            self._rows = (weakref.ref(index), {chunk_key(c.doc_id, c.start, c.end, c.text): i
                                               for i, c in enumerate(index.chunks)})
        return self._rows[1]

    def sync(self, index) -> dict:
        """Make the collection hold exactly the index's chunks: insert the new ones (their vectors
        taken from the index's faiss), delete the ones gone; rows whose key is already stored are
        not sent again."""
        return self._call("update the collection", self._sync, index)

    def _sync(self, index) -> dict:
        keys = self._keys(index)
        if not self.client.has_collection(self.collection):
            self._create(index.dense.dim)
        self.client.load_collection(self.collection)
        stored = self._stored_ids()
        gone = sorted(stored - keys.keys())
        for i in range(0, len(gone), BATCH):
            self.client.delete(self.collection, ids=gone[i:i + BATCH])
        new = [(k, row) for k, row in keys.items() if k not in stored]
        if new:
            vectors = index.dense.vectors()
            for i in range(0, len(new), BATCH):
                rows = []
                for k, row in new[i:i + BATCH]:
                    c = index.chunks[row]
                    art = index.articles[c.doc_id]
                    toks = tokenize(c.text)
                    rows.append({"id": k, "doc_id": c.doc_id, "start": c.start, "end": c.end,
                                 "text": c.text[:MAX_TEXT // 4], "terms": " ".join(toks)[:MAX_TEXT // 4],
                                 "date": art.date or "", "outlet": _fit((art.outlet or "").lower(), 256),
                                 "dense": np.asarray(vectors[row], dtype=np.float32).tolist()})
                self.client.insert(self.collection, rows)
        if new or gone:       # seal what was written: searches then use the built indexes (milvus-lite
            self.client.flush(self.collection)   # at 10k chunks: 1.5-3 s a search before, 30-100 ms after)
        return {"added": len(new), "removed": len(gone), "kept": len(keys) - len(new)}

    # -- searches ----------------------------------------------------------------------------
    def _hits(self, index, result) -> list[tuple[int, float]]:
        keys = self._keys(index)
        out = []
        for h in result[0] if result else ():
            row = keys.get(int(h["id"]))
            if row is not None:                 # a row some other writer added is not ours to cite
                out.append((row, abs(float(h["distance"]))))
        return out

    def bm25(self, index, terms, depth, where):
        if not terms:
            return []
        r = self._call("search by BM25", self.client.search, self.collection, data=[" ".join(terms)],
                       anns_field="sparse", limit=depth, filter=expression(where), output_fields=["id"],
                       search_params={"metric_type": "BM25"})
        return self._hits(index, r)

    def _dense_params(self, depth: int) -> dict:
        return {"metric_type": "COSINE", "params": {"ef": max(self.settings.ann_ef_search, depth)}}

    def dense(self, index, vector, depth, where):
        r = self._call("search by vector", self.client.search, self.collection,
                       data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="dense", limit=depth,
                       filter=expression(where), output_fields=["id"], search_params=self._dense_params(depth))
        return self._hits(index, r)

    def hybrid(self, index, terms, vector, depth, where):
        from pymilvus import AnnSearchRequest, RRFRanker
        if not terms:
            return self.dense(index, vector, depth, where)
        f = expression(where)
        reqs = [AnnSearchRequest(data=[" ".join(terms)], anns_field="sparse", param={"metric_type": "BM25"},
                                 limit=depth, expr=f),
                AnnSearchRequest(data=[np.asarray(vector, dtype=np.float32).tolist()], anns_field="dense",
                                 param=self._dense_params(depth), limit=depth, expr=f)]
        r = self._call("run a hybrid search", self.client.hybrid_search, self.collection, reqs,
                       ranker=RRFRanker(self.settings.rrf_k), limit=depth, output_fields=["id"])
        return self._hits(index, r)

    def count(self) -> int:
        r = self._call("count rows", self.client.query, self.collection, filter="", output_fields=["count(*)"])
        return int(r[0]["count(*)"])

    def drop(self) -> None:
        if self.client.has_collection(self.collection):
            self._call("drop the collection", self.client.drop_collection, self.collection)
