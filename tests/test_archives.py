"""A folder of saved web pages, an export and a text file, indexed and asked end to end:
metadata on every hit and citation, offsets into each format's text, verification again."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from conftest import SEEDS
from qa.answering.render import answer_markdown
from qa.ingest.formats import derive_text
from qa.pipeline import Pipeline
from qa.types import Answer
from test_formats import KARACHI, MOSCOW, RECORDS


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("archive")
    (folder / "karachi-ledger.html").write_text(KARACHI, encoding="utf-8")
    (folder / "moscow-wire.htm").write_text(MOSCOW, encoding="utf-8")
    with open(folder / "export.jsonl", "w", encoding="utf-8") as f:
        for r in RECORDS:
            f.write(json.dumps(r) + "\n")
    shutil.copy(next(SEEDS.glob("004_*.txt")), folder)
    p = Pipeline(folder, tmp_path_factory.mktemp("archive-index"))
    p.index
    return p


def text_of(p: Pipeline, doc_id: str) -> str:
    art = p.index.articles[doc_id]
    return derive_text(art.path, art.record, art.extractor, p.settings.max_file_bytes)


def test_every_format_is_read_with_its_metadata(archive):
    arts = archive.index.articles
    assert set(arts) == {"karachi-ledger", "moscow-wire", "export-1", "export-2", "export-3",
                         "004_2c5c9944de878b35"}
    k = arts["karachi-ledger"]
    assert (k.outlet, k.date, k.author, k.title) == ("The Karachi Ledger", "2012-10-08", "Amina Qureshi",
                                                      "Putin calls off historic Pakistan visit")
    assert k.extractor.startswith("trafilatura ") and "cookies" not in k.text
    assert (arts["export-1"].outlet, arts["export-1"].date) == ("Dawn", "2012-10-01")
    assert arts["export-1"].text == RECORDS[0]["text"] and arts["export-1"].record == 1
    assert arts["004_2c5c9944de878b35"].date == "2012-10-08"          # the dateline below the masthead
    assert arts["004_2c5c9944de878b35"].outlet is None


def test_offsets_index_each_formats_own_text(archive):
    for c in archive.index.chunks:
        assert text_of(archive, c.doc_id)[c.start:c.end] == c.text


def test_a_web_page_is_cited_with_outlet_and_date_and_verifies(archive):
    a = archive.ask("Who is Ruslan Pukhov?")
    c = a.citations[0]
    assert c.doc_id == "moscow-wire" and "director of the Centre for Analysis" in c.quote
    assert c.outlet and c.date == archive.index.articles["moscow-wire"].date
    assert text_of(archive, c.doc_id)[c.start:c.end] == c.quote
    assert archive.verify(a) == []
    for h in a.passages:
        assert text_of(archive, h.doc_id)[h.start:h.end] == h.text
        assert (h.outlet, h.date) == (archive.index.articles[h.doc_id].outlet, archive.index.articles[h.doc_id].date)


def test_an_export_record_is_cited_and_verifies(archive):
    a = archive.ask("Who said Gazprom wants a role in the Iran-Pakistan pipeline?")    # only the record says
    cited = [c for c in a.citations if c.doc_id == "export-3"]
    assert cited and cited[0].outlet == "tribune.com.pk" and cited[0].date is None    # "last month" is no date
    assert "tribune.com.pk · date unknown" in answer_markdown(a)                        # said, never guessed
    assert archive.verify(a) == []


def test_the_answer_schema_and_old_answers_still_verify(archive):
    a = archive.ask("Who is Ruslan Pukhov?")
    d = a.to_dict()
    assert d["schema"] == "qa.answer/4" and d["citations"][0]["outlet"] and d["citations"][0]["answer_text"]
    two = json.loads(json.dumps(d))
    two["schema"] = "qa.answer/2"
    for c in two["citations"]:
        for key in ("answer_start", "answer_end", "answer_text"):
            c.pop(key)
    assert archive.verify(Answer.from_dict(two)) == []
    old = json.loads(json.dumps(two))
    old["schema"] = "qa.answer/1"
    for c in old["citations"]:
        for key in ("date", "outlet", "author"):
            c.pop(key)
    for h in old["passages"]:
        h.pop("date"), h.pop("outlet")
    assert archive.verify(Answer.from_dict(old)) == []
    with pytest.raises(ValueError, match="unknown answer schema"):
        Answer.from_dict({**d, "schema": "qa.answer/9"})


def test_verify_says_when_the_extractor_changed(archive):
    a = archive.ask("Who is Ruslan Pukhov?")
    ix = archive.index
    art = ix.articles["moscow-wire"]
    ix.articles["moscow-wire"] = replace(art, extractor="trafilatura 0.0.1")
    try:
        problems = archive.verify(a)
    finally:
        ix.articles["moscow-wire"] = art
    assert any("the extractor changed since indexing: indexed with trafilatura 0.0.1, now trafilatura" in p
               for p in problems), problems


def test_a_changed_page_no_longer_verifies(archive, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "moscow-wire.htm").write_text(MOSCOW, encoding="utf-8")
    p = Pipeline(folder, tmp_path / "index")
    a = p.ask("Who is Ruslan Pukhov?")
    assert p.verify(a) == []
    (folder / "moscow-wire.htm").write_text(MOSCOW.replace("Ruslan Pukhov", "Ruslan Pukhoff"), encoding="utf-8")
    assert any("changed since it was indexed" in x or "differs" in x for x in p.verify(a))


def test_a_date_filter_returns_in_range_passages_inside_the_retrievers(archive):
    q = "Russian President Vladimir Putin has postponed his visit; no new date was given"
    assert archive.retrieve(q, k=3)[0].doc_id == "export-1"                   # best passage: 2012-10-01
    for mode in ("hybrid", "bm25", "dense"):
        hits = archive.retrieve(q, k=3, mode=mode, since="2012-10-03")
        assert len(hits) == 3 and all(h.date and h.date >= "2012-10-03" for h in hits), mode
    only = archive.retrieve(q, k=3, until="2012-10-02")
    assert [h.doc_id for h in only] == ["export-1"]                           # the one article in range
    a = archive.ask("Why was Putin's visit postponed?", since="2012-10-03")
    assert all(archive.index.articles[c.doc_id].date >= "2012-10-03" for c in a.citations)


def test_an_outlet_filter(archive):
    hits = archive.retrieve("Putin visit Pakistan", k=5, outlets=["DAWN"])
    assert [h.doc_id for h in hits] == ["export-1"] and hits[0].outlet == "Dawn"
    assert archive.retrieve("Putin visit Pakistan", k=5, outlets=["nobody"]) == []
    a = archive.ask("Why was Putin's visit postponed?", outlets=["nobody"])
    assert a.abstained and "the filter admits" in a.text


@pytest.mark.parametrize("kwargs, message", [({"since": "8 October"}, "since must be a date"),
                                             ({"since": "2012-10-09", "until": "2012-10-01"}, "swap them"),
                                             ({"outlets": [3]}, "outlets must be")])
def test_bad_filters_are_clear_errors(archive, kwargs, message):
    with pytest.raises(ValueError, match=message):
        archive.retrieve("Putin", **kwargs)
