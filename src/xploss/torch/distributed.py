"""Sums over the default process group: an autograd-aware ``all_reduce`` for global losses, and
the sum of a metric's state."""

from __future__ import annotations

import sys
from typing import Any

import torch
import torch.distributed as dist

from xploss._statistics import OverlapStats

__all__ = ["all_reduce"]


class _AllReduce(torch.autograd.Function):
    """A sum over the default process group whose gradient is the sum of the gradients."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def all_reduce(stats: OverlapStats) -> OverlapStats:
    """Sum the statistics over every rank of the default process group, with gradients.

    Pass it as ``all_reduce=xploss.torch.all_reduce`` to make a Dice over the global batch exact
    under DistributedDataParallel. Without an initialised process group it returns ``stats``.

    Example:
        >>> import torch
        >>> from xploss import overlap_stats
        >>> from xploss.torch import DiceLoss
        >>> loss = DiceLoss(batch=True, all_reduce=all_reduce)  # the Dice of the global batch
        >>> stats = overlap_stats(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.2]))
        >>> all_reduce(stats) is stats  # no process group: one process holds the whole batch
        True
    """
    if not is_distributed():
        return stats
    return OverlapStats(*(_AllReduce.apply(s) for s in stats))  # type: ignore[no-untyped-call]


def summed_over_ranks(state: torch.Tensor) -> torch.Tensor:
    """A metric's ``state`` (a class axis last) summed over the default process group.

    A rank that saw nothing (a class axis of size 0) adds zeros. Every rank makes the same
    collectives and reaches the same decision, so a class count that differs between ranks
    raises on each of them rather than leaving one waiting.
    """
    device = state.device
    if device.type == "cpu" and dist.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    classes = state.shape[-1]
    counts = torch.tensor([classes, -classes if classes else -sys.maxsize], device=device)
    dist.all_reduce(counts, op=dist.ReduceOp.MAX)
    most, fewest = int(counts[0]), -int(counts[1])
    if most == 0:
        return state
    if fewest != most:
        raise ValueError(
            f"the ranks hold metric states of {fewest} and of {most} classes: every rank must "
            "update its metric with the same number of classes."
        )
    total = state if classes else state.new_zeros((*state.shape[:-1], most))
    total = total.to(device, copy=True)
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total
