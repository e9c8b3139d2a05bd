"""`qa train-reader` end to end on a small SQuAD-format file made from the seed articles and questions:
a run, its checkpoint, a resumed run, and the model it writes as the answerer loads it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import QUESTIONS, REPO, SEEDS, needs_train, raw
from qa.answering.reader import Reader, ReaderError
from qa.answering.span_input import Passage
from qa.retrieval.runtime import sha256_file

pytestmark = needs_train                # training needs torch: the train extra


def squad_from_seeds(path):
    """Seed articles as SQuAD documents (paragraphs at blank lines), seed questions at the paragraph
    that holds their answer."""
    docs, questions = [], []
    for f in sorted(SEEDS.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        starts = [0] + [m.end() for m in re.finditer(r"\n\s*\n", text)]
        docs.append({"id": f.stem, "title": text.splitlines()[0][:80], "text": text, "paragraph_starts": starts})
    by_id = {d["id"]: d for d in docs}
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        for doc_id in q.get("doc_ids") or ():
            d = by_id[doc_id]
            for a in q["answers"]:
                m = re.search(rf"(?<!\w){re.escape(a)}(?!\w)", d["text"])     # at word edges, as SQuAD's answers are
                if m:
                    at = m.start()
                    p = max(i for i, s in enumerate(d["paragraph_starts"]) if s <= at)
                    questions.append({"id": f"{q['id']}-{doc_id}", "question": q["question"], "answers": [a],
                                      "doc_id": doc_id, "paragraph_index": p})
                    break
    path.write_text(json.dumps({"documents": docs, "questions": questions}), encoding="utf-8")
    return len(questions)


def _train(tmp_path, data, *extra, timeout=600):
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "CUDA_VISIBLE_DEVICES": ""}     # tests train on the CPU
    return subprocess.run([sys.executable, "-m", "qa", "train-reader", "--data", str(data), "--v2", str(tmp_path / "none"),
                           "--out", str(tmp_path / "reader"), "--checkpoints", str(tmp_path / "ckpt"),
                           "--batch", "2", "--json", *extra],
                          capture_output=True, text=True, cwd=str(REPO), env=env, timeout=timeout)


def test_train_reader_smoke_run_resume_and_the_model_it_writes(tmp_path, index):
    data = tmp_path / "train.json"
    assert squad_from_seeds(data) >= 20
    run = _train(tmp_path, data, "--steps", "3", "--minutes", "0.15")
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads(run.stdout)
    out = tmp_path / "reader"
    model = out / "reader.onnx"
    assert model.stat().st_size <= 30_000_000
    assert card["kind"] == "span" and card["files"]["reader.onnx"]["sha256"] == sha256_file(model)
    assert json.loads((out / "card.json").read_text())["files"] == card["files"]
    first = card["training"]["steps"]
    assert first >= 1 and card["data"]["questions"] >= 10 and card["curve"][0]["step"] == 0
    assert {"sentence_top1", "span_em", "span_f1"} <= set(card["curve"][-1]) and "loss" in run.stderr
    assert (tmp_path / "ckpt" / "checkpoint.pt").is_file()

    again = _train(tmp_path, data, "--steps", "6", "--minutes", "0.15", "--resume")   # goes on, its decay stretched
    assert again.returncode == 0, again.stderr[-2000:]
    card2 = json.loads(again.stdout)
    assert "resuming at step" in again.stderr and card2["training"]["steps"] > first
    runs = card2["training"]["runs"]
    assert len(runs) == 2 and card2["curve"][0] == card["curve"][0] and card2["training"]["planned_steps"] == 6
    assert runs[0]["from_step"] == 0 and runs[0]["to_step"] == first == runs[1]["from_step"]
    assert runs[1]["to_step"] == card2["training"]["steps"] and "--resume" in runs[1]["command"]

    went_on = subprocess.run(                                          # a new run goes on from the shipped model
        [sys.executable, "-m", "qa", "train-reader", "--data", str(data), "--v2", str(tmp_path / "none"),
         "--out", str(tmp_path / "reader2"), "--checkpoints", str(tmp_path / "ckpt2"), "--batch", "2", "--json",
         "--init-from", str(out), "--lede-share", "1", "--steps", str(card2["training"]["steps"] + 2),
         "--minutes", "0.15"], capture_output=True, text=True, cwd=str(REPO), timeout=600,
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "CUDA_VISIBLE_DEVICES": ""})
    assert went_on.returncode == 0, went_on.stderr[-2000:]
    card3 = json.loads(went_on.stdout)
    init = card3["training"]["init_from"]
    assert init["sha256"] == card2["files"]["reader.onnx"]["sha256"] and init["steps"] == card2["training"]["steps"]
    assert card3["training"]["steps"] > card2["training"]["steps"] and card3["data"]["lede_share"] == 1
    assert card3["curve"][:len(card2["curve"])] == card2["curve"] and len(card3["training"]["runs"]) == 3
    assert "initialised from the int8 weights" in card3["training"]["runs"][-1]["note"]
    assert "held-out, the weights read back" in went_on.stderr
    other = _train(tmp_path, data, "--steps", "2", "--minutes", "0.05", "--init-from", str(out), "--seed", "9")
    assert other.returncode != 0 and "other settings or data" in other.stderr and "Traceback" not in other.stderr

    reader = Reader(out, 2)                                            # the loader the answerer uses
    text = raw(SEEDS, "000_d7d3e32efbec5146")
    spans = [(s, e) for d, s, e in index.sentence_spans if d == "000_d7d3e32efbec5146"][:4]
    base = spans[0][0]
    p = Passage("t", text[base:spans[-1][1]], tuple((s - base, e - base) for s, e in spans))
    got = reader.read("Who is Ruslan Pukhov?", [p])
    assert len(got) == 1 and {sp.sentence for sp in got[0]} <= set(range(4))
    for sp in got[0]:
        s, e = p.sentences[sp.sentence]
        assert s <= sp.start < sp.end <= e and np.isfinite(sp.score) and np.isfinite(sp.null)

    with open(model, "r+b") as f:                                      # a damaged model is refused
        f.seek(model.stat().st_size // 2)
        f.write(b"\x00" * 32)
    with pytest.raises(ReaderError, match="sha256"):
        Reader(out, 2)


def test_training_groups_hold_what_they_claim(tmp_path):
    """Every passage is a verbatim run of whole sentences of its article; an answer group has one
    passage whose gold spans are the answer, and token targets that cover exactly those words."""
    from qa.answering.span_input import SpanInput
    from qa.retrieval.export import model_path
    from qa.train.held import batch_arrays
    from qa.train.stream import Stream
    data = tmp_path / "train.json"
    squad_from_seeds(data)
    inputs = SpanInput(model_path() / "tokenizer.json")
    stream = Stream(data, None, inputs, None, seed=3, removed_share=0.3)
    docs = {d["id"]: d["text"] for d in json.loads(data.read_text())["documents"]}
    groups, _ = stream.take(0, 12)
    kinds = {g.kind for g in groups}
    assert {"answer", "removed"} <= kinds
    enc, gs, ge = batch_arrays(inputs, groups)
    row = 0
    for g in groups:
        assert len(g.passages) == 2 and sum(bool(x) for x in g.gold) == (1 if g.kind == "answer" else 0)
        for p, gold in zip(g.passages, g.gold):
            assert any(p.text in t for t in docs.values())
            assert all(p.text[a:b].strip() == p.text[a:b] and p.text[a:b] for a, b in p.sentences)
            for a, b in gold:
                assert p.text[a:b] in g.answers
                words = " ".join(p.text[enc.offsets[row, t, 0]:enc.offsets[row, t, 1]]
                                 for t in range(gs.shape[1]) if gs[row, t] or ge[row, t])
                assert words and all(w in p.text[a:b] for w in words.split())
            assert bool(gs[row].any()) == bool(gold) == bool(ge[row].any())
            if not gold:
                assert not any(a.lower() in p.text.lower() for a in g.answers)
            row += 1


def test_resume_without_a_checkpoint_says_so_and_starts_again(tmp_path):
    data = tmp_path / "train.json"
    squad_from_seeds(data)
    run = _train(tmp_path, data, "--steps", "2", "--minutes", "0.05", "--resume")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "no checkpoint at" in run.stderr and "starting a new run" in run.stderr
    assert json.loads(run.stdout)["training"]["steps"] >= 1


def test_train_reader_without_data_is_a_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "qa", "train-reader", "--data", str(tmp_path / "missing.json"),
                          "--out", str(tmp_path / "m")], capture_output=True, text=True, cwd=str(REPO), timeout=120)
    assert run.returncode != 0 and "no training data" in run.stderr and "Traceback" not in run.stderr


def _groups(tmp_path, **shares):
    """16 training groups over the seeds made a SQuAD file, with the given shares, and the articles' texts."""
    from qa.answering.span_input import SpanInput
    from qa.retrieval.export import model_path
    from qa.train.stream import Stream
    data = tmp_path / "train.json"
    squad_from_seeds(data)
    inputs = SpanInput(model_path() / "tokenizer.json")
    docs = {d["id"]: d["text"] for d in json.loads(data.read_text())["documents"]}
    groups, _ = Stream(data, None, inputs, None, seed=3, removed_share=0.0, **shares).take(0, 16)
    return groups, docs


def test_lede_passages_open_with_a_sentence_that_restates_the_question(tmp_path):
    """With --lede-share 1, answer passages that can open with a restating sentence do: a whole
    sentence of the same article sharing at least two of the question's terms and holding no answer,
    then a verbatim run of the article's sentences that holds the answer."""
    from qa.text import tokenize
    led, docs = _groups(tmp_path, lede_share=1.0)
    opened = 0
    for g in led:
        for p, gold in zip(g.passages, g.gold):
            if not gold or any(p.text in t for t in docs.values()):
                continue
            opened += 1
            a, b = p.sentences[0]
            lede, rest = p.text[a:b], p.text[p.sentences[1][0]:]
            assert a == 0 and p.text[b:p.sentences[1][0]] == " "
            assert any(lede in t and rest in t for t in docs.values())
            assert not any(x.lower() in lede.lower() for x in g.answers)
            assert len(set(tokenize(g.question)) & set(tokenize(lede))) >= 2
            assert all(s >= p.sentences[1][0] and p.text[s:e] in g.answers for s, e in gold)
    assert opened >= 3


def test_restated_passages_open_with_the_answer_sentence_put_vaguely(tmp_path):
    """With --restate-share 1, answer passages open with the answer's own sentence, its answer
    replaced by a vague phrase of the question's kind, then a verbatim run of the article that holds
    the answer: the head holds no answer, and every gold span lies after it, on an answer."""
    import random
    from qa.train.ledes import vague
    rng = random.Random(0)
    assert vague("How many soldiers died?", rng) in ("an undisclosed amount", "a number of them", "several")
    assert vague("Who will run the carmaker?", rng) in ("an official", "a senior figure", "one of them")
    assert vague("Why was the visit cancelled?", rng).startswith("for")
    assert vague("Which record company signed them?", rng) == "a record company"
    assert vague("Which of her teachers saw it?", rng) == "one of them" and vague("Did it rain?", rng) is None
    groups, docs = _groups(tmp_path, restate_share=1.0)
    opened = 0
    for g in groups:
        for p, gold in zip(g.passages, g.gold):
            if not gold or any(p.text in t for t in docs.values()):
                continue
            opened += 1
            a, b = p.sentences[0]
            head, rest = p.text[a:b], p.text[p.sentences[1][0]:]
            assert a == 0 and p.text[b:p.sentences[1][0]] == " "
            assert any(rest in t for t in docs.values()) and not any(head in t for t in docs.values())
            assert not any(x.lower() in head.lower() for x in g.answers)
            assert all(s >= p.sentences[1][0] and p.text[s:e] in g.answers for s, e in gold)
    assert opened >= 3


def test_vague_groups_hold_no_answer_and_open_with_the_sentence_put_vaguely(tmp_path):
    """With --vague-share 1, answerable questions become groups no passage of which answers: one
    passage opens with the answer's sentence put vaguely and goes on with the article without the
    sentence that answers, the other is another article's; neither holds an answer."""
    groups, docs = _groups(tmp_path, vague_share=1.0)
    vague = [g for g in groups if g.kind == "vague"]
    assert len(vague) >= 3
    for g in vague:
        assert g.gold == [[], []] and g.answers
        assert not any(x.lower() in p.text.lower() for p in g.passages for x in g.answers)
        opened = [p for p in g.passages if not any(p.text[:p.sentences[0][1]] in t for t in docs.values())]
        assert len(opened) == 1
        rest = opened[0].text[opened[0].sentences[1][0]:] if len(opened[0].sentences) > 1 else ""
        assert any(rest in t for t in docs.values())


def test_weights_read_back_from_the_int8_model_answer_as_it_does(tmp_path):
    """`--init-from` reads the shipped reader's torch weights from its int8 ONNX graph: the model
    read back scores the same passages as onnxruntime does, up to int8 rounding."""
    from qa.answering.span_input import SpanInput
    from qa.retrieval.export import model_path
    from qa.train.export import onnx_runner
    from qa.train.held import batch_arrays, torch_runner
    from qa.train.stream import Stream
    from qa.train.span_model import build
    from qa.train.warm import load_into
    shipped = REPO / "models" / "reader"
    model = build()
    assert load_into(model, shipped / "reader.onnx") == ["bert.embeddings.word_embeddings.weight"]
    data = tmp_path / "train.json"
    squad_from_seeds(data)
    inputs = SpanInput(model_path() / "tokenizer.json")
    groups, _ = Stream(data, None, inputs, None, seed=5, removed_share=0.0).take(0, 6)
    enc, _, _ = batch_arrays(inputs, groups)
    ts, te = torch_runner(model, "cpu")(enc.feed)
    os_, oe = onnx_runner(shipped / "reader.onnx")(enc.feed)
    ctx = enc.context.astype(bool)
    for t, o in ((ts, os_), (te, oe)):
        assert np.corrcoef(t[ctx], o[ctx])[0, 1] > 0.97
        agree = np.mean([np.argmax(np.where(ctx[r], t[r], -1e9)) == np.argmax(np.where(ctx[r], o[r], -1e9))
                         for r in range(len(t))])
        assert agree >= 0.75
