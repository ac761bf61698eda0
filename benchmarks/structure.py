"""Lovász and clDice against their peers: segmentation_models_pytorch and MONAI.

The Lovász losses are dominated by their sort (one per ranking), the clDice by the soft skeleton
(iterated min- and max-pooling, here built from shifted slices). Each group times forward +
backward in PyTorch, eager and ``torch.compile``, the implementations interleaved in one process
as in ``run.py``: xploss, and the peer where it is installed (smp's ``LovaszLoss``, loaded without
smp's ``__init__``, whose encoders need packages the benchmark does not install; MONAI's
``SoftclDiceLoss``). Every implementation of a group computes the same number
(``tests/test_benchmarks.py`` checks it).

Lovász-softmax takes class indices ``(B, *spatial)`` and logits, one ranking per class over the
batch (smp's ``per_image=False``); the Lovász hinge takes one channel of logits and its binary
mask; the clDice takes softmax probabilities and the one-hot target (MONAI's convention).
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import sys
import types
from collections.abc import Callable
from typing import Any

from benchmarks.entropy import logits_and_labels
from benchmarks.run import available

LOSSES = ("Lovász-softmax", "Lovász hinge", "clDice")

Loss = Callable[[Any, Any], Any]


def smp_lovasz() -> Any | None:
    """smp's ``losses/lovasz.py`` as a module, or None where smp is not installed."""
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = types.ModuleType("_smp_losses")
    package.__path__ = [str(pathlib.Path(spec.submodule_search_locations[0]) / "losses")]
    sys.modules.setdefault("_smp_losses", package)
    return importlib.import_module("_smp_losses.lovasz")


def torch_losses(shape: tuple[int, ...], loss: str) -> tuple[dict[str, Loss], Any, Any]:
    """``(implementations, input, target)``: each implementation is ``f(input, target)``."""
    import torch
    import torch.nn.functional as F

    import xploss.torch as xt

    logits_np, labels_np = logits_and_labels(shape)
    logits, labels = torch.from_numpy(logits_np), torch.from_numpy(labels_np)
    smp = smp_lovasz()
    impls: dict[str, Loss]

    if loss == "Lovász-softmax":
        impls = {"xploss": xt.LovaszSoftmaxLoss(from_logits=True, batch=True)}
        if smp is not None:
            impls["smp LovaszLoss"] = smp.LovaszLoss("multiclass")
        return impls, logits, labels

    if loss == "Lovász hinge":
        mask = (labels[:, None] > 0).to(logits.dtype)
        impls = {"xploss": xt.LovaszHingeLoss(batch=True)}
        if smp is not None:
            impls["smp LovaszLoss"] = smp.LovaszLoss("binary")
        return impls, logits[:, :1], mask

    probabilities = torch.softmax(logits, 1)
    onehot = F.one_hot(labels, shape[1]).movedim(-1, 1).to(logits.dtype)
    impls = {"xploss": xt.SoftclDiceLoss()}
    if available("monai"):
        impls["MONAI SoftclDiceLoss"] = importlib.import_module("monai.losses").SoftclDiceLoss()
    return impls, probabilities, onehot


def torch_cases(shape: tuple[int, ...], loss: str, compiled: bool) -> dict[str, Callable[[], Any]]:
    """Forward + backward of each implementation, eager or ``torch.compile``d."""
    import torch

    impls, prediction, target = torch_losses(shape, loss)
    if compiled:
        torch._dynamo.reset()
        impls = {k: torch.compile(f) for k, f in impls.items()}
    prediction = prediction.detach().requires_grad_(True)

    def run(f: Loss) -> Callable[[], Any]:
        def call() -> None:
            f(prediction, target).backward()

        return call

    return {k: run(f) for k, f in impls.items()}


def groups(shape: tuple[int, ...]) -> list[tuple[str, str, str, Callable[[], dict]]]:
    """``(framework, mode, loss, cases)`` of every group of one workload, built lazily."""
    found: list[tuple[str, str, str, Callable[[], dict]]] = []
    if not available("torch"):
        return found
    for loss in LOSSES:
        for compiled in (False, True):
            mode = "compiled" if compiled else "eager"
            found.append(("torch", mode, loss, lambda c=compiled, n=loss: torch_cases(shape, n, c)))
    return found
