"""The incremental index at archive size: `qa bench --archive N` (default 10,000 articles).

The archive is grown from real text: article i is paragraph i of the SQuAD v1.1 train set
(one Wikipedia paragraph, about five sentences, under its article's title and a dateline),
or the seeds repeated with a number when ../shared/eval is absent. Measured, in one process
with the model loaded (as the chat runs): the full build (where its time goes), then adding
one article, changing one and removing one (each: wall time of `Pipeline.refresh()` and what
it encoded); and in a fresh process (process start to exit), `qa index` on the unchanged
folder and after one more article was added.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

from ..config import DEFAULT, PROJECT_ROOT
from .common import rss_mb

TRAIN = PROJECT_ROOT.parent / "shared" / "eval" / "squad-v1.1-train.json"


def archive_texts(n: int, seeds_dir: Path) -> tuple[list[str], str]:
    """n article texts (title, dateline, body) and where they come from."""
    day = dt.date(2012, 1, 1)
    out = []
    if TRAIN.exists():
        docs = json.loads(TRAIN.read_text(encoding="utf-8"))["documents"]
        for d in docs:
            starts = list(d["paragraph_starts"]) + [len(d["text"]) + 2]
            for i in range(len(starts) - 1):
                body = d["text"][starts[i]:starts[i + 1] - 2].strip()
                date = (day + dt.timedelta(days=len(out) % 3650)).strftime("%B %-d, %Y")
                out.append(f"{d['title'].replace('_', ' ')} (part {i + 1})\n\n{date}\n\n{body}\n")
                if len(out) == n:
                    return out, "SQuAD v1.1 train paragraphs, one per article"
        source = "SQuAD v1.1 train paragraphs, one per article (all of them)"
    else:
        seeds = [p.read_text(encoding="utf-8") for p in sorted(Path(seeds_dir).glob("*.txt"))]
        source = "the seeds, numbered copies"
        while len(out) < n:
            out.append(f"Copy {len(out)}: {seeds[len(out) % len(seeds)]}")
    return out[:n], source


def _step(pipeline, what: str) -> dict:
    t = time.perf_counter()
    ix = pipeline.refresh()
    wall = time.perf_counter() - t
    m = ix.manifest
    return {"step": what, "wall_s": wall, **(m.get("incremental") or {}), "timings_s": m.get("timings_s", {}),
            "articles": m["counts"]["articles"], "chunks": m["counts"]["chunks"]}


def bench_archive(n: int, work: Path, seeds_dir: Path, say=lambda msg: None) -> dict:
    from ..pipeline import Pipeline
    corpus, index = work / "archive", work / "archive-index"
    corpus.mkdir(parents=True)
    texts, source = archive_texts(n, seeds_dir)
    for i, text in enumerate(texts):
        (corpus / f"a{i:05d}.txt").write_text(text, encoding="utf-8")
    out = {"articles": len(texts), "source": source, "chars": sum(map(len, texts)), "steps": []}
    say(f"archive: full build of {len(texts):,} articles")
    p = Pipeline(corpus, index, DEFAULT)
    t = time.perf_counter()
    ix = p.index
    full = {"step": "full build", "wall_s": time.perf_counter() - t, "timings_s": ix.manifest.get("timings_s", {}),
            "articles": len(ix.articles), "chunks": len(ix.chunks), "sentences": len(ix.sentence_spans),
            "texts_encoded": ix.manifest["incremental"]["texts_encoded"]}
    out["steps"].append(full)

    say("archive: qa index on the unchanged folder, in a fresh process")
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(corpus), "--index", str(index)],
                         capture_output=True, text=True, cwd=str(PROJECT_ROOT), timeout=600)
    out["unchanged_cli"] = {"wall_s": time.perf_counter() - t, "exit": run.returncode,
                            "output": run.stdout.strip().splitlines()[-1:] + run.stderr.strip().splitlines()[-2:]}

    extra = archive_texts(n + 1, seeds_dir)[0][-1] if len(texts) == n else "A new article.\n\nIt says one thing.\n"
    say("archive: add one article")
    (corpus / "new-article.txt").write_text(extra, encoding="utf-8")
    out["steps"].append(_step(p, "add one article"))
    say("archive: change one article")
    changed = corpus / "a00007.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA correction was appended to this article.\n",
                       encoding="utf-8")
    out["steps"].append(_step(p, "change one article"))
    say("archive: remove one article")
    (corpus / "a00011.txt").unlink()
    out["steps"].append(_step(p, "remove one article"))
    out["peak_rss_mb"] = rss_mb()

    say("archive: add one article, then qa index in a fresh process (no model loaded, nothing cached)")
    (corpus / "a00011.txt").write_text(texts[11], encoding="utf-8")
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(corpus), "--index", str(index)],
                         capture_output=True, text=True, cwd=str(PROJECT_ROOT), timeout=1800)
    out["add_cli"] = {"wall_s": time.perf_counter() - t, "exit": run.returncode,
                      "output": run.stdout.strip().splitlines()[-2:]}
    say("archive: qa index on the unchanged folder again (its files now older than the last look)")
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(corpus), "--index", str(index)],
                         capture_output=True, text=True, cwd=str(PROJECT_ROOT), timeout=600)
    out["unchanged_cli_later"] = {"wall_s": time.perf_counter() - t, "exit": run.returncode,
                                  "output": run.stdout.strip().splitlines()[-1:]}
    return out


def report(r: dict) -> str:
    lines = [f"archive: {r['articles']:,} articles ({r['chars'] / 1e6:.1f} M characters) from {r['source']}",
             f"{'step':<22}{'wall s':>9}{'read+chunk':>12}{'encode':>9}{'index+save':>12}{'encoded':>9}"
             f"{'reused':>9}{'rechunked':>11}{'chunks':>9}"]
    for s in r["steps"]:
        t = s.get("timings_s", {})
        lines.append(f"{s['step']:<22}{s['wall_s']:>9.2f}{t.get('read_clean_chunk', 0):>12.2f}{t.get('encode', 0):>9.2f}"
                     f"{t.get('index_and_persist', 0):>12.2f}{s.get('texts_encoded', 0):>9,}{s.get('texts_reused', 0):>9,}"
                     f"{s.get('articles_rechunked', s.get('articles', 0)):>11,}{s['chunks']:>9,}")
    u = r["unchanged_cli"]
    lines.append(f"qa index on the unchanged folder just after the build (fresh process, start to exit; files "
                 f"written within 2 s of the build's look are hashed again): {u['wall_s']:.2f} s, "
                 f"exit {u['exit']}: {' / '.join(x.strip() for x in u['output'])}")
    a = r.get("add_cli")
    if a:
        lines.append(f"one article added, then qa index (fresh process, start to exit): {a['wall_s']:.2f} s, "
                     f"exit {a['exit']}: {' / '.join(x.strip() for x in a['output'])}")
    u = r.get("unchanged_cli_later")
    if u:
        lines.append(f"qa index on the unchanged folder at the end (fresh process): {u['wall_s']:.2f} s, "
                     f"exit {u['exit']}: {' / '.join(x.strip() for x in u['output'])}")
    lines.append(f"peak RSS {r['peak_rss_mb']:.0f} MB (the process that built and updated)")
    return "\n".join(lines)


def run(n: int, seeds_dir: Path, say) -> dict:
    """`qa bench --archive N`: the incremental index at archive size, in a temporary folder."""
    import tempfile
    if n < 1:
        raise ValueError(f"--archive {n}: give a number of articles, 1 or more")
    with tempfile.TemporaryDirectory(prefix="qa-bench-archive-") as tmp:
        return bench_archive(n, Path(tmp), seeds_dir, say)
