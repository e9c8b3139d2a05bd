"""Stories: every article a query is about, grouped by event and dated, each with its best sentence.

`stories(index, query, where)`:
1. `retrieval.exhaustive.match` scores every article (idf-weighted term coverage, best sentence
   cosine); an article is in when either reaches its floor (`settings.stories_coverage`,
   `stories_cosine`): no top-k cut. Duplicate scrapes come with their canonical article.
2. Articles are grouped in date order: each joins the story whose mean vector is closest when
   that is at least `stories_link` and the story has an article at most `stories_days` days away,
   else it opens a story (`group`). A duplicate scrape is always in its original's story.
3. Each article is cited by its one sentence that best matches the query (cosine plus the share
   of the query's words it holds), a verbatim slice like an answer's citation; `check` verifies them.

The floors and the grouping were chosen on the news dev set (`qa eval --stories`, docs/stories.md).
Left out: naming a story (its first article's title stands for it) and any summary.
"""
from __future__ import annotations

import datetime as dt
import weakref

import numpy as np

from ..retrieval.exhaustive import Matches, match
from ..retrieval.filters import Filter
from ..text import fold
from ..types import Citation, Stories, Story, StoryArticle
from .cite import _check

W_WORDS = 0.5                    # a sentence's share of the query's words, beside its cosine

_DUPS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def duplicates(index) -> dict[str, list[str]]:
    """Canonical doc_id -> its duplicate scrapes' ids (once per loaded index)."""
    held = _DUPS.get(index)
    if held is None:
        held = {}
        for a in index.articles.values():
            if a.duplicate_of:
                held.setdefault(a.duplicate_of, []).append(a.doc_id)
        _DUPS[index] = held
    return held


def relevant(m: Matches, coverage: float, cosine: float) -> np.ndarray:
    """Positions (in the layout) of the admitted articles above either floor, best first."""
    keep = m.admitted & ((m.coverage >= coverage) | (m.cosine >= cosine))
    pos = np.flatnonzero(keep)
    return pos[np.argsort(-(m.coverage[pos] + m.cosine[pos]), kind="stable")]


def _day(date: str | None) -> int | None:
    try:
        return dt.date.fromisoformat(date).toordinal() if date else None
    except ValueError:
        return None


def group(vectors: np.ndarray, dates: list[str | None], link: float, days: int) -> list[list[int]]:
    """Stories as lists of positions into `vectors`/`dates`, each in date order (undated last).

    Greedy in date order: an article joins the story whose normalised vector sum is closest, when
    that cosine is >= link and one of the story's articles is within `days` (an undated article,
    or a story with no dated article, is joined on the cosine alone); else it starts a story."""
    order = sorted(range(len(dates)), key=lambda i: (dates[i] is None, dates[i] or "", i))
    ords = [_day(d) for d in dates]
    members: list[list[int]] = []
    sums = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    for i in order:
        best = -1
        if members:
            cos = (sums @ vectors[i]) / np.maximum(np.linalg.norm(sums, axis=1), 1e-9)
            for j in np.argsort(-cos):
                if cos[j] < link:
                    break
                near = [ords[x] for x in members[j] if ords[x] is not None]
                if ords[i] is None or not near or min(abs(ords[i] - o) for o in near) <= days:
                    best = int(j)
                    break
        if best < 0:
            members.append([i])
            sums = np.vstack([sums, vectors[i][None, :]])
        else:
            members[best].append(i)
            sums[best] += vectors[i]
    return members


def best_sentence(index, m: Matches, pos: int) -> tuple[int, int]:
    """(start, end) of the article's sentence with the best cosine + W_WORDS x share of query words."""
    lay = m.layout
    lo, hi = int(lay.starts[pos]), int(lay.ends[pos])
    best, best_score = lo, -1e9
    weights = [1.0 / len(m.slots)] * len(m.slots) if m.slots else []
    text = index.articles[lay.doc_ids[pos]].text
    for row in range(lo, hi):
        _, s, e = index.sentence_spans[row]
        score = float(m.sims[row])
        if weights:
            folded = fold(text[s:e])
            score += W_WORDS * sum(w for w, spellings in zip(weights, m.slots) if any(x in folded for x in spellings))
        if score > best_score:
            best, best_score = row, score
    _, s, e = index.sentence_spans[best]
    return s, e


def _citation(index, doc_id: str, s: int, e: int, has_dups: bool) -> Citation:
    a = index.articles[doc_id]
    also = index.aligner(doc_id).locate(s, e) if has_dups else ()     # aligning costs: only when needed
    return Citation(doc_id=doc_id, title=a.title, start=s, end=e, quote=a.text[s:e], also_in=also,
                    date=a.date, outlet=a.outlet, author=a.author)


def _dup_citation(index, canon: Citation, dup_id: str) -> Citation:
    """The canonical sentence where it stands in the duplicate scrape; else the scrape's first paragraph."""
    dup = index.articles[dup_id]
    loc = next((x for x in canon.also_in if x.doc_id == dup_id), None)
    s, e = (loc.start, loc.end) if loc else dup.body[0] if dup.body else (0, len(dup.text))
    return Citation(doc_id=dup_id, title=dup.title, start=s, end=e, quote=dup.text[s:e], date=dup.date,
                    outlet=dup.outlet, author=dup.author)


def stories(index, query: str, where: Filter | None = None, coverage: float | None = None,
            cosine: float | None = None, link: float | None = None, days: int | None = None,
            matches: Matches | None = None) -> Stories:
    """Every article about `query` (above the floors), grouped into stories, best story first.
    Floors and grouping default to the index's settings; `matches` reuses a `match` (the eval)."""
    st = index.settings
    m = matches if matches is not None else match(index, query, where)
    pos = relevant(m, st.stories_coverage if coverage is None else coverage,
                   st.stories_cosine if cosine is None else cosine)
    lay, dups = m.layout, duplicates(index)
    limit = st.stories_max_articles
    counted = sum(1 + sum(1 for d in dups.get(lay.doc_ids[p], ()) if _admits(index, where, d)) for p in pos)
    left_out = max(0, len(pos) - limit)
    pos = pos[:limit]
    doc_ids = [lay.doc_ids[p] for p in pos]
    members = group(lay.centroids[pos], [index.articles[d].date for d in doc_ids],
                    st.stories_link if link is None else link, st.stories_days if days is None else days)
    by_doc = {d: _citation(index, d, *best_sentence(index, m, p), bool(dups.get(d))) for d, p in zip(doc_ids, pos)}
    scores = {d: float(m.coverage[p] + m.cosine[p]) for d, p in zip(doc_ids, pos)}
    out = []
    for group_ in members:
        arts = []
        for i in group_:
            d = doc_ids[i]
            a = index.articles[d]
            arts.append(StoryArticle(d, a.title, a.date, a.outlet, round(scores[d], 4), by_doc[d]))
            for dup_id in dups.get(d, ()):
                if _admits(index, where, dup_id):
                    dup = index.articles[dup_id]
                    arts.append(StoryArticle(dup_id, dup.title, dup.date, dup.outlet, round(scores[d], 4),
                                             _dup_citation(index, by_doc[d], dup_id), duplicate_of=d))
        arts.sort(key=lambda x: (x.date is None, x.date or "", x.duplicate_of is not None, x.doc_id))
        dates = [x.date for x in arts if x.date]
        outlets = tuple(dict.fromkeys(x.outlet for x in arts if x.outlet))
        out.append((max(x.score for x in arts), arts, dates, outlets))
    out.sort(key=lambda t: (-t[0], t[2][0] if t[2] else "9999"))
    result = tuple(Story(f"s{n}", min(dates) if dates else None, max(dates) if dates else None, outlets,
                         tuple(arts), round(score, 4))
                   for n, (score, arts, dates, outlets) in enumerate(out, 1))
    flt = None if where is None else {k: v for k, v in (("since", where.since), ("until", where.until),
                                                        ("outlets", where.outlets)) if v}
    return Stories(query, result, counted, left_out, flt or None)


def _admits(index, where: Filter | None, doc_id: str) -> bool:
    a = index.articles[doc_id]
    return where is None or where.admits(a.date, a.outlet, doc_id)


def check(result: Stories, seeds_dir, index=None) -> list[str]:
    """Problems with the stories' citations (each quote verbatim at its offsets, in the article's
    body, the file unchanged since indexing); [] when every one holds."""
    problems, seen = [], {}
    for story in result.stories:
        for a in story.articles:
            c = a.citation
            problems += _check(f"{story.story_id} {a.doc_id}:", c.doc_id, c.start, c.end, c.quote,
                               seeds_dir, index, seen)
    return problems
