"""The chat's Stories tab: a query's articles on a time axis by outlet, its stories, and "ask about
this story", which narrows the chat to that story's articles until the user clears it.

`tab` builds the tab's components (inside an open gr.Tab), `narrow_bar` the line above the chat
that shows the narrowing, `wire` their events. Every article string is escaped here (`markup.esc`).
"""
from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr
import pandas as pd

from ..errors import BackendError, BadFilterError, BadQuestionError
from .markup import error_html, esc

log = logging.getLogger("qa.app")
NO_OUTLET = "outlet unknown"
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563", "#65a30d", "#9333ea")
LABEL_CHARS = 48


def _label(story: dict) -> str:
    title = " ".join(story["articles"][0]["title"].split()) or story["articles"][0]["doc_id"]
    title = title if len(title) <= LABEL_CHARS else title[:LABEL_CHARS - 1] + "…"
    return f"{story['story_id']} · {title}"


def _span(story: dict) -> str:
    first, last = story["first"], story["last"]
    return "dates unknown" if not first else first if first == last else f"{first} to {last}"


def frame(result: dict | None) -> pd.DataFrame:
    """One row per dated article: date, story label, outlet, title (what the plot shows)."""
    rows = [{"date": pd.Timestamp(a["date"]), "story": _label(s), "outlet": a["outlet"] or NO_OUTLET,
             "title": a["title"], "doc_id": a["doc_id"]}
            for s in (result or {}).get("stories", ()) for a in s["articles"] if a["date"]]
    return pd.DataFrame(rows, columns=["date", "story", "outlet", "title", "doc_id"])


def points(result: dict | None) -> pd.DataFrame | None:
    """The plot's value: None when no article has a date (a plot first given an empty frame draws
    later points without their colour, gradio 6.31)."""
    df = frame(result)
    return df if len(df) else None


def colours(outlets) -> dict[str, str]:
    """A colour per outlet (and one for an unknown outlet), in a fixed order."""
    names = sorted({o for o in outlets if o}) + [NO_OUTLET]
    return {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(names)}


def summary_html(result: dict) -> str:
    stories = result["stories"]
    n = sum(len(s["articles"]) for s in stories)
    if not stories:
        return f'<p class="qa-stories-none">No article is about {esc(result["query"])!s}.</p>'
    undated = sum(1 for s in stories for a in s["articles"] if not a["date"])
    more = f" {undated} without a known date are listed below but not on the time axis." if undated else ""
    cut = f" The {result['left_out']} weakest matches are left out." if result["left_out"] else ""
    return (f'<p class="qa-stories-summary">{n} article{"s" * (n != 1)} in {len(stories)} '
            f'stor{"y" if len(stories) == 1 else "ies"} about <q>{esc(result["query"])}</q>.{esc(more)}{esc(cut)}</p>')


def story_html(story: dict) -> str:
    """A story's articles in date order, each with its cited sentence and where it stands."""
    outlets = ", ".join(story["outlets"]) or NO_OUTLET
    rows = []
    for a in story["articles"]:
        c = a["citation"]
        dup = f" · a scrape of {a['duplicate_of']}" if a["duplicate_of"] else ""
        rows.append(f'<li class="qa-story-article"><div class="qa-story-meta">{esc(a["date"] or "date unknown")} · '
                    f'{esc(a["outlet"] or NO_OUTLET)} · <strong>{esc(a["title"])}</strong></div>'
                    f'<blockquote>{esc(" ".join(c["quote"].split()))}</blockquote>'
                    f'<div class="qa-story-where"><code>{esc(a["doc_id"])}</code> characters '
                    f'{c["start"]}–{c["end"]}{esc(dup)}</div></li>')
    return (f'<div class="qa-story"><h3>{esc(_label(story))}</h3><p>{esc(_span(story))} · {esc(outlets)} · '
            f'{len(story["articles"])} article{"s" * (len(story["articles"]) != 1)}</p>'
            f'<ol>{"".join(rows)}</ol></div>')


def narrowed_html(narrow: dict) -> str:
    return (f'<div class="qa-notice" id="qa-narrowed-text"><strong>Asking only about {esc(narrow["label"])}</strong>'
            f' ({len(narrow["doc_ids"])} article{"s" * (len(narrow["doc_ids"]) != 1)}). '
            'Answers cite these articles only.</div>')


def narrow_bar(ui: SimpleNamespace) -> None:
    """The line above the chat that says it is narrowed to a story, with a button to clear it."""
    ui.narrow = gr.State(None)
    with gr.Row(visible=False, elem_id="qa-narrowed") as ui.narrow_row:
        ui.narrow_text = gr.HTML("")
        ui.unnarrow = gr.Button("Ask all articles again", size="sm", scale=0, min_width=180, elem_id="qa-unnarrow")


def tab(ui: SimpleNamespace, outlets) -> None:
    """The Stories tab's components (inside an open gr.Tab); `outlets` get a colour each."""
    ui.st_result = gr.State(None)
    with gr.Row():
        ui.st_query = gr.Textbox(show_label=False, placeholder="A story: a name, a company, an event…", scale=6,
                                 max_lines=1, elem_id="qa-stories-query")
        ui.st_find = gr.Button("Find stories", variant="primary", scale=1, min_width=120, elem_id="qa-stories-find")
    ui.st_summary = gr.HTML("", elem_id="qa-stories-summary")
    ui.st_plot = gr.ScatterPlot(None, x="date", y="story", color="outlet", tooltip=["title", "outlet", "date"],
                                x_title="published", y_title="story", color_title="outlet", height=320, color_map=colours(outlets),
                                label="The articles by date, coloured by outlet", elem_id="qa-stories-plot")
    ui.st_list = gr.Radio(choices=[], label="Stories (best match first): choose one", elem_id="qa-stories-list")
    ui.st_detail = gr.HTML("", elem_id="qa-story-detail")
    ui.st_ask = gr.Button("Ask about this story", interactive=False, elem_id="qa-story-ask")


def wire(ui: SimpleNamespace, pipeline, model: str) -> None:
    """Find (runs the model: the shared concurrency id), choose, ask about a story, clear the narrowing."""
    def find(query):
        try:
            result = pipeline.stories(query if isinstance(query, str) else "").to_dict()
        except (BadQuestionError, BadFilterError, BackendError) as e:
            return None, error_html(str(e), "These stories cannot be searched."), points(None), \
                gr.Radio(choices=[], value=None), "", gr.Button(interactive=False)
        except Exception:                       # a bug: log it, never show a traceback
            log.exception("stories for %r failed", str(query)[:200])
            return None, error_html("something went wrong; the details are in the server log"), points(None), \
                gr.Radio(choices=[], value=None), "", gr.Button(interactive=False)
        choices = [(f"{_label(s)} ({_span(s)}, {len(s['articles'])})", s["story_id"]) for s in result["stories"]]
        return result, summary_html(result), points(result), gr.Radio(choices=choices, value=None), "", \
            gr.Button(interactive=False)

    def choose(story_id, result):
        story = _story(result, story_id)
        if story is None:
            return "", gr.Button(interactive=False)
        return story_html(story), gr.Button(interactive=True)

    def ask_about(story_id, result):
        story = _story(result, story_id)
        if story is None:
            return None, gr.Row(visible=False), "", gr.Tabs()
        narrow = {"doc_ids": [a["doc_id"] for a in story["articles"]], "label": _label(story)}
        return narrow, gr.Row(visible=True), narrowed_html(narrow), gr.Tabs(selected="chat")

    def clear():
        return None, gr.Row(visible=False), ""

    quiet = dict(api_visibility="private")
    outs = [ui.st_result, ui.st_summary, ui.st_plot, ui.st_list, ui.st_detail, ui.st_ask]
    ui.st_find.click(find, [ui.st_query], outs, concurrency_id=model, concurrency_limit=1, **quiet)
    ui.st_query.submit(find, [ui.st_query], outs, concurrency_id=model, concurrency_limit=1, **quiet)
    ui.st_list.change(choose, [ui.st_list, ui.st_result], [ui.st_detail, ui.st_ask], queue=False, **quiet)
    ui.st_ask.click(ask_about, [ui.st_list, ui.st_result], [ui.narrow, ui.narrow_row, ui.narrow_text, ui.tabs],
                    queue=False, **quiet)
    ui.unnarrow.click(clear, None, [ui.narrow, ui.narrow_row, ui.narrow_text], queue=False, **quiet)


def _story(result: dict | None, story_id) -> dict | None:
    return next((s for s in (result or {}).get("stories", ()) if s["story_id"] == story_id), None)
