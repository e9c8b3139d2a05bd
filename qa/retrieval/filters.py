"""Metadata filters for retrieval: publication date range, outlets and articles.

A filter becomes a mask over the chunks, applied inside each retriever (BM25
scores of excluded chunks are dropped before the top k; faiss searches only the
admitted ids), so a filtered search still returns k passages when the corpus
has them. An article whose date is unknown is not admitted by a date range, nor
one whose outlet is unknown by an outlet list: a filter promises what it shows.
Outlets match case-insensitively. A list of article ids (`doc_ids`, the chat's "ask about
this story") admits only those articles.
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
    doc_ids: tuple[str, ...] | None = None   # sorted; only these articles

    def admits(self, date: str | None, outlet: str | None, doc_id: str | None = None) -> bool:
        if (self.since or self.until) and not date:
            return False
        if self.since and date < self.since or self.until and date > self.until:
            return False
        if self.doc_ids is not None and doc_id not in self.doc_ids:
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


def make_filter(since=None, until=None, outlets=None, doc_ids=None) -> Filter | None:
    """A Filter from user input, or None when nothing filters; BadFilterError (a ValueError)
    saying what to fix. `doc_ids` (article ids) admits only those articles; an empty list admits none."""
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
        ok = {d: flt.admits(a.date, a.outlet, d) for d, a in index.articles.items()}
        if len(held) >= 8:
            held.clear()
        held[flt] = np.fromiter((ok[c.doc_id] for c in index.chunks), dtype=bool, count=len(index.chunks))
    return held[flt]
