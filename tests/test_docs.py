"""The README is a front door: short, every page under docs/ reachable from it, every link resolving."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
PAGES = sorted((REPO / "docs").glob("*.md"))


def links(path: Path) -> list[str]:
    """The relative targets of the Markdown links and images in `path` (no URLs, no pure anchors)."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_the_readme_is_at_most_250_lines():
    n = len((REPO / "README.md").read_text(encoding="utf-8").splitlines())
    assert n <= 250, f"README.md has {n} lines: move details to a page under docs/"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(REPO / t.split("#")[0]).resolve() for t in links(REPO / "README.md")}
    assert PAGES and [p.name for p in PAGES if p.resolve() not in linked] == []


@pytest.mark.parametrize("page", [REPO / "README.md", *PAGES], ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    missing = [t for t in links(page) if not (page.parent / t.split("#")[0]).exists()]
    assert missing == [], f"{page.name} links to missing files: {missing}"


def test_the_link_checker_sees_links_and_misses(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("[a](here.md) ![b](img.png#x) [c](https://example.org) [d](#top)\n"
                    "```\n[e](in-code.md)\n```\n", encoding="utf-8")
    (tmp_path / "here.md").write_text("", encoding="utf-8")
    assert links(page) == ["here.md", "img.png#x"]
    assert [t for t in links(page) if not (page.parent / t.split("#")[0]).exists()] == ["img.png#x"]


def test_the_readme_uses_the_console_script_and_shows_the_mcp_configuration():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "python -m qa ask" not in text and "qa ask" in text
    assert '"url": "http://127.0.0.1:7860/gradio_api/mcp/"' in text
