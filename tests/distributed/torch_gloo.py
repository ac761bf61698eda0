"""Two torch processes over gloo on loopback, uneven per-rank batches (3 and 5 images).

Run as ``python -m tests.distributed.torch_gloo OUT_DIR``: each rank trains one step of a small
DDP model with a global batch Dice (``all_reduce=xt.all_reduce``), updates the metrics on its
shard, and writes the loss, the averaged parameter gradients and the metric values to OUT_DIR.
"""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import torch

import xploss.torch as xt
from tests.distributed.gloo import spawn

SHARDS = (slice(0, 3), slice(3, 8))


def data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(8, 1, 12, 12, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, 3, (8, 12, 12), generator=generator)
    return images, labels


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Conv2d(1, 3, 3, padding=1).double()


def step(net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, all_reduce) -> dict:
    loss_fn = xt.DiceLoss(batch=True, from_logits="softmax", all_reduce=all_reduce)
    gdl_fn = xt.GeneralizedDiceLoss(batch=True, from_logits="softmax", all_reduce=all_reduce)
    logits = net(images)
    loss = loss_fn(logits, labels) + gdl_fn(logits, labels)
    loss.backward()
    dice = xt.DiceCoefficient(from_logits="softmax", reduction="none")
    tpr = xt.TruePositiveRate(from_logits="softmax", aggregation_level="global")
    samplewise = xt.DiceCoefficient(from_logits="softmax", aggregation_level="samplewise")
    for metric in (dice, tpr, samplewise):
        metric.update(logits.detach(), labels)
    return {
        "loss": loss.detach().numpy(),
        "grads": np.concatenate([p.grad.numpy().ravel() for p in net.parameters()]),
        "dice": dice.compute().numpy(),
        "tpr": tpr.compute().numpy(),
        "macro": samplewise.compute().numpy(),
    }


def rank_step(rank: int, out: str) -> None:
    images, labels = data()
    net = torch.nn.parallel.DistributedDataParallel(model())
    result = step(net, images[SHARDS[rank]], labels[SHARDS[rank]], xt.all_reduce)
    np.savez(os.path.join(out, f"rank{rank}.npz"), **result)
    # DDP's reducer keeps gloo work alive; releasing it first lets the process group close.
    del net
    gc.collect()


if __name__ == "__main__":
    spawn(rank_step, sys.argv[1])
