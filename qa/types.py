"""The records that flow through qa: Article -> Chunk -> Hit -> Citation -> Answer.

All offsets are half-open `[start, end)` Python string indices into the text of
the article: the file as read with `open(path, encoding="utf-8").read()` for
.txt/.md, the text trafilatura extracts for .html/.htm, the record's `text` for
.jsonl/.csv exports (`ingest/formats.py`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

SCHEMA = "qa.answer/4"        # /4 added the date phrase read from the question (`dates`); /3 each citation's
SCHEMAS = ("qa.answer/1", "qa.answer/2", "qa.answer/3", SCHEMA)   # answer span; /2 date, outlet, author;
                                                                   # the older ones still read


def shown(value, limit: int = 60) -> str:
    """`repr(value)`, cut to `limit` characters: what a message quotes of untrusted input."""
    r = repr(value)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def _record(d, what: str, need: dict) -> dict:
    """`d` when it is a JSON object holding the fields `need` names, each of exactly the type given
    (so `true` is not an offset, nor `"12"` or `12.5`); else ValueError naming `what` and the field."""
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object, not {shown(d)}")
    for key, kind in need.items():
        if key not in d:
            raise ValueError(f"{what} has no {key!r}")
        if type(d[key]) is not kind:
            raise ValueError(f"{what}: {key!r} must be {'a whole number' if kind is int else 'text'}, "
                             f"not {shown(d[key])}")
    return d


@dataclass(frozen=True)
class Article:
    doc_id: str                      # file name without extension (exports: plus "-<record number>")
    path: str
    title: str
    text: str                        # the text every offset points into (see above)
    sha256: str                      # of `text`, UTF-8
    body: tuple[tuple[int, int], ...]  # cleaned paragraphs kept after boilerplate removal
    duplicate_of: str | None = None  # canonical doc_id when this is a near-duplicate scrape
    date: str | None = None          # publication date, YYYY-MM-DD, when known
    outlet: str | None = None        # site name, domain or the record's outlet, when known
    author: str | None = None
    url: str | None = None
    extractor: str = "text"          # what made `text` ("text", "trafilatura 2.3.1", "jsonl", "csv")
    record: int | None = None        # 1-based record number in an export file
    date_evidence: str | None = None  # what gave `date` ("JSON-LD datePublished", "date in the URL",
                                      # "dateline", "the record's date field"), or why it is unknown

    def in_body(self, start: int, end: int) -> bool:
        """True when [start, end) lies inside the cleaned body: within one paragraph, or
        across paragraphs with nothing but whitespace between them."""
        first = next((i for i, (s, e) in enumerate(self.body) if s <= start < e), None)
        last = next((i for i, (s, e) in enumerate(self.body) if s < end <= e), None)
        if first is None or last is None or first > last:
            return False
        return all(not self.text[self.body[i][1]:self.body[i + 1][0]].strip() for i in range(first, last))


@dataclass(frozen=True)
class Location:
    """Where the same passage also stands (a duplicate scrape); citable like any quote."""
    doc_id: str
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]   # sentence spans inside [start, end)
    also_in: tuple[Location, ...] = ()


@dataclass(frozen=True)
class Hit:
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    score: float                     # fused score (RRF) or the single retriever's score
    bm25_rank: int | None            # 1-based; None when BM25 did not return it
    bm25_score: float | None
    dense_rank: int | None
    dense_score: float | None        # cosine similarity
    chunk_id: int = -1
    also_in: tuple[Location, ...] = ()
    date: str | None = None          # the article's publication date and outlet, when known
    outlet: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    also_in: tuple[Location, ...] = ()
    date: str | None = None          # the article's publication date, outlet and author, when known
    outlet: str | None = None
    author: str | None = None
    answer_start: int | None = None  # the exact answer inside the quote, when the reader found one:
    answer_end: int | None = None    # article offsets like start and end, start <= answer_start < answer_end <= end
    answer_text: str | None = None   # text[answer_start:answer_end]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict, what: str = "a citation") -> "Citation":
        """A citation read back from JSON; ValueError (naming `what`) when a field is missing or of the wrong type."""
        _record(d, what, {"doc_id": str, "start": int, "end": int, "quote": str})
        for key, kind in (("answer_start", int), ("answer_end", int), ("answer_text", str)):
            if d.get(key) is not None and type(d[key]) is not kind:
                raise ValueError(f"{what}: {key!r} must be {'a whole number' if kind is int else 'text'}, "
                                 f"not {shown(d[key])}")
        also = d.get("also_in") or ()
        if not isinstance(also, (list, tuple)):
            raise ValueError(f"{what}: 'also_in' must be a list, not {shown(also)}")
        locs = []
        for m, loc in enumerate(also, 1):
            loc = _record(loc, f"{what}, 'also_in' {m}", {"doc_id": str, "start": int, "end": int})
            locs.append(Location(loc["doc_id"], loc.get("title", ""), loc["start"], loc["end"]))
        return cls(doc_id=d["doc_id"], title=d.get("title", ""), start=d["start"], end=d["end"],
                   quote=d["quote"], also_in=tuple(locs), date=d.get("date"), outlet=d.get("outlet"),
                   author=d.get("author"), answer_start=d.get("answer_start"), answer_end=d.get("answer_end"),
                   answer_text=d.get("answer_text"))


def date_range(since: str | None, until: str | None) -> str:
    """A date range in words: "from 2012-10-01 to 2012-10-31", "on ...", "since ...", "until ..."."""
    if since and until:
        return f"from {since} to {until}" if since != until else f"on {since}"
    return f"since {since}" if since else f"until {until}"


@dataclass(frozen=True)
class DateScope:
    """A date phrase of the question ("in October 2012") and what it did to the search."""
    phrase: str                      # as the question wrote it
    since: str | None                # the range it reads as, inclusive, YYYY-MM-DD (None: open)
    until: str | None
    applied: bool                    # True: only articles published in the range were searched, and the
                                     # phrase was not searched as words; False: all dates, phrase kept
    note: str                        # what was done, in words ("articles from 2012-10-01 to 2012-10-31 ...")

    @property
    def range(self) -> str:
        return date_range(self.since, self.until)

    @classmethod
    def from_dict(cls, d) -> "DateScope":
        _record(d, "the answer's 'dates'", {"phrase": str, "applied": bool, "note": str})
        for key in ("since", "until"):
            if d.get(key) is not None and not isinstance(d[key], str):
                raise ValueError(f"the answer's 'dates': {key!r} must be a date as text, not {shown(d[key])}")
        return cls(d["phrase"], d.get("since"), d.get("until"), d["applied"], d["note"])


@dataclass(frozen=True)
class Answer:
    question: str
    text: str                        # what a person reads, with [1] [2] markers
    citations: tuple[Citation, ...]
    abstained: bool
    searched: str = ""               # the question actually searched (after follow-up resolution)
    notes: tuple[str, ...] = ()      # e.g. "The sources differ on the date: ..."
    passages: tuple[Hit, ...] = ()   # the retrieved passages behind the answer (nearest ones when abstaining)
    mode: str = "hybrid"
    dates: DateScope | None = None   # the date phrase read from the question, when there was one

    def to_dict(self) -> dict:
        d = asdict(self)
        d["schema"] = SCHEMA
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Answer":
        if not isinstance(d, dict) or "citations" not in d:
            raise ValueError("not a qa answer: expected a JSON object with a 'citations' list")
        if d.get("schema", SCHEMA) not in SCHEMAS:
            raise ValueError(f"unknown answer schema {shown(d.get('schema'))}: this qa reads {', '.join(SCHEMAS)}")
        if not isinstance(d["citations"], (list, tuple)):
            raise ValueError(f"not a qa answer: 'citations' must be a list, not {shown(d['citations'])}")
        listed = (list, tuple, type(None))
        for key, kind, name in (("question", str, "text"), ("text", str, "text"), ("searched", str, "text"),
                                ("mode", str, "text"), ("abstained", bool, "true or false"),
                                ("notes", listed, "a list"), ("passages", listed, "a list")):
            if key in d and not isinstance(d[key], kind):
                raise ValueError(f"the answer's {key!r} must be {name}, not {shown(d[key])}")
        if not all(isinstance(x, str) for x in d.get("notes") or ()):
            raise ValueError("the answer's 'notes' must be a list of texts")
        passages = []
        for i, p in enumerate(d.get("passages") or (), 1):
            p = dict(_record(p, f"passage {i}", {}))
            p["also_in"] = tuple(Location(**loc) for loc in p.get("also_in") or ())
            passages.append(Hit(**p))
        return cls(question=d.get("question", ""), text=d.get("text", ""),
                   citations=tuple(Citation.from_dict(c, f"citation [{n}]") for n, c in enumerate(d["citations"], 1)),
                   abstained=bool(d.get("abstained", False)), searched=d.get("searched", ""),
                   notes=tuple(d.get("notes") or ()), passages=tuple(passages),
                   mode=d.get("mode", "hybrid"),
                   dates=DateScope.from_dict(d["dates"]) if d.get("dates") is not None else None)


STORIES_SCHEMA = "qa.stories/1"


@dataclass(frozen=True)
class StoryArticle:
    """One article of a story: its metadata and the one sentence that best matches the query."""
    doc_id: str
    title: str
    date: str | None
    outlet: str | None
    score: float                     # relevance to the query (term coverage + best sentence cosine)
    citation: Citation               # the best sentence, a verbatim slice like an answer's citation
    duplicate_of: str | None = None  # set when this article is a duplicate scrape of that one


@dataclass(frozen=True)
class Story:
    """Articles about one event: duplicate scrapes and same-event reports, in date order."""
    story_id: str                    # "s1", "s2"... in the order the stories are listed
    first: str | None                # date range of its articles (None when none has a date)
    last: str | None
    outlets: tuple[str, ...]
    articles: tuple[StoryArticle, ...]
    score: float                     # its best article's score

    @property
    def doc_ids(self) -> tuple[str, ...]:
        return tuple(a.doc_id for a in self.articles)


@dataclass(frozen=True)
class Stories:
    """`qa.stories(query)`: every article above the relevance floor, grouped into stories."""
    query: str
    stories: tuple[Story, ...]
    matched: int                     # articles above the floor (duplicate scrapes included)
    left_out: int = 0                # of those, beyond settings.stories_max_articles (the weakest)
    filter: dict | None = None       # the date, outlet filter applied

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(a.citation for s in self.stories for a in s.articles)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["schema"] = STORIES_SCHEMA
        return d
