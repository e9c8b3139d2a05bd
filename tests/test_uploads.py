"""Articles added through the chat's upload control (`qa.ingest.uploads`): the format is told by
the content, the client's name is never a path, and an uploaded article is indexed and cited."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import pytest

from conftest import SEEDS
from qa.config import DEFAULT
from qa.ingest.read import article_files
from qa.ingest.uploads import UploadRefused, content_format, store
from qa.pipeline import Pipeline
from test_formats import MOSCOW, RECORDS


@pytest.fixture
def folder(tmp_path):
    f = tmp_path / "corpus" / "articles"
    f.mkdir(parents=True)
    return f


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_a_page_is_stored_under_a_generated_name(folder):
    s = store(folder, MOSCOW.encode(), "Kayani in Moscow (saved).html")
    assert s.format == ".html" and not s.duplicate
    assert s.path.parent == folder / DEFAULT.uploads and s.name.startswith("up-") and s.name.endswith(".html")
    assert s.titles == ("Pakistan army chief in Moscow after Putin snub",)
    assert files_under(folder) == [f"uploads/{s.name}"]          # no temporary file left behind
    again = store(folder, MOSCOW.encode(), "other name.htm")
    assert again.duplicate and again.path == s.path and files_under(folder) == [f"uploads/{s.name}"]


@pytest.mark.parametrize("name", ["../../x.html", "/etc/x.html", "..\\..\\x.html", "a/../../b/x.html"])
def test_a_hostile_name_is_never_a_path(folder, name):
    s = store(folder, MOSCOW.encode(), name)
    assert s.path.parent == folder / DEFAULT.uploads and ".." not in s.name and "/" not in s.name
    assert files_under(folder.parent.parent) == [f"corpus/articles/uploads/{s.name}"]


@pytest.mark.parametrize("data, name, reason", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "story.html", "a PNG image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "story.txt", "a PDF"),
    (os.urandom(4096).replace(b"<", b"") + b"\x00", "story.html", "binary"),
    (b"", "story.txt", "empty"),
    (b"  \n\t\n", "story.md", "empty"),
    ("Caf\u00e9 society returns to Karachi after the monsoon.".encode("latin-1"), "story.txt", "not UTF-8"),
    (b"Russia and Pakistan held talks.", "story.exe", "qa takes"),
    (b"Russia and Pakistan held talks.", "story", "qa takes"),
    (b"Russia and Pakistan held talks.\n", "export.jsonl", "not an export"),
    (b"title,date\nTalks,2012-10-01\n", "export.csv", "not an export"),
    (b"<html><body><p>Subscribe.</p></body></html>", "page.html", "no article text"),
])
def test_bad_uploads_are_refused_with_the_reason(folder, data, name, reason):
    with pytest.raises(UploadRefused) as e:
        store(folder, data, name)
    assert reason in str(e.value)
    assert os.path.basename(name.replace("\\", "/")) in str(e.value) or not name
    assert files_under(folder) == []


def test_too_large(folder):
    small = replace(DEFAULT, max_file_bytes=1000)
    with pytest.raises(UploadRefused, match="too large"):
        store(folder, b"Russia and Pakistan held talks. " * 100, "big.txt", small)


def test_the_content_decides_the_format(folder):
    assert content_format(MOSCOW.encode(), "saved page.txt") == ".html"
    lines = "\n".join(json.dumps(r) for r in RECORDS).encode()
    assert content_format(lines, "export.jsonl") == ".jsonl"
    assert content_format(b"title,text\nTalks,Russia and Pakistan held talks.\n", "export.csv") == ".csv"
    assert content_format(b"# Talks\n\nRussia and Pakistan held talks.\n", "notes.md") == ".md"
    assert content_format("\ufeffRussia and Pakistan held talks.\n".encode(), "notes.TXT") == ".txt"
    s = store(folder, lines, "export.jsonl")
    assert s.format == ".jsonl" and len(s.titles) == len(RECORDS)


def test_the_uploads_folder_has_a_cap(folder):
    few = replace(DEFAULT, max_uploads=2)
    for i in range(2):
        store(folder, f"Russia and Pakistan held talks, round {i}.\n".encode(), "a.txt", few)
    with pytest.raises(UploadRefused, match="limit"):
        store(folder, b"Russia and Pakistan held talks, round 3.\n", "a.txt", few)


def test_an_uploaded_page_is_indexed_and_its_citation_verifies(tmp_path, folder):
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, folder)
    p = Pipeline(folder, tmp_path / "index")
    before = len(p.index.articles)
    s = store(folder, MOSCOW.encode(), "kayani.html")
    ix = p.refresh()
    assert len(ix.articles) == before + 1 and ix.manifest["incremental"]["articles_rechunked"] == 1
    art = ix.articles[s.path.stem]
    assert art.outlet and art.date and art.path.endswith(f"uploads/{s.name}")
    answer = p.ask("What did officials say the talks in Moscow would cover?")
    c = next(c for c in answer.citations if c.doc_id == s.path.stem)
    assert (c.date, c.outlet) == (art.date, art.outlet)
    assert p.verify(answer) == []
    # an article whose file is edited afterwards no longer verifies
    s.path.write_text(MOSCOW.replace("counter-terrorism", "counterterrorism"), encoding="utf-8")
    assert p.verify(answer)


def test_an_uploads_folder_that_is_a_link_is_neither_read_nor_written(tmp_path, folder):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text("Russia and Pakistan held secret talks.\n", encoding="utf-8")
    (folder / "a.txt").write_text("Russia and Pakistan held talks.\n", encoding="utf-8")
    (folder / DEFAULT.uploads).symlink_to(outside, target_is_directory=True)
    assert [p.name for p in article_files(folder)] == ["a.txt"]
    with pytest.raises(UploadRefused, match="not a folder"):
        store(folder, b"Russia and Pakistan held more talks.\n", "b.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


@pytest.mark.parametrize("name", ["../up", "a/b", ".hidden", ".."])
def test_the_uploads_setting_is_one_plain_name(folder, name):
    with pytest.raises(ValueError, match="one plain folder name"):
        article_files(folder, replace(DEFAULT, uploads=name))
