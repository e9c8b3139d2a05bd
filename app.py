"""The chat: `python app.py [--port N] [--host H] [--no-mcp]` serves a Gradio chat over the articles,
and the MCP tools ask, retrieve and verify on the same port (`qa.chat.api`).

This file only parses arguments, opens the index (building it if missing or
stale), warms up the model and launches `qa.chat.app`; the chat itself (layout,
events, the API endpoints and MCP tools, the HTML of answers) lives in `qa/chat/`.
Gradio's temporary files go to a folder of this process (`qa.chat.tempfiles`), kept
under a size cap while it serves and removed when it stops (Ctrl+C or SIGTERM).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve the qa chat (Gradio) over the articles in seeds/.")
    ap.add_argument("--port", type=int, default=None, help="port (default $QA_PORT or 7860)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    ap.add_argument("--no-mcp", action="store_true",
                    help="do not serve the MCP tools (ask, retrieve, verify) at /gradio_api/mcp/")
    args = ap.parse_args(argv)
    try:
        port = args.port if args.port is not None else int(os.environ.get("QA_PORT") or 7860)
    except ValueError:
        print(f"qa: QA_PORT must be a port number, not {os.environ['QA_PORT']!r}", file=sys.stderr)
        return 2
    with socket.socket() as s:                          # fail now, not after loading the model
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((args.host, port))
        except OSError as e:
            print(f"qa: cannot serve on {args.host}:{port} ({e.strerror}); choose another with --port",
                  file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.WARNING, format="qa: %(message)s", stream=sys.stderr)
    t0 = time.perf_counter()
    import qa
    from qa.chat import tempfiles
    temp = tempfiles.own_folder()                      # before Gradio is imported: it reads GRADIO_TEMP_DIR
    from qa.chat import app as chat

    pipeline = qa.Pipeline(progress=True)
    print(f"qa: opening the index of {pipeline.seeds_dir} in {pipeline.index_dir} (built if missing or stale)",
          flush=True)
    try:
        ix = pipeline.index
        print(f"qa: index ready: {len(ix.chunks)} passages from {len(ix.articles)} articles "
              f"({time.perf_counter() - t0:.1f}s); loading the model", flush=True)
        pipeline.ask(chat.EXAMPLES[0], k=1)              # load the model now, not for the first user
    except qa.QAError as e:
        print(f"qa: cannot start: {e}", file=sys.stderr)
        return 2
    demo = chat.build(pipeline)
    try:
        chat.launch(demo, pipeline, args.host, port, mcp=not args.no_mcp)
    except OSError as e:
        print(f"qa: cannot serve on {args.host}:{port}: {e}; choose another with --port", file=sys.stderr)
        return 2
    tempfiles.Sweeper(temp, pipeline.settings.max_upload_cache_bytes).start()
    tools = "" if args.no_mcp else f"; MCP tools at http://{args.host}:{port}/gradio_api/mcp/"
    print(f"qa: ready in {time.perf_counter() - t0:.1f}s; chat at http://{args.host}:{port}{tools} (Ctrl+C stops it)",
          flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):         # stop serving, then exit (the temporary folder goes)
        signal.signal(sig, lambda *_: demo.close(verbose=False))
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
