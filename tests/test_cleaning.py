"""Cleaning keeps every word of the story and removes furniture only on evidence, with its reason;
dates come from the page's evidence or are unknown. Run on the fixtures in tests/fixtures/cleaning
(list article, live blog, roundup, interview, captions, wire story, a story about a paywall, dated
pages and an export) and on the seeds."""
from __future__ import annotations

import json

import pytest

from qa.cli import main
from qa.config import DEFAULT
from qa.ingest.boilerplate import widget
from qa.ingest.dates import iso_date
from qa.ingest.read import read_folder
from qa.measure import cleaning

from conftest import SEEDS

FIX = cleaning.FIXTURES


@pytest.fixture(scope="module")
def report():
    return cleaning.run(FIX)


@pytest.fixture(scope="module")
def fixtures():
    return {a.doc_id: a for a in read_folder(FIX / "pages")[0]}


def _body(a) -> str:
    return "\n".join(a.text[s:e] for s, e in a.body)


@pytest.mark.parametrize("doc_id", sorted(p.stem for p in (FIX / "expected").glob("*.txt")))
def test_each_fixture_keeps_its_story(report, doc_id):
    row = next(r for r in report["articles"] if r["doc_id"] == doc_id)
    assert row["recall"] >= 0.98, row
    assert row["precision"] >= 0.9, row


def test_every_fixture_date_is_right_or_unknown_never_wrong(report):
    assert report["dates"]["wrong"] == 0, [r for r in report["articles"] if r.get("date_status") == "wrong"]
    assert report["dates"]["right"] == len(json.loads((FIX / "dates.json").read_text(encoding="utf-8")))


def test_date_evidence_is_recorded(fixtures):
    assert fixtures["dated_jsonld"].date_evidence == "JSON-LD datePublished"
    assert fixtures["dated_meta_local"].date == "2020-01-01"          # 2019-12-31 in UTC
    assert "in UTC" in fixtures["dated_utc_url"].date_evidence and fixtures["dated_utc_url"].date == "2023-06-01"
    assert fixtures["dated_disagree"].date is None and "disagrees" in fixtures["dated_disagree"].date_evidence
    assert fixtures["dated_modified_only"].date is None               # a modified time is not a publication date
    assert fixtures["wire_story"].date_evidence == "dateline"


def test_a_story_about_a_paywall_keeps_its_sentences(fixtures):
    body = _body(fixtures["paywall_story"])
    for sentence in ("ask readers to subscribe after three free articles", "get a daily newsletter",
                     '"Already a subscriber? Then nothing changes', "Sign-ups for the newsletter doubled",
                     '"Subscribe now, or read less.'):
        assert sentence in body
    assert "You've reached your monthly limit" not in body and "Log in" not in body


def test_short_lines_items_and_stamps_inside_a_story_stay(fixtures):
    assert "• Europe follows in January" in _body(fixtures["list_article"])
    assert "- Only for some users" in _body(fixtures["list_article"])
    assert "09:02 BST" in _body(fixtures["live_blog"]) and "Share this post" not in _body(fixtures["live_blog"])
    assert _body(fixtures["sports_roundup"]).startswith("Arsenal 2 Chelsea 1\nSaka scored twice.")
    assert "Cricket" not in _body(fixtures["sports_roundup"])                # teasers after "Related stories"
    assert "A: At fifteen." in _body(fixtures["interview"]) and "Comments" not in _body(fixtures["interview"])
    assert "It was not clear why." in _body(fixtures["wire_story"])


def test_a_line_shared_by_the_outlets_stories_is_furniture(fixtures):
    assert all("Independent news for the coast" not in _body(a) for a in fixtures.values())


@pytest.mark.parametrize("line, why", [
    ("You've reached your monthly limit of free articles.", "paywall notice"),
    ("  • $2.90/month or $19.90/year. No hidden charges. Cancel anytime.", "paywall notice"),
    ("Sign up to our expressly international daily newsletter!", "newsletter sign-up"),
    ("Subscribe to our newsletter for the best stories", "newsletter sign-up"),
    ("12 Comments", "comment widget"), ("Post a Comment", "comment widget"), ("Disqus Shortname", "comment widget"),
    ("Share on Twitter", "share bar"), ("We use cookies to improve your experience.", "cookie notice"),
    ("© 2012 Harbour Daily. All rights reserved.", "legal notice"), ("Related stories", "teaser heading"),
    ("MOST READ", "teaser heading"), ("Advertisement", "advert slot"),
    ("Read more: Celebrity chef opens a bakery in Paris", "link to another story"),
    ("Powered by automated translation", "site credit"),
])
def test_widget_forms(line, why):
    assert widget(line)[0] == why


@pytest.mark.parametrize("line", [
    "The Coast Gazette will ask readers to subscribe after three free articles a month, its editor said.",
    "Free Wi-Fi comes to the subway.", "Subscribers will pay £5 a month and get a daily newsletter.",
    "Copyright lawyers said the ruling would be appealed.", "Powered by strong exports, the economy grew 3% last year.",
    "Related reporting by the BBC showed the same.", "The owners declined to comment.", "Share prices fell 3%.",
    "More than 40,000 people came to the festival.", "Top officials met on Monday.",
])
def test_story_sentences_are_not_widgets(line):
    assert widget(line) is None


@pytest.mark.parametrize("value, expected", [
    ("2012-10-08", "2012-10-08"), ("2012-10-08T21:30:00-04:00", "2012-10-08"), ("2012-10-08T23:30:00Z", "2012-10-08"),
    ("2012-10-08 21:30", "2012-10-08"), ("Mon, 08 Oct 2012 21:30:00 -0400", "2012-10-08"),
    ("8 Oct 2012 21:30:00 GMT", "2012-10-08"), ("Oct 8, 2012", "2012-10-08"), ("October 8, 2012", "2012-10-08"),
    ("8 October 2012", "2012-10-08"), ("sometime in 2012", None), ("2012-02-30", None), ("", None), (None, None),
])
def test_export_date_forms(value, expected):
    assert iso_date(value) == expected


def test_explain_prints_kept_and_dropped_lines_with_reasons(capsys):
    assert main(["index", "--explain", str(SEEDS / "001_c309b08081cb848a.txt")]) == 0
    out = capsys.readouterr().out
    assert "a scrape of 000_d7d3e32efbec5146" in out
    assert "  keep 167:440  MOSCOW - While much" in out
    lines = out.splitlines()
    i = next(k for k, ln in enumerate(lines) if "You've reached your monthly limit" in ln)
    assert lines[i].lstrip().startswith("DROP") and "widget: paywall notice" in lines[i + 1]
    j = next(k for k, ln in enumerate(lines) if "Members of the search and rescue team" in ln)   # Hurricane Ian
    assert lines[j].lstrip().startswith("DROP") and "outside the main text" in lines[j + 1]
    assert "13 of 50 lines kept" in out


def test_explain_of_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["index", "--explain", str(tmp_path / "nope.txt")]) == 2
    assert "nope.txt gives no article" in capsys.readouterr().err


def test_cleaning_rules_are_in_the_index_fingerprint():
    assert DEFAULT.index_fingerprint()["cleaning_rules"] >= 2


def test_shingle_score():
    assert cleaning.score("a b c d e", "a b c d e") == (1.0, 1.0)
    assert cleaning.score("a b c d", "a b c d e") == (0.5, 1.0)
    assert cleaning.score("x y z w", "a b c d e") == (0.0, 0.0)


def test_cleaning_facts_kept_with_the_index_come_back_as_worked_out():
    """What the index stores of each text's cleaning (line keys and classes, duplicate bands)
    gives back what cleaning the text works out; arrays that do not fit the texts are refused."""
    import numpy as np
    from qa.ingest import known
    from qa.ingest.read import article_cut
    arts, _ = read_folder(SEEDS)
    keys, bands = known.arrays([a.sha256 for a in arts], DEFAULT)
    assert keys.dtype == np.uint64 and bands.shape == (len(arts), 17)
    pairs = [(a.sha256, a.text) for a in arts]
    cut = lambda t: t[:article_cut(t, DEFAULT.max_article_chars)]     # noqa: E731
    back = known.stored(pairs, keys, bands, DEFAULT, cut)
    known.remember({}, DEFAULT)
    for a in arts:
        fresh = known.on_its_own(cut(a.text), a.sha256, DEFAULT)
        got = back[a.sha256]
        assert got.table == fresh.table and got.within == fresh.within
        assert np.array_equal(got.bands, fresh.bands) and np.array_equal(got.shingles(), fresh.shingles)
        assert any(k for _, _, k, _ in got.table) and {c for *_, c in got.table} <= set("BPN")
    assert known.stored(pairs, keys[:-1], bands, DEFAULT, cut) == {}
    assert known.stored(pairs, keys, bands[:-1], DEFAULT, cut) == {}
    assert known.stored(pairs[1:] + pairs[:1], keys, bands, DEFAULT, cut) == {}      # out of order
