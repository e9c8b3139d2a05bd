"""The index at news-archive size, against another code tree: `qa bench --news [N] [--against DIR]`.

The archive is real news: the Reuters stories of the news dev set (`../shared/eval/reuters/`),
each one `.txt` (title, date, body) as `qa eval` writes them, the first N of them (default
10,000), repeated under new names when N is larger than the set or `--chars` asks for more text.
Each code tree (this one, and `--against DIR`, e.g. a worktree of an older commit) is measured
in fresh processes started in that tree, one after the other on the same folder, so the ratios
hold on a noisy machine:
- build: `Pipeline(folder, index).index` from nothing: wall seconds, seconds by stage (the
  manifest's `timings_s`), characters/s, peak RSS of the process (VmHWM), index bytes by file;
- serving: a fresh process opens the index and answers the dev set's questions whose stories are
  in the folder: RSS once loaded, peak RSS, warm `ask` p50/p95 (the first question is the cold one);
- one article added: in the serving process (`Pipeline.refresh()`, the model loaded, as the chat
  runs), and another by `python -m qa index` in a fresh process, start to exit.
Left out: quality (that is `qa eval` on the same trees: docs/scale.md gives the commands).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..config import PROJECT_ROOT
from .common import stats

REUTERS = PROJECT_ROOT.parent / "shared" / "eval" / "reuters"

# Run in the measured tree (`python -c`, cwd = the tree, so `import qa` is that tree's code).
_DRIVER = r'''
import json, sys, time
from pathlib import Path
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith(("VmHWM", "VmRSS")):
            yield line.split()[0][:-1], int(line.split()[1]) / 1024
mode, corpus, index, out = sys.argv[1:5]
from qa.pipeline import Pipeline
r = {}
if mode == "build":
    t = time.perf_counter()
    ix = Pipeline(corpus, index).index
    r = {"wall_s": time.perf_counter() - t, "timings_s": ix.manifest.get("timings_s", {}),
         "articles": len(ix.articles), "chunks": len(ix.chunks), "sentences": len(ix.sentence_spans),
         "files": {k: v["bytes"] for k, v in ix.manifest["files"].items()}}
else:
    questions = json.loads(Path(sys.argv[5]).read_text())
    t = time.perf_counter()
    p = Pipeline(corpus, index)
    ix = p.index
    r["load_s"] = time.perf_counter() - t
    r["loaded"] = dict(hwm())
    times = []
    for q in questions:
        t = time.perf_counter()
        p.ask(q)
        times.append(time.perf_counter() - t)
    r["ask_s"] = times
    name, text = json.loads(Path(sys.argv[6]).read_text())
    (Path(corpus) / name).write_text(text, encoding="utf-8")
    t = time.perf_counter()
    p.refresh()
    r["added_in_process_s"] = time.perf_counter() - t
    r["added_in_process"] = p.index.manifest.get("incremental", {})
r.update({"end_" + k: v for k, v in hwm()})
Path(out).write_text(json.dumps(r))
'''


def news_texts(n: int, chars: int = 0) -> tuple[list[tuple[str, str]], set[str]]:
    """(file name, text) of n Reuters stories (those the dev set's questions ask about first), repeated with new names until there are
    n and at least `chars` characters; and the ids of the stories included."""
    afile = REUTERS / "articles.jsonl"
    if not afile.is_file():
        raise ValueError(f"no Reuters stories at {afile}: `qa bench --news` needs ../shared/eval/reuters/")
    records = [json.loads(line) for line in afile.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = json.loads((REUTERS / "questions.json").read_text(encoding="utf-8"))
    named = {q.get("doc_id") for q in questions}
    records.sort(key=lambda r: r["id"] not in named)      # the stories the questions ask about first
    out, total, copy = [], 0, 0
    while len(out) < n or total < chars:
        for r in records:
            text = f"{r['title']}\n{r['date']}\n\n{r['text']}\n"
            out.append((f"{r['id']}{'-copy%d' % copy if copy else ''}.txt", text))
            total += len(text)
            if len(out) >= n and total >= chars:
                break
        copy += 1
    return out, {name[:-4] for name, _ in out}


def _run(tree: Path, args: list[str], timeout: float = 7200) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", _DRIVER, *args[:3], f.name, *args[3:]], cwd=str(tree),
                             capture_output=True, text=True, timeout=timeout)
        if run.returncode != 0:
            raise RuntimeError(f"the bench child in {tree} failed:\n{run.stderr[-3000:]}")
        r = json.loads(Path(f.name).read_text() or "{}")
        r["process_s"] = time.perf_counter() - t
        return r


def measure_tree(tree: Path, corpus: Path, index: Path, questions: Path, extra: list[tuple[str, str]],
                 say) -> dict:
    say(f"{tree}: full build")
    build = _run(tree, ["build", str(corpus), str(index)])
    say(f"{tree}: serving (fresh process, {len(json.loads(questions.read_text()))} questions, then one article added)")
    added = corpus.parent / "added.json"
    added.write_text(json.dumps(extra[0]), encoding="utf-8")
    serve = _run(tree, ["serve", str(corpus), str(index), str(questions), str(added)])
    name, text = extra[1]
    (corpus / name).write_text(text, encoding="utf-8")
    say(f"{tree}: another article added, qa index in a fresh process")
    t = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "qa", "index", "--seeds", str(corpus), "--index", str(index)],
                         cwd=str(tree), capture_output=True, text=True, timeout=1800)
    cli = {"wall_s": time.perf_counter() - t, "exit": run.returncode,
           "output": run.stdout.strip().splitlines()[-1:] + run.stderr.strip().splitlines()[-1:]}
    for name, _ in extra:
        (corpus / name).unlink()
    warm = serve["ask_s"][1:]
    return {"tree": str(tree), "build": build, "serve": {k: v for k, v in serve.items() if k != "ask_s"},
            "ask_ms": stats(warm), "first_ask_ms": serve["ask_s"][0] * 1000 if serve["ask_s"] else None,
            "added_one_cli": cli}


def run(n: int, chars: int, tree: Path | None, against: Path | None, say, work: Path | None = None) -> dict:
    texts, ids = news_texts(n + 2, chars)
    extra, texts = texts[-2:], texts[:-2]
    questions = json.loads((REUTERS / "questions.json").read_text(encoding="utf-8"))
    asked = [q["question"] for q in questions if q.get("doc_id") in ids][:40]
    trees = [Path(tree or PROJECT_ROOT).resolve()] + ([Path(against).resolve()] if against else [])
    with tempfile.TemporaryDirectory(prefix="qa-bench-news-", dir=work) as tmp:
        corpus, qfile = Path(tmp) / "articles", Path(tmp) / "questions.json"
        corpus.mkdir()
        for name, text in texts:
            (corpus / name).write_text(text, encoding="utf-8")
        qfile.write_text(json.dumps(asked), encoding="utf-8")
        out = {"articles": len(texts), "chars": sum(len(t) for _, t in texts), "questions": len(asked), "trees": []}
        for i, tree in enumerate(trees):
            out["trees"].append(measure_tree(tree, corpus, Path(tmp) / f"index-{i}", qfile, extra, say))
    return out


def report(r: dict) -> str:
    lines = [f"news archive: {r['articles']:,} Reuters stories ({r['chars'] / 1e6:.1f} M characters), "
             f"{r['questions']} questions"]
    rows = [("build wall s", lambda t: f"{t['build']['wall_s']:.1f}"),
            ("build characters/s", lambda t: f"{r['chars'] / t['build']['wall_s']:,.0f}"),
            ("  read+clean+chunk s", lambda t: f"{t['build']['timings_s'].get('read_clean_chunk', 0):.1f}"),
            ("  encode s", lambda t: f"{t['build']['timings_s'].get('encode', 0):.1f}"),
            ("  index+persist s", lambda t: f"{t['build']['timings_s'].get('index_and_persist', 0):.1f}"),
            ("build peak RSS MB", lambda t: f"{t['build']['end_VmHWM']:.0f}"),
            ("chunks / sentences", lambda t: f"{t['build']['chunks']:,} / {t['build']['sentences']:,}"),
            ("index MB", lambda t: f"{sum(t['build']['files'].values()) / 1e6:.1f}"),
            ("serving: load s", lambda t: f"{t['serve']['load_s']:.1f}"),
            ("serving: RSS loaded MB", lambda t: f"{t['serve']['loaded']['VmRSS']:.0f}"),
            ("serving: peak RSS MB", lambda t: f"{t['serve']['end_VmHWM']:.0f}"),
            ("ask p50 ms (warm)", lambda t: f"{t['ask_ms'].get('p50', 0):.0f}"),
            ("ask p95 ms (warm)", lambda t: f"{t['ask_ms'].get('p95', 0):.0f}"),
            ("one added, in process s", lambda t: f"{t['serve'].get('added_in_process_s', float('nan')):.1f}"),
            ("one added, qa index s", lambda t: f"{t['added_one_cli']['wall_s']:.1f}")]
    names = sorted({f for t in r["trees"] for f in t["build"]["files"]})
    rows += [(f"  {f} MB", lambda t, f=f: f"{t['build']['files'].get(f, 0) / 1e6:.1f}") for f in names]
    trees = r["trees"]
    head = f"{'':<26}" + "".join(f"{('this tree' if i == 0 else 'against'):>14}" for i in range(len(trees)))
    lines.append(head + (f"{'ratio':>9}" if len(trees) == 2 else ""))
    for label, cell in rows:
        vals = [cell(t) for t in trees]
        line = f"{label:<26}" + "".join(f"{v:>14}" for v in vals)
        if len(trees) == 2:
            try:
                a, b = (float(v.replace(",", "")) for v in vals)
                line += f"{a / b:>9.2f}" if b else ""
            except ValueError:
                pass
        lines.append(line)
    for i, t in enumerate(trees):
        lines.append(f"{'this tree' if i == 0 else 'against'}: {t['tree']}; added: exit {t['added_one_cli']['exit']}: "
                     f"{' / '.join(t['added_one_cli']['output'])}")
    return "\n".join(lines)
