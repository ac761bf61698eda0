"""Stateful confusion-matrix metrics: one additive state of ``tp``, ``fp``, ``fn``, ``tn`` per
class, any number of scores of it, per-class reports, and exact evaluation over processes.

``ConfusionMatrixMetric(metrics=("dice", "specificity", "mcc"))`` accumulates the counts of every
``update(input, target)`` (channels-first: ``class_axis=1``) and ``compute()`` returns each
score of everything seen: a tensor for one score, a dict for several. ``report()`` adds one value
per class, named ``"dice/tumour"`` from ``class_names``: what a ``LightningModule`` passes to
``self.log_dict``. The state stays float64 whatever ``.half()`` or ``.to(dtype)`` do.

Processes: ``compute()`` sums the state over the default process group (exact: sums of counts,
never means of means); a rank that saw nothing adds nothing, and every rank makes the same
collectives, so none waits. ``DistributedSampler`` (``drop_last=False``) pads the dataset with
repeated samples so that every rank gets as many: pass ``dataset_size=len(dataset)`` and each
rank drops the samples past the dataset's end, which the sampler places last, at global
positions ``rank + world_size·j`` for the ``j``-th sample the rank sees. The loader must give
the sampler's order (a batch sampler or ``shuffle`` of the loader's own would break it).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.distributed as dist

from xploss._confusion_average import Averaged
from xploss._confusion_report import (
    SINGLE_SCORES,
    Reporting,
    class_labels,
    one_score,
    report,
    single_score_doc,
    without_metrics,
)
from xploss._confusion_state import ConfusionState, batch_state, state_results
from xploss._options import option, record
from xploss._options_confusion import FBetaOptions
from xploss._registry import Adapter, describe
from xploss._validators import flag, positive_integer
from xploss.torch._module import Locked, RegisteredModule
from xploss.torch.distributed import is_distributed, summed_over_ranks

__all__ = [
    "BalancedAccuracy",
    "ConfusionMatrixMetric",
    "FBetaScore",
    "FalseNegativeRate",
    "FalsePositiveRate",
    "MatthewsCorrCoef",
    "NegativePredictiveValue",
    "Specificity",
]

STATE_DTYPE = torch.float64


@record
class Evaluation(Reporting):
    """The torch metric's own options."""

    dataset_size: int | None = option(
        None, positive_integer, "len(dataset): drop DistributedSampler's padded repeats"
    )
    sync_on_compute: bool = option(True, flag, "sum the state over the process group")


ADAPTER = Adapter(own=Evaluation, defaults={"class_axis": 1}, hidden=frozenset({"all_reduce"}))


class ConfusionMatrixMetric(Locked, RegisteredModule):
    """Confusion-matrix scores of everything seen: ``update(input, target)``, ``compute()``,
    ``report()``, ``reset()``.

    ``metrics`` names the scores (``xploss.CONFUSION_SCORES`` or their aliases: ``"mcc"``,
    ``"sensitivity"``, MONAI's ``"f1 score"``...); the other options are
    ``xploss.confusion_metric``'s, channels-first. ``compute()`` before any update warns and
    returns NaN: no class has been seen.

    Example:
        >>> import torch
        >>> metric = ConfusionMatrixMetric(
        ...     metrics=("dice", "specificity"), from_logits=True, class_names=("tumour",)
        ... )
        >>> logits = torch.tensor([[[2.0, -1.0, 1.0, -2.0]]])  # (B, 1, N): one channel
        >>> metric.update(logits, torch.tensor([[1, 0, 0, 0]]))
        >>> {k: round(float(v), 4) for k, v in metric.compute().items()}
        {'dice': 0.6667, 'specificity': 0.6667}
        >>> metric.report()["dice/tumour"]
        0.6666666666666666
    """

    score: ClassVar[str] = ""
    """A subclass's one score (``Specificity``): ``metrics`` is then no option."""
    counts: torch.Tensor
    """``(4, C)``: ``tp``, ``fp``, ``fn``, ``tn`` per class; ``C = 0`` before an update."""
    images: torch.Tensor
    """``(M, 2, C + 1)``: the per-image sums of ``"samplewise"`` (``C = 0`` else)."""
    samples_seen: torch.Tensor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.score:
            cls.__signature__ = without_metrics(cls.__signature__)  # type: ignore[attr-defined]

    def __init__(self, **options: Any) -> None:
        if self.score:
            options = one_score(f"{type(self).__name__}()", self.score, options)
        super().__init__(**options)
        self.names = self.torch_options.metrics
        self.register_buffer("counts", self._empty((4,)))
        self.register_buffer("images", self._empty((len(self.names), 2)))
        self.register_buffer("samples_seen", torch.zeros((), dtype=torch.int64))
        self._channels = 0  # the input's classes, known at the first update

    def _empty(self, rows: tuple[int, ...], device: Any = None) -> torch.Tensor:
        return torch.zeros((*rows, 0), dtype=STATE_DTYPE, device=device)

    def _kept(self, input: torch.Tensor, *arrays: torch.Tensor | None) -> tuple[Any, ...]:
        """The arrays without the samples past ``dataset_size`` (``DistributedSampler``'s
        padding); the position moves by the whole batch."""
        size = self.torch_options.dataset_size
        batch = int(input.shape[0])
        if size is None:
            return (input, *arrays)
        world, rank = (dist.get_world_size(), dist.get_rank()) if is_distributed() else (1, 0)
        with self._lock:
            first = int(self.samples_seen)
            self.samples_seen += batch
        kept = sum(rank + world * (first + j) < size for j in range(batch))
        if kept == batch:
            return (input, *arrays)
        return tuple(
            a if a is None or a.ndim == 0 or a.shape[0] != batch else a[:kept]
            for a in (input, *arrays)
        )

    @torch.no_grad()
    def _add(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None
    ) -> ConfusionState:
        """Add the batch's state to the metric's and return it."""
        input, target, mask = self._kept(input, target, mask)
        class_axis = self.options.class_axis
        self._channels = 1 if class_axis is None else int(input.shape[class_axis])
        got = batch_state(target, input, self.options, mask, self.names)
        counts: torch.Tensor = got.counts.to(STATE_DTYPE)
        images: torch.Tensor = (
            self._empty((len(self.names), 2), input.device)
            if got.images is None
            else got.images.to(STATE_DTYPE)
        )
        with self._lock:
            held = self.counts
            if held.shape[-1]:
                self._check_classes(held, counts, tuple(input.shape))
                self.counts, self.images = held + counts, self.images + images
            else:
                self.counts, self.images = counts, images
        return ConfusionState(counts, images)

    def _check_classes(self, held: torch.Tensor, got: torch.Tensor, shape: tuple[int, ...]) -> None:
        # The counts' classes, not the input's class axis: include_background=False leaves one
        # out, and class_axis=None inputs have none.
        if held.shape[-1] != got.shape[-1]:
            left_out = "" if self.options.include_background else " besides the background"
            raise ValueError(
                f"{type(self).__name__} got input of shape {shape}, with {got.shape[-1]} classes"
                f"{left_out}, but its state of shape {tuple(held.shape)} holds {held.shape[-1]} "
                "classes: the number of classes cannot change between updates; call reset() "
                "first to change it."
            )

    def update(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        """Add a batch: ``input`` ``(B, C, *spatial)``, ``target`` one-hot, class indices
        ``(B, *spatial)``, or the mask of a single channel."""
        self._add(input, target, mask)

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> Any:
        """``update`` with the batch, and return its scores alone (not summed over ranks)."""
        return self._shown(self._results(self._add(input, target, mask)))

    def _state(self) -> ConfusionState:
        with self._lock:
            state = ConfusionState(self.counts, self.images)
        if self.torch_options.sync_on_compute and is_distributed():
            state = ConfusionState(summed_over_ranks(self.counts), summed_over_ranks(self.images))
        return state

    def _results(self, state: ConfusionState, *, per_class: bool = False) -> dict[str, Averaged]:
        images = None if self.options.aggregation_level == "global" else state.images
        return state_results(ConfusionState(state.counts, images), self.names, self.options,
                             per_class=per_class)  # fmt: skip

    def _shown(self, results: dict[str, Averaged]) -> Any:
        values = {name: result.value for name, result in results.items()}
        return values[self.names[0]] if len(values) == 1 else values

    def compute(self) -> Any:
        """Each score of everything seen (summed over the process group): a tensor for one
        score, a dict ``{name: tensor}`` for several. Before any update: NaN (no class seen)."""
        state = self._state()
        if not state.counts.shape[-1]:
            warnings.warn(
                f"{type(self).__name__}.compute() called before any update(): no class has "
                "been seen, so every score is NaN.",
                UserWarning,
                stacklevel=2,
            )
            nan = state.counts.new_full((), float("nan"))
            return self._shown({name: Averaged(nan, nan) for name in self.names})
        return self._shown(self._results(state))

    def entries(self) -> dict[str, torch.Tensor]:
        """The number of entries each value of ``compute()`` averages (MONAI's ``not_nans``):
        classes (``"global"``) or images (``"samplewise"``) that entered the mean."""
        return {name: result.count for name, result in self._results(self._state()).items()}

    def report(self) -> dict[str, float]:
        """``{"dice": value, "dice/<class>": value, ...}``: each score as ``compute()`` gives
        it (left out with ``average="none"``), then one value per class (``class_names``, or
        the class index)."""
        state = self._state()
        averaged, per_class = self._results(state), self._results(state, per_class=True)
        kept = int(state.counts.shape[-1])
        owner = type(self).__name__
        # channels unknown (a loaded checkpoint): class 0 was left out where the option says so
        channels = self._channels or kept + (not self.options.include_background)
        labels = class_labels(self.torch_options.class_names, channels, kept, owner)
        values = {score: result.value for score, result in averaged.items()}
        classes = {score: result.value.tolist() for score, result in per_class.items()}
        return report(
            {s: float(v) if v.ndim == 0 else v for s, v in values.items()},
            classes,
            labels,
            average=self.options.average,
            item=lambda values, index: values[index],
        )

    def reset(self) -> None:
        with self._lock:
            device = self.counts.device
            self.counts = self._empty((4,), device)
            self.images = self._empty((len(self.names), 2), device)
            self.samples_seen = torch.zeros((), dtype=torch.int64, device=device)

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        # The checkpoint's class count replaces the metric's: the buffers take its shapes.
        with self._lock:
            for name in ("counts", "images"):
                value = state_dict.get(prefix + name)
                if isinstance(value, torch.Tensor):
                    setattr(self, name, getattr(self, name).new_zeros(value.shape))
            super()._load_from_state_dict(state_dict, prefix, *args)
            self.counts, self.images = self.counts.to(STATE_DTYPE), self.images.to(STATE_DTYPE)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> Any:
        # ``.half()`` would round the counts: follow the device only.
        with self._lock:
            held = self.counts, self.images
            result = super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
            device = self.counts.device
            self.counts, self.images = (s.to(device=device, dtype=STATE_DTYPE) for s in held)
        return result

    def extra_repr(self) -> str:
        shown = self._shown_options()
        if self.score:
            shown.pop("metrics")
        return describe(shown, self.adapter.defaults_of(self.core))


ConfusionMatrixMetric.declare(FBetaOptions, ADAPTER)


EXAMPLE = """        >>> import torch
        >>> metric = {made}
        >>> metric.update(torch.tensor([[{prediction}]]), torch.tensor([{target}]))
        >>> round(float(metric.compute()), 4)"""


def _single(name: str) -> type[ConfusionMatrixMetric]:
    """The class ``name`` of one score (``SINGLE_SCORES``)."""
    namespace = {"score": SINGLE_SCORES[name].score, "__doc__": single_score_doc(name, EXAMPLE)}
    return type(name, (ConfusionMatrixMetric,), {"__module__": __name__, **namespace})


Specificity = _single("Specificity")
FBetaScore = _single("FBetaScore")
BalancedAccuracy = _single("BalancedAccuracy")
MatthewsCorrCoef = _single("MatthewsCorrCoef")
NegativePredictiveValue = _single("NegativePredictiveValue")
FalsePositiveRate = _single("FalsePositiveRate")
FalseNegativeRate = _single("FalseNegativeRate")
