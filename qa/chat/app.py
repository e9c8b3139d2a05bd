"""The chat as a Gradio app over one pipeline: its layout and its events (the API endpoints and MCP tools: `api.py`).

Every reply is quotes from the articles with [n] markers and, under it, a card
per source (`markup.py`). Articles can be uploaded (checked by content, stored under a
generated name in the uploads folder, indexed in the background while questions are answered:
`adding.py`), and files added to or changed in the articles folder are indexed before the next answer. Follow-up questions are rewritten against the
conversation and the reply says what was searched. The same answering function
is the API endpoint and MCP tool "ask", which returns the answer as JSON (the schema
`qa check` verifies); `retrieve` and `verify` sit beside it (`api.py`).

Served: this app only, on 127.0.0.1 unless the caller says otherwise; no share
link, no extra file paths, the seeds and index folders blocked, monitoring and
analytics off. The model is not thread-safe, so every event that answers shares
one concurrency id with a limit of 1 (the upload has its own), and the queue is bounded.
"""
from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import shutil
import tempfile
from types import SimpleNamespace

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from ..answering.followup import resolve as resolve_followup  # noqa: E402
from ..errors import BackendError, BadFilterError, BadQuestionError  # noqa: E402
from ..pipeline import Pipeline  # noqa: E402
from ..types import Answer  # noqa: E402
from . import api, markup, stories_view  # noqa: E402
from .api import DEFAULT_K, MAX_K, MODES  # noqa: E402
from .adding import adder, corpus_updates, outlet_choices  # noqa: E402

log = logging.getLogger("qa.app")

EXAMPLES = [
    "Why was Putin's visit cancelled?",
    "When was Putin's visit to Pakistan scheduled?",
    "When did Kayani arrive in Moscow?",
    "What did Gazprom want?",
    "Who is Ruslan Pukhov?",
    "What is the capital of France?",
]
THEME = dict(primary_hue="blue", neutral_hue="slate",      # local fonts only: nothing fetched from a CDN
             font=["Inter", "Segoe UI", "Helvetica Neue", "Arial", "sans-serif"],
             font_mono=["ui-monospace", "SFMono-Regular", "Consolas", "Liberation Mono", "monospace"])
MODEL = "model"          # the concurrency id of every event that runs the model
QUEUE_SIZE = 16          # waiting requests beyond this are refused at once


def answer_for(pipeline: Pipeline, question, mode: str = "hybrid", k=DEFAULT_K, earlier=(),
               since=None, until=None, outlets=None, doc_ids=None, dates: bool = True) -> Answer:
    """The cited answer to `question`; a follow-up is first rewritten against `earlier` turns,
    (question searched, answer text) pairs or plain questions; `since`, `until` (YYYY-MM-DD),
    `outlets` and `doc_ids` (a story's articles) keep to those articles, and so does a date
    phrase of the question unless `dates` is False. Raises ValueError on bad input."""
    if not isinstance(question, str):
        raise BadQuestionError("the question must be text")
    if mode not in MODES:
        raise ValueError(f"unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}")
    try:                                    # 8 and 8.0 (a slider) are whole; 2.5, True and inf are not
        if isinstance(k, bool) or (isinstance(k, float) and not k.is_integer()):
            raise ValueError
        k = int(k)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"the number of passages must be a whole number from 1 to {MAX_K}") from None
    if not 1 <= k <= MAX_K:
        raise ValueError(f"the number of passages must be from 1 to {MAX_K}, not {k}")
    searched = resolve_followup(question, list(earlier or ()))
    answer = pipeline.ask(searched, k=k, mode=mode, since=since or None, until=until or None,
                          outlets=outlets or None, doc_ids=doc_ids or None, dates_in_question=dates is not False)
    return dataclasses.replace(answer, question=question.strip())


def layout(pipeline: Pipeline) -> SimpleNamespace:
    """The page's components (inside an open gr.Blocks): chat, question box, controls, downloads."""
    articles = pipeline.index.articles
    ui = SimpleNamespace(turns=gr.State([]))
    ui.header = gr.HTML(markup.header_html(articles.values()))
    with gr.Tabs(elem_id="qa-tabs") as ui.tabs:
        with gr.Tab("Chat", id="chat", elem_id="qa-chat-tab"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    stories_view.narrow_bar(ui)      # "asking only about story s1", and its clear button
                    ui.chat = gr.Chatbot(
                        show_label=False, height="70vh", min_height=420, render_markdown=False, latex_delimiters=[],
                        sanitize_html=True, allow_tags=False, feedback_options=None, buttons=[],
                        placeholder="Ask about the articles, or pick an example.",
                        examples=[{"text": q} for q in EXAMPLES[:4]], elem_id="qa-chat")
                    with gr.Row():
                        ui.box = gr.Textbox(show_label=False, placeholder="Ask a question about the articles…",
                                            scale=6, lines=1, max_lines=6, autofocus=True, elem_id="qa-question")
                        ui.send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
                    ui.asked = gr.State("")     # the last question, for asking it again without its dates
                    ui.undate = gr.Button("✕ remove date filter", visible=False, size="sm", elem_id="qa-undate")
                with gr.Column(scale=1, min_width=280):
                    ui.examples = gr.Dataset(components=[ui.box], samples=[[q] for q in EXAMPLES],
                                             label="Example questions", layout="table", elem_id="qa-examples")
                    ui.mode = gr.Radio(MODES, value="hybrid", label="Retrieval",
                                       info="hybrid fuses BM25 keywords and MiniLM embeddings")
                    ui.k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages to read")
                    with gr.Accordion("Dates and outlets", open=False):
                        with gr.Row():
                            ui.since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", max_lines=1,
                                                  min_width=120, elem_id="qa-since")
                            ui.until = gr.Textbox(label="until", placeholder="YYYY-MM-DD", max_lines=1, min_width=120,
                                                  elem_id="qa-until")
                        ui.outlets = gr.Dropdown(outlet_choices(articles), value=[], multiselect=True, label="Outlets",
                                                 info="none chosen: every outlet", elem_id="qa-outlets")
                    ui.upload = gr.UploadButton(
                        "Add articles…", file_count="multiple", size="sm", elem_id="qa-upload",
                        file_types=list(pipeline.settings.extensions))
                    ui.adding = gr.HTML("", elem_id="qa-adding")     # follows an upload until it is indexed
                    ui.dl_json = gr.DownloadButton("Download answer (JSON)", interactive=False, size="sm",
                                                   elem_id="qa-download-json")
                    ui.dl_md = gr.DownloadButton("Download answer (Markdown)", interactive=False, size="sm",
                                                 elem_id="qa-download-md")
                    ui.clear = gr.Button("New conversation", size="sm", elem_id="qa-new")
                    with gr.Accordion("The articles", open=False):
                        ui.corpus = gr.HTML(markup.corpus_html(articles.values()), elem_id="qa-corpus")
        with gr.Tab("Stories", id="stories", elem_id="qa-stories-tab"):
            stories_view.tab(ui, (a.outlet for a in articles.values()))
    return ui


def responder(pipeline: Pipeline, exports: str):
    """The chat turn: (message, chat, turns, mode, k, since, until, outlets, narrow, dates) -> (chat,
    textbox, turns, json file, markdown file, heading, article list, outlet picker, the "remove
    date filter" button, the question asked). Files added to or changed in the articles folder
    since the last turn are indexed first, and the reply says so."""
    def article_text(doc_id: str) -> str | None:
        art = pipeline.index.articles.get(doc_id)
        return art.text if art else None

    def respond(message, chat, turns, mode, k, since="", until="", outlets=None, narrow=None, dates=True):
        chat, turns = list(chat or []), list(turns or [])
        message = message if isinstance(message, str) else ""
        if message.strip():
            chat.append({"role": "user", "content": markup.user_html(message)})
        keep = gr.update()
        corpus = (keep, keep, keep)
        undated = (gr.update(visible=False), message)        # the button, and the question to ask again
        try:
            changed = pipeline.follow()
            if changed:
                corpus = corpus_updates(pipeline)
            answer = answer_for(pipeline, message, mode, k, turns, since, until, outlets,
                                (narrow or {}).get("doc_ids"), dates)
            scope = markup.scope_text(since or None, until or None, outlets)
            if narrow:
                scope = ", ".join(x for x in (scope, f"only the articles of story {narrow['label']}") if x)
            reply = markup.answer_html(answer, article_text, pipeline.verify(answer), int(k), scope)
            if changed:
                reply = markup.notice_html(f"The articles folder changed ({changed}); the index was updated "
                                           "before answering.") + reply
            elif pipeline.index.write_error:
                reply = markup.notice_html(f"The articles folder changed, but the index could not be updated: "
                                           f"{pipeline.index.write_error}. This answer comes from the articles "
                                           "as they were indexed before.") + reply
            if pipeline.updating:
                reply = markup.notice_html("The articles just added are still being indexed; this answer comes "
                                           "from the articles already in.") + reply
            js, md = markup.export_files(answer, exports)
        except BadFilterError as e:
            chat.append({"role": "assistant", "content": markup.error_html(str(e), "The date or outlet filter "
                                                                                 "cannot be used.")})
            return chat, keep, turns, keep, keep, *corpus, *undated
        except ValueError as e:                       # BadQuestionError and bad controls
            chat.append({"role": "assistant", "content": markup.error_html(str(e))})
            return chat, keep, turns, keep, keep, *corpus, *undated
        except BackendError as e:                     # Milvus down or misconfigured: say so
            chat.append({"role": "assistant", "content": markup.error_html(str(e), "The search backend "
                                                                                 "cannot be used.")})
            return chat, keep, turns, keep, keep, *corpus, *undated
        except Exception:                             # a bug: log it, never show a traceback
            log.exception("answering %r failed", message[:200])
            chat.append({"role": "assistant", "content": markup.error_html(
                "something went wrong while answering; the details are in the server log")})
            return chat, keep, turns, keep, keep, *corpus, *undated
        chat.append({"role": "assistant", "content": reply})
        turns.append((answer.searched, answer.text))
        dated = answer.dates is not None and answer.dates.applied
        undate = gr.update(visible=dated, value=f"✕ remove date filter ({answer.dates.note.split(' (')[0]})"
                           if dated else "✕ remove date filter")
        return (chat, "", turns, gr.DownloadButton(value=js, interactive=True),
                gr.DownloadButton(value=md, interactive=True), *corpus, undate, message)

    return respond


def wire_events(ui: SimpleNamespace, respond, add) -> None:
    """Ask on Enter, on the button, on an example; add uploaded articles; start over on
    "New conversation"."""
    def respond_example(sample, chat, turns, mode, k, since, until, outlets, narrow):
        return respond(sample[0] if sample else "", chat, turns, mode, k, since, until, outlets, narrow)

    def respond_placeholder(chat, turns, mode, k, since, until, outlets, narrow, evt: gr.SelectData):
        text = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value or "")
        return respond(text, chat, turns, mode, k, since, until, outlets, narrow)

    def respond_undated(asked, chat, turns, mode, k, since, until, outlets, narrow):
        """The last question again, its date phrase searched as words (its turn is replaced)."""
        return respond(asked, chat, list(turns or [])[:-1], mode, k, since, until, outlets, narrow, False)

    def reset():
        off = gr.DownloadButton(value=None, interactive=False)
        return [], [], off, off, "", gr.update(visible=False)

    controls = [ui.chat, ui.turns, ui.mode, ui.k, ui.since, ui.until, ui.outlets, ui.narrow]
    corpus = [ui.header, ui.corpus, ui.outlets]
    outputs = [ui.chat, ui.box, ui.turns, ui.dl_json, ui.dl_md, *corpus, ui.undate, ui.asked]
    model = dict(concurrency_id=MODEL, concurrency_limit=1, api_visibility="private")
    ui.box.submit(respond, [ui.box, *controls], outputs, **model)
    ui.send.click(respond, [ui.box, *controls], outputs, **model)
    ui.examples.click(respond_example, [ui.examples, *controls], outputs, **model)
    ui.chat.example_select(respond_placeholder, controls, outputs, **model)
    ui.undate.click(respond_undated, [ui.asked, *controls], outputs, **model)
    # the upload has a queue of its own: it stores the files, then follows the update in the background
    ui.upload.upload(add, [ui.upload, ui.chat], [ui.chat, ui.adding, *corpus], show_progress="minimal",
                     show_progress_on=[ui.adding], concurrency_id="adding", concurrency_limit=1,
                     api_visibility="private")
    cleared = [ui.chat, ui.turns, ui.dl_json, ui.dl_md, ui.box, ui.undate]
    ui.clear.click(reset, None, cleared, queue=False, api_visibility="private")
    ui.chat.clear(reset, None, cleared, queue=False, api_visibility="private")


def build(pipeline: Pipeline) -> gr.Blocks:
    """The chat app over `pipeline` (not launched)."""
    exports = tempfile.mkdtemp(prefix="qa-exports-", dir=os.environ.get("GRADIO_TEMP_DIR"))  # swept there
    atexit.register(shutil.rmtree, exports, ignore_errors=True)
    with gr.Blocks(title="qa · ask the articles", analytics_enabled=False) as demo:
        ui = layout(pipeline)
        wire_events(ui, responder(pipeline, exports), adder(pipeline))
        stories_view.wire(ui, pipeline, MODEL)         # the Stories tab and "ask about this story"
        api.register(pipeline, answer_for, MODEL)      # ask, retrieve, verify: API endpoints and MCP tools
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def launch(demo: gr.Blocks, pipeline: Pipeline, host: str, port: int, mcp: bool = True) -> None:
    """Serve `demo` without blocking: only the app, nothing of the articles or the index folders;
    with `mcp`, its API endpoints (`api.py`) are also MCP tools at /gradio_api/mcp/."""
    demo.launch(server_name=host, server_port=port, share=False, inbrowser=False, show_error=False,
                blocked_paths=[str(pipeline.seeds_dir), str(pipeline.index_dir)],
                max_file_size=pipeline.settings.max_file_bytes,
                enable_monitoring=False, ssr_mode=False, mcp_server=mcp, pwa=False,
                footer_links=["api"], css=markup.CSS, theme=gr.themes.Default(**THEME), quiet=True,
                prevent_thread_lock=True)
