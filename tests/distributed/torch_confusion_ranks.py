"""Two torch processes over gloo evaluate a dataset with ``DistributedSampler`` and
``ConfusionMatrixMetric``: the dataset's length does not divide the world size, so the sampler
pads it with repeated images.

For each dataset (7 images; 1 image, so that rank 1 gets nothing but a padded repeat) and each
metric configuration (both aggregation levels, every average), each rank evaluates its shard
with two metrics: one given ``dataset_size=len(dataset)`` (the repeats dropped), one without (the
repeats counted). A third metric is updated by rank 0 alone: rank 1 calls no ``update()``.

Run as ``python -m tests.distributed.torch_confusion_ranks OUT_DIR``: each rank writes what its
metrics' ``compute()``, ``entries()`` and ``report()`` returned, and the dataset indices its
loader gave, to ``OUT_DIR/rank{r}.json``. Every collective has a 60-second timeout, so a rank left
waiting fails instead of hanging.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from typing import Any

import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import xploss.torch as xt
from tests.distributed.gloo import spawn

SIZES = {7: 3, 1: 2}  # dataset length: batch size
SEED = 5  # the sampler's shuffle
IDLE_IMAGES = 4  # what rank 0 alone sees when rank 1 calls no update
SCORES = ("dice", "iou", "specificity", "mcc", "balanced_accuracy", "negative_predictive_value")
CLASS_NAMES = ("background", "liver", "tumour")
CONFIGS: dict[str, dict[str, Any]] = {
    f"{level}/{average}": {"aggregation_level": level, "average": average}
    for level in ("global", "samplewise")
    for average in ("micro", "macro", "weighted", "none")
}
# MONAI's convention: an empty class leaves the means, 0/0 is NaN (entries() counts the rest).
CONFIGS["samplewise/macro/exclude"] = {
    "aggregation_level": "samplewise",
    "empty_class": "exclude",
    "zero_division": math.nan,
}
# The functional API's options that match the metric's (channels-first, softmax of logits).
FUNCTIONAL = {"from_logits": "softmax", "class_axis": 1}


def data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images of float64 logits ``(n, 3, 6, 6)`` and their labels; every other image has no
    class 2, so that samplewise averages meet empty classes."""
    generator = torch.Generator().manual_seed(n)
    logits = torch.randn(n, 3, 6, 6, generator=generator, dtype=torch.float64) * 2
    labels = torch.randint(0, 3, (n, 6, 6), generator=generator)
    labels[::2][labels[::2] == 2] = 0
    return logits, labels


def metric(config: str, **extra: Any) -> xt.ConfusionMatrixMetric:
    return xt.ConfusionMatrixMetric(metrics=SCORES, **FUNCTIONAL, **CONFIGS[config], **extra)


def plain(value: Any) -> Any:
    """A metric's result as JSON: lists of floats (NaN included: ``json`` writes it)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value.tolist() if isinstance(value, torch.Tensor) else value


def loader(n: int) -> DataLoader:
    """The rank's shard of ``n`` images, in the sampler's order (no shuffle of the loader's)."""
    logits, labels = data(n)
    dataset = TensorDataset(torch.arange(n), logits, labels)
    sampler = DistributedSampler(dataset, shuffle=True, seed=SEED, drop_last=False)
    sampler.set_epoch(0)
    return DataLoader(dataset, batch_size=SIZES[n], sampler=sampler)


def evaluate(n: int) -> dict[str, Any]:
    """The rank's shard through a trimmed (``dataset_size``) and a padded metric per config."""
    trimmed = {c: metric(c, dataset_size=n) for c in CONFIGS}
    padded = {c: metric(c) for c in CONFIGS}
    reported = metric("global/macro", dataset_size=n, class_names=CLASS_NAMES)
    seen: list[int] = []
    for indices, logits, labels in loader(n):
        seen += indices.tolist()
        for m in (*trimmed.values(), *padded.values(), reported):
            m.update(logits, labels)
    result: dict[str, Any] = {"seen": seen, "report": reported.report()}
    for config in CONFIGS:
        result[f"trimmed/{config}"] = plain(trimmed[config].compute())
        result[f"trimmed/{config}/entries"] = plain(trimmed[config].entries())
        result[f"padded/{config}"] = plain(padded[config].compute())
    return result


def idle(rank: int) -> dict[str, Any]:
    """Rank 0 updates with the first ``IDLE_IMAGES`` images, rank 1 calls no update."""
    logits, labels = data(7)
    result: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for config in CONFIGS:
            m = metric(config)
            if rank == 0:
                for first in range(0, IDLE_IMAGES, 3):
                    rows = slice(first, min(first + 3, IDLE_IMAGES))
                    m.update(logits[rows], labels[rows])
            result[config] = plain(m.compute())
    result["warnings"] = [str(w.message) for w in caught]
    return result


def values(rank: int) -> dict[str, Any]:
    result: dict[str, Any] = {str(n): evaluate(n) for n in SIZES}
    result["idle"] = idle(rank)
    return result


def rank_values(rank: int, out: str) -> None:
    with open(os.path.join(out, f"rank{rank}.json"), "w") as file:
        json.dump(values(rank), file)


if __name__ == "__main__":
    spawn(rank_values, sys.argv[1])
