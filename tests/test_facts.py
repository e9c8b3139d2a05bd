"""Facts the answerer compares across sources, and spelling-tolerant lexical search."""
from __future__ import annotations

import pytest

from qa.answering.facts import dates, names, quantities, same_date, spelled_alike
from qa.retrieval.search import expand_spellings


@pytest.mark.parametrize("text, surface, value", [
    ("will be in Islamabad on September 26 for a meeting", "September 26", (9, (26,), None)),
    ("scheduled to begin on October 2 and would have been", "October 2", (10, (2,), None)),
    ("which was planned in Islamabad from 2-3 October 2012.", "2-3 October 2012", (10, (2, 3), "2012")),
    ("the Commission on 10th September. In the meeting", "10th September", (9, (10,), None)),
    ("arrived in Moscow on October 4 and visited", "October 4", (10, (4,), None)),
    ("talks on Oct 2-3, 2012 ended", "Oct 2-3, 2012", (10, (2, 3), "2012")),
])
def test_dates(text, surface, value):
    assert dates(text) == [(surface, value)]


def test_no_dates_in_plain_text():
    assert dates("Pakistan has been trying to establish a partnership for years, since May.") == []


def test_same_date_ignores_a_missing_year():
    assert same_date((10, (2,), None), (10, (2,), "2012"))
    assert not same_date((10, (2,), None), (10, (2, 3), "2012"))
    assert not same_date((9, (26,), None), (10, (2,), None))


def test_quantities():
    assert quantities("with a 24 per cent share, while the US has almost 30 per cent") == \
        [("24 per cent", "percent"), ("30 per cent", "percent")]
    assert quantities("assistance of $300 to $500 million for the mills") == [("$300 to $500 million", "money")]


def test_name_spellings():
    assert "Ashfk Pervez Kayani" in names("the head of Pakistan’s armed forces, Ashfk Pervez Kayani, arrived")
    assert "Ashfaq Pervez Kiani" in names("Pakistan Army Chief General Ashfaq Pervez Kiani flew to Russia")
    assert spelled_alike("Ashfk Pervez Kayani", "Ashfaq Parvez Kayani")
    assert spelled_alike("Ashfaq Pervez Kiani", "Ashfaq Parvez Kayani")
    assert not spelled_alike("Ashfaq Kayani", "Ashfaq Parvez Kayani")      # shortened, not misspelt
    assert not spelled_alike("Vladimir Putin", "Vladimir Putin")
    assert not spelled_alike("Sergey Lavrov", "Zamir Kabulov")


def test_spelling_expansion_only_for_words_the_corpus_lacks():
    vocab = {"kayani": 0, "pukhov": 1, "pervez": 2, "parvez": 3, "moscow": 4}
    assert "pukhov" in expand_spellings(["pukov"], vocab)
    assert "kayani" in expand_spellings(["kayanni"], vocab)
    assert expand_spellings(["pervez", "moscow"], vocab) == ["pervez", "moscow"]
    assert expand_spellings(["zeppelin"], vocab) == ["zeppelin"]
