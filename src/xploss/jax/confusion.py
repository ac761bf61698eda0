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

import types
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from xploss import _checks
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
from xploss._options import PerClass, Synced, record
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


@record
class FlaxConfusionOptions(Reporting, PerClass, Synced):
    """The Flax metric's own options: the scores, the classes, and ``all_reduce``."""


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
            cls.__signature__ = without_metrics(_SIGNATURE)  # type: ignore[attr-defined]

    def __init__(self, **options: Any) -> None:
        owner = f"{type(self).__name__}()"
        if self.score:
            options = one_score(owner, self.score, options)
        core, own = ADAPTER.build(FBetaOptions, options, owner)
        assert isinstance(core, FBetaOptions) and isinstance(own, FlaxConfusionOptions)
        core = _class_axis(core, own.num_classes, options, owner)
        self.options, self.flax_options, self.names = core, own, own.metrics
        # include_background=False drops class 0, unless it is the only one (as the core does)
        count = own.num_classes or 1
        self.classes = tuple(range(0 if core.include_background or count == 1 else 1, count))
        self.class_labels = class_labels(own.class_names, count, len(self.classes), owner)
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

    def _results(self, *, per_class: bool = False, field: str = "value") -> dict[str, Any]:
        samplewise = self.options.aggregation_level == "samplewise"
        state = ConfusionState(self.counts[...], self.images[...] if samplewise else None)
        results = state_results(state, self.names, self.options, per_class=per_class)
        return {name: getattr(result, field) for name, result in results.items()}

    def entries(self) -> dict[str, jax.Array]:
        """The number of entries each value of ``compute()`` averages (MONAI's ``not_nans``):
        classes (``"global"``) or images (``"samplewise"``) that entered the mean."""
        return self._results(field="count")

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
        return report(
            averaged,
            per_class,
            self.class_labels,
            average=self.options.average,
            item=lambda values, index: values[index],
        )

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


EXAMPLE = """        >>> import jax.numpy as jnp
        >>> metric = {made}
        >>> metric.update(logits=jnp.array({prediction}), labels=jnp.array({target}))
        >>> round(float(metric.compute()), 4)"""


def _single(name: str) -> type[ConfusionMatrixMetric]:
    """The class ``name`` of one score (``SINGLE_SCORES``)."""
    namespace = {"score": SINGLE_SCORES[name].score, "__doc__": single_score_doc(name, EXAMPLE)}
    made = types.new_class(
        name, (ConfusionMatrixMetric,), {}, lambda ns: ns.update(__module__=__name__, **namespace)
    )
    return made


Specificity = _single("Specificity")
FBetaScore = _single("FBetaScore")
BalancedAccuracy = _single("BalancedAccuracy")
MatthewsCorrCoef = _single("MatthewsCorrCoef")
NegativePredictiveValue = _single("NegativePredictiveValue")
FalsePositiveRate = _single("FalsePositiveRate")
FalseNegativeRate = _single("FalseNegativeRate")
