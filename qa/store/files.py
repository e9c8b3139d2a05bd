"""Durable index files: each written all or nothing, each checked before a parser reads it, and
one writer at a time per index folder.

- `write_file`: the bytes go to a temporary file beside the target, are fsynced, renamed over
  the target with `os.replace`, and the folder is fsynced, so a crash leaves the old file or
  the new one (as Lucene commits through a pending file, a rename and a directory sync).
- `read_checked`: a file's bytes, once, when their size and sha256 are what the manifest
  records; the parsers (JSON, numpy, faiss) get those bytes, never a file that changed since;
  `check_file` checks a file in blocks before it is memory-mapped (generation files are
  written once and never changed in place).
- `writer_lock`: an exclusive `flock` on `<index>/.lock` across processes (a second
  `qa index` waits for the first, saying so); re-entrant within one thread.
Writes, syncs and renames go through `os.write`, `os.fsync` and `os.replace` / `os.rename`
only, so tests can fail the k-th call of each, as SQLite's test harness fails its I/O layer.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import IndexCorruptError

log = logging.getLogger("qa")
_CHUNK = 1 << 20
_held = threading.local()


def write_file(path: Path, data) -> tuple[str, int]:
    """`data` at `path`, all or nothing: temporary file, fsync, os.replace, folder fsync. `data` is
    bytes, a list of buffers written one after the other (a large array is not copied), or a
    function that is given `emit(buffer)` and writes through it (faiss writing its index). Returns
    the sha256 and size of what was written."""
    path = Path(path)
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    h, size = hashlib.sha256(), 0

    def emit(piece) -> int:
        nonlocal size
        view = memoryview(piece).cast("B")
        h.update(view)
        size += view.nbytes
        while view:
            view = view[os.write(fd, view[:_CHUNK]):]
        return memoryview(piece).nbytes
    try:
        try:
            if callable(data):
                data(emit)
            else:
                for piece in (data if isinstance(data, list) else [data]):
                    emit(piece)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(part)
        raise
    fsync_dir(path.parent)
    return h.hexdigest(), size


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename into it) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_checked(path: Path, meta: dict | None) -> bytes:
    """The bytes of `path` when their size and sha256 are `meta`'s; IndexCorruptError otherwise."""
    if not isinstance(meta, dict):
        raise IndexCorruptError(f"the manifest does not describe {Path(path).name}")
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing") from None
    except OSError as e:
        raise IndexCorruptError(f"{path} cannot be read ({e.strerror or e})") from e
    if len(data) != meta.get("bytes") or sha256_bytes(data) != meta.get("sha256"):
        raise IndexCorruptError(f"{path} does not match its manifest hash (truncated or edited)")
    return data


def check_file(path: Path, meta: dict | None) -> None:
    """IndexCorruptError unless `path` has the size and sha256 of `meta` (read in blocks, not
    held: for a file that is then memory-mapped)."""
    if not isinstance(meta, dict):
        raise IndexCorruptError(f"the manifest does not describe {Path(path).name}")
    h, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as f:
            while block := f.read(_CHUNK):
                h.update(block)
                size += len(block)
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing") from None
    except OSError as e:
        raise IndexCorruptError(f"{path} cannot be read ({e.strerror or e})") from e
    if size != meta.get("bytes") or h.hexdigest() != meta.get("sha256"):
        raise IndexCorruptError(f"{path} does not match its manifest hash (truncated or edited)")


@contextmanager
def writer_lock(index_dir: Path, wait: bool = True):
    """Hold the index folder's writer lock; yields True when another writer had it first (so the
    caller looks again at what that writer left). Re-entrant within one thread. With `wait`
    False, BlockingIOError instead of waiting when another writer holds it."""
    index_dir = Path(index_dir)
    key = str(index_dir.resolve())
    held = _held.__dict__.setdefault("depth", {})
    if held.get(key):
        held[key] += 1
        try:
            yield False
        finally:
            held[key] -= 1
        return
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        waited = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise
            log.warning("another process is writing the index in %s; waiting for it to finish", index_dir)
            fcntl.flock(fd, fcntl.LOCK_EX)
            waited = True
        held[key] = 1
        try:
            yield waited
        finally:
            held.pop(key, None)
    finally:
        os.close(fd)                # closing releases the flock
