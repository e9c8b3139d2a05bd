"""Dates: a publication date as "YYYY-MM-DD" from metadata (`iso_date`), from a dateline near
the top of an article (`dateline`), or from a web page's own evidence (`page_date`). A date needs
a day, a month and a year; nothing relative ("yesterday", "last month") is ever read, because it
moves. A date is the publisher's local date as written ("2012-10-08T21:30-04:00" is 8 October),
never shifted to UTC, and never a modified or copyright date or the file's time.
"""
from __future__ import annotations

import re

_RFC2822 = re.compile(r"\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}")
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
    if _RFC2822.match(value):  # "Mon, 08 Oct 2012 21:30:00 -0400": the date as written
        from email.utils import parsedate_tz
        t = parsedate_tz(value.strip())
        if t:
            try:
                return date(t[0], t[1], t[2]).isoformat()
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

    A dateline is a date with a day, a month and a year on a short line (at most 10 words) or at
    the start of one ("October 8, 2012", "Published Sept 14, 2022", "DUBAI, March 3, 2021 (Reuters) -
    ..."); a date further inside a sentence is not one, nor an "Updated" or copyright line. The regex only finds candidates;
    `iso_date` decides whether each is a real date.
    """
    head = [ln for ln in text[:600].split("\n") if ln.strip()][:6]
    for line in head:
        if _NOT_PUBLISHED.search(line):
            continue
        for m in _DATELINE.finditer(line):
            if m.start() > 40 and len(line.split()) > 10:    # a date inside a sentence, not a dateline
                continue
            found = iso_date(m.group(0))
            if found:
                return found
    return None


_NOT_PUBLISHED = re.compile(r"updated|modified|edited|©|copyright", re.I)
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|-|$)")
# Structured evidence of the publication date, most trusted first: JSON-LD, then meta tags.
_META = ("article:published_time", "datepublished", "og:published_time", "pubdate", "publishdate",
         "publish-date", "dc.date.issued", "parsely-pub-date", "sailthru.date")
_UTC = re.compile(r"T[\d:.]+(?:Z|[+-]00:?00)$")


def _json_ld_published(doc) -> list[str]:
    """Every `datePublished` string in the page's JSON-LD blocks (@graph and lists walked)."""
    import json
    found = []

    def walk(x, depth=0):
        if depth > 8:
            return
        if isinstance(x, dict):
            v = x.get("datePublished")
            if isinstance(v, str):
                found.append(v.strip())
            for y in x.values():
                if isinstance(y, (dict, list)):
                    walk(y, depth + 1)
        elif isinstance(x, list):
            for y in x[:100]:
                walk(y, depth + 1)
    for node in doc.xpath('//script[@type="application/ld+json"]')[:20]:
        try:
            walk(json.loads(node.text or ""))
        except (ValueError, RecursionError):
            continue
    return found


def page_date(html: str, url: str | None, text: str) -> tuple[str | None, str]:
    """(date or None, evidence) of a web page: JSON-LD `datePublished`, then a published-time meta
    tag, then a date in the URL, then a dateline at the top of `text` (the extracted article).

    The most trusted evidence gives the date. A structured time in UTC ("Z", "+00:00") is not the
    publisher's local date: when a less trusted local date (URL, dateline) is a day off it, the
    local one is the date. Any other disagreement between kinds of evidence, or no evidence, gives
    None with the reason: unknown is better than wrong.
    """
    found: list[tuple[str, str, bool]] = []          # (kind, date, in UTC)
    try:
        import lxml.html
        doc = lxml.html.fromstring(html)
    except Exception:                                # a page lxml cannot read has no structured dates
        doc = None
    if doc is not None:
        for v in _json_ld_published(doc)[:1]:
            if (d := iso_date(v)):
                found.append(("JSON-LD datePublished", d, bool(_UTC.search(v))))
        for node in doc.xpath("//meta[@content]")[:500]:
            key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
            if key in _META and (d := iso_date(node.get("content"))):
                v = node.get("content").strip()
                found.append((f"meta {key}", d, bool(_UTC.search(v))))
                break
    m = _URL_DATE.search(url or "")
    if m:
        from datetime import date
        try:
            found.append(("date in the URL", date(int(m[1]), int(m[2]), int(m[3])).isoformat(), False))
        except ValueError:
            pass
    if (d := dateline(text)):
        found.append(("dateline", d, False))
    if not found:
        return None, "date unknown: no publication date on the page"
    kind, best, utc = found[0]
    others = [(k, d) for k, d, _ in found[1:] if d != best]
    if utc and others:
        from datetime import date
        near = [(k, d) for k, d in others if abs((date.fromisoformat(d) - date.fromisoformat(best)).days) == 1]
        if near and all(d == near[0][1] for _, d in others):
            return near[0][1], f"{near[0][0]} (the publisher's local date; {kind} {best} is in UTC)"
    if others:
        said = ", ".join(f"{k} {d}" for k, d in [(kind, best)] + others)
        return None, f"date unknown: the evidence disagrees ({said})"
    return best, kind
