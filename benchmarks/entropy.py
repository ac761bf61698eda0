"""Cross-entropy, focal and Dice + CE against native code, MONAI, torchvision and optax.

Each group times one loss, forward + backward, on the logits of a multi-class workload, the
implementations interleaved in one process as in ``run.py``. PyTorch (eager and
``torch.compile``): ``F.cross_entropy``; torchvision's ``sigmoid_focal_loss`` formula written in
torch (and torchvision's own function where torchvision imports); a hand-written softmax Dice + CE;
MONAI's ``FocalLoss`` and ``DiceCELoss``. JAX (``jax.jit``): the same formulas in ``jax.numpy``,
and optax's ``softmax_cross_entropy_with_integer_labels`` and ``sigmoid_focal_loss``. Every
implementation of a group computes the same number (``tests/test_benchmarks.py`` checks it).

The cross-entropy and the Dice + CE take class indices ``(B, *spatial)``; the focal loss, a
sigmoid focal loss with torchvision's defaults (``alpha = 0.25``, ``gamma = 2``), takes the
one-hot target, as torchvision and optax do.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

import xploss
from benchmarks.run import SMOOTH, available, make_inputs

LOSSES = ("cross-entropy", "focal", "Dice+CE")
ALPHA, GAMMA = 0.25, 2.0

Loss = Callable[[Any, Any], Any]


def logits_and_labels(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Float32 logits ``(B, C, *spatial)`` in [-2, 2] and int64 class indices ``(B, *spatial)``."""
    target, probs = make_inputs(shape)
    return probs * 4 - 2, target.argmax(1)


def load_torchvision_focal() -> Callable[..., Any] | None:
    """torchvision's ``sigmoid_focal_loss``, where torchvision imports (a build for another torch
    fails on import: then the formula written in torch stands alone)."""
    if not available("torchvision"):
        return None
    try:
        from torchvision.ops import sigmoid_focal_loss
    except Exception:
        return None
    return sigmoid_focal_loss  # type: ignore[no-any-return]


def torch_losses(shape: tuple[int, ...], loss: str) -> tuple[dict[str, Loss], Any, Any]:
    """``(implementations, logits, target)``: each implementation is ``f(logits, target)``."""
    import torch
    import torch.nn.functional as F

    import xploss.torch as xt

    logits_np, labels_np = logits_and_labels(shape)
    logits, labels = torch.from_numpy(logits_np), torch.from_numpy(labels_np)
    classes, dims = shape[1], tuple(range(2, len(shape)))
    monai = importlib.import_module("monai.losses") if available("monai") else None
    impls: dict[str, Loss]

    if loss == "cross-entropy":
        impls = {"xploss": xt.CrossEntropyLoss(from_logits=True), "native": F.cross_entropy}
        return impls, logits, labels

    if loss == "focal":
        onehot = F.one_hot(labels, classes).movedim(-1, 1).to(logits.dtype)

        def native_focal(x: Any, y: Any) -> Any:  # torchvision's formula, reduction="mean"
            p = torch.sigmoid(x)
            ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
            p_t = p * y + (1 - p) * (1 - y)
            alpha_t = ALPHA * y + (1 - ALPHA) * (1 - y)
            return (alpha_t * ce * (1 - p_t) ** GAMMA).mean()

        impls = {"xploss": xt.FocalLoss(from_logits=True, alpha=ALPHA, gamma=GAMMA)}
        impls["native"] = native_focal
        torchvision_focal = load_torchvision_focal()
        if torchvision_focal is not None:
            impls["torchvision sigmoid_focal_loss"] = lambda x, y: torchvision_focal(
                x, y, alpha=ALPHA, gamma=GAMMA, reduction="mean"
            )
        if monai is not None:
            impls["MONAI FocalLoss"] = monai.FocalLoss(gamma=GAMMA, alpha=ALPHA)
        return impls, logits, onehot

    def native_dice_ce(x: Any, y: Any) -> Any:
        p = torch.softmax(x, 1)
        onehot = F.one_hot(y, classes).movedim(-1, 1).to(p.dtype)
        intersection = (p * onehot).sum(dims)
        total = p.sum(dims) + onehot.sum(dims)
        dice = 1 - ((2 * intersection + SMOOTH) / (total + SMOOTH)).mean()
        return dice + F.cross_entropy(x, y)

    impls = {"xploss": xt.DiceCELoss(from_logits="softmax"), "native": native_dice_ce}
    if monai is not None:
        monai_dice_ce = monai.DiceCELoss(softmax=True, to_onehot_y=True)
        impls["MONAI DiceCELoss"] = lambda x, y: monai_dice_ce(x, y[:, None])
    return impls, logits, labels


def jax_losses(shape: tuple[int, ...], loss: str) -> tuple[dict[str, Loss], Any, Any]:
    """``(implementations, logits, target)``, channels-last: each is ``f(logits, target)``."""
    import jax
    import jax.numpy as jnp

    channels_last = (0, *range(2, len(shape)), 1)
    logits_np, labels_np = logits_and_labels(shape)
    logits = jnp.asarray(np.transpose(logits_np, channels_last))
    labels = jnp.asarray(labels_np)
    classes, dims = shape[1], tuple(range(1, len(shape) - 1))
    optax = importlib.import_module("optax") if available("optax") else None
    impls: dict[str, Loss]

    def native_ce(z: Any, y: Any) -> Any:
        log_q = jax.nn.log_softmax(z, axis=-1)
        return -jnp.mean(jnp.take_along_axis(log_q, y[..., None], axis=-1))

    if loss == "cross-entropy":
        impls = {
            "xploss": lambda z, y: xploss.cross_entropy(y, z, from_logits=True),
            "native": native_ce,
        }
        if optax is not None:
            integer_labels = optax.losses.softmax_cross_entropy_with_integer_labels
            impls["optax softmax_cross_entropy_with_integer_labels"] = lambda z, y: jnp.mean(
                integer_labels(z, y)
            )
        return impls, logits, labels

    if loss == "focal":
        onehot = jax.nn.one_hot(labels, classes, dtype=logits.dtype)

        def native_focal(z: Any, y: Any) -> Any:
            p = jax.nn.sigmoid(z)
            ce = jnp.logaddexp(0.0, z) - z * y
            p_t = p * y + (1 - p) * (1 - y)
            alpha_t = ALPHA * y + (1 - ALPHA) * (1 - y)
            return jnp.mean(alpha_t * ce * (1 - p_t) ** GAMMA)

        impls = {
            "xploss": lambda z, y: xploss.focal_loss(
                y, z, from_logits=True, alpha=ALPHA, gamma=GAMMA
            ),
            "native": native_focal,
        }
        if optax is not None:
            focal = optax.losses.sigmoid_focal_loss
            impls["optax sigmoid_focal_loss"] = lambda z, y: jnp.mean(
                focal(z, y, alpha=ALPHA, gamma=GAMMA)
            )
        return impls, logits, onehot

    def native_dice_ce(z: Any, y: Any) -> Any:
        q = jax.nn.softmax(z, axis=-1)
        onehot = jax.nn.one_hot(y, classes, dtype=q.dtype)
        intersection = jnp.sum(q * onehot, axis=dims)
        total = jnp.sum(q, axis=dims) + jnp.sum(onehot, axis=dims)
        dice = 1 - jnp.mean((2 * intersection + SMOOTH) / (total + SMOOTH))
        return dice + native_ce(z, y)

    impls = {
        "xploss": lambda z, y: xploss.dice_ce_loss(y, z, axis=dims, from_logits="softmax"),
        "native": native_dice_ce,
    }
    return impls, logits, labels


def torch_cases(
    shape: tuple[int, ...], loss: str, compiled: bool, dtype: str = "float32"
) -> dict[str, Callable[[], Any]]:
    """Forward + backward of each implementation, eager or ``torch.compile``d, on logits of
    ``dtype`` (the focal loss's one-hot target too)."""
    import torch

    impls, logits, target = torch_losses(shape, loss)
    if compiled:
        torch._dynamo.reset()
        impls = {k: torch.compile(f) for k, f in impls.items()}
    logits = logits.to(getattr(torch, dtype)).requires_grad_(True)
    if target.is_floating_point():
        target = target.to(logits.dtype)

    def run(f: Loss) -> Callable[[], Any]:
        def call() -> None:
            f(logits, target).backward()

        return call

    return {k: run(f) for k, f in impls.items()}


def jax_cases(shape: tuple[int, ...], loss: str) -> dict[str, Callable[[], Any]]:
    """The jitted gradient of each implementation with respect to the logits."""
    import jax

    impls, logits, target = jax_losses(shape, loss)
    compiled = {k: jax.jit(jax.grad(f)) for k, f in impls.items()}
    return {k: (lambda f=f: jax.block_until_ready(f(logits, target))) for k, f in compiled.items()}


def groups(shape: tuple[int, ...]) -> list[tuple[str, str, str, Callable[[], dict]]]:
    """``(framework, mode, loss, cases)`` of every group of one workload, built lazily."""
    found: list[tuple[str, str, str, Callable[[], dict]]] = []
    for loss in LOSSES:
        if available("torch"):
            for compiled in (False, True):
                mode = "compiled" if compiled else "eager"
                found.append(
                    ("torch", mode, loss, lambda c=compiled, n=loss: torch_cases(shape, n, c))
                )
            bfloat16 = lambda n=loss: torch_cases(shape, n, False, "bfloat16")  # noqa: E731
            found.append(("torch", "eager", f"{loss} bfloat16", bfloat16))
        if available("jax"):
            found.append(("jax", "jit", loss, lambda n=loss: jax_cases(shape, n)))
    return found
