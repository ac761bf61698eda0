"""Stateful metrics, declared from the registry: ``update(input, target)``, ``compute()``.

The state is the additive statistics per class, kept in float64 on the inputs' device whatever
``.half()`` or ``.to(dtype)`` do to the module. ``average="micro"`` sums ``tp``, ``Σy`` and ``Σp``
over every image seen and takes one ratio per class: the dataset value. ``"macro"`` averages the
per-image values. ``compute`` sums the state over the ranks of an initialised process group
first, so the value is exact under DDP. The class scores are then averaged (``reduction="mean"``)
or returned (``"none"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.distributed as dist

from xploss._options import Options, option, record
from xploss._registry import METRICS, Adapter, Metric
from xploss._statistics import OverlapStats, statistics
from xploss._validators import choice, flag
from xploss.torch._module import RegisteredModule
from xploss.torch._namespace import torch_namespace
from xploss.torch.distributed import is_distributed
from xploss.torch.losses import reduced_axes

__all__ = ["DiceCoefficient", "JaccardIndex", "Precision", "TruePositiveRate"]

STATE_DTYPE = torch.float64


@record
class Accumulation(Options):
    average: str = option("micro", choice("micro", "macro"), "pooled or per-image values")
    reduction: str = option("mean", choice("mean", "none"), "the mean over classes, or each")
    sync_on_compute: bool = option(True, flag, "sum the state over the process group")


ADAPTER = Adapter(own=Accumulation, defaults={"class_axis": 1}, hidden=frozenset({"axis"}))


class RegisteredMetric(RegisteredModule):
    """A metric of the registry as a module: ``class DiceCoefficient(RegisteredMetric,
    metric="dice_coefficient")``."""

    entry: ClassVar[Metric]
    state: torch.Tensor | None

    def __init_subclass__(cls, *, metric: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if metric:
            cls.entry = METRICS[metric]
            cls.declare(cls.entry.options, ADAPTER)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.register_buffer("state", None)

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        score: torch.Tensor = self.entry.score(stats, self.options, torch_namespace)
        return score

    @torch.no_grad()
    def update(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        """Add a batch: ``input`` ``(B, C, *spatial)``, ``target`` one-hot or class indices."""
        micro = self.torch_options.average == "micro"
        axes = reduced_axes(input.ndim, batch=micro, axis=None)
        _, stats = statistics(target, input, self.options.updated({"axis": axes}), mask)
        stats = OverlapStats(*(s.to(STATE_DTYPE) for s in stats))
        if micro:
            batch = torch.stack(tuple(stats))  # (3, C)
        else:
            scores = self._score(stats)  # (B, C)
            count = torch.full_like(scores[:1], scores.shape[0])
            batch = torch.cat([scores.sum(0, keepdim=True), count])  # (2, C)
        self.state = batch if self.state is None else self.state + batch

    def compute(self) -> torch.Tensor:
        if self.state is None:
            raise RuntimeError(f"{type(self).__name__}.compute() called before any update()")
        state = self.state
        if self.torch_options.sync_on_compute and is_distributed():
            state = state.clone()
            dist.all_reduce(state, op=dist.ReduceOp.SUM)
        if self.torch_options.average == "micro":
            per_class = self._score(OverlapStats(*state))
        else:
            per_class = state[0] / state[1]
        return per_class.mean() if self.torch_options.reduction == "mean" else per_class

    def reset(self) -> None:
        self.state = None

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        self.update(input, target, mask)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> Any:
        # ``.half()`` and ``.to(dtype)`` would round the sums: follow the device only, which a
        # probe tensor passed through ``fn`` reveals.
        state = self.state
        self.state = None
        result = super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
        if state is not None:
            device = fn(torch.empty(0, dtype=STATE_DTYPE, device=state.device)).device
            self.state = state.to(device=device, dtype=STATE_DTYPE)
        return result


class DiceCoefficient(RegisteredMetric, metric="dice_coefficient"):
    """Stateful Dice metric: ``update(input, target)`` per batch, ``compute()``, ``reset()``.

    Hard by default (``p > 0.5``; ``threshold=None`` for soft Dice) and unsmoothed: a class that is
    empty in both target and prediction scores ``zero_division`` (1).

    Example:
        >>> import torch
        >>> metric = DiceCoefficient()
        >>> metric.update(torch.tensor([[[0.9, 0.2]]]), torch.tensor([[[1, 0]]]))
        >>> metric.update(torch.tensor([[[0.8, 0.6]]]), torch.tensor([[[1, 1]]]))
        >>> float(metric.compute())  # 2·3 / (3 + 3): the dataset value
        1.0
    """


class TruePositiveRate(RegisteredMetric, metric="true_positive_rate"):
    """Stateful true-positive rate (recall): ``Σ y·[p > threshold] / Σ y`` over what was seen.

    A class with no positives scores ``zero_division`` (0). See ``DiceCoefficient``.

    Example:
        >>> import torch
        >>> metric = TruePositiveRate()
        >>> metric.update(torch.tensor([[[0.9, 0.4]]]), torch.tensor([[[1, 1]]]))
        >>> metric.update(torch.tensor([[[0.6, 0.2]]]), torch.tensor([[[1, 0]]]))
        >>> round(float(metric.compute()), 4)  # 2 of the 3 positives found
        0.6667
    """


class JaccardIndex(RegisteredMetric, metric="jaccard_index"):
    """Stateful Jaccard index (IoU): ``tp / (Σy + Σp - tp)`` of what was seen, per class.

    ``DiceCoefficient``'s options (hard by default, ``p > 0.5``; unsmoothed; a class empty in
    both target and prediction scores ``zero_division``, 1). ``"micro"`` is the dataset IoU per
    class (TorchMetrics' ``JaccardIndex`` aggregates the same way, but takes the arg-max of
    multi-class inputs and scores an empty class 0); ``"macro"`` the mean of per-image values.

    Example:
        >>> import torch
        >>> metric = JaccardIndex()
        >>> metric.update(torch.tensor([[[0.9, 0.2]]]), torch.tensor([[[1, 0]]]))
        >>> metric.update(torch.tensor([[[0.8, 0.3]]]), torch.tensor([[[1, 1]]]))
        >>> float(metric.compute())  # tp = 2 of a union of 3
        0.6666666666666666
    """


class Precision(RegisteredMetric, metric="precision"):
    """Stateful precision: ``Σ y·[p > threshold] / Σ [p > threshold]`` over what was seen.

    A class with no positive prediction scores ``zero_division`` (0). See ``TruePositiveRate``.

    Example:
        >>> import torch
        >>> metric = Precision()
        >>> metric.update(torch.tensor([[[0.9, 0.7]]]), torch.tensor([[[1, 0]]]))
        >>> metric.update(torch.tensor([[[0.8, 0.3]]]), torch.tensor([[[1, 1]]]))
        >>> float(metric.compute())  # 2 of the 3 predicted positives
        0.6666666666666666
    """
