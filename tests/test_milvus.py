"""The Milvus backend against a real Milvus protocol server: a `milvus-lite server` started here
on 127.0.0.1 and a free port, stopped by its PID (or the server $MILVUS_URI names, when set).

The same seed articles are indexed once; the embedded pipeline and the Milvus one search the same
chunks, so their answers can be compared passage for passage. Assertions are on ids and order,
never on raw scores (milvus-lite negates BM25 scores, and a real server scores differently).
Skipped when pymilvus or milvus-lite is not installed, except with QA_REQUIRE_SCALE=1 (CI).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO, SEEDS, copy_seeds

REQUIRED = os.environ.get("QA_REQUIRE_SCALE") == "1"


def _need(module: str):
    try:
        __import__(module)
    except ImportError:
        if REQUIRED:
            raise
        pytest.skip(f"{module} is not installed (pip install -e '.[milvus]')", allow_module_level=True)


_need("pymilvus")
if not os.environ.get("MILVUS_URI"):
    _need("milvus_lite")

from qa.errors import BackendError, QAError  # noqa: E402
from qa.measure.stand_ins import listeners, loopback, milvus_lite  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402
from qa.retrieval.backend import configured  # noqa: E402
from qa.retrieval.milvus import expression  # noqa: E402
from qa.retrieval.filters import make_filter  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(uri, pid or None): the server the tests talk to."""
    if os.environ.get("MILVUS_URI"):
        yield os.environ["MILVUS_URI"], None
        return
    with milvus_lite(tmp_path_factory.mktemp("milvus")) as (uri, pid):
        yield uri, pid
    assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0, "milvus-lite left running"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return copy_seeds(tmp_path_factory.mktemp("milvus-seeds"))


@pytest.fixture(scope="module")
def both(server, folder, tmp_path_factory, monkeypatch_module):
    """(embedded pipeline, milvus pipeline) over one index folder of the seeds."""
    uri, _ = server
    monkeypatch_module.setenv("MILVUS_URI", uri)
    ix = tmp_path_factory.mktemp("milvus-index")
    emb = Pipeline(folder, ix, backend="embedded")
    emb.index
    mil = Pipeline(folder, ix, backend="milvus")
    mil.index
    yield emb, mil
    mil.index.backend.drop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_the_server_listens_on_loopback_only(server):
    uri, pid = server
    if pid is None:
        pytest.skip("an external server ($MILVUS_URI)")
    found = listeners([pid])
    assert found and all(loopback(a) for a in found), found


def test_the_collection_holds_every_chunk_once(both):
    emb, mil = both
    b = mil.index.backend
    assert b.name == "milvus" and b.count() == len(emb.index.chunks)
    assert mil.synced["added"] == len(emb.index.chunks)
    assert b.sync(mil.index) == {"added": 0, "removed": 0, "kept": len(emb.index.chunks)}   # nothing sent again


def test_dense_search_agrees_with_faiss(both, questions):
    emb, mil = both
    asked = [q["question"] for q in questions]
    same = sum([h.chunk_id for h in emb.retrieve(q, k=5, mode="dense")] ==
               [h.chunk_id for h in mil.retrieve(q, k=5, mode="dense")] for q in asked)
    assert same >= 0.9 * len(asked), f"{same} of {len(asked)} top-5 lists equal"


def test_hybrid_and_bm25_lead_with_the_same_passage(both, questions):
    """Milvus's BM25 idf is log(1 + (N - df + 0.5) / (df + 0.5)), ours log((N + 1) / df), and its
    RRF has no per-route weights: on these 4 overlapping articles (122 windows) the top passages
    differ a little (measured: BM25 38 of 42 overlapping, hybrid 37 of 42), the answers hardly."""
    emb, mil = both
    answerable = [q["question"] for q in questions if not q.get("unanswerable")]
    for mode, floor in (("bm25", 0.85), ("hybrid", 0.8)):
        near = 0
        for q in answerable:
            a, b = emb.retrieve(q, k=3, mode=mode)[:1], mil.retrieve(q, k=3, mode=mode)[:1]
            near += (not a and not b) or bool(a and b) and a[0].doc_id == b[0].doc_id and (
                a[0].start < b[0].end and b[0].start < a[0].end)           # the same or an overlapping window
        assert near >= floor * len(answerable), f"{mode}: {near} of {len(answerable)}"


def test_answers_lead_with_the_same_citation_on_both(both, questions):
    emb, mil = both
    same = 0
    for q in questions:
        a, b = emb.ask(q["question"]), mil.ask(q["question"])
        same += a.abstained == b.abstained and [(c.doc_id, c.start, c.end) for c in a.citations[:1]] == \
            [(c.doc_id, c.start, c.end) for c in b.citations[:1]]
    assert same >= 0.9 * len(questions), f"{same} of {len(questions)}"     # measured: 41 of 42


def test_fused_by_milvus_itself(both, questions):
    """milvus_fusion="server": one hybrid_search with Milvus's RRFRanker (no per-route weights)."""
    from dataclasses import replace
    emb, mil = both
    server = Pipeline(mil.seeds_dir, mil.index_dir, settings=replace(mil.settings, milvus_fusion="server"),
                      backend="milvus")
    assert server.index.backend.fuses and server.synced["added"] == 0        # the same collection
    answerable = [q["question"] for q in questions if not q.get("unanswerable")]
    near = 0
    for q in answerable:
        a, b = emb.retrieve(q, k=3), server.retrieve(q, k=3)
        assert b and all(h.bm25_rank is None and h.dense_rank is None for h in b)   # fused there: no route ranks
        near += a[0].doc_id == b[0].doc_id and a[0].start < b[0].end and b[0].start < a[0].end
    assert near >= 0.8 * len(answerable), f"{near} of {len(answerable)}"        # measured: 36 of 42


def test_every_hit_is_verbatim_and_answers_verify(both, folder, questions):
    _, mil = both
    for q in questions[:12]:
        for h in mil.retrieve(q["question"], k=5):
            assert (folder / f"{h.doc_id}.txt").read_text(encoding="utf-8")[h.start:h.end] == h.text
        ans = mil.ask(q["question"])
        assert mil.verify(ans) == []
    ans = mil.ask("Why was Putin's visit to Pakistan cancelled?")
    assert not ans.abstained and "Putin" in ans.text
    assert any(c.also_in for c in ans.citations)          # "also in" holds on Milvus too
    assert mil.ask("What is the capital of France?").abstained


def test_filters_work_inside_milvus(both):
    emb, mil = both
    hits = mil.retrieve("Putin Pakistan visit", k=5, since="2012-10-05")
    assert hits and all(h.date and h.date >= "2012-10-05" for h in hits)
    assert hits[0].doc_id == emb.retrieve("Putin Pakistan visit", k=5, since="2012-10-05")[0].doc_id
    assert mil.retrieve("Putin", k=5, until="1999-01-01") == []
    for hostile in ['" or id >= 0 or outlet == "', "x\\", 'a"]) or (["b', "a\nb", "\u00e9\u202e"]:
        assert mil.retrieve("Putin", k=5, outlets=[hostile]) == []          # no outlet has that name


def test_a_date_phrase_filters_inside_milvus(both):
    emb, mil = both
    hits = mil.retrieve("Putin Pakistan visit in October 2012", k=5)
    assert hits and all(h.date == "2012-10-08" for h in hits)
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in emb.retrieve("Putin Pakistan visit in October 2012", k=5)]
    a = mil.ask("What did Pakistan say in October 2012?")
    assert a.dates.applied and a.citations and all(c.date == "2012-10-08" for c in a.citations)
    assert mil.ask("Which Pakistani air force chief went to Moscow in August?").dates.applied is False


def test_a_filter_expression_cannot_be_escaped():
    f = make_filter(outlets=['dawn" or id >= 0 or outlet == "x'])
    assert expression(f) == 'outlet in ["dawn\\" or id >= 0 or outlet == \\"x"]'
    assert expression(make_filter(since="2012-10-05")) == 'date != "" and date >= "2012-10-05"'


def test_the_collection_follows_the_folder(both, folder, tmp_path):
    emb, mil = both
    new = folder / "zz_milvus_new.txt"
    new.write_text("Milvus test town\n\nThe mayor of Quarnsby opened a new glassworks on Tuesday. "
                   "It employs forty people.\n", encoding="utf-8")
    try:
        mil.refresh()
        assert mil.synced["added"] >= 1 and mil.synced["removed"] == 0
        q = "Who opened the glassworks in Quarnsby?"
        # milvus-lite scores BM25 per segment (its own TODO) and a new article is a segment of one
        # until compaction merges it, so its words weigh little there; the vector search is exact
        # (measured: BM25 rank 13, dense rank 1, hybrid rank 2; the answer cites it)
        assert mil.retrieve(q, k=1, mode="dense")[0].doc_id == "zz_milvus_new"
        assert "zz_milvus_new" in [h.doc_id for h in mil.retrieve(q, k=3)]
        assert mil.ask(q).citations[0].doc_id == "zz_milvus_new"
    finally:
        new.unlink()
    mil.refresh()
    assert mil.synced["removed"] >= 1 and mil.synced["added"] == 0
    assert mil.index.backend.count() == len(mil.index.chunks)
    assert all(h.doc_id != "zz_milvus_new" for h in mil.retrieve("Who opened the glassworks in Quarnsby?", k=5))
    emb.refresh()


def test_misconfiguration_is_one_clear_error(tmp_path, monkeypatch):
    from qa.config import DEFAULT
    monkeypatch.delenv("MILVUS_URI", raising=False)
    with pytest.raises(BackendError, match="MILVUS_URI"):
        configured(tmp_path, DEFAULT, "milvus")
    with pytest.raises(BackendError, match="unknown retrieval backend"):
        configured(tmp_path, DEFAULT, "elastic")
    assert configured(tmp_path, DEFAULT).name == "embedded"      # nothing set: the embedded default
    env = {**os.environ, "QA_SEEDS": str(SEEDS), "QA_INDEX": str(tmp_path / "ix"),
           "QA_BACKEND": "milvus", "MILVUS_URI": "http://127.0.0.1:9"}
    r = subprocess.run([sys.executable, "-m", "qa", "ask", "Who is Ruslan Pukhov?"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("qa ask: cannot reach Milvus at http://127.0.0.1:9")
    assert issubclass(BackendError, QAError)


def test_the_backends_bench_runs_and_reports_agreement(tmp_path):
    env = {**os.environ}
    env.pop("QA_MILVUS_COLLECTION", None)
    r = subprocess.run([sys.executable, "-m", "qa", "bench", "--backends", "--quick", "--json"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    import json
    out = json.loads(r.stdout)
    assert out["milvus_insert"]["chunks"] == out["build_in_process"]["chunks"] > 100
    for mode in ("hybrid", "bm25", "dense"):
        q = out["queries"][mode]
        assert q["retrieve"]["milvus"]["n"] == q["retrieve"]["embedded"]["n"] == out["questions"]
        assert 0.0 <= q["same_top"] <= q["same_or_overlapping_top"] <= 1.0
    assert out["queries"]["dense"]["same_top"] >= 0.9


def test_the_chat_says_when_milvus_cannot_be_reached(folder, tmp_path, monkeypatch):
    from qa.chat.app import responder
    monkeypatch.setenv("MILVUS_URI", "http://127.0.0.1:9")          # nothing listens there
    p = Pipeline(folder, tmp_path / "index", backend="milvus")
    chat = responder(p, str(tmp_path))("Who is Ruslan Pukhov?", [], [], "hybrid", 8)[0]
    reply = chat[-1]["content"]
    assert "The search backend cannot be used." in reply and "Cannot reach Milvus at http://127.0.0.1:9: " in reply
    assert "Traceback" not in reply and "something went wrong" not in reply


@pytest.mark.parametrize("query", ["Gazprom", "Putin's cancelled visit to Pakistan", "Kayani"])
def test_stories_list_the_same_articles_on_both(both, query):
    """qa.stories reads each query word's chunks through the backend at full depth: the same
    articles on both backends, grouped alike, every citation verbatim."""
    emb, mil = both
    a, b = emb.stories(query), mil.stories(query)
    assert a.stories and [s.doc_ids for s in a.stories] == [s.doc_ids for s in b.stories]
    assert mil.verify(b) == []


def test_a_doc_id_filter_holds_on_milvus(both):
    emb, mil = both
    only = sorted(d for d, a in mil.index.articles.items() if not a.duplicate_of)[2:3]
    hits = mil.retrieve("Why was Putin's visit cancelled?", k=5, doc_ids=only)
    assert hits and {h.doc_id for h in hits} == set(only)
    assert {c.doc_id for c in mil.ask("Why was Putin's visit cancelled?", doc_ids=only).citations} <= set(only)
