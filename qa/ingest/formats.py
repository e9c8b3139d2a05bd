"""One file in, zero or more sources out: the text that citation offsets index, and its metadata.

- `.txt` / `.md`: the file as `open(path, encoding="utf-8").read()` gives it; the date
  comes from a dateline near the top (a day, a month and a year; "in 2012" is not one).
- `.html` / `.htm`: main text and metadata by trafilatura (`html.py`), paragraphs one per line.
- `.jsonl` / `.csv`: one article per record; the record's `text` field exactly as stored.

The same file always gives the same text, and `derive_text` gives it again for
`verify`, refusing loudly when the installed extractor is not the one that indexed it.
Bad content never raises out of `read_sources`: it becomes a warning naming the file
or record. Left out: PDF, DOCX, feeds, and guessing encodings other than a declared one.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SUPPORTED = (".txt", ".md", ".html", ".htm", ".jsonl", ".csv")
FIELDS = ("text", "title", "date", "url", "outlet", "source", "author")


@dataclass(frozen=True)
class Source:
    """One article as read from a file: `text` is what citation offsets index."""
    doc_id: str
    path: str
    text: str
    title: str | None
    date: str | None          # ISO "YYYY-MM-DD"
    outlet: str | None
    author: str | None
    url: str | None
    extractor: str            # name and version of what made `text`
    record: int | None        # 1-based record number within an export file


class ExtractorChanged(ValueError):
    """The text cannot be derived as it was indexed: the extractor is not the same."""


class _Skip(Exception):
    """A file that is not read; the message is the reason."""


def read_sources(path: Path, max_bytes: int) -> tuple[list[Source], list[str]]:
    """The articles in one file and one warning per thing skipped (a file, or a record), naming it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        return [], [f"skipped {path.name}: unknown format (qa reads {', '.join(SUPPORTED)})"]
    try:
        data = _checked_bytes(path, max_bytes)
        if suffix in (".txt", ".md"):
            return [_text_source(path, data)], []
        if suffix in (".html", ".htm"):
            return [_html_source(path, data)], []
        return _export_sources(path, data, max_bytes)
    except _Skip as e:
        return [], [f"skipped {path.name}: {e}"]


def extractor_for(path: Path) -> str:
    """The name (and version) of what the installed qa uses to make the text of `path`."""
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        from .html import EXTRACTOR
        return EXTRACTOR
    if suffix in SUPPORTED:
        return "text" if suffix in (".txt", ".md") else suffix[1:]
    raise ValueError(f"{Path(path).name}: unknown format (qa reads {', '.join(SUPPORTED)})")


def derive_text(path: Path, record: int | None, extractor: str, max_bytes: int) -> str:
    """The text again from the file, for verifying citations."""
    path = Path(path)
    now = extractor_for(path)
    if now != extractor:
        raise ExtractorChanged(f"the extractor changed since indexing: indexed with {extractor}, now {now}")
    if not path.is_file():
        raise ValueError(f"{path} is gone: restore it or rebuild the index")
    sources, warnings = read_sources(path, max_bytes)
    text = next((s.text for s in sources if s.record == record), None)
    if text is not None:
        return text
    what = f"record {record} of {path.name}" if record is not None else path.name
    why = "; ".join(warnings) or "no such record"
    raise ValueError(f"{what} is gone or unreadable ({why}): restore it or rebuild the index")


def _checked_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing what is too large, unreadable, empty or binary."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _Skip(f"too large ({size:,} bytes; the limit is {max_bytes:,})")
        data = path.read_bytes()
    except OSError as e:
        raise _Skip(f"unreadable ({e.strerror or e})") from None
    if not data.strip():
        raise _Skip("empty")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _Skip("not UTF-8 (UTF-16 text); re-save it as UTF-8")
    if b"\x00" in data[:65536]:
        raise _Skip("binary file (contains NUL bytes)")
    return data


def _text_problem(text: str) -> str | None:
    """Why a decoded text is not article text (empty, binary-looking, lone surrogates), or None."""
    head = text[:65536]
    if not text or text.isspace():
        return "empty"
    if "\x00" in head or sum(ord(ch) < 32 and ch not in "\n\t\r\f" for ch in head) > 0.01 * len(head):
        return "binary-looking text (many control characters)"
    return None if _encodable(text) else "not valid Unicode (lone surrogates)"


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Skip(f"not UTF-8 (bad byte at position {e.start}); re-save it as UTF-8") from None


def _encodable(text: str) -> bool:
    """False for a string with lone surrogates (a JSON "\\ud800"), which UTF-8 cannot store."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _text_source(path: Path, data: bytes) -> Source:
    _utf8(data)
    # The same decoder `open(path, encoding="utf-8").read()` uses, on the bytes already read.
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()
    if problem := _text_problem(text):
        raise _Skip(problem)
    return Source(path.stem, str(path), text, None, dateline(text), None, None, None, "text", None)


def _html_source(path: Path, data: bytes) -> Source:
    from . import html
    try:
        text = html.decode(data)
        if problem := _text_problem(text):
            raise ValueError(problem)
        page = html.extract(text)
    except ValueError as e:
        raise _Skip(str(e)) from None
    url = _clean(page.url)
    return Source(path.stem, str(path), page.text, _clean(page.title), iso_date(page.date),
                  _clean(page.sitename) or _domain(url), _clean(page.author), url, html.EXTRACTOR, None)


def _export_sources(path: Path, data: bytes, max_bytes: int) -> tuple[list[Source], list[str]]:
    text = _utf8(data).removeprefix("\ufeff")
    kind = path.suffix.lower()[1:]
    sources, warnings = [], []
    for n, rec in (_jsonl_records(text) if kind == "jsonl" else _csv_records(path, text, max_bytes)):
        where = f"skipped {path.name} record {n}"
        if isinstance(rec, str):
            warnings.append(f"{where}: {rec}")
            continue
        body = rec.get("text")
        problem = _text_problem(body) if isinstance(body, str) else "empty"
        if problem:
            no_text = "no text (a non-empty 'text' field is required)"
            warnings.append(f"{where}: {no_text if problem == 'empty' else problem}")
        else:
            url = _clean(rec.get("url"))
            outlet = _clean(rec.get("outlet")) or _clean(rec.get("source")) or _domain(url)
            sources.append(Source(f"{path.stem}-{n}", str(path), body, _clean(rec.get("title")),
                                  iso_date(rec.get("date")), outlet, _clean(rec.get("author")),
                                  url, kind, n))
    return sources, warnings


def _jsonl_records(text: str):
    """(n, dict) per non-blank line, or (n, reason) for a line that is not a JSON object."""
    n = 0
    for line in text.split("\n"):  # not splitlines(): U+2028 may stand raw inside a JSON string
        if not line.strip():
            continue
        n += 1
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as e:
            yield n, f"not JSON ({str(e)[:80]})"
            continue
        yield n, (rec if isinstance(rec, dict) else f"not a JSON object (a {type(rec).__name__})")


def _csv_records(path: Path, text: str, max_bytes: int):
    """(n, dict) per data row with field names lower-cased and stripped."""
    if csv.field_size_limit() < max_bytes:
        csv.field_size_limit(max_bytes)  # a long article is one field; the file size is already bounded
    reader = csv.DictReader(io.StringIO(text, newline=""))
    n = 0
    try:
        names = {(k or "").strip().lower(): k for k in (reader.fieldnames or [])}
        if "text" not in names:
            raise _Skip(f"no 'text' column (found: {', '.join(names) or 'no header'})")
        for n, row in enumerate(reader, 1):
            yield n, {f: row.get(names[f]) for f in FIELDS if f in names}
    except csv.Error as e:
        yield n + 1, f"bad CSV from here on ({e})"


def _clean(value) -> str | None:
    """A metadata string, stripped; None for anything else or empty."""
    return (value.strip() or None) if isinstance(value, str) and _encodable(value) else None


def _domain(url: str | None) -> str | None:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


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
