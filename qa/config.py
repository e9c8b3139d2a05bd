"""Every default of qa in one frozen settings object.

Only paths come from the environment (QA_SEEDS, QA_INDEX); everything that
changes what the index contains is a field here and is recorded in the index
manifest, so that a changed setting triggers a rebuild instead of a silent mix.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORMAT_VERSION = 3                       # 2: article texts and metadata stored; 3: compact tables, int8 vectors
# The rules that pick an article's body and date (ingest/boilerplate.py, ingest/dates.py): a change
# means old indexes rebuild. 2: removals only on evidence, each with its reason; dates by evidence.
CLEANING_RULES = 2


def git_commit() -> str:
    """The git commit the project is at, noting uncommitted changes, or "unknown" (what a trained or
    exported model's card records)."""
    import subprocess
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True).stdout.strip()
        return (head or "unknown") + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def default_seeds_dir() -> Path:
    """Folder of articles: $QA_SEEDS, else `seeds/` beside the package."""
    return Path(os.environ.get("QA_SEEDS") or PROJECT_ROOT / "seeds")


def default_index_dir() -> Path:
    """Folder of the persisted index: $QA_INDEX, else `index/` beside the package."""
    return Path(os.environ.get("QA_INDEX") or PROJECT_ROOT / "index")


@dataclass(frozen=True)
class Settings:
    # corpus
    extensions: tuple[str, ...] = (".txt", ".md", ".html", ".htm", ".jsonl", ".csv")   # ingest/formats.py
    max_file_bytes: int = 5_000_000          # larger files are skipped with a warning
    uploads: str = "uploads"                 # the folder inside the articles folder where the chat's
    max_uploads: int = 1_000                 # uploads are kept (read like the top level), and its cap
    max_upload_batch: int = 10               # files per upload in the chat
    duplicate_jaccard: float = 0.8           # 5-word-shingle Jaccard for near-duplicate articles
    shingle_words: int = 5
    # A sentence shared by two stories that are not scrapes of one another is most often reporting
    # they share (a wire story and its update, two outlets running the same copy), not site furniture:
    # of 3,000 Reuters stories, 73 prose lines were shared by exactly two stories and 2 by three or
    # more. So a prose line repeated across articles is boilerplate only when this many stories
    # repeat it; a short line (heading, caption) already when two do.
    prose_across: int = 3
    # chunking
    chunk_sentences: int = 3
    chunk_overlap: int = 2                   # every window: SQuAD tune half R@1 .740 -> .768, R@5 .908 -> .941
    max_sentence_chars: int = 2_000          # pysbd is fed at most this much per paragraph piece
    # lexical
    bm25_k1: float = 0.9                     # k1, b, rrf_k, weight_dense tuned on the SQuAD v1.1 tune half
    bm25_b: float = 0.4                      # (`qa eval --tune`); was 1.5 / 0.75
    # dense
    model_name: str = "sentence-transformers/all-MiniLM-L6-v2"
    embed_batch: int = 16                    # texts per onnxruntime call, sorted by length (16 measured best)
    # "onnx-int8" (the file shipped in models/encoder), or with the train extra "onnx" (fp32, exported
    # once into the cache: cosine 1.000 to the reference) or "sentence-transformers" (the reference).
    # int8 (dynamic, per channel): SQuAD v1.1 report half, 500 questions: hybrid R@5 0.966 = fp32,
    # first citation 0.788 vs 0.784; dense R@5 0.878 vs 0.874; builds ~1.8x faster than fp32.
    encoder: str = "onnx-int8"
    # a window's vector: "encoded" (the model reads the window whole) or "pooled" (the length-weighted
    # mean of its sentences' vectors: no model time for windows, a build 4.5x today's characters/s
    # at 10,000 news stories (encoded: 1.14x), and on
    # SQuAD v1.1's report half first citation 0.862 -> 0.854, R@5 0.964 -> 0.972; news dev set first
    # citation 0.60 -> 0.59, R@5 0.86 -> 0.85; docs/speed.md). Encoded is the default: answers first.
    window_vectors: str = "encoded"
    encoder_threads: int = os.cpu_count() or 1  # intra-op threads; on 2 cores 1 thread was ~1.7x slower
    # from this many chunks on, dense search is HNSW, not exact. Exact search over 8-bit codes took
    # 10.6 / 13.4 ms p50 at 64k / 150k chunks (float32: 12.9 / 26.5 ms) and is built in 0.2-0.4 s,
    # where an HNSW graph takes 10-20 s to rebuild on every added article (was 50_000 with float32)
    ann_threshold: int = 250_000
    ann_m: int = 32                          # HNSW graph degree; at 100k: recall@10 0.997, 0.4 ms, built in 18 s
    ann_ef_construction: int = 40
    ann_ef_search: int = 128                 # raised to k when k is larger
    # fusion
    rrf_k: int = 5                           # was 60 (Cormack et al.); 5 trusts each list's top ranks more
    weight_bm25: float = 1.0
    weight_dense: float = 0.7                # was 1.0: BM25 is the stronger retriever on these questions
    candidates: int = 100                    # per retriever, before fusion
    # the Milvus backend's hybrid: "client" (its BM25 and vector searches, fused here like the embedded
    # backend's, weights and all) or "server" (one hybrid_search: Milvus's RRFRanker(rrf_k), which has
    # no per-route weights). SQuAD v1.1 report half, 500 questions, first citation: embedded 0.864,
    # client 0.858, server 0.850 (R@1 0.826 / 0.808 / 0.782)
    milvus_fusion: str = "client"
    # answering: the reader (a folder with reader.onnx and its card, trained by `qa train-reader`;
    # "" = the first-stage scores alone). It reads reader_passages passages around the best
    # first-stage sentences. Order: the best span's score - reader_null x its passage's no-answer
    # score + reader_mix x the first-stage score + reader_type x the question-type fit
    # (scoring.fits_type) + reader_lede for an article's first sentence; abstain when no sentence's
    # order score reaches reader_abstain. Chosen on the SQuAD v1.1 tune half and the news dev set,
    # the threshold on the SQuAD v2.0 tune half (docs/reader.md).
    reader: str = "models/reader"
    reader_passages: int = 8
    reader_mix: float = 4.0
    reader_null: float = 1.0
    reader_type: float = 0.0
    reader_lede: float = -5.0
    reader_abstain: float = -4.0
    # questions
    max_question_chars: int = 1_000
    # a date phrase in a question ("in October 2012", "last week") becomes the date filter
    # (retrieval/when.py, docs/dates.md); relative phrases are read against `today` (YYYY-MM-DD),
    # else against the newest article's date in the index
    question_dates: bool = True
    today: str | None = None
    # stories (`qa.stories`, docs/stories.md): an article is about the query when it uses this
    # idf-weighted share of the query's words, or when one of its sentences is this close to the
    # query (cosine); articles join a story when their mean sentence vectors are this close and
    # they are at most this many days from one of its articles. Chosen on 10,000 stories of the news
    # dev set (`qa bench --stories`): 30 rare names, recall 1.000, precision 0.906 (as themselves and
    # as "the NAME deal"); same-name reports 1-3 days apart kept together 0.60, unrelated merged 0.03.
    stories_coverage: float = 0.6
    stories_cosine: float = 0.7
    stories_link: float = 0.3
    stories_days: int = 3
    stories_max_articles: int = 2_000        # the most articles one answer lists (the best, by score)

    # limits: what one file or upload can cost (issue 27; README "Limits"). A file that reaches one
    # is truncated or skipped with a warning naming it and the limit; never read in part silently.
    max_article_chars: int = 100_000         # an article's text past this (cut at a space) is not indexed
    max_export_records: int = 5_000          # an export (.jsonl, .csv) with more records is skipped whole
    max_upload_cache_bytes: int = 60_000_000  # the chat's upload folder is swept back under this

    def reader_dir(self) -> Path | None:
        """The reader model's folder (relative paths are under the project), or None when off."""
        if not self.reader:
            return None
        p = Path(self.reader)
        return p if p.is_absolute() else PROJECT_ROOT / p

    def index_fingerprint(self) -> dict:
        """The settings that shape the index; a change means a rebuild."""
        keys = ("extensions", "duplicate_jaccard", "shingle_words", "prose_across", "chunk_sentences",
                "chunk_overlap", "max_sentence_chars", "model_name", "encoder", "window_vectors", "bm25_k1", "bm25_b")
        d = asdict(self)
        out = {k: (list(d[k]) if isinstance(d[k], tuple) else d[k]) for k in keys + INDEX_LIMITS}
        return {**out, "cleaning_rules": CLEANING_RULES}


INDEX_LIMITS = ("max_article_chars", "max_export_records")    # limits that shape the index (fingerprint)
DEFAULT = Settings()
