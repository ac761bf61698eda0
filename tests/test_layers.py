"""The layer rules of CONTRIBUTING.md, read from the import statements of every source file: the
core imports no framework and no adapter, adapters never import each other, only the namespace
layer knows TensorFlow and JAX, and no file in src/ is over 300 lines."""

from __future__ import annotations

import ast
import pathlib

import pytest

import xploss

PACKAGE = pathlib.Path(xploss.__file__).parent
FRAMEWORKS = {"torch", "jax", "jaxlib", "flax", "optax", "tensorflow", "keras"}
ADAPTERS = {"torch", "keras", "jax", "tensorflow"}
SOURCES = sorted(PACKAGE.rglob("*.py"))


def imported_modules(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_of(path: pathlib.Path) -> str:
    """``core``, ``demo`` or the adapter's framework."""
    relative = path.relative_to(PACKAGE)
    top = relative.parts[0].removesuffix(".py")
    if top in ADAPTERS:
        return top
    return "demo" if top == "demo" else "core"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_rules(path):
    layer = layer_of(path)
    imports = imported_modules(path)
    roots = {name.split(".")[0] for name in imports}
    own = {name.split(".")[1] for name in imports if name.startswith("xploss.")}
    if layer == "core":
        namespaces = {"_tf_namespace.py": {"tensorflow", "numpy"}, "_jax_namespace.py": {"jax"}}
        allowed = namespaces.get(path.name, set())
        assert not (roots & FRAMEWORKS) - allowed, f"{path.name} imports {roots & FRAMEWORKS}"
        assert not own & ADAPTERS, f"{path.name} imports the adapter(s) {own & ADAPTERS}"
    elif layer != "demo":
        others = ADAPTERS - {layer}
        assert not own & others, f"{path.name} ({layer} adapter) imports {own & others}"
        allowed = {layer, "flax", "jaxlib"} if layer == "jax" else {layer}
        foreign = (roots & FRAMEWORKS) - allowed
        assert not foreign, f"{path.name} ({layer} adapter) imports {foreign}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_source_file_is_over_300_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 300, f"{path.relative_to(PACKAGE)} has {lines} lines"


def test_the_scan_sees_the_layers():
    layers = {layer_of(p) for p in SOURCES}
    assert {"core", "torch", "keras", "jax", "tensorflow", "demo"} <= layers
    assert "array_api_compat" in imported_modules(PACKAGE / "_namespace.py")
