"""Metadata filters for retrieval: publication date range and outlets.

A filter becomes a mask over the chunks, applied inside each retriever (BM25
scores of excluded chunks are dropped before the top k; faiss searches only the
admitted ids), so a filtered search still returns k passages when the corpus
has them. An article whose date is unknown is not admitted by a date range, nor
one whose outlet is unknown by an outlet list: a filter promises what it shows.
Outlets match case-insensitively.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..errors import BadFilterError


@dataclass(frozen=True)
class Filter:
    since: str | None = None             # YYYY-MM-DD, inclusive
    until: str | None = None             # YYYY-MM-DD, inclusive
    outlets: tuple[str, ...] | None = None   # lower-cased

    def admits(self, date: str | None, outlet: str | None) -> bool:
        if (self.since or self.until) and not date:
            return False
        if self.since and date < self.since or self.until and date > self.until:
            return False
        return not self.outlets or (outlet or "").lower() in self.outlets


def _day(value, name: str) -> str | None:
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


def make_filter(since=None, until=None, outlets=None) -> Filter | None:
    """A Filter from user input, or None when nothing filters; BadFilterError (a ValueError)
    saying what to fix."""
    s, u = _day(since, "since"), _day(until, "until")
    if s and u and s > u:
        raise BadFilterError(f"since ({s}) is after until ({u}): swap them")
    if isinstance(outlets, str):
        outlets = [outlets]
    names = None
    if outlets is not None:
        if not all(isinstance(o, str) for o in outlets):
            raise BadFilterError("outlets must be a list of outlet names")
        names = tuple(sorted({o.strip().lower() for o in outlets if o.strip()})) or None
    if not (s or u or names):
        return None
    return Filter(s, u, names)


def chunk_mask(index, flt: Filter | None) -> np.ndarray | None:
    """True for the chunks whose article the filter admits; None when there is no filter."""
    if flt is None:
        return None
    held = index.masks                 # search counts the admitted chunks, then the retrievers use the mask
    if flt not in held:
        docs = index.chunks.sentences.doc_ids
        ok = np.fromiter((flt.admits(index.articles[d].date, index.articles[d].outlet) for d in docs), dtype=bool,
                         count=len(docs))
        if len(held) >= 8:
            held.clear()
        held[flt] = ok[index.chunks.doc_index]
    return held[flt]
