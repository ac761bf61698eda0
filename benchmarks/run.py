"""Side-by-side timings of xploss against native code and the anchors, in one process.

Every comparison is a ratio of medians measured in the same run, with the implementations
interleaved repeat by repeat, so machine load affects both sides alike. Run through
``nox -s bench`` (``-- --sizes tiny`` for the smoke test CI runs; ``--only dice``,
``--only entropy``, ``--only structure``, ``--only confusion`` or ``--only many-classes`` for one
family).

The ``dice`` family is the soft Dice loss on probabilities, one Dice per image and class,
averaged (MONAI's default; ``smooth_nr = smooth_dr = 1e-5``). Channels-first for torch,
channels-last for JAX, TensorFlow and NumPy. The ``entropy`` family (``benchmarks/entropy.py``)
is the cross-entropy, the focal loss and Dice + CE on logits, forward + backward; the
``structure`` family (``benchmarks/structure.py``) the Lovász losses against smp and the soft
clDice against MONAI, forward + backward; the ``many-classes`` family
(``benchmarks/many_classes.py``) a 105-class 3-D volume with sparse labels, time and peak memory.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import importlib.util
import json
import pathlib
import platform
import statistics
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from typing import Any

import numpy as np

import xploss

WORKLOADS = {
    "full": {
        "small 2×1×32×32": (2, 1, 32, 32),
        "binary 16×1×256×256": (16, 1, 256, 256),
        "multi-class 16×4×256×256": (16, 4, 256, 256),
        "3D 2×4×96×96×96": (2, 4, 96, 96, 96),
    },
    "tiny": {
        "small 2×1×8×8": (2, 1, 8, 8),
        "multi-class 2×3×16×16": (2, 3, 16, 16),
    },
}
SMOOTH = 1e-5


def make_inputs(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    target = (rng.random(shape) < 0.3).astype(np.float32)
    probs = rng.random(shape).astype(np.float32)
    return target, probs


def measure(fn: Callable[[], Any], *, repeats: int, budget: float) -> Callable[[], float]:
    """A closure timing ``number`` calls of ``fn`` (chosen so one measurement takes ~budget s)."""
    fn()
    fn()  # compile and warm up
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, min(1000, int(budget / once)))

    def timed() -> float:
        gc.disable()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        gc.enable()
        return elapsed / number

    return timed


def interleaved(cases: dict[str, Callable[[], Any]], repeats: int, budget: float) -> dict:
    timers = {name: measure(fn, repeats=repeats, budget=budget) for name, fn in cases.items()}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, timer in timers.items():
            times[name].append(timer())
    return {
        name: {"median": statistics.median(t), "min": min(t), "max": max(t), "times": t}
        for name, t in times.items()
    }


# --------------------------------------------------------------------------- implementations


def torch_cases(shape, compiled: bool, backward: bool) -> dict[str, Callable[[], Any]]:
    import torch

    import xploss.torch as xt

    target_np, probs_np = make_inputs(shape)
    target, probs = torch.from_numpy(target_np), torch.from_numpy(probs_np)
    dims = tuple(range(2, len(shape)))

    def native(p, y):
        intersection = (p * y).sum(dims)
        total = p.sum(dims) + y.sum(dims)
        return 1 - ((2 * intersection + SMOOTH) / (total + SMOOTH)).mean()

    impls: dict[str, Callable] = {"xploss": xt.DiceLoss(), "native": native}
    if importlib.util.find_spec("monai") is not None:
        from monai.losses import DiceLoss

        impls["MONAI DiceLoss"] = DiceLoss()
    smp = load_smp_dice()
    if smp is not None:
        impls["smp DiceLoss (batch Dice)"] = smp(mode="multilabel", from_logits=False)
    if not backward:
        impls["streaming limit"] = lambda p, y: p.sum() + y.sum()
    if compiled:
        torch._dynamo.reset()
        impls = {k: torch.compile(f) for k, f in impls.items()}
    if backward:
        probs.requires_grad_(True)

        def run(f):
            def call():
                f(probs, target).backward()

            return call

        return {k: run(f) for k, f in impls.items()}
    return {k: (lambda f=f: f(probs, target)) for k, f in impls.items()}


def torch_anchor_losses(shape) -> tuple[dict[str, Callable[..., Any]], Any, Any]:
    """Pairs that compute one number: generalized Dice and MONAI's; MONAI's ``DiceCELoss(
    sigmoid=True)``, which on several channels adds the softmax cross-entropy to the sigmoid
    Dice, and the same sum of xploss's two losses; the BCE-Dice and its native form."""
    import torch
    import torch.nn.functional as F
    from monai.losses import DiceCELoss, GeneralizedDiceLoss

    import xploss.torch as xt

    target_np, probs_np = make_inputs(shape)
    target = torch.from_numpy(target_np)
    logits = torch.from_numpy(probs_np * 4 - 2)
    dims = tuple(range(2, len(shape)))
    dice, cross_entropy = xt.DiceLoss(from_logits=True), xt.CrossEntropyLoss(from_logits=True)

    def native_bce_dice(z, y):
        p = torch.sigmoid(z)
        overlap = ((2 * (p * y).sum(dims) + SMOOTH) / (p.sum(dims) + y.sum(dims) + SMOOTH)).mean()
        return F.binary_cross_entropy_with_logits(z, y) + 1 - overlap

    impls = {
        "xploss GeneralizedDiceLoss": xt.GeneralizedDiceLoss(from_logits=True),
        "MONAI GeneralizedDiceLoss": GeneralizedDiceLoss(sigmoid=True),
        "xploss Dice + CE": lambda z, y: dice(z, y) + cross_entropy(z, y),
        "MONAI DiceCELoss": DiceCELoss(sigmoid=True),
        "xploss BCEDiceLoss": xt.BCEDiceLoss(from_logits=True, log_dice=False),
        "native BCE-Dice": native_bce_dice,
    }
    return impls, logits, target


def torch_anchor_cases(shape) -> dict[str, Callable[[], Any]]:
    """``torch_anchor_losses``, eager forward + backward."""
    impls, logits, target = torch_anchor_losses(shape)
    logits.requires_grad_(True)

    def run(f):
        def call():
            f(logits, target).backward()

        return call

    return {k: run(f) for k, f in impls.items()}


def torch_variant_cases(shape, *, sparse: bool, dtype: str) -> dict[str, Callable[[], Any]]:
    """Eager forward + backward with class-index targets (``sparse``) or bfloat16 inputs."""
    import torch

    import xploss.torch as xt

    target_np, probs_np = make_inputs(shape)
    probs = torch.from_numpy(probs_np).to(getattr(torch, dtype)).requires_grad_(True)
    labels = torch.from_numpy(target_np.argmax(1))
    target = torch.from_numpy(target_np).to(probs.dtype)
    classes, dims = shape[1], tuple(range(2, len(shape)))

    def native(p, y):
        if sparse:
            y = torch.nn.functional.one_hot(y, classes).movedim(-1, 1).to(p.dtype)
        intersection = (p * y).sum(dims)
        total = p.sum(dims) + y.sum(dims)
        return 1 - ((2 * intersection + SMOOTH) / (total + SMOOTH)).mean()

    impls: dict[str, Callable] = {"xploss": xt.DiceLoss(), "native": native}
    if importlib.util.find_spec("monai") is not None:
        from monai.losses import DiceLoss

        if sparse:
            monai = DiceLoss(to_onehot_y=True)
            impls["MONAI DiceLoss"] = lambda p, y: monai(p, y[:, None])
        else:
            impls["MONAI DiceLoss"] = DiceLoss()
    y = labels if sparse else target

    def run(f):
        def call():
            f(probs, y).backward()

        return call

    return {k: run(f) for k, f in impls.items()}


def jax_sparse_cases(shape) -> dict[str, Callable[[], Any]]:
    """Jitted forward + backward with class-index targets."""
    import jax
    import jax.numpy as jnp

    channels_last = (0, *range(2, len(shape)), 1)
    target_np, probs_np = make_inputs(shape)
    labels = jnp.asarray(target_np.argmax(1))
    probs = jnp.asarray(np.transpose(probs_np, channels_last))
    dims = tuple(range(1, len(shape) - 1))

    def native(y, p):
        onehot = jax.nn.one_hot(y, shape[1], dtype=p.dtype)
        intersection = jnp.sum(p * onehot, axis=dims)
        total = jnp.sum(p, axis=dims) + jnp.sum(onehot, axis=dims)
        return 1 - jnp.mean((2 * intersection + SMOOTH) / (total + SMOOTH))

    impls = {"xploss": lambda y, p: xploss.dice_loss(y, p, axis=dims), "native": native}
    compiled = {k: jax.jit(jax.grad(f, argnums=1)) for k, f in impls.items()}
    return {k: (lambda f=f: jax.block_until_ready(f(labels, probs))) for k, f in compiled.items()}


def load_smp_dice() -> Any:
    """segmentation_models_pytorch's DiceLoss without its package __init__, which imports
    torchvision (not installable beside the pinned CPU torch)."""
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    losses = pathlib.Path(spec.submodule_search_locations[0]) / "losses"
    package = types.ModuleType("_smp_losses")
    package.__path__ = [str(losses)]
    sys.modules.setdefault("_smp_losses", package)
    return importlib.import_module("_smp_losses.dice").DiceLoss


def jax_cases(shape, compiled: bool, backward: bool) -> dict[str, Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    channels_last = (0, *range(2, len(shape)), 1)
    target_np, probs_np = (np.transpose(a, channels_last) for a in make_inputs(shape))
    target, probs = jnp.asarray(target_np), jnp.asarray(probs_np)
    dims = tuple(range(1, len(shape) - 1))

    def native(y, p):
        intersection = jnp.sum(p * y, axis=dims)
        total = jnp.sum(p, axis=dims) + jnp.sum(y, axis=dims)
        return 1 - jnp.mean((2 * intersection + SMOOTH) / (total + SMOOTH))

    def ours(y, p):
        return xploss.dice_loss(y, p, axis=dims)

    impls: dict[str, Callable] = {"xploss": ours, "native": native}
    if importlib.util.find_spec("optax") is not None and shape[1] > 1:
        import optax

        logits = jnp.log(probs)  # softmax(log p) renormalises p: optax needs logits

        def optax_loss(y, p):
            return jnp.mean(optax.losses.dice_loss(logits + 0 * p, y, smooth=SMOOTH / 2))

        def ours_softmax(y, p):
            return xploss.dice_loss(y, logits + 0 * p, axis=dims, from_logits="softmax")

        impls["optax dice_loss (softmax)"] = optax_loss
        impls["xploss (softmax, as optax)"] = ours_softmax
    if not backward:
        impls["streaming limit"] = lambda y, p: jnp.sum(y) + jnp.sum(p)
    if backward:
        impls = {k: jax.grad(f, argnums=1) for k, f in impls.items()}
    if compiled:
        impls = {k: jax.jit(f) for k, f in impls.items()}
    return {k: (lambda f=f: jax.block_until_ready(f(target, probs))) for k, f in impls.items()}


def tf_cases(shape, compiled: bool, backward: bool) -> dict[str, Callable[[], Any]]:
    import keras
    import tensorflow as tf

    channels_last = (0, *range(2, len(shape)), 1)
    target_np, probs_np = (np.transpose(a, channels_last) for a in make_inputs(shape))
    target, probs = tf.constant(target_np), tf.constant(probs_np)
    dims = list(range(1, len(shape) - 1))

    def native(y, p):
        intersection = tf.reduce_sum(p * y, axis=dims)
        total = tf.reduce_sum(p, axis=dims) + tf.reduce_sum(y, axis=dims)
        return 1 - tf.reduce_mean((2 * intersection + SMOOTH) / (total + SMOOTH))

    keras_dice = keras.losses.Dice(axis=tuple(dims))
    impls: dict[str, Callable] = {
        "xploss": lambda y, p: xploss.dice_loss(y, p, axis=tuple(dims)),
        "native": native,
        "Keras Dice": lambda y, p: keras_dice(y, p),
    }
    if not backward:
        impls["streaming limit"] = lambda y, p: tf.reduce_sum(y) + tf.reduce_sum(p)
    if backward:

        def gradient(f):
            def g(y, p):
                with tf.GradientTape() as tape:
                    tape.watch(p)
                    value = f(y, p)
                return tape.gradient(value, p)

            return g

        impls = {k: gradient(f) for k, f in impls.items()}
    if compiled:
        impls = {k: tf.function(f, jit_compile=True) for k, f in impls.items()}
    return {k: (lambda f=f: f(target, probs)) for k, f in impls.items()}


def numpy_cases(shape) -> dict[str, Callable[[], Any]]:
    target, probs = make_inputs(shape)
    dims = tuple(range(2, len(shape)))

    def native(y, p):
        intersection = np.sum(p * y, axis=dims)
        total = np.sum(p, axis=dims) + np.sum(y, axis=dims)
        return 1 - np.mean((2 * intersection + SMOOTH) / (total + SMOOTH))

    impls = {
        "xploss": lambda y, p: xploss.dice_loss(y, p, axis=dims),
        "native": native,
        "streaming limit": lambda y, p: np.sum(y) + np.sum(p),
    }
    return {k: (lambda f=f: f(target, probs)) for k, f in impls.items()}


def numpy_peak_memory(shape) -> dict[str, float]:
    """Peak bytes allocated during one forward pass, in input sizes (``y_pred.nbytes``)."""
    cases = numpy_cases(shape)
    nbytes = make_inputs(shape)[1].nbytes
    peaks = {}
    for name, fn in cases.items():
        fn()
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peaks[name] = peak / nbytes
    return peaks


def torch_peak_memory(shape) -> dict[str, float]:
    """Peak bytes allocated during one eager forward pass, in input sizes, from the profiler's
    allocation records (PyTorch has no peak counter on the CPU): the running sum of every
    event's own allocations and frees, in the order the events started."""
    cases = torch_cases(shape, compiled=False, backward=False)
    cases.pop("streaming limit", None)
    nbytes = make_inputs(shape)[1].nbytes
    return {name: torch_peak_bytes(fn) / nbytes for name, fn in cases.items()}


def torch_peak_bytes(fn: Callable[[], Any]) -> int:
    """The peak of the running sum of every profiled event's own allocations and frees, in the
    order the events started, over one call of ``fn`` (after one to warm up)."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    current = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        current += event.self_cpu_memory_usage
        peak = max(peak, current)
    return peak


# --------------------------------------------------------------------------- driver


def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


FAMILIES = ("dice", "entropy", "structure", "confusion", "many-classes")


def run(sizes: str, repeats: int, budget: float, families: tuple[str, ...] = FAMILIES) -> dict:
    results: dict[str, Any] = {"machine": machine(), "groups": []}

    def record(framework, mode, pass_, workload, shape, cases):
        timings = interleaved(cases, repeats, budget)
        results["groups"].append(
            {
                "framework": framework,
                "mode": mode,
                "pass": pass_,
                "workload": workload,
                "elements": int(np.prod(shape)),
                "timings": timings,
            }
        )
        print(
            f"{framework:10} {mode:9} {pass_:12} {workload:26}",
            *(f"{k}={v['median'] * 1e3:.3f}ms" for k, v in timings.items()),
            flush=True,
        )

    for workload, shape in WORKLOADS[sizes].items():
        if "dice" in families:
            dice_groups(record, workload, shape)
        if "entropy" in families and shape[1] > 1:
            from benchmarks import entropy

            for framework, mode, loss, cases in entropy.groups(shape):
                record(framework, mode, "fwd+bwd", f"{workload} {loss}", shape, cases())
        if "structure" in families and shape[1] > 1:
            from benchmarks import structure

            for framework, mode, loss, cases in structure.groups(shape):
                record(framework, mode, "fwd+bwd", f"{workload} {loss}", shape, cases())
        if "confusion" in families and shape[1] > 1:
            from benchmarks import confusion

            for framework, mode, name, cases in confusion.groups(shape):
                record(framework, mode, "update", f"{workload} {name}", shape, cases())
    if "many-classes" in families:
        from benchmarks import many_classes

        for framework, mode, workload, shape, cases in many_classes.groups(sizes):
            record(framework, mode, "fwd+bwd", workload, shape, cases())
        results["many_classes_peak_memory"] = many_classes.memory(sizes)
    if "dice" in families:
        memory_shape = list(WORKLOADS[sizes].values())[-1]
        results["numpy_peak_memory"] = {"shape": memory_shape, **numpy_peak_memory(memory_shape)}
        if available("torch"):
            peaks = torch_peak_memory(memory_shape)
            results["torch_peak_memory"] = {"shape": memory_shape, **peaks}
    return results


def dice_groups(record: Callable[..., None], workload: str, shape: tuple[int, ...]) -> None:
    """The soft Dice groups of one workload: every framework, mode and pass, the anchors."""
    record("numpy", "eager", "forward", workload, shape, numpy_cases(shape))
    if available("torch"):
        for compiled in (False, True):
            for backward in (False, True):
                mode = "compiled" if compiled else "eager"
                pass_ = "fwd+bwd" if backward else "forward"
                record(
                    "torch",
                    mode,
                    pass_,
                    workload,
                    shape,
                    torch_cases(shape, compiled, backward),
                )
        if available("monai") and shape[1] > 1:
            record(
                "torch",
                "eager",
                "fwd+bwd",
                workload + " (GD, Dice+CE)",
                shape,
                torch_anchor_cases(shape),
            )
        sparse = shape[1] > 1
        record(
            "torch",
            "eager",
            "fwd+bwd",
            workload + (" sparse labels" if sparse else " bfloat16"),
            shape,
            torch_variant_cases(shape, sparse=sparse, dtype="float32" if sparse else "bfloat16"),
        )
    if available("jax"):
        for compiled in (False, True):
            for backward in (False, True):
                record(
                    "jax",
                    "jit" if compiled else "eager",
                    "fwd+bwd" if backward else "forward",
                    workload,
                    shape,
                    jax_cases(shape, compiled, backward),
                )
        if shape[1] > 1:
            record(
                "jax",
                "jit",
                "fwd+bwd",
                workload + " sparse labels",
                shape,
                jax_sparse_cases(shape),
            )
    if available("tensorflow") and available("keras"):
        for compiled in (False, True):
            for backward in (False, True):
                record(
                    "tensorflow",
                    "xla" if compiled else "eager",
                    "fwd+bwd" if backward else "forward",
                    workload,
                    shape,
                    tf_cases(shape, compiled, backward),
                )


def machine() -> dict[str, Any]:
    import os

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "xploss": xploss.__version__,
    }
    for module in ("torch", "jax", "tensorflow", "keras", "monai", "optax"):
        if available(module):
            versions[module] = getattr(importlib.import_module(module), "__version__", "?")
    if available("segmentation_models_pytorch"):
        versions["segmentation_models_pytorch"] = importlib.metadata.version(
            "segmentation-models-pytorch"
        )
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", choices=list(WORKLOADS), default="full")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.05, help="seconds per measurement")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results"))
    parser.add_argument("--only", choices=FAMILIES, help="one family of losses (default: all)")
    args = parser.parse_args(argv)
    families = FAMILIES if args.only is None else (args.only,)
    results = run(args.sizes, args.repeats, args.budget, families)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    from benchmarks import report

    report.write(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
