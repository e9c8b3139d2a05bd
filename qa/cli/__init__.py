"""The command line: `qa index | retrieve | ask | stories | check | eval | bench | train-reader | export-encoder`.

The only module that prints and exits. Library errors become one line on stderr
and an exit code: 1 for a failed check, 2 for bad input or a broken index.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time

from ..config import DEFAULT, default_index_dir, default_seeds_dir
from ..errors import IndexWriteError, QAError
from ..pipeline import Pipeline
from .parser import parser


def _pipeline(args, progress: bool = False, engine=None) -> Pipeline:
    return Pipeline(args.seeds or default_seeds_dir(), args.index or default_index_dir(), progress=progress,
                    backend=args.backend, engine=engine)


def cmd_index(args) -> int:
    if args.explain is not None:
        return _explain(args)
    from ..store.distributed import RayEngine
    engine = RayEngine(DEFAULT, args.ray or None, progress=True) if args.ray is not None else None
    try:
        return _index(args, _pipeline(args, progress=True, engine=engine))
    finally:
        if engine is not None:
            engine.close()


def _index(args, p: Pipeline) -> int:
    from .. import store
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


def _explain(args) -> int:
    from ..ingest.read import explain
    found, warnings = explain(args.explain)
    for w in warnings:
        print(w)
    for a, rows in found:
        dup = f", a scrape of {a.duplicate_of} (its passages are cited as 'also in')" if a.duplicate_of else ""
        print(f"{a.doc_id}: {a.title!r}, date {a.date or 'unknown'} ({a.date_evidence or 'no evidence'}){dup}")
        for s, e, _, why in rows:
            line = a.text[s:e].replace("\t", " ")
            line = line if len(line) <= 90 else line[:87] + "..."
            print(f"  {'keep' if why is None else 'DROP'} {s}:{e}  {line}" + (f"\n        because {why}" if why else ""))
        print(f"  {len(a.body)} of {len(rows)} lines kept as the body")
    return 0


def _filters(args) -> dict:
    return {"since": args.since, "until": args.until, "outlets": args.outlet,
            "dates_in_question": args.question_dates, "today": args.today}


def cmd_retrieve(args) -> int:
    p = _pipeline(args, progress=True)
    hits = p.retrieve(args.question, k=args.k, mode=args.mode, **_filters(args))
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if (scope := p.dates(args.question, **_filters(args))[2]) is not None:
        print(f"dates: {scope.note}")
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
    from ..answering.render import answer_markdown
    p = _pipeline(args, progress=True)
    ans = p.ask(args.question, k=args.k, mode=args.mode, **_filters(args))
    if args.json:
        print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer_markdown(ans))
    return 0


def cmd_stories(args) -> int:
    from ..answering.render import stories_text
    r = _pipeline(args, progress=True).stories(args.query, since=args.since, until=args.until, outlets=args.outlet)
    print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2) if args.json else stories_text(r), end="")
    return 0


def cmd_check(args) -> int:
    from ..types import Answer
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
    if args.cleaning is not None:
        from ..measure import cleaning
        r = cleaning.run(args.cleaning or None)
        print(json.dumps(r, indent=2) if args.json else cleaning.report(r))
        return 0
    from ..measure import eval as evaluation
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
    from ..measure import bench
    if args.load:
        from ..measure import bench_load
        r = bench_load.run(args.seeds or default_seeds_dir(), args.index or default_index_dir(), args.quick)
        print(json.dumps(r, indent=2) if args.json else bench_load.report(r))
        return 0
    if args.archive is not None:
        from ..measure import bench_archive
        r = bench_archive.run(args.archive, args.seeds or default_seeds_dir(),
                              lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
        print(json.dumps(r, indent=2) if args.json else bench_archive.report(r))
        return 0
    if args.news is not None:
        from ..measure import bench_news
        r = bench_news.run(args.news, args.chars, args.tree, args.against,
                           lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
        print(json.dumps(r, indent=2) if args.json else bench_news.report(r))
        return 0
    if args.stories is not None:
        from ..measure import bench_stories
        r = bench_stories.run(args.stories, cache=args.cache,
                              say=lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
        print(json.dumps(r, indent=2) if args.json else bench_stories.report(r))
        return 0
    if args.backends is not None:
        from ..measure import bench_backends
        r = bench_backends.measure(args.backends or None, args.seeds or default_seeds_dir(), args.quick)
        print(json.dumps(r, indent=2) if args.json else bench_backends.report(r))
        return 0
    r = bench.run(args.seeds or default_seeds_dir(), args.index or default_index_dir(), args.quick,
                  bench.parse_sizes(args.sizes))
    print(json.dumps(r, indent=2) if args.json else bench.report(r))
    return 0


def cmd_train_reader(args) -> int:
    from ..train import reader
    card = reader.run(args.data, args.v2, args.out, args.minutes, args.steps, args.resume, args.checkpoints,
                      args.batch, args.layers, args.limit, args.seed, args.removed_share, args.eval_minutes,
                      lede_share=args.lede_share, init_from=args.init_from,
                      restate_share=args.restate_share, vague_share=args.vague_share)
    t, h = card["training"], card["held_out_int8"]
    print(json.dumps(card, indent=2) if args.json else
          f"reader written to {args.out}: step {t['steps']} of {t['planned_steps']} ({t['groups_seen']} groups, "
          f"{t['minutes']} minutes in all); held-out, int8: sentence top-1 {h['sentence_top1']}, span EM "
          f"{h['span_em']}, F1 {h['span_f1']}; reader.onnx {card['files']['reader.onnx']['bytes'] / 1e6:.1f} MB, "
          f"sha256 {card['files']['reader.onnx']['sha256'][:16]}...")
    return 0


def cmd_export_encoder(args) -> int:
    from ..retrieval import ship
    texts = ship.seed_sentences(args.seeds or default_seeds_dir())
    card = ship.write(args.out, texts, "qa " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["export-encoder"]
                      else "qa export-encoder")
    c, f = card["check"], card["files"]["encoder.onnx"]
    print(json.dumps(card, indent=2) if args.json else
          f"encoder written to {args.out}: encoder.onnx {f['bytes'] / 1e6:.1f} MB, sha256 {f['sha256'][:16]}...; "
          f"cosine to sentence-transformers on {c['texts']} seed sentences: int8 mean {c['int8_mean']}, "
          f"min {c['int8_min']} (fp32 min {c['fp32_min']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="qa: %(message)s", stream=sys.stderr)
    logging.getLogger("qa").setLevel(logging.INFO)
    args = parser().parse_args(argv)
    args.func = globals()["cmd_" + args.command.replace("-", "_")]
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
