"""Flax NNX metrics, declared from the registry: ``update(logits=..., labels=...)``, ``compute()``.

Each metric accumulates the additive statistics ``tp``, ``Σy`` and ``Σp`` of every batch passed
to ``update`` and takes their ratio in ``compute``: the value of everything seen, not a mean of
per-batch values. ``num_classes=None`` pools every axis; ``num_classes=C`` keeps one sum per
class on ``class_axis`` and ``compute`` averages the class scores. ``update`` follows
``nnx.metrics.Accuracy`` (keyword arguments, extra ones ignored), so a metric sits in an
``nnx.MultiMetric`` beside ``nnx.metrics.Average("loss")``; ``logits`` are probabilities unless
``from_logits`` says otherwise, as in every xploss metric.

State dtype: float64 where JAX has it, that is when ``jax.config.jax_enable_x64`` is on at the
time the metric is built; float32 otherwise. The state never takes the inputs' dtype: a batch
is summed in float32 (bfloat16 and float16 inputs included; float64 inputs in float64) and its
sums are added to the state in the state's dtype. In float32, counts (the hard statistics,
``threshold`` set) are exact up to 2**24 per class; beyond that, each accumulation adds at most
one rounding of relative size 2**-24, so after ``n`` updates the relative error of a sum is at
most about ``n·6e-8`` (6e-5 after 1,000 updates, far below what a reported score shows). Turn on
``jax_enable_x64`` before building the metric for float64 sums.

With ``num_classes=C`` a batch with another number of classes on ``class_axis`` raises
``ValueError`` (it would broadcast into the sums). ``compute()`` before any update is the score
of empty statistics, without a warning (it may run under ``jax.jit``): the metric's
``zero_division`` unless smoothed, what a class with no pixel scores (Dice and IoU 1, TPR and
precision 0).

Devices: under ``jax.jit`` on arrays sharded over a mesh the sums already span the global array,
and nothing is needed. Inside ``shard_map`` or ``pmap``, where each device sees its shard, pass
``all_reduce=xploss.jax.all_reduce("batch")`` to the constructor: each ``update`` then adds the
statistics of the whole global batch, summed over the named axis, so every device holds the
same state and ``compute()`` gives the value of the global data on each. ``update`` itself takes
no ``all_reduce`` (a ``TypeError`` says where it goes), unlike the extra keywords it ignores.

Threads: the state is a Flax ``Variable`` rewritten by each ``update`` (read, add, store), with
no lock: concurrent updates of one metric from several threads can lose batches. Give each
thread its own metric and add their states (``tp``, ``sum_true``, ``sum_pred``), or update from
one thread; under ``jax.jit`` and ``nnx.jit`` the state is threaded through the step
functionally, as for every NNX metric.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from xploss import _checks
from xploss._options import MetricOptions, PerClass, Synced
from xploss._records import record
from xploss._registry import METRICS, Adapter, Metric, describe
from xploss._state import per_class_axes
from xploss._statistics import OverlapStats, statistics

__all__ = ["DiceCoefficient", "JaccardIndex", "Precision", "TruePositiveRate"]


@record
class FlaxOptions(PerClass, Synced):
    """The Flax metrics' own options: ``num_classes``, and ``all_reduce`` for ``shard_map``."""


ADAPTER = Adapter(own=FlaxOptions, hidden=frozenset({"axis"}))


def state_dtype() -> Any:
    """float64 where JAX has it (``jax_enable_x64``), else float32."""
    x64 = jax.config.jax_enable_x64  # type: ignore[attr-defined]  # set by jax.config.update
    return jnp.float64 if x64 else jnp.float32


class RegisteredMetric(nnx.metrics.Metric):
    """A metric of the registry as a Flax NNX metric: ``class DiceCoefficient(RegisteredMetric,
    metric="dice_coefficient")``.

    The keyword options are validated once, in the constructor, into ``self.options`` (the core's
    record) and ``self.flax_options`` (``num_classes``); they read as attributes too.
    """

    entry: ClassVar[Metric]
    options: MetricOptions
    flax_options: FlaxOptions

    def __init_subclass__(cls, *, metric: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if metric:
            cls.entry = METRICS[metric]
            cls.__signature__ = ADAPTER.signature(cls.entry.options)  # type: ignore[attr-defined]

    def __init__(self, **options: Any) -> None:
        core, own = ADAPTER.build(self.entry.options, options, f"{type(self).__name__}()")
        assert isinstance(core, MetricOptions) and isinstance(own, FlaxOptions)
        self.options, self.flax_options = core, own
        shape = () if own.num_classes is None else (own.num_classes,)
        dtype = state_dtype()
        self.tp = nnx.metrics.MetricState(jnp.zeros(shape, dtype))
        self.sum_true = nnx.metrics.MetricState(jnp.zeros(shape, dtype))
        self.sum_pred = nnx.metrics.MetricState(jnp.zeros(shape, dtype))

    def _states(self) -> tuple[nnx.metrics.MetricState, ...]:
        return self.tp, self.sum_true, self.sum_pred

    def reset(self) -> None:
        for state in self._states():
            state[...] = jnp.zeros_like(state[...])

    def update(  # type: ignore[override]
        self, *, logits: jax.Array, labels: jax.Array, mask: jax.Array | None = None, **extra: Any
    ) -> None:
        """Add a batch: ``labels`` one-hot (``logits``' shape) or class indices (without
        ``class_axis``); ``mask`` removes the elements where it is 0. Other keywords are ignored
        (``nnx.MultiMetric`` passes every metric's), except ``all_reduce``, which is the
        constructor's."""
        if "all_reduce" in extra:
            name = type(self).__name__
            raise TypeError(
                f"{name}.update() takes no all_reduce: pass it to the constructor, "
                f'{name}(all_reduce=xploss.jax.all_reduce("batch")), and every update sums its '
                "batch's statistics over that axis"
            )
        stats = statistics(labels, logits, self._summed_over(logits), mask)[1]
        reducer = self.flax_options.all_reduce
        if reducer is not None:
            stats = OverlapStats(*reducer(stats))
        for state, value in zip(self._states(), stats, strict=True):
            total = state[...]
            state[...] = total + value.astype(total.dtype)

    def _summed_over(self, logits: jax.Array) -> MetricOptions:
        """The options with the axes that ``update`` sums over: all, or all but the classes."""
        classes = self.flax_options.num_classes
        if classes is None:
            return self.options  # axis=None: every axis
        shape, class_axis = _checks.shape_of(logits), self.options.class_axis
        axes = per_class_axes(type(self).__name__, classes, "logits", shape, class_axis)
        return self.options.updated({"axis": axes})

    def compute(self) -> jax.Array:
        """The score of everything seen (the mean over classes with ``num_classes``)."""
        stats = OverlapStats(*(state[...] for state in self._states()))
        return jnp.mean(self.entry.score(stats, self.options, jnp))

    def _shown_options(self) -> dict[str, Any]:
        return ADAPTER.values(self.options, self.flax_options)

    def __getattr__(self, name: str) -> Any:
        # The options read as attributes, as in 0.1 (``metric.num_classes``).
        shown = self._shown_options() if "flax_options" in self.__dict__ else {}
        if name in shown:
            return shown[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        defaults = ADAPTER.defaults_of(self.entry.options)
        return f"{type(self).__name__}({describe(self._shown_options(), defaults)})"

    __str__ = __repr__  # rather than Flax's tree of the state


class DiceCoefficient(RegisteredMetric, metric="dice_coefficient"):
    """Flax NNX metric: the Dice ``2·tp / (Σy + Σp)`` of everything seen.

    Hard by default (``p > 0.5``; ``threshold=None`` for soft Dice) and unsmoothed: a class empty
    in both labels and prediction scores ``zero_division`` (1). Probabilities by default; pass
    ``from_logits=True`` (sigmoid) or ``"softmax"`` for a net's raw outputs.

    Example:
        >>> import jax.numpy as jnp
        >>> metric = DiceCoefficient()
        >>> metric.update(logits=jnp.array([0.9, 0.2]), labels=jnp.array([1, 0]))
        >>> metric.update(logits=jnp.array([0.8, 0.6]), labels=jnp.array([1, 1]))
        >>> float(metric.compute())  # 2·3 / (3 + 3): the Dice of everything seen
        1.0
        >>> DiceCoefficient(from_logits=True)
        DiceCoefficient(from_logits=True, threshold=0.5, zero_division=1, smooth_nr=0, smooth_dr=0)
    """


class JaccardIndex(RegisteredMetric, metric="jaccard_index"):
    """Flax NNX metric: the Jaccard index (IoU) ``tp / (Σy + Σp - tp)`` of everything seen.

    ``DiceCoefficient``'s options (hard, ``p > 0.5``; unsmoothed; probabilities by default).

    Example:
        >>> import jax.numpy as jnp
        >>> metric = JaccardIndex()
        >>> probabilities = jnp.array([[0.9, 0.2, 0.7], [0.8, 0.3, 0.6]])  # two images
        >>> metric.update(logits=probabilities, labels=jnp.array([[1, 0, 1], [1, 1, 0]]))
        >>> round(float(metric.compute()), 4)  # tp = 3 of a union of 5
        0.6
    """


class TruePositiveRate(RegisteredMetric, metric="true_positive_rate"):
    """Flax NNX metric: the recall ``Σ y·[p > threshold] / Σ y`` of everything seen.

    A class with no positives scores ``zero_division`` (0). Probabilities by default.

    Example:
        >>> import jax.numpy as jnp
        >>> metric = TruePositiveRate(num_classes=2)
        >>> probabilities = jnp.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.8]])
        >>> metric.update(logits=probabilities, labels=jnp.array([0, 0, 1]))
        >>> [round(float(r), 4) for r in (metric.tp[...] / metric.sum_true[...])]  # per class
        [0.5, 1.0]
        >>> float(metric.compute())  # their mean
        0.75
    """


class Precision(RegisteredMetric, metric="precision"):
    """Flax NNX metric: the precision ``Σ y·[p > threshold] / Σ [p > threshold]`` of everything
    seen.

    A class with no positive prediction scores ``zero_division`` (0). See ``TruePositiveRate``.

    Example:
        >>> import jax.numpy as jnp
        >>> metric = Precision(threshold=0.75)
        >>> probabilities = jnp.array([0.9, 0.7, 0.8, 0.3])
        >>> metric.update(logits=probabilities, labels=jnp.array([1, 0, 1, 1]))
        >>> float(metric.compute())  # both predictions above 0.75 are right
        1.0
        >>> metric.reset()
        >>> float(metric.compute())  # nothing predicted: zero_division
        0.0
    """
