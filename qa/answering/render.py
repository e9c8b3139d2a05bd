"""Plain-text / Markdown rendering of an answer (the CLI's output and the chat's Markdown export),
and of `qa.stories` (the CLI's output)."""
from __future__ import annotations

from ..types import Answer


def provenance(item) -> str:
    """Outlet, publication date and author of a citation, hit or article: "Dawn · 2012-10-08"; a date
    the article's evidence does not give is said to be unknown, never guessed."""
    parts = [getattr(item, "outlet", None), getattr(item, "date", None) or "date unknown"]
    author = getattr(item, "author", None)
    parts.append(f"by {author}" if author else None)
    return " · ".join(p for p in parts if p)


def _inert(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _quote_block(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip().split("\n"))


def answer_markdown(answer: Answer) -> str:
    """The answer, then its numbered sources with doc id, offsets and the verbatim quote."""
    out = [f"**Q:** {_inert(answer.question)}"]            # what a user typed never renders as markup
    if answer.searched and answer.searched != answer.question:
        out.append(f"*(searched for: {_inert(answer.searched)})*")
    if answer.dates is not None:
        out.append(f"*dates: {_inert(answer.dates.note)}*")
    out += ["", answer.text, ""]
    if answer.citations:
        out.append("**Sources**")
        for i, c in enumerate(answer.citations, 1):
            where = provenance(c)
            out.append(f"[{i}] {c.title}{' (' + where + ')' if where else ''} — `{c.doc_id}` characters "
                       f"{c.start}–{c.end}")
            for loc in c.also_in:
                out.append(f"    also in `{loc.doc_id}` characters {loc.start}–{loc.end}")
            out.append(_quote_block(c.quote))
            if c.answer_text is not None:
                out.append(f"    the answer: “{_inert(' '.join(c.answer_text.split()))}” (characters "
                           f"{c.answer_start}–{c.answer_end})")
            out.append("")
    elif answer.passages:
        out.append("**Nearest passages** (they do not answer the question)")
        for i, h in enumerate(answer.passages, 1):
            where = provenance(h)
            out.append(f"- {h.title}{' (' + where + ')' if where else ''} — `{h.doc_id}` characters {h.start}–{h.end}")
            out.append(_quote_block(h.text))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def stories_text(result) -> str:
    """The stories as a person reads them: a header per story, then each article in date order with
    its cited sentence (doc id and character offsets)."""
    n = sum(len(s.articles) for s in result.stories)
    where = ", ".join(f"{k} {v if isinstance(v, str) else ', '.join(v)}" for k, v in (result.filter or {}).items())
    out = [f"{n} article{'s' * (n != 1)} in {len(result.stories)} stor{'y' if len(result.stories) == 1 else 'ies'} "
           f"about {result.query!r}" + (f" ({where})" if where else "")]
    if result.left_out:
        out.append(f"  ({result.left_out} weaker articles left out: narrow the query or the dates)")
    for s in result.stories:
        span = s.first if s.first == s.last else f"{s.first or '?'} to {s.last or '?'}"
        outlets = f", {', '.join(s.outlets)}" if s.outlets else ""
        out.append(f"\n{s.story_id}: {s.articles[0].title}  [{span or 'dates unknown'}{outlets}, "
                   f"{len(s.articles)} article{'s' * (len(s.articles) != 1)}]")
        for a in s.articles:
            c = a.citation
            dup = f", a scrape of {a.duplicate_of}" if a.duplicate_of else ""
            out.append(f"  {a.date or 'date unknown'}  {a.outlet or ''}  {a.title}  ({a.doc_id} {c.start}:{c.end}{dup})")
            out.append(f"      \u201c{' '.join(c.quote.split())}\u201d")
    return "\n".join(out) + "\n"
