"""Every relative link of README.md, CONTRIBUTING.md and docs/*.md points to a file of the
repository (and, for a link to a Markdown heading, to a heading that exists), and every Markdown
file the text names is one of them."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
MARKDOWN_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code spans."""
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"`[^`\n]*`", "", text)


def links(page: pathlib.Path) -> list[str]:
    text = prose(page.read_text())
    return LINK.findall(text) + REFERENCE.findall(text)


def is_relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", prose(page.read_text()), re.MULTILINE):
        base, n = slug(heading), 0
        name = base
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def test_the_pages_exist():
    assert (ROOT / "docs" / "formulas.md") in PAGES
    assert all(page.is_file() for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    checked = 0
    for target in links(page):
        if not is_relative(target):
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        assert destination.exists(), f"{page.name}: {target} does not exist"
        assert ROOT in destination.parents or destination == ROOT, f"{target} leaves the repo"
        if anchor and destination.suffix == ".md":
            assert anchor in anchors(destination), f"{page.name}: no heading #{anchor}"
        checked += 1
    if page.name == "README.md":
        assert checked >= 5


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_markdown_file_the_text_names_exists(page):
    for name in MARKDOWN_NAME.findall(prose(page.read_text())):
        candidates = [page.parent / name, ROOT / name]
        assert any(c.is_file() for c in candidates), f"{page.name} names {name}, not in the repo"


def test_the_helpers_read_links_anchors_and_code():
    text = "[a](x.md#b) ![i](img.png) [c](https://e.org) `[d](no.md)`\n```\n[e](no.md)\n```\n"
    page = ROOT / "README.md"
    assert LINK.findall(prose(text)) == ["x.md#b", "img.png", "https://e.org"]
    assert slug("The `functional` API") == "the-functional-api"
    assert slug("Compared with MONAI, Keras 3") == "compared-with-monai-keras-3"
    assert "the-functional-api" in anchors(page)
