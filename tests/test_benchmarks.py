"""The benchmark still runs (tiny sizes, one repeat): a smoke test, with no timing assertion; and
the implementations a group times side by side compute the same loss."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

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
    losses = ("cross-entropy", "focal", "Dice+CE")
    entropy = {
        (g["framework"], g["mode"], g["workload"].rsplit(" ", 1)[1]): g
        for g in results["groups"]
        if g["workload"].endswith(losses)
    }
    for loss in losses:
        for key in (("torch", "eager"), ("torch", "compiled"), ("jax", "jit")):
            assert {"xploss", "native"} <= set(entropy[(*key, loss)]["timings"]), (key, loss)
    assert "MONAI FocalLoss" in entropy[("torch", "eager", "focal")]["timings"]
    assert "MONAI DiceCELoss" in entropy[("torch", "eager", "Dice+CE")]["timings"]
    assert "optax sigmoid_focal_loss" in entropy[("jax", "jit", "focal")]["timings"]
    optax_ce = "optax softmax_cross_entropy_with_integer_labels"
    assert optax_ce in entropy[("jax", "jit", "cross-entropy")]["timings"]
    assert f"| {optax_ce}: " in (tmp_path / "table.md").read_text()  # a ratio, not a blank
    suffixes = tuple(f"{loss} bfloat16" for loss in losses)
    bfloat16 = {g["workload"].split(" ", 2)[-1]: set(g["timings"]) for g in results["groups"]
                if g["workload"].endswith(suffixes)}  # fmt: skip
    assert bfloat16["Dice+CE bfloat16"] == {"xploss", "native", "MONAI DiceCELoss"}
    assert {"xploss", "native", "MONAI FocalLoss"} <= bfloat16["focal bfloat16"]
    structure = {
        (g["mode"], g["workload"].split(" ", 2)[-1]): set(g["timings"])
        for g in results["groups"]
        if g["workload"].endswith(("Lovász-softmax", "Lovász hinge", "clDice"))
    }
    assert structure[("compiled", "Lovász-softmax")] == {"xploss", "smp LovaszLoss"}
    assert structure[("eager", "clDice")] == {"xploss", "MONAI SoftclDiceLoss"}
    confusion = {(g["framework"], g["mode"]): set(g["timings"]) for g in results["groups"]
                 if g["workload"].endswith("confusion update")}  # fmt: skip
    assert confusion[("torch", "eager")] == {
        "xploss", "native", "TorchMetrics MulticlassStatScores", "MONAI ConfusionMatrixMetric"
    }  # fmt: skip
    assert confusion[("jax", "jit")] == {"xploss", "native"}
    many = {(g["framework"], g["mode"]): set(g["timings"]) for g in results["groups"]
            if g["workload"].startswith("many classes")}  # fmt: skip
    assert many == {("torch", "eager"): {"xploss", "native", "MONAI DiceLoss"},
                    ("jax", "jit"): {"xploss", "native"}}  # fmt: skip
    memory = results["many_classes_peak_memory"]
    assert {"xploss", "native"} <= set(memory["numpy"]) and "MONAI DiceLoss" in memory["torch"]
    assert (
        "Many classes, torch eager forward + backward, peak memory"
        in (tmp_path / "table.md").read_text()
    )


def test_causes_smoke_run_writes_every_probe(tmp_path):
    command = [sys.executable, "-m", "benchmarks.causes", "--sizes", "tiny", "--repeats", "1"]
    command += ["--budget", "0.001", "--out", str(tmp_path)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    text = (tmp_path / "causes.md").read_text()
    for title in ("NumPy: the reductions", "PyTorch eager: sigmoid BCE", "JAX jit, channels-last"):
        assert title in text
    assert "| xploss.binary_cross_entropy |" in text


ANCHORS = {
    ("torch", "focal"): ("MONAI FocalLoss",),
    ("torch", "Dice+CE"): ("MONAI DiceCELoss",),
    ("jax", "cross-entropy"): ("optax softmax_cross_entropy_with_integer_labels",),
    ("jax", "focal"): ("optax sigmoid_focal_loss",),
}


@pytest.mark.parametrize("framework", ["torch", "jax"])
@pytest.mark.parametrize("loss", ["cross-entropy", "focal", "Dice+CE"])
def test_the_implementations_of_an_entropy_group_compute_the_same_loss(framework, loss):
    """What the ratios compare is one number: xploss, the native code, MONAI, optax alike."""
    from benchmarks import entropy

    build = entropy.torch_losses if framework == "torch" else entropy.jax_losses
    impls, logits, target = build((2, 3, 16, 16), loss)
    values = {name: float(f(logits, target)) for name, f in impls.items()}
    assert {"xploss", "native", *ANCHORS.get((framework, loss), ())} <= set(values)
    assert values["xploss"] > 0.1
    # float32 inputs; MONAI casts to float32 too
    np.testing.assert_allclose(list(values.values()), values["xploss"], rtol=2e-6, err_msg=values)


@pytest.mark.parametrize(
    ("loss", "peer"),
    [
        ("Lovász-softmax", "smp LovaszLoss"),
        ("Lovász hinge", "smp LovaszLoss"),
        ("clDice", "MONAI SoftclDiceLoss"),
    ],
)
def test_the_implementations_of_a_structure_group_compute_the_same_loss(loss, peer):
    from benchmarks import structure

    impls, prediction, target = structure.torch_losses((2, 3, 16, 16), loss)
    values = {name: float(f(prediction, target)) for name, f in impls.items()}
    assert set(values) == {"xploss", peer}
    assert values["xploss"] > 0.1
    # float32 inputs: smp's Lovász sums in float32 whatever the input
    np.testing.assert_allclose(values[peer], values["xploss"], rtol=2e-6, err_msg=values)


def test_the_implementations_of_the_many_class_group_compute_the_same_loss():
    import torch

    from benchmarks import many_classes

    shape = many_classes.WORKLOADS["tiny"]
    probabilities, labels = (torch.from_numpy(a) for a in many_classes.inputs(shape))
    impls = many_classes.torch_losses(shape)
    values = {name: float(f(probabilities, labels)) for name, f in impls.items()}
    assert set(values) == {"xploss", "native", "MONAI DiceLoss"}
    assert values["xploss"] > 0.1
    np.testing.assert_allclose(list(values.values()), values["xploss"], rtol=2e-6, err_msg=values)


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_the_implementations_of_the_confusion_group_count_the_same(framework):
    from benchmarks import confusion

    build = confusion.torch_counts if framework == "torch" else confusion.jax_counts
    impls, logits, labels = build((2, 3, 16, 16))
    counts = {name: np.asarray(f(logits, labels), np.float64) for name, f in impls.items()}
    assert len(counts) == (4 if framework == "torch" else 2)
    native = counts.pop("native")
    assert native.shape == (4, 3) and native.sum() == 3 * 2 * 16 * 16  # each pixel, each class
    assert np.all(native[0] > 0) and np.all(native[1] > 0)  # a real mix of hits and misses
    for name, got in counts.items():
        np.testing.assert_array_equal(got, native, err_msg=name)


def test_the_pairs_of_the_monai_anchor_group_compute_the_same_loss():
    from benchmarks import run

    impls, logits, target = run.torch_anchor_losses((2, 3, 16, 16))
    values = {name: float(f(logits, target)) for name, f in impls.items()}
    assert len(values) == 6 and min(values.values()) > 0.1
    pairs = [
        ("xploss GeneralizedDiceLoss", "MONAI GeneralizedDiceLoss"),
        ("xploss Dice + CE", "MONAI DiceCELoss"),
        ("xploss BCEDiceLoss", "native BCE-Dice"),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(values[ours], values[theirs], rtol=2e-6, err_msg=values)
