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

import inspect
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import torch
import torch.distributed as dist

from xploss._confusion_average import Averaged
from xploss._confusion_state import ConfusionState, batch_state, score_names, state_results
from xploss._options import Options, option, record
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


def class_names(value: object, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):  # type: ignore[attr-defined]
        raise TypeError(f"{name} must be a sequence of str, one per class; got {value!r}.")
    return tuple(value)  # type: ignore[arg-type]


@record
class Evaluation(Options):
    """The torch metric's own options."""

    metrics: tuple[str, ...] = option(("dice",), score_names, "the scores: names or aliases")
    class_names: tuple[str, ...] | None = option(
        None, class_names, "one name per class of the input, for report()"
    )
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
    images: torch.Tensor
    samples_seen: torch.Tensor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.score:
            parameters = cls.__signature__.parameters.values()  # type: ignore[attr-defined]
            kept = [p for p in parameters if p.name != "metrics"]
            cls.__signature__ = inspect.Signature(kept)  # type: ignore[attr-defined]

    def __init__(self, **options: Any) -> None:
        if self.score:
            if "metrics" in options:
                raise TypeError(
                    f"{type(self).__name__} computes {self.score!r} alone: use "
                    "ConfusionMatrixMetric(metrics=...) for other or several scores."
                )
            options["metrics"] = (self.score,)
        super().__init__(**options)
        self.names = self.torch_options.metrics
        self.register_buffer("counts", self._empty((4,)))
        self.register_buffer("images", self._empty((len(self.names), 2)))
        self.register_buffer("samples_seen", torch.zeros((), dtype=torch.int64))
        self._background_left_out = not self.options.include_background

    @classmethod
    def declare_defaults(cls) -> None:
        cls.declare(FBetaOptions, ADAPTER)

    def _empty(self, rows: tuple[int, ...], device: Any = None) -> torch.Tensor:
        return torch.zeros((*rows, 0), dtype=STATE_DTYPE, device=device)

    def _kept(self, input: torch.Tensor, *arrays: torch.Tensor | None) -> tuple[Any, ...]:
        """The arrays without the samples past ``dataset_size`` (``DistributedSampler``'s
        padding), and the number of samples this batch moves the position by."""
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
        channels = 1 if class_axis is None else int(input.shape[class_axis])
        # include_background=False keeps a single channel (with a warning), as MONAI does
        self._background_left_out = not self.options.include_background and channels > 1
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
        it, then one value per class (``class_names``, or the class index)."""
        state = self._state()
        averaged, per_class = self._results(state), self._results(state, per_class=True)
        names = self._class_names(int(per_class[self.names[0]].value.shape[-1]))
        report: dict[str, float] = {}
        for score in self.names:
            if self.options.average != "none":  # else the per-class values are the report
                report[score] = float(averaged[score].value)
            for name, value in zip(names, per_class[score].value.tolist(), strict=True):
                report[f"{score}/{name}"] = value
        return report

    def _class_names(self, count: int) -> tuple[str, ...]:
        given: tuple[str, ...] | None = self.torch_options.class_names
        if given is None:
            first = int(self._background_left_out)
            return tuple(str(c) for c in range(first, first + count))
        if len(given) == count + 1 and self._background_left_out:
            return given[1:]
        if len(given) != count:
            raise ValueError(
                f"class_names has {len(given)} names, but the metric's state holds {count} "
                "classes: give one name per class of the input (the background's too)."
            )
        return given

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


ConfusionMatrixMetric.declare_defaults()


class Specificity(ConfusionMatrixMetric):
    """Specificity ``tn / (tn + fp)`` of everything seen; see ``ConfusionMatrixMetric``.

    Example:
        >>> import torch
        >>> metric = Specificity()
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # tn = 1 of tn + fp = 2
        0.5
    """

    score = "specificity"


class FBetaScore(ConfusionMatrixMetric):
    """F-beta ``(1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp)`` of everything seen (``beta``).

    Example:
        >>> import torch
        >>> metric = FBetaScore(beta=2.0)
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # tp = fp = fn = 1: F-beta is 1/2 whatever beta
        0.5
    """

    score = "f_beta"


class BalancedAccuracy(ConfusionMatrixMetric):
    """Balanced accuracy ``(recall + specificity) / 2`` of each class against the rest.

    Example:
        >>> import torch
        >>> metric = BalancedAccuracy()
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # (1/2 + 1/2) / 2
        0.5
    """

    score = "balanced_accuracy"


class MatthewsCorrCoef(ConfusionMatrixMetric):
    """Matthews correlation of each class against the rest, of everything seen.

    Example:
        >>> import torch
        >>> metric = MatthewsCorrCoef()
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # tp·tn - fp·fn = 0
        0.0
    """

    score = "matthews_corrcoef"


class NegativePredictiveValue(ConfusionMatrixMetric):
    """Negative predictive value ``tn / (tn + fn)`` of everything seen.

    Example:
        >>> import torch
        >>> metric = NegativePredictiveValue()
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # tn = 1 of tn + fn = 2
        0.5
    """

    score = "negative_predictive_value"


class FalsePositiveRate(ConfusionMatrixMetric):
    """False-positive rate ``fp / (fp + tn)`` of everything seen (lower is better).

    Example:
        >>> import torch
        >>> metric = FalsePositiveRate()
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # fp = 1 of fp + tn = 2
        0.5
    """

    score = "false_positive_rate"


class FalseNegativeRate(ConfusionMatrixMetric):
    """False-negative rate ``fn / (fn + tp)`` of everything seen (lower is better).

    Example:
        >>> import torch
        >>> metric = FalseNegativeRate()
        >>> metric.update(torch.tensor([[[0.9, 0.8, 0.2, 0.1]]]), torch.tensor([[1, 0, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # fn = 1 of fn + tp = 2
        0.5
    """

    score = "false_negative_rate"
