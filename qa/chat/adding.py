"""Adding articles from the chat: the upload event, and the parts of the page that follow the corpus.

Each uploaded file is checked by its content and stored under a generated name in the uploads
folder (`qa.ingest.uploads`), and Gradio's copy of it is removed at once (`tempfiles.discard`).
Then the index is updated in the background (`Pipeline.update_in_background`): questions are
answered meanwhile from the articles already in, and go first. The chat says at once what is
being added and what was refused; the line under "Add articles…" follows the update and says
when the new articles are in, and then the heading, the article list and the outlet picker
are refreshed. Nothing here raises into the page: a refused file is a line in the notice, a
failure is logged.
"""
from __future__ import annotations

import logging
import os
import time

import gradio as gr

from ..answering.render import provenance
from ..ingest.uploads import UploadRefused
from ..ingest.uploads import store as store_upload
from ..pipeline import Pipeline
from . import markup
from .tempfiles import discard

log = logging.getLogger("qa.app")
POLL_S = 1.0                   # how often the line under "Add articles…" follows a running update


def outlet_choices(articles) -> list[str]:
    return sorted({a.outlet for a in articles.values() if a.outlet and not a.duplicate_of}, key=str.lower)


def corpus_updates(pipeline: Pipeline) -> tuple:
    """New values for the heading, the article list and the outlet picker, after the articles changed."""
    articles = pipeline.index.articles
    return (markup.header_html(articles.values()), markup.corpus_html(articles.values()),
            gr.Dropdown(choices=outlet_choices(articles)))


def take(files, pipeline: Pipeline) -> tuple[list, list[str]]:
    """Check and store each uploaded file (`qa.ingest.uploads`), removing Gradio's copy of each
    whatever the outcome; (the stored files, the refusals)."""
    settings = pipeline.settings
    added, refused = [], []
    for f in files:
        path = getattr(f, "name", f)              # gradio gives a path in its own upload folder
        client = os.path.basename(str(getattr(f, "orig_name", None) or path))
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
        finally:
            discard(path)
    return added, refused


def _in_index(pipeline: Pipeline, stored) -> list[str]:
    """The stored uploads as the index has them: title (outlet · date · author)."""
    items = []
    for s in stored:
        for art in pipeline.index.articles.values():
            if art.path.endswith(s.name):
                where = provenance(art)
                items.append(f"{art.title or art.doc_id}" + (f" ({where})" if where else ""))
    return items


def adder(pipeline: Pipeline):
    """The upload: (files, chat) -> (chat, progress line, heading, article list, outlet picker),
    a generator: the chat's notice at once, then the progress line until the new articles are in."""
    settings = pipeline.settings

    def add(files, chat):
        chat = list(chat or [])
        keep = gr.update()
        files = [f for f in (files or []) if f]
        if not files:
            yield chat, keep, keep, keep, keep
            return
        if len(files) > settings.max_upload_batch:
            for f in files:
                discard(getattr(f, "name", f))
            chat.append({"role": "assistant", "content": markup.notice_html(
                f"Nothing added: at most {settings.max_upload_batch} files at a time, not {len(files)}.")})
            yield chat, keep, keep, keep, keep
            return
        added, refused = take(files, pipeline)
        new = [s for s in added if not s.duplicate]
        items = [t for s in new for t in s.titles[:5]] + [n for s in added for n in s.notes[:5]]
        items += [f"{t} — already added before" for s in added if s.duplicate for t in s.titles[:5]]
        items += [f"refused: {r}" for r in refused]
        if not new:
            chat.append({"role": "assistant", "content": markup.notice_html("No new article added.", items)})
            yield chat, "", keep, keep, keep
            return
        job = pipeline.update_in_background()
        n = sum(len(s.titles) for s in new)
        what = f"{n} new article{'s' if n != 1 else ''}"
        chat.append({"role": "assistant", "content": markup.notice_html(
            f"Adding {what}: indexing in the background. Keep asking meanwhile: answers come from the "
            "articles already in until the line under “Add articles…” says the new ones are in.", items)})
        yield chat, markup.notice_html(f"Indexing {what}…"), keep, keep, keep
        while not job.done.wait(POLL_S):
            yield keep, markup.notice_html(f"Indexing {what}… {time.monotonic() - job.started:.0f} s"), \
                keep, keep, keep
        if job.error:
            log.warning("uploads saved but not indexed: %s", job.error)
            yield keep, markup.notice_html("The new files are saved but indexing them failed; the details are "
                                           "in the server log."), keep, keep, keep
            return
        items = _in_index(pipeline, new)
        title = f"Added {len(items)} article{'s' if len(items) != 1 else ''} in {job.seconds:.0f} s; ask about " \
                f"{'them' if len(items) != 1 else 'it'} now."
        shown = items[:10] + ([f"… and {len(items) - 10:,} more"] if len(items) > 10 else [])
        yield keep, markup.notice_html(title, shown), *corpus_updates(pipeline)

    return add
