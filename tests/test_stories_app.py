"""The chat's Stories tab in a real chromium, as tests/test_app.py drives the chat: the time axis
draws a coloured point per dated article, the stories are listed, choosing one shows its articles
and cited sentences in date order, and "ask about this story" narrows the chat to its articles
until the user clears it. Skips without chromium, as test_app.py does."""
from __future__ import annotations

import re

import pytest

from test_app import SHOTS, _flat, ask_in_page, browser, page, server  # noqa: F401  (fixtures)

QUERY = "Gazprom"
SCHEDULED = "When was Putin's visit to Pakistan scheduled?"
DOC_ID = re.compile(r"\b\d{3}_[0-9a-f]{16}\b")


def _cited(reply) -> set[str]:
    """The article ids a reply's source cards name."""
    return set(DOC_ID.findall(" ".join(reply.locator(".qa-card").all_inner_texts())))


@pytest.mark.browser
def test_the_stories_view_plots_lists_and_narrows_the_chat(page, pipeline):  # noqa: F811
    expected = pipeline.stories(QUERY)
    assert expected.stories
    story = expected.stories[0]
    ids = set(story.doc_ids)

    page.get_by_role("tab", name="Stories").click()
    page.fill("#qa-stories-query textarea, #qa-stories-query input", QUERY)
    page.click("#qa-stories-find")
    page.wait_for_selector("#qa-stories-list label")
    dated = sum(1 for s in expected.stories for a in s.articles if a.date)
    assert dated >= 1
    points = "#qa-stories-plot svg [aria-roledescription=point]"
    page.wait_for_function(f"document.querySelectorAll('{points}').length == {dated}")
    assert all(p.get_attribute("stroke") for p in page.locator(points).all())     # coloured by outlet
    assert page.locator("#qa-stories-list label").count() == len(expected.stories)
    assert QUERY in page.locator("#qa-stories-summary").inner_text()

    page.locator("#qa-stories-list label").first.click()
    page.wait_for_selector("#qa-story-detail blockquote")
    detail = _flat(page.locator("#qa-story-detail").inner_text())
    assert all(a.doc_id in detail and _flat(a.citation.quote) in detail for a in story.articles)
    shown = [detail.index(a.doc_id) for a in story.articles]
    assert shown == sorted(shown)                                  # in the story's (date) order

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1100})
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "stories.png"), full_page=True)

    page.click("#qa-story-ask")                                    # back in the chat, narrowed
    page.wait_for_selector("#qa-narrowed-text")
    assert "Asking only about" in page.locator("#qa-narrowed").inner_text()
    reply = ask_in_page(page, SCHEDULED)
    cited = _cited(reply)
    assert cited and cited <= ids
    assert "only the articles of story" in _flat(reply.inner_text())

    page.click("#qa-unnarrow")                                     # cleared: every article again
    page.wait_for_selector("#qa-narrowed-text", state="detached")
    reply = ask_in_page(page, SCHEDULED)
    assert _cited(reply) - ids                                     # so the narrowing did keep one out
