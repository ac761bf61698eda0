"""``python -m xploss.demo``: a short run trains, writes the figure and prints the table; a backend
asked for by name that is missing (or unknown) stops it with a message saying how to install it."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from xploss.demo import plan

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What each training needs, and the name on its progress bar.
TRAININGS = {
    "torch": ("torch",),
    "flax": ("jax", "flax", "optax"),
    "keras": ("tensorflow", "keras"),
}


def run(*args: str, cwd: object = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        timeout=600,
    )


def installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def test_short_run_writes_the_figure_and_prints_the_table(tmp_path):
    trained = [name for name, modules in TRAININGS.items() if installed(*modules)]
    if not trained or not installed("matplotlib"):
        pytest.skip("needs matplotlib and at least one of PyTorch, Flax, Keras")
    out = run(
        "-m", "xploss.demo", "--epochs", "1", "--steps", "2", "--output", "figures", cwd=tmp_path
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for name in trained:
        assert f"{name:<6} epoch 1/1 [####################] 2/2  loss " in out.stdout
    assert "held-out, after training" in out.stdout
    png = tmp_path / "figures" / "xploss-demo.png"
    assert f"figure: {png.relative_to(tmp_path)}" in out.stdout
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert png.stat().st_size > 10_000
    assert "max diff" in out.stdout
    for quantity in ("bce_dice_loss", "generalized_dice_loss", "true_positive_rate"):
        assert quantity in out.stdout


def test_a_missing_backend_asked_for_by_name_exits_with_how_to_install_it():
    # sys.modules[name] = None makes the module look not installed to importlib.
    code = (
        "import sys; sys.modules['torch'] = None; from xploss.demo import main; "
        "sys.exit(main(['--backends', 'numpy,torch']))"
    )
    out = run("-c", code)
    assert out.returncode == 2
    assert "torch (not installed: pip install 'xploss[torch]')" in out.stderr
    assert out.stdout == ""


def test_an_unknown_backend_exits_with_the_choices():
    out = run("-m", "xploss.demo", "--backends", "numpy,caffe")
    assert out.returncode == 2
    assert "unknown backend 'caffe': choose from numpy, array_api_strict, torch" in out.stderr


def test_without_a_request_what_is_missing_is_skipped(monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_strict", None)
    monkeypatch.setitem(sys.modules, "flax", None)
    todo = plan(None, train=True)
    assert todo.problems == []
    assert "array_api_strict" not in todo.table
    assert "jax" not in todo.training
    assert any(s.startswith("array_api_strict (not installed") for s in todo.skipped)
    assert any(s.startswith("jax training (flax not installed") for s in todo.skipped)


def test_a_missing_training_is_an_error_only_when_training(monkeypatch):
    pytest.importorskip("jax")
    monkeypatch.setitem(sys.modules, "flax", None)
    assert "pip install 'xploss[flax]'" in plan(["flax"], train=True).problems[0]
    only_table = plan(["flax"], train=False)
    assert (only_table.table, only_table.training, only_table.problems) == (["jax"], [], [])
