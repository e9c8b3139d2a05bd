"""The incremental index: adding, changing or removing an article costs about that article,
and gives the same passages as a full rebuild of the same folder.

With the fp32 encoder a text's vector does not depend on the batch it was encoded in, so the
incremental index gives exactly the hits of a full rebuild. The int8 encoder (the default)
quantises activations per batch: a text encoded with other texts moves slightly (cosine >= 0.98),
so near-ties between overlapping windows can fall either way; there the test asks for the same
articles and chunks, the same best passage's article, and vectors that close.
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
from dataclasses import replace

from conftest import SEEDS
from qa.config import DEFAULT
from qa.ingest import known
from qa.pipeline import Pipeline
from qa.store import stale_reason
from qa.store.loading import load
from test_formats import MOSCOW

QUESTIONS = ["Why was Putin's visit cancelled?", "Who is Ruslan Pukhov?", "What did Gazprom want?",
             "When did Kayani arrive in Moscow?", "Which power plant will Russia help Pakistan construct?"]


def places(p: Pipeline) -> list[list[tuple]]:
    return [[(h.doc_id, h.start, h.end) for h in p.retrieve(q, k=5)] for q in QUESTIONS]


def same_as_a_full_build(p: Pipeline, tmp_path, name: str) -> None:
    full = Pipeline(p.seeds_dir, tmp_path / f"full-{name}", settings=p.settings)
    assert full.index.manifest["incremental"]["from_previous"] is False
    on_disk = load(p.seeds_dir, p.index_dir, p.settings)         # the articles a build kept in memory
    assert list(on_disk.articles.values()) == list(p.index.articles.values())   # are the ones it wrote
    assert [a.sha256 for a in p.index.articles.values()] == [a.sha256 for a in full.index.articles.values()]
    assert [(c.doc_id, c.start, c.end) for c in p.index.chunks] == [(c.doc_id, c.start, c.end) for c in full.index.chunks]
    if p.settings.encoder == "onnx":
        assert places(p) == places(full)
        assert np.allclose(p.index.dense.vectors(), full.index.dense.vectors(), atol=1e-5)
        for mine, theirs in ((p.index.sentence_vectors, full.index.sentence_vectors),
                             (p.index.window_vectors, full.index.window_vectors)):
            assert np.array_equal(np.asarray(mine.codes), np.asarray(theirs.codes))   # carried rows = encoded
    else:
        assert [x[0][0] for x in places(p)] == [x[0][0] for x in places(full)]
        cos = np.sum(p.index.dense.vectors() * full.index.dense.vectors(), axis=1)
        assert cos.min() >= 0.98


@pytest.fixture(params=["onnx", "onnx-int8"])
def live(tmp_path, request):
    folder = tmp_path / "articles"
    folder.mkdir()
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, folder)
    p = Pipeline(folder, tmp_path / "index", settings=replace(DEFAULT, encoder=request.param))
    p.index
    return p


def test_an_unchanged_folder_is_not_rebuilt(live):
    assert stale_reason(live.seeds_dir, live.index_dir, live.settings) is None
    gen = json.loads((live.index_dir / "manifest.json").read_text())["generation"]
    live.refresh()
    assert json.loads((live.index_dir / "manifest.json").read_text())["generation"] == gen


def test_adding_a_page_encodes_only_its_texts(live, tmp_path):
    """Only the new page's sentences and windows go to the model; every sentence and window
    indexed before is reused."""
    before, sentences_before = len(live.index.chunks), len(live.index.sentence_spans)
    (live.seeds_dir / "moscow-wire.html").write_text(MOSCOW, encoding="utf-8")
    ix = live.refresh()
    inc = ix.manifest["incremental"]
    added = [c for c in ix.chunks if c.doc_id == "moscow-wire"]
    assert inc["from_previous"] and inc["articles_rechunked"] == 1
    assert len(ix.chunks) == before + len(added)
    sentences = [x for x in ix.sentence_spans if x[0] == "moscow-wire"]
    assert 0 < inc["texts_encoded"] <= len(added) + len(sentences)
    assert inc["texts_reused"] >= sentences_before + before - 5     # a few texts stand twice
    assert live.ask("Who is Ruslan Pukhov?").citations
    same_as_a_full_build(live, tmp_path, "add")


def test_changing_an_article_rechunks_only_it(live, tmp_path):
    path = next(live.seeds_dir.glob("003_*.txt"))
    text = path.read_text(encoding="utf-8")
    footer = text.index("Post a Comment")  # the page's comment box closes the article
    path.write_text(text[:footer] + "Moscow and Islamabad agreed to hold talks on energy cooperation in "
                    "November, officials said.\n\n" + text[footer:], encoding="utf-8")
    ix = live.refresh()
    inc = ix.manifest["incremental"]
    assert inc["articles_rechunked"] == 1 and 0 < inc["texts_encoded"] < 20
    hits = live.retrieve("When will Moscow and Islamabad hold talks on energy cooperation?", k=3)
    assert any("energy cooperation in November" in h.text for h in hits)
    same_as_a_full_build(live, tmp_path, "change")


def test_removing_an_article_encodes_nothing(live, tmp_path):
    next(live.seeds_dir.glob("002_*.txt")).unlink()
    ix = live.refresh()
    inc = ix.manifest["incremental"]
    assert inc["articles_rechunked"] == 0 and inc["texts_encoded"] == 0
    assert not any(c.doc_id.startswith("002") for c in ix.chunks)
    same_as_a_full_build(live, tmp_path, "remove")


def test_an_edit_that_keeps_the_size_is_seen(live):
    """Unchanged files are known by size and modification time; an edit of the same size made
    at once (the same coarse clock tick) or later still counts as a change."""
    path = next(live.seeds_dir.glob("003_*.txt"))
    text = path.read_text(encoding="utf-8")
    edited = text.replace("Russia", "Rossia", 1)
    assert len(edited.encode()) == len(text.encode()) and edited != text
    path.write_text(edited, encoding="utf-8")
    assert "changed: 003_" in stale_reason(live.seeds_dir, live.index_dir, live.settings)
    live.refresh()
    old = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 3_000_000_000, old + 3_000_000_000))
    assert "changed: 003_" in stale_reason(live.seeds_dir, live.index_dir, live.settings)


STORY = ("Officials in Islamabad said on Monday that the pipeline talks with Moscow would resume next month, "
         "after a pause of several weeks.\n\n{head}\n\nThe two sides have not agreed on who will pay for the "
         "survey of the route, a spokesman for the ministry said.\n\nA second round is planned for the spring, "
         "he said, though no date has been fixed.\n")


def test_a_process_that_opened_the_index_cleans_as_a_full_build(live, tmp_path):
    """A process that opened the index from disk knows each stored text's line keys and duplicate
    bands from the index, not from having cleaned it: adding a story that repeats a line of a stored
    one still takes that line out of both, as a full build does."""
    head = "Talks on the gas route stalled again"
    (live.seeds_dir / "talks-a.txt").write_text(STORY.format(head=head), encoding="utf-8")
    live.refresh()
    assert {"lines.npy", "bands.npy"} <= set(live.index.manifest["files"])
    before = live.index.articles["talks-a"]
    assert head in "\n".join(before.text[s:e] for s, e in before.body)
    known.remember({}, live.settings)                  # what a fresh process remembers: nothing
    fresh = Pipeline(live.seeds_dir, live.index_dir, settings=live.settings)
    assert fresh.index.cleaning is not None
    other = STORY.format(head=head).replace("Monday", "Tuesday").replace("next month", "in June")
    (live.seeds_dir / "talks-b.txt").write_text("Separately, " + other, encoding="utf-8")
    ix = fresh.refresh()
    after = ix.articles["talks-a"]
    assert head not in "\n".join(after.text[s:e] for s, e in after.body)
    full = Pipeline(live.seeds_dir, tmp_path / "full-clean", settings=live.settings)
    assert {d: (a.body, a.duplicate_of, a.title) for d, a in ix.articles.items()} == \
           {d: (a.body, a.duplicate_of, a.title) for d, a in full.index.articles.items()}
    same_as_a_full_build(fresh, tmp_path, "clean")
