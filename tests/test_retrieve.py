"""qa.retrieve on the real seeds and the real model."""
from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Plus

import qa
from qa.retrieval import encoder as dense
from qa.text import tokenize

from conftest import raw

# Questions whose expected passage must be among the first three hits (exact and paraphrased wording).
TOP3 = ["putin-why", "pukhov", "arms-share", "arms-exporter", "kayani-when", "gazprom-want",
        "years-no-visit", "us-share", "rafale", "steel-mills", "pant", "lavrov-purpose", "envoy", "sco",
        "air-chief", "makarov", "shukla", "banerji", "ndn", "jamshoro", "dushanbe",
        "china-arms"]


@pytest.mark.parametrize("qid", TOP3)
def test_expected_passage_in_top3(pipeline, questions, qid):
    q = next(q for q in questions if q["id"] == qid)
    hits = qa.retrieve(q["question"], k=3)
    assert any(a in h.text for h in hits for a in q["answers"]), [h.text[:80] for h in hits]


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_hits_meet_the_contract(pipeline, seeds_dir, questions, mode):
    for q in questions:
        hits = qa.retrieve(q["question"], k=5, mode=mode)
        assert len(hits) <= 5
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        spans = {}
        for h in hits:
            assert raw(seeds_dir, h.doc_id)[h.start:h.end] == h.text
            for s, e in spans.get(h.doc_id, []):
                assert h.end <= s or e <= h.start, "two hits overlap in one story"
            spans.setdefault(h.doc_id, []).append((h.start, h.end))
            assert not h.doc_id.startswith("001"), "the duplicate scrape fills a slot"
            for loc in h.also_in:
                assert raw(seeds_dir, loc.doc_id)[loc.start:loc.end]
            if mode == "bm25":
                assert h.bm25_rank is not None and h.dense_rank is None
            if mode == "dense":
                assert h.dense_rank is not None and -1.0 <= h.dense_score <= 1.0


def test_hybrid_explains_itself(pipeline, index):
    s = index.settings
    h = qa.retrieve("Who is Ruslan Pukhov?", k=5)[0]
    assert h.bm25_rank is not None and h.dense_rank is not None
    assert h.score == pytest.approx(s.weight_bm25 / (s.rrf_k + h.bm25_rank) + s.weight_dense / (s.rrf_k + h.dense_rank))


def test_duplicate_scrape_shows_as_also_in(pipeline):
    hits = qa.retrieve("Putin's office said it was due to scheduling conflicts", k=3)
    top = hits[0]
    assert top.doc_id.startswith("000") and "scheduling conflicts" in top.text
    assert [loc.doc_id[:3] for loc in top.also_in] == ["001"]


def test_k_is_clamped_to_the_corpus(pipeline, index):
    hits = qa.retrieve("Pakistan", k=10_000)
    assert 1 <= len(hits) <= len(index.chunks)


@pytest.mark.parametrize("question, message", [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 5000, "characters long"), ("bad\x00byte", "NUL"),
])
def test_bad_questions_are_clear_value_errors(pipeline, question, message):
    with pytest.raises(ValueError, match=message):
        qa.retrieve(question)


@pytest.mark.parametrize("kwargs, message", [
    ({"k": 0}, "k must be"), ({"k": -3}, "k must be"), ({"k": "5"}, "k must be"), ({"mode": "sparse"}, "unknown mode"),
])
def test_bad_arguments(pipeline, kwargs, message):
    with pytest.raises(ValueError, match=message):
        qa.retrieve("Who is Ruslan Pukhov?", **kwargs)


def test_question_not_text(pipeline):
    with pytest.raises(ValueError, match="must be text"):
        qa.retrieve(b"bytes question")


def test_hostile_and_unicode_questions_do_not_break(pipeline):
    for q in ["<script>alert(1)</script>", "'; DROP TABLE chunks; --", "Путин Пакистан", "🙂🙂🙂", "?!?"]:
        hits = qa.retrieve(q, k=3)
        assert len(hits) <= 3


QUERIES = ["Who is Ruslan Pukhov?", "Gazprom pipeline bidding", "Putin visit cancelled scheduling",
           "arms exporter share", "Kayani Moscow four-day visit", "Pakistan Russia India relations"]


@pytest.mark.parametrize("query", QUERIES)
def test_bm25_equals_rank_bm25(index, query):
    corpus = [tokenize(c.text) for c in index.chunks]
    ref = BM25Plus(corpus, k1=index.settings.bm25_k1, b=index.settings.bm25_b, delta=0)
    want = np.array(ref.get_scores(tokenize(query)))
    got = index.bm25.scores(tokenize(query))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    order = sorted(range(len(want)), key=lambda i: (-want[i], i))
    top = [i for i in order if want[i] > 0][:10]
    assert [d for d, _ in index.bm25.search(tokenize(query), 10)] == top


def test_faiss_equals_brute_force_cosine(index):
    vecs = index.dense.vectors()                 # the stored vectors: faiss must rank them exactly
    assert vecs.shape == (len(index.chunks), 384)
    assert np.abs(np.linalg.norm(vecs, axis=1) - 1).max() < 0.01      # unit, to within the 8-bit codes
    for query in QUERIES:
        qv = dense.embed([query])[0]
        cos = vecs @ qv                          # inner product of the decoded codes: what faiss computes
        want = np.argsort(-cos, kind="stable")[:10]
        got = index.dense.search(qv, 10)
        assert [d for d, _ in got] == list(want)
        np.testing.assert_allclose([s for _, s in got], cos[want], atol=1e-4)
