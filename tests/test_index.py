"""The persisted index: self-describing, rebuilt when stale, recovered when corrupt, never half-written."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import store as index_mod
from qa.config import DEFAULT, FORMAT_VERSION
from qa.errors import EmptyCorpusError
from qa.retrieval import shipped
from qa.retrieval.search import search
from qa.store import persist

from conftest import SEEDS

SMALL = ["002_5d75630997774f8f.txt", "003_6032db8118f64392.txt"]


@pytest.fixture()
def small(tmp_path):
    """A two-article corpus and a freshly built index of it."""
    seeds, idx = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for name in SMALL:
        shutil.copy(SEEDS / name, seeds / name)
    index_mod.build(seeds, idx)
    return seeds, idx


def test_manifest_describes_the_index(pipeline, index):
    m = json.loads((pipeline.index_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["format_version"] == FORMAT_VERSION
    assert m["model"] == {"name": "sentence-transformers/all-MiniLM-L6-v2", "dim": 384, "encoder": DEFAULT.encoder,
                          "sha256": shipped.sha256()}
    assert m["settings"]["encoder"] == DEFAULT.encoder
    assert m["settings"]["chunk_sentences"] == DEFAULT.chunk_sentences
    assert sorted(m["sources"]) == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert m["counts"]["chunks"] == len(index.chunks) and m["counts"]["indexed_articles"] == 4
    gen = pipeline.index_dir / m["generation"]
    assert set(persist.INDEX_FILES + persist.OPTIONAL_FILES) == set(m["files"])   # a fresh build writes all
    for name in m["files"]:
        assert (gen / name).exists()
    assert not any(p.suffix in (".pkl", ".pickle") for p in gen.iterdir())


def test_reload_gives_the_same_index(pipeline, index):
    again = index_mod.load(pipeline.seeds_dir, pipeline.index_dir)
    assert list(again.chunks) == list(index.chunks)
    q = "Who is Ruslan Pukhov?"
    assert search(again, q) == search(index, q)


def test_current_index_is_not_rebuilt(small, caplog):
    seeds, idx = small
    gen = json.loads((idx / "manifest.json").read_text())["generation"]
    with caplog.at_level(logging.WARNING, logger="qa"):
        index_mod.open_index(seeds, idx)
    assert "building" not in caplog.text
    assert json.loads((idx / "manifest.json").read_text())["generation"] == gen


@pytest.mark.parametrize("change", ["edit", "add", "remove"])
def test_rebuild_when_a_seed_changes(small, caplog, change):
    seeds, idx = small
    if change == "edit":
        with open(seeds / SMALL[0], "a", encoding="utf-8") as f:
            f.write("\nThe zeppelin fleet of Lahore was refitted with solar sails in the spring of that year.\n")
    elif change == "add":
        shutil.copy(SEEDS / "004_2c5c9944de878b35.txt", seeds / "004_2c5c9944de878b35.txt")
    else:
        (seeds / SMALL[1]).unlink()
    assert index_mod.stale_reason(seeds, idx) is not None
    with caplog.at_level(logging.WARNING, logger="qa"):
        ix = index_mod.open_index(seeds, idx)
    assert "building the index" in caplog.text and {"edit": "changed", "add": "added", "remove": "removed"}[change] in caplog.text
    assert index_mod.stale_reason(seeds, idx) is None
    docs = {c.doc_id for c in ix.chunks}
    if change == "edit":
        assert "zeppelin" in search(ix, "zeppelin fleet solar sails", k=1)[0].text
    elif change == "add":
        assert "004_2c5c9944de878b35" in docs
    else:
        assert docs == {SMALL[0][:-4]}
    gens = sorted(g.name for g in idx.glob("gen-*"))
    assert len(gens) == 2 and ix.manifest["generation"] in gens, "the one before stays (a reader may hold it)"
    index_mod.build(seeds, idx)
    assert len(list(idx.glob("gen-*"))) == 2 and ix.manifest["generation"] in {g.name for g in idx.glob("gen-*")}
    index_mod.build(seeds, idx)
    assert ix.manifest["generation"] not in {g.name for g in idx.glob("gen-*")}, "older ones are cleaned up"


@pytest.mark.parametrize("victim", ["chunks.npy", "dense.faiss", "bm25.npy", "bm25.json", "vectors.npy", "sentences.npy",
                                    "manifest.json"])
def test_recovery_from_a_truncated_file(small, caplog, victim):
    seeds, idx = small
    m = json.loads((idx / "manifest.json").read_text())
    path = idx / "manifest.json" if victim == "manifest.json" else idx / m["generation"] / victim
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="qa"):
        ix = index_mod.open_index(seeds, idx)
    assert "building the index" in caplog.text
    assert search(ix, "Who is Prabhat Shukla?", k=1)[0].doc_id == "003_6032db8118f64392"
    assert list(index_mod.load(seeds, idx).chunks) == list(ix.chunks)


def test_settings_change_triggers_rebuild(small):
    from dataclasses import replace
    seeds, idx = small
    other = replace(DEFAULT, chunk_sentences=4)
    assert "settings" in index_mod.stale_reason(seeds, idx, other)


def test_an_index_built_by_another_encoder_file_is_rebuilt(small, caplog):
    """The manifest names the encoder file's sha256: vectors of another model are never mixed in."""
    seeds, idx = small
    path = idx / "manifest.json"
    m = json.loads(path.read_text())
    m["model"]["sha256"] = "0" * 64
    path.write_text(json.dumps(m))
    assert "another encoder model" in index_mod.stale_reason(seeds, idx)
    with caplog.at_level(logging.INFO, logger="qa"):
        ix = index_mod.open_index(seeds, idx)
    assert "building the index" in caplog.text
    assert ix.manifest["model"]["sha256"] == shipped.sha256() and ix.manifest["incremental"]["texts_reused"] == 0
    assert index_mod.stale_reason(seeds, idx) is None


def test_failed_build_leaves_the_old_index_intact(small):
    seeds, idx = small
    before = index_mod.load(seeds, idx).chunks
    for p in seeds.iterdir():
        p.rename(p.with_suffix(".bak"))
    with pytest.raises(EmptyCorpusError):
        index_mod.open_index(seeds, idx)
    for p in seeds.iterdir():
        p.rename(p.with_suffix(".txt"))
    assert index_mod.load(seeds, idx).chunks == before
    assert not list(idx.glob(".tmp-*"))


def test_an_index_of_the_previous_format_is_rebuilt_once_saying_why(small, caplog):
    """Format 3 (int8 vectors, compact tables) cannot read format 2's files: such an index is
    rebuilt once, with a message that says so, and then serves without another rebuild."""
    seeds, idx = small
    path = idx / "manifest.json"
    m = json.loads(path.read_text())
    m["format_version"] = FORMAT_VERSION - 1
    path.write_text(json.dumps(m))
    why = index_mod.stale_reason(seeds, idx)
    assert f"index format {FORMAT_VERSION - 1}" in why and "rebuilt once" in why
    with caplog.at_level(logging.WARNING, logger="qa"):
        ix = index_mod.open_index(seeds, idx)
    assert "building the index" in caplog.text and "rebuilt once" in caplog.text
    assert ix.manifest["format_version"] == FORMAT_VERSION and ix.manifest["incremental"]["texts_reused"] == 0
    assert index_mod.stale_reason(seeds, idx) is None


def test_tables_and_vectors_are_memory_mapped_and_match_the_records(index):
    """The large arrays are mapped from the generation's files, not read into memory; the window
    records made from the tables cut their text from the article, and the int8 sentence vectors
    stay unit vectors to within the rounding of one step."""
    assert isinstance(index.sentence_vectors.codes.base, np.memmap) and isinstance(index.chunks.runs.base, np.memmap)
    for c in index.chunks:
        assert c.text == index.articles[c.doc_id].text[c.start:c.end]
        assert [index.sentence_spans.row((c.doc_id, s, e)) for s, e in c.sentences] == list(
            range(index.chunks.runs[c.chunk_id][0], index.chunks.runs[c.chunk_id][0] + len(c.sentences)))
    norms = np.linalg.norm(index.sentence_vectors[:], axis=1)
    assert np.abs(norms - 1).max() < 0.01
