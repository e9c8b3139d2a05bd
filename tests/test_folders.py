"""Folders as people really have them: empty, only duplicates, zero-byte, binary files with an
article's name, latin-1 and UTF-16, a 6 MB article, a 2 MB line, no sentence punctuation,
2,000 tiny files, odd names, nested folders and a link out of the folder. Each file is indexed
and cited verbatim, or skipped with a warning naming it; nothing outside the folder is read.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qa
from qa import store
from qa.errors import EmptyCorpusError

from conftest import REPO, SEEDS

SHUKLA = "003_6032db8118f64392.txt"
ODD_NAMES = ["with spaces in it.txt", "new\nline.txt", "-leading-dash.txt", "Überraschung café 東京.txt",
             "--help.md"]


def _fact(n: int) -> str:
    return (f"Report {n}\n\nThe harbour authority of Port {n} said on Monday that its quay number {n} "
            f"will reopen after repairs. Officials expect ships by the end of the month.\n")


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """One folder with every awkward kind of file beside a real article, indexed once."""
    root = tmp_path_factory.mktemp("zoo")
    seeds, outside = root / "seeds", root / "outside"
    seeds.mkdir()
    outside.mkdir()
    shutil.copy(SEEDS / SHUKLA, seeds / SHUKLA)
    (seeds / "zero.txt").write_bytes(b"")
    (seeds / "png.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (seeds / "elf.html").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(200))
    (seeds / "latin1.txt").write_bytes("Le café de la gare a rouvert lundi, a dit le maire.".encode("latin-1"))
    (seeds / "utf16.txt").write_bytes("The ferry to Gwadar resumed on Sunday.".encode("utf-16"))
    (seeds / "six-mb.txt").write_text("The tide rose again. " * 300_000, encoding="utf-8")
    (seeds / "one-line.txt").write_text("Title\n\n" + "quay repairs continue " * 95_000, encoding="utf-8")
    (seeds / "no-stops.txt").write_text("Lighthouse keepers vote\n\nthe lighthouse keepers of Ormara voted to "
                                        "strike over unpaid wages and the vote was unanimous according to "
                                        "their union", encoding="utf-8")
    for i, name in enumerate(ODD_NAMES):
        (seeds / name).write_text(_fact(900 + i), encoding="utf-8")
    (seeds / "nested").mkdir()
    (seeds / "nested" / "inner.txt").write_text(_fact(77), encoding="utf-8")
    (outside / "secret.txt").write_text("The secret code of the vault is 4417. It must stay secret.\n",
                                        encoding="utf-8")
    os.symlink(outside / "secret.txt", seeds / "link-out.txt")
    os.symlink(outside, seeds / "linked-folder")
    p = qa.Pipeline(seeds, root / "index")
    return p, seeds


def test_awkward_files_are_skipped_with_a_warning_naming_each(zoo):
    p, _ = zoo
    skipped = "\n".join(p.index.manifest["skipped"])
    for name, why in [("zero.txt", "empty"), ("png.txt", "binary"), ("elf.html", "binary"),
                      ("latin1.txt", "not UTF-8"), ("utf16.txt", "not UTF-8"), ("six-mb.txt", "too large")]:
        assert f"skipped {name}: {why}" in skipped, skipped
    docs = set(p.index.articles)
    assert docs >= {SHUKLA[:-4], "one-line", "no-stops"} | {n.rsplit(".", 1)[0] for n in ODD_NAMES}
    assert not docs & {"inner", "link-out", "secret", "zero", "png", "elf", "latin1", "utf16", "six-mb"}


def test_nothing_outside_the_folder_is_read_or_cited(zoo):
    p, _ = zoo
    assert all("secret" not in c.text and "4417" not in c.text for c in p.index.chunks)
    ans = p.ask("What is the secret code of the vault?")
    assert ans.abstained or all("4417" not in c.quote for c in ans.citations)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_file_names_are_answered_and_verify(zoo, name):
    p, seeds = zoo
    n = 900 + ODD_NAMES.index(name)
    ans = p.ask(f"When will quay number {n} reopen?")
    assert not ans.abstained and ans.citations[0].doc_id == name.rsplit(".", 1)[0]
    assert p.verify(ans) == []
    c = ans.citations[0]
    with open(seeds / name, encoding="utf-8") as f:
        assert f.read()[c.start:c.end] == c.quote


def test_a_2_mb_line_and_an_unpunctuated_article_are_chunked_and_bounded(zoo):
    p, _ = zoo
    limit = p.settings.max_chunk_chars if hasattr(p.settings, "max_chunk_chars") else 4000
    line = [c for c in p.index.chunks if c.doc_id == "one-line"]
    assert line and max(len(c.text) for c in line) <= limit * 3
    ans = p.ask("Did the lighthouse keepers of Ormara vote to strike?")
    assert not ans.abstained and ans.citations[0].doc_id == "no-stops" and p.verify(ans) == []


def test_an_empty_folder_and_a_missing_one_are_one_clear_line(tmp_path):
    (tmp_path / "empty").mkdir()
    for folder, why in [(tmp_path / "empty", "no readable article"), (tmp_path / "missing", "does not exist")]:
        r = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(folder), "--index",
                            str(tmp_path / "index")], cwd=REPO, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"})
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode == 2 and why in last and last.startswith("qa index: ") and "Traceback" not in r.stderr


def test_a_folder_of_only_duplicates_indexes_one_and_folds_the_rest(tmp_path):
    for i in range(3):
        shutil.copy(SEEDS / SHUKLA, tmp_path / f"copy-{i}.txt")
    ix = store.build(tmp_path, tmp_path.parent / f"{tmp_path.name}-index")
    assert ix.manifest["counts"]["indexed_articles"] == 1 and ix.manifest["counts"]["articles"] == 3
    hit = qa.Pipeline(tmp_path, tmp_path.parent / f"{tmp_path.name}-index").retrieve("Who is Prabhat Shukla?")[0]
    assert {loc.doc_id for loc in hit.also_in} == {"copy-1", "copy-2"}


def test_two_thousand_tiny_files(tmp_path):
    rng = random.Random(5)
    words = ["ferry", "harbour", "cargo", "storm", "pilot", "crane", "tanker", "dock", "tug", "buoy", "wharf",
             "reef", "gale", "mast", "keel", "hull", "sail", "anchor", "tide", "pier"]
    seeds = tmp_path / "tiny"
    seeds.mkdir()
    for i in range(2000):
        a, b = rng.sample(words, 2)
        (seeds / f"t{i:04d}.txt").write_text(f"Note {i}\n\nCode {i}-{rng.randint(10**5, 10**6)}: the {a} "
                                             f"and the {b} were logged.\n", encoding="utf-8")
    p = qa.Pipeline(seeds, tmp_path / "index")
    ix = p.index
    assert ix.manifest["counts"]["articles"] == 2000 and not ix.manifest["skipped"]
    code = (seeds / "t1234.txt").read_text(encoding="utf-8").split("Code ")[1].split(":")[0]
    hits = p.retrieve(f"Code {code}", k=3)
    assert hits[0].doc_id == "t1234" or "t1234" in {loc.doc_id for loc in hits[0].also_in}
