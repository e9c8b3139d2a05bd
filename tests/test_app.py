"""The chat, end to end: app.py served in a subprocess on a free port, driven through a real
chromium (Playwright) and through gradio_client; plus the HTML it writes, checked in-process.

The server reuses the session's temp seeds and index (QA_SEEDS / QA_INDEX), so it only
loads them. Without /usr/bin/chromium (or $QA_CHROMIUM) the browser tests skip, unless
QA_REQUIRE_BROWSER=1 (CI), where they fail.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

import qa
from qa.chat import markup as ui
from qa.ingest.formats import read_sources
from test_formats import MOSCOW

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("QA_CHROMIUM") or "/usr/bin/chromium"     # Debian's; QA_CHROMIUM for another
# The README's screenshot is refreshed only on request (QA_UPDATE_SCREENSHOT=1); other runs keep
# theirs in tests/artifacts/ (git-ignored), so running the tests leaves the work tree clean.
SHOTS = REPO / "docs" if os.environ.get("QA_UPDATE_SCREENSHOT") == "1" else REPO / "tests" / "artifacts"
SCREENSHOT, CARD_SHOT = SHOTS / "screenshot.png", SHOTS / "source-card.png"
PUTIN = "Why was Putin's visit cancelled?"
FOLLOW_UP = "And what did Gazprom want?"
TITLES = ["Pakistani soldiers", "Changes in region push Pakistan and Russia together"]     # its two reasons
XSS = "<img src=x onerror=alert(1)>"
KAZAN = ("Helicopter makers look to Pakistan\n\nOctober 5, 2012\n\nKAZAN - Managers at the helicopter factories in "
         "Kazan and Ulan-Ude expect orders from Pakistan after the army chief's visit, they said on Friday.\n\n"
         "No contract has been signed, and the factories' order books are full until 2015.\n")
KAZAN_QUESTION = "Which helicopter factories expect orders from Pakistan?"
READY_SECONDS = 240          # a cold start loads the model; a missing index would be built


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def server(pipeline, tmp_path_factory):
    """app.py in a subprocess over the session's seeds and index; yields its URL; always killed."""
    for url, _ in serve_app(pipeline.seeds_dir, pipeline.index_dir, tmp_path_factory):
        yield url


@pytest.fixture(scope="module")
def own_server(pipeline, tmp_path_factory):
    """app.py over a copy of the seeds and of their index, for tests that add articles."""
    root = tmp_path_factory.mktemp("own")
    shutil.copytree(pipeline.seeds_dir, root / "articles")
    shutil.copytree(pipeline.index_dir, root / "index")
    for url, _ in serve_app(root / "articles", root / "index", tmp_path_factory):
        yield SimpleNamespace(url=url, seeds_dir=root / "articles", index_dir=root / "index")


def serve_app(seeds_dir, index_dir, tmp_path_factory, *extra):
    """app.py (with `extra` arguments) in a subprocess on a free loopback port over these seeds and
    index; yields (URL, process) once it answers; always stopped by its PID, and its log must hold
    no traceback. The chat's and the MCP tests' server."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    env = dict(os.environ, QA_SEEDS=str(seeds_dir), QA_INDEX=str(index_dir),
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    env.pop("QA_PORT", None)
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--port", str(port), *extra], cwd=REPO,
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py not ready after {READY_SECONDS}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("QA_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not os.access(CHROMIUM, os.X_OK):
        why = f"the browser tests need the playwright package and {CHROMIUM} (apt install chromium)"
        pytest.fail(why) if required else pytest.skip(why)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser, server):
    yield from _page(browser, server)


def _page(browser, url):
    pg = browser.new_page(viewport={"width": 1280, "height": 1000})
    pg.set_default_timeout(30_000)
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(url)
    pg.wait_for_selector("#qa-question textarea")
    yield pg
    pg.close()


def ask_in_page(pg, question: str):
    """Type `question`, press Ask, and return the new reply (an answer or an error message)."""
    replies = pg.locator("#qa-chat .qa-reply, #qa-chat .qa-error")
    n = replies.count()
    pg.fill("#qa-question textarea", question)
    pg.click("#qa-ask")
    pg.wait_for_function(f"document.querySelectorAll('#qa-chat .qa-reply, #qa-chat .qa-error').length > {n}")
    return replies.nth(n)


@pytest.mark.browser
def test_chat_answers_with_sources_in_a_browser(page, pipeline):
    expected = pipeline.ask(PUTIN)
    reply = ask_in_page(page, PUTIN)
    text = _flat(reply.inner_text())
    for c in expected.citations:                          # the answer, quote by quote
        assert _flat(c.quote) in text
    assert "[1]" in text and "sources" in text.lower()
    for title in TITLES:                                  # the cited articles
        assert title in text
    marks = reply.locator("mark")
    assert marks.count() == len(expected.citations) >= 2
    assert _flat(marks.first.inner_text()) == _flat(expected.citations[0].quote)
    spans = reply.locator(".qa-card mark .qa-answer")                    # the exact answer, inside its quote
    assert spans.count() == sum(c.answer_text is not None for c in expected.citations) >= 1
    assert _flat(spans.first.inner_text()) == _flat(expected.citations[0].answer_text)
    lead = reply.locator("p .qa-answer").first                           # and in the answer's own lines
    assert _flat(lead.inner_text()) == _flat(expected.citations[0].answer_text)
    assert lead.evaluate("e => getComputedStyle(e).fontWeight") == "700"
    assert "000_d7d3e32efbec5146" in text or "001_c309b08081cb848a" in text
    assert "checked against the article files" in text

    with page.expect_download() as download:             # the export is the schema `qa check` verifies
        page.click("#qa-download-json")
    exported = qa.Answer.from_dict(json.loads(Path(download.value.path()).read_text(encoding="utf-8")))
    assert exported.citations == expected.citations and pipeline.verify(exported) == []
    with page.expect_download() as download:
        page.click("#qa-download-md")
    assert download.value.suggested_filename.endswith(".md")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)  # the README's picture: question, answer, sources
    page.set_viewport_size({"width": 1280, "height": 1200})
    page.wait_for_timeout(500)
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement.blur(); document.querySelector('#qa-chat .bubble-wrap').scrollTop = 0")
    page.wait_for_timeout(500)
    bottom = page.locator("#qa-ask").bounding_box()
    page.screenshot(path=str(SCREENSHOT), clip={"x": 0, "y": 0, "width": 1280,
                                                "height": bottom["y"] + bottom["height"] + 24})

    reply = ask_in_page(page, FOLLOW_UP)                  # the follow-up shows what it searched
    searched = qa.resolve_followup(FOLLOW_UP, [(expected.searched, expected.text)])
    assert searched != FOLLOW_UP and "Putin" in searched
    line = _flat(reply.locator(".qa-searched").inner_text())
    assert line.startswith("Follow-up searched as") and _flat(searched) in line
    assert "Gazprom" in _flat(reply.inner_text())


@pytest.mark.browser
def test_example_questions_are_one_click(page):
    page.locator("#qa-chat button.example").first.click()          # the cards of the empty chat
    page.wait_for_selector("#qa-chat .qa-reply")
    assert PUTIN in page.locator("#qa-chat .qa-user").first.inner_text()
    replies = page.locator("#qa-chat .qa-reply")
    page.locator("#qa-examples").get_by_text("Who is Ruslan Pukhov?").click()   # the list beside the chat
    page.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length > 1")
    assert "Pukhov" in replies.nth(1).inner_text()
    page.click("#qa-new")                                            # a new conversation starts empty
    page.wait_for_function("document.querySelectorAll('#qa-chat .qa-reply').length == 0")
    reply = ask_in_page(page, "When did he arrive in Moscow?")      # ... with no earlier turn to lean on
    assert reply.locator(".qa-searched").inner_text().startswith("Searched for")


@pytest.mark.browser
def test_html_in_a_question_shows_as_text(page):
    reply = ask_in_page(page, XSS)
    assert page.locator("#qa-chat img").count() == 0      # nothing injected
    assert XSS in page.locator("#qa-chat .qa-user").last.inner_text()
    assert "Not in these articles" in reply.inner_text() or reply.locator("mark").count()
    assert page.dialogs == []


@pytest.mark.browser
def test_a_right_to_left_override_stays_inside_its_text_in_a_browser(page):
    reply = ask_in_page(page, "Who is \u202eakluhS\u202c Prabhat?")
    isolated = page.locator("#qa-chat .qa-user bdi")            # Gradio's sanitiser keeps <bdi>
    assert isolated.count() == 1 and "\u202e" in isolated.first.inner_text()
    assert page.evaluate("getComputedStyle(document.querySelector('#qa-chat .qa-user bdi')).unicodeBidi") \
        == "isolate"
    assert reply.count() == 1 and "Traceback" not in page.content()


@pytest.mark.browser
def test_bad_input_gets_a_clear_message_in_a_browser(page):
    page.click("#qa-ask")                                # empty
    page.wait_for_selector("#qa-chat .qa-error")
    assert "question is empty" in page.locator("#qa-chat .qa-error").last.inner_text()
    reply = ask_in_page(page, "x" * 99_999 + "?")         # a 100 KB paste
    assert "100,000 characters" in reply.inner_text() and "at most 1,000" in reply.inner_text()
    assert "(100,000 characters in all)" in page.locator("#qa-chat .qa-user").last.inner_text()
    assert "Traceback" not in page.content()


@pytest.mark.browser
def test_a_date_phrase_is_a_filter_the_user_can_remove_in_a_browser(page, pipeline):
    question = "What did Pakistan say in October 2012?"
    button = page.locator("#qa-undate")
    assert not button.is_visible()
    reply = ask_in_page(page, question)
    dates = reply.locator(".qa-dates-on")
    assert "articles from 2012-10-01 to 2012-10-31 (read from “in October 2012”)" in dates.inner_text()
    assert reply.locator(".qa-searched").inner_text().startswith("Searched for")     # not a follow-up
    assert reply.locator(".qa-searched q").inner_text() == "What did Pakistan say?"
    cards = reply.locator(".qa-card")
    assert cards.count() >= 1 and all("2012-10-08" in cards.nth(i).inner_text() for i in range(cards.count()))
    page.wait_for_selector("#qa-undate", state="visible")
    assert "articles from 2012-10-01 to 2012-10-31" in button.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "date-filter.png"))             # for the eye: tests/artifacts/

    n = page.locator("#qa-chat .qa-reply").count()
    button.click()                                        # asked again, the phrase searched as words
    page.wait_for_function(f"document.querySelectorAll('#qa-chat .qa-reply').length > {n}")
    again = page.locator("#qa-chat .qa-reply").nth(n)
    assert again.locator(".qa-dates").count() == 0 and again.locator(".qa-searched q").inner_text() == question
    expected = pipeline.ask(question, dates_in_question=False)
    text = _flat(again.inner_text())
    assert all(_flat(c.quote) in text for c in expected.citations)
    page.wait_for_selector("#qa-undate", state="hidden")

    reply = ask_in_page(page, "Which Pakistani air force chief went to Moscow in August?")   # nothing from August
    assert "no articles published from 2012-08-01 to 2012-08-31" in reply.locator(".qa-dates").inner_text()
    assert reply.locator(".qa-dates-on").count() == 0 and not button.is_visible()


@pytest.mark.browser
def test_an_uploaded_page_is_answered_from_with_its_date_and_outlet(browser, own_server):
    pg = next(_page(browser, own_server.url))
    try:
        heading = re.search(r"from (\d+) news articles \((\d+) files", pg.locator("body").inner_text())
        count, files_before = int(heading.group(1)), int(heading.group(2))
        files = pg.locator("#qa-upload input[type=file], input[type=file]").first
        files.set_input_files([
            {"name": "Kayani in Moscow.html", "mimeType": "text/html", "buffer": MOSCOW.encode()},
            {"name": "../../x.html", "mimeType": "text/html", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(300)},
        ])
        pg.wait_for_selector("#qa-chat .qa-notice", timeout=120_000)
        notice = _flat(pg.locator("#qa-chat .qa-notice").last.inner_text())
        assert notice.startswith("Adding 1 new article: indexing in the background.") and \
            "Pakistan army chief in Moscow" in notice, notice
        assert "refused: x.html: this is a PNG image" in notice, notice
        pg.wait_for_function("document.querySelector('#qa-adding').innerText.includes('Added 1 article')",
                             timeout=120_000)                    # the line under the button says when it is in
        status = _flat(pg.locator("#qa-adding").inner_text())
        assert "Pakistan army chief in Moscow after Putin snub (moscowwire.net · 2012-10-03" in status, status
        stored = sorted(p.name for p in (own_server.seeds_dir / "uploads").iterdir())
        assert len(stored) == 1 and stored[0].startswith("up-") and stored[0].endswith(".html")
        assert not (own_server.seeds_dir.parent / "x.html").exists() and not Path("/x.html").exists()
        assert f"{count + 1} news articles ({files_before + 1} files" in pg.locator("body").inner_text()
        notices = pg.locator("#qa-chat .qa-notice")
        files.set_input_files([{"name": "again.html", "mimeType": "text/html", "buffer": MOSCOW.encode()}])
        pg.wait_for_function("document.querySelectorAll('#qa-chat .qa-notice').length > 1", timeout=120_000)
        again = _flat(notices.last.inner_text())
        assert again.startswith("No new article added.") and "already added before" in again, again

        reply = ask_in_page(pg, "What did officials say the talks in Moscow would cover?")
        card = reply.locator(".qa-card", has_text=stored[0][:-5]).first
        text = _flat(card.inner_text())
        page_meta = read_sources(own_server.seeds_dir / "uploads" / stored[0], 5_000_000)[0][0]
        assert page_meta.outlet == "moscowwire.net" and page_meta.date == "2012-10-03"
        assert f"{page_meta.outlet} · {page_meta.date}" in text and "counter-terrorism" in text, text
        assert "checked against the article files: every citation holds" in reply.inner_text()
        CARD_SHOT.parent.mkdir(parents=True, exist_ok=True)
        card.screenshot(path=str(CARD_SHOT))

        pg.get_by_text("Dates and outlets").click()                                  # the date filter
        pg.locator("#qa-since input, #qa-since textarea").first.fill("2013-01-01")
        reply = ask_in_page(pg, "What did officials say the talks in Moscow would cover?")
        assert "only articles since 2013-01-01" in reply.inner_text()
        assert "Not in these articles" in reply.inner_text() and reply.locator("mark").count() == 0
        pg.locator("#qa-since input, #qa-since textarea").first.fill("last week")
        reply = ask_in_page(pg, "What did officials say the talks in Moscow would cover?")
        assert _flat(reply.inner_text()) == ("The date or outlet filter cannot be used. Since must be a date such as "
                                             "2012-10-01 (YYYY-MM-DD), not 'last week'")
        assert pg.dialogs == [] and "Traceback" not in pg.content()
    finally:
        pg.close()


def test_a_file_dropped_into_the_folder_is_answered_without_a_restart(own_server):
    from gradio_client import Client
    question = KAZAN_QUESTION
    (own_server.seeds_dir / "kazan.txt").write_text(KAZAN, encoding="utf-8")
    time.sleep(2.1)                                       # the folder is looked at at most every 2 s
    client = Client(own_server.url, verbose=False)
    data = json.loads(client.predict(question, api_name="/ask"))
    assert data["citations"][0]["doc_id"] == "kazan" and "Ulan-Ude" in data["citations"][0]["quote"], data
    assert data["citations"][0]["date"] == "2012-10-05"


def test_a_reply_says_when_the_folder_changed(pipeline, tmp_path):
    from qa.chat.app import responder
    shutil.copytree(pipeline.seeds_dir, tmp_path / "articles")
    shutil.copytree(pipeline.index_dir, tmp_path / "index")
    p = qa.Pipeline(tmp_path / "articles", tmp_path / "index")
    respond = responder(p, str(tmp_path))
    chat = respond(PUTIN, [], [], "hybrid", 8)[0]
    assert "qa-notice" not in chat[-1]["content"]
    (tmp_path / "articles" / "kazan.txt").write_text(KAZAN, encoding="utf-8")
    time.sleep(2.1)                                       # the folder is looked at at most every 2 s
    chat, box, turns, *_ = respond(KAZAN_QUESTION, chat, [], "hybrid", 8)
    reply = chat[-1]["content"]
    assert "The articles folder changed (added: kazan.txt); the index was updated before answering." in reply
    assert "kazan" in reply and "Ulan-Ude" in reply and "every citation holds" in reply


def test_api_answer_verifies(server, pipeline):
    from gradio_client import Client
    client = Client(server, verbose=False)
    data = json.loads(client.predict(PUTIN, api_name="/ask"))
    answer = qa.Answer.from_dict(data)
    assert data["schema"] == "qa.answer/4" and not answer.abstained
    assert pipeline.verify(answer) == []
    assert {c.title for c in answer.citations} == set(TITLES)
    assert [c.to_dict() for c in answer.citations] == [c.to_dict() for c in pipeline.ask(PUTIN).citations]

    data = json.loads(client.predict("When did he arrive in Moscow?", "bm25", 5, ["Who is Kayani?"], api_name="/ask"))
    assert data["searched"] == "When did Kayani arrive in Moscow?" and data["mode"] == "bm25"
    assert pipeline.verify(qa.Answer.from_dict(data)) == []


@pytest.mark.parametrize("args, message", [
    (("",), "question is empty"),
    (("x" * 100_000,), "at most 1,000"),
    (("Who is Kayani?", "fuzzy"), "unknown retrieval mode"),
    (("Who is Kayani?", "hybrid", 0), "from 1 to 20"),
])
def test_api_refuses_bad_input_with_a_message(server, args, message):
    from gradio_client import Client
    with pytest.raises(Exception, match=message):
        Client(server, verbose=False).predict(*args, api_name="/ask")


# ---- the HTML and the exports, in-process -------------------------------------------------------

def test_reply_html_escapes_article_and_user_text(pipeline):
    answer = pipeline.ask(PUTIN)
    c = answer.citations[0]
    hostile = qa.Citation(doc_id=c.doc_id, title="<script>alert(1)</script>", start=c.start, end=c.end,
                          quote=c.quote)
    html = ui.answer_html(qa.Answer(question=XSS, text=f"{XSS} [1]", citations=(hostile,), abstained=False,
                                    searched=XSS), problems=[])
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in ui.user_html(XSS) and "<b>" not in ui.error_html("<b>bold</b>")


def test_reply_html_shows_every_source(pipeline):
    answer = pipeline.ask(PUTIN)
    index = pipeline.index
    html = ui.answer_html(answer, lambda d: index.articles[d].text, pipeline.verify(answer), 8)
    assert answer.citations[0].answer_text
    for i, c in enumerate(answer.citations, 1):
        if c.answer_text:                                   # the answer span highlighted inside its quote
            a, b = c.answer_start - c.start, c.answer_end - c.start
            shown = (f"{ui.esc(ui.for_display(c.quote[:a]))}<span class=\"qa-answer\">"
                     f"{ui.esc(ui.for_display(c.quote[a:b]))}</span>{ui.esc(ui.for_display(c.quote[b:]))}")
        else:
            shown = ui.esc(ui.for_display(c.quote))
        assert f"<mark>{shown}</mark>" in html
        assert f"characters {c.start:,}–{c.end:,}" in html and f'[{i}]</span>' in html
        for loc in c.also_in:
            assert f"<code>{loc.doc_id}</code>" in html
    assert html.count('class="qa-card"') == len(answer.citations)
    for note in answer.notes:
        assert ui.esc(note.split(":")[0]) in html


def test_quote_context_is_the_article_text_around_it(pipeline):
    answer = pipeline.ask(PUTIN)
    text_of = {d: a.text for d, a in pipeline.index.articles.items()}
    for c in answer.citations:
        for passages in (answer.passages, ()):            # from the passage that holds it, or the article
            before, quote, after = ui.context(c, passages, text_of.get)
            assert quote == c.quote
            assert text_of[c.doc_id][:c.start].endswith(before.lstrip("…"))
            assert text_of[c.doc_id][c.end:].startswith(after)


def test_abstention_shows_not_in_these_articles_and_nearest_passages(pipeline):
    answer = pipeline.ask("What is the capital of France?")
    assert answer.abstained
    html = ui.answer_html(answer)
    assert "Not in these articles" in html and "Nearest passages" in html
    assert html.count('class="qa-card"') == len(answer.passages) > 0


def test_exports_are_the_checked_schema_and_markdown(pipeline, tmp_path):
    answer = pipeline.ask(PUTIN)
    js, md = ui.export_files(answer, tmp_path)
    data = json.loads(Path(js).read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(answer.to_dict())) and pipeline.verify(qa.Answer.from_dict(data)) == []
    assert Path(js).name == "qa-why-was-putin-s-visit-cancelled.json"
    markdown = Path(md).read_text(encoding="utf-8")
    assert all(c.quote.split("\n")[0] in markdown for c in answer.citations)
    assert all(f"the answer: “{' '.join(c.answer_text.split())}” (characters {c.answer_start}–{c.answer_end})"
               in markdown for c in answer.citations if c.answer_text) and answer.citations[0].answer_text
    out = subprocess.run([sys.executable, "-m", "qa", "check", js, "--seeds", str(pipeline.seeds_dir),
                          "--index", str(pipeline.index_dir)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stdout + out.stderr
