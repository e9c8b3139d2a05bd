"""The app's API endpoints, which are also its MCP tools: `ask`, `retrieve` and `verify`.

Gradio serves each function registered here at `/gradio_api/call/<name>` (gradio_client,
"Use via API") and, when launched with `mcp_server=True`, as an MCP tool of the same name at
`/gradio_api/mcp/` (streamable HTTP); the docstrings are what a model reads. Each returns JSON
text (`json.loads` it), because Gradio's MCP server sends any other value as its Python repr. The chat's own
events are private, so these three are the only tools. Every tool reads the index it was
given and nothing else: none takes a path, none writes. Outputs are bounded (k at most
MAX_K, a verify report at most MAX_PROBLEMS lines), and a bad argument is the library's own
error message, raised as a gr.Error so the client sees it.
"""
from __future__ import annotations

import json

import gradio as gr

from ..pipeline import Pipeline
from ..types import Answer

MODES = ["hybrid", "bm25", "dense"]
DEFAULT_K, MAX_K = 8, 20
MAX_ANSWER_CHARS = 4_000_000        # what `qa check` reads at most; an answer is ~10 KB
MAX_PROBLEMS = 50


def _json(data) -> str:
    """JSON text: what an MCP client reads (Gradio would send a dict as Python's repr)."""
    return json.dumps(data, ensure_ascii=False)


def _bad(e: Exception, title: str) -> gr.Error:
    return gr.Error(str(e), title=title, print_exception=False)


def _whole(k) -> bool:
    """True for a whole number of passages from 1 to MAX_K (8 and 8.0; not 2.5, True, inf or "8")."""
    try:
        return not isinstance(k, (bool, str)) and float(k).is_integer() and 1 <= k <= MAX_K
    except (TypeError, ValueError, OverflowError):
        return False


def register(pipeline: Pipeline, answer_for, concurrency_id: str) -> None:
    """Register the three endpoints inside an open gr.Blocks; `answer_for` is the chat's own
    answering function (follow-ups and checks included), so a tool answers as the chat does."""

    def ask(question: str, mode: str = "hybrid", k: int = DEFAULT_K, earlier: list[str] | None = None,
            since: str = "", until: str = "", outlets: list[str] | None = None) -> str:
        """Answer a question from the indexed news articles with verbatim, cited quotes; nothing is generated.

        Every sentence of the answer is a quote; each citation gives the article (doc_id, title) and
        the exact character offsets [start, end) of the quote in the article file, so it can be
        checked with the verify tool. When the articles do not answer, abstained is true and the text
        says "Not in these articles". Where articles disagree (dates, figures), the answer cites each side.

        Args:
            question: the question in plain English, at most 1,000 characters; a date phrase in it ("in October 2012", "last week") keeps to the articles published then, when there are any (the answer's dates field says what was done)
            mode: retrieval mode: "hybrid" (default, best), "bm25" (words) or "dense" (meaning)
            k: number of passages to read the answer from, 1 to 20 (default 8)
            earlier: earlier questions of the conversation, oldest first, to resolve a follow-up such as "when did he arrive?"; omit for a standalone question
            since: only articles published on or after this date, YYYY-MM-DD; "" for no limit
            until: only articles published on or before this date, YYYY-MM-DD; "" for no limit
            outlets: only articles by these outlets (case-insensitive names); omit for every outlet
        Returns:
            the answer as JSON text: text with [n] markers, citations (doc_id, title, start, end, quote, also_in, date, outlet), abstained, searched, notes, passages, mode, dates (the date phrase read and the filter it gave, or null), schema
        """
        try:
            pipeline.follow()
            return _json(answer_for(pipeline, question, mode, k, earlier or (), since, until, outlets).to_dict())
        except ValueError as e:
            raise _bad(e, "Bad question") from None

    def retrieve(question: str, k: int = 5, mode: str = "hybrid", since: str = "", until: str = "",
                 outlets: list[str] | None = None) -> str:
        """The passages of the indexed news articles that best match a question, best first, each with its exact offsets.

        Use it to see the evidence itself; use ask for an answer. Each passage gives doc_id, title,
        start and end (character offsets into the article file, half-open), text (verbatim), score,
        why it was found (bm25_rank, bm25_score, dense_rank, dense_score), also_in (the same
        passage in a duplicate scrape), date and outlet.

        Args:
            question: the question or search words, at most 1,000 characters
            k: number of passages, 1 to 20 (default 5)
            mode: "hybrid" (default), "bm25" (words) or "dense" (meaning)
            since: only articles published on or after this date, YYYY-MM-DD; "" for no limit
            until: only articles published on or before this date, YYYY-MM-DD; "" for no limit
            outlets: only articles by these outlets (case-insensitive names); omit for every outlet
        Returns:
            a JSON list of passages (at most k), best first
        """
        try:
            if not _whole(k):
                raise ValueError(f"the number of passages must be a whole number from 1 to {MAX_K}, not {k!r}")
            if mode not in MODES:
                raise ValueError(f"unknown retrieval mode {mode!r}: use one of {', '.join(MODES)}")
            pipeline.follow()
            hits = pipeline.retrieve(question, int(k), mode, since or None, until or None, outlets or None)
            return _json([h.to_dict() for h in hits])
        except ValueError as e:
            raise _bad(e, "Bad question") from None

    def verify(answer: dict) -> str:
        """Check an answer's citations against the indexed articles: does each quote stand at its offsets?

        Give it an answer as the ask tool returned it (or one saved by `qa ask --json`); at least
        its citations, each with doc_id, start, end and quote. A citation holds when the article's
        text from start to end is exactly the quote. Reads only the indexed articles; writes nothing.

        Args:
            answer: the answer JSON object (text, citations, ...), as returned by ask
        Returns:
            JSON {"ok": true when every citation holds, "citations": how many were checked, "problems": one line per citation that does not hold (at most 50)}
        """
        try:
            if isinstance(answer, str):
                if len(answer) > MAX_ANSWER_CHARS:
                    raise ValueError(f"too large for a qa answer (over {MAX_ANSWER_CHARS:,} characters)")
                answer = json.loads(answer)
            if not isinstance(answer, dict):
                raise ValueError("the answer must be a JSON object with citations, as the ask tool returns it")
            parsed = Answer.from_dict(answer)
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise _bad(ValueError(f"not a qa answer: {e}"), "Bad answer") from None
        problems = pipeline.verify(parsed)
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])
        return _json({"ok": not problems, "citations": len(parsed.citations), "problems": shown})

    for fn in (ask, retrieve, verify):
        gr.api(fn, api_name=fn.__name__, concurrency_id=concurrency_id, concurrency_limit=1)
