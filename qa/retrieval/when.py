"""Date phrases in a question ("in October 2012", "since March", "last week") read as a date range.

`date_phrases(question, today)` is a pure function: the one phrase it reads, as a `Reading`
(the inclusive range, the phrase's half-open character span, its text and the range in words),
or None. `today` anchors what is relative ("last week", a month without a year: its latest
occurrence on or before `today`). The pipeline turns a reading into the date filter
(`filters.read_dates`); docs/dates.md lists the phrases, and a test checks every row of it.

A small grammar of our own, not `dateparser.search.search_dates` (1.5.0, measured on the table
of docs/dates.md): it finds a date in 10 of the 15 questions there that must give none ("May I
ask", "in may", "march on", "Jan Egeland", "the 2012 US election", "in 1066", "31 February"; and
"the Sun" is a day), and it gives one day, never a range: "in October 2012" is 2012-10-08 (the
base date's day), "between 1 and 10 October" is "and 10 October". A wrong filter hides the
answer, a missed phrase leaves its words searched as before, so the grammar is conservative:
- month names count capitalised only, and without a day or a year only after a preposition
  ("in May", "since March"; not "May I ask", "March on");
- a year alone is one only after in/on/during/since/before/after/from/until/till ("in 2012"),
  from 1900 to 2099, and not as part of "1987/88";
- two separate phrases, an impossible date ("31 February") or a range that ends before it
  starts give no reading: ambiguous means no filter.
Left out: weekdays, seasons, "next ...", "recently", other languages.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from ..types import date_range as describe      # "from 2012-10-01 to 2012-10-31", "since ..."

MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
SHORT = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9,
         "Oct": 10, "Nov": 11, "Dec": 12}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}

_MON = r"(?P<{0}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + "|" + \
       "|".join(sorted(SHORT, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<{0}>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?P<{0}>19\d\d|20\d\d)"
_PART = r"(?:(?P<{0}>early|mid|late)[- ])?"


def _point(tag: str) -> str:
    """One date: ISO day, day month [year], month day[,] [year], [early/mid/late] month [year], year."""
    t = tag
    return ("(?:" + "|".join([
        rf"(?P<{t}iso>{_YEAR.format(t + 'iy')}-(?P<{t}im>0[1-9]|1[0-2])-(?P<{t}id>[0-3]\d))",
        rf"{_DAY.format(t + 'd1')}(?: of)? {_MON.format(t + 'm1')}(?:,? {_YEAR.format(t + 'y1')})?",
        rf"{_MON.format(t + 'm2')} {_DAY.format(t + 'd2')}(?!\d)(?:,? {_YEAR.format(t + 'y2')})?",
        rf"{_PART.format(t + 'p')}{_MON.format(t + 'm3')}(?:,? {_YEAR.format(t + 'y3')})?",
        rf"{_YEAR.format(t + 'y4')}",
    ]) + r")(?![\w/-])")


_IN = r"(?P<prep>[Ii]n|[Dd]uring|[Ss]ince|[Bb]efore|[Aa]fter|[Ff]rom|[Uu]ntil|[Tt]ill|[Oo]n) "
_N = r"(?P<n>\d{1,3}|" + "|".join(NUMBERS) + ")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_DAYS = ("[Bb]etween {a} and ", "(?:[Ff]rom )?{a} (?:to|until|till) ", "{a} ?[-–] ?")    # two days, one month
PATTERNS = [
    *[("between", re.compile(rf"\b{join.format(a=_DAY.format('a'))}{_DAY.format('b')}(?: of)? {_MON.format('m')}"
                             rf"(?:,? {_YEAR.format('y')})?(?![\w-])")) for join in _DAYS],
    *[("between", re.compile(rf"\b{join.format(a=_MON.format('m') + ' ' + _DAY.format('a'))}{_DAY.format('b')}"
                             rf"(?!\d)(?:,? {_YEAR.format('y')})?(?![\w-])")) for join in _DAYS],
    ("range", re.compile(rf"\b[Bb]etween {_point('x')} and {_point('z')}")),
    ("range", re.compile(rf"\b[Ff]rom {_point('x')} (?:to|until|till|through) {_point('z')}")),
    ("point", re.compile(rf"\b(?:{_IN})?{_point('x')}")),
    ("ago", re.compile(rf"\b{_N} {_UNIT} ago\b")),
    ("past", re.compile(rf"\b(?:(?:[Ii]n|[Oo]ver|[Dd]uring) )?the (?:last|past) {_N} {_UNIT}\b")),
    ("past", re.compile(rf"\b(?:[Ii]n|[Oo]ver|[Dd]uring) the (?:last|past) {_UNIT}\b")),
    ("last", re.compile(r"\b(?<![Tt]he )(?:(?:[Ii]n|[Dd]uring) )?(?P<which>[Ll]ast|[Tt]his) (?P<unit>week|month|year)\b(?!['’]s)")),
    ("day", re.compile(r"\b(?P<which>[Yy]esterday|[Tt]oday)\b")),
]


@dataclass(frozen=True)
class Reading:
    since: str | None        # YYYY-MM-DD, inclusive; None: no lower bound
    until: str | None        # YYYY-MM-DD, inclusive; None: no upper bound
    start: int               # the phrase's characters in the question, half-open
    end: int
    phrase: str              # question[start:end]
    description: str         # "articles from 2012-10-01 to 2012-10-31"

    def without(self, question: str) -> str:
        """The question with the phrase taken out, spaces and punctuation tidied."""
        rest = question[:self.start] + " " + question[self.end:]
        rest = re.sub(r"\s+([?.,;:!])", r"\1", re.sub(r"\s+", " ", rest)).strip()
        return re.sub(r"^[,;:]\s*", "", rest)


def _month_end(y: int, m: int) -> dt.date:
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _shift_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _latest(y: int | None, m: int, d: int, today: dt.date) -> dt.date:
    """The date (day `d` of month `m`, in year `y` or, without one, the latest on or before today)."""
    if y is not None:
        return dt.date(y, m, d)
    day = dt.date(today.year, m, d) if (m, d) != (2, 29) or calendar.isleap(today.year) else None
    return day if day is not None and day <= today else dt.date(today.year - 1, m, d)


def _span(g: dict, t: str, today: dt.date, bare_ok: bool) -> tuple[dt.date, dt.date] | None:
    """The first and last day a point (named groups with prefix `t`) covers; None when it is not
    one (an ambiguous bare month, a year without a preposition)."""
    if g.get(t + "iso"):
        d = dt.date(int(g[t + "iy"]), int(g[t + "im"]), int(g[t + "id"]))
        return d, d
    for k in "12":
        if g.get(t + "m" + k):
            y = int(g[t + "y" + k]) if g.get(t + "y" + k) else None
            d = _latest(y, _month(g[t + "m" + k]), int(g[t + "d" + k]), today)
            return d, d
    if g.get(t + "m3"):
        name, y = g[t + "m3"].rstrip("."), int(g[t + "y3"]) if g.get(t + "y3") else None
        if y is None and not (bare_ok or g.get(t + "p")) or y is None and name in SHORT and not bare_ok:
            return None
        m = _month(name)
        first = _latest(y, m, 1, today)
        last = _month_end(first.year, m)
        part = g.get(t + "p")
        if part:
            first, last = {"early": (first, first.replace(day=10)), "mid": (first.replace(day=11), first.replace(day=20)),
                           "late": (first.replace(day=21), last)}[part]
        return first, last
    if g.get(t + "y4") and bare_ok:
        y = int(g[t + "y4"])
        return dt.date(y, 1, 1), dt.date(y, 12, 31)
    return None


def _month(name: str) -> int:
    name = name.rstrip(".")
    return MONTHS.get(name) or SHORT[name]


def _unit_span(unit: str, back: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The whole day, week (Monday to Sunday), month or year `back` units before today's."""
    if unit == "day":
        d = today - dt.timedelta(days=back)
        return d, d
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday() + 7 * back)
        return monday, monday + dt.timedelta(days=6)
    if unit == "month":
        first = _shift_months(today.replace(day=1), -back)
        return first, _month_end(first.year, first.month)
    return dt.date(today.year - back, 1, 1), dt.date(today.year - back, 12, 31)


def _read(kind: str, g: dict, today: dt.date) -> tuple[dt.date | None, dt.date | None] | None:
    if kind == "between":
        m, y = _month(g["m"]), int(g["y"]) if g.get("y") else None
        first = _latest(y, m, 1, today)
        return dt.date(first.year, m, int(g["a"])), dt.date(first.year, m, int(g["b"]))
    if kind == "range":
        a, b = _span(g, "x", today, True), _span(g, "z", today, True)
        if a is None or b is None:
            return None
        explicit = [bool(g.get(f"{t}y{k}") or g.get(f"{t}iso")) for t in "xz" for k in "1234"]
        if any(explicit[:4]) and not any(explicit[4:]) and b[0].year != a[0].year:   # "from 1 Oct 2012 to 10 Oct"
            b = (b[0].replace(year=a[0].year), b[1].replace(year=a[0].year))
        elif any(explicit[4:]) and not any(explicit[:4]) and a[0].year != b[0].year and a[0] > b[0]:
            a = (a[0].replace(year=b[0].year - 1), a[1].replace(year=b[0].year - 1))
        return a[0], b[1]
    if kind == "point":
        prep = (g.get("prep") or "").lower()
        span = _span(g, "x", today, bare_ok=bool(prep))
        if span is None:
            return None
        first, last = span
        return {"since": (first, None), "from": (first, None), "after": (last + dt.timedelta(days=1), None),
                "before": (None, first - dt.timedelta(days=1)), "until": (None, last),
                "till": (None, last)}.get(prep, (first, last))
    if kind == "ago":
        n = int(g["n"]) if g["n"].isdigit() else NUMBERS[g["n"]]
        return _unit_span(g["unit"], n, today) if 1 <= n <= 400 else None
    if kind == "past":
        n = (int(g["n"]) if g["n"].isdigit() else NUMBERS[g["n"]]) if g.get("n") else 1
        if not 1 <= n <= 400:
            return None
        back = {"day": dt.timedelta(days=n), "week": dt.timedelta(days=7 * n)}.get(g["unit"])
        start = today - back if back else (_shift_months(today, -n) if g["unit"] == "month"
                                           else _shift_months(today, -12 * n))
        return start + dt.timedelta(days=1), today
    if kind == "last":
        back = 1 if g["which"].lower() == "last" else 0
        first, last = _unit_span(g["unit"], back, today)
        return first, min(last, today) if back == 0 else last
    return (today, today) if g["which"].lower() == "today" else (today - dt.timedelta(days=1),) * 2


def mentions_dates(question: str) -> bool:
    """Could `question` hold a date phrase? (False: `date_phrases` gives None, whatever the day.)"""
    return any(pattern.search(question) for _, pattern in PATTERNS)


def date_phrases(question: str, today: dt.date | str) -> Reading | None:
    """The date phrase of `question` read as an inclusive range, against `today` for what is
    relative; None when there is none, more than one, or it is not a valid date or range."""
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    found: list[tuple[int, int, str, dict]] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(question):
            if not any(s < m.end() and m.start() < e for s, e, _, _ in found):
                found.append((m.start(), m.end(), kind, m.groupdict()))
    readings = []
    for start, end, kind, g in sorted(found):
        try:
            got = _read(kind, g, today)
        except (ValueError, OverflowError, KeyError):       # "31 February", a year out of range
            return None
        if got is not None:
            readings.append((start, end, got))
    if len(readings) != 1:
        return None
    start, end, (first, last) = readings[0]
    if first is not None and last is not None and first > last:
        return None
    since, until = first and first.isoformat(), last and last.isoformat()
    return Reading(since, until, start, end, question[start:end], "articles " + describe(since, until))
