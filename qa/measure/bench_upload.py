"""Asking while an upload is indexed, and what Gradio's upload folder keeps: part of `qa bench --load`.

- `upload`: one file given to app.py as a browser gives it (posted to `/gradio_api/upload`,
  then the "Add articles…" event joined through the queue), followed to its last message.
- `ask_during_upload`: C clients ask `/ask` in a loop for S seconds with nothing else going
  on, then again from the moment an upload of N MB (one line of words without punctuation,
  the shape that cost minutes) is posted until the chat says it is in: latency p50/p95 and the
  slowest ask of each phase, timeouts and errors, how long the upload took, the server's memory.
- `flood`: K files of M MB posted to `/gradio_api/upload` and never given to the chat: the size
  of Gradio's folder at once and each second after, until it is back under the cap; and, once
  the server is stopped, what is left of it.
Everything talks to 127.0.0.1 only; the server is started over a copy of the articles and of
their index (an upload changes the folder) and stopped by its PID.
"""
from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import common
from .common import call, pid_rss_mb, stats

WORDS = ("harbour ferry cargo crane tanker pilot dock wharf tide anchor quay river barge port "
         "minister talks visit summit army trade pipeline gas contract border envoy delegation "
         "parliament budget railway bridge village farmers wheat cotton monsoon flood rescue "
         "school teachers students hospital doctors nurses market prices fuel electricity").split()


def words_file(path: Path, mb: float, seed: int = 27) -> Path:
    """One line of `mb` MB of words and no sentence punctuation (the issue's costly shape)."""
    rng, out, n = random.Random(seed), [], 0
    while n < mb * 1e6:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w.encode("utf-8")) + 1
    path.write_text(" ".join(out) + "\n", encoding="utf-8")
    return path


def _multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post_files(url: str, files: list[tuple[str, bytes]]) -> list[str]:
    """The paths Gradio gives the files posted to its upload route."""
    body, kind = _multipart(files)
    req = urllib.request.Request(f"{url}/gradio_api/upload", data=body, headers={"Content-Type": kind})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def _upload_event(url: str) -> tuple[int, int]:
    """(fn_index, trigger id) of the "Add articles…" upload event, from the app's config."""
    with urllib.request.urlopen(f"{url}/config", timeout=30) as resp:
        config = json.loads(resp.read())
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "qa-upload")
    dep = next(d for d in config["dependencies"] if [button, "upload"] in [list(t) for t in d["targets"]])
    return dep["id"], button


def upload(url: str, path: Path, timeout: float = 900.0) -> dict:
    """Give one file to the chat's "Add articles…" as a browser does; (seconds until the chat's
    first message, seconds until the last, the last message of the progress line)."""
    t = time.perf_counter()
    [server_path] = post_files(url, [(path.name, path.read_bytes())])
    fn_index, trigger = _upload_event(url)
    session = uuid.uuid4().hex
    data = [[{"path": server_path, "orig_name": path.name, "size": path.stat().st_size,
              "meta": {"_type": "gradio.FileData"}}], []]
    body = json.dumps({"data": data, "fn_index": fn_index, "trigger_id": trigger, "session_hash": session,
                       "event_data": None}).encode()
    req = urllib.request.Request(f"{url}/gradio_api/queue/join", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        json.loads(resp.read())
    first, last = None, None
    with urllib.request.urlopen(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=timeout) as resp:
        for raw in resp:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("msg") == "process_generating" and first is None:
                first = time.perf_counter() - t
            if msg.get("msg") == "process_completed":
                out = (msg.get("output") or {}).get("data") or [None, None]
                last = out[1] if isinstance(out[1], str) else json.dumps(out[1])[:300]
                if not msg.get("success", True):
                    last = f"error: {msg.get('output')}"
                break
    return {"first_message_s": first, "in_s": time.perf_counter() - t, "last_message": last}


def _ask_loop(url: str, questions: list[str], clients: int, until) -> dict:
    lock, lat, kinds = threading.Lock(), [], {"answer": 0, "refused": 0, "error": 0, "hung": 0}

    def client(c: int) -> None:
        i = c
        while not until():
            kind, _, dt = call(url, questions[i % len(questions)], timeout=60.0)
            i += clients
            with lock:
                kinds[kind] += 1
                if kind == "answer":
                    lat.append(dt)
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return {**kinds, "ask_ms": stats(lat), "slowest_s": max(lat, default=0.0),
            "over_60s": sum(1 for x in lat if x > 60.0)}


def ask_during_upload(url: str, pid: int, questions: list[str], folder: Path, mb: float = 5.0,
                      clients: int = 3, seconds: float = 30.0) -> dict:
    """Asks without an upload for `seconds`, then asks while an upload of `mb` MB is indexed."""
    for q in questions:                                   # warm: each question once
        call(url, q)
    stop = time.monotonic() + seconds
    alone = _ask_loop(url, questions, clients, lambda: time.monotonic() > stop)
    path = words_file(folder / f"upload-{mb:g}mb.txt", mb)
    rss = pid_rss_mb(pid)
    done, result = threading.Event(), {}

    def run() -> None:
        try:
            result.update(upload(url, path))
        except Exception as e:         # noqa: BLE001: the bench reports it
            result["error"] = f"{type(e).__name__}: {e}"
        done.set()
    threading.Thread(target=run, daemon=True).start()
    during = _ask_loop(url, questions, clients, done.is_set)
    return {"mb": mb, "clients": clients, "alone": alone, "during": during, "upload": result,
            "rss_mb_before": rss, "rss_mb_after": pid_rss_mb(pid)}


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 1e6


def flood(url: str, folder: Path, n: int = 30, mb: float = 4.9, wait_s: float = 60.0) -> dict:
    """`n` files of `mb` MB posted to the upload route, never given to the chat; the size of
    Gradio's folder (`folder`) right after and each second until `wait_s`."""
    t = time.perf_counter()
    for i in range(n):
        post_files(url, [(f"flood-{i}.txt", (f"{i} " * int(mb * 5e5)).encode()[:int(mb * 1e6)])])
    posted_s, sizes = time.perf_counter() - t, [folder_mb(folder)]
    start = time.monotonic()
    while time.monotonic() - start < wait_s:
        time.sleep(1.0)
        sizes.append(folder_mb(folder))
    return {"files": n, "mb_each": mb, "posted_s": posted_s, "mb_after_posting": sizes[0],
            "mb_each_second": sizes}


def run(seeds: Path, index_dir: Path, questions: list[str], mb: float = 4.9, quick: bool = False) -> dict:
    """`bench_upload` against app.py over copies of `seeds` and `index_dir`, with Gradio's files in
    a folder of the bench (measured during the run and after the server stops)."""
    import shutil
    import tempfile
    from ..config import DEFAULT
    with tempfile.TemporaryDirectory(prefix="qa-bench-upload-") as tmp:
        tmp = Path(tmp)
        shutil.copytree(seeds, tmp / "articles", symlinks=True)
        shutil.copytree(index_dir, tmp / "index")
        gradio = tmp / "gradio"
        gradio.mkdir()
        with common.serving(tmp / "articles", tmp / "index", env={"GRADIO_TEMP_DIR": str(gradio)}) as (url, pid):
            during = ask_during_upload(url, pid, questions, tmp, mb, 3, 10.0 if quick else 30.0)
            flooded = flood(url, gradio, 15 if quick else 30, 4.9, 15.0 if quick else 60.0)
        flooded.update(cap_mb=DEFAULT.max_upload_cache_bytes / 1e6, mb_after_stop=folder_mb(gradio),
                       files_after_stop=sum(1 for p in gradio.rglob("*") if p.is_file()))
    return {"upload": during, "flood": flooded}


def report(r: dict) -> str:
    a, d, u = r["alone"], r["during"], r["upload"]
    line = (f"ask while uploading {r['mb']:g} MB: {r['clients']} clients; alone p50 {a['ask_ms'].get('p50', 0):.0f} ms, "
            f"p95 {a['ask_ms'].get('p95', 0):.0f} ms ({a['answer']} asks); during the upload p50 "
            f"{d['ask_ms'].get('p50', 0):.0f} ms, p95 {d['ask_ms'].get('p95', 0):.0f} ms, slowest "
            f"{d['slowest_s']:.1f} s ({d['answer']} asks, {d['over_60s'] + d['hung']} over 60 s, {d['error']} errors); "
            f"the upload in after {u.get('in_s', 0):.1f} s; server memory {r['rss_mb_before']:.0f} -> "
            f"{r['rss_mb_after']:.0f} MB")
    if u.get("error"):
        line += f"; upload error: {u['error']}"
    return line


def flood_report(r: dict) -> str:
    sizes = r["mb_each_second"]
    under = next((i for i, s in enumerate(sizes) if s <= r["cap_mb"]), None)
    return (f"flood: {r['files']} files of {r['mb_each']:g} MB posted in {r['posted_s']:.1f} s: Gradio's folder "
            f"held {r['mb_after_posting']:.0f} MB, {sizes[-1]:.0f} MB after {len(sizes) - 1} s "
            f"({'under the cap of %.0f MB after %d s' % (r['cap_mb'], under) if under is not None else 'never under the cap of %.0f MB' % r['cap_mb']}); "
            f"after the server stopped: {r['mb_after_stop']:.1f} MB in {r['files_after_stop']} files")
