"""Plain-text / Markdown rendering of an answer (the CLI's output and the chat's Markdown export)."""
from __future__ import annotations

from ..types import Answer


def _quote_block(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip().split("\n"))


def answer_markdown(answer: Answer) -> str:
    """The answer, then its numbered sources with doc id, offsets and the verbatim quote."""
    out = [f"**Q:** {answer.question}"]
    if answer.searched and answer.searched != answer.question:
        out.append(f"*(searched for: {answer.searched})*")
    out += ["", answer.text, ""]
    if answer.citations:
        out.append("**Sources**")
        for i, c in enumerate(answer.citations, 1):
            out.append(f"[{i}] {c.title} — `{c.doc_id}` characters {c.start}–{c.end}")
            for loc in c.also_in:
                out.append(f"    also in `{loc.doc_id}` characters {loc.start}–{loc.end}")
            out.append(_quote_block(c.quote))
            out.append("")
    elif answer.passages:
        out.append("**Nearest passages** (they do not answer the question)")
        for i, h in enumerate(answer.passages, 1):
            out.append(f"- {h.title} — `{h.doc_id}` characters {h.start}–{h.end}")
            out.append(_quote_block(h.text))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
