"""Dates: a publication date as "YYYY-MM-DD" from metadata (`iso_date`) or from a dateline near
the top of an article (`dateline`). A date needs a day, a month and a year; nothing relative
("yesterday", "last month") is ever read, because it moves.
"""
from __future__ import annotations

import re

_ISO = re.compile(r"\s*(\d{4}-\d{2}-\d{2})(?:$|[T ]\d)")
_DATE_SETTINGS = {"REQUIRE_PARTS": ["day", "month", "year"], "STRICT_PARSING": True,
                  "PARSERS": ["custom-formats", "absolute-time"]}  # never "yesterday": it moves


def iso_date(value) -> str | None:
    """A date string in any common form as "YYYY-MM-DD"; None unless it has a day, month and year."""
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    from datetime import date
    m = _ISO.match(value)
    if m:  # the date as written, never shifted by a time zone
        try:
            return date.fromisoformat(m.group(1)).isoformat()
        except ValueError:
            return None
    m = _PLAIN.fullmatch(value.strip())
    if m:  # "October 8, 2012", "Mon, 8 Oct. 2012": read here (dateparser costs ~2 ms a call)
        month = _MONTHS[(m.group("m1") or m.group("m2"))[:3].lower()]
        try:
            return date(int(m.group("y")), month, int(m.group("d1") or m.group("d2"))).isoformat()
        except ValueError:
            return None
    import dateparser
    try:
        parsed = dateparser.parse(value, languages=["en"], settings=_DATE_SETTINGS)
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed.date().isoformat() if parsed else None


_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
_DATELINE = re.compile(rf"\b(?:{_WEEKDAY}(?:{_MONTH}\s+{_DAY},?\s+\d{{4}}|{_DAY}\s+{_MONTH},?\s+\d{{4}})"
                       rf"|\d{{4}}-\d{{2}}-\d{{2}})\b", re.I)


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_PLAIN = re.compile(rf"{_WEEKDAY}(?:(?P<m1>{_MONTH})\s+(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?,?|(?P<d2>[0-3]?\d)"
                    rf"(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH}),?)\s+(?P<y>\d{{4}})", re.I)


def dateline(text: str) -> str | None:
    """The date of a dateline in the first 6 non-empty lines (600 characters) of an article.

    The regex only finds candidates with a day, a month name and a year (or an ISO date);
    dateparser decides whether each is a real date.
    """
    head = [ln for ln in text[:600].split("\n") if ln.strip()][:6]
    for line in head:
        for m in _DATELINE.finditer(line):
            found = iso_date(m.group(0))
            if found:
                return found
    return None
