"""HTML for the chat: answers with [n] markers and source cards under them.

Gradio's Chatbot inserts message strings into the page as HTML (after its own
sanitising), whatever `render_markdown` says. So every string that comes from a
user or an article goes through `html.escape` here, and the only markup in a
message is the markup this module writes around it. Nothing here parses or
trusts HTML; nothing here calls the model.
"""
from __future__ import annotations

import html
import json
import re
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from ..answering.render import answer_markdown, provenance
from ..types import Answer, Article, Citation, Hit

SHOW_QUESTION_CHARS = 400        # a longer question is shown cut, with its length
CONTEXT_CHARS = 260              # article text shown around a quote when no passage holds it
_MARKER = re.compile(r"\[(\d+)\]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")     # embeddings, overrides, isolates and their ends

CSS = """
.qa-reply { line-height: 1.55; }
.qa-reply p { margin: 0 0 .55em 0; }
.qa-searched { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .6em; }
.qa-searched q { font-style: italic; }
.qa-dates { font-size: .85em; color: var(--body-text-color-subdued); margin: -.4em 0 .6em 0; }
.qa-dates-on { color: #1d4ed8; font-weight: 600; }
.qa-ref { font-size: .78em; font-weight: 600; color: var(--color-accent); padding: 0 .1em; white-space: nowrap; }
.qa-notes { border-left: 3px solid #d97706; background: rgba(217, 119, 6, .08); padding: .45em .7em;
            margin: .6em 0; border-radius: 4px; }
.qa-abstain { border-left: 3px solid #64748b; background: rgba(100, 116, 139, .12); padding: .45em .7em;
              border-radius: 4px; font-weight: 600; }
.qa-sources-h { font-size: .75em; letter-spacing: .06em; text-transform: uppercase; font-weight: 600;
                color: var(--body-text-color-subdued); margin: .9em 0 .35em 0; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .55em .75em;
           margin: 0 0 .55em 0; background: var(--background-fill-secondary); }
.qa-card-title { font-weight: 600; margin-bottom: .3em; }
.qa-passage { white-space: pre-line; font-size: .93em; color: var(--body-text-color); }
.qa-passage mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 2px; }
.qa-passage mark .qa-answer, .qa-reply p .qa-answer { background: #f59e0b; color: #111827; font-weight: 700;
                                                      border-radius: 2px; padding: 0 .12em; }
.qa-source { font-size: .85em; font-weight: 600; margin-bottom: .25em; }
.qa-meta { font-size: .78em; color: var(--body-text-color-subdued); margin-top: .35em; }
.qa-meta code { font-size: 1em; }
.qa-check { font-size: .78em; color: #15803d; margin-top: .5em; }
.qa-check-bad { font-size: .85em; color: #b91c1c; margin-top: .5em; }
.qa-error { border-left: 3px solid #b91c1c; padding: .35em .7em; }
.qa-user { white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-corpus { font-size: .85em; line-height: 1.45; }
.qa-corpus li { margin-bottom: .3em; }
.qa-corpus .qa-meta { margin-top: 0; }
.qa-notice { border-left: 3px solid #2563eb; background: rgba(37, 99, 235, .08); padding: .45em .7em;
             border-radius: 4px; }
.qa-notice ul { margin: .3em 0 0 1.1em; padding: 0; }
"""


def esc(text: object) -> str:
    """Text made inert for the page: &, <, >, " and ' escaped; a lone surrogate (a browser's
    script can send one, no JSON encoder of Gradio's can send it back) shown as U+FFFD; a text
    with bidirectional controls (a right-to-left override reorders what follows it, up to the
    end of the paragraph) isolated in <bdi>, so that they act inside it only."""
    out = html.escape(_SURROGATE.sub("\ufffd", str(text)), quote=True)
    return f"<bdi>{out}</bdi>" if _BIDI.search(out) else out


def _markers(escaped: str, n: int) -> str:
    """Style the [k] markers (1 <= k <= n) of already-escaped text."""
    return _MARKER.sub(lambda m: f'<span class="qa-ref">[{m.group(1)}]</span>' if 1 <= int(m.group(1)) <= n
                       else m.group(), escaped)


def user_html(question: str) -> str:
    """The question as typed, escaped; a huge paste is shown cut, with its length."""
    shown = question if len(question) <= SHOW_QUESTION_CHARS else (
        question[:SHOW_QUESTION_CHARS] + f"… ({len(question):,} characters in all)")
    return f'<div class="qa-user">{esc(shown)}</div>'


def error_html(message: str, title: str = "This question cannot be searched.") -> str:
    return f'<div class="qa-error"><strong>{esc(title)}</strong> {esc(message[:1].upper() + message[1:])}</div>'


def for_display(text: str) -> str:
    """Text for display: blank lines between paragraphs shown as one line break."""
    return re.sub(r"\n\s*\n", "\n", text)


def context(c: Citation, passages: Iterable[Hit], article_text: Callable[[str], str | None] | None):
    """(before, quote, after): the quote inside the retrieved passage that holds it, else inside
    a window of the article text, else alone."""
    for h in passages:
        a, b = c.start - h.start, c.end - h.start
        if h.doc_id == c.doc_id and a >= 0 and c.end <= h.end and h.text[a:b] == c.quote:
            return h.text[:a], c.quote, h.text[b:]
    text = article_text(c.doc_id) if article_text else None
    if not text or text[c.start:c.end] != c.quote:
        return "", c.quote, ""
    lo = max(0, c.start - CONTEXT_CHARS)
    cut = max(text.rfind("\n", lo, c.start), text.rfind(". ", lo, c.start))
    lo = cut + 1 if cut >= 0 else lo
    hi = min(len(text), c.end + CONTEXT_CHARS)
    stops = [i for i in (text.find("\n", c.end, hi), text.find(". ", c.end, hi)) if i >= 0]
    hi = min(stops) + 1 if stops else hi
    before, after = text[lo:c.start].lstrip(), text[c.end:hi].rstrip()
    return ("…" if lo > 0 and text[lo - 1] != "\n" and before else "") + before, c.quote, after


def _span(doc_id: str, start: int, end: int) -> str:
    return f"<code>{esc(doc_id)}</code> · characters {start:,}–{end:,}"


def _provenance(item) -> str:
    where = provenance(item)
    return f'<div class="qa-source">{esc(where)}</div>' if where else ""


def _with_answer(c: Citation, shown_text: Callable[[str], str]) -> str:
    """The quote, escaped, with its answer span (when it has one) wrapped in a highlight; each part
    goes through `shown_text` (display spacing) before it is escaped."""
    a, b = c.answer_start, c.answer_end
    if a is None or b is None or not (c.start <= a < b <= c.end) or c.quote[a - c.start:b - c.start] != c.answer_text:
        return esc(shown_text(c.quote))
    pre, mid, post = c.quote[:a - c.start], c.quote[a - c.start:b - c.start], c.quote[b - c.start:]
    return (esc(shown_text(pre)) + f'<span class="qa-answer">{esc(shown_text(mid))}</span>'
            + esc(shown_text(post)))


def _one_line(text: str) -> str:
    """Runs of white space as one space, as `compose` writes quotes (edges kept as one space)."""
    return re.sub(r"\s+", " ", text)


def citation_card(n: int, c: Citation, passages, article_text) -> str:
    before, quote, after = context(c, passages, article_text)
    also = "".join(f'<div class="qa-meta">also in {_span(loc.doc_id, loc.start, loc.end)} '
                   f'(duplicate scrape of this article)</div>' for loc in c.also_in)
    return (f'<div class="qa-card"><div class="qa-card-title"><span class="qa-ref">[{n}]</span> '
            f'{esc(c.title or c.doc_id)}</div>'
            f'<div class="qa-passage">{esc(for_display(before))}<mark>{_with_answer(c, for_display)}</mark>'
            f'{esc(for_display(after))}</div>'
            f'{_provenance(c)}<div class="qa-meta">{_span(c.doc_id, c.start, c.end)}</div>{also}</div>')


def passage_card(h: Hit) -> str:
    why = " · ".join(f"{name} #{rank}" for name, rank in (("bm25", h.bm25_rank), ("dense", h.dense_rank)) if rank)
    return (f'<div class="qa-card"><div class="qa-card-title">{esc(h.title or h.doc_id)}</div>'
            f'{_provenance(h)}<div class="qa-passage">{esc(for_display(h.text))}</div>'
            f'<div class="qa-meta">{_span(h.doc_id, h.start, h.end)}{" · " + why if why else ""}</div></div>')


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w']+", " ", text.lower()).split())


def _searched_line(answer: Answer, k: int | None, scope: str | None) -> str:
    asked = answer.question                  # less the date phrase, when it became the filter
    if answer.dates is not None and answer.dates.applied:
        asked = asked.replace(answer.dates.phrase, " ")
    own = not answer.searched or _words(answer.searched) == _words(asked)
    label = "Searched for" if own else "Follow-up searched as"
    settings = f" · {esc(answer.mode)}" + (f" · {k} passages" if k else "") + (f" · {esc(scope)}" if scope else "")
    line = f'<div class="qa-searched">{label} <q>{esc(answer.searched or answer.question)}</q>{settings}</div>'
    return line + dates_html(answer)


def dates_html(answer: Answer) -> str:
    """The date phrase read from the question and what it did: the filter applied (the button
    under the question box removes it), or why all dates were searched."""
    d = answer.dates
    if d is None:
        return ""
    head = "Dates from your question:" if d.applied else "Date phrase not used as a filter:"
    return f'<div class="qa-dates{" qa-dates-on" if d.applied else ""}">{head} {esc(d.note)}</div>'


def scope_text(since: str | None, until: str | None, outlets) -> str | None:
    """The filter in words ("only articles from 2012-10-01 to 2012-10-31, by Dawn"), or None."""
    parts = []
    if since and until:
        parts.append(f"from {since} to {until}")
    elif since or until:
        parts.append(f"{'since' if since else 'until'} {since or until}")
    if outlets:
        parts.append("by " + ", ".join(outlets))
    return "only articles " + ", ".join(parts) if parts else None


def notice_html(title: str, items: Iterable[str] = ()) -> str:
    """A message from the chat itself (not an answer): a line and a list, all escaped."""
    rows = "".join(f"<li>{esc(x)}</li>" for x in items)
    return f'<div class="qa-notice"><strong>{esc(title)}</strong>{f"<ul>{rows}</ul>" if rows else ""}</div>'


def answer_html(answer: Answer, article_text: Callable[[str], str | None] | None = None,
                problems: list[str] | None = None, k: int | None = None, scope: str | None = None) -> str:
    """One chat reply: the question searched (and the filter, `scope`), the answer with [n]
    markers (one quote a line), the notes where sources disagree, then a card per source;
    for an abstention, the nearest passages. `problems` is what verification found ([]
    shows a check mark)."""
    n = len(answer.citations)
    body = answer.text
    for note in answer.notes:
        body = body.replace(note, "")
    parts = [_searched_line(answer, k, scope)]
    lines = [s for s in re.sub(r"(\[\d+\])[ \t]+", "\\1\n", body.strip()).split("\n") if s.strip()]
    if answer.abstained:
        parts.append('<div class="qa-abstain">' + "<br>".join(esc(s) for s in lines) + "</div>")
    else:
        quoted = {f"{' '.join(c.quote.split())} [{i}]": (i, c) for i, c in enumerate(answer.citations, 1)}
        for s in lines:
            i, c = quoted.get(s.strip(), (0, None))
            parts.append(f"<p>{_with_answer(c, _one_line).strip()} {_markers(f'[{i}]', n)}</p>" if c
                         else f"<p>{_markers(esc(s), n)}</p>")
    if answer.notes:
        parts.append('<div class="qa-notes">' + "<br>".join(f"⚠ {_markers(esc(x), n)}" for x in answer.notes)
                     + "</div>")
    if answer.citations:
        parts.append('<div class="qa-sources-h">Sources</div>')
        parts += [citation_card(i, c, answer.passages, article_text) for i, c in enumerate(answer.citations, 1)]
    elif answer.passages:
        parts.append('<div class="qa-sources-h">Nearest passages — they do not answer the question</div>')
        parts += [passage_card(h) for h in answer.passages]
    if problems is not None and answer.citations:
        if problems:
            parts.append(f'<div class="qa-check-bad">⚠ Citation check failed: {esc("; ".join(problems))}</div>')
        else:
            parts.append(f'<div class="qa-check">✓ {n} quote{"s" if n > 1 else ""} checked against the '
                         "article files: every citation holds</div>")
    return '<div class="qa-reply">' + "".join(parts) + "</div>"


def header_html(articles: Iterable[Article]) -> str:
    """The page's heading: how many articles the answers come from."""
    arts = list(articles)
    n = sum(1 for a in arts if not a.duplicate_of)
    folded = f" ({len(arts)} files; duplicate scrapes folded in)" if len(arts) > n else ""
    return (f"<h2 style='margin:.2em 0'>Ask the articles</h2><div class='qa-searched'>Answers are quotes "
            f"from {n} news article{'s' if n != 1 else ''}{folded}, each cited to its exact characters; nothing "
            "is generated. When the articles do not say, you are told so.</div>")


def corpus_html(articles: Iterable[Article]) -> str:
    """The articles the chat answers from, duplicates shown under their original."""
    arts = sorted(articles, key=lambda a: a.doc_id)
    items = []
    for a in arts:
        if a.duplicate_of:
            continue
        dups = [d.doc_id for d in arts if d.duplicate_of == a.doc_id]
        extra = f" · also scraped as <code>{', '.join(esc(d) for d in dups)}</code>" if dups else ""
        where = provenance(a)
        items.append(f'<li>{esc(a.title or a.doc_id)}<div class="qa-meta">{esc(where) + " · " if where else ""}'
                     f'<code>{esc(a.doc_id)}</code>{extra}</div></li>')
    return f'<div class="qa-corpus"><ul>{"".join(items)}</ul></div>'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].rstrip("-") or "answer"


def export_files(answer: Answer, folder: Path | str) -> tuple[str, str]:
    """The answer written as JSON (the schema `python -m qa check` verifies) and as Markdown,
    in a new sub-folder of `folder`; returns the two paths."""
    Path(folder).mkdir(parents=True, exist_ok=True)     # the temp sweeper removes it while it is empty
    out = Path(tempfile.mkdtemp(prefix="answer-", dir=folder))
    name = "qa-" + _slug(answer.question)
    js, md = out / f"{name}.json", out / f"{name}.md"
    js.write_text(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md.write_text(answer_markdown(answer), encoding="utf-8")
    return str(js), str(md)
