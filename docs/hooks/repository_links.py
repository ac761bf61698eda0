"""MkDocs hook: links from a page to a repository file outside ``docs/``.

The pages are also read on GitHub, where ``../tests/test_gradients.py`` and ``../README.md``
resolve. The site has no copy of those files: a link to a README section becomes a link to the
page that holds that content, and a link to any other repository file becomes its path as code.
A target that is not in the repository fails the build.
"""

from __future__ import annotations

import logging
import pathlib
import posixpath
import re

log = logging.getLogger("mkdocs.hooks.repository_links")

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)

# README sections and the site pages that hold their content.
README_SECTIONS = {
    "": "index.md",
    "the-functional-api": "options.md",
    "semantics": "options.md",
    "errors": "options.md",
    "confusion-matrix-metrics": "metrics/confusion.md",
    "more-segmentation-losses": "losses/structure.md",
    "compared-with-monai-keras-3-segmentation_models_pytorch-torchmetrics-and-optax": (
        "semantics.md"
    ),
    "distributed-training": "distributed.md",
    "from-the-keras-snippets": "migration/keras-snippets.md",
    "quick-start": "index.md",
}


def _rewrite(text: str, page_uri: str, docs: pathlib.Path) -> str:
    def replace(match: re.Match[str]) -> str:
        label, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target, re.IGNORECASE):
            return match.group(0)
        path, _, anchor = target.partition("#")
        source = (docs / page_uri).parent
        destination = (source / path).resolve()
        if docs in destination.parents:
            return match.group(0)
        if ROOT not in destination.parents or not destination.exists():
            log.warning("%s links to %s, which is not in the repository", page_uri, target)
            return match.group(0)
        relative = destination.relative_to(ROOT).as_posix()
        if relative == "README.md" and anchor in README_SECTIONS:
            site_page = README_SECTIONS[anchor]
            here = posixpath.dirname(page_uri)
            return f"[{label}]({posixpath.relpath(site_page, here or '.')})"
        if label.strip("`") == relative:
            return f"`{relative}`"
        return f"{label} (`{relative}`)"

    parts = []
    last = 0
    for fence in FENCE.finditer(text):
        parts.append(LINK.sub(replace, text[last : fence.start()]))
        parts.append(fence.group(0))
        last = fence.end()
    parts.append(LINK.sub(replace, text[last:]))
    return "".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    docs = pathlib.Path(config["docs_dir"]).resolve()
    return _rewrite(markdown, page.file.src_uri, docs)
