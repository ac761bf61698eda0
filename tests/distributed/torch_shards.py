"""Two torch processes over gloo, each with a shard of one batch: equal (4 and 4 images), unequal
(3 and 5) or empty (0 and 8).

Run as ``python -m tests.distributed.torch_shards OUT_DIR``: for each split, each rank computes
every loss of ``LOSSES`` on its shard with ``all_reduce=xt.all_reduce`` and writes its value and
the gradient of its logits to ``OUT_DIR/rank{r}.npz``. Every rank returns the loss of the whole
batch, and its gradient is the world size times that loss's gradient for its shard (the sum of
the ranks' gradients, which DDP's averaging divides by the world size). Every collective has a
60-second timeout, so a rank left waiting fails instead of hanging.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

import xploss
import xploss.torch as xt
from tests.distributed.gloo import spawn

SPLITS = {"equal": 4, "unequal": 3, "empty": 0}  # rank 0's images; rank 1 has the rest of 8
SOFTMAX = {"from_logits": "softmax", "smooth_nr": 1e-3, "smooth_dr": 1e-3}
LOSSES = {
    # per image (MONAI's default, batch=False): the mean or sum over every rank's images
    "dice": lambda r: xt.DiceLoss(all_reduce=r, **SOFTMAX),
    "dice_sum": lambda r: xt.DiceLoss(reduction="sum", all_reduce=r, **SOFTMAX),
    "tversky_weighted": lambda r: xt.TverskyLoss(weight=[1.0, 2.0, 3.0], all_reduce=r, **SOFTMAX),
    "generalized": lambda r: xt.GeneralizedDiceLoss(all_reduce=r, **SOFTMAX),
    "bce_dice": lambda r: xt.BCEDiceLoss(from_logits=True, all_reduce=r),
    # the batch summed: the statistics of every rank
    "dice_batch": lambda r: xt.DiceLoss(batch=True, all_reduce=r, **SOFTMAX),
    "bce_dice_batch": lambda r: xt.BCEDiceLoss(batch=True, from_logits=True, all_reduce=r),
    "bce_dice_functional": lambda r: lambda z, y: xploss.bce_dice_loss(
        torch.nn.functional.one_hot(y, 3).movedim(-1, 1), z, from_logits=True, all_reduce=r,
        class_axis=1,
    ),
}  # fmt: skip


def data() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 3, 6, 6, generator=generator, dtype=torch.float64) * 2
    labels = torch.randint(0, 3, (8, 6, 6), generator=generator)
    labels[:3][labels[:3] == 2] = 0  # the shards differ in class content
    return logits, labels


def losses(logits: torch.Tensor, labels: torch.Tensor, all_reduce) -> dict[str, np.ndarray]:
    """Each loss's value and the gradient of ``logits``."""
    result = {}
    for name, make in LOSSES.items():
        z = logits.detach().clone().requires_grad_(True)
        value = make(all_reduce)(z, labels)
        value.backward()
        result[name] = value.detach().numpy()
        result[f"{name}/grad"] = z.grad.numpy()
    return result


def rank_losses(rank: int, out: str) -> None:
    logits, labels = data()
    result = {}
    for split, first in SPLITS.items():
        part = slice(0, first) if rank == 0 else slice(first, None)
        found = losses(logits[part], labels[part], xt.all_reduce)
        result.update({f"{split}/{key}": value for key, value in found.items()})
    np.savez(os.path.join(out, f"rank{rank}.npz"), **result)


if __name__ == "__main__":
    spawn(rank_losses, sys.argv[1])
