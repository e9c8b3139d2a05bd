"""Property tests (Hypothesis) for the sentence splitter, the tokenizer, the chunker and BM25.

Texts mix arbitrary unicode with the awkward pieces a scraped article brings: emoji,
right-to-left scripts, combining marks, NUL and control characters, CRLF, very long
words, lines without punctuation, lines of only punctuation or only whitespace.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import replace

import numpy as np
from hypothesis import example, given, settings, strategies as st
from rank_bm25 import BM25Plus

from qa.config import DEFAULT
from qa.ingest.boilerplate import lines
from qa.ingest.chunking import chunk_article, runs, sentences
from qa.ingest.formats import Source
from qa.ingest.read import clean_all, sha256_text
from qa.retrieval.lexical import BM25
from qa.text import WORD, fold, tokenize
from qa.types import Article

FRAGMENTS = [
    "😀", "👩‍👩‍👧", "🇵🇰", "שלום עולם", "مرحبا بالعالم", "\u200f", "\u202e", "e\u0301", "\u0301\u0302",
    "Z\u0351\u0360\u0361", "\x00", "\x01", "\x1b", "\x1c", "\x1f", "\x1f2. ", "\x7f", "\x85", "\u2028", "\ufeff",
    "\r\n", "\r", "\n", "\n\n", "\t", " ", "\u00a0", "\u3000", ". ", "! ", "? ", "...", "!!!",
    "“", "”", "'", "\"", "(", ")",
    "U.S. ", "Mr. ", "1. ", "Putin met Sharif in Moscow. ", "no punctuation at all here", "ℌ", "𝐇𝐞𝐥𝐥𝐨",
    "Clarín", "İ", "ß", "ﬁ", "½", "Ⅻ", "a_b", "ΑΣ", "中文句子。", "Ελληνικά.",
]
long_word = st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "😀", "ab", "\u0301"]),
                      st.integers(500, 4_500))
pieces = st.one_of(st.text(max_size=30), st.sampled_from(FRAGMENTS), st.sampled_from(FRAGMENTS),
                   st.text(alphabet=".,;:!?-—\"'“”()[]…", min_size=1, max_size=20),
                   st.text(alphabet=" \t\r\n\u00a0\u2028\u3000\x0b\x0c", min_size=1, max_size=10))
texts = st.lists(pieces, max_size=25).map("".join)
texts_long = st.lists(st.one_of(pieces, long_word), max_size=8).map("".join)

SPECIAL = ["", " \t \r\n ", "....!!!???", "\x00\x00\x00", "a\r\nb. c\r\n", "x" * 4_500,
           "no punctuation on this line\nnor on this one", "😀👩‍👩‍👧 שלום. مرحبا. e\u0301te\u0301."]
FAST = settings(max_examples=60, deadline=None)
SLOW = settings(max_examples=25, deadline=None)


def covered(spans, start, end, text) -> bool:
    """Every letter and digit of text[start:end] lies in one of the spans (pysbd may drop a
    trailing " ?!" or " !!" after a sentence: punctuation only, so not checked)."""
    inside = np.zeros(end - start, dtype=bool)
    for s, e in spans:
        inside[s - start:e - start] = True
    return all(inside[i - start] or not text[i].isalnum() for i in range(start, end))


# --- sentences -------------------------------------------------------------------------

def check_spans(text: str, start: int, end: int, spans) -> None:
    prev = start
    for s, e in spans:
        assert isinstance(s, int) and isinstance(e, int)
        assert prev <= s < e <= end, (spans, start, end)      # inside, ordered, non-overlapping, non-empty
        piece = text[s:e]
        assert piece == piece.strip() and piece                # stripped of surrounding whitespace
        prev = e
    assert covered(spans, start, end, text), "a letter or digit of the text is in no sentence"


@FAST
@given(texts_long, st.data())
@example(text="", data=None)
@example(text="a\r\nb. c\r\n", data=None)
@example(text="\x1f1. Go.", data=None)     # pysbd raised ValueError: int("\x1f1")
def test_sentence_spans_lie_in_the_text_in_order(text, data):
    start, end = (0, len(text)) if data is None else sorted(
        data.draw(st.tuples(st.integers(0, len(text)), st.integers(0, len(text)))))
    check_spans(text, start, end, sentences(text, start, end))


@FAST
@given(st.one_of(texts, st.sampled_from(SPECIAL)), st.integers(5, 200))
def test_sentence_spans_hold_with_a_small_piece_limit(text, limit):
    spans = sentences(text, 0, len(text), replace(DEFAULT, max_sentence_chars=limit))
    check_spans(text, 0, len(text), spans)


@FAST
@given(st.one_of(texts_long, st.sampled_from(SPECIAL)))
@example(text="harbour ferry cargo " * 400)
@example(text="\uac01" * 300)                  # a Hangul syllable is 3 tokens
def test_with_the_model_s_window_every_sentence_fits_and_there_are_at_most_n_over_2(text):
    from qa.retrieval.encoder import window
    fits = window()
    spans = sentences(text, 0, len(text), DEFAULT, fits)
    check_spans(text, 0, len(text), spans)
    assert all(fits(text[s:e]) == e - s for s, e in spans)
    assert len(spans) <= len(text) / 2 + 1


@FAST
@given(texts, texts, texts)
def test_sentences_do_not_depend_on_the_text_around_the_span(before, mid, after):
    whole = before + mid + after
    at = len(before)
    assert sentences(whole, at, at + len(mid)) == [(s + at, e + at) for s, e in sentences(mid, 0, len(mid))]
    assert sentences(whole, at, at + len(mid)) == sentences(whole, at, at + len(mid))   # deterministic


# --- tokenizer ---------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.one_of(texts_long, st.text(), st.sampled_from(SPECIAL)))
@example("ℌ")            # black-letter capital: no lower case of its own, NFKD gives "H"
@example("𝐇𝐞𝐥𝐥𝐨 world")  # mathematical bold, as in "fancy text" posts
def test_tokens_are_folded_words_and_deterministic(text):
    toks = tokenize(text)
    assert isinstance(toks, list) and toks == tokenize(text)
    for t in toks:
        assert isinstance(t, str) and t
        assert not any(ch.isspace() for ch in t)
        assert WORD.fullmatch(t), t
        assert t == t.lower(), t                                  # folding lower-cases
        assert not any(unicodedata.combining(ch) for ch in t), t  # and strips accents
    assert fold(fold(text)) == fold(text)
    assert tokenize(fold(text)) == toks


@settings(max_examples=200, deadline=None)
@given(texts, texts)
def test_tokens_of_two_texts_joined_by_a_space(a, b):
    assert tokenize(a + " " + b) == tokenize(a) + tokenize(b)


@settings(max_examples=200, deadline=None)
@given(st.one_of(texts, st.text()))
def test_tokens_ignore_unicode_normal_form(text):
    nfc, nfd = unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)
    assert tokenize(nfc) == tokenize(nfd)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,", max_size=60))
def test_tokens_ignore_case(text):
    assert tokenize(text.upper()) == tokenize(text.lower()) == tokenize(text)


# --- chunker -----------------------------------------------------------------------------

chunk_settings = st.builds(lambda size, overlap, limit: replace(DEFAULT, chunk_sentences=size,
                                                                chunk_overlap=min(overlap, size),
                                                                max_sentence_chars=limit),
                           st.integers(1, 5), st.integers(0, 5), st.sampled_from([30, 300, 2_000]))


def article_of(text: str, body) -> Article:
    return Article(doc_id="doc", path="doc.txt", title="t", text=text, sha256=sha256_text(text), body=tuple(body))


def check_chunks(article: Article, chunks, first_id: int, cfg) -> None:
    text = article.text
    assert [c.chunk_id for c in chunks] == list(range(first_id, first_id + len(chunks)))
    for c in chunks:
        assert c.doc_id == article.doc_id
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start:c.end] == c.text and c.text == c.text.strip()
        assert 1 <= len(c.sentences) <= cfg.chunk_sentences
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end
        assert list(c.sentences) == sorted(c.sentences)
        assert article.in_body(c.start, c.end), (c.start, c.end, article.body)
    # every sentence of the body is in a chunk, each window a run of consecutive sentences
    step = max(1, cfg.chunk_sentences - cfg.chunk_overlap)
    all_sents = []
    for run in runs(article):
        sents = [sp for s, e in run for sp in sentences(text, s, e, cfg)]
        all_sents += sents
        mine = [c for c in chunks if c.sentences[0] in sents]
        for i, c in enumerate(mine):
            at = sents.index(c.sentences[0])
            assert at == i * step and list(c.sentences) == sents[at:at + cfg.chunk_sentences]
    assert {sp for c in chunks for sp in c.sentences} == set(all_sents)


@FAST
@given(st.one_of(texts_long, st.sampled_from(SPECIAL)), chunk_settings, st.integers(0, 1_000))
@example(text="One. Two. Three. Four. Five. Six.", cfg=DEFAULT, first_id=7)
def test_chunks_are_verbatim_windows_of_body_sentences(text, cfg, first_id):
    article = article_of(text, lines(text))
    check_chunks(article, chunk_article(article, first_id, cfg), first_id, cfg)


@SLOW
@given(st.lists(texts, min_size=1, max_size=3))
def test_chunks_of_cleaned_articles(bodies):
    """The real path: `clean_all` picks the body (boilerplate, repeated lines), then chunking."""
    sources = [Source(doc_id=f"d{i}", path=f"d{i}.txt", text=t, title=None, date=None, outlet=None,
                      author=None, url=None, extractor="text", record=None) for i, t in enumerate(bodies)]
    for article in clean_all(sources):
        for s, e in article.body:
            assert 0 <= s < e <= len(article.text) and article.text[s:e].strip()
        check_chunks(article, chunk_article(article, 0, DEFAULT), 0, DEFAULT)


# --- BM25 --------------------------------------------------------------------------------

VOCAB = ["putin", "pakistan", "russia", "visit", "gas", "\x00", "😀", "שלום", "e\u0301", "a b", ""]
docs = st.lists(st.lists(st.sampled_from(VOCAB), max_size=12), max_size=8)
query = st.lists(st.sampled_from(VOCAB + ["unknown", "zzz"]), max_size=6)


def bm25(corpus) -> BM25:
    return BM25(DEFAULT.bm25_k1, DEFAULT.bm25_b).index(corpus)


def reference_top(scores: np.ndarray, k: int) -> list[int]:
    order = sorted((d for d in range(len(scores)) if scores[d] > 0), key=lambda d: (-scores[d], d))
    return order[:k]


@settings(max_examples=150, deadline=None)
@given(docs, query)
@example(corpus=[], q=["putin"])
@example(corpus=[[], []], q=["putin"])
def test_bm25_scores_are_finite_nonnegative_and_zero_without_shared_terms(corpus, q):
    idx = bm25(corpus)
    s = idx.scores(q)
    assert s.shape == (len(corpus),)
    assert np.all(np.isfinite(s)) and np.all(s >= 0)
    for d, toks in enumerate(corpus):
        if set(toks) & set(q):
            assert s[d] > 0
        else:
            assert s[d] == 0
    if corpus and any(corpus):
        ref = BM25Plus(corpus, k1=DEFAULT.bm25_k1, b=DEFAULT.bm25_b, delta=0).get_scores(q)
        assert np.allclose(s, ref, rtol=1e-4, atol=1e-5)
    assert np.allclose(idx.scores(q + q), 2 * s, rtol=1e-5, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(docs.filter(lambda c: len(c) >= 1), query, st.data())
def test_bm25_a_term_found_in_one_doc_only_raises_that_doc_alone(corpus, q, data):
    d = data.draw(st.integers(0, len(corpus) - 1))
    corpus = [toks + (["onlyhere"] * data.draw(st.integers(1, 3)) if i == d else []) for i, toks in enumerate(corpus)]
    idx = bm25(corpus)
    before, after = idx.scores(q), idx.scores(q + ["onlyhere"])
    gain = after - before
    assert gain[d] > 0
    assert np.all(np.delete(gain, d) == 0)
    rank = lambda s: sum(1 for o in range(len(s)) if (s[o], -o) > (s[d], -d))
    assert rank(after) <= rank(before)


@settings(max_examples=150, deadline=None)
@given(docs, query, st.integers(-1, 10), st.data())
@example(corpus=[["putin"]] * 6, q=["putin"], k=2, data=None)
@example(corpus=[["putin"], ["putin"], ["putin"] * 3, ["putin"] * 3], q=["putin"], k=1, data=None)  # gave doc 3
def test_bm25_search_is_the_top_k_of_the_scores(corpus, q, k, data):
    idx = bm25(corpus)
    s = idx.scores(q)
    got = idx.search(q, k)
    assert [d for d, _ in got] == reference_top(s, max(k, 0))
    assert all(score > 0 and math.isfinite(score) and score == float(s[d]) for d, score in got)
    if corpus and data is not None:
        mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(corpus), max_size=len(corpus))), dtype=bool)
        masked = idx.search(q, k, mask=mask)
        assert [d for d, _ in masked] == reference_top(np.where(mask, s, 0), max(k, 0))


@settings(max_examples=60, deadline=None)
@given(docs, st.lists(st.sampled_from(["unknown", "zzz", "\x01", "🙃"]), max_size=5), st.integers(0, 10))
def test_bm25_unknown_terms_find_nothing(corpus, q, k):
    idx = bm25(corpus)
    assert not idx.scores(q).any()
    assert idx.search(q, k) == []


def test_bm25_empty_corpus_and_empty_docs():
    for corpus in ([], [[]], [[], [], []]):
        idx = bm25(corpus)
        assert idx.n_docs == len(corpus)
        assert idx.scores(["putin"]).tolist() == [0.0] * len(corpus)
        assert idx.scores([]).tolist() == [0.0] * len(corpus)
        assert idx.search(["putin"], 5) == [] and idx.search([], 5) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(texts, st.sampled_from(SPECIAL)), max_size=6), st.one_of(texts, st.sampled_from(SPECIAL)))
def test_bm25_over_tokenized_text_survives_to_files_and_back(articles, question):
    corpus = [tokenize(t) for t in articles]
    idx = bm25(corpus)
    q = tokenize(question)
    head, postings = idx.to_files()
    back = BM25.from_files(head, postings)
    assert np.array_equal(back.scores(q), idx.scores(q))
    assert back.search(q, 5) == idx.search(q, 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(texts, st.sampled_from(SPECIAL)), max_size=6), st.lists(st.booleans(), min_size=6, max_size=6),
       st.lists(st.tuples(st.one_of(texts, st.sampled_from(SPECIAL)), st.integers(0, 6)), max_size=3),
       st.one_of(texts, st.sampled_from(SPECIAL)))
def test_bm25_merged_equals_bm25_built_from_scratch(articles, kept, added, question):
    """A rebuild carries the postings of unchanged chunks over (`BM25.merged`), with the new chunks
    anywhere among them (a story added in the middle of the folder): the postings, weights and
    scores are those of an index built from the new corpus's tokens."""
    corpus = [tokenize(t) for t in articles]
    new_corpus, keep, fresh = [], np.full(len(corpus), -1), {}
    survivors = [i for i in range(len(corpus)) if kept[i]]
    slots = sorted(added, key=lambda x: x[1])
    for at in range(len(survivors) + 1):
        while slots and min(slots[0][1], len(survivors)) == at:
            fresh[len(new_corpus)] = tokenize(slots.pop(0)[0])
            new_corpus.append(fresh[len(new_corpus)])
        if at < len(survivors):
            keep[survivors[at]] = len(new_corpus)
            new_corpus.append(corpus[survivors[at]])
    merged = bm25(corpus).merged(keep, fresh, len(new_corpus))
    scratch = bm25(new_corpus)
    q = tokenize(question)
    assert merged.terms == scratch.terms and np.array_equal(merged._ptr, scratch._ptr)
    assert np.array_equal(merged._docs, scratch._docs) and np.array_equal(merged._tf, scratch._tf)
    assert np.array_equal(merged._weights, scratch._weights)
    assert np.allclose(merged.scores(q), scratch.scores(q), rtol=1e-6)
    assert merged.search(q, 5) == scratch.search(q, 5)