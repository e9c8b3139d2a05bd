"""One file in, zero or more sources out: the text that citation offsets index, and its metadata.

- `.txt` / `.md`: the file as `open(path, encoding="utf-8").read()` gives it; the date
  comes from a dateline near the top (a day, a month and a year; "in 2012" is not one).
- `.html` / `.htm`: main text and metadata by trafilatura (`html.py`), paragraphs one per line;
  the date from the page's own evidence (`dates.page_date`), or unknown.
- `.jsonl` / `.csv`: one article per record; the record's `text` field exactly as stored.
  Parsed strictly: a line that is not a JSON object, or a CSV record whose quoting is broken or
  whose fields do not match the header, is skipped with its line number (a broken record never
  swallows the next: reading goes on at the line after the one it began on). An export of more
  than `max_records` records is skipped whole (`Settings.max_export_records`).

The same file always gives the same text, and `derive_text` gives it again for
`verify`, refusing loudly when the installed extractor is not the one that indexed it.
Bad content never raises out of `read_sources`: it becomes a warning naming the file
or record. A NUL byte anywhere makes a file binary (refused, never stripped). Left out: PDF, DOCX, feeds, and guessing encodings other than a declared one.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .dates import dateline, iso_date, page_date

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
    date_evidence: str | None = None   # what gave `date` ("JSON-LD datePublished", "dateline"), or why unknown


class ExtractorChanged(ValueError):
    """The text cannot be derived as it was indexed: the extractor is not the same."""


class _Skip(Exception):
    """A file that is not read; the message is the reason."""


def read_sources(path: Path, max_bytes: int, max_records: int | None = None) -> tuple[list[Source], list[str]]:
    """The articles in one file and one warning per thing skipped (a file, or a record), naming it.
    An export of more than `max_records` records (None: no limit) is skipped whole."""
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
        return _export_sources(path, data, max_bytes, max_records)
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
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _Skip(f"binary file (contains NUL bytes, the first at byte {nul:,})")
    return data


def _text_problem(text: str) -> str | None:
    """Why a decoded text is not article text (empty, binary-looking, lone surrogates), or None."""
    head = text[:65536]
    if not text or text.isspace():
        return "empty"
    if "\x00" in text or sum(ord(ch) < 32 and ch not in "\n\t\r\f" for ch in head) > 0.01 * len(head):
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
    date = dateline(text)
    return Source(path.stem, str(path), text, None, date, None, None, None, "text", None,
                  "dateline" if date else None)


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
    date, evidence = page_date(text, url, page.text)      # the page's evidence, not htmldate's guess
    return Source(path.stem, str(path), page.text, _clean(page.title), date,
                  _clean(page.sitename) or _domain(url), _clean(page.author), url, html.EXTRACTOR, None, evidence)


def _export_sources(path: Path, data: bytes, max_bytes: int, max_records: int | None
                    ) -> tuple[list[Source], list[str]]:
    text = _utf8(data).removeprefix("\ufeff")
    kind = path.suffix.lower()[1:]
    found = _jsonl_records(text) if kind == "jsonl" else _csv_records(text, max_bytes)
    records = list(found if max_records is None else itertools.islice(found, max_records + 1))
    if max_records is not None and len(records) > max_records:
        total = len(records) + sum(1 for _ in found)
        raise _Skip(f"{total:,} records, more than the limit of {max_records:,} per export file "
                    f"(max_export_records); split it into files of at most {max_records:,} records")
    sources, warnings = [], []
    for n, line, rec in records:
        where = f"skipped {path.name} record {n} (line {line})"
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
            date = iso_date(rec.get("date"))
            evidence = ("the record's date field" if date else f"date unknown: the record's date field "
                        f"{str(rec.get('date'))[:40]!r} is not a date" if rec.get("date") else None)
            sources.append(Source(f"{path.stem}-{n}", str(path), body, _clean(rec.get("title")),
                                  date, outlet, _clean(rec.get("author")), url, kind, n, evidence))
    return sources, warnings


def _jsonl_records(text: str):
    """(n, line, dict) per non-blank line, or (n, line, reason) for a line that is not a JSON object;
    n counts records (non-blank lines), line is the line's number in the file."""
    n = 0
    for i, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may stand raw inside a JSON string
        if not line.strip():
            continue
        n += 1
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as e:
            yield n, i, f"not JSON ({str(e)[:80]})"
            continue
        yield n, i, (rec if isinstance(rec, dict) else f"not a JSON object (a {type(rec).__name__})")


def _csv_records(text: str, max_bytes: int):
    """(n, line, dict) per data record, field names lower-cased and stripped; (n, line, reason) for
    a record that csv's strict mode refuses (broken quoting) or whose fields do not match the
    header. After a broken record, reading goes on at the line after the one it began on, so an
    unclosed quote never merges the records after it into one. Blank lines are not records."""
    if csv.field_size_limit() < max_bytes:
        csv.field_size_limit(max_bytes)  # a long article is one field; the file size is already bounded
    lines = io.StringIO(text, newline="").readlines()
    pos, n, header, reader = 0, 0, None, None

    def feed():
        nonlocal pos
        while pos < len(lines):
            pos += 1
            yield lines[pos - 1]
    while True:
        begin = pos
        reader = reader or csv.reader(feed(), strict=True)
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            if header is None:
                raise _Skip(f"broken CSV quoting in the header (line {begin + 1}: {e})") from None
            n += 1
            yield n, begin + 1, f"broken CSV quoting ({e})"
            pos, reader = begin + 1, None
            continue
        if not row:
            continue
        if header is None:
            header = {(k or "").strip().lower(): i for i, k in enumerate(row)}
            if "text" not in header:
                raise _Skip(f"no 'text' column (found: {', '.join(header) or 'no header'})")
            width = len(row)
            continue
        n += 1
        if len(row) != width:
            yield n, begin + 1, f"{len(row)} fields where the header has {width} (broken quoting or a stray comma)"
            continue
        yield n, begin + 1, {f: row[header[f]] for f in FIELDS if f in header}
    if header is None:
        raise _Skip("no 'text' column (found: no header)")


def _clean(value) -> str | None:
    """A metadata string, stripped; None for anything else or empty."""
    return (value.strip() or None) if isinstance(value, str) and _encodable(value) else None


def _domain(url: str | None) -> str | None:
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None
