"""The command line's arguments: one sub-parser per command, as `python -m qa --help` shows them.

Nothing here runs a command or prints: `qa.cli` does, by the command's name.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..config import PROJECT_ROOT


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=Path, default=None, help="folder of articles (default: seeds/ or $QA_SEEDS)")
    p.add_argument("--index", type=Path, default=None, help="index folder (default: index/ or $QA_INDEX)")
    p.add_argument("--backend", choices=["embedded", "milvus"], default=None,
                   help="where passages are searched (default $QA_BACKEND, else embedded; milvus: $MILVUS_URI)")


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", default=None, metavar="YYYY-MM-DD", help="only articles published on or after")
    p.add_argument("--until", default=None, metavar="YYYY-MM-DD", help="only articles published on or before")
    p.add_argument("--outlet", action="append", default=None, metavar="NAME",
                   help="only articles from this outlet (repeat for several)")
    p.add_argument("--no-question-dates", dest="question_dates", action="store_false",
                   help="do not read a date phrase of the question (\"in October 2012\") as the date filter")
    p.add_argument("--today", default=None, metavar="YYYY-MM-DD",
                   help="the day relative phrases (\"last week\") are read against (default: the newest article's)")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One readable line for a bad command line (not argparse's usage block), exit 2."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m qa", description="Cited answers from a folder of news articles.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index (or check that it is up to date)")
    _common(p)
    p.add_argument("--force", action="store_true", help="rebuild even when the index is current")
    p.add_argument("--explain", type=Path, default=None, metavar="FILE",
                   help="only show what cleaning keeps and drops in FILE, and why (nothing is built)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="chunk and encode on Ray (a local loopback-only runtime, or the cluster at ADDRESS)")

    p = sub.add_parser("retrieve", help="the passages that best match a question")
    _common(p)
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    _filter_args(p)

    p = sub.add_parser("ask", help="a cited answer to a question")
    _common(p)
    p.add_argument("question")
    p.add_argument("-k", type=int, default=8, help="passages to read the answer from (default 8)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (the schema `check` reads)")
    _filter_args(p)

    p = sub.add_parser("stories", help="every article about a query, grouped into dated stories, each cited")
    _common(p)
    p.add_argument("query")
    p.add_argument("--json", action="store_true", help="print the stories as JSON (schema qa.stories/1)")
    _filter_args(p)

    p = sub.add_parser("check", help="verify a saved answer's citations against the articles")
    _common(p)
    p.add_argument("answer", help="an answer saved as JSON (by `ask --json` or the chat's export)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval", help="quality: retrieval recall and answer accuracy per mode on labelled questions")
    _common(p)
    p.add_argument("--dataset", type=Path, default=None,
                   help="tests/seed_questions.jsonl (default) or a SQuAD .json, e.g. ../shared/eval/squad-v2.0-dev.json")
    p.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated (default bm25,dense,hybrid)")
    p.add_argument("--limit", type=int, default=None, help="evaluate N questions drawn with --seed")
    p.add_argument("--seed", type=int, default=0, help="seed of the --limit draw (default 0)")
    p.add_argument("--split", choices=["all", "tune", "report", "train", "fit"], default="all",
                   help="SQuAD articles by title: even positions of v1.1 dev tune, odd report (default all); "
                        "the tune half is cut in 'train' (a model may learn from it) and 'fit' (thresholds)")
    p.add_argument("--cache", type=Path, default=None, help="where SQuAD articles and their index are kept")
    p.add_argument("--stories", type=int, default=None,
                   help="news dev set: stories indexed (default 3000, every story a question names among them; 0: all)")
    p.add_argument("--retrieval-only", action="store_true", help="skip answering (qa.ask)")
    p.add_argument("--absent", action="store_true",
                   help="leave the --split half's articles out of the index: how often qa says 'not in these articles'")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting for this run: rrf_k, weight_bm25, weight_dense, candidates, "
                        "encoder (onnx, onnx-int8, sentence-transformers)")
    p.add_argument("--cleaning", nargs="?", const="", default=None, type=str, metavar="FOLDER",
                   help="only cleaning: body recall/precision and dates on tests/fixtures/cleaning (or FOLDER)")
    p.add_argument("--tune", action="store_true", help="grid-search the fusion settings (hybrid retrieval)")
    p.add_argument("--tune-reader", action="store_true",
                   help="grid-search the reader's order (reader_mix, reader_null) on the questions read once")
    p.add_argument("--fit-abstention", action="store_true",
                   help="fit the abstention threshold: highest recall at a cost of at most 2 points")
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("train-reader", help="train the span reader on SQuAD (resumable) and write models/reader "
                       "(int8 ONNX + card)")
    shared = PROJECT_ROOT.parent / "shared" / "eval"
    p.add_argument("--data", type=Path, default=shared / "squad-v1.1-train.json", help="SQuAD v1.1 train (read, never copied)")
    p.add_argument("--v2", type=Path, default=shared / "squad-v2.0-dev.json",
                   help="SQuAD v2.0 dev: the questions of its tune-half 'train' articles (skipped if absent)")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "models" / "reader")
    p.add_argument("--minutes", type=float, default=150.0,
                   help="time budget of this run (default 150); a checkpoint is kept, --resume goes on")
    p.add_argument("--steps", type=int, default=None,
                   help="steps the learning-rate schedule runs over (default: one pass over every question)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoints")
    p.add_argument("--checkpoints", type=Path, default=None,
                   help="folder for the checkpoint, outside the repository (default $QA_CACHE/train-reader, "
                        "else ~/.cache/qa/train-reader)")
    p.add_argument("--batch", type=int, default=8, help="questions per step, two passages each (default 8)")
    p.add_argument("--layers", type=int, default=6, help="MiniLM layers kept (default all 6)")
    p.add_argument("--limit", type=int, default=None, help="draw at most N questions from each file (for smoke runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--removed-share", type=float, default=0.1,
                   help="share of questions trained as 'article not indexed' groups (default 0.1)")
    p.add_argument("--eval-minutes", type=float, default=10.0,
                   help="minutes between held-out checks, the learning curve (default 10)")
    p.add_argument("--lede-share", type=float, default=0.0,
                   help="share of answer passages that open with a sentence restating the question without "
                        "its answer, as a news lede does (default 0)")
    p.add_argument("--restate-share", type=float, default=0.0,
                   help="share of answer passages that open with the answer's own sentence, its answer put "
                        "vaguely ('an official', 'an undisclosed amount'), as a news lede restates (default 0)")
    p.add_argument("--vague-share", type=float, default=0.0,
                   help="share of answerable questions trained as 'the story says it only vaguely': the answer's "
                        "sentence put vaguely, the sentence that answers left out, no passage answers (default 0)")
    p.add_argument("--init-from", type=Path, default=None, metavar="DIR",
                   help="a new run goes on from the shipped reader in DIR (its int8 weights read back, its card's "
                        "steps and data position), for when the checkpoint is gone")
    p.add_argument("--json", action="store_true", help="print the model card as JSON")

    p = sub.add_parser("export-encoder", help="write models/encoder (int8 ONNX, tokenizer, card) from the packaged "
                       "MiniLM, checked against sentence-transformers (needs the train extra)")
    p.add_argument("--seeds", type=Path, default=None,
                   help="articles whose sentences the equality check encodes (default: seeds/ or $QA_SEEDS)")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "models" / "encoder")
    p.add_argument("--json", action="store_true", help="print the card as JSON")

    p = sub.add_parser("bench", help="speed: index build, query latency by stage, cold start, scale")
    _common(p)
    p.add_argument("--quick", action="store_true", help="a smoke run of under a minute (seeds only, 2k chunks)")
    p.add_argument("--sizes", default=None, help="comma-separated synthetic corpus sizes (default 10000,100000)")
    p.add_argument("--archive", type=int, nargs="?", const=10_000, default=None, metavar="N",
                   help="only the incremental index at archive size: build N articles (default 10000), "
                        "then add, change and remove one")
    p.add_argument("--news", type=int, nargs="?", const=10_000, default=None, metavar="N",
                   help="only the index at news-archive size: N Reuters stories (default 10000) from "
                        "../shared/eval/reuters/, built, served and added to in fresh processes")
    p.add_argument("--chars", type=int, default=0, help="with --news: repeat the stories until there are this "
                   "many characters (the issue's 25,000,000)")
    p.add_argument("--against", type=Path, default=None, metavar="DIR", help="with --news: also measure the code "
                   "tree DIR (e.g. a git worktree of an older commit), in the same run")
    p.add_argument("--tree", type=Path, default=None, metavar="DIR", help="with --news: measure the code tree DIR "
                   "instead of this one")
    p.add_argument("--load", action="store_true", help="only load: 16 threads and 20 API clients asking at once, "
                   "a burst, asking while 4.9 MB are uploaded, an upload flood (--quick: a smoke run)")
    p.add_argument("--backends", nargs="?", const="", default=None, metavar="SQUAD_JSON", help="only the embedded "
                   "and Milvus backends and Ray indexing, on the seeds or a SQuAD file's articles (README: Scaling out)")
    p.add_argument("--stories", type=int, nargs="?", const=10_000, default=None, metavar="N",
                   help="only qa.stories on the news dev set (../shared/eval/reuters), N stories indexed once "
                        "(default 10000): recall/precision of its floors, grouping, warm latency")
    p.add_argument("--cache", type=Path, default=None,
                   help="--stories: where the stories and their index are kept (default ~/.cache/qa/stories-bench)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return ap
