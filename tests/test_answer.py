"""qa.ask and qa.verify on the real seeds: cited answers, several sources, disagreement, abstention."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

import qa
from qa.types import Answer, Citation

from conftest import raw

# Questions whose first citation must contain a gold string (the eval command reports the whole set).
FIRST = ["putin-why", "pukhov", "arms-share", "arms-exporter", "kayani-when", "kiani-spelling", "gazprom-want",
         "years-no-visit", "us-share", "steel-mills", "pant", "ghazali", "zardari-russia", "envoy", "sco",
         "air-chief", "makarov", "bullet", "shukla", "banerji", "ndn", "jamshoro", "clouds", "dushanbe", "postnikov",
         "army-chief", "kudankulam"]


@pytest.fixture(scope="module")
def answers(pipeline, questions):
    return {q["id"]: qa.ask(q["question"]) for q in questions}


def test_every_citation_is_verbatim_and_verifies(pipeline, seeds_dir, answers):
    for qid, a in answers.items():
        for c in a.citations:
            assert raw(seeds_dir, c.doc_id)[c.start:c.end] == c.quote, qid
            for loc in c.also_in:
                assert raw(seeds_dir, loc.doc_id)[loc.start:loc.end].strip()
        for h in a.passages:
            assert raw(seeds_dir, h.doc_id)[h.start:h.end] == h.text
        assert qa.verify(a) == [], qid


@pytest.mark.parametrize("qid", FIRST)
def test_first_citation_holds_the_answer(questions, answers, qid):
    q = next(q for q in questions if q["id"] == qid)
    a = answers[qid]
    assert not a.abstained and a.citations
    assert any(g in a.citations[0].quote for g in q["answers"]), a.citations[0].quote


def test_answer_text_reads_with_markers(answers):
    for a in answers.values():
        if a.abstained:
            continue
        for i, c in enumerate(a.citations, 1):
            assert f"[{i}]" in a.text
            assert " ".join(c.quote.split()) in a.text          # the text is the quotes, nothing generated
        assert f"[{len(a.citations) + 1}]" not in a.text


def test_putin_question_cites_each_reason(answers):
    """The two reasons the reader finds: the Kremlin's "scheduling conflicts" (000, also in 001) and
    "no stated reason" (002), each with its answer highlighted. Article 004's speculation (the
    pipeline contract) is read but scored below the floor: docs/reader.md, "What it does not do"."""
    a = answers["putin-why"]
    assert len({c.doc_id[:3].replace("001", "000") for c in a.citations}) >= 2
    scheduling = next(c for c in a.citations if "scheduling conflicts" in c.quote)
    assert scheduling.doc_id.startswith("000") and [l.doc_id[:3] for l in scheduling.also_in] == ["001"]
    assert scheduling.answer_text and scheduling.answer_text in scheduling.quote
    assert any("for no stated reason" in c.quote and c.doc_id.startswith("002") for c in a.citations)


def test_sources_that_differ_on_a_date_are_shown(pipeline):
    a = qa.ask("When was Putin's visit to Pakistan planned?")
    note = next(n for n in a.notes if "differ on the date" in n)
    assert note in a.text
    for date, doc in [("September 26", "003"), ("October 2", "002"), ("2-3 October", "004")]:
        cited = [i for i, c in enumerate(a.citations, 1) if date in c.quote and c.doc_id.startswith(doc)]
        assert cited, f"{date} from {doc} is not cited"
        assert any(f"[{i}]" in note for i in cited)


def test_same_date_is_not_a_disagreement(pipeline):
    a = qa.ask("When did General Kayani arrive in Moscow?")
    assert not any("differ" in n for n in a.notes)


@pytest.mark.parametrize("qid", ["no-france", "no-subscription", "no-hurricane", "no-missile", "no-recipe",
                                 "no-election"])
def test_unanswerable_questions_abstain(answers, qid):
    a = answers[qid]
    assert a.abstained and a.citations == ()
    assert a.text.startswith("Not in these articles")
    assert a.passages, "the nearest passages are shown for the reader to judge"


def test_abstaining_never_costs_a_right_answer(pipeline, questions, answers):
    """The threshold is fit on SQuAD v2.0, not on these questions: an answerable seed question may
    abstain only where the answer it would have given is wrong anyway, and rarely."""
    from qa.answering.answer import answer
    abstained = [q for q in questions if q["answers"] and answers[q["id"]].abstained]
    assert len(abstained) <= 1, [q["id"] for q in abstained]
    for q in abstained:
        forced = answer(pipeline.index, q["question"], abstain=False)
        assert not any(g in forced.citations[0].quote for g in q["answers"]), q["id"]


def test_json_round_trip(answers):
    for a in answers.values():
        again = Answer.from_dict(json.loads(json.dumps(a.to_dict())))
        assert again == a


# --- verify catches tampering --------------------------------------------------------------

def _cit(a: Answer, **change) -> Answer:
    return replace(a, citations=(replace(a.citations[0], **change),) + a.citations[1:])


@pytest.mark.parametrize("change, message", [
    ({"quote": "Putin loves Pakistan."}, "quote differs"),
    ({"start": 1, "end": 40}, "quote differs"),
    ({"doc_id": "999_nonexistent"}, "missing"),
    ({"doc_id": "../../etc/passwd"}, "not a valid article id"),
    ({"start": 10, "end": 10_000_000}, "outside the article"),
    ({"start": -5}, "outside the article"),
])
def test_verify_catches_tampered_citations(answers, change, message):
    bad = _cit(answers["putin-why"], **change)
    problems = qa.verify(bad)
    assert any(message in p for p in problems), problems


def test_verify_catches_boilerplate_citation(pipeline, seeds_dir, answers):
    text = raw(seeds_dir, "001_c309b08081cb848a")
    s = text.index("You've reached your monthly limit")
    e = text.index("\n", s)
    c = Citation("001_c309b08081cb848a", "Pakistani soldiers", s, e, text[s:e])
    bad = replace(answers["pukhov"], citations=(c,), text="x [1]")
    assert any("boilerplate" in p for p in qa.verify(bad))


def test_verify_catches_an_edited_source(tmp_path, seeds_dir, answers):
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    p = qa.Pipeline(seeds, tmp_path / "index")
    a = answers["pukhov"]
    p._index = qa.pipeline.default().index          # the index as it was built
    path = seeds / f"{a.citations[0].doc_id}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nAn added line.\n", encoding="utf-8")
    assert any("changed since it was indexed" in prob for prob in p.verify(a))


def test_verify_notices_missing_marker(answers):
    a = answers["pukhov"]
    assert any("no marker" in p for p in qa.verify(replace(a, text="no markers here")))


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_ask_rejects_bad_questions(pipeline, question):
    with pytest.raises(ValueError):
        qa.ask(question)


def test_ask_survives_hostile_text(pipeline):
    for q in ["<img src=x onerror=alert(1)>", "{{7*7}} ${jndi:ldap://x}", "\u202e\u200b?"]:
        a = qa.ask(q)
        assert qa.verify(a) == []
