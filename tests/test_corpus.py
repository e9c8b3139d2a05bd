"""Reading, cleaning, de-duplicating and chunking the real seed articles."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.ingest.chunking import chunk_article, sentences
from qa.ingest.read import read_folder
from qa.errors import EmptyCorpusError

from conftest import BOILERPLATE, SEEDS, raw


@pytest.fixture(scope="module")
def articles():
    arts, skipped = read_folder(SEEDS)
    assert skipped == []
    return {a.doc_id: a for a in arts}


def test_five_articles_with_titles(articles):
    assert len(articles) == 5
    titles = {d[:3]: a.title for d, a in articles.items()}
    assert titles["000"] == titles["001"] == "Pakistani soldiers"       # 001's first lines are a newsletter banner
    assert titles["002"] == "Changes in region push Pakistan and Russia together"
    assert titles["004"] == "Pakistan-Russia relations warm up"         # after the masthead and disclaimer


def test_every_chunk_is_verbatim_at_its_offsets(index, seeds_dir):
    assert index.chunks
    for c in index.chunks:
        text = raw(seeds_dir, c.doc_id)
        assert text[c.start:c.end] == c.text
        assert c.text == c.text.strip()
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end
        for loc in c.also_in:
            assert raw(seeds_dir, loc.doc_id)[loc.start:loc.end].strip()


@pytest.mark.parametrize("phrase", BOILERPLATE)
def test_no_boilerplate_in_any_chunk_or_body(index, articles, phrase):
    for c in index.chunks:
        assert phrase not in c.text
    for a in articles.values():
        for s, e in a.body:
            assert phrase not in a.text[s:e], (a.doc_id, phrase)


def test_body_keeps_the_article(articles):
    a = articles["001_c309b08081cb848a"]
    body = "\n".join(a.text[s:e] for s, e in a.body)
    assert body.startswith("MOSCOW - While much has been made")
    assert body.endswith("will certainly limit the scope of weapons sales.")
    assert "reader in international studies at King's College London" in \
        "\n".join(articles["002_5d75630997774f8f"].text[s:e] for s, e in articles["002_5d75630997774f8f"].body)


def test_duplicate_scrapes_are_grouped_and_kept_as_also_in(index, articles):
    assert articles["001_c309b08081cb848a"].duplicate_of == "000_d7d3e32efbec5146"
    assert all(a.duplicate_of is None for d, a in articles.items() if not d.startswith("001"))
    assert not any(c.doc_id.startswith("001") for c in index.chunks)
    canon = [c for c in index.chunks if c.doc_id.startswith("000")]
    assert canon and all(any(l.doc_id.startswith("001") for l in c.also_in) for c in canon)


def test_also_in_points_at_the_same_passage(index, seeds_dir):
    from qa.text import words
    for c in index.chunks:
        for loc in c.also_in:
            dup = raw(seeds_dir, loc.doc_id)[loc.start:loc.end]
            a, b = words(c.text), words(dup)
            assert abs(len(a) - len(b)) <= 2 and a[:3] == b[:3] and a[-3:] == b[-3:]


def test_near_duplicates_detected_generally(tmp_path):
    text = raw(SEEDS, "002_5d75630997774f8f")
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    edited = text.replace("Islamabad currently", "Islamabad now").replace("24 per cent", "24%")
    (tmp_path / "b.txt").write_text("Breaking news banner\n\n" + edited, encoding="utf-8")
    shutil.copy(SEEDS / "003_6032db8118f64392.txt", tmp_path / "c.txt")
    arts = {a.doc_id: a for a in read_folder(tmp_path)[0]}
    assert arts["b"].duplicate_of == "a" and arts["a"].duplicate_of is None and arts["c"].duplicate_of is None


def test_cleaning_generalises_to_an_unseen_site(tmp_path):
    body = raw(SEEDS, "003_6032db8118f64392").split("\n\n")
    article = "\n\n".join(["Daily Planet", "Subscribe to our newsletter for the best stories", "Russia and Pakistan"]
                          + body[1:4] + ["Advertisement", "Read more: Celebrity chef opens a bakery in Paris"]
                          + body[4:8] + ["Related stories", "Scientists discover a new species of frog in the rainforest of "
                                         "Peru, where heavy rains have flooded the valley for weeks."])
    (tmp_path / "x.txt").write_text(article, encoding="utf-8")
    a = read_folder(tmp_path)[0][0]
    kept = "\n".join(a.text[s:e] for s, e in a.body)
    assert "newsletter" not in kept and "Advertisement" not in kept and "frog" not in kept
    assert "Celebrity chef" not in kept
    assert body[2][:60] in kept and body[6][:60] in kept


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path, caplog):
    shutil.copy(SEEDS / "003_6032db8118f64392.txt", tmp_path / "good.txt")
    (tmp_path / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 20)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait and na\xefve r\xe9sum\xe9s.".encode("latin-1"))
    (tmp_path / "huge.txt").write_text("word " * 1_100_000, encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")          # not an article extension
    arts, skipped = read_folder(tmp_path)
    assert [a.doc_id for a in arts] == ["good"]
    joined = "\n".join(skipped)
    for name, why in [("empty.txt", "empty"), ("binary.txt", "binary"), ("latin1.txt", "not UTF-8"), ("huge.txt", "too large")]:
        assert f"skipped {name}: {why}" in joined
    assert "notes.json" not in joined


def test_only_bad_files_is_a_clear_error(tmp_path):
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(EmptyCorpusError, match="no readable article"):
        read_folder(tmp_path)
    with pytest.raises(EmptyCorpusError, match="does not exist"):
        read_folder(tmp_path / "missing")


def test_crlf_article_offsets_follow_text_mode(tmp_path):
    text = raw(SEEDS, "003_6032db8118f64392")
    (tmp_path / "crlf.txt").write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    a = read_folder(tmp_path)[0][0]
    with open(tmp_path / "crlf.txt", encoding="utf-8") as f:
        expected = f.read()
    assert a.text == expected
    for c in chunk_article(a):
        assert expected[c.start:c.end] == c.text


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("A.", ["A."]),
    ("He met U.S. officials in Moscow. Then he left.", ["He met U.S. officials in Moscow.", "Then he left."]),
    ("Harsh V Pant is a reader at King's College London. He writes often.",
     ["Harsh V Pant is a reader at King's College London.", "He writes often."]),
    ("Mr. Putin did not travel. Dr. Smith said so.", ["Mr. Putin did not travel.", "Dr. Smith said so."]),
    ("“It is a trusted relationship,” Shukla says. “And irreplaceable.”",
     ["“It is a trusted relationship,” Shukla says.", "“And irreplaceable.”"]),
    ("Zürich und Genève: 24 per cent. Ça va?", ["Zürich und Genève: 24 per cent.", "Ça va?"]),
])
def test_sentence_split(text, expected):
    assert [text[s:e] for s, e in sentences(text, 0, len(text))] == expected


def test_long_unbroken_paragraph_is_bounded(tmp_path):
    text = ("x" * 50 + " ") * 2000          # 100 KB without a full stop
    spans = sentences(text, 0, len(text))
    assert spans and all(text[s:e].strip() == text[s:e] for s, e in spans)
