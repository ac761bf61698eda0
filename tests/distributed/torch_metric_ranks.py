"""Two torch processes over gloo whose metrics saw different things: rank 1 saw nothing, or only
an empty batch, or another number of classes than rank 0. Every metric kind (the four metrics,
global and samplewise, per class and averaged) returns the value of rank 0's data on both ranks.

Run as ``python -m tests.distributed.torch_metric_ranks OUT_DIR``: each rank writes what its
``compute()`` returned (or the error it raised) to ``OUT_DIR/rank{r}.json``. Every collective has
a 60-second timeout, so a rank left waiting fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import torch

import xploss.torch as xt
from tests.distributed.gloo import spawn


def data(classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(classes)
    logits = torch.randn(4, classes, 6, 6, generator=generator, dtype=torch.float64)
    return logits, torch.randint(0, classes, (4, 6, 6), generator=generator)


def metrics() -> dict[str, torch.nn.Module]:
    """Every metric kind, global and samplewise, per class and averaged."""
    found = {}
    for name in ("DiceCoefficient", "JaccardIndex", "TruePositiveRate", "Precision"):
        for average in ("global", "samplewise"):
            for reduction in ("none", "mean"):
                metric = getattr(xt, name)(
                    from_logits="softmax", aggregation_level=average, reduction=reduction
                )
                found[f"{name}/{average}/{reduction}"] = metric
    return found


def values(rank: int) -> dict[str, object]:
    result: dict[str, object] = {}
    # Rank 0 sees the data; rank 1 nothing, or (every other metric) a batch of no image.
    found = metrics()
    for index, (name, metric) in enumerate(found.items()):
        if rank == 0:
            metric.update(*data())
        elif index % 2:
            logits, labels = data()
            metric.update(logits[:0], labels[:0])
        result[name] = metric.compute().tolist()
    # Neither rank saw anything: the score of empty statistics, and a warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result["nothing"] = xt.DiceCoefficient().compute().tolist()
    result["nothing_warned"] = any("before any update" in str(w.message) for w in caught)
    # The ranks disagree on the number of classes: both raise, neither waits.
    metric = xt.Precision(from_logits="softmax")
    metric.update(*data(3 if rank == 0 else 4))
    try:
        metric.compute()
        result["disagree"] = "no error"
    except ValueError as error:
        result["disagree"] = str(error)
    return result


def rank_values(rank: int, out: str) -> None:
    with open(os.path.join(out, f"rank{rank}.json"), "w") as file:
        json.dump(values(rank), file)


def single() -> dict[str, list[float] | float]:
    """What one process that saw rank 0's data computes."""
    found = metrics()
    for metric in found.values():
        metric.update(*data())
    return {name: metric.compute().tolist() for name, metric in found.items()}


if __name__ == "__main__":
    spawn(rank_values, sys.argv[1])
