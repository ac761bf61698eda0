"""Every fenced ```python block of every Markdown page under ``docs/`` runs.

A page's blocks run in order, as one program, in a fresh Python process (``sys.executable``, a
temporary working directory, a timeout): a later block sees the names of the earlier ones. Each
block is compiled under the page's name with its own line numbers, so a failure names the page,
the block's first line and the traceback's lines in the page. A page whose path contains
``keras`` runs with ``KERAS_BACKEND`` set, once per backend of ``keras_backends``. Other fences
(```text, ```bash, ```) are not run. The pages run two at a time, the longest first.

segmentation_models_pytorch is installed without its dependencies (its ``__init__`` imports the
encoders, which need timm and torchvision): a page that names it gets the package without its
``__init__``, so that ``from segmentation_models_pytorch.losses import DiceLoss`` loads smp's own
losses.
"""

from __future__ import annotations

import ast
import concurrent.futures
import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# the getting-started pages and migration guides: each must prove what it says in code
GUIDES = (
    "getting-started/pytorch.md",
    "getting-started/jax.md",
    "getting-started/keras.md",
    "migration/monai.md",
    "migration/smp.md",
    "migration/torchmetrics.md",
    "migration/keras.md",
    "migration/optax.md",
    "migration/keras-snippets.md",
)
# Keras pages run on TensorFlow, and the Keras getting-started page on JAX too: each run costs its
# imports, 5 to 10 s on 2 cores. XPLOSS_DOCS_KERAS_BACKENDS=tensorflow,jax runs every Keras page
# on both.
KERAS_BACKENDS = tuple(os.environ.get("XPLOSS_DOCS_KERAS_BACKENDS", "tensorflow").split(","))
ON_EVERY_BACKEND = {"getting-started/keras.md": ("tensorflow", "jax")}
TIMEOUT_S = 180
PY = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """``(line, language, code)`` of each fenced block; ``line`` is the 1-based line of the
    block's first line of code. A block's indentation (inside a list item) is removed."""
    blocks = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        language = (opening["info"].split() or [""])[0].strip("{}.").lower()
        body, j = [], i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if closing and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        blocks.append((i + 2, language, "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def python_blocks(path: pathlib.Path) -> list[tuple[int, str]]:
    return [(line, code) for line, lang, code in code_blocks(path.read_text()) if lang in PY]


def pages() -> list[pathlib.Path]:
    return sorted(DOCS.rglob("*.md"))


def keras_backends(name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*KERAS_BACKENDS, *ON_EVERY_BACKEND.get(name, ()))))


def runs() -> list[tuple[str, str | None]]:
    """``(page, Keras backend or None)`` of every page with a python block."""
    found = []
    for path in pages():
        if not python_blocks(path):
            continue
        name = path.relative_to(DOCS).as_posix()
        backends = keras_backends(name) if "keras" in name else (None,)
        found.extend((name, backend) for backend in backends)
    return found


# Run in the page's process: the blocks, each compiled under the page's name with its lines.
RUNNER = r"""
import importlib.util, json, linecache, sys, traceback, types

page, text, blocks = json.load(open(sys.argv[1]))
linecache.cache[page] = (len(text), None, text.splitlines(True), page)
if any("segmentation_models_pytorch" in code for _, code in blocks):
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is not None:
        package = types.ModuleType("segmentation_models_pytorch")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["segmentation_models_pytorch"] = package
namespace = {"__name__": "__main__"}
for line, code in blocks:
    try:
        exec(compile("\n" * (line - 1) + code, page, "exec"), namespace)
    except BaseException:
        sys.stderr.write(f"{page}: the block starting at line {line} failed\n")
        traceback.print_exc()
        sys.exit(1)
"""


def run_page(
    name: str, backend: str | None, workdir: pathlib.Path
) -> subprocess.CompletedProcess[str]:
    path = DOCS / name
    program = workdir / "run_page.py"
    program.write_text(RUNNER)
    data = workdir / "page.json"
    data.write_text(json.dumps([f"docs/{name}", path.read_text(), python_blocks(path)]))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    try:
        return subprocess.run(
            [sys.executable, str(program), str(data)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        return subprocess.CompletedProcess(error.cmd, -1, "", f"timed out after {TIMEOUT_S} s")


RUNS = runs()
# what a page's process spends most of its time on: importing the frameworks it names
IMPORT_COST = {"keras": 4, "monai": 3, "torchmetrics": 3, "flax": 3, "optax": 3, "torch": 1}


def cost(run: tuple[str, str | None]) -> int:
    """An estimate of a run's time, to start the longest runs first."""
    code = "".join(code for _, code in python_blocks(DOCS / run[0]))
    return sum(
        weight
        for name, weight in IMPORT_COST.items()
        if f"import {name}" in code or f"from {name}" in code
    )


def missing(run: tuple[str, str | None]) -> list[str]:
    """The modules a run imports (and its Keras backend) that are not installed."""
    names = {run[1]} - {None}
    for _, code in python_blocks(DOCS / run[0]):
        try:
            tree = ast.parse(code)
        except SyntaxError:  # the run reports it, with its line
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return sorted(name for name in names if importlib.util.find_spec(name) is None)


@pytest.fixture(scope="module")
def page_results(request, tmp_path_factory):
    """The runs of the selected tests, started together, two processes at a time."""
    selected = [
        item.callspec.params["run"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_page_code_runs"
        and hasattr(item, "callspec")
    ]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    futures = {
        run: pool.submit(run_page, *run, tmp_path_factory.mktemp("docs-page"))
        for run in sorted(dict.fromkeys(selected), key=cost, reverse=True)
        if not missing(run)
    }
    yield futures
    pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("run", RUNS, ids=[f"{n}[{b}]" if b else n for n, b in RUNS])
def test_page_code_runs(run, page_results):
    name, backend = run
    if absent := missing(run):
        if os.environ.get("XPLOSS_REQUIRE_ALL_BACKENDS"):
            pytest.fail(f"docs/{name} imports {absent}, which are not installed")
        pytest.skip(f"docs/{name} imports {absent}, which are not installed")
    result = page_results[run].result()
    where = f"docs/{name}" + (f" (KERAS_BACKEND={backend})" if backend else "")
    assert result.returncode == 0, f"{where} failed:\n{result.stderr[-6000:]}"


def nav_guides() -> set[str]:
    """The getting-started and migration pages that mkdocs.yml's nav lists (if it exists)."""
    config = ROOT / "mkdocs.yml"
    if not config.exists():
        return set()
    return set(re.findall(r"((?:getting-started|migration)/[\w.-]+\.md)", config.read_text()))


@pytest.mark.parametrize("name", sorted(set(GUIDES) | nav_guides()))
def test_every_guide_proves_itself_in_code(name):
    path = DOCS / name
    assert path.exists(), f"docs/{name} is missing"
    assert python_blocks(path), f"docs/{name} has no python block"


def test_code_blocks_are_found_with_their_lines():
    text = (
        "# t\n\n```python\nx = 1\n```\n\n- item\n\n    ```py\n    y = x\n    ```\n```text\nz\n```\n"
    )
    assert code_blocks(text) == [
        (4, "python", "x = 1\n"),
        (10, "py", "y = x\n"),
        (13, "text", "z\n"),
    ]
