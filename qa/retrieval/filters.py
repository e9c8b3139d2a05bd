"""Metadata filters for retrieval: publication date range, outlets and articles.

A filter becomes a mask over the chunks, applied inside each retriever (BM25
scores of excluded chunks are dropped before the top k; faiss searches only the
admitted ids), so a filtered search still returns k passages when the corpus
has them. An article whose date is unknown is not admitted by a date range, nor
one whose outlet is unknown by an outlet list: a filter promises what it shows.
Outlets match case-insensitively. A date phrase in the question becomes the date filter
(`read_dates`, with the grammar in `when.py`). A list of article ids (`doc_ids`, the chat's
"ask about this story") admits only those articles.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..errors import BadFilterError
from ..text import tokenize
from ..types import DateScope
from .when import date_phrases, describe, mentions_dates


@dataclass(frozen=True)
class Filter:
    since: str | None = None             # YYYY-MM-DD, inclusive
    until: str | None = None             # YYYY-MM-DD, inclusive
    outlets: tuple[str, ...] | None = None   # lower-cased
    doc_ids: tuple[str, ...] | None = None   # sorted; only these articles

    def admits(self, date: str | None, outlet: str | None, doc_id: str | None = None) -> bool:
        if (self.since or self.until) and not date:
            return False
        if self.since and date < self.since or self.until and date > self.until:
            return False
        if self.doc_ids is not None and doc_id not in self.doc_ids:
            return False
        return not self.outlets or (outlet or "").lower() in self.outlets


def as_day(value, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise BadFilterError(f"{name} must be a date such as 2012-10-01 (YYYY-MM-DD), not {value!r}")


def make_filter(since=None, until=None, outlets=None, doc_ids=None) -> Filter | None:
    """A Filter from user input, or None when nothing filters; BadFilterError (a ValueError)
    saying what to fix. `doc_ids` (article ids) admits only those articles; an empty list admits none."""
    s, u = as_day(since, "since"), as_day(until, "until")
    if s and u and s > u:
        raise BadFilterError(f"since ({s}) is after until ({u}): swap them")
    if isinstance(outlets, str):
        outlets = [outlets]
    names = None
    if outlets is not None:
        if not all(isinstance(o, str) for o in outlets):
            raise BadFilterError("outlets must be a list of outlet names")
        names = tuple(sorted({o.strip().lower() for o in outlets if o.strip()})) or None
    ids = None
    if doc_ids is not None:
        if isinstance(doc_ids, str) or not all(isinstance(d, str) for d in doc_ids):
            raise BadFilterError("doc_ids must be a list of article ids such as ['000_dawn']")
        ids = tuple(sorted(set(doc_ids)))
    if not (s or u or names or ids is not None):
        return None
    return Filter(s, u, names, ids)


def chunk_mask(index, flt: Filter | None) -> np.ndarray | None:
    """True for the chunks whose article the filter admits; None when there is no filter."""
    if flt is None:
        return None
    held = index.masks                 # search counts the admitted chunks, then the retrievers use the mask
    if flt not in held:
        docs = index.chunks.sentences.doc_ids
        ok = np.fromiter((flt.admits(index.articles[d].date, index.articles[d].outlet, d) for d in docs),
                         dtype=bool, count=len(docs))
        if len(held) >= 8:
            held.clear()
        held[flt] = ok[index.chunks.doc_index]
    return held[flt]


# A date phrase becomes the filter only when it leaves out at least 5% of the passages searched. On the
# news dev set (3,000 Reuters stories of 1987, one of December 1986), "in 1987" and "this year" leave out
# 5 passages of 16,501: as a filter they do nothing but take the phrase out of the words, which turned
# a declined unanswerable question ("... the Starbucks coffee chain in 1987?") into a wrong answer.
NARROWS_BELOW = 0.95


def newest_date(index) -> str | None:
    """The latest publication date of the index's articles (worked out once per loaded index)."""
    return index.newest_date


def read_dates(index, question: str, where: Filter | None, today: str | None = None):
    """(the words to search, the filter, a DateScope or None): the date phrase of `question`
    (`when.date_phrases`, relative phrases read against `today`, else the newest article's date)
    becomes the date filter, and leaves the words searched, when some article of the index was
    published in its range and the caller gave no date filter of their own. Else the phrase more
    likely names the event ("profits in 1986", "what happened in 1066?"): all dates are searched,
    the phrase stays among the words, and the DateScope says so; so too when the range leaves
    (nearly) no article out ("in 1987" in an archive of 1987: NARROWS_BELOW). No phrase:
    (question, where, None)."""
    if not mentions_dates(question):               # most questions: no look at the articles' dates
        return question, where, None
    anchor = today or newest_date(index) or dt.date.today().isoformat()
    r = date_phrases(question, anchor)
    if r is None:
        return question, where, None
    said = f"“{r.phrase}”"
    if where is not None and (where.since or where.until):
        given = describe(where.since, where.until)
        return question, where, DateScope(r.phrase, r.since, r.until, False,
                                          f"the date filter given applies (articles {given}); {said} was searched as words")
    flt = Filter(r.since, r.until, where.outlets if where else None, where.doc_ids if where else None)
    admitted, base = chunk_mask(index, flt), chunk_mask(index, where)
    n, of = int(admitted.sum()), len(index.chunks) if base is None else int(base.sum())
    if n == 0:
        return question, where, DateScope(r.phrase, r.since, r.until, False,
                                          f"no articles published {describe(r.since, r.until)} ({said}); searched all dates")
    if n >= NARROWS_BELOW * of:  # "in 1987" in an archive of 1987: a filter that leaves (nearly) nothing out
        return question, where, DateScope(r.phrase, r.since, r.until, False,    # names the event
                                          f"{'every' if n == of else 'nearly every'} article was published "
                                          f"{describe(r.since, r.until)} ({said}); searched as words")
    words = r.without(question)
    return (words if tokenize(words) else question), flt, DateScope(r.phrase, r.since, r.until, True,
                                                                    f"{r.description} (read from {said})")
