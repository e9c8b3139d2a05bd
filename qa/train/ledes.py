"""Sentences that restate a question without its answer, as a news lede does (training data).

- `restating`: the article's own sentence sharing most of the question's terms and no answer;
- `restated`: the answer's sentence with its answer put vaguely (`vague`: "an official", "an
  undisclosed amount", "a record company" for "which record company");
- `with_lede`: a passage with such a sentence put before it.
A `doc` is a `span_data.Doc` (its text, sentence spans and their terms). `span_data.Builder`
uses them for `--lede-share`, `--restate-share` and `--vague-share`.
"""
from __future__ import annotations

import random
import re

from ..answering.span_input import Passage
from ..text import tokenize


def holds(text: str, answers) -> bool:
    low = text.lower()
    return any(a.strip() and a.strip().lower() in low for a in answers)


def restating(doc, question: str, answers, keep: range, at_least: int = 2) -> int | None:
    """The article's sentence outside `keep` that shares most of the question's terms (at least
    `at_least`) and holds no answer: what a news lede is to its story's question."""
    qt = set(tokenize(question))
    best, row = at_least - 1, None
    for i, terms in enumerate(doc.terms):
        n = len(qt & terms)
        if n > best and i not in keep and not holds(doc.text[doc.sents[i][0]:doc.sents[i][1]], answers):
            best, row = n, i
    return row


def with_lede(head: str, pas: Passage) -> tuple[Passage, int]:
    """`pas` with the sentence `head` put before it; returns it and the shift of its offsets."""
    lead = head + " "
    spans = ((0, len(head)), *((s + len(lead), e + len(lead)) for s, e in pas.sentences))
    return Passage(pas.title, lead + pas.text, spans), len(lead)


# What a news lede says in place of the answer it leaves for later ("has named a long-serving
# executive to run its daily operations"), by the question's opening words; the first match wins.
_VAGUE = (
    (("how many", "how much", "what percentage", "what percent", "what amount"),
     ("an undisclosed amount", "a number of them", "several")),
    (("what year", "when", "what date", "what month", "what century", "what time"),
     ("at one point", "some time ago", "on that occasion")),
    (("who", "whom", "whose", "which person"), ("an official", "a senior figure", "one of them")),
    (("where", "what city", "what country", "which country", "which city"), ("in one place", "elsewhere", "there")),
    (("why",), ("for several reasons", "for reasons of its own", "for that reason")),
)
_TIME_OR_PLACE = {"at one point", "some time ago", "on that occasion", "in one place", "elsewhere", "there"}
_NOT_NOUN = {"is", "was", "are", "were", "did", "does", "do", "has", "have", "had", "can", "could", "will", "would",
             "the", "a", "an", "in", "on", "of", "to", "for", "by", "at", "from", "with", "about", "kind", "type", "sort"}


def vague(question: str, rng: random.Random) -> str | None:
    """A phrase that stands where the answer would, of the kind the question asks for ("which
    record company" gives "a record company"); None when the question's opening words do not say."""
    words = re.findall(r"[a-z0-9]+", question.lower())
    opening = " " + " ".join(words[:4]) + " "
    for starts, phrases in _VAGUE:
        if any(f" {x} " in opening for x in starts):
            return rng.choice(phrases)
    for i, w in enumerate(words[:3]):
        if w in ("which", "what"):
            if words[i + 1:i + 3] and words[i + 1] == "of":
                return "one of them"
            noun = []
            for x in words[i + 1:i + 3]:
                if x in _NOT_NOUN or not x.isalpha():
                    break
                noun.append(x)
            if not noun:
                return "something"
            return ("an " if noun[0][0] in "aeiou" else "a ") + " ".join(noun)
    if words[:1] == ["how"]:
        return "in some way"
    return None


def restated(doc, sentence: int, s0: int, e0: int, question: str, answers, rng: random.Random) -> str | None:
    """The answer's sentence with the answer put vaguely (`vague`): all the question's words, no
    answer, as a lede restates the story before the sentence that answers; None when the question
    does not say what kind of answer it wants, or the sentence would still hold an answer."""
    a, b = doc.sents[sentence]
    phrase = vague(question, rng)
    if phrase is None:
        return None
    if phrase in _TIME_OR_PLACE:              # "in 1887" -> "at one point", not "in at one point"
        m = re.search(r"\b(in|on|at|during|by|from|since)\s+$", doc.text[a:s0], re.I)
        s0 = a + m.start() if m else s0
    if re.search(r"\b(a|an|the)\s+$", doc.text[a:s0], re.I) and re.match(r"(a|an) ", phrase):
        phrase = phrase.split(" ", 1)[1]      # "the a library" -> "the library"
    if s0 == a:
        phrase = phrase[:1].upper() + phrase[1:]
    head = doc.text[a:s0] + phrase + doc.text[e0:b]
    return None if holds(head, answers) else head
