"""Measuring quality: retrieval and answering on labelled questions, per mode.

Two question sets: the labelled seed questions (`tests/seed_questions.jsonl`:
id, question, answers, doc_ids; no answers = unanswerable) and the SQuAD files
in `../shared/eval/` (read from there, never copied). A SQuAD set is indexed
once into a cache folder (`--cache`, default `$TMPDIR/qa-eval-cache`): each
article becomes `<id>.txt` = title line, blank line, article text, and the
usual `qa.index` builds, persists and reloads it.

A passage is *right* only when a gold answer occurs inside it *and* inside the
gold region: the gold paragraph for SQuAD (so a lucky match elsewhere in the
article does not count), one of `doc_ids` (or a duplicate scrape of one) for the
seeds. Answer matching ignores case and runs of whitespace.

The SQuAD articles have a fixed split: even positions in the file "tune", odd
positions "report"; the index always holds every article.
Left out: answer-span F1/EM (answers here are whole sentences, not spans).
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path


from . import dense
from .config import PROJECT_ROOT, Settings, DEFAULT
from .pipeline import Pipeline
from .search import search

SEED_QUESTIONS = PROJECT_ROOT / "tests" / "seed_questions.jsonl"
TUNABLE = ("rrf_k", "weight_bm25", "weight_dense", "candidates")
DEPTH = 20                      # retrieval is scored on the top 20 passages


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]                  # empty: the articles do not answer it
    gold: tuple[tuple[str, int, int], ...]    # (doc_id, start, end) regions where an answer counts
    split: str = "all"


@dataclass
class Dataset:
    name: str
    questions: list[Question]
    seeds_dir: Path
    index_dir: Path


def load_seeds(path: Path, seeds_dir: Path, index_dir: Path) -> Dataset:
    """The labelled seed questions; the gold region of each is the whole of each listed article."""
    qs = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            gold = tuple((doc, 0, 1 << 62) for doc in d.get("doc_ids") or ())
            qs.append(Question(d["id"], d["question"], tuple(d.get("answers") or ()), gold))
    return Dataset(Path(path).name, qs, Path(seeds_dir), Path(index_dir))


def safe_id(doc_id: str, taken: set[str]) -> str:
    """A file-name-safe article id (what qa.verify accepts), unique within `taken`."""
    base = re.sub(r"[^\w.\-]", "_", doc_id).lstrip(".") or "doc"
    out, n = base, 1
    while out in taken:
        n += 1
        out = f"{base}_{n}"
    taken.add(out)
    return out


def load_squad(path: Path, cache: Path) -> Dataset:
    """A SQuAD-format file, its articles written once under `cache` as .txt files."""
    raw = Path(path).read_bytes()
    data = json.loads(raw)
    root = Path(cache) / f"{Path(path).stem}-{hashlib.sha256(raw).hexdigest()[:10]}"
    articles = root / "articles"
    ids, taken, regions = {}, set(), {}
    for pos, doc in enumerate(data["documents"]):
        did = ids[doc["id"]] = safe_id(doc["id"], taken)
        head = (doc.get("title") or doc["id"]).replace("_", " ") + "\n\n"
        text = head + doc["text"]
        ends = doc["paragraph_starts"][1:] + [len(doc["text"])]
        regions[doc["id"]] = [(len(head) + s, len(head) + e) for s, e in zip(doc["paragraph_starts"], ends)]
        regions[doc["id"], "split"] = "tune" if pos % 2 == 0 else "report"
        target = articles / f"{did}.txt"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            articles.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8", newline="")
            tmp.replace(target)
    qs = []
    for q in data["questions"]:
        s, e = regions[q["doc_id"]][q["paragraph_index"]]
        qs.append(Question(q["id"], q["question"], tuple(q.get("answers") or ()),
                           ((ids[q["doc_id"]], s, e),), regions[q["doc_id"], "split"]))
    return Dataset(Path(path).name, qs, articles, root / "index")


def _pattern(answer: str) -> re.Pattern:
    words = [re.escape(w) for w in answer.replace("’", "'").split()]
    return re.compile(r"\s+".join(w.replace("'", "['’]") for w in words), re.I)


def right(q: Question, index, doc_id: str, start: int, end: int) -> bool:
    """True when a gold answer occurs in text[start:end] of `doc_id`, inside a gold region."""
    regions = [(s, e) for d, s, e in q.gold if d == doc_id]
    if not regions or doc_id not in index.articles:
        return False
    text = index.articles[doc_id].text[start:end]
    for a in q.answers:
        for m in _pattern(a).finditer(text):
            if any(s <= start + m.start() and start + m.end() <= e for s, e in regions):
                return True
    return False


def right_place(q: Question, index, item) -> bool:
    """A hit or citation is right in its own article or in any duplicate scrape it stands in."""
    places = [(item.doc_id, item.start, item.end)] + [(x.doc_id, x.start, x.end) for x in item.also_in]
    return any(right(q, index, *p) for p in places)


def retrieval_rank(q: Question, index, hits) -> int | None:
    """1-based rank of the first right hit, or None."""
    return next((i for i, h in enumerate(hits, 1) if right_place(q, index, h)), None)


def summarize_ranks(ranks: list[int | None]) -> dict:
    n = max(1, len(ranks))
    out = {f"recall@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 5, 20)}
    out["mrr"] = sum(1.0 / r for r in ranks if r) / n
    return out


def _ask_anyway(pipeline: Pipeline, question: str, mode: str):
    """The answer with abstention switched off (to price what abstaining costs)."""
    from .answer import answer
    return answer(pipeline.index, question, mode=mode, abstain=False)


def evaluate(pipeline: Pipeline, questions: list[Question], modes, answering: bool = True,
             progress: bool = True) -> dict:
    """Retrieval (and answering) figures per mode for `questions`."""
    from tqdm import tqdm
    index = pipeline.index
    answerable = [q for q in questions if q.answers]
    vecs = dense.embed([q.question.strip() for q in questions], index.settings) if questions else None
    bar = tqdm(total=len(questions) * len(modes) * (2 if answering else 1), file=sys.stderr,
               disable=not progress, desc="eval", unit="q")
    modes_out = {}
    for mode in modes:
        ranks = []
        for q, v in zip(questions, vecs if vecs is not None else []):
            if q.answers:
                ranks.append(retrieval_rank(q, index, search(index, q.question, DEPTH, mode, query_vector=v)))
            bar.update()
        m = summarize_ranks(ranks)
        if answering:
            m.update(_answering(pipeline, questions, mode, bar))
        modes_out[mode] = m
    bar.close()
    s = index.settings
    return {"questions": len(questions), "answerable": len(answerable), "chunks": len(index.chunks),
            "settings": {k: getattr(s, k) for k in TUNABLE + ("chunk_sentences", "chunk_overlap")},
            "modes": modes_out}


def _answering(pipeline: Pipeline, questions: list[Question], mode: str, bar) -> dict:
    index = pipeline.index
    valid = correct = abstained_right = abstained_wrong = rescued = 0
    n_ans = n_unans = 0
    for q in questions:
        ans = pipeline.ask(q.question, mode=mode)
        valid += not pipeline.verify(ans)
        if q.answers:
            n_ans += 1
            correct += not ans.abstained and bool(ans.citations) and right_place(q, index, ans.citations[0])
            if ans.abstained:
                abstained_wrong += 1
                alt = _ask_anyway(pipeline, q.question, mode)
                rescued += bool(alt.citations and right_place(q, index, alt.citations[0]))
        else:
            n_unans += 1
            abstained_right += ans.abstained
        bar.update()
    out = {"first_citation_accuracy": correct / max(1, n_ans), "citations_valid": valid / max(1, len(questions)),
           "answered": (n_ans - abstained_wrong) / max(1, n_ans)}
    if n_unans:
        n_abst = abstained_right + abstained_wrong
        out["abstention"] = {
            "unanswerable": n_unans,
            "precision": abstained_right / n_abst if n_abst else None,
            "recall": abstained_right / n_unans,
            "answerable_abstained": abstained_wrong / max(1, n_ans),
            "accuracy_without_abstention": (correct + rescued) / max(1, n_ans),
            "cost": rescued / max(1, n_ans),
        }
    return out


def sample(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    """`limit` questions drawn with `seed` (deterministic), in file order; all when limit is None."""
    if not limit or limit >= len(questions):
        return questions
    keep = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in keep]


def default_cache() -> Path:
    return Path(tempfile.gettempdir()) / "qa-eval-cache"


def with_overrides(settings: Settings, pairs: list[str]) -> Settings:
    """Settings with `key=value` fusion overrides applied (for tuning without editing config.py)."""
    changes = {}
    for pair in pairs or ():
        key, _, value = pair.partition("=")
        if key not in TUNABLE or not value:
            raise ValueError(f"--set {pair!r}: use key=value with key one of {', '.join(TUNABLE)}")
        changes[key] = type(getattr(DEFAULT, key))(float(value)) if key != "rrf_k" else float(value)
    return replace(settings, **changes)


def open_dataset(path: Path | None, seeds_dir: Path, index_dir: Path, cache: Path | None) -> Dataset:
    """The seed questions (a .jsonl file, default tests/seed_questions.jsonl) or a SQuAD-format .json."""
    path = Path(path) if path else SEED_QUESTIONS
    if not path.is_file():
        raise ValueError(f"no question set at {path}: pass --dataset a seed .jsonl or a SQuAD .json "
                         "such as ../shared/eval/squad-v1.1-dev.json")
    if path.suffix == ".jsonl":
        return load_seeds(path, seeds_dir, index_dir)
    return load_squad(path, cache or default_cache())


def add_parser(sub, common) -> None:
    p = sub.add_parser("eval", help="quality: retrieval recall and answer accuracy per mode on labelled questions")
    common(p)
    p.add_argument("--dataset", type=Path, default=None,
                   help="tests/seed_questions.jsonl (default) or a SQuAD .json, e.g. ../shared/eval/squad-v2.0-dev.json")
    p.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated (default bm25,dense,hybrid)")
    p.add_argument("--limit", type=int, default=None, help="evaluate N questions drawn with --seed")
    p.add_argument("--seed", type=int, default=0, help="seed of the --limit draw (default 0)")
    p.add_argument("--split", choices=["all", "tune", "report"], default="all",
                   help="SQuAD articles: even positions tune, odd positions report (default all)")
    p.add_argument("--cache", type=Path, default=None, help="where SQuAD articles and their index are kept")
    p.add_argument("--retrieval-only", action="store_true", help="skip answering (qa.ask)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override a fusion setting for this run ({', '.join(TUNABLE)})")
    p.add_argument("--tune", action="store_true", help="grid-search the fusion settings (hybrid retrieval)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd)


def cmd(args) -> int:
    from .config import default_index_dir, default_seeds_dir
    ds = open_dataset(args.dataset, args.seeds or default_seeds_dir(), args.index or default_index_dir(), args.cache)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in ("bm25", "dense", "hybrid"):
            raise ValueError(f"--modes: unknown mode {m!r}; use bm25, dense, hybrid")
    qs = [q for q in ds.questions if args.split in ("all", q.split)]
    qs = sample(qs, args.limit, args.seed)
    pipeline = Pipeline(ds.seeds_dir, ds.index_dir, settings=with_overrides(DEFAULT, args.set), progress=True)
    head = {"dataset": ds.name, "split": args.split, "limit": args.limit, "seed": args.seed}
    if args.tune:
        from .tuning import GRID, tune
        rows = tune(pipeline.index, qs, GRID)
        print(json.dumps({**head, "grid": rows}, indent=2) if args.json else "\n".join(
            " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()) for r in rows))
        return 0
    r = {**head, **evaluate(pipeline, qs, modes, answering=not args.retrieval_only)}
    abst = {m: d.pop("abstention") for m, d in r["modes"].items() if "abstention" in d}
    if abst:
        r["abstention"] = abst
    print(json.dumps(r, indent=2) if args.json else report(r))
    return 0


def report(r: dict) -> str:
    """The evaluation as a text table."""
    def f(x):
        return "     -" if x is None else f"{x:6.3f}"
    lines = [f"{r['dataset']} (split {r['split']}): {r['questions']} questions, {r['answerable']} answerable; "
             f"index of {r['chunks']} chunks; settings {r['settings']}",
             "mode      R@1    R@5   R@20    MRR  first-citation  citations-valid  answered"]
    for m, d in r["modes"].items():
        lines.append(f"{m:7s} {f(d['recall@1'])} {f(d['recall@5'])} {f(d['recall@20'])} {f(d['mrr'])}"
                     f"          {f(d.get('first_citation_accuracy'))}           {f(d.get('citations_valid'))}"
                     f"    {f(d.get('answered'))}")
    if r.get("abstention"):
        lines.append("abstention  precision  recall  answerable-abstained  accuracy-without-abstaining  cost")
        for m, a in r["abstention"].items():
            lines.append(f"{m:7s}       {f(a['precision'])}  {f(a['recall'])}                {f(a['answerable_abstained'])}"
                         f"                       {f(a['accuracy_without_abstention'])}  {f(a['cost'])}")
    return "\n".join(lines)
