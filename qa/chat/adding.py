"""Adding articles from the chat: the upload event, and the parts of the page that follow the corpus.

Each uploaded file is checked by its content and stored under a generated name in the uploads
folder (`qa.ingest.uploads`); then the index is updated incrementally, with progress shown, and
the heading, the article list and the outlet picker are refreshed. Nothing here raises into
the page: a refused file is a line in the chat's notice, a failure is logged.
"""
from __future__ import annotations

import logging
import os

import gradio as gr

from ..answering.render import provenance
from ..ingest.uploads import UploadRefused
from ..ingest.uploads import store as store_upload
from ..pipeline import Pipeline
from . import markup

log = logging.getLogger("qa.app")


def outlet_choices(articles) -> list[str]:
    return sorted({a.outlet for a in articles.values() if a.outlet and not a.duplicate_of}, key=str.lower)


def corpus_updates(pipeline: Pipeline) -> tuple:
    """New values for the heading, the article list and the outlet picker, after the articles changed."""
    articles = pipeline.index.articles
    return (markup.header_html(articles.values()), markup.corpus_html(articles.values()),
            gr.Dropdown(choices=outlet_choices(articles)))


def adder(pipeline: Pipeline):
    """The upload: (files, chat) -> (chat, heading, article list, outlet picker). Each file is
    checked by its content and stored under a generated name in the uploads folder
    (`qa.ingest.uploads`); then the index is updated incrementally, with progress shown."""
    settings = pipeline.settings

    def add(files, chat, progress=gr.Progress(track_tqdm=True)):
        chat = list(chat or [])
        keep = gr.update()
        files = [f for f in (files or []) if f]
        if not files:
            return chat, keep, keep, keep
        if len(files) > settings.max_upload_batch:
            chat.append({"role": "assistant", "content": markup.notice_html(
                f"Nothing added: at most {settings.max_upload_batch} files at a time, not {len(files)}.")})
            return chat, keep, keep, keep
        added, refused = [], []
        for i, f in enumerate(files):
            path = getattr(f, "name", f)              # gradio gives a path in its own upload folder
            client = os.path.basename(str(getattr(f, "orig_name", None) or path))
            progress((i, len(files) + 1), desc=f"checking {client[:60]}")
            try:
                size = os.path.getsize(path)
                if size > settings.max_file_bytes:
                    raise UploadRefused(f"{client}: too large ({size:,} bytes; the limit is "
                                        f"{settings.max_file_bytes:,})")
                with open(path, "rb") as fh:
                    added.append(store_upload(pipeline.seeds_dir, fh.read(), client, settings))
            except UploadRefused as e:
                refused.append(str(e))
            except OSError as e:
                refused.append(f"{client}: could not be read ({e.strerror or e})")
        new = [s for s in added if not s.duplicate]
        try:
            if new:
                progress((len(files), len(files) + 1), desc=f"indexing {len(new)} new file(s)")
                pipeline.refresh()
        except Exception:                             # never a traceback in the chat
            log.exception("indexing uploads failed")
            refused.append("the new files are saved but indexing them failed; the details are in the server log")
        ix = pipeline.index
        items, n = [], 0
        for s in added:
            for art in ix.articles.values():
                if art.path.endswith(s.name):
                    where = provenance(art)
                    n += not s.duplicate
                    items.append(f"{art.title or art.doc_id}" + (f" ({where})" if where else "")
                                 + (" — already added before" if s.duplicate else ""))
        items += [f"refused: {r}" for r in refused]
        title = (f"Added {n} article{'s' if n != 1 else ''}; ask about {'them' if n != 1 else 'it'} now."
                 if n else "No new article added.")
        chat.append({"role": "assistant", "content": markup.notice_html(title, items)})
        return (chat, *corpus_updates(pipeline)) if new else (chat, keep, keep, keep)

    return add
