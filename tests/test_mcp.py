"""The MCP tools, end to end: app.py served on a loopback port, driven by the official `mcp` SDK's
client over streamable HTTP, as an agent or an editor would connect to it.

The tools are listed with their parameters, `ask` answers a seed question and its citations
hold under `qa.verify` (and under the `verify` tool), `retrieve` gives verbatim passages at
their offsets, bad arguments get the library's messages, and `--no-mcp` serves none.
The serving process never loads torch.
"""
from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest

import qa
from conftest import raw
from test_app import PUTIN, serve_app

TOOLS = {"ask": {"question", "mode", "k", "earlier", "since", "until", "outlets"},
         "retrieve": {"question", "k", "mode", "since", "until", "outlets"},
         "verify": {"answer"}}


def _serve(pipeline, tmp_path_factory, *extra):
    """app.py over the session's seeds and index; yields (base URL, process); stopped by its PID."""
    for url, proc in serve_app(pipeline.seeds_dir, pipeline.index_dir, tmp_path_factory, *extra):
        yield url.rstrip("/"), proc


@pytest.fixture(scope="module")
def server(pipeline, tmp_path_factory):
    yield from _serve(pipeline, tmp_path_factory)


def session(url: str, work):
    """Run `await work(client_session)` against the MCP endpoint at `url`; its result."""
    import httpx
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as http, \
                streamable_http_client(url + "/gradio_api/mcp/", http_client=http) as (r, w, _):
            async with ClientSession(r, w) as s:
                await s.initialize()
                return await work(s)
    return asyncio.run(asyncio.wait_for(run(), 180))


def call(url: str, tool: str, arguments: dict):
    """(is_error, text) of one tools/call."""
    async def work(s):
        return await s.call_tool(tool, arguments)
    res = session(url, work)
    assert len(res.content) == 1 and res.content[0].type == "text"
    return res.isError, res.content[0].text


def test_tools_list_names_the_three_tools_with_their_parameters(server):
    url, _ = server

    async def work(s):
        return (await s.list_tools()).tools
    tools = {t.name: t for t in session(url, work)}
    assert set(tools) == set(TOOLS), sorted(tools)              # the chat's own events are not tools
    for name, params in TOOLS.items():
        schema = tools[name].inputSchema
        assert set(schema["properties"]) == params, (name, schema)
        assert all(p.get("description") for p in schema["properties"].values()), (name, schema)
        assert len(tools[name].description) > 100
    assert tools["ask"].inputSchema["required"] == ["question"]
    assert tools["verify"].inputSchema["required"] == ["answer"]
    assert tools["ask"].inputSchema["properties"]["k"]["type"] == "integer"
    assert "offsets" in tools["ask"].description and "verify" in tools["ask"].description


def test_ask_returns_an_answer_whose_citations_verify(server, pipeline):
    url, _ = server
    error, text = call(url, "ask", {"question": PUTIN})
    assert not error, text
    data = json.loads(text)
    answer = qa.Answer.from_dict(data)
    assert data["schema"] == "qa.answer/4" and not answer.abstained and answer.citations
    assert qa.verify(answer) == [] and pipeline.verify(answer) == []
    assert [c.to_dict() for c in answer.citations] == [c.to_dict() for c in pipeline.ask(PUTIN).citations]
    for c in answer.citations:
        assert raw(pipeline.seeds_dir, c.doc_id)[c.start:c.end] == c.quote
    assert len(text) < 100_000

    error, text = call(url, "verify", {"answer": data})
    assert not error and json.loads(text) == {"ok": True, "citations": len(answer.citations), "problems": []}
    first = data["citations"][0]
    tampered = dict(data, citations=[dict(first, start=first["start"] + 1)] + data["citations"][1:])
    error, text = call(url, "verify", {"answer": tampered})
    report = json.loads(text)
    assert not error and report["ok"] is False and report["problems"], report


def test_ask_takes_filters_and_abstains_honestly(server):
    url, _ = server
    error, text = call(url, "ask", {"question": "What is the capital of France?", "k": 3, "mode": "bm25"})
    assert not error and json.loads(text)["abstained"] is True
    error, text = call(url, "ask", {"question": PUTIN, "since": "2030-01-01"})
    data = json.loads(text)
    assert not error and data["abstained"] is True and data["citations"] == []


def test_retrieve_gives_verbatim_passages_at_their_offsets(server, pipeline):
    url, _ = server
    error, text = call(url, "retrieve", {"question": "Who is Ruslan Pukhov?", "k": 3})
    assert not error, text
    hits = json.loads(text)
    assert 1 <= len(hits) <= 3 and "Pukhov" in hits[0]["text"]
    for h in hits:
        assert raw(pipeline.seeds_dir, h["doc_id"])[h["start"]:h["end"]] == h["text"]
        assert {"score", "bm25_rank", "dense_rank"} <= set(h)


@pytest.mark.parametrize("tool, arguments, message", [
    ("ask", {"question": ""}, "question is empty"),
    ("ask", {"question": PUTIN, "k": 500}, "from 1 to 20"),
    ("ask", {"question": PUTIN, "mode": "magic"}, "unknown retrieval mode"),
    ("ask", {"question": PUTIN, "since": "last week"}, "YYYY-MM-DD"),
    ("retrieve", {"question": PUTIN, "k": 0}, "from 1 to 20"),
    ("retrieve", {"question": "x" * 5000}, "at most 1,000"),
    ("verify", {"answer": {"text": "no citations here"}}, "not a qa answer"),
])
def test_bad_arguments_get_the_library_message(server, tool, arguments, message):
    url, _ = server
    error, text = call(url, tool, arguments)
    assert error and message in text, text
    assert "Traceback" not in text


def test_the_serving_process_has_no_torch(server):
    """The app loaded the encoder and the reader (it answered a warm-up question): torch's
    libraries are not mapped into it."""
    _, proc = server
    maps = open(f"/proc/{proc.pid}/maps", encoding="utf-8").read()
    assert "onnxruntime" in maps
    assert "libtorch" not in maps and "/torch/" not in maps


def test_no_mcp_serves_no_tools(pipeline, tmp_path_factory):
    for url, _ in _serve(pipeline, tmp_path_factory, "--no-mcp"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url + "/gradio_api/mcp/schema", timeout=10)
        assert e.value.code == 404
        with urllib.request.urlopen(url + "/", timeout=10) as r:       # the chat itself is served
            assert r.status == 200


def test_ask_reads_a_date_phrase_and_a_given_date_filter_wins(server):
    url, _ = server
    question = "What did Pakistan say in October 2012?"
    error, text = call(url, "ask", {"question": question})
    data = json.loads(text)
    assert not error and data["dates"]["applied"] is True and data["searched"] == "What did Pakistan say?"
    assert data["citations"] and all(c["date"] == "2012-10-08" for c in data["citations"])
    error, text = call(url, "ask", {"question": question, "since": "2012-01-01"})
    data = json.loads(text)
    assert not error and data["dates"]["applied"] is False and data["searched"] == question
