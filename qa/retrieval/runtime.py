"""ONNX Runtime sessions and the model cache they load from.

Exported models live outside git in a cache folder: $QA_CACHE, else
`~/.cache/qa`. An entry is keyed by the sha256 of the source weights and the
export settings; its `meta.json` names the model file and that file's sha256,
which is checked on every load, so a truncated, corrupt or foreign file is
exported again instead of loaded. Files are written under a temporary name and
renamed into place, and the model file is named by its own hash, so a reader
never sees half a file, even with two processes exporting at once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

log = logging.getLogger("qa")


def cache_root() -> Path:
    return Path(os.environ.get("QA_CACHE") or Path.home() / ".cache" / "qa")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def source_hash(path: Path) -> str:
    """sha256 of a source weights file, remembered by (path, size, mtime) so a start hashes nothing."""
    st = path.stat()
    memo = cache_root() / "source-hashes.json"
    stamp = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    if isinstance(known.get(stamp), str):
        return known[stamp]
    digest = sha256_file(path)
    known[stamp] = digest
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        _write_json(memo, known)
    except OSError as e:                     # a read-only cache only costs a hash per start
        log.warning("cannot write %s: %s", memo, e)
    return digest


def cached_model(name: str, key: dict, make: Callable[[Path], None]) -> Path:
    """The cached model file for `key`, made by `make(path)` when missing or failing its hash."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    folder = cache_root() / f"{name}-{digest[:16]}"
    meta_path = folder / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        model = folder / meta["file"]
        if meta.get("key") == key and model.is_file() and sha256_file(model) == meta["sha256"]:
            return model
        log.warning("the cached model in %s fails its hash check: exporting it again", folder)
    except FileNotFoundError:
        log.info("exporting %s into %s (once per cache)", name, folder)
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("the cached model in %s is unreadable (%s): exporting it again", folder, e)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".onnx")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        make(tmp_path)
        sha = sha256_file(tmp_path)
        model = folder / f"model-{sha[:16]}.onnx"
        os.replace(tmp_path, model)
    finally:
        tmp_path.unlink(missing_ok=True)
    _write_json(meta_path, {"key": key, "file": model.name, "sha256": sha, "bytes": model.stat().st_size})
    for old in folder.glob("model-*.onnx"):  # a corrupt or superseded export (open handles keep working)
        if old != model:
            old.unlink(missing_ok=True)
    return model


def session(path: Path, threads: int, mem_pattern: bool = True):
    """An onnxruntime CPU session with `threads` intra-op threads (2 measured best on 2 cores).
    `mem_pattern=False` plans no buffers ahead for the shapes seen (the reader: its batches vary
    in shape; serving peak on 3,000 news stories 279 -> 240 MB at the same latency)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    opts.enable_mem_pattern = mem_pattern
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
