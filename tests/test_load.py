"""Load, a short smoke run of `qa bench --load`: threads asking one pipeline at once get the
answers they get alone, without an error; API clients against app.py are answered or refused
at once when the queue is full, and no request hangs. The figures are the bench's (README)."""
from __future__ import annotations

from qa.chat.app import QUEUE_SIZE
from qa.measure import bench_load

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
