"""qa.stories on the real seeds: exhaustive, grouped, dated, every article cited verbatim; the doc-id
filter behind "ask about this story"; the grouping rule on vectors made here; the command line."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

import qa
from qa.answering.stories import group
from qa.errors import BadFilterError
from qa.retrieval.filters import make_filter
from qa.retrieval.milvus import expression
from conftest import REPO, raw


def _uses(pipeline, word: str) -> set[str]:
    """The seed articles whose body (what is indexed, boilerplate left out) uses `word`."""
    out = set()
    for d, a in pipeline.index.articles.items():
        if any(re.search(rf"\b{word}\b", a.text[s:e], re.I) for s, e in a.body):
            out.add(d)
    return out


@pytest.mark.parametrize("word", ["Gazprom", "Putin", "Kayani"])
def test_every_article_that_names_it_is_listed_and_cited_verbatim(pipeline, word):
    r = qa.stories(word)
    listed = {a.doc_id for s in r.stories for a in s.articles}
    truth = _uses(pipeline, word)
    assert truth and truth <= listed                       # exhaustive: no top-k cut
    assert r.matched == len(listed)
    assert qa.verify(r) == []
    for s in r.stories:
        for a in s.articles:
            c = a.citation
            assert raw(pipeline.seeds_dir, c.doc_id)[c.start:c.end] == c.quote
            assert pipeline.index.articles[c.doc_id].in_body(c.start, c.end)


def test_the_cited_sentence_is_the_one_that_names_a_rare_word(pipeline):
    r = qa.stories("Gazprom")
    for s in r.stories:
        for a in s.articles:
            if a.doc_id in _uses(pipeline, "Gazprom") and not a.duplicate_of:
                assert "gazprom" in a.citation.quote.lower()


def test_duplicate_scrapes_are_in_their_originals_story(pipeline):
    dups = {d: a.duplicate_of for d, a in pipeline.index.articles.items() if a.duplicate_of}
    assert dups
    r = qa.stories("Russian leader visiting Pakistan")
    story_of = {a.doc_id: s.story_id for s in r.stories for a in s.articles}
    for dup, canon in dups.items():
        if canon in story_of:
            assert story_of.get(dup) == story_of[canon]


def test_stories_are_dated_and_in_date_order(pipeline):
    r = qa.stories("Putin")
    for s in r.stories:
        dates = [a.date for a in s.articles if a.date]
        assert dates == sorted(dates)
        assert (s.first, s.last) == ((min(dates), max(dates)) if dates else (None, None))
        assert set(s.outlets) == {a.outlet for a in s.articles if a.outlet}
        undated = [a.date is None for a in s.articles]
        assert undated == sorted(undated)                  # undated articles come last


def test_a_query_nothing_is_about_lists_nothing():
    r = qa.stories("Wimbledon tennis championship")
    assert r.stories == () and r.matched == 0


def test_boilerplate_is_never_a_story():
    assert qa.stories("Hurricane Ian").stories == ()


def test_filters_apply_and_show(pipeline):
    dated = {d: a.date for d, a in pipeline.index.articles.items() if a.date}
    assert dated
    day = min(dated.values())
    r = qa.stories("Putin", since=day, until=day)
    listed = {a.doc_id for s in r.stories for a in s.articles}
    assert listed and all(dated.get(d) == day for d in listed)
    assert r.filter == {"since": day, "until": day}
    with pytest.raises(BadFilterError):
        qa.stories("Putin", since="October")


def test_json_form(pipeline):
    d = json.loads(json.dumps(qa.stories("Gazprom").to_dict()))
    assert d["schema"] == "qa.stories/1" and d["stories"]
    a = d["stories"][0]["articles"][0]
    assert {"doc_id", "title", "date", "outlet", "citation"} <= set(a)
    assert {"start", "end", "quote"} <= set(a["citation"])


def test_group_keeps_close_days_together_and_splits_far_ones():
    v = np.array([[1, 0, 0], [0.99, 0.1, 0], [1, 0.05, 0], [0, 1, 0]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    dates = ["1987-03-01", "1987-03-03", "1987-06-01", "1987-03-02"]
    stories = group(v, dates, link=0.9, days=7)
    assert sorted(map(sorted, stories)) == [[0, 1], [2], [3]]
    assert sorted(map(sorted, group(v, dates, link=0.9, days=200))) == [[0, 1, 2], [3]]
    assert sorted(map(sorted, group(v, [None] * 4, link=0.9, days=1))) == [[0, 1, 2], [3]]


def test_a_doc_id_filter_keeps_retrieval_and_answers_in_those_articles(pipeline):
    only = sorted(d for d, a in pipeline.index.articles.items() if not a.duplicate_of)[1:2]
    hits = pipeline.retrieve("Why was Putin's visit cancelled?", k=5, doc_ids=only)
    assert hits and {h.doc_id for h in hits} == set(only)
    ans = pipeline.ask("Why was Putin's visit cancelled?", doc_ids=only)
    assert {c.doc_id for c in ans.citations} <= set(only)
    assert pipeline.retrieve("Putin", doc_ids=[]) == []


def test_doc_id_filter_input_and_its_milvus_expression():
    f = make_filter(doc_ids=["b", "a", "a"])
    assert f.doc_ids == ("a", "b") and f.admits(None, None, "a") and not f.admits(None, None, "c")
    assert expression(f) == 'doc_id in ["a", "b"]'
    assert expression(make_filter(doc_ids=['x" or id >= 0 or doc_id == "y'])) == \
        'doc_id in ["x\\" or id >= 0 or doc_id == \\"y"]'
    with pytest.raises(BadFilterError):
        make_filter(doc_ids="000_dawn")


def test_cli_stories(pipeline):
    base = [sys.executable, "-m", "qa", "stories", "Gazprom", "--seeds", str(pipeline.seeds_dir),
            "--index", str(pipeline.index_dir)]
    p = subprocess.run(base, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "stor" in p.stdout.splitlines()[0] and "Gazprom" in p.stdout
    p = subprocess.run(base + ["--json"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert json.loads(p.stdout)["schema"] == "qa.stories/1"
    p = subprocess.run(base + ["--since", "soon"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 2 and "YYYY-MM-DD" in p.stderr


def test_the_stories_measure_finds_every_article_that_names_it_on_the_seeds(index):
    """`qa bench --stories` on the seeds: at full term coverage and no dense floor, a name's query
    lists exactly the articles whose body uses it (the measure and the floor can both fail here)."""
    from qa.measure.bench_stories import choose, exhaustiveness, pick_names
    names = pick_names(index, 5)
    assert names and all(len(v) >= 2 for v in names.values())
    grid, _ = exhaustiveness(index, names)
    strict = next(r for r in grid if r["coverage"] == 1.0 and r["cosine"] is None)
    assert strict["NAME"]["recall"] == 1.0 and strict["NAME"]["precision"] == 1.0
    assert choose(grid)["NAME"]["precision"] >= 0.9
