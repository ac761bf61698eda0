"""Stateful metrics, declared from the registry: ``update(input, target)``, ``compute()``.

The state is the additive statistics per class, kept in float64 on the inputs' device whatever
``.half()`` or ``.to(dtype)`` do to the module. ``aggregation_level="global"`` sums ``tp``, ``Σy``
and ``Σp`` over every image seen and takes one ratio per class: the dataset value. ``"samplewise"``
averages the per-image values (0.1's ``average="micro"`` and ``"macro"``, renamed to TorchMetrics'
words: ``average`` is the class averaging of ``ConfusionMatrixMetric``). ``compute`` sums the state
over the ranks of an initialised process group first, so the value is exact under DDP (a rank that
saw nothing adds nothing). The class scores are then averaged (``reduction="mean"``) or returned
(``"none"``). ``forward(input, target)`` updates the state and returns the value of that batch
alone, as in TorchMetrics.

The class count is fixed by the first batch until ``reset()``: a batch with another raises
``ValueError``. A batch of no image adds nothing. ``state_dict()`` always holds the ``state``
buffer, so a checkpoint loads (strictly) into a fresh or an updated metric, whose class count
it replaces. ``compute()`` before any update warns and returns the score of empty statistics as
a 0-d tensor (the class count is unknown): ``zero_division`` unless smoothed, as for a class
with no pixel.

Threads: ``update``, ``forward``, ``compute``, ``reset`` and ``load_state_dict`` may run in
several threads. A batch's statistics are computed outside the metric's lock; only the addition
to the state holds it. The lock is no part of the module's state: ``copy.deepcopy`` and
``pickle`` (``torch.save(module)``) give the copy a lock of its own.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import torch

from xploss._options import Options, option, record
from xploss._registry import METRICS, Adapter, Metric
from xploss._state import check_class_count
from xploss._statistics import OverlapStats, statistics
from xploss._validators import choice, flag
from xploss.torch._module import Locked, RegisteredModule
from xploss.torch._namespace import torch_namespace
from xploss.torch.distributed import is_distributed, summed_over_ranks
from xploss.torch.losses import reduced_axes

__all__ = ["DiceCoefficient", "JaccardIndex", "Precision", "TruePositiveRate"]

STATE_DTYPE = torch.float64


@record
class Accumulation(Options):
    aggregation_level: str = option(
        "global",
        choice("global", "samplewise"),
        "pooled statistics, or the mean of per-image values",
    )
    reduction: str = option("mean", choice("mean", "none"), "the mean over classes, or each")
    sync_on_compute: bool = option(True, flag, "sum the state over the process group")


ADAPTER = Adapter(own=Accumulation, defaults={"class_axis": 1}, hidden=frozenset({"axis"}))


class RegisteredMetric(Locked, RegisteredModule):
    """A metric of the registry as a module: ``class DiceCoefficient(RegisteredMetric,
    metric="dice_coefficient")``."""

    entry: ClassVar[Metric]
    state: torch.Tensor
    """``(3, C)``: ``tp``, ``Σy``, ``Σp`` (global), or ``(2, C)``: the sum and the count of the
    per-image values (samplewise); ``C = 0`` before the first update."""

    def __init_subclass__(cls, *, metric: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if metric:
            cls.entry = METRICS[metric]
            cls.declare(cls.entry.options, ADAPTER)

    def __init__(self, **options: Any) -> None:
        if "average" in options:
            raise TypeError(
                f"{type(self).__name__}() takes no average: the choice between pooled statistics "
                "and the mean of per-image values is aggregation_level='global' or "
                "'samplewise' (TorchMetrics' words; 0.1 called them average='micro' and "
                "'macro'), and reduction='mean' or 'none' averages the classes. average is the "
                "class averaging of ConfusionMatrixMetric."
            )
        super().__init__(**options)
        self.register_buffer("state", self._empty(None))

    def _empty(self, device: torch.device | None) -> torch.Tensor:
        rows = 3 if self.torch_options.aggregation_level == "global" else 2
        return torch.zeros((rows, 0), dtype=STATE_DTYPE, device=device)

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        score: torch.Tensor = self.entry.score(stats, self.options, torch_namespace)
        return score

    @torch.no_grad()
    def _add(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Add the batch's contribution to the state and return it: ``(3, C)`` or ``(2, C)``."""
        pooled = self.torch_options.aggregation_level == "global"
        axes = reduced_axes(input.ndim, batch=pooled, axis=None, class_axis=self.options.class_axis)
        _, stats = statistics(target, input, self.options.updated({"axis": axes}), mask)
        stats = OverlapStats(*(s.to(STATE_DTYPE) for s in stats))
        if pooled:
            batch = torch.stack(tuple(stats))
        else:
            scores = self._score(stats)  # (B, C); no image adds a sum and a count of 0
            batch = torch.stack([scores.sum(0), scores.new_full(scores.shape[1:], len(scores))])
        with self._lock:
            held = self.state
            if held.shape[-1]:
                owner, remedy = type(self).__name__, "call reset() first to change it"
                shape, class_axis = tuple(input.shape), self.options.class_axis
                check_class_count(owner, tuple(held.shape), "input", shape, class_axis, remedy)
            self.state = held + batch if held.shape[-1] else batch
        return batch

    def update(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        """Add a batch: ``input`` ``(B, C, *spatial)``, ``target`` one-hot or class indices."""
        self._add(input, target, mask)

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``update`` with the batch, and return its value alone (not summed over ranks)."""
        return self._value(self._add(input, target, mask))

    def _value(self, state: torch.Tensor) -> torch.Tensor:
        """The metric of ``state``; without a class axis, the value of nothing seen."""
        zero = state.new_zeros(())
        empty = self._score(OverlapStats(zero, zero, zero))
        if self.torch_options.aggregation_level == "global":
            per_class = self._score(OverlapStats(*state))
        else:
            sums, count = state
            per_class = torch.where(count > 0, sums / count.clamp(min=1), empty)
        return per_class.mean() if self.torch_options.reduction == "mean" else per_class

    def compute(self) -> torch.Tensor:
        with self._lock:
            state = self.state
        if self.torch_options.sync_on_compute and is_distributed():
            state = summed_over_ranks(state)
        if state.shape[-1]:
            return self._value(state)
        value = self._value(state.new_zeros(state.shape[:-1]))
        what = f"zero_division={self.options.zero_division:g}"
        if getattr(self.options, "smooth_dr", 0) > 0:
            what = f"smooth_nr / smooth_dr = {float(value):g}"
        warnings.warn(
            f"{type(self).__name__}.compute() called before any update(): returning {what}, "
            "the score of empty statistics, as a 0-d tensor (the class count is not known yet).",
            UserWarning,
            stacklevel=2,
        )
        return value

    def reset(self) -> None:
        with self._lock:
            self.state = self._empty(self.state.device)

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        # The checkpoint's class count replaces the metric's (0 before an update): the buffer
        # takes its shape, then ``nn.Module`` checks and copies it as any buffer.
        value = state_dict.get(prefix + "state")
        with self._lock:
            if isinstance(value, torch.Tensor) and value.shape[:-1] == self.state.shape[:-1]:
                self.state = self.state.new_zeros(value.shape)
            super()._load_from_state_dict(state_dict, prefix, *args)
            self.state = self.state.to(STATE_DTYPE)  # ``assign=True`` takes the checkpoint's

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> Any:
        # ``.half()`` and ``.to(dtype)`` would round the sums: follow the device only, which a
        # probe tensor passed through ``fn`` reveals.
        with self._lock:
            state = self.state
            self.state = None  # type: ignore[assignment]
            try:
                result = super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
            finally:
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
    both target and prediction scores ``zero_division``, 1). ``"global"`` is the dataset IoU per
    class (TorchMetrics' ``JaccardIndex`` aggregates the same way, but takes the arg-max of
    multi-class inputs and scores an empty class 0); ``"samplewise"`` the mean of per-image values.

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
