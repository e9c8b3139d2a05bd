"""Dates in questions: the grammar against the table of docs/dates.md, and the filter it becomes
on the real seed index (one article of which is dated: 004_..., 2012-10-08)."""
from __future__ import annotations

import dataclasses
import json
import random
import re

import pytest

import qa
from conftest import REPO
from qa.errors import BadFilterError
from qa.retrieval.filters import newest_date
from qa.retrieval.when import PATTERNS, date_phrases, describe, mentions_dates

ROW = re.compile(r"^\| (.+?) \| (\d{4}-\d\d-\d\d) \| (.+?) \|$")


def table() -> list[tuple[str, str, str]]:
    rows = [ROW.match(line.strip()) for line in (REPO / "docs" / "dates.md").read_text(encoding="utf-8").splitlines()]
    return [m.groups() for m in rows if m]


def test_the_doc_table_is_there_and_covers_every_kind_of_phrase():
    rows = table()
    assert len(rows) >= 50
    kinds = set()
    for question, today, _ in rows:
        for kind, pattern in PATTERNS:
            if pattern.search(question):
                kinds.add(kind)
    assert kinds == {kind for kind, _ in PATTERNS}
    assert sum(f == "none" for _, _, f in rows) >= 10          # the phrases that must not filter are listed too


@pytest.mark.parametrize("question,today,expected", table())
def test_each_row_of_the_doc_table(question, today, expected):
    r = date_phrases(question, today)
    assert ("none" if r is None else describe(r.since, r.until)) == expected
    if r is not None:
        assert question[r.start:r.end] == r.phrase and r.phrase.strip() == r.phrase
        assert r.description == "articles " + expected
        assert r.phrase not in r.without(question)


@pytest.mark.parametrize("question,words", [
    ("What did Pakistan say in October 2012?", "What did Pakistan say?"),
    ("In October 2012, what did Russia say?", "what did Russia say?"),
    ("What happened last week in Moscow?", "What happened in Moscow?"),
    ("Between 1 and 10 October who visited?", "who visited?"),
])
def test_the_phrase_leaves_the_words(question, words):
    assert date_phrases(question, "2012-10-08").without(question) == words


HOSTILE = ["", " ", "?", "in " * 400 + "October 2012", "October " * 300, "in 99999", "in 0000", "in 2100",
           "between 10 and 1 October", "between 0 and 40 October", "on 0 October 2012", "on 32 October 2012",
           "on 29 February", "on 29 February 2011", "2012-13-45", "2012-02-30", "in Octobre 2012",
           "in ＯＣＴＯＢＥＲ ２０１２", "in ٢٠١٢", "since \u202eMarch", "in October\u00a02012", "in Oct.. 2012",
           "99999999999 days ago", "400 years ago", "the past 0 days", "in the past 999 weeks", "\x00in May\x00",
           "from 31 December 2099 to 1 January 2100", "after 31 December 2099", "before 1 January 1900"]


@pytest.mark.parametrize("question", HOSTILE)
def test_hostile_phrases_never_raise(question):
    r = date_phrases(question, "2012-10-08")
    assert r is None or (r.since is None or r.until is None or r.since <= r.until)


def test_random_text_never_raises():
    rng = random.Random(0)
    words = ["in", "since", "between", "and", "from", "to", "October", "May", "March", "Oct.", "2012", "1", "31",
             "29", "February", "early", "late", "mid-", "last", "past", "the", "week", "days", "ago", "two", "-",
             ",", "?", "é", "\u200b", "９"]
    for _ in range(3000):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        r = date_phrases(q, "2012-10-08")
        assert r is None or q[r.start:r.end] == r.phrase
        assert r is None or mentions_dates(q)         # the pipeline's quick test never misses a phrase


def test_a_long_question_is_read_quickly():
    import time
    q = "What did Pakistan say " + "about the visit " * 60 + "in October 2012?"
    t = time.perf_counter()
    assert date_phrases(q[:1000], "2012-10-08") is not None
    assert time.perf_counter() - t < 0.5


# --- the filter on the real seed index -------------------------------------------------------

def test_relative_phrases_are_read_against_the_newest_article(index):
    assert newest_date(index) == "2012-10-08"


def test_a_month_becomes_the_filter_and_leaves_the_words(pipeline, seeds_dir):
    a = pipeline.ask("What did Pakistan say in October 2012?")
    assert a.dates.applied and (a.dates.since, a.dates.until) == ("2012-10-01", "2012-10-31")
    assert a.dates.phrase == "in October 2012" and "2012-10-01 to 2012-10-31" in a.dates.note
    assert a.searched == "What did Pakistan say?" and a.question == "What did Pakistan say in October 2012?"
    assert not a.abstained and a.citations
    assert all(c.date and "2012-10-01" <= c.date <= "2012-10-31" for c in a.citations)
    assert all(h.date and "2012-10-01" <= h.date <= "2012-10-31" for h in a.passages)
    assert pipeline.verify(a) == []
    off = pipeline.ask("What did Pakistan say in October 2012?", dates_in_question=False)
    assert off.dates is None and off.searched == off.question
    assert any(c.date is None for c in off.citations + tuple(off.passages))     # unfiltered: undated ones too


def test_retrieve_applies_the_phrase_too(pipeline):
    hits = pipeline.retrieve("Putin Pakistan visit in October 2012", k=5)
    assert hits and all(h.date == "2012-10-08" for h in hits)
    off = pipeline.retrieve("Putin Pakistan visit in October 2012", k=5, dates_in_question=False)
    assert any(h.date is None for h in off)


def test_a_range_with_no_article_falls_back_to_all_dates(pipeline):
    q = "Which Pakistani air force chief went to Moscow in August?"
    a = pipeline.ask(q)
    assert not a.dates.applied and (a.dates.since, a.dates.until) == ("2012-08-01", "2012-08-31")
    assert a.dates.note == "no articles published from 2012-08-01 to 2012-08-31 (“in August”); searched all dates"
    assert a.searched == q                                     # the phrase is searched as words
    assert a.citations == pipeline.ask(q, dates_in_question=False).citations


def test_a_range_that_leaves_no_article_out_is_no_filter(tmp_path):
    import shutil
    (tmp_path / "articles").mkdir()
    shutil.copy(REPO / "seeds" / "004_2c5c9944de878b35.txt", tmp_path / "articles")    # dated 2012-10-08
    p = qa.Pipeline(tmp_path / "articles", tmp_path / "index")
    q = "What did Pakistan say in October 2012?"
    a = p.ask(q)
    assert not a.dates.applied and a.searched == q
    assert a.dates.note == "every article was published from 2012-10-01 to 2012-10-31 (“in October 2012”); " \
                           "searched as words"
    assert a.citations == p.ask(q, dates_in_question=False).citations
    assert p.ask("What did Pakistan say on 8 October 2012?").dates.applied is False
    # one short article of 2011 beside it leaves out under 5% of the passages: still no filter
    (tmp_path / "articles" / "brief.txt").write_text(
        "Helicopter makers look to Pakistan\n\nOctober 5, 2011\n\nKAZAN - Managers at the helicopter factories "
        "expect orders from Pakistan, they said on Friday.\n", encoding="utf-8")
    p = qa.Pipeline(tmp_path / "articles", tmp_path / "index")
    assert {a.date for a in p.index.articles.values()} == {"2011-10-05", "2012-10-08"}
    a = p.ask(q)
    assert not a.dates.applied and a.dates.note.startswith("nearly every article was published from 2012-10-01")
    assert a.citations == p.ask(q, dates_in_question=False).citations
    assert p.ask("What did the helicopter makers say in October 2011?").dates.applied      # 1 of 2 articles


def test_when_no_article_of_the_range_answers_all_dates_are_searched(pipeline):
    # only an undated article (000_) says, and clearly (its best sentence scores far above the floor:
    # "Who is Ruslan Pukhov in 2012?" sat 0.2 above it, and the int8 vectors of index format 3 tip it)
    q = "Who directs the Center of Strategic Analysis in 2012?"
    a = pipeline.ask(q)
    assert not a.dates.applied and a.searched == q and not a.abstained
    assert a.dates.note == "no article published from 2012-01-01 to 2012-12-31 (“in 2012”) answers this; " \
                           "searched all dates"
    assert {c.doc_id for c in a.citations} == {"000_d7d3e32efbec5146"}
    assert a.citations == pipeline.ask(q, dates_in_question=False).citations


def test_an_ambiguous_phrase_is_no_filter(pipeline):
    for q in ("What did Putin say in may?", "May Russia sell arms to Pakistan?"):
        a = pipeline.ask(q)
        assert a.dates is None and a.searched == q
        assert a == pipeline.ask(q, dates_in_question=False)


def test_a_filter_given_by_the_caller_wins(pipeline):
    a = pipeline.ask("What did Pakistan say in October 2012?", since="2012-01-01")
    assert not a.dates.applied and a.searched == "What did Pakistan say in October 2012?"
    assert a.dates.note.startswith("the date filter given applies (articles since 2012-01-01)")
    assert all(c.date and c.date >= "2012-01-01" for c in a.citations)
    # an outlet filter is not a date filter: the phrase still applies beside it
    b = pipeline.ask("What did Pakistan say in October 2012?", outlets=["nobody"])
    assert b.dates is not None and not b.dates.applied and b.abstained


def test_today_moves_relative_phrases(pipeline):
    q = "What did Pakistan say last week?"
    assert not pipeline.ask(q).dates.applied                                  # 1-7 October: nothing dated
    a = pipeline.ask(q, today="2012-10-15")                                   # 8-14 October: 004_
    assert a.dates.applied and (a.dates.since, a.dates.until) == ("2012-10-08", "2012-10-14")
    assert a.citations and all(c.date == "2012-10-08" for c in a.citations)
    with pytest.raises(BadFilterError, match="today must be a date"):
        pipeline.ask(q, today="last Tuesday")


def test_the_setting_turns_it_off(pipeline):
    p = qa.Pipeline(pipeline.seeds_dir, pipeline.index_dir,
                    settings=dataclasses.replace(pipeline.settings, question_dates=False))
    a = p.ask("What did Pakistan say in October 2012?")
    assert a.dates is None and a.searched == a.question


def test_the_answer_keeps_its_dates_through_json_and_check(pipeline, tmp_path):
    a = pipeline.ask("What did Pakistan say in October 2012?")
    d = json.loads(json.dumps(a.to_dict()))
    assert d["schema"] == "qa.answer/4" and d["dates"]["applied"] is True
    assert qa.Answer.from_dict(d) == a
    old = {k: v for k, v in d.items() if k != "dates"} | {"schema": "qa.answer/3"}
    assert qa.Answer.from_dict(old).dates is None                              # older answers still read
    with pytest.raises(ValueError, match="'dates'"):
        qa.Answer.from_dict(d | {"dates": {"phrase": 3}})


def test_every_seed_question_answers_as_without_question_dates(pipeline, questions):
    read = 0
    for q in questions:
        on, off = pipeline.ask(q["question"]), pipeline.ask(q["question"], dates_in_question=False)
        assert [(c.doc_id, c.start, c.end) for c in on.citations] == \
               [(c.doc_id, c.start, c.end) for c in off.citations], q["question"]
        assert on.abstained == off.abstained
        read += on.dates is not None
        if on.dates is None:
            assert on == off
    assert read == 3          # "in August", "last year": fall back; "in 2012" (Gazprom's revenue): still declined


@pytest.mark.parametrize("question", ["in 99999?", "between 10 and 1 October?", "What happened " * 70 + "in May 2012?",
                                      "what about 𝔒𝔠𝔱𝔬𝔟𝔢𝔯 2012 and \u202eOctober 2012?", "October 2012"])
def test_hostile_questions_answer_cleanly(pipeline, question):
    a = pipeline.ask(question)
    assert isinstance(a, qa.Answer) and pipeline.verify(a) == []


# --- the command line and the Markdown answer ---------------------------------------------------

def qa_cli(pipeline, *args):
    import subprocess
    import sys
    cmd = [sys.executable, "-m", "qa", args[0], "--seeds", str(pipeline.seeds_dir), "--index", str(pipeline.index_dir),
           *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)


def test_the_cli_prints_the_filter_it_applied_and_can_be_told_not_to(pipeline, tmp_path):
    q = "What did Pakistan say in October 2012?"
    out = qa_cli(pipeline, "ask", q)
    assert out.returncode == 0, out.stderr
    assert "*dates: articles from 2012-10-01 to 2012-10-31 (read from “in October 2012”)*" in out.stdout
    assert "(searched for: What did Pakistan say?)" in out.stdout
    off = qa_cli(pipeline, "ask", q, "--no-question-dates")
    assert off.returncode == 0 and "dates:" not in off.stdout
    js = qa_cli(pipeline, "ask", "What happened last week?", "--today", "2012-10-15", "--json")
    d = json.loads(js.stdout)
    assert (d["dates"]["since"], d["dates"]["until"], d["dates"]["applied"]) == ("2012-10-08", "2012-10-14", True)
    saved = tmp_path / "answer.json"
    saved.write_text(js.stdout, encoding="utf-8")
    assert qa_cli(pipeline, "check", str(saved)).returncode == 0          # qa check still verifies it
    hits = qa_cli(pipeline, "retrieve", "Putin visit in August", "-k", "2")
    assert hits.returncode == 0 and hits.stdout.startswith(
        "dates: no articles published from 2012-08-01 to 2012-08-31 (“in August”); searched all dates")
    bad = qa_cli(pipeline, "ask", q, "--today", "tomorrow")
    assert bad.returncode == 2 and "today must be a date such as 2012-10-01" in bad.stderr
