"""Indexing in parallel with Ray Data: `python -m qa index --ray [ADDRESS]`.

`build` hands two steps to an engine: splitting articles into sentences and windows
(pysbd, per article) and encoding texts (the ONNX encoder). `InProcess` runs them
here; `RayEngine` runs them as Ray Data jobs: chunking with `map_batches` over the
articles, encoding with `map_batches` over an actor pool whose actors each hold one
onnxruntime encoder. Reading and cleaning stay on the driver: boilerplate and
duplicate detection compare articles with each other. The incremental rule is the
same either way, because `build` gives the engine only the articles whose text
changed and only the texts never encoded before.

Without an address, Ray starts a local runtime with this machine's CPUs that listens
on 127.0.0.1 only: `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` is set before Ray is
imported (Ray otherwise replaces 127.0.0.1 by the machine's address and binds every
listener there), and the GCS address is checked to be loopback. The runtime is shut
down when the build ends. Install with `pip install -e .[scale]`.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, replace

import numpy as np

from ..config import Settings
from ..errors import QAError
from ..ingest.chunking import chunk_article
from ..retrieval import encoder
from ..types import Article, Chunk

log = logging.getLogger("qa")


class RayError(QAError):
    """Ray is not installed, cannot start, or the cluster at the address cannot be reached."""


class InProcess:
    """The default engine: chunk and encode in this process. `pause()`, when given, is called
    before each article is split and each batch is encoded: a build in the background lets
    questions go first there (`Pipeline.update_in_background`)."""

    name = "in-process"

    def __init__(self, settings: Settings, progress: bool = False, pause=None):
        self.settings, self.progress, self.pause = settings, progress, pause

    def chunk(self, articles: list[Article]) -> list[list[Chunk]]:
        fits = encoder.window()
        out = []
        for a in articles:
            if self.pause is not None:
                self.pause()
            out.append(chunk_article(a, 0, self.settings, fits))
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        return encoder.embed(texts, self.settings, self.progress, self.pause)

    def close(self) -> None:
        pass


def _chunk_batch(batch: dict, settings: Settings) -> dict:
    """Ray Data batch of articles (JSON) -> their chunks (JSON), one row per article."""
    out = []
    for text in batch["article"]:
        d = json.loads(text)
        a = Article(**{**d, "body": tuple(tuple(b) for b in d["body"])})
        out.append(json.dumps([[c.start, c.end, [list(s) for s in c.sentences]]
                               for c in chunk_article(a, 0, settings, encoder.window())]))
    return {"i": batch["i"], "chunks": np.array(out, dtype=object)}


class _Encoder:
    """A Ray Data actor: one onnxruntime encoder, loaded once, for every batch it is given. Each
    row is one batch as this process's encoder would run it (`Encoder.plan`), so the vectors equal
    an in-process build's."""

    def __init__(self, settings: Settings):
        self.encoder = encoder.load(settings)

    def __call__(self, batch: dict) -> dict:
        vecs = [self.encoder.embed(json.loads(texts)) for texts in batch["texts"]]
        return {"g": batch["g"], "vectors": np.array([v.tobytes() for v in vecs], dtype=object)}


class RayEngine:
    """Chunk and encode on Ray: a local loopback-only runtime, or the cluster at `address`."""

    name = "ray"

    def __init__(self, settings: Settings, address: str | None = None, progress: bool = False,
                 actors: int | None = None, batch: int = 4):
        if address is None:
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")   # before `import ray`
        os.environ.setdefault("RAY_DATA_LOG_LEVEL", "WARNING")   # not a dozen INFO lines per dataset
        try:
            import ray
            import ray.data
        except ImportError:
            raise RayError("qa index --ray needs Ray Data: pip install -e '.[scale]'") from None
        self.ray, self.address, self.progress, self.batch = ray, address, progress, batch
        self.settings, self.actors = settings, actors
        self.started = False

    def start(self) -> None:
        """Start the local runtime or join the cluster (on first use: an index that is up to date
        starts nothing)."""
        if self.started:
            return
        ray, address = self.ray, self.address
        cpus = os.cpu_count() or 1
        try:
            if address is None:
                ctx = ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                               logging_level=logging.WARNING, object_store_memory=512 * 2**20)
                gcs = ctx.address_info.get("gcs_address", "")
                if not gcs.startswith("127.0.0.1:"):
                    ray.shutdown()
                    raise RayError(f"the local Ray runtime listens on {gcs}, not on 127.0.0.1; "
                                   "set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before Ray is imported")
            else:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
        except RayError:
            raise
        except Exception as e:
            raise RayError(f"cannot start Ray{' at ' + address if address else ''}: {e}") from None
        self.started = True
        total = int(ray.cluster_resources().get("CPU", cpus))
        self.actors = self.actors or max(1, total)
        # each actor's onnxruntime gets its share of the cores, not all of them
        self.settings = replace(self.settings, encoder_threads=max(1, total // self.actors))
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False         # `build` says what it chunks and encodes
        ctx.execution_options.verbose_progress = False

    def chunk(self, articles: list[Article]) -> list[list[Chunk]]:
        if not articles:
            return []
        self.start()
        rd = self.ray.data
        rows = [{"i": i, "article": json.dumps(asdict(a))} for i, a in enumerate(articles)]
        ds = rd.from_items(rows).map_batches(_chunk_batch, fn_kwargs={"settings": self.settings},
                                             batch_size=8, batch_format="numpy")
        out: list[list[Chunk]] = [[] for _ in articles]
        for row in ds.iter_rows():          # streamed, not all held at once
            a = articles[int(row["i"])]
            out[int(row["i"])] = [Chunk(chunk_id=n, doc_id=a.doc_id, start=s, end=e, text=a.text[s:e],
                                        sentences=tuple((x, y) for x, y in spans))
                                  for n, (s, e, spans) in enumerate(json.loads(row["chunks"]))]
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        here = encoder.load(self.settings)          # its tokenizer plans the batches
        unique = list(dict.fromkeys(texts))
        if not unique:
            return np.zeros((0, here.dim), dtype=np.float32)
        _, groups = here.plan(unique)
        self.start()
        rd = self.ray.data
        ds = rd.from_items([{"g": g, "texts": json.dumps([unique[i] for i in rows])}
                            for g, rows in enumerate(groups)]).map_batches(
            _Encoder, fn_constructor_kwargs={"settings": self.settings}, batch_size=self.batch,
            compute=rd.ActorPoolStrategy(size=self.actors), batch_format="numpy")
        out = np.zeros((len(unique), here.dim), dtype=np.float32)
        for row in ds.iter_rows():          # streamed, not all held at once
            rows = groups[int(row["g"])]
            out[rows] = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(rows), here.dim)
        where = {t: i for i, t in enumerate(unique)}
        return np.ascontiguousarray(out[[where[t] for t in texts]])

    def close(self) -> None:
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()
        self.started = False
