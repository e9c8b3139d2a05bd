"""A saved web page in, its main text and metadata out, by trafilatura.

Comments, tables, links, images and formatting are left out; paragraphs come one
per line ("\\n" between them). The page must be UTF-8 (a BOM allowed) or declare a
charset that decodes it cleanly: nothing is guessed, so the same bytes always give
the same text. Left out: fetching pages, and pages that need JavaScript to show text.
trafilatura's own log lines (and those of htmldate and courlan, which it uses) are not
printed as if they were qa's ("discarding data: None"): they go to qa's log at debug level,
and what they mean reaches the user as qa's warning naming the file (`extract` says why).
"""
from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

import trafilatura

log = logging.getLogger("qa")


class _ToDebug(logging.Handler):
    """A library's log records, re-logged by qa at debug level with the library's name."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s: %s", record.name, record.getMessage())


for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    _lib = logging.getLogger(_name)
    _lib.propagate = False
    _lib.addHandler(_ToDebug())

EXTRACTOR = f"trafilatura {trafilatura.__version__}"
MIN_CHARS = 200               # an extraction shorter than this is not an article

_TAG = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|article|main|div|p|meta|title)\b", re.I)
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]{0,200}\?>")


@dataclass(frozen=True)
class Page:
    """What trafilatura found in a page; metadata strings as it gives them (date YYYY-MM-DD)."""
    text: str
    title: str | None
    date: str | None
    sitename: str | None
    author: str | None
    url: str | None


def looks_like_html(data: bytes) -> bool:
    """True when the bytes carry the tags of an HTML page."""
    return bool(_TAG.search(data))


def decode(data: bytes) -> str:
    """The page as text: UTF-8, else its declared charset; ValueError when neither decodes it."""
    if not looks_like_html(data):
        raise ValueError("not an HTML page (no HTML tags found)")
    m = _CHARSET.search(data[:4096])
    for charset in ("utf-8-sig", m.group(1).decode("ascii")) if m else ("utf-8-sig",):
        try:
            # lxml refuses a str that still carries an XML encoding declaration
            return _XML_DECL.sub("", data.decode(codecs.lookup(charset).name))
        except (LookupError, UnicodeDecodeError):
            continue
    raise ValueError("not UTF-8 and no declared charset that decodes it; re-save it as UTF-8")


def extract(html: str) -> Page:
    """The main text and metadata of a page; ValueError naming why when there is no article."""
    try:
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=False,
            include_links=False, include_images=False, include_formatting=False)
    except Exception as e:  # a hostile page must become a reason, never a traceback
        raise ValueError(f"trafilatura could not read it ({type(e).__name__}: {e})") from None
    text = (doc.text or "") if doc is not None else ""
    if len(text.strip()) < MIN_CHARS:
        raise ValueError(f"no article text found ({len(text.strip())} characters extracted, "
                         f"fewer than {MIN_CHARS}); save the article page itself")
    return Page(text, doc.title, doc.date, doc.sitename, doc.author, doc.url)
