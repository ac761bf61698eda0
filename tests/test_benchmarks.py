"""The benchmark still runs (tiny sizes, one repeat): a smoke test, with no timing assertion."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def test_benchmark_smoke_run_writes_results_table_and_plot(tmp_path):
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--sizes",
        "tiny",
        "--repeats",
        "1",
        "--budget",
        "0.001",
        "--out",
        str(tmp_path),
    ]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    results = json.loads((tmp_path / "results.json").read_text())
    frameworks = {g["framework"] for g in results["groups"]}
    assert {"numpy", "torch", "jax", "tensorflow"} <= frameworks
    assert all("xploss" in "".join(g["timings"]) for g in results["groups"])
    assert "| torch | eager | fwd+bwd |" in (tmp_path / "table.md").read_text()
    assert (tmp_path / "ratios.png").stat().st_size > 1000
    assert "PyTorch eager forward, peak memory" in (tmp_path / "table.md").read_text()


def test_causes_smoke_run_writes_every_probe(tmp_path):
    command = [sys.executable, "-m", "benchmarks.causes", "--sizes", "tiny", "--repeats", "1"]
    command += ["--budget", "0.001", "--out", str(tmp_path)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    text = (tmp_path / "causes.md").read_text()
    for title in ("NumPy: the reductions", "PyTorch eager: sigmoid BCE", "JAX jit, channels-last"):
        assert title in text
    assert "| xploss.binary_cross_entropy |" in text
