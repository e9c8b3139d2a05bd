"""The command line: `python -m qa index | retrieve | ask | check | eval | bench`.

The only module that prints and exits. Library errors become one line on stderr
and an exit code: 1 for a failed check, 2 for bad input or a broken index.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from .config import DEFAULT, PROJECT_ROOT, default_index_dir, default_seeds_dir
from .errors import IndexWriteError, QAError
from .pipeline import Pipeline


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", type=Path, default=None, help="folder of articles (default: seeds/ or $QA_SEEDS)")
    p.add_argument("--index", type=Path, default=None, help="index folder (default: index/ or $QA_INDEX)")
    p.add_argument("--backend", choices=["embedded", "milvus"], default=None,
                   help="where passages are searched (default $QA_BACKEND, else embedded; milvus: $MILVUS_URI)")


def _pipeline(args, progress: bool = False, engine=None) -> Pipeline:
    return Pipeline(args.seeds or default_seeds_dir(), args.index or default_index_dir(), progress=progress,
                    backend=args.backend, engine=engine)


def cmd_index(args) -> int:
    from .store.distributed import RayEngine
    engine = RayEngine(DEFAULT, args.ray or None, progress=True) if args.ray is not None else None
    try:
        return _index(args, _pipeline(args, progress=True, engine=engine))
    finally:
        if engine is not None:
            engine.close()


def _index(args, p: Pipeline) -> int:
    from . import store
    t = time.perf_counter()
    plain = args.backend in (None, "embedded") and not os.environ.get("QA_BACKEND") and p.engine is None
    m = store.up_to_date(p.seeds_dir, p.index_dir, p.settings) if plain and not args.force else None
    if m is None:                  # nothing parsed for an unchanged folder; else build or reload (and sync)
        try:
            ix = p.rebuild() if args.force else p.index
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else e
            raise IndexWriteError(f"cannot write the index in {p.index_dir} ({why}); nothing was changed")
        if ix.write_error:
            raise IndexWriteError(f"{ix.write_error}; the index there is as it was, without the latest changes")
        m = ix.manifest
    c = m["counts"]
    print(f"index {p.index_dir}: {c['chunks']} chunks from {c['indexed_articles']} articles "
          f"({c['articles'] - c['indexed_articles']} duplicate scrapes folded in) in {time.perf_counter() - t:.1f}s")
    inc = m.get("incremental") or {}
    if "timings_s" not in m:
        print("  up to date: nothing read again, nothing encoded")
    elif inc.get("from_previous"):
        print(f"  encoded {inc['texts_encoded']} new texts, reused {inc['texts_reused']} from the previous index "
              f"({inc['articles_rechunked']} articles split into sentences again)")
    for line in m.get("skipped", []):
        print(f"  {line}")
    store.sweep(p.index_dir)       # what interrupted builds left (it says what it removes)
    if p.synced is not None and (b := p.index.backend).name != "embedded":
        print(f"  {b.name} collection {b.collection} at {b.uri}: added {p.synced['added']}, "
              f"removed {p.synced['removed']}, kept {p.synced['kept']} chunks")
    return 0


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", default=None, metavar="YYYY-MM-DD", help="only articles published on or after")
    p.add_argument("--until", default=None, metavar="YYYY-MM-DD", help="only articles published on or before")
    p.add_argument("--outlet", action="append", default=None, metavar="NAME",
                   help="only articles from this outlet (repeat for several)")


def _filters(args) -> dict:
    return {"since": args.since, "until": args.until, "outlets": args.outlet}


def cmd_retrieve(args) -> int:
    hits = _pipeline(args, progress=True).retrieve(args.question, k=args.k, mode=args.mode, **_filters(args))
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("no passage found")
    for i, h in enumerate(hits, 1):
        why = f"bm25 #{h.bm25_rank or '-'}  dense #{h.dense_rank or '-'}"
        where = "  " + ", ".join(x for x in (h.outlet, h.date) if x) if h.outlet or h.date else ""
        print(f"[{i}] {h.title}{where}  ({h.doc_id} {h.start}:{h.end})  score {h.score:.4f}  {why}")
        for loc in h.also_in:
            print(f"    also in {loc.doc_id} {loc.start}:{loc.end}")
        print("    " + h.text.replace("\n", "\n    "))
    return 0


def cmd_ask(args) -> int:
    from .answering.render import answer_markdown
    p = _pipeline(args, progress=True)
    ans = p.ask(args.question, k=args.k, mode=args.mode, **_filters(args))
    if args.json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer_markdown(ans))
    return 0


def cmd_check(args) -> int:
    from .types import Answer
    cap, raw = 4_000_000, b""          # bytes: an answer is ~10 KB, one of `ask -k 1000` with its passages ~1 MB
    try:
        with open(args.answer, "rb") as f:
            raw = f.read(cap + 1)      # never more, whatever the file is (/dev/zero, a pipe)
        if len(raw) > cap:
            raise ValueError(f"too large for a qa answer (over {cap:,} bytes)")
        ans = Answer.from_dict(json.loads(raw.decode("utf-8")))
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        if isinstance(e, UnicodeDecodeError):
            e = f"not UTF-8 text ({e})"
        elif isinstance(e, json.JSONDecodeError):
            e = f"not JSON ({e})" if raw.strip() else "the file is empty"
        elif isinstance(e, RecursionError):
            e = "JSON nested too deeply for a qa answer"
        print(f"qa check: cannot read {args.answer}: {e}", file=sys.stderr)
        return 2
    problems = _pipeline(args).verify(ans)
    if args.json:
        print(json.dumps({"ok": not problems, "problems": problems}, indent=2))
    elif problems:
        for prob in problems:
            print(f"FAIL {prob}")
    else:
        print(f"OK: all {len(ans.citations)} citations hold")
    return 1 if problems else 0


def cmd_eval(args) -> int:
    from .measure import eval as evaluation
    r = evaluation.run(args.dataset, args.seeds or default_seeds_dir(), args.index or default_index_dir(),
                       args.cache, tuple(m.strip() for m in args.modes.split(",") if m.strip()), args.split,
                       args.limit, args.seed, args.set, answering=not args.retrieval_only, tune=args.tune,
                       absent=args.absent, fit_abstention=args.fit_abstention, backend=args.backend, stories=args.stories,
                       tune_reader=args.tune_reader)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(evaluation.grid_report(r) if args.tune or args.tune_reader else evaluation.fit_report(r) if args.fit_abstention
              else evaluation.report(r))
    return 0


def cmd_bench(args) -> int:
    from .measure import bench
    if args.load:
        from .measure import bench_load
        r = bench_load.run(args.seeds or default_seeds_dir(), args.index or default_index_dir(), args.quick)
        print(json.dumps(r, indent=2) if args.json else bench_load.report(r))
        return 0
    if args.archive is not None:
        from .measure import bench_archive
        r = bench_archive.run(args.archive, args.seeds or default_seeds_dir(),
                              lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
        print(json.dumps(r, indent=2) if args.json else bench_archive.report(r))
        return 0
    if args.backends is not None:
        from .measure import bench_backends
        r = bench_backends.measure(args.backends or None, args.seeds or default_seeds_dir(), args.quick)
        print(json.dumps(r, indent=2) if args.json else bench_backends.report(r))
        return 0
    r = bench.run(args.seeds or default_seeds_dir(), args.index or default_index_dir(), args.quick,
                  bench.parse_sizes(args.sizes))
    print(json.dumps(r, indent=2) if args.json else bench.report(r))
    return 0


def cmd_train_reader(args) -> int:
    from .train import reader
    card = reader.run(args.data, args.v2, args.out, args.minutes, args.steps, args.resume, args.checkpoints,
                      args.batch, args.layers, args.limit, args.seed, args.removed_share, args.eval_minutes)
    t, h = card["training"], card["held_out_int8"]
    print(json.dumps(card, indent=2) if args.json else
          f"reader written to {args.out}: step {t['steps']} of {t['planned_steps']} ({t['groups_seen']} groups, "
          f"{t['minutes']} minutes in all); held-out, int8: sentence top-1 {h['sentence_top1']}, span EM "
          f"{h['span_em']}, F1 {h['span_f1']}; reader.onnx {card['files']['reader.onnx']['bytes'] / 1e6:.1f} MB, "
          f"sha256 {card['files']['reader.onnx']['sha256'][:16]}...")
    return 0


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
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="chunk and encode on Ray (a local loopback-only runtime, or the cluster at ADDRESS)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("retrieve", help="the passages that best match a question")
    _common(p)
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    _filter_args(p)
    p.set_defaults(func=cmd_retrieve)

    p = sub.add_parser("ask", help="a cited answer to a question")
    _common(p)
    p.add_argument("question")
    p.add_argument("-k", type=int, default=8, help="passages to read the answer from (default 8)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (the schema `check` reads)")
    _filter_args(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("check", help="verify a saved answer's citations against the articles")
    _common(p)
    p.add_argument("answer", help="an answer saved as JSON (by `ask --json` or the chat's export)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)

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
    p.add_argument("--tune", action="store_true", help="grid-search the fusion settings (hybrid retrieval)")
    p.add_argument("--tune-reader", action="store_true",
                   help="grid-search the reader's order (reader_mix, reader_null) on the questions read once")
    p.add_argument("--fit-abstention", action="store_true",
                   help="fit the abstention threshold: highest recall at a cost of at most 2 points")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_eval)

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
    p.add_argument("--json", action="store_true", help="print the model card as JSON")
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("bench", help="speed: index build, query latency by stage, cold start, scale")
    _common(p)
    p.add_argument("--quick", action="store_true", help="a smoke run of under a minute (seeds only, 2k chunks)")
    p.add_argument("--sizes", default=None, help="comma-separated synthetic corpus sizes (default 10000,100000)")
    p.add_argument("--archive", type=int, nargs="?", const=10_000, default=None, metavar="N",
                   help="only the incremental index at archive size: build N articles (default 10000), "
                        "then add, change and remove one")
    p.add_argument("--load", action="store_true", help="only load: 16 threads and 20 API clients asking at once, "
                   "a burst, asking while 4.9 MB are uploaded, an upload flood (--quick: a smoke run)")
    p.add_argument("--backends", nargs="?", const="", default=None, metavar="SQUAD_JSON", help="only the embedded "
                   "and Milvus backends and Ray indexing, on the seeds or a SQuAD file's articles (README: Scaling out)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="qa: %(message)s", stream=sys.stderr)
    logging.getLogger("qa").setLevel(logging.INFO)
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except QAError as e:
        print(f"qa {args.command}: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"qa {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
