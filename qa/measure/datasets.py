"""Labelled question sets: the seed questions and SQuAD-format files.

The seed questions (`tests/seed_questions.jsonl`: id, question, answers, doc_ids;
no answers = unanswerable) are judged against the seed articles. A SQuAD file in
`../shared/eval/` (read from there, never copied) is indexed once into a cache
folder (`--cache`, default `$TMPDIR/qa-eval-cache`): each article becomes
`<id>.txt` = title line, blank line, article text, so the usual `qa.store`
builds, persists and reloads it. SQuAD articles have a fixed split by title
(`split_of`): even positions in SQuAD v1.1 dev "tune", odd positions "report",
the same article in the same half of every file.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..config import PROJECT_ROOT

SEED_QUESTIONS = PROJECT_ROOT / "tests" / "seed_questions.jsonl"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]                  # empty: the articles do not answer it
    gold: tuple[tuple[str, int, int], ...]    # (doc_id, start, end) regions where an answer counts
    split: str = "all"
    part: str | None = None                   # within the tune half: "train" or "fit" (see tune_part)
    kind: str | None = None                   # the question's form, when the set says ("why", "who"...)


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


# The SQuAD v1.1 dev articles in file order. Even positions are the "tune" half, odd the "report"
# half, and every other SQuAD file (v2.0 dev holds 35 of these articles, in another order) takes
# the half of the article's title here, so that no article is tuned on in one file and reported
# on in the other. Of the tune half, the titles at positions 0, 4, 8... may train a model
# ("train"); the others, 2, 6, 10..., are kept to fit its thresholds ("fit").
V11_DEV_TITLES = (
    "Super Bowl 50", "Warsaw", "Normans", "Nikola Tesla", "Computational complexity theory", "Teacher",
    "Martin Luther", "Southern California", "Sky (United Kingdom)", "Victoria (Australia)", "Huguenot",
    "Steam engine", "Oxygen", "1973 oil crisis", "Apollo program", "European Union law", "Amazon rainforest",
    "Ctenophora", "Fresno, California", "Packet switching", "Black Death", "Geology", "Newcastle upon Tyne",
    "Victoria and Albert Museum", "American Broadcasting Company", "Genghis Khan", "Pharmacy",
    "Immune system", "Civil disobedience", "Construction", "Private school", "Harvard University",
    "Jacksonville, Florida", "Economic inequality", "Doctor Who", "University of Chicago", "Yuan dynasty",
    "Kenya", "Intergovernmental Panel on Climate Change", "Chloroplast", "Prime number", "Rhine",
    "Scottish Parliament", "Islamism", "Imperialism", "United Methodist Church", "French and Indian War",
    "Force")
_V11_POS = {t: i for i, t in enumerate(V11_DEV_TITLES)}


def split_of(title: str, pos: int) -> str:
    """"tune" or "report" for an article: by its title's place in SQuAD v1.1 dev, else its own position."""
    title = title.replace("_", " ")
    return "tune" if _V11_POS.get(title, pos) % 2 == 0 else "report"


def tune_part(title: str) -> str | None:
    """Within the tune half: "train" (a model may learn from it), "fit" (thresholds), None elsewhere."""
    pos = _V11_POS.get(title.replace("_", " "))
    if pos is None or pos % 2:
        return None
    return "train" if pos % 4 == 0 else "fit"


def load_squad(path: Path, cache: Path, absent: str | None = None) -> Dataset:
    """A SQuAD-format file, its articles written once under `cache` as .txt files.

    With `absent` ("tune" or "report"), that half's articles are left out of the
    index and its questions become unanswerable: "the article was removed"."""
    raw = Path(path).read_bytes()
    data = json.loads(raw)
    root = Path(cache) / f"{Path(path).stem}-{hashlib.sha256(raw).hexdigest()[:10]}"
    suffix = f"-without-{absent}" if absent else ""
    articles = root / f"articles{suffix}"
    ids, taken, regions = {}, set(), {}
    for pos, doc in enumerate(data["documents"]):
        did = ids[doc["id"]] = safe_id(doc["id"], taken)
        head = (doc.get("title") or doc["id"]).replace("_", " ") + "\n\n"
        text = head + doc["text"]
        ends = doc["paragraph_starts"][1:] + [len(doc["text"])]
        regions[doc["id"]] = [(len(head) + s, len(head) + e) for s, e in zip(doc["paragraph_starts"], ends)]
        regions[doc["id"], "split"] = split_of(doc.get("title") or doc["id"], pos)
        if regions[doc["id"], "split"] == absent:
            continue
        target = articles / f"{did}.txt"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            articles.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8", newline="")
            tmp.replace(target)
    qs = []
    titles = {d["id"]: d.get("title") or d["id"] for d in data["documents"]}
    for q in data["questions"]:
        s, e = regions[q["doc_id"]][q["paragraph_index"]]
        split, part = regions[q["doc_id"], "split"], tune_part(titles[q["doc_id"]])
        if split == absent:
            qs.append(Question(q["id"], q["question"], (), (), split, part))
            continue
        qs.append(Question(q["id"], q["question"], tuple(q.get("answers") or ()),
                           ((ids[q["doc_id"]], s, e),), split, part))
    name = Path(path).name + (f" without the {absent} half's articles" if absent else "")
    return Dataset(name, qs, articles, root / f"index{suffix}")


NEWS_STORIES = 3_000


def load_news(path: Path, cache: Path, stories: int | None = NEWS_STORIES) -> Dataset:
    """The news dev set (`../shared/eval/reuters/`: questions.json beside articles.jsonl), read where
    it lies. Each story becomes `<id>.txt` = title line, date line, blank line, body (the date line is
    the dateline qa reads a .txt's date from). The index holds every story a question names (its own,
    the ones that also answer it, the one an unanswerable question is near) and others drawn with a
    fixed seed up to `stories` in all (None or 0: all 12,727). Gold regions are whole stories: a
    citation is right when it holds an answer string and comes from one of the question's stories."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    qfile = folder / "questions.json"
    afile = folder / "articles.jsonl"
    if not qfile.is_file() or not afile.is_file():
        raise ValueError(f"no news dev set at {folder}: expected questions.json and articles.jsonl there "
                         "(../shared/eval/reuters/)")
    raw_q = qfile.read_bytes()
    questions = json.loads(raw_q)
    named = {d for q in questions for d in [q.get("doc_id"), q.get("near_doc_id"), *(q.get("also_answered_by") or ())] if d}
    records = [json.loads(line) for line in afile.read_text(encoding="utf-8").splitlines() if line.strip()]
    rest = sorted(r["id"] for r in records if r["id"] not in named)
    if stories and stories < len(records):
        rest = random.Random(0).sample(rest, max(0, stories - len(named)))
    keep = named | set(rest)
    digest = hashlib.sha256(raw_q + afile.read_bytes()[:1 << 20]).hexdigest()[:10]
    root = Path(cache) / f"reuters-{digest}-{len(keep)}"
    articles = root / "articles"
    ids, taken = {}, set()
    for r in sorted(records, key=lambda r: r["id"]):
        if r["id"] not in keep:
            continue
        did = ids[r["id"]] = safe_id(r["id"], taken)
        text = f"{r['title']}\n{r['date']}\n\n{r['text']}\n"
        target = articles / f"{did}.txt"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            articles.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8", newline="")
            tmp.replace(target)
    qs = []
    for q in questions:
        if q.get("unanswerable"):
            qs.append(Question(q["id"], q["question"], (), (), kind="unanswerable"))
            continue
        docs = [q["doc_id"], *(q.get("also_answered_by") or ())]
        qs.append(Question(q["id"], q["question"], tuple(q["answers"]),
                           tuple((ids[d], 0, 1 << 62) for d in docs if d in ids), kind=q.get("kind")))
    return Dataset(f"news dev set ({folder.name}, {len(keep)} stories)", qs, articles, root / "index")


def sample(questions: list[Question], limit: int | None, seed: int) -> list[Question]:
    """`limit` questions drawn with `seed` (deterministic), in file order; all when limit is None."""
    if not limit or limit >= len(questions):
        return questions
    keep = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in keep]


def default_cache() -> Path:
    return Path(tempfile.gettempdir()) / "qa-eval-cache"


def open_dataset(path: Path | None, seeds_dir: Path, index_dir: Path, cache: Path | None,
                 absent: str | None = None, stories: int | None = NEWS_STORIES) -> Dataset:
    """The seed questions (a .jsonl file, default tests/seed_questions.jsonl), a SQuAD-format .json,
    or the news dev set (its folder, or its questions.json beside articles.jsonl)."""
    path = Path(path) if path else SEED_QUESTIONS
    if path.is_dir() or (path.name == "questions.json" and (path.parent / "articles.jsonl").is_file()):
        if absent:
            raise ValueError("--absent needs a SQuAD .json dataset")
        return load_news(path, cache or default_cache(), stories)
    if not path.is_file():
        raise ValueError(f"no question set at {path}: pass --dataset a seed .jsonl or a SQuAD .json "
                         "such as ../shared/eval/squad-v1.1-dev.json")
    if path.suffix == ".jsonl":
        if absent:
            raise ValueError("--absent needs a SQuAD .json dataset")
        return load_seeds(path, seeds_dir, index_dir)
    return load_squad(path, cache or default_cache(), absent)
