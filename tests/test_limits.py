"""Bounded cost (issue 27): what one file, export or upload can make qa do is bounded by what
its text is, and a file that reaches a limit is truncated or skipped with a warning naming it.

Small versions of the hostile inputs (the full-size figures are `qa bench --load` and the
README's "Limits"): a sentence longer than the model's window, a run of words without
punctuation, an article over `max_article_chars`, an export over `max_export_records`, CSV
quoting that would merge records, JSON lines that are not objects, NUL bytes past the first
64 KB, trafilatura's log lines, bidirectional overrides in article text, an interrupted
`--force`, two `--force` at once, and questions asked while an upload is indexed.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

import qa
from qa import store
from qa.chat import markup
from qa.config import DEFAULT
from qa.ingest.chunking import chunk_article, sentences
from qa.ingest.formats import read_sources
from qa.ingest.read import article_cut, read_folder
from qa.ingest.uploads import UploadRefused
from qa.ingest.uploads import store as store_upload
from qa.retrieval import encoder

from conftest import REPO, SEEDS
from test_formats import MOSCOW

MAX = DEFAULT.max_file_bytes
WORDS = "harbour ferry cargo crane tanker pilot dock wharf tide anchor quay river barge port".split()
SHUKLA = "003_6032db8118f64392.txt"


def unpunctuated(n_words: int, seed: int = 1) -> str:
    import random
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_words))


# ---- the model's window and linear work --------------------------------------------------------

def test_a_sentence_longer_than_the_window_is_cut_at_spaces():
    fits = encoder.window()
    tok = fits.tokenizer
    text = "Title\n\n" + unpunctuated(3_000) + ". A short one. " + "x" * 3_000 + " end."
    spans = sentences(text, 7, len(text), DEFAULT, fits)
    for s, e in spans:
        assert len(tok.encode(text[s:e], add_special_tokens=False).ids) <= fits.limit == 254
        assert text[s:e] == text[s:e].strip()
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:]))
    inside = {i for s, e in spans for i in range(s, e)}
    assert all(i in inside for i in range(7, len(text)) if not text[i].isspace())   # nothing lost
    words = [sp for sp in spans if not text[sp[0]:sp[1]].startswith("x") and text[sp[0]:sp[1]] != "end."]
    assert len(words) >= 2 + len(unpunctuated(3_000)) // 2_000      # the long run is several sentences
    assert all(text[e].isspace() for _, e in words)                 # cut at spaces
    assert sum(1 for s, e in spans if text[s:e].startswith("x")) >= 2   # a word longer than the window: inside


@pytest.mark.parametrize("text", [
    unpunctuated(6_000),                                       # the one long line
    "a. b. c. d. " * 1_000,                                    # the most sentences per character
    "No. " * 1_500 + "Why? " * 500,
    "\n".join(unpunctuated(40, i) for i in range(150)),        # many short lines
])
def test_chunks_and_encoded_texts_grow_linearly_with_characters(text):
    """The stated constants: at most one sentence per 2 characters, one window per sentence
    (plus one per run), so at most n + runs texts to encode for n characters; and each sentence
    within the model's window."""
    fits = encoder.window()
    sizes = []
    for part in (text[:len(text) // 2], text):
        art = qa.Article("x", "x.txt", "x", part, "", ((0, len(part)),))
        chunks = chunk_article(art, 0, DEFAULT, fits)
        sents = {sp for c in chunks for sp in c.sentences}
        assert len(sents) <= len(part) / 2 + 1 and len(chunks) <= len(sents) + 1
        sizes.append(len(chunks) + len(sents))
    assert sizes[1] <= 2 * sizes[0] + 4                        # twice the text, twice the work


def test_an_article_over_the_limit_is_truncated_with_a_warning_and_still_verifies(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEEDS / SHUKLA, folder / SHUKLA)
    head = ("Harbour strike ends\n\nThe dock workers of Gwadar ended their strike on Tuesday after the port "
            "authority agreed to pay the wages owed since March. ")
    tail = "The harbour master of Ormara resigned over the dredging contract. "
    (folder / "long.txt").write_text(head + unpunctuated(2_000) + " " + tail, encoding="utf-8")
    small = replace(DEFAULT, max_article_chars=4_000)
    arts, warnings = read_folder(folder, small)
    long = next(a for a in arts if a.doc_id == "long")
    cut = article_cut(long.text, 4_000)
    assert long.text == (folder / "long.txt").read_text(encoding="utf-8")      # kept whole: its sha256 holds
    assert max(e for _, e in long.body) <= cut <= 4_000 and long.text[cut].isspace()
    assert warnings == [f"truncated long.txt: {len(long.text):,} characters, more than the limit of 4,000 per "
                        f"article (max_article_chars); only the first {cut:,} are indexed"]
    p = qa.Pipeline(folder, tmp_path / "index", settings=small)
    assert p.index.manifest["skipped"] == warnings
    ans = p.ask("When did the dock workers of Gwadar end their strike?")
    assert ans.citations[0].doc_id == "long" and p.verify(ans) == []
    assert all(c.end <= cut for c in p.index.chunks if c.doc_id == "long")
    assert all("Ormara resigned" not in c.text for c in p.index.chunks)        # past the cut: not indexed
    assert p.index.manifest["settings"]["max_article_chars"] == 4_000


def test_an_export_over_the_record_limit_is_skipped_whole_at_once(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps({"text": f"w{i}a2b"}) + "\n" for i in range(2_000)), encoding="utf-8")
    assert read_sources(path, MAX, 1_999) == ([], [
        "skipped tiny.jsonl: 2,000 records, more than the limit of 1,999 per export file (max_export_records); "
        "split it into files of at most 1,999 records"])
    assert len(read_sources(path, MAX, 2_000)[0]) == 2_000
    with pytest.raises(UploadRefused, match="tiny.jsonl: not added .2,000 records, more than the limit of 1,000"):
        store_upload(tmp_path / "articles", path.read_bytes(), "tiny.jsonl", replace(DEFAULT, max_export_records=1_000))
    assert not (tmp_path / "articles").exists()


# ---- exports parsed strictly -------------------------------------------------------------------

@pytest.mark.parametrize("content, texts, warning", [
    # an unclosed quote: the next record was swallowed into this one ("…situati\nthird\"")
    ('text\n"first story about the situati\n"third"\n', ["third"],
     "skipped bad.csv record 1 (line 2): broken CSV quoting (',' expected after '\"')"),
    ('title,text\nA,"First story about the situati\nB,"third"\nC,fourth story\n', ["third", "fourth story"],
     "skipped bad.csv record 1 (line 2): broken CSV quoting (',' expected after '\"')"),
    # a quote left open at the end of the file: never an ordinary record
    ('title,text\nA,fine first\nB,"open to the end\nC,last story\n', ["fine first", "last story"],
     "skipped bad.csv record 2 (line 3): broken CSV quoting (unexpected end of data)"),
    ('title,text\nA,"one\n\ntwo"\nB,stray,comma\n', ["one\n\ntwo"],
     "skipped bad.csv record 2 (line 5): 3 fields where the header has 2 (broken quoting or a stray comma)"),
])
def test_broken_csv_quoting_is_reported_with_its_line_and_never_merged(tmp_path, content, texts, warning):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    sources, warnings = read_sources(path, MAX)
    assert [s.text for s in sources] == texts and warnings == [warning]


def test_jsonl_lines_that_are_not_objects_are_reported_with_their_line(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"text": "A story about the port."}\n\n"just a string"\n[1, 2]\n{"text": "Another story."}\n'
                    '{"text": "cut off\n', encoding="utf-8")
    sources, warnings = read_sources(path, MAX)
    assert [(s.doc_id, s.text) for s in sources] == [("mixed-1", "A story about the port."),
                                                     ("mixed-4", "Another story.")]
    assert warnings[:2] == ["skipped mixed.jsonl record 2 (line 3): not a JSON object (a str)",
                            "skipped mixed.jsonl record 3 (line 4): not a JSON object (a list)"]
    assert warnings[2].startswith("skipped mixed.jsonl record 5 (line 6): not JSON")


# ---- NUL, library log lines, bidi controls -----------------------------------------------------

def test_a_nul_anywhere_is_binary_and_refused(tmp_path):
    data = ("The ferry to Gwadar resumed on Sunday. " * 2_000).encode() + b"\x00" + b"More text after it. " * 10
    assert len(data) > 70_000
    for name in ("late-nul.txt", "late-nul.md"):
        (tmp_path / name).write_bytes(data)
        assert read_sources(tmp_path / name, MAX) == (
            [], [f"skipped {name}: binary file (contains NUL bytes, the first at byte 78,000)"])
    with pytest.raises(UploadRefused, match="late-nul.txt: this is a binary file, not an article"):
        store_upload(tmp_path / "articles", data, "late-nul.txt")
    (tmp_path / "rec.jsonl").write_text(json.dumps({"text": "A story. " * 10_000 + "\x00 end"}) + "\n")
    assert read_sources(tmp_path / "rec.jsonl", MAX)[1][0].startswith(
        "skipped rec.jsonl record 1 (line 1): binary-looking text")


def test_trafilatura_log_lines_are_not_printed_as_qa_s(tmp_path):
    """What the root logger (the CLI's and app.py's handler) receives: qa's lines only. (pytest's
    caplog cannot show this: it hooks every non-propagating logger too.)"""
    page = tmp_path / "front.html"
    page.write_text("<html><head><script>var x = 1;</script></head><body><script>alert(1)</script></body></html>",
                    encoding="utf-8")                        # trafilatura: "discarding data: None"
    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append((record.name, record.getMessage()))
    root, qa_log, keep = logging.getLogger(), logging.getLogger("qa"), Keep()
    root.addHandler(keep)
    level = qa_log.level
    qa_log.setLevel(logging.DEBUG)
    try:
        _, warnings = read_sources(page, MAX)
    finally:
        root.removeHandler(keep)
        qa_log.setLevel(level)
    assert warnings[0].startswith("skipped front.html: no article text found")
    assert [name for name, _ in got if not name.startswith("qa")] == []
    assert ("qa", "trafilatura.core: discarding data: None") in got         # routed, at debug level
    r = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(tmp_path), "--index",
                        str(tmp_path / "index")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "discarding data" not in r.stderr and "no article text found" in r.stderr, r.stderr


def test_bidi_controls_are_isolated_in_the_page():
    hostile = "Moscow talks \u202eslaw eht no nettirw\u202c end"
    c = qa.Citation(doc_id="x", title="\u202eeltit", start=0, end=len(hostile), quote=hostile)
    html = markup.answer_html(qa.Answer(question="q", text=f"{hostile} [1]", citations=(c,), abstained=False))
    assert "\u202e" in html
    for piece in html.split("<bdi>")[1:]:
        assert "</bdi>" in piece
    assert all(p.count("\u202e") == 0 for p in html.split("<bdi>")[0:1])      # none outside an isolate
    outside = "".join(p.split("</bdi>", 1)[-1] for p in html.split("<bdi>"))
    assert "\u202e" not in outside and "\u202c" not in outside
    assert markup.esc("plain text") == "plain text"                            # nothing added where none is


# ---- the index folder: orphans, --force ---------------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("limits-small")
    (d / "seeds").mkdir()
    shutil.copy(SEEDS / SHUKLA, d / "seeds" / SHUKLA)
    store.build(d / "seeds", d / "index")
    return d


def test_the_next_qa_index_of_any_kind_removes_what_a_killed_build_left(small, tmp_path):
    shutil.copytree(small, tmp_path / "c")
    idx = tmp_path / "c" / "index"
    gen = json.loads((idx / "manifest.json").read_text())["generation"]
    (idx / "gen-29991231235959-deadbeef").mkdir()                # renamed into place, manifest never swapped
    (idx / "gen-29991231235959-deadbeef" / "dense.faiss").write_bytes(b"x" * 1000)
    (idx / ".tmp-gen-29991231235959-cafecafe").mkdir()           # killed while writing
    (idx / ".manifest.json.1234abcd.part").write_bytes(b"{")
    r = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(tmp_path / "c" / "seeds"), "--index",
                        str(idx)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "up to date" in r.stdout, r.stdout + r.stderr
    assert sorted(p.name for p in idx.iterdir()) == sorted([".lock", "manifest.json", gen])
    assert "removed what interrupted builds left in" in r.stderr and "gen-29991231235959-deadbeef" in r.stderr


def test_force_takes_the_writer_lock(small, tmp_path):
    shutil.copytree(small, tmp_path / "c")
    seeds, idx = tmp_path / "c" / "seeds", tmp_path / "c" / "index"
    cmd = [sys.executable, "-m", "qa", "index", "--force", "--seeds", str(seeds), "--index", str(idx)]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    logs = "".join(err for _, err in outs)
    assert logs.count("qa: embedding") == 1 and "rebuilt by another process while this one waited" in logs, logs
    assert store.up_to_date(seeds, idx) is not None


# ---- questions while an upload is indexed ------------------------------------------------------

def test_questions_are_answered_from_the_current_index_while_an_upload_is_indexed(small, tmp_path):
    shutil.copytree(small, tmp_path / "c")
    seeds = tmp_path / "c" / "seeds"
    p = qa.Pipeline(seeds, tmp_path / "c" / "index")
    assert not p.ask("Who is Prabhat Shukla?").abstained
    s = store_upload(seeds, MOSCOW.encode(), "kayani.html")
    (seeds / "long.txt").write_text(unpunctuated(12_000), encoding="utf-8")   # work for the update
    job = p.update_in_background()
    assert p.update_in_background() is job and p.updating
    answered = []
    while not job.done.is_set():
        ans = p.ask("What did officials say the talks in Moscow would cover?")   # not waiting for the update
        answered.append((job.done.is_set(), {c.doc_id for c in ans.citations}))
        assert p.follow(every_s=0) is None                    # the update takes the changes in
    assert answered and not answered[0][0] and s.path.stem not in answered[0][1]
    assert job.error is None and "added: long.txt, uploads/" in job.changes and job.seconds > 0
    ans = p.ask("What did officials say the talks in Moscow would cover?")
    assert s.path.stem in {c.doc_id for c in ans.citations} and p.verify(ans) == []


def test_a_failed_update_says_why_and_the_index_as_it_was_keeps_answering(small, tmp_path):
    shutil.copytree(small, tmp_path / "c")
    seeds = tmp_path / "c" / "seeds"
    p = qa.Pipeline(seeds, tmp_path / "c" / "index")
    gen = p.index.manifest["generation"]
    for f in list(seeds.iterdir()):
        f.unlink()                                            # nothing readable left: the update fails
    job = p.update_in_background()
    job.done.wait(120)
    assert job.error and "no readable article" in job.error
    assert p.index.manifest["generation"] == gen and not p.ask("Who is Prabhat Shukla?").abstained
