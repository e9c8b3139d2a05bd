"""How much of each story cleaning keeps, and whether its date is right: `qa eval --cleaning`.

A fixture folder holds `pages/` (articles in any format qa reads, read together as one folder,
so lines shared across them count as an outlet's furniture), `expected/<doc_id>.txt` (the body a
person marked as the story, one paragraph a line) and `dates.json` (doc_id -> "YYYY-MM-DD", or
null where the page gives no trustworthy date).

Bodies are scored as the article-extraction benchmarks score extractors: sets of 4-word shingles
(lower-cased words) of the kept body against those of the expected body; recall is the share of
the expected shingles kept, precision the share of kept shingles that are expected. A date is
right when it equals the expected one (for null: when qa says unknown), unknown when qa has none
but one was expected, wrong otherwise.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..config import PROJECT_ROOT
from ..ingest.read import read_folder

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "cleaning"
SHINGLE = 4
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = SHINGLE) -> set[tuple[str, ...]]:
    """The set of n-word shingles of `text` (one shingle of all its words when it has fewer)."""
    w = _WORD.findall(text.lower())
    return {tuple(w[i:i + n]) for i in range(max(1, len(w) - n + 1))} if w else set()


def score(kept: str, expected: str) -> tuple[float, float]:
    """(recall, precision) of the kept text's shingles against the expected text's."""
    k, e = shingles(kept), shingles(expected)
    both = len(k & e)
    return (both / len(e) if e else 1.0), (both / len(k) if k else 1.0)


def date_status(got: str | None, want: str | None) -> str:
    if got == want:
        return "right"
    return "unknown" if got is None else "wrong"


def run(folder: Path | None = None) -> dict:
    """Per-article body recall and precision and date status over a fixture folder."""
    folder = Path(folder or FIXTURES)
    expected_dir = folder / "expected"
    if not expected_dir.is_dir():
        raise ValueError(f"{folder} is not a cleaning fixture folder: it needs pages/, expected/ and dates.json")
    dates = json.loads((folder / "dates.json").read_text(encoding="utf-8"))
    articles, skipped = read_folder(folder / "pages")
    rows = []
    for a in articles:
        want = expected_dir / f"{a.doc_id}.txt"
        if not want.is_file():
            continue
        kept = "\n".join(a.text[s:e] for s, e in a.body)
        recall, precision = score(kept, want.read_text(encoding="utf-8"))
        row = {"doc_id": a.doc_id, "recall": round(recall, 3), "precision": round(precision, 3),
               "kept_chars": len(kept), "date": a.date, "date_evidence": getattr(a, "date_evidence", None)}
        if a.doc_id in dates:
            row["expected_date"] = dates[a.doc_id]
            row["date_status"] = date_status(a.date, dates[a.doc_id])
        rows.append(row)
    n = len(rows) or 1
    statuses = [r["date_status"] for r in rows if "date_status" in r]
    return {"folder": str(folder), "articles": rows, "skipped": skipped,
            "mean_recall": round(sum(r["recall"] for r in rows) / n, 3),
            "mean_precision": round(sum(r["precision"] for r in rows) / n, 3),
            "min_recall": min((r["recall"] for r in rows), default=0.0),
            "dates": {s: statuses.count(s) for s in ("right", "unknown", "wrong")}}


def report(r: dict) -> str:
    """The figures as a table a person reads."""
    out = [f"cleaning fixtures in {r['folder']} (4-word shingles)",
           f"{'article':<22} {'recall':>7} {'precis.':>7}  date"]
    for row in r["articles"]:
        d = row.get("date_status", "-")
        got = row["date"] or "unknown"
        why = f" ({row['date_evidence']})" if row.get("date_evidence") else ""
        detail = "" if d == "right" else f", expected {row.get('expected_date') or 'unknown'}"
        out.append(f"{row['doc_id']:<22} {row['recall']:>7.3f} {row['precision']:>7.3f}  {d}: {got}{why}{detail}")
    d = r["dates"]
    out.append(f"mean recall {r['mean_recall']:.3f} (lowest {r['min_recall']:.3f}), mean precision "
               f"{r['mean_precision']:.3f}; dates {d['right']} right, {d['unknown']} unknown, {d['wrong']} wrong")
    out.extend(f"  {w}" for w in r["skipped"])
    return "\n".join(out)
