"""`qa bench --stories [N]`: how exhaustive, how well grouped and how fast `qa.stories` is, on the
news dev set (`../shared/eval/reuters/`, read where it lies; N stories indexed once, default 10,000).

- Queries: names drawn with a fixed seed among the capitalised words (5+ letters, never written
  lower-case in the set, not a month or weekday) that 2 to 40 of the indexed stories use. The truth
  of a query is every indexed story whose body (its text less what cleaning dropped as boilerplate:
  what is searched) has the name as a word (case-sensitive), duplicate scrapes included. Each name is asked as itself and as "the NAME deal" (extra words to match).
- Exhaustiveness: recall and precision of the articles `stories` returns, pooled over the queries,
  on a grid of the two floors (term coverage, best-sentence cosine).
- Grouping, at the chosen floors: pairs of returned articles that share a name and are dated 1 to 3
  days apart (often, not always, reports of one event) kept in one story; of those, the updates
  (a third or more of the 5-word shingles shared: a story re-sent with changes) kept together;
  pairs of articles of two unrelated names asked together ("NAME1 NAME2", listed at a coverage floor
  of at most 0.45 so that either name's articles are in) wrongly put in one story;
  duplicate scrapes split (by construction none). On a grid of link cosine x days.
- Speed: each query's `Pipeline.stories` wall time in this process, warm (model loaded, one query
  run before), at N stories.
"""
from __future__ import annotations

import random
import re
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

from ..answering.stories import duplicates, relevant, stories
from ..config import PROJECT_ROOT
from ..ingest.duplicates import shingles
from ..pipeline import Pipeline
from ..retrieval.exhaustive import match
from .common import stats
from .datasets import load_news

REUTERS = PROJECT_ROOT.parent / "shared" / "eval" / "reuters"
COVERAGE = (0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
COSINE = (0.5, 0.6, 0.7, 0.8, 2.0)                  # 2.0: the dense signal off
LINK = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)
DAYS = (1, 3, 7, 14)
FORMS = ("{}", "the {} deal")
_NAME = re.compile(r"\b[A-Z][a-z]{4,}\b")
_CALENDAR = {"January", "February", "March", "April", "June", "July", "August", "September", "October",
             "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}


def pick_names(index, n: int, seed: int = 0) -> dict[str, set[str]]:
    """`n` rare names (see the module note) -> the doc_ids of the articles that use them."""
    lower = set()
    df: Counter = Counter()
    bodies = {d: "\n".join(a.text[s:e] for s, e in a.body) for d, a in index.articles.items()}
    for text in bodies.values():
        lower.update(w for w in re.findall(r"\b[a-z]{5,}\b", text))
        df.update(set(_NAME.findall(text)))
    pool = sorted(w for w, c in df.items() if 2 <= c <= 40 and w.lower() not in lower and w not in _CALENDAR)
    names = random.Random(seed).sample(pool, min(n, len(pool)))
    out = {}
    for name in names:
        pat = re.compile(rf"\b{re.escape(name)}\b")
        out[name] = {d for d, text in bodies.items() if pat.search(text)}
    return out


def returned(index, m, coverage: float, cosine: float) -> set[str]:
    """The doc_ids `stories` lists at these floors (canonical articles and their duplicate scrapes)."""
    dups = duplicates(index)
    ids = [m.layout.doc_ids[p] for p in relevant(m, coverage, cosine)]
    return set(ids) | {d for x in ids for d in dups.get(x, ())}


def _pr(found: list[tuple[set, set]]) -> dict:
    tp = sum(len(f & t) for f, t in found)
    nf, nt = sum(len(f) for f, _ in found), sum(len(t) for _, t in found)
    return {"recall": round(tp / nt, 4) if nt else None, "precision": round(tp / nf, 4) if nf else None,
            "returned": nf, "truth": nt}


def exhaustiveness(index, names: dict[str, set[str]]) -> tuple[list[dict], dict]:
    """Recall and precision on the floor grid per query form; and the matches, for reuse."""
    matches = {(form, name): match(index, form.format(name)) for form in FORMS for name in names}
    grid = []
    for cov in COVERAGE:
        for cos in COSINE:
            row = {"coverage": cov, "cosine": cos if cos <= 1 else None}
            for form in FORMS:
                row[form.format("NAME")] = _pr([(returned(index, matches[form, n], cov, cos), t)
                                                for n, t in names.items()])
            grid.append(row)
    return grid, matches


def choose(grid: list[dict]) -> dict:
    """The grid point with the best recall (both forms, the worse counts) at precision >= 0.90 on both."""
    def worst(row, key):
        return min(row[f.format("NAME")][key] or 0.0 for f in FORMS)
    ok = [r for r in grid if worst(r, "precision") >= 0.90] or grid      # ties: the highest coverage floor,
    return max(ok, key=lambda r: (worst(r, "recall"), worst(r, "precision"), r["coverage"],   # then the lowest
                                  -(r["cosine"] or 2.0)))                 # cosine floor (it finds paraphrases)


def choose_grouping(rows: list[dict], merged: float = 0.05) -> dict:
    """The link x days point that keeps the most same-event pairs together while merging at most
    `merged` of the unrelated pairs (ties: the stricter link, the fewer days)."""
    ok = [r for r in rows if (r["merged"] or 0.0) <= merged] or rows
    return max(ok, key=lambda r: (r["kept_together"] or 0.0, r["link"], -r["days"]))


def grouping(index, names, matches, coverage, cosine) -> list[dict]:
    """Same-event pairs kept together and unrelated pairs merged, on the link x days grid."""
    rng = random.Random(1)
    keys = sorted(names)
    pairs = [(a, b) for a, b in combinations(keys, 2) if not (names[a] & names[b])]
    pairs = rng.sample(pairs, min(20, len(pairs)))
    mixed = {(a, b): match(index, f"{a} {b}") for a, b in pairs}
    rows = []
    for link in LINK:
        for days in DAYS:
            together = close = merged = unrelated = split = updates = kept = 0
            for name, truth in names.items():
                res = stories(index, name, coverage=coverage, cosine=cosine, link=link, days=days,
                              matches=matches["{}", name])
                story_of = {a.doc_id: s.story_id for s in res.stories for a in s.articles}
                for s in res.stories:
                    ids = {a.doc_id for a in s.articles}
                    split += sum(1 for a in s.articles if a.duplicate_of and a.duplicate_of not in ids)
                got = sorted(d for d in truth if d in story_of and index.articles[d].date)
                for x, y in combinations(got, 2):
                    gap = abs(_ordinal(index.articles[x].date) - _ordinal(index.articles[y].date))
                    if 1 <= gap <= 3:
                        close += 1
                        together += story_of[x] == story_of[y]
                        if _overlap(index, x, y) >= UPDATE:
                            updates += 1
                            kept += story_of[x] == story_of[y]
            for (a, b), m in mixed.items():
                res = stories(index, f"{a} {b}", coverage=min(coverage, 0.45), cosine=cosine, link=link, days=days,
                              matches=m)                # each name's articles listed, not only those with both
                story_of = {x.doc_id: s.story_id for s in res.stories for x in s.articles}
                only_a = [d for d in names[a] - names[b] if d in story_of]
                only_b = [d for d in names[b] - names[a] if d in story_of]
                unrelated += len(only_a) * len(only_b)
                merged += sum(story_of[x] == story_of[y] for x in only_a for y in only_b)
            rows.append({"link": link, "days": days, "same_event_pairs": close,
                         "kept_together": round(together / close, 4) if close else None,
                         "update_pairs": updates, "updates_together": round(kept / updates, 4) if updates else None,
                         "unrelated_pairs": unrelated, "merged": round(merged / unrelated, 4) if unrelated else None,
                         "duplicates_split": split})
    return rows


UPDATE = 1 / 3
_SHINGLES: dict[str, set] = {}


def _overlap(index, x: str, y: str) -> float:
    """Jaccard similarity of two articles' 5-word body shingles."""
    for d in (x, y):
        if d not in _SHINGLES:
            a = index.articles[d]
            _SHINGLES[d] = shingles("\n".join(a.text[s:e] for s, e in a.body), index.settings.shingle_words)
    a, b = _SHINGLES[x], _SHINGLES[y]
    return len(a & b) / max(1, len(a | b))


def _ordinal(date: str) -> int:
    import datetime as dt
    return dt.date.fromisoformat(date).toordinal()


def run(n: int = 10_000, dataset: Path | None = None, cache: Path | None = None, names: int = 30,
        say=lambda msg: None) -> dict:
    dataset = Path(dataset or REUTERS)
    cache = Path(cache or Path.home() / ".cache" / "qa" / "stories-bench")
    ds = load_news(dataset, cache, n)
    say(f"opening (building once: ~40 min at 10k on 2 busy cores) the index of {ds.name} in {ds.index_dir}")
    p = Pipeline(ds.seeds_dir, ds.index_dir, progress=True)
    index = p.index
    truth = pick_names(index, names)
    say(f"{len(truth)} names; the floor grid")
    grid, matches = exhaustiveness(index, truth)
    best = choose(grid)
    st = index.settings
    say("the grouping grid")
    groups = grouping(index, truth, matches, best["coverage"], best["cosine"] or 2.0)
    queries = [f.format(name) for f in FORMS for name in truth]
    p.stories(queries[0])                                   # warm: the layout, the encoder session
    seconds, sizes = [], []
    for q in queries:
        t = time.perf_counter()
        res = p.stories(q)
        seconds.append(time.perf_counter() - t)
        sizes.append(sum(len(s.articles) for s in res.stories))
    problems = sum(len(p.verify(p.stories(q))) for q in queries[:10])
    return {"dataset": ds.name, "articles": len(index.articles), "chunks": len(index.chunks),
            "sentences": len(index.sentence_spans), "names": {k: len(v) for k, v in truth.items()},
            "floors": grid, "chosen_floors": best,
            "settings": {"stories_coverage": st.stories_coverage, "stories_cosine": st.stories_cosine,
                         "stories_link": st.stories_link, "stories_days": st.stories_days},
            "at_settings": next((r for r in grid if r["coverage"] == st.stories_coverage
                                 and r["cosine"] == (st.stories_cosine if st.stories_cosine <= 1 else None)), None),
            "grouping": groups, "chosen_grouping": choose_grouping(groups), "latency_ms": stats(seconds), "articles_per_query": stats([s / 1000 for s in sizes]),
            "citation_problems_first_10": problems}


def report(r: dict) -> str:
    forms = [f.format("NAME") for f in FORMS]
    out = [f"qa.stories on {r['dataset']}: {r['articles']} articles, {r['chunks']} chunks, {r['sentences']} sentences",
           f"{len(r['names'])} names in {min(r['names'].values())}-{max(r['names'].values())} articles each", "",
           "floors (coverage, cosine)  " + "  ".join(f"{f:>24}" for f in forms),
           ]
    for row in r["floors"]:
        cells = [f"R {row[f]['recall']:.3f} P {row[f]['precision']:.3f} ({row[f]['returned']:>4})" for f in forms]
        out.append(f"  {row['coverage']:<4} {str(row['cosine']):<6}              " + "  ".join(f"{c:>24}" for c in cells))
    c = r["chosen_floors"]
    out += ["", f"chosen: coverage {c['coverage']}, cosine {c['cosine']}; settings: {r['settings']}", "",
            "grouping (link, days): same-event pairs kept together, unrelated pairs merged, duplicate scrapes split"]
    for g in r["grouping"]:
        out.append(f"  {g['link']:<5} {g['days']:>3}d  together {g['kept_together']} of {g['same_event_pairs']} "
                   f"(updates {g['updates_together']} of {g['update_pairs']})  "
                   f"merged {g['merged']} of {g['unrelated_pairs']}  split {g['duplicates_split']}")
    g = r["chosen_grouping"]
    out.append(f"chosen: link {g['link']}, {g['days']} days (most kept together with at most 5% of unrelated pairs merged)")
    lat = r["latency_ms"]
    out += ["", f"latency, warm, {lat['n']} queries: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms, "
                f"p99 {lat['p99']:.0f} ms; articles a query: p50 {r['articles_per_query']['p50']:.0f}, "
                f"p95 {r['articles_per_query']['p95']:.0f}",
            f"citation problems (qa.verify, first 10 queries): {r['citation_problems_first_10']}"]
    return "\n".join(out) + "\n"
