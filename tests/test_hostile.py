"""Hostile input, end to end: questions through the library, the CLI, the `/ask` API and a real
browser, and hostile paths against every file-like route the running server has.

What each input gives, decided from the code (`check_question` in qa/retrieval/search.py,
`answer_for` in qa/chat/app.py):
- refused with `BadQuestionError` and a message that says what to fix: empty, whitespace only,
  over 1,000 characters, a NUL, a lone surrogate (half a UTF-16 pair: the tokenizers cannot take it);
- searched, giving a cited answer or "Not in these articles": control characters, bidi marks,
  right-to-left text, emoji, stopwords only, punctuation only, HTML, Markdown, LaTeX;
- `k` below 1 or not a whole number, or an unknown mode: BadQuestionError (a ValueError too);
  `k` above the corpus is clamped by the library, above 20 refused by the chat and the API.
The CLI cannot be given a NUL (argv is C strings) nor 1 MB (Linux caps one argument at 128 KiB);
invalid UTF-8 in argv is how a lone surrogate reaches it (Python decodes argv with surrogateescape).
"""
from __future__ import annotations

import fcntl
import json
import socket
import struct
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

import qa
from test_app import REPO, ask_in_page, browser, page, server  # noqa: F401  (fixtures used by name)

KAYANI = "Who is Kayani?"
REFUSED = [
    pytest.param("", "question is empty", id="empty"),
    pytest.param(" \n\t\r\x0b\x0c ", "question is empty", id="whitespace"),
    pytest.param("x" * 1_000_000, "1,000,000 characters long; ask in at most 1,000", id="1MB"),
    pytest.param("Who is\x00 Kayani?", "NUL character", id="NUL"),
    pytest.param("Who is \ud800 Kayani?", "half of a UTF-16 pair", id="lone-surrogate"),
]
MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", "![](http://x)",
          "$$x$$"]
# (question, what it should give: "Kayani"/"Pukhov" = an answer citing that name, "abstain", None = either)
SEARCHED = [
    pytest.param("Who is\x01 Kayani\x07\x1b\x7f?", "Kayani", id="control-chars"),
    pytest.param("\u202eWho is Kayani?\u202c 😀🇵🇰", "Kayani", id="bidi-emoji"),
    pytest.param("من هو كياني؟ 🚀", None, id="right-to-left"),
    pytest.param("the of and", "abstain", id="stopwords"),
    pytest.param("?!.,;:", "abstain", id="punctuation"),
    pytest.param("<b>Who is Ruslan Pukhov?</b>", "Pukhov", id="html"),
    *[pytest.param(q, "abstain", id=q[:12]) for q in MARKUP],
]
BAD_K = [0, -1, "five", None, 2.5]
API_SEARCHED = ("control-chars", "right-to-left", "stopwords")     # the rest go through the chat in the browser
BROWSER = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)> <svg onload=alert(1)>", "![](http://x) $$x$$"]


def _outcome(answer: qa.Answer, expected: str | None) -> None:
    assert answer.abstained or answer.citations
    assert qa.verify(answer) == []
    if expected == "abstain":
        assert answer.abstained and answer.text.startswith("Not in these articles"), answer.text
    elif expected:
        assert not answer.abstained and expected in answer.text, answer.text


# ---- the library ----------------------------------------------------------------------------

@pytest.mark.parametrize("question, message", REFUSED)
def test_library_refuses_with_a_clear_message(pipeline, question, message):
    for call in (qa.ask, qa.retrieve):
        with pytest.raises(qa.BadQuestionError, match=message):
            call(question)


@pytest.mark.parametrize("question, expected", SEARCHED)
def test_library_searches_odd_text(pipeline, question, expected):
    hits = qa.retrieve(question, k=3)
    assert 1 <= len(hits) <= 3
    assert all(h.text == pipeline.index.articles[h.doc_id].text[h.start:h.end] for h in hits)
    answer = qa.ask(question)
    assert answer.question == question and answer.searched == question.strip()
    _outcome(answer, expected)


@pytest.mark.parametrize("k", BAD_K + [True], ids=repr)
def test_library_refuses_bad_k(pipeline, k):
    for call in (qa.retrieve, qa.ask):
        with pytest.raises(qa.BadQuestionError, match="k must be a whole number of at least 1"):
            call(KAYANI, k=k)


def test_library_clamps_a_huge_k(pipeline):
    hits = qa.retrieve(KAYANI, k=10**9)
    assert 1 < len(hits) <= len(pipeline.index.chunks)
    _outcome(qa.ask(KAYANI, k=10**9), "Kayani")


@pytest.mark.parametrize("mode", ["fuzzy", "", None, "HYBRID"], ids=repr)
def test_library_refuses_an_unknown_mode(pipeline, mode):
    for call in (qa.retrieve, qa.ask):
        with pytest.raises(qa.BadQuestionError, match="unknown mode"):
            call(KAYANI, mode=mode)


# ---- the command line -----------------------------------------------------------------------

CLI_REFUSED = {          # id: (argv after `ask`, the message on the last line of stderr)
    "empty": ([""], "qa ask: the question is empty"),
    "100KB": (["x" * 100_000], "qa ask: the question is 100,000 characters long"),
    "invalid-utf8": ([b"Who is \xff Kayani?"], r"qa ask: the question contains '\udcff', half of a UTF-16 pair"),
    "k=0": ([KAYANI, "-k", "0"], "qa ask: k must be a whole number of at least 1, got 0"),
    "k=five": ([KAYANI, "-k", "five"], "python -m qa ask: argument -k: invalid int value: 'five'"),
    "mode": ([KAYANI, "--mode", "fuzzy"], "python -m qa ask: argument --mode: invalid choice: 'fuzzy'"),
}
CLI_SEARCHED = {         # id: (argv after `ask`, what the answer should be)
    "control-chars-huge-k": (["Who is\x01 Kayani\x07\x1b?", "-k", str(10**9), "--json"], "Kayani"),
    "bidi-emoji-script": (["\u202e<script>alert(1)</script>\u202c 😀", "--json"], "abstain"),
}


@pytest.fixture(scope="module")
def cli_runs(pipeline) -> dict[str, tuple[int, str, str]]:
    """Every `python -m qa ask` case, run at once (each loads the index, most the model too):
    id -> (exit code, stdout, stderr)."""
    cases = {i: args for i, (args, _) in {**CLI_REFUSED, **CLI_SEARCHED}.items()}
    procs = {i: subprocess.Popen([sys.executable, "-m", "qa", "ask", *args], cwd=REPO, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for i, args in cases.items()}
    runs = {}
    for i, p in procs.items():
        out, err = p.communicate(timeout=300)
        runs[i] = p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return runs


@pytest.mark.parametrize("case", CLI_REFUSED)
def test_cli_refuses_in_one_line(cli_runs, case):
    code, out, err = cli_runs[case]
    assert code == 2 and out == "" and "Traceback" not in err, err
    message, lines = CLI_REFUSED[case][1], err.strip().splitlines()
    assert message in lines[-1] and len(lines) == 1, err


@pytest.mark.parametrize("case", CLI_SEARCHED)
def test_cli_answers_odd_text(cli_runs, case):
    code, out, err = cli_runs[case]
    assert code == 0 and "Traceback" not in err, err
    _outcome(qa.Answer.from_dict(json.loads(out)), CLI_SEARCHED[case][1])


# ---- the /ask API ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(server):  # noqa: F811
    from gradio_client import Client
    return Client(server, verbose=False)


def _refused(client, *args) -> str:
    from gradio_client.exceptions import AppError
    with pytest.raises(AppError) as e:
        client.predict(*args, api_name="/ask")
    assert "Traceback" not in str(e.value) and "raised an exception" not in str(e.value), e.value
    return str(e.value)


def _call_rest(base: str, *data) -> tuple[str, object]:
    """The `/ask` endpoint through Gradio's REST protocol (POST /gradio_api/call/ask, then its
    event stream), for what gradio_client cannot send: httpx refuses to encode a lone surrogate,
    json.dumps writes it as the escape \\ud800. Returns the last event and its data."""
    post = urllib.request.Request(base + "gradio_api/call/ask", json.dumps({"data": list(data)}).encode(),
                                  {"Content-Type": "application/json"})
    with urllib.request.urlopen(post, timeout=30) as r:
        event_id = json.load(r)["event_id"]
    with urllib.request.urlopen(f"{base}gradio_api/call/ask/{event_id}", timeout=60) as r:
        stream = r.read().decode("utf-8")
    assert "Traceback" not in stream, stream
    events = [e for e in stream.split("\n\n") if e.startswith("event: ") and "heartbeat" not in e]
    event, data = events[-1].split("\n", 1)
    return event[len("event: "):], json.loads(data[len("data: "):])


@pytest.mark.parametrize("question, message", REFUSED)
def test_api_refuses_with_a_message(client, server, question, message):  # noqa: F811
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:
        event, data = _call_rest(server, question, "hybrid", 8, [], "", "", [])
        assert event == "error" and message in json.dumps(data), (event, data)
    else:
        assert message in _refused(client, question)


@pytest.mark.parametrize("question, expected", [p for p in SEARCHED if p.id in API_SEARCHED])
def test_api_answers_odd_text(client, question, expected):
    _outcome(qa.Answer.from_dict(json.loads(client.predict(question, api_name="/ask"))), expected)


@pytest.mark.parametrize("k", BAD_K + [10**9], ids=repr)
def test_api_refuses_bad_k(client, k):
    assert "number of passages must be" in _refused(client, KAYANI, "hybrid", k)


def test_api_refuses_an_unknown_mode(client):
    assert "unknown retrieval mode 'fuzzy'" in _refused(client, KAYANI, "fuzzy")


# ---- the chat in a browser ------------------------------------------------------------------

@pytest.mark.browser
def test_markup_in_questions_stays_text_in_a_browser(page):  # noqa: F811
    for q in BROWSER:
        reply = ask_in_page(page, q)
        user = page.locator("#qa-chat .qa-user").last
        assert user.inner_text().strip() == q and user.locator("*").count() == 0   # text, no element
        assert reply.locator(".qa-searched q").inner_text() == q
    found = page.evaluate("""() => ({
        handlers: document.querySelectorAll('[onerror], [onload]').length,
        scripts: [...document.scripts].filter(s => s.textContent.includes('alert(1)')).length,
        images: [...document.images].filter(i => ['x', 'http://x'].includes(i.getAttribute('src'))).length,
        in_chat: document.querySelectorAll('#qa-chat :is(.qa-user, .qa-reply) :is(script, img, svg)').length,
        katex: document.querySelectorAll('#qa-chat .katex').length,
    })""")
    assert found == {"handlers": 0, "scripts": 0, "images": 0, "in_chat": 0, "katex": 0}
    replies = page.locator("#qa-chat .qa-reply, #qa-chat .qa-error")       # no keyboard types a lone
    n = replies.count()                                                    # surrogate; a script can
    page.evaluate("""() => { const box = document.querySelector('#qa-question textarea');
        box.value = 'Who is \\ud800 Kayani?'; box.dispatchEvent(new Event('input', {bubbles: true})); }""")
    page.click("#qa-ask")
    page.wait_for_function(f"document.querySelectorAll('#qa-chat .qa-reply, #qa-chat .qa-error').length > {n}")
    assert "half of a UTF-16 pair" in replies.nth(n).inner_text()
    assert page.locator("#qa-chat .qa-user").last.inner_text().strip() == "Who is \ufffd Kayani?"
    assert page.dialogs == []
    assert "Traceback" not in page.content()


# ---- what is served -------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None                                 # a 3xx is an answer to judge, not to follow


_OPEN = urllib.request.build_opener(_NoRedirect)


def _get(base: str, path: str) -> tuple[int, bytes]:
    assert base.startswith("http://127.0.0.1:")
    try:
        with _OPEN.open(base.rstrip("/") + path, timeout=20) as r:
            return r.status, r.read(2_000_000)
    except urllib.error.HTTPError as e:
        return e.code, e.read(2_000_000)


@pytest.fixture(scope="module")
def secrets(pipeline):
    """Text that must never be served: a line of /etc/passwd, a long line of every seed article,
    and two sha256 hashes the index manifest holds (not its generation: a 403 echoes the path asked)."""
    marks = ["root:x:0:0"]
    for p in sorted(pipeline.seeds_dir.glob("*.txt")):
        marks.append(max(p.read_text(encoding="utf-8").splitlines(), key=len)[20:100])
    manifest = json.loads((pipeline.index_dir / "manifest.json").read_text(encoding="utf-8"))
    return marks + [next(iter(manifest["sources"].values())), next(iter(manifest["files"].values()))["sha256"]]


def _leaks(body: bytes, secrets) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [s for s in secrets if s in text]


def _targets(pipeline, port: int) -> list[str]:
    seeds, index = str(pipeline.seeds_dir), str(pipeline.index_dir)
    doc = sorted(p.name for p in pipeline.seeds_dir.glob("*.txt"))[0]
    gen = json.loads((pipeline.index_dir / "manifest.json").read_text(encoding="utf-8"))["generation"]
    up = "../" * 12
    return [
        "/etc/passwd", "etc/passwd", up + "etc/passwd", "..%2f" * 12 + "etc%2fpasswd",
        "%2e%2e%2f" * 12 + "etc%2fpasswd", "%252e%252e%252f" * 12 + "etc%252fpasswd", "%2Fetc%2Fpasswd",
        "//etc/passwd", "/ETC/PASSWD", "/etc/./passwd", "file:///etc/passwd",
        f"{seeds}/{doc}", f"{seeds}/./{doc}", f"{seeds}//{doc}", f"{seeds}/../{pipeline.seeds_dir.name}/{doc}",
        f"{seeds.upper()}/{doc.upper()}", urllib.parse.quote(f"{seeds}/{doc}", safe=""),
        up + f"{seeds.lstrip('/')}/{doc}", f"{index}/manifest.json", f"{index}/{gen}/articles.jsonl.gz",
        f"{REPO}/seeds/{doc}", f"seeds/{doc}", "index/manifest.json", f"{REPO}/index/manifest.json",
        f"{REPO}/app.py", f"http://127.0.0.1:{port}/gradio_api/file={seeds}/{doc}",
        f"http://localhost:{port}/config", "http://169.254.169.254/latest/meta-data/", f"HTTP://127.0.0.1:{port}/",
    ]


REFUSALS = (400, 403, 404, 405, 422)      # 422: FastAPI refusing a path parameter (/pwa_icon/<not a size>)
FILE_ROUTES = ["/gradio_api/file=", "/file=", "/gradio_api/file/", "/file/", "/GRADIO_API/file=", "/gradio_api/FILE=",
               "/static/", "/assets/", "/svelte/", "/gradio_api/static/", "/gradio_api/proxy=", "/proxy=",
               "/pwa_icon/", "/gradio_api/upload/", "/gradio_api/custom_component/x/client/js/"]


@pytest.mark.parametrize("route", FILE_ROUTES)
def test_no_file_is_served_through(route, server, pipeline, secrets):  # noqa: F811
    port = urllib.parse.urlparse(server).port
    bad = []
    for target in _targets(pipeline, port):
        status, body = _get(server, route + target)
        if status not in REFUSALS or _leaks(body, secrets):
            bad.append((route + target, status, body[:120], _leaks(body, secrets)))
    assert bad == []


@pytest.mark.parametrize("path", ["/monitoring", "/monitoring/summary", "/monitoring/0123456789abcdef",
                                  "/gradio_api/monitoring", "/gradio_api/monitoring/summary", "/gradio_api/upload",
                                  "/gradio_api/file=", "/gradio_api/proxy="])
def test_monitoring_and_upload_are_not_open(path, server, secrets):  # noqa: F811
    status, body = _get(server, path)
    assert status in REFUSALS, (status, body[:200])
    assert b"Monitoring URL" not in body and _leaks(body, secrets) == []
    if path.startswith("/monitoring"):              # the route is there, and says it is off
        assert status == 403 and b"Monitoring is not enabled" in body, body


def test_the_mcp_server_offers_only_the_three_tools(server, secrets):  # noqa: F811
    """The MCP endpoint is open on purpose (issue 25): its schema names ask, retrieve and verify
    and nothing of the chat's own events, and serves no article text (tests/test_mcp.py calls them)."""
    status, body = _get(server, "/gradio_api/mcp/schema")
    assert status == 200 and _leaks(body, secrets) == []
    assert sorted(t["name"] for t in json.loads(body)) == ["ask", "retrieve", "verify"]


def test_the_file_route_is_there_and_refuses(server):  # noqa: F811
    """The 403s above come from Gradio's file route refusing, not from a route that is missing."""
    assert _get(server, "/gradio_api/file=/etc/passwd") == (403, b'{"detail":"File not allowed: /etc/passwd."}')


@pytest.mark.parametrize("path", ["/", "/config", "/gradio_api/info", "/gradio_api/openapi.json", "/theme.css",
                                  "/manifest.json", "/robots.txt", "/favicon.ico", "/gradio_api/app_id"])
def test_what_is_served_holds_no_article_text(path, server, secrets):  # noqa: F811
    status, body = _get(server, path)
    assert status == 200 and body
    assert _leaks(body, secrets) == []


def _own_ipv4() -> set[str]:
    """This machine's IPv4 addresses, by interface (Linux SIOCGIFADDR)."""
    found = set()
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
            except OSError:
                continue
            found.add(socket.inet_ntoa(packed[20:24]))
    return found


def test_served_on_loopback_only(server):  # noqa: F811
    shown = subprocess.run([sys.executable, str(REPO / "app.py"), "--help"], capture_output=True, text=True,
                           cwd=REPO, timeout=60)
    assert "default 127.0.0.1" in " ".join(shown.stdout.split())
    port = urllib.parse.urlparse(server).port
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    for addr in sorted(a for a in _own_ipv4() if not a.startswith("127.")):
        with pytest.raises(OSError):
            socket.create_connection((addr, port), timeout=3).close()
