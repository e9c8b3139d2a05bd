"""What the measurements share: where the SQuAD data is, the seed questions, percentiles, peak RSS."""
from __future__ import annotations

import json
import resource

import numpy as np

from ..config import PROJECT_ROOT

SQUAD = PROJECT_ROOT.parent / "shared" / "eval" / "squad-v1.1-dev.json"
FALLBACK_QUESTIONS = ["Why was Putin's visit cancelled?", "Who is Ruslan Pukhov?", "When did Kayani arrive in Moscow?",
                      "What does Gazprom want in Pakistan?", "How big is Russia's share of the arms trade?"]


def stats(seconds: list[float]) -> dict:
    """p50/p95/p99 and mean in milliseconds."""
    if not seconds:
        return {"n": 0}
    ms = np.asarray(seconds) * 1000.0
    return {"n": int(ms.size), "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def seed_questions() -> list[str]:
    path = PROJECT_ROOT / "tests" / "seed_questions.jsonl"
    if path.exists():
        return [json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return list(FALLBACK_QUESTIONS)


def squad_articles(n: int | None = None) -> list[tuple[str, str]]:
    """(title, text) of the SQuAD v1.1 dev articles, or [] when ../shared/eval is absent."""
    if not SQUAD.exists():
        return []
    docs = json.loads(SQUAD.read_text(encoding="utf-8"))["documents"]
    return [(d["title"].replace("_", " "), d["text"]) for d in docs[:n]]
