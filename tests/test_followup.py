"""Follow-up questions resolved against the conversation, on real questions about the seeds.

Pure-function tests over the rules (no index needed), then two round trips through the
real answerer: the rewritten question finds what the follow-up asked about.
"""
from __future__ import annotations

import pytest

import qa
from qa.answering.followup import names, resolve, topic

KAYANI_ANSWER = ("Later that same week, the head of Pakistan’s armed forces, Ashfk Pervez Kayani, arrived in "
                 "Moscow on a four-day visit. [1]")
PUTIN_ANSWER = ("The visit came after the cancellation, for no stated reason, of Russian President Vladimir "
                "Putin's trip to Pakistan, that had been scheduled to begin on October 2 [1] But at the last "
                "minute the summit was cancelled after Putin informed Islamabad that he would not be able to "
                "make the meeting. [2]")
PUTIN = ("Why was Putin's visit cancelled?", PUTIN_ANSWER)
KAYANI = ("Who is Kayani?", KAYANI_ANSWER)


@pytest.mark.parametrize("question, history, expected", [
    # he / his -> the person of the previous turn
    ("When did he arrive in Moscow?", [KAYANI], "When did Kayani arrive in Moscow?"),
    ("When did he arrive in Moscow?", ["Who is Kayani?"], "When did Kayani arrive in Moscow?"),
    ("When did he arrive in Moscow?", [("What did General Kayani discuss with Russia?", "")],
     "When did Kayani arrive in Moscow?"),
    # the person is only in the answer ("the head of ..., Ashfk Pervez Kayani")
    ("When did he arrive in Moscow?", [("Who heads Pakistan's armed forces?", KAYANI_ANSWER)],
     "When did Kayani arrive in Moscow?"),
    ("What did he say about India?", [("Who is Ruslan Pukhov?", "explained Ruslan Pukhov, the director of the "
                                       "Center of Strategic Analysis in Moscow. [1]")],
     "What did Pukhov say about India?"),
    # a chain: the nearest turn that names someone
    ("Where did he go next?", [KAYANI, ("When did Kayani arrive in Moscow?", KAYANI_ANSWER)],
     "Where did Kayani go next?"),
    ("Who did he meet there?", [PUTIN], "Who did Putin meet there?"),
    # it -> the possessive phrase; they -> the named things
    ("When was it rescheduled?", [PUTIN], "When was Putin's visit rescheduled?"),
    ("Did they get the contract?", ["What did Gazprom want?"], "Did Gazprom get the contract?"),
    ("What did they sign?", ["What are relations between Pakistan and Russia like?"],
     "What did Pakistan and Russia sign?"),
    # elliptical openings and bare demonstratives carry the earlier topic
    ("And what did Gazprom want?", [PUTIN], "What did Gazprom want? (context: Putin's visit cancelled)"),
    ("what about India?", [PUTIN], "What about India? (context: Putin's visit cancelled)"),
    ("Why did that happen?", [PUTIN], "Why did that happen? (context: Putin's visit cancelled)"),
    ("And when?", [("What did Gazprom want? (context: Putin's visit cancelled)", "")], "When? (context: Gazprom)"),
    # standalone questions are searched as typed
    ("Why did Putin cancel his visit?", [KAYANI], "Why did Putin cancel his visit?"),
    ("Who is Ruslan Pukhov?", [KAYANI], "Who is Ruslan Pukhov?"),
    ("What is the capital of France?", [KAYANI], "What is the capital of France?"),
    ("Is it true that Russia sells arms to Pakistan?", [PUTIN], "Is it true that Russia sells arms to Pakistan?"),
])
def test_resolve(question, history, expected):
    assert resolve(question, history) == expected


@pytest.mark.parametrize("question", ["", "   ", "When did he arrive?", "x" * 100_000,
                                      "<img src=x onerror=alert(1)>"])
def test_no_history_or_odd_input_is_returned_unchanged(question):
    assert resolve(question, []) == question
    assert resolve(question, [("", ""), None]) == question


def test_long_questions_are_taken_as_standalone():
    long = "And when did he arrive? " + "Tell me everything about it. " * 20
    assert resolve(long, [KAYANI]) == long


def test_names_and_their_kinds():
    found = dict(names(KAYANI_ANSWER))
    assert found == {"Pakistan": "place", "Ashfk Pervez Kayani": "person", "Moscow": "place"}
    assert ("Vladimir Putin", "person") in names(PUTIN_ANSWER)


def test_topic_drops_the_question_words_and_our_context():
    assert topic("Why was Putin's visit cancelled?") == "Putin's visit cancelled"
    assert topic("And what about India?") == "India"
    assert topic("What did Gazprom want? (context: Putin's visit cancelled)") == "Gazprom"


def test_exported_from_the_package():
    assert qa.resolve_followup is resolve
    assert "resolve_followup" in qa.__all__


def test_resolved_follow_ups_find_what_was_asked(pipeline):
    first = pipeline.ask("Who is Kayani?")
    searched = resolve("When did he arrive in Moscow?", [(first.searched, first.text)])
    assert searched == "When did Kayani arrive in Moscow?"
    answer = pipeline.ask(searched)
    assert not answer.abstained
    assert any("Kayani" in c.quote and "Moscow" in c.quote for c in answer.citations)

    putin = pipeline.ask("Why was Putin's visit cancelled?")
    searched = resolve("And what did Gazprom want?", [(putin.searched, putin.text)])
    assert "Gazprom" in searched and "Putin" in searched
    answer = pipeline.ask(searched)
    assert any("Gazprom" in c.quote for c in answer.citations)
    assert pipeline.verify(answer) == []
