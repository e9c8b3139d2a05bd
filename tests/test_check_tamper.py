"""`qa check` on hostile answers: citations that cannot be turned against us.

Every case starts from a real answer (`pipeline.ask`), tampers with one thing, saves it and
checks it. A broken citation is reported (exit 1, one `FAIL` line a problem, naming it); a file
that is not a qa answer is refused (exit 2, one `qa check: ...` line on stderr); nothing ever
escapes as a traceback. The table runs `qa.cli.main`, what `python -m qa` runs, in-process (an
escaping exception fails the test); a sample of it also runs as the user's subprocess, as
tests/test_cli.py does. An audit hook proves that no id opens a file outside the articles folder.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import main
from qa.types import Answer

from conftest import REPO

QUESTION = "Why was Putin's visit cancelled?"


@pytest.fixture(scope="module")
def answer(pipeline) -> dict:
    d = json.loads(json.dumps(pipeline.ask(QUESTION).to_dict()))
    assert len(d["citations"]) >= 2 and any(c["also_in"] for c in d["citations"])   # a duplicate scrape
    return d


def _cit(**change):
    """Change the first citation."""
    return lambda d: d["citations"][0].update(change)


def _also(**change):
    """Change the first "also in" location."""
    return lambda d: next(c for c in d["citations"] if c["also_in"])["also_in"][0].update(change)


def _set(key, value):
    return lambda d: d.__setitem__(key, value)


def _drop(key, where=lambda d: d["citations"][0]):
    return lambda d: where(d).pop(key)


def _shift(by):
    return lambda d: d["citations"][0].update(start=d["citations"][0]["start"] + by, end=d["citations"][0]["end"] + by)


class File:
    """What a tamper returns when the saved file is not the (changed) answer: bytes, or a value as JSON."""

    def __init__(self, content):
        self.content = content


def _raw(data: bytes):
    return lambda d: File(data)


# (case, what to do to the answer: change the dict in place, or return a File, message expected)
REPORTED = [   # exit 1: the answer parses, and the problem is named
    ("offsets +1", _shift(1), "the quote differs"),
    ("offsets -1", _shift(-1), "the quote differs"),
    ("changed quote", _cit(quote="Putin loves Pakistan."), "the quote differs"),
    ("marker missing", lambda d: d.update(text=d["text"].replace("[2]", "")), "[2] has no marker"),
    ("answer text edited", lambda d: d.update(text=d["text"].replace("Putin", "Obama")), "answer text is not its"),
    ("citations dropped", _set("citations", []), "answer text is not its"),
    ("abstains with citations", _set("abstained", True), "abstains but carries citations"),
    ("id ../", lambda d: d["citations"][0].update(doc_id="../" + d["citations"][0]["doc_id"]),
     "not a valid article id"),
    ("id ../../etc/passwd", _cit(doc_id="../../etc/passwd"), "not a valid article id"),
    ("id /etc/passwd", _cit(doc_id="/etc/passwd"), "not a valid article id"),
    ("id ..", _cit(doc_id=".."), "not a valid article id"),
    ("id empty", _cit(doc_id=""), "not a valid article id"),
    ("id NUL byte", _cit(doc_id="000_d7d3e32efbec5146\x00"), "not a valid article id"),
    ("id newline", _cit(doc_id="000_d7d3e32efbec5146\n"), "not a valid article id"),
    ("id 5,000 chars", _cit(doc_id="a" * 5000), "not a valid article id"),
    ("id 200 letters", _cit(doc_id="é" * 200), "cannot look the article file up"),    # 400 bytes: ENAMETOOLONG
    ("id unknown", _cit(doc_id="999_nonexistent"), "is missing"),
    ("negative offsets", _cit(start=-5, end=10), "outside the article"),
    ("end before start", _cit(start=50, end=40), "outside the article"),
    ("empty span", _cit(start=50, end=50), "outside the article"),
    ("huge offsets", _cit(start=10**18, end=10**18 + 5), "outside the article"),
    ("huge end", _cit(start=0, end=10**18), "outside the article"),
    ("also_in out of range", _also(start=10**18, end=10**18 + 1), "also in 001_c309b08081cb848a: offsets"),
    ("also_in traversal", _also(doc_id="../../etc/passwd"), "also in '../../etc/passwd' is not a valid"),
    ("also_in elsewhere", _also(start=0, end=200), "not the quoted passage"),
    ("answer span before the quote", lambda d: d["citations"][0].update(answer_start=d["citations"][0]["start"] - 3),
     "is not inside the quote"),
    ("answer span past the quote", lambda d: d["citations"][0].update(answer_end=d["citations"][0]["end"] + 1),
     "is not inside the quote"),
    ("answer span empty", lambda d: d["citations"][0].update(answer_end=d["citations"][0]["answer_start"]),
     "is not inside the quote"),
    ("answer text changed", _cit(answer_text="Obama"), "the answer text differs"),
    ("answer span shifted", lambda d: d["citations"][0].update(answer_start=d["citations"][0]["answer_start"] + 1),
     "the answer text differs"),
    ("answer text dropped", _cit(answer_text=None), "the answer text differs"),
]
REFUSED = [    # exit 2: not a qa answer; one line on stderr says why
    ("offsets as strings", _cit(start="356", end="595"), "'start' must be a whole number"),
    ("offsets as floats", _cit(start=356.0), "'start' must be a whole number"),
    ("offsets as bools", _cit(start=True, end=True), "'start' must be a whole number"),
    ("offsets null", _cit(end=None), "'end' must be a whole number"),
    ("offset Infinity", lambda d: File(json.dumps(d).replace('"start": ', '"start": Infinity, "x": ', 1).encode()),
     "'start' must be a whole number, not inf"),
    ("offset 1e400", lambda d: File(json.dumps(d).replace('"start": ', '"start": 1e400, "x": ', 1).encode()),
     "'start' must be a whole number, not inf"),
    ("doc_id a number", _cit(doc_id=7), "'doc_id' must be text"),
    ("answer offset a string", _cit(answer_start="5"), "'answer_start' must be a whole number"),
    ("answer offset a bool", _cit(answer_end=True), "'answer_end' must be a whole number"),
    ("answer text a number", _cit(answer_text=5), "'answer_text' must be text"),
    ("no citations", _drop("citations", lambda d: d), "with a 'citations' list"),
    ("no quote", _drop("quote"), "citation [1] has no 'quote'"),
    ("no doc_id", _drop("doc_id"), "citation [1] has no 'doc_id'"),
    ("no start", _drop("start"), "citation [1] has no 'start'"),
    ("citations a string", _set("citations", "abc"), "'citations' must be a list"),
    ("citations an object", _set("citations", {"doc_id": "x"}), "'citations' must be a list"),
    ("citations a number", _set("citations", 5), "'citations' must be a list"),
    ("citations null", _set("citations", None), "'citations' must be a list"),
    ("citation a number", _set("citations", [1]), "citation [1] must be a JSON object"),
    ("top level a list", lambda d: File([d]), "not a qa answer"),
    ("top level a number", lambda d: File(42), "not a qa answer"),
    ("top level null", lambda d: File(None), "not a qa answer"),
    ("unknown schema", _set("schema", "qa.answer/9"), "unknown answer schema 'qa.answer/9'"),
    ("also_in not a list", _cit(also_in="001_c309b08081cb848a"), "'also_in' must be a list"),
    ("also_in a number", _cit(also_in=[5]), "'also_in' 1 must be a JSON object"),
    ("also_in no offsets", _cit(also_in=[{"doc_id": "001_c309b08081cb848a"}]), "'also_in' 1 has no 'start'"),
    ("also_in bool offsets", _also(start=False, end=True), "'start' must be a whole number"),
    ("text a number", _set("text", 5), "'text' must be text"),
    ("abstained a string", _set("abstained", "false"), "'abstained' must be true or false"),
    ("notes not texts", _set("notes", [1]), "'notes' must be a list of texts"),
    ("10 MB string", _set("question", "x" * 10_000_000), "too large"),
    ("10 MB of citations", lambda d: d.update(citations=d["citations"] * 12_000), "too large"),
    ("nested 100k deep", _raw(b"[" * 100_000 + b"]" * 100_000), "nested too deeply"),
    ("not JSON", _raw(b"this is not json"), "not JSON"),
    ("binary bytes", _raw(bytes(range(256)) * 4), "not UTF-8"),
    ("latin-1 text", lambda d: File(json.dumps(d, ensure_ascii=False).replace("Putin", "Pútin")
                                    .encode("latin-1", "replace")), "not UTF-8"),
    ("empty file", _raw(b""), "empty"),
]


def _save(answer: dict, tamper, path: Path) -> Path:
    d = copy.deepcopy(answer)
    out = tamper(d)
    out = out.content if isinstance(out, File) else d
    path.write_bytes(out if isinstance(out, bytes) else json.dumps(out).encode("utf-8"))
    return path


def _check_in_process(pipeline, capsys, path) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["check", "--seeds", str(pipeline.seeds_dir), "--index", str(pipeline.index_dir), str(path)])
    out, err = capsys.readouterr()
    return rc, out, err


def _assert_reported(rc, out, err, message):
    lines = out.splitlines()
    assert rc == 1 and err == "" and lines and all(line.startswith("FAIL ") for line in lines), (rc, out, err)
    assert any(message in line for line in lines), out


def _assert_refused(rc, out, err, message):
    assert rc == 2 and out == "" and "Traceback" not in err, (rc, out, err)
    assert err.count("\n") == 1 and err.startswith("qa check: ") and len(err) < 400, err
    assert message in err, err


def test_the_real_answer_holds(pipeline, answer, capsys, tmp_path):
    rc, out, err = _check_in_process(pipeline, capsys, _save(answer, lambda d: None, tmp_path / "a.json"))
    assert (rc, err) == (0, "") and out.startswith(f"OK: all {len(answer['citations'])} citations hold")


@pytest.mark.parametrize("case, tamper, message", REPORTED, ids=[c[0] for c in REPORTED])
def test_broken_citations_are_reported(pipeline, answer, capsys, tmp_path, case, tamper, message):
    _assert_reported(*_check_in_process(pipeline, capsys, _save(answer, tamper, tmp_path / "a.json")), message)


@pytest.mark.parametrize("case, tamper, message", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_is_not_an_answer_is_refused(pipeline, answer, capsys, tmp_path, case, tamper, message):
    _assert_refused(*_check_in_process(pipeline, capsys, _save(answer, tamper, tmp_path / "a.json")), message)


@pytest.mark.parametrize("case", ["missing file", "a directory", "/dev/zero"])
def test_what_is_not_a_file_is_refused(pipeline, capsys, tmp_path, case):
    path = {"missing file": tmp_path / "nope.json", "a directory": tmp_path, "/dev/zero": Path("/dev/zero")}[case]
    message = {"missing file": "No such file", "a directory": "Is a directory", "/dev/zero": "too large"}[case]
    _assert_refused(*_check_in_process(pipeline, capsys, path), message)


def test_just_under_the_cap_is_checked_not_refused(pipeline, answer, capsys, tmp_path):
    """3.5 MB of citations (each article read once): every one checked, a line for each problem."""
    d = copy.deepcopy(answer)
    d["citations"] = d["citations"] * (3_500_000 // len(json.dumps(answer["citations"])))
    path = _save(d, lambda d: None, tmp_path / "big.json")
    assert 3_000_000 < path.stat().st_size < 4_000_000
    rc, out, err = _check_in_process(pipeline, capsys, path)
    _assert_reported(rc, out, err, "has no marker in the answer text")
    assert out.count("has no marker") == len(d["citations"]) - len(answer["citations"])


def test_an_article_named_like_a_saved_page_verifies(pipeline, capsys, tmp_path):
    """An id the index knows is checked whatever its characters (the index, not the id, names its file)."""
    from qa import Pipeline
    from qa.answering.cite import compose
    from qa.types import Citation
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(Path(pipeline.seeds_dir) / "003_6032db8118f64392.txt", folder / "Saved page (Dawn), 2012.txt")
    p = Pipeline(folder, tmp_path / "index")
    art = p.index.articles["Saved page (Dawn), 2012"]
    s, e = art.body[1]
    c = Citation(art.doc_id, art.title, s, e, art.text[s:e])
    a = Answer("q", compose([c], []), (c,), False)
    assert p.verify(a) == []
    path = tmp_path / "a.json"
    path.write_text(json.dumps(a.to_dict()), encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--seeds", str(folder), "--index", str(tmp_path / "index"), str(path)]) == 0
    assert capsys.readouterr().out == "OK: all 1 citations hold\n"


SUBPROCESS = ["id ../../etc/passwd", "id 5,000 chars", "offset Infinity", "10 MB string", "nested 100k deep",
              "binary bytes", "answer text edited"]


def test_the_command_as_a_user_runs_it(pipeline, answer, tmp_path):
    """A sample of the table through `python -m qa check`, the processes run side by side."""
    cases = {name: (tamper, message, 1 if any(name == c[0] for c in REPORTED) else 2)
             for name, tamper, message in REPORTED + REFUSED if name in SUBPROCESS}
    cases["the real answer"] = (lambda d: None, "OK: all", 0)
    cases["a directory"] = (None, "Is a directory", 2)
    procs = {}
    for i, (name, (tamper, _, _)) in enumerate(cases.items()):
        path = tmp_path if tamper is None else _save(answer, tamper, tmp_path / f"{i}.json")
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "qa", "check", "--seeds", str(pipeline.seeds_dir), "--index",
             str(pipeline.index_dir), str(path)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for name, p in procs.items():
        out, err = p.communicate(timeout=300)
        _, message, rc = cases[name]
        if rc == 0:
            assert p.returncode == 0 and message in out and "Traceback" not in err, (name, out, err)
        else:
            (_assert_reported if rc == 1 else _assert_refused)(p.returncode, out, err, message)


# --- nothing outside the articles folder is opened ---------------------------------------------

_OPENED: list[str] = []
_RECORDING = [False]


def _hook(event, args):
    if _RECORDING[0] and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


@pytest.fixture(scope="module")
def opened():
    """`with opened() as paths:` records the path of every file opened inside the block (an audit
    hook stays for the life of the process: it is installed once and records nothing outside)."""
    sys.addaudithook(_hook)

    class Recording:
        def __enter__(self):
            _OPENED.clear()
            _RECORDING[0] = True
            return _OPENED

        def __exit__(self, *exc):
            _RECORDING[0] = False
    return Recording


def _outside(paths: list[str], folder: Path) -> list[str]:
    """The opened paths that are neither in `folder` nor Python's, the package's or the model cache's."""
    ignore = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, "/proc", "/dev",
                                          REPO / "qa", os.environ.get("QA_CACHE") or "/proc")]
    inside = [folder.resolve()] + ignore
    return [p for p in paths if not any(Path(p).resolve().is_relative_to(d) for d in inside)]


def test_no_id_opens_a_file_outside_the_articles_folder(pipeline, answer, opened, tmp_path):
    seeds = Path(pipeline.seeds_dir)
    real = answer["citations"][0]["doc_id"]
    sentinel = tmp_path / "sentinel.txt"
    shutil.copy(seeds / f"{real}.txt", sentinel)                  # an article, in the wrong place
    folder = tmp_path / "articles"                                 # the seeds plus a link to the sentinel
    shutil.copytree(seeds, folder)
    (folder / "linked.txt").symlink_to(sentinel)
    rel = os.path.relpath(sentinel.with_suffix(""), seeds)
    ids = ["../" + real, f"../{seeds.name}/{real}", rel, "../" + rel, str(sentinel.with_suffix("")), str(sentinel),
           "../../etc/passwd", "/etc/passwd", "..", ".", "", "\x00", "a" * 5000, "sentinel", "linked"]

    def tampered(doc_id: str) -> Answer:
        d = copy.deepcopy(answer)
        d["citations"][0]["doc_id"] = d["citations"][1]["doc_id"] = doc_id
        for c in d["citations"]:
            for loc in c["also_in"]:
                loc["doc_id"] = doc_id
        return Answer.from_dict(d)

    with opened() as paths:                                        # the hook sees what verify opens
        assert pipeline.verify(Answer.from_dict(answer)) == []
        open(sentinel).close()
    assert any(Path(p).parent == seeds for p in paths) and _outside(paths, seeds) == [str(sentinel)]
    from qa.answering.cite import verify
    for doc_id in ids:
        bad = tampered(doc_id)
        for where, index in ((seeds, pipeline.index), (folder, pipeline.index), (folder, None)):
            with opened() as paths:
                problems = verify(bad, where, index)
            assert _outside(paths, where) == [] and str(sentinel) not in paths, (doc_id, where, paths)
            assert "linked.txt" not in {Path(p).name for p in paths}
            assert any(doc_id[:20] in p or repr(doc_id)[:20] in p for p in problems), (doc_id, problems)
            assert any(w in problems[0] for w in ("not a valid article id", "is missing", "not a file of the")), \
                problems
