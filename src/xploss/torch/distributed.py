"""Sums over the default process group: an autograd-aware ``all_reduce`` for global losses, and
the sum of a metric's state."""

from __future__ import annotations

import functools
import sys
from typing import Any

import torch
import torch.distributed as dist

from xploss._statistics import OverlapStats

__all__ = ["all_reduce"]


class _AllReduce(torch.autograd.Function):
    """A sum over the default process group whose gradient is the sum of the gradients.

    ``anchor`` is a scalar that requires a gradient, so that every rank records the node and
    makes the backward collective: a rank whose statistics do not depend on its inputs (an empty
    shard) would otherwise skip it, and leave the others waiting.
    """

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        total = grad.contiguous().clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total, None


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def all_reduce(stats: OverlapStats) -> OverlapStats:
    """Sum the statistics over every rank of the default process group, with gradients.

    Pass it as ``all_reduce=xploss.torch.all_reduce`` to make a Dice over the global batch exact
    under DistributedDataParallel. Without an initialised process group it returns ``stats``.
    The fields travel in one collective forward and one backward, which every rank makes
    whatever its shard holds (no image too): with gradients enabled the result requires a
    gradient on every rank, so that each rank's ``backward()`` joins the others'.

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
    dtype = functools.reduce(torch.promote_types, (s.dtype for s in stats))
    packed = torch.cat([s.reshape(-1).to(dtype) for s in stats])
    anchor = torch.zeros((), device=packed.device, requires_grad=torch.is_grad_enabled())
    total = _AllReduce.apply(packed, anchor)  # type: ignore[no-untyped-call]
    sizes = [s.numel() for s in stats]
    parts = torch.split(total, sizes)
    return type(stats)(*(p.reshape(s.shape).to(s.dtype) for p, s in zip(parts, stats, strict=True)))


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
