"""Many classes in 3-D: a TotalSegmentator-sized label count on a CPU-sized volume.

TotalSegmentator segments about 105 classes in ``1×105×128×128×128`` volumes; here the same 105
classes on a 64³ volume (27.5M elements, 110 MB of float32 probabilities), with sparse integer
labels ``(B, D, H, W)``. Every implementation is the soft Dice loss of softmax probabilities, one
Dice per image and class, averaged: xploss (class indices as they are), the native loss (which
one-hot encodes with ``F.one_hot``/``jax.nn.one_hot``, as hand-written code does) and MONAI's
``DiceLoss(to_onehot_y=True)``. Times are forward + backward, interleaved in one process as in
``run.py``; peak memory is measured over one forward + backward (PyTorch, from the profiler's
allocation records) or one forward (NumPy, ``tracemalloc``), in input sizes.
"""

from __future__ import annotations

import importlib.util
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import xploss
from benchmarks.run import SMOOTH, available, torch_peak_bytes

WORKLOADS = {"full": (1, 105, 64, 64, 64), "tiny": (1, 12, 8, 8, 8)}


def inputs(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities ``(B, C, *spatial)`` (float32) and int64 labels ``(B, *spatial)``."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=shape).astype(np.float32)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    return probabilities, rng.integers(0, shape[1], (shape[0], *shape[2:]))


def torch_losses(shape: tuple[int, ...]) -> dict[str, Callable[[Any, Any], Any]]:
    import torch
    import torch.nn.functional as F

    import xploss.torch as xt

    classes, dims = shape[1], tuple(range(2, len(shape)))

    def native(p: Any, labels: Any) -> Any:
        y = F.one_hot(labels, classes).movedim(-1, 1).to(p.dtype)
        intersection = (p * y).sum(dims)
        total = p.sum(dims) + y.sum(dims)
        return 1 - ((2 * intersection + SMOOTH) / (total + SMOOTH)).mean()

    impls: dict[str, Callable[[Any, Any], Any]] = {"xploss": xt.DiceLoss(), "native": native}
    if importlib.util.find_spec("monai") is not None:
        from monai.losses import DiceLoss

        monai = DiceLoss(to_onehot_y=True)
        impls["MONAI DiceLoss"] = lambda p, labels: monai(p, labels[:, None])
    del torch
    return impls


def torch_cases(shape: tuple[int, ...]) -> dict[str, Callable[[], Any]]:
    import torch

    probabilities, labels = (torch.from_numpy(a) for a in inputs(shape))
    probabilities.requires_grad_(True)

    def run(f: Callable[[Any, Any], Any]) -> Callable[[], Any]:
        def call() -> None:
            f(probabilities, labels).backward()

        return call

    return {k: run(f) for k, f in torch_losses(shape).items()}


def jax_cases(shape: tuple[int, ...]) -> dict[str, Callable[[], Any]]:
    """Jitted forward + backward, channels-last."""
    import jax
    import jax.numpy as jnp

    probabilities_np, labels_np = inputs(shape)
    probabilities = jnp.asarray(np.moveaxis(probabilities_np, 1, -1))
    labels = jnp.asarray(labels_np)
    dims = tuple(range(1, len(shape) - 1))

    def native(y: Any, p: Any) -> Any:
        onehot = jax.nn.one_hot(y, shape[1], dtype=p.dtype)
        intersection = jnp.sum(p * onehot, axis=dims)
        total = jnp.sum(p, axis=dims) + jnp.sum(onehot, axis=dims)
        return 1 - jnp.mean((2 * intersection + SMOOTH) / (total + SMOOTH))

    def ours(y: Any, p: Any) -> Any:
        return xploss.dice_loss(y, p, axis=dims)

    impls = {"xploss": ours, "native": native}
    compiled = {k: jax.jit(jax.grad(f, argnums=1)) for k, f in impls.items()}
    return {
        k: (lambda f=f: jax.block_until_ready(f(labels, probabilities)))
        for k, f in compiled.items()
    }


def groups(sizes: str) -> list[tuple[str, str, str, tuple[int, ...], Callable[[], dict]]]:
    """``(framework, mode, workload, shape, cases)`` of each group, built lazily."""
    shape = WORKLOADS[sizes]
    workload = f"many classes {'×'.join(map(str, shape))} sparse labels"
    found: list[tuple[str, str, str, tuple[int, ...], Callable[[], dict]]] = []
    if available("torch"):
        found.append(("torch", "eager", workload, shape, lambda: torch_cases(shape)))
    if available("jax"):
        found.append(("jax", "jit", workload, shape, lambda: jax_cases(shape)))
    return found


def torch_peak_memory(shape: tuple[int, ...]) -> dict[str, float]:
    """Peak bytes allocated during one eager forward + backward, in input sizes."""
    nbytes = inputs(shape)[0].nbytes
    return {name: torch_peak_bytes(fn) / nbytes for name, fn in torch_cases(shape).items()}


def numpy_peak_memory(shape: tuple[int, ...]) -> dict[str, float]:
    """Peak bytes allocated during one forward pass, in input sizes."""
    probabilities, labels = inputs(shape)
    classes, dims = shape[1], tuple(range(2, len(shape)))

    def native() -> Any:
        y = np.moveaxis(np.eye(classes, dtype=probabilities.dtype)[labels], -1, 1)
        intersection = np.sum(probabilities * y, axis=dims)
        total = np.sum(probabilities, axis=dims) + np.sum(y, axis=dims)
        return 1 - np.mean((2 * intersection + SMOOTH) / (total + SMOOTH))

    def ours() -> Any:
        return xploss.dice_loss(labels, probabilities, axis=dims, class_axis=1)

    peaks = {}
    for name, fn in {"xploss": ours, "native": native}.items():
        fn()
        tracemalloc.start()
        fn()
        peaks[name] = tracemalloc.get_traced_memory()[1] / probabilities.nbytes
        tracemalloc.stop()
    return peaks


def memory(sizes: str) -> dict[str, dict[str, Any]]:
    shape = WORKLOADS[sizes]
    found: dict[str, dict[str, Any]] = {"numpy": {"shape": shape, **numpy_peak_memory(shape)}}
    if available("torch"):
        found["torch"] = {"shape": shape, **torch_peak_memory(shape)}
    return found
