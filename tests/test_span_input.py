"""The span reader's input and decoding on real seed text and the real tokenizer (no model needed)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import SEEDS, raw
from qa.answering.span_input import MAX_ANSWER, Passage, SpanInput, decode, token_targets
from qa.retrieval.shipped import FOLDER as ENCODER_FOLDER

QUESTION = "Why was Putin's visit to Islamabad cancelled?"


@pytest.fixture(scope="module")
def inputs() -> SpanInput:
    return SpanInput(ENCODER_FOLDER / "tokenizer.json")      # MiniLM's tokenizer, shipped with the encoder


def _passage(index, doc_id: str, first: int, n: int) -> Passage:
    rows = [(s, e) for d, s, e in index.sentence_spans if d == doc_id][first:first + n]
    base = rows[0][0]
    text = index.articles[doc_id].text
    return Passage(index.articles[doc_id].title, text[base:rows[-1][1]], tuple((s - base, e - base) for s, e in rows))


def test_the_input_marks_question_title_and_passage(inputs, index):
    p = _passage(index, "000_d7d3e32efbec5146", 0, 4)
    enc = inputs.encode([QUESTION], [p])
    ids, types = enc.feed["input_ids"][0], enc.feed["token_type_ids"][0]
    ctx = np.flatnonzero(enc.context[0])
    assert ids[0] == inputs.cls and (types[:ctx[0]] == 0).sum() == len(inputs.tokenizer.encode(QUESTION, add_special_tokens=False).ids) + 2
    assert (types[ctx] == 1).all() and enc.feed["attention_mask"][0].sum() == len(ids)
    for t in ctx:                                      # every passage token points at its own characters
        s, e = enc.offsets[0, t]
        piece = inputs.tokenizer.id_to_token(int(ids[t])).removeprefix("##")
        assert p.text[s:e].lower() == piece or piece == "[UNK]"
        k = enc.sentence[0, t]
        assert p.sentences[k][0] <= s < e <= p.sentences[k][1]
    assert not enc.context[0, :ctx[0]].any()           # question and title are never the answer


def test_a_long_passage_is_cut_at_the_room_left(inputs, index):
    doc = "004_2c5c9944de878b35"
    p = _passage(index, doc, 0, 40)
    enc = inputs.encode([QUESTION], [p])
    assert enc.feed["input_ids"].shape[1] == inputs.max_len
    assert enc.context[0].sum() <= inputs.room(QUESTION, p.title)


def test_every_word_maps_to_tokens_and_back(inputs, index):
    docs = sorted({d for d, _, _ in index.sentence_spans})
    assert len(docs) >= 4
    for doc_id in docs:
        p = _passage(index, doc_id, 2, 3)
        assert p.text in raw(SEEDS, doc_id)
        enc = inputs.encode([QUESTION], [p])
        kept = enc.offsets[0, enc.context[0], 1].max()
        words = [m.span() for m in re.finditer(r"\w+(?:[’']\w+)*", p.text) if m.end() <= kept]
        assert len(words) > 20
        for s, e in words:
            starts, ends = token_targets(enc, 0, [(s, e)])
            assert len(starts) == len(ends) == 1
            assert enc.offsets[0, starts[0], 0] <= s and enc.offsets[0, ends[0], 1] >= e
            assert p.text[enc.offsets[0, starts[0], 0]:enc.offsets[0, ends[0], 1]].strip() == p.text[s:e]


def test_decoding_keeps_spans_in_one_sentence_at_word_edges(inputs, index):
    p = _passage(index, "002_5d75630997774f8f", 0, 5)
    enc = inputs.encode([QUESTION] * 3, [p] * 3)
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=enc.context.shape), rng.normal(size=enc.context.shape)
    for spans in decode(enc, start, end):
        assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)
        assert len({s.sentence for s in spans}) == len(spans) == len(p.sentences)
        for sp in spans:
            a, b = p.sentences[sp.sentence]
            assert a <= sp.start < sp.end <= b
            assert p.text[sp.start] not in ",.;:!?)]}"                      # never a word cut in two
            assert sp.start == 0 or not (p.text[sp.start - 1].isalnum() and p.text[sp.start].isalnum())
            assert sp.end == len(p.text) or not (p.text[sp.end - 1].isalnum() and p.text[sp.end].isalnum())
            tokens = enc.context[0] & (enc.offsets[0, :, 0] >= sp.start) & (enc.offsets[0, :, 1] <= sp.end)
            assert tokens.sum() <= MAX_ANSWER


def test_a_clear_span_is_decoded_exactly(inputs, index):
    p = _passage(index, "002_5d75630997774f8f", 0, 5)
    enc = inputs.encode([QUESTION], [p])
    target = re.search(r"Ashfaq Parvez Kayani", p.text)
    assert target
    (s,), (e,) = token_targets(enc, 0, [target.span()])
    start, end = np.zeros(enc.context.shape), np.zeros(enc.context.shape)
    start[0, s], end[0, e] = 8.0, 8.0
    best = decode(enc, start, end)[0][0]
    assert p.text[best.start:best.end] == "Ashfaq Parvez Kayani" and best.score == 16.0 and best.null == 0.0
