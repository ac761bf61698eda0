"""The confusion-matrix metrics' ``update`` against native code, TorchMetrics and MONAI.

One update adds a batch's ``tp``, ``fp``, ``fn`` and ``tn`` per class to the state: the arg-max of
the logits over the classes, compared with class indices ``(B, *spatial)``. PyTorch, eager:
``xt.ConfusionMatrixMetric(from_logits="softmax").update``, TorchMetrics'
``MulticlassStatScores(average=None).update`` (the counts behind its Dice, IoU, precision and
recall) and MONAI's ``ConfusionMatrixMetric`` (which takes binarised one-hot predictions and
one-hot targets: the arg-max and both one-hot encodings are part of its time here), against the
native count by ``torch.bincount`` of ``C·target + prediction``. JAX, jitted: the same counts of
``xploss.confusion_stats`` against the native one-hot comparison in ``jax.numpy``. Every
implementation of a group counts the same (``tests/test_benchmarks.py`` checks it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

import xploss
from benchmarks.entropy import logits_and_labels
from benchmarks.run import available

Counts = Callable[[Any, Any], Any]
"""``f(logits, labels)``: the counts of the batch, ``(4, C)`` rows ``tp, fp, fn, tn``."""


def torch_counts(shape: tuple[int, ...]) -> tuple[dict[str, Counts], Any, Any]:
    """``(implementations, logits, labels)``: each updates a fresh state and returns its counts."""
    import torch
    import torch.nn.functional as F

    import xploss.torch as xt

    logits_np, labels_np = logits_and_labels(shape)
    logits, labels = torch.from_numpy(logits_np), torch.from_numpy(labels_np)
    classes = shape[1]

    def native(z: Any, y: Any) -> Any:
        found = torch.bincount((y * classes + z.argmax(1)).flatten(), minlength=classes**2)
        matrix = found.reshape(classes, classes).double()  # rows: target, columns: prediction
        tp = matrix.diagonal()
        fp, fn = matrix.sum(0) - tp, matrix.sum(1) - tp
        return torch.stack([tp, fp, fn, matrix.sum() - tp - fp - fn])

    def xploss_update(z: Any, y: Any) -> Any:
        metric = xt.ConfusionMatrixMetric(from_logits="softmax", class_axis=1)
        metric.update(z, y)
        return metric.counts

    impls: dict[str, Counts] = {"xploss": xploss_update, "native": native}
    if available("torchmetrics"):
        stat_scores = importlib.import_module("torchmetrics.classification").MulticlassStatScores

        def torchmetrics_update(z: Any, y: Any) -> Any:
            metric = stat_scores(num_classes=classes, average=None, validate_args=False)
            metric.update(z, y)
            tp, fp, tn, fn, _ = metric.compute().T.double()
            return torch.stack([tp, fp, fn, tn])

        impls["TorchMetrics MulticlassStatScores"] = torchmetrics_update
    if available("monai"):
        confusion = importlib.import_module("monai.metrics").ConfusionMatrixMetric

        def monai_update(z: Any, y: Any) -> Any:
            metric = confusion(metric_name="dice", compute_sample=False)
            hard = F.one_hot(z.argmax(1), classes).movedim(-1, 1)
            metric(hard, F.one_hot(y, classes).movedim(-1, 1))
            # MONAI's buffer: (B, C, 4) per image, [tp, fp, tn, fn]; summed over the batch
            tp, fp, tn, fn = metric.get_buffer().sum(0).T.double()
            return torch.stack([tp, fp, fn, tn])

        impls["MONAI ConfusionMatrixMetric"] = monai_update
    return impls, logits, labels


def jax_counts(shape: tuple[int, ...]) -> tuple[dict[str, Counts], Any, Any]:
    """``(implementations, logits, labels)``, channels-last, each returning ``(4, C)``."""
    import jax
    import jax.numpy as jnp

    channels_last = (0, *range(2, len(shape)), 1)
    logits_np, labels_np = logits_and_labels(shape)
    logits, labels = jnp.asarray(np.transpose(logits_np, channels_last)), jnp.asarray(labels_np)
    classes, axes = shape[1], tuple(range(len(shape) - 1))

    def native(z: Any, y: Any) -> Any:
        hard = jax.nn.one_hot(jnp.argmax(z, axis=-1), classes, dtype=jnp.float32)
        target = jax.nn.one_hot(y, classes, dtype=jnp.float32)
        tp = jnp.sum(hard * target, axis=axes)
        fp, fn = jnp.sum(hard, axis=axes) - tp, jnp.sum(target, axis=axes) - tp
        return jnp.stack([tp, fp, fn, y.size - tp - fp - fn])

    def xploss_counts(z: Any, y: Any) -> Any:
        return jnp.stack(xploss.confusion_stats(y, z, from_logits="softmax"))

    return {"xploss": xploss_counts, "native": native}, logits, labels


def torch_cases(shape: tuple[int, ...]) -> dict[str, Callable[[], Any]]:
    impls, logits, labels = torch_counts(shape)
    return {k: (lambda f=f: f(logits, labels)) for k, f in impls.items()}


def jax_cases(shape: tuple[int, ...]) -> dict[str, Callable[[], Any]]:
    import jax

    impls, logits, labels = jax_counts(shape)
    compiled = {k: jax.jit(f) for k, f in impls.items()}
    return {k: (lambda f=f: jax.block_until_ready(f(logits, labels))) for k, f in compiled.items()}


def groups(shape: tuple[int, ...]) -> list[tuple[str, str, str, Callable[[], dict]]]:
    """``(framework, mode, workload suffix, cases)`` of every group of one workload."""
    found: list[tuple[str, str, str, Callable[[], dict]]] = []
    if available("torch"):
        found.append(("torch", "eager", "confusion update", lambda: torch_cases(shape)))
    if available("jax"):
        found.append(("jax", "jit", "confusion update", lambda: jax_cases(shape)))
    return found
