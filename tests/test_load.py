"""Load, a short smoke run of `qa bench --load`: threads asking one pipeline at once get the
answers they get alone, without an error; API clients against app.py are answered or refused
at once when the queue is full, and no request hangs; questions asked while an upload is indexed
are answered, and Gradio's upload folder goes back under its cap and is gone once the server
stops. The figures are the bench's (README); nothing here is timed."""
from __future__ import annotations

from qa.chat.app import QUEUE_SIZE
from qa.config import DEFAULT
from qa.measure import bench_load, bench_upload

from test_app import server  # noqa: F401  (the module's app.py, stopped by its PID)

QUESTIONS = ["Why was Putin's visit cancelled?", "Who is Ruslan Pukhov?", "When did Kayani arrive in Moscow?",
             "What does Gazprom want in Pakistan?"]


def test_threads_asking_at_once_get_the_answers_they_get_alone(pipeline):
    r = bench_load.threads(pipeline, QUESTIONS, n_threads=8, n_asks=24)
    assert r["errors"] == 0, r["error_examples"]
    assert r["differ_from_sequential"] == 0 and r["latency_ms"]["n"] == 24


def test_api_clients_are_answered_or_refused_and_none_hangs(server):  # noqa: F811
    r = bench_load.api(server, QUESTIONS[:3], clients=6, seconds=4.0, burst=QUEUE_SIZE * 2 + 8)
    assert r["errors"] == 0 and r["hung"] == 0, r["error_examples"]
    assert r["answered"] > 0 and r["differ_from_alone"] == 0
    b = r["burst"]
    assert b["errors"] == 0 and b["hung"] == 0 and b["answered"] + b["refused"] == b["requests"]
    assert b["refused"] > 0 and b["answered"] >= 1, b


def test_asking_while_an_upload_is_indexed_and_a_flood_of_the_upload_route(pipeline):
    r = bench_upload.run(pipeline.seeds_dir, pipeline.index_dir, QUESTIONS[:3], mb=0.3, quick=True)
    during, upload, flood = r["upload"]["during"], r["upload"]["upload"], r["flood"]
    assert during["answer"] > 0 and during["error"] == during["hung"] == during["over_60s"] == 0, during
    assert "error" not in upload and "Added 1 article" in upload["last_message"], upload
    cap = DEFAULT.max_upload_cache_bytes / 1e6
    assert flood["mb_after_posting"] > cap and min(flood["mb_each_second"]) <= cap, flood
    assert flood["files_after_stop"] == 0 and flood["mb_after_stop"] == 0, flood
