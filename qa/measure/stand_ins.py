"""Local stand-ins for the scale-out engines, for the tests and `qa bench --backends`.

- `milvus_lite(data_dir)`: a `milvus-lite server` on 127.0.0.1 and a free port (its own
  default listens on every interface), waited for, and stopped by its PID (SIGTERM: the
  server ignores SIGINT when started from a script).
- `listeners(pids)`: the TCP addresses processes listen on (from /proc), for "loopback only" checks.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .common import free_port


def _up(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def milvus_lite_command() -> list[str] | None:
    exe = shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))
    return [exe] if os.access(exe, os.X_OK) else None


# Run before exec'ing the server: SIGTERM to it when the thread that started it dies, however it
# dies (a killed test run or bench leaves no server behind; Linux prctl PR_SET_PDEATHSIG, which
# survives exec). A one-line launcher rather than preexec_fn, which is unsafe in a threaded parent.
_DIE_WITH_PARENT = ("import ctypes, os, signal, sys; ctypes.CDLL(None).prctl(1, signal.SIGTERM); "
                    "os.execv(sys.argv[1], sys.argv[1:])")


@contextmanager
def milvus_lite(data_dir: Path, wait_s: float = 60.0):
    """Yields (uri, pid) of a milvus-lite server holding its data in `data_dir`; stops it by PID."""
    cmd = milvus_lite_command()
    if cmd is None:
        raise RuntimeError("milvus-lite is not installed: pip install -e '.[milvus]'")
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(Path(data_dir) / "server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-c", _DIE_WITH_PARENT, *cmd, "server", "--data-dir", str(data_dir),
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + wait_s
        while not _up(port):
            if proc.poll() is not None:
                raise RuntimeError(f"milvus-lite exited with {proc.returncode}; see {data_dir}/server.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"milvus-lite did not open port {port} within {wait_s:.0f}s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen, wait_s: float = 15.0) -> None:
    """SIGTERM by PID, then SIGKILL to its process group if it is still there after `wait_s`."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _hex_address(text: str) -> str:
    """'0100007F:A0F2' (from /proc/net/tcp) as '127.0.0.1:41202'; IPv6 likewise, compressed."""
    import ipaddress
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))   # each 32-bit word is host order
    ip = ipaddress.ip_address(words)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return f"{ip}:{int(port, 16)}"


def listeners(pids) -> list[str]:
    """The TCP addresses the processes `pids` listen on, from /proc (e.g. ['127.0.0.1:41202'])."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:      # 0A: LISTEN
                found.append(_hex_address(cols[1]))
    return found


def loopback(address: str) -> bool:
    import ipaddress
    return ipaddress.ip_address(address.rsplit(":", 1)[0]).is_loopback


def session_pids(sid: int) -> list[int]:
    """Every live process in session `sid` (from /proc; a process started with start_new_session=True
    leads its own session, and whatever it spawns stays in it unless it calls setsid itself)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()     # after "pid (comm) ": state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(d))
    return out
