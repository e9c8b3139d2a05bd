"""The chat: `python app.py [--port N] [--host H]` serves a Gradio chat over the articles.

Every reply is quotes from the articles with [n] markers and, under it, a card
per source (title, the quote highlighted in its passage, doc id and character
offsets, duplicate scrapes). Follow-up questions are rewritten against the
conversation (qa.resolve_followup) and the reply says what was searched. The
same answering function is the API endpoint "ask", which returns the answer as
JSON (the schema `python -m qa check` verifies).

Served: this app only, on 127.0.0.1 unless --host says otherwise; no share
link, no extra file paths, the seeds and index folders blocked, monitoring and
analytics off. The model is not thread-safe, so every event that uses it shares
one concurrency id with a limit of 1, and the queue is bounded.
"""
from __future__ import annotations

import argparse
import atexit
import dataclasses
import logging
import os
import shutil
import socket
import sys
import tempfile
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

import qa  # noqa: E402
from qa import ui  # noqa: E402

log = logging.getLogger("qa.app")

EXAMPLES = [
    "Why was Putin's visit cancelled?",
    "When was Putin's visit to Pakistan scheduled?",
    "When did Kayani arrive in Moscow?",
    "What did Gazprom want?",
    "Who is Ruslan Pukhov?",
    "What is the capital of France?",
]
MODES = ["hybrid", "bm25", "dense"]
DEFAULT_K, MAX_K = 8, 20
THEME = dict(primary_hue="blue", neutral_hue="slate",      # local fonts only: nothing fetched from a CDN
             font=["Inter", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif"],
             font_mono=["ui-monospace", "SFMono-Regular", "Consolas", "Liberation Mono", "monospace"])
MODEL = "model"          # the concurrency id of every event that runs the model
QUEUE_SIZE = 16          # waiting requests beyond this are refused at once


def answer_for(pipeline: qa.Pipeline, question, mode: str = "hybrid", k=DEFAULT_K, earlier=()) -> qa.Answer:
    """The cited answer to `question`; a follow-up is first rewritten against `earlier` turns,
    (question searched, answer text) pairs or plain questions. Raises ValueError on bad input."""
    if not isinstance(question, str):
        raise qa.BadQuestionError("the question must be text")
    if mode not in MODES:
        raise ValueError(f"unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}")
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise ValueError(f"the number of passages must be a whole number from 1 to {MAX_K}") from None
    if not 1 <= k <= MAX_K:
        raise ValueError(f"the number of passages must be from 1 to {MAX_K}, not {k}")
    searched = qa.resolve_followup(question, list(earlier or ()))
    answer = pipeline.ask(searched, k=k, mode=mode)
    return dataclasses.replace(answer, question=question.strip())


def build(pipeline: qa.Pipeline) -> gr.Blocks:
    """The chat app over `pipeline` (not launched)."""
    articles = pipeline.index.articles
    n_articles = sum(1 for a in articles.values() if not a.duplicate_of)
    dups = len(articles) - n_articles
    folded = f" ({len(articles)} files; duplicate scrapes folded in)" if dups else ""
    exports = tempfile.mkdtemp(prefix="qa-exports-")
    atexit.register(shutil.rmtree, exports, ignore_errors=True)

    def article_text(doc_id: str) -> str | None:
        art = articles.get(doc_id)
        return art.text if art else None

    def respond(message, chat, turns, mode, k):
        """One chat turn: (chat, textbox, turns, json download, markdown download)."""
        chat, turns = list(chat or []), list(turns or [])
        message = message if isinstance(message, str) else ""
        if message.strip():
            chat.append({"role": "user", "content": ui.user_html(message)})
        keep = gr.update()
        try:
            answer = answer_for(pipeline, message, mode, k, turns)
            reply = ui.answer_html(answer, article_text, pipeline.verify(answer), int(k))
            js, md = ui.export_files(answer, exports)
        except ValueError as e:                       # BadQuestionError and bad controls
            chat.append({"role": "assistant", "content": ui.error_html(str(e))})
            return chat, keep, turns, keep, keep
        except Exception:                             # a bug: log it, never show a traceback
            log.exception("answering %r failed", message[:200])
            chat.append({"role": "assistant", "content": ui.error_html(
                "something went wrong while answering; the details are in the server log")})
            return chat, keep, turns, keep, keep
        chat.append({"role": "assistant", "content": reply})
        turns.append((answer.searched, answer.text))
        return (chat, "", turns, gr.DownloadButton(value=js, interactive=True),
                gr.DownloadButton(value=md, interactive=True))

    def respond_example(sample, chat, turns, mode, k):
        return respond(sample[0] if sample else "", chat, turns, mode, k)

    def respond_placeholder(chat, turns, mode, k, evt: gr.SelectData):
        text = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value or "")
        return respond(text, chat, turns, mode, k)

    def ask(question: str, mode: str = "hybrid", k: int = DEFAULT_K, earlier: list[str] | None = None) -> dict:
        """Answer a question from the articles with cited quotes (the chat's answer, as JSON).

        Args:
            question: the question, at most 1,000 characters
            mode: retrieval mode: hybrid (default), bm25 or dense
            k: number of passages to read the answer from, 1 to 20 (default 8)
            earlier: the conversation's earlier questions, oldest first, to resolve a follow-up
        Returns:
            the answer: text with [n] markers, citations (doc_id, title, start, end, quote,
            also_in), abstained, searched, notes, passages, mode and schema; the JSON that
            `python -m qa check` verifies
        """
        try:
            return answer_for(pipeline, question, mode, k, earlier or ()).to_dict()
        except ValueError as e:
            raise gr.Error(str(e), title="Bad question", print_exception=False) from None

    def reset():
        off = gr.DownloadButton(value=None, interactive=False)
        return [], [], off, off, ""

    with gr.Blocks(title="qa · ask the articles", analytics_enabled=False) as demo:
        turns = gr.State([])
        gr.HTML(f"<h2 style='margin:.2em 0'>Ask the articles</h2><div class='qa-searched'>Answers are quotes "
                f"from {n_articles} news articles{folded}, each cited to its exact characters; nothing is "
                "generated. When the articles do not say, you are told so.</div>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    show_label=False, height="70vh", min_height=420, render_markdown=False, latex_delimiters=[],
                    sanitize_html=True, allow_tags=False, feedback_options=None, buttons=[],
                    placeholder="Ask about the articles, or pick an example.",
                    examples=[{"text": q} for q in EXAMPLES[:4]], elem_id="qa-chat")
                with gr.Row():
                    box = gr.Textbox(show_label=False, placeholder="Ask a question about the articles…",
                                     scale=6, lines=1, max_lines=6, autofocus=True, elem_id="qa-question")
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
            with gr.Column(scale=1, min_width=280):
                examples = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES], label="Example questions",
                                      layout="table", elem_id="qa-examples")
                mode = gr.Radio(MODES, value="hybrid", label="Retrieval",
                                info="hybrid fuses BM25 keywords and MiniLM embeddings")
                k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages to read")
                dl_json = gr.DownloadButton("Download answer (JSON)", interactive=False, size="sm",
                                            elem_id="qa-download-json")
                dl_md = gr.DownloadButton("Download answer (Markdown)", interactive=False, size="sm",
                                          elem_id="qa-download-md")
                clear = gr.Button("New conversation", size="sm", elem_id="qa-new")
                with gr.Accordion("The articles", open=False):
                    gr.HTML(ui.corpus_html(articles.values()))

        outputs = [chat, box, turns, dl_json, dl_md]
        model = dict(concurrency_id=MODEL, concurrency_limit=1, api_visibility="private")
        box.submit(respond, [box, chat, turns, mode, k], outputs, **model)
        send.click(respond, [box, chat, turns, mode, k], outputs, **model)
        examples.click(respond_example, [examples, chat, turns, mode, k], outputs, **model)
        chat.example_select(respond_placeholder, [chat, turns, mode, k], outputs, **model)
        clear.click(reset, None, [chat, turns, dl_json, dl_md, box], queue=False, api_visibility="private")
        chat.clear(reset, None, [chat, turns, dl_json, dl_md, box], queue=False, api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id=MODEL, concurrency_limit=1)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve the qa chat (Gradio) over the articles in seeds/.")
    ap.add_argument("--port", type=int, default=None, help="port (default $QA_PORT or 7860)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
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
    pipeline = qa.Pipeline(progress=True)
    print(f"qa: opening the index of {pipeline.seeds_dir} in {pipeline.index_dir} (built if missing or stale)",
          flush=True)
    try:
        ix = pipeline.index
        print(f"qa: index ready: {len(ix.chunks)} passages from {len(ix.articles)} articles "
              f"({time.perf_counter() - t0:.1f}s); loading the model", flush=True)
        pipeline.ask(EXAMPLES[0], k=1)                   # load the model now, not for the first user
    except qa.QAError as e:
        print(f"qa: cannot start: {e}", file=sys.stderr)
        return 2
    demo = build(pipeline)
    try:
        demo.launch(server_name=args.host, server_port=port, share=False, inbrowser=False, show_error=False,
                    blocked_paths=[str(pipeline.seeds_dir), str(pipeline.index_dir)], max_file_size="1mb",
                    enable_monitoring=False, ssr_mode=False, mcp_server=False, pwa=False,
                    footer_links=["api"], css=ui.CSS, theme=gr.themes.Default(**THEME), quiet=True,
                    prevent_thread_lock=True)
    except OSError as e:
        print(f"qa: cannot serve on {args.host}:{port}: {e}; choose another with --port", file=sys.stderr)
        return 2
    print(f"qa: ready in {time.perf_counter() - t0:.1f}s; chat at http://{args.host}:{port} (Ctrl+C stops it)",
          flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
