"""Flax NNX confusion-matrix metrics: one additive state of ``tp``, ``fp``, ``fn``, ``tn`` per
class, any number of scores of it, per-class reports, and exact sums over mapped devices.

``update(logits=..., labels=...)`` follows ``nnx.metrics.Accuracy``: a metric sits in an
``nnx.MultiMetric``. ``num_classes=C`` fixes the state's shapes, as ``jax.jit`` needs (``C``
classes on ``class_axis``, one fewer without the background); a batch of another number raises
``ValueError``. ``num_classes=None`` is one binary class without a class axis (the functional
API's ``class_axis=None``): ``logits`` and ``labels`` of one shape, a mask and its probabilities.

State (``xploss._confusion_state``): ``counts`` ``(4, C)``, and for ``"samplewise"`` ``images``
``(M, 2, C + 1)``, the sums of the ``M`` scores' per-image values and their numbers; float64
where JAX has it (``jax_enable_x64`` on when the metric is built), else float32 (exact counts up
to 2**24 per class). Before any update ``compute()`` is ``zero_division``, without a warning (it
may run traced). No lock: give each thread its own metric.

Devices: inside ``shard_map`` or ``pmap``, ``all_reduce=xploss.jax.all_reduce("batch")`` makes
each ``update`` add the state of the global batch, summed over the named axis. Every part of the
state is a sum (the per-image values and their numbers too), so the sum is exact for
``"global"`` and ``"samplewise"`` alike, and every device holds the same state.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from xploss import _checks
from xploss._confusion_state import ConfusionState, batch_state, score_names, state_results
from xploss._options import PerClass, Synced, option, record
from xploss._options_confusion import FBetaOptions
from xploss._registry import Adapter, describe
from xploss._state import per_class_axes
from xploss.jax.metrics import state_dtype

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


def class_names(value: object, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):  # type: ignore[attr-defined]
        raise TypeError(f"{name} must be a sequence of str, one per class; got {value!r}.")
    return tuple(value)  # type: ignore[arg-type]


@record
class FlaxConfusionOptions(PerClass, Synced):
    """The Flax metric's own options: the scores, the classes, and ``all_reduce``."""

    metrics: tuple[str, ...] = option(("dice",), score_names, "the scores: names or aliases")
    class_names: tuple[str, ...] | None = option(
        None, class_names, "one name per class of logits, for compute_report()"
    )


ADAPTER = Adapter(own=FlaxConfusionOptions, hidden=frozenset({"all_reduce"}))


class ConfusionMatrixMetric(nnx.metrics.Metric):
    """Flax NNX metric: confusion-matrix scores of everything seen, ``update(logits=...,
    labels=...)``, ``compute()``, ``compute_report()``, ``reset()``.

    ``metrics`` names the scores (``xploss.CONFUSION_SCORES`` or their aliases: ``"mcc"``,
    ``"sensitivity"``, ...); ``num_classes`` fixes the classes (None: one binary class without
    a class axis); the other options are ``xploss.confusion_metric``'s.

    Example:
        >>> import jax.numpy as jnp
        >>> metric = ConfusionMatrixMetric(metrics=("dice", "specificity"), from_logits=True)
        >>> metric.update(logits=jnp.array([2.0, -1.0, 1.0, -2.0]), labels=jnp.array([1, 0, 0, 0]))
        >>> {k: round(float(v), 4) for k, v in metric.compute().items()}
        {'dice': 0.6667, 'specificity': 0.6667}
        >>> metric = ConfusionMatrixMetric(num_classes=2, class_names=("background", "tumour"))
        >>> metric.update(logits=jnp.array([[0.9, 0.1], [0.2, 0.8]]), labels=jnp.array([0, 0]))
        >>> {k: round(float(v), 4) for k, v in metric.compute_report().items()}
        {'dice': 0.3333, 'dice/background': 0.6667, 'dice/tumour': 0.0}
    """

    score: ClassVar[str] = ""
    """A subclass's one score (``Specificity``): ``metrics`` is then no option."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.score:
            kept = [p for p in _SIGNATURE.parameters.values() if p.name != "metrics"]
            cls.__signature__ = inspect.Signature(kept)  # type: ignore[attr-defined]

    def __init__(self, **options: Any) -> None:
        owner = f"{type(self).__name__}()"
        if self.score:
            if "metrics" in options:
                raise TypeError(
                    f"{type(self).__name__} computes {self.score!r} alone: use "
                    "ConfusionMatrixMetric(metrics=...) for other or several scores."
                )
            options["metrics"] = (self.score,)
        core, own = ADAPTER.build(FBetaOptions, options, owner)
        assert isinstance(core, FBetaOptions) and isinstance(own, FlaxConfusionOptions)
        core = _class_axis(core, own.num_classes, options, owner)
        self.options, self.flax_options, self.names = core, own, own.metrics
        # include_background=False drops class 0, unless it is the only one (as the core does)
        count = own.num_classes or 1
        self.classes = tuple(range(0 if core.include_background or count == 1 else 1, count))
        self.class_labels = _class_labels(self.classes, own, owner)
        samplewise = core.aggregation_level == "samplewise"
        image_columns = len(self.classes) + 1 if samplewise else 0
        dtype = state_dtype()
        self.counts = nnx.metrics.MetricState(jnp.zeros((4, len(self.classes)), dtype))
        self.images = nnx.metrics.MetricState(jnp.zeros((len(self.names), 2, image_columns), dtype))

    def reset(self) -> None:
        for state in (self.counts, self.images):
            state[...] = jnp.zeros_like(state[...])

    def update(  # type: ignore[override]
        self, *, logits: jax.Array, labels: jax.Array, mask: jax.Array | None = None, **extra: Any
    ) -> None:
        """Add a batch: ``labels`` one-hot (``logits``' shape) or class indices (without
        ``class_axis``); ``mask`` removes the elements where it is 0. Other keywords are ignored
        (``nnx.MultiMetric`` passes every metric's), but ``all_reduce``: the constructor's."""
        if "all_reduce" in extra:
            name = type(self).__name__
            raise TypeError(
                f"{name}.update() takes no all_reduce: pass it to the constructor, "
                f'{name}(all_reduce=xploss.jax.all_reduce("batch")), and every update sums its '
                "batch's state over that axis"
            )
        classes, class_axis = self.flax_options.num_classes, self.options.class_axis
        if classes is not None and class_axis is not None:  # else it would broadcast
            per_class_axes(
                type(self).__name__, classes, "logits", _checks.shape_of(logits), class_axis
            )
        batch = batch_state(labels, logits, self.options, mask, self.names)
        reducer = self.flax_options.all_reduce
        if reducer is not None:  # every part is a sum: the devices' sum is the whole batch's
            batch = ConfusionState(*reducer(batch))
        self.counts[...] = self.counts[...] + batch.counts.astype(self.counts[...].dtype)
        if batch.images is not None:
            self.images[...] = self.images[...] + batch.images.astype(self.images[...].dtype)

    def _results(self, *, per_class: bool = False) -> dict[str, Any]:
        samplewise = self.options.aggregation_level == "samplewise"
        state = ConfusionState(self.counts[...], self.images[...] if samplewise else None)
        results = state_results(state, self.names, self.options, per_class=per_class)
        return {name: result.value for name, result in results.items()}

    def compute(self) -> Any:
        """Each score of everything seen: an array for one score, a dict ``{name: array}`` for
        several (``(C,)`` per score with ``average="none"``)."""
        values = self._results()
        return values[self.names[0]] if len(values) == 1 else values

    def compute_report(self) -> dict[str, jax.Array]:
        """``{"dice": value, "dice/<class>": value, ...}``: each score as ``compute()`` gives
        it (left out with ``average="none"``), then one value per class (``class_names``, or
        the class index). 0-d arrays, so that it runs under ``jax.jit`` too: ``float(v)`` for a
        logger."""
        averaged, per_class = self._results(), self._results(per_class=True)
        report: dict[str, jax.Array] = {}
        for score in self.names:
            if self.options.average != "none":  # else the per-class values below are all
                report[score] = averaged[score]
            for index, label in enumerate(self.class_labels):
                report[f"{score}/{label}"] = per_class[score][index]
        return report

    def _shown_options(self) -> dict[str, Any]:
        shown = ADAPTER.values(self.options, self.flax_options)
        if self.score:
            shown.pop("metrics")
        return shown

    def __getattr__(self, name: str) -> Any:
        # The options read as attributes (``metric.num_classes``), as the other Flax metrics'.
        shown = self._shown_options() if "flax_options" in self.__dict__ else {}
        if name in shown:
            return shown[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        defaults = ADAPTER.defaults_of(FBetaOptions)
        return f"{type(self).__name__}({describe(self._shown_options(), defaults)})"

    __str__ = __repr__  # rather than Flax's tree of the state


_SIGNATURE = ADAPTER.signature(FBetaOptions)
ConfusionMatrixMetric.__signature__ = _SIGNATURE  # type: ignore[attr-defined]


def _class_axis(
    core: FBetaOptions, num_classes: int | None, given: dict[str, Any], owner: str
) -> FBetaOptions:
    """The core's ``class_axis``: None for ``num_classes=None`` (one binary class), which takes
    neither a class axis nor a softmax; a ``ValueError`` for those."""
    binary = "num_classes=None is one binary class without a class axis"
    if num_classes is not None and core.class_axis is None:
        raise ValueError(f"{owner}: class_axis=None with num_classes={num_classes}: {binary}.")
    if num_classes is not None:
        return core
    if given.get("class_axis") is not None:
        raise ValueError(
            f"{owner}: class_axis={given['class_axis']!r} needs num_classes; {binary}."
        )
    if core.from_logits == "softmax":  # the softmax of one channel is 1
        raise ValueError(f"{owner}: from_logits='softmax' needs num_classes; {binary}.")
    return core.updated({"class_axis": None})


def _class_labels(
    classes: tuple[int, ...], own: FlaxConfusionOptions, owner: str
) -> tuple[str, ...]:
    """The names of the state's classes in ``compute_report``: ``class_names``, one per class
    of ``logits`` (the background's too), or the class indices."""
    if own.class_names is None:
        return tuple(str(c) for c in classes)
    count = own.num_classes or 1
    if len(own.class_names) != count:
        raise ValueError(
            f"{owner}: class_names has {len(own.class_names)} names, but num_classes="
            f"{own.num_classes} gives {count} classes: one name per class, the background's too."
        )
    return tuple(own.class_names[c] for c in classes)


class Specificity(ConfusionMatrixMetric):
    """Specificity ``tn / (tn + fp)`` of everything seen; see ``ConfusionMatrixMetric``."""

    score = "specificity"


class FBetaScore(ConfusionMatrixMetric):
    """F-beta ``(1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp)`` of everything seen (``beta``)."""

    score = "f_beta"


class BalancedAccuracy(ConfusionMatrixMetric):
    """Balanced accuracy ``(recall + specificity) / 2`` of each class against the rest."""

    score = "balanced_accuracy"


class MatthewsCorrCoef(ConfusionMatrixMetric):
    """Matthews correlation of each class against the rest, of everything seen."""

    score = "matthews_corrcoef"


class NegativePredictiveValue(ConfusionMatrixMetric):
    """Negative predictive value ``tn / (tn + fn)`` of everything seen."""

    score = "negative_predictive_value"


class FalsePositiveRate(ConfusionMatrixMetric):
    """False-positive rate ``fp / (fp + tn)`` of everything seen (lower is better)."""

    score = "false_positive_rate"


class FalseNegativeRate(ConfusionMatrixMetric):
    """False-negative rate ``fn / (fn + tp)`` of everything seen (lower is better)."""

    score = "false_negative_rate"


_EXAMPLE = """

    Example:
        >>> metric = {name}()
        >>> metric.update(logits=jnp.array([0.9, 0.8, 0.1, 0.7]), labels=jnp.array([1, 0, 0, 1]))
        >>> round(float(metric.compute()), 4)  # tp = 2, fp = 1, fn = 0, tn = 1
        {value}
    """
_VALUES = {
    Specificity: 0.5,
    FBetaScore: 0.8,
    BalancedAccuracy: 0.75,
    MatthewsCorrCoef: 0.5774,
    NegativePredictiveValue: 1.0,
    FalsePositiveRate: 0.5,
    FalseNegativeRate: 0.0,
}
for _named, _value in _VALUES.items():  # one example of the same counts each, for help()
    _named.__doc__ = f"{_named.__doc__}{_EXAMPLE.format(name=_named.__name__, value=_value)}"
