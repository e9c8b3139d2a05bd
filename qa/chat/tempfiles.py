"""The chat's temporary files, bounded: a folder of its own for Gradio, swept under a size cap.

Gradio keeps every file posted to `/gradio_api/upload` in its upload folder (GRADIO_TEMP_DIR),
refused ones and ones never passed to an event included, and copies each download there too;
nothing removes them while the server runs, and a killed server leaves them. So the chat serves
from a folder of its own (`own_folder`: made inside GRADIO_TEMP_DIR or the system's temporary
folder, set as GRADIO_TEMP_DIR before Gradio is imported, removed whole when the process exits);
the upload event removes each file once it has taken or refused it (`discard`); and a sweeper
thread removes the oldest files, every `SWEEP_S` seconds, while the folder holds more than
`Settings.max_upload_cache_bytes`. Nothing here imports Gradio.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("qa.app")
SWEEP_S = 5.0


def own_folder() -> Path:
    """A new folder for Gradio's files, set as GRADIO_TEMP_DIR, removed whole at exit."""
    parent = os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir()
    Path(parent).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="qa-gradio-", dir=parent))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve()) and path.resolve() != folder.resolve()
    except OSError:
        return False


def discard(path, folder: Path | str | None = None) -> None:
    """Remove an uploaded file (and the folder Gradio made for it, once empty) when it lies inside
    Gradio's upload folder; any other path is left alone."""
    folder = Path(folder or os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    path = Path(path)
    if not _inside(path, folder):
        return
    try:
        path.unlink(missing_ok=True)
        if _inside(path.parent, folder) and not any(path.parent.iterdir()):
            path.parent.rmdir()
    except OSError as e:                    # another event may hold the same file: the sweeper gets it
        log.debug("cannot remove the upload %s: %s", path, e)


def sweep(folder: Path, cap: int) -> int:
    """Remove the oldest files of `folder` while it holds more than `cap` bytes, and the empty
    folders left; the bytes removed."""
    files = []
    for root, _, names in os.walk(folder):
        for name in names:
            p = os.path.join(root, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, p))
    total, removed = sum(size for _, size, _ in files), 0
    for _, size, p in sorted(files):
        if total <= cap:
            break
        try:
            os.unlink(p)
        except OSError:
            continue
        total -= size
        removed += size
    for root, dirs, _ in os.walk(folder, topdown=False):
        for d in dirs:
            try:
                os.rmdir(os.path.join(root, d))      # only an empty one goes
            except OSError:
                pass
    return removed


class Sweeper:
    """A daemon thread that keeps `folder` under `cap` bytes (`sweep` every `every_s` seconds)."""

    def __init__(self, folder: Path, cap: int, every_s: float = SWEEP_S):
        self.folder, self.cap, self.every_s = Path(folder), cap, every_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="qa-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.wait(self.every_s):
            try:
                if removed := sweep(self.folder, self.cap):
                    log.warning("removed %.1f MB of old uploads and downloads: the chat's temporary folder "
                                "holds at most %.0f MB (max_upload_cache_bytes)", removed / 1e6, self.cap / 1e6)
            except OSError as e:
                log.warning("cannot sweep %s: %s", self.folder, e)
