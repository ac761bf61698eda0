"""Keras stateful metrics, declared from the registry: the score of everything seen.

The metrics accumulate the additive statistics ``tp``, ``Σy`` and ``Σp`` over every batch, so the
logged value is the Dice (or TPR, ...) of the whole dataset since the last reset, not an average
of batch values. With ``num_classes=None`` the sums pool every axis (the seeds' ``dice_coef`` over
``[1, 2, 3]``, for the whole dataset); with ``num_classes=C`` they are kept per class on
``class_axis`` and the result is the mean of the per-class values. ``sample_weight`` of shape
``(batch,)`` weighs each sample's pixels in the sums.

State dtype: the statistic variables are float64 where the backend has it: always on the
TensorFlow and PyTorch backends, and on JAX when ``jax.config.jax_enable_x64`` is on; float32 on
JAX otherwise. Their dtype is explicit, so a global ``mixed_float16`` or ``mixed_bfloat16``
policy leaves it unchanged. ``result()`` returns float32, as in 0.1. In float32 the counts of hard
statistics are exact up to 2**24 (16.7 million pixels) per class; beyond, each accumulation adds
at most one rounding of relative size 2**-24, so after n updates the relative error of a sum is
at most about n·6e-8 (1e-4 after about 1700 batches). In float64 that bound is 2**-53 per update.
Each batch's statistics are summed in float32 (float64 for float64 predictions) before they are
added to the state.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import keras
from keras import ops

from xploss._namespace import array_namespace
from xploss._options import PerClass
from xploss._registry import METRICS, Adapter, Metric
from xploss._statistics import OverlapStats, statistics
from xploss.keras._base import PACKAGE, Registered, labels

__all__ = ["DiceCoefficient", "JaccardIndex", "Precision", "TruePositiveRate"]

RESULT_DTYPE = "float32"


ADAPTER = Adapter(own=PerClass, hidden=frozenset({"axis"}))
"""``num_classes`` chooses the axes; ``name`` and ``dtype`` are Keras'."""


def state_dtype() -> str:
    """float64, but on JAX without ``jax_enable_x64`` (which has no float64): float32."""
    if keras.backend.backend() == "jax":  # Keras has imported JAX: read its switch
        x64 = sys.modules["jax"].config.read("jax_enable_x64")
        return "float64" if x64 else "float32"
    return "float64"


class RegisteredMetric(Registered, keras.metrics.Metric):
    """A metric of the registry as a ``keras.metrics.Metric``:
    ``class DiceCoefficient(RegisteredMetric, metric="dice_coefficient")``."""

    entry: ClassVar[Metric]

    def __init_subclass__(cls, *, metric: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if metric:
            cls.entry = METRICS[metric]
            cls.declare(cls.entry.options, ADAPTER, name=cls.entry.name, dtype=None)

    def __init__(self, *, name: str | None = None, dtype: Any = None, **options: Any) -> None:
        super().__init__(name=name or self.entry.name, dtype=dtype)
        self.validate(options)
        classes = self.keras_options.num_classes
        shape = () if classes is None else (classes,)
        state = state_dtype()  # explicit: no dtype policy changes it
        self.stats = [
            self.add_variable(shape=shape, initializer="zeros", dtype=state, name=field)
            for field in OverlapStats._fields
        ]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        options = self.options
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = labels(ops.convert_to_tensor(y_true), y_pred, options.class_axis)
        ndim = len(y_pred.shape)
        axis = None
        if self.keras_options.num_classes is not None:
            axis = tuple(a for a in range(ndim) if a != options.class_axis % ndim)
        mask = None
        if sample_weight is not None:
            weight = ops.cast(ops.convert_to_tensor(sample_weight), y_pred.dtype)
            mask = ops.reshape(weight, (-1,) + (1,) * (ndim - 1))
        _, stats = statistics(y_true, y_pred, options.updated({"axis": axis}), mask)
        for variable, value in zip(self.stats, stats, strict=True):
            variable.assign_add(ops.cast(value, variable.dtype))

    def result(self) -> Any:
        stats = OverlapStats(*(ops.convert_to_tensor(v.value) for v in self.stats))
        xp = array_namespace(tp=stats.tp, sum_true=stats.sum_true, sum_pred=stats.sum_pred)
        return ops.cast(xp.mean(self.entry.score(stats, self.options, xp)), RESULT_DTYPE)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.config_values()}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceCoefficient(RegisteredMetric, metric="dice_coefficient"):
    """The Dice of everything seen since the last reset (hard: ``p > 0.5``; unsmoothed).

    Example:
        >>> import numpy as np
        >>> metric = DiceCoefficient()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]]))
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.8, 0.4]]))
        >>> round(float(metric.result()), 4)  # 2·2 / (3 + 2): the dataset's Dice
        0.8
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class TruePositiveRate(RegisteredMetric, metric="true_positive_rate"):
    """The true-positive rate ``Σ y·[p > 0.5] / Σ y`` of everything seen since the last reset:
    the seeds' ``true_positive_rate`` over the dataset instead of averaged over batches.

    Example:
        >>> import numpy as np
        >>> metric = TruePositiveRate()
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.9, 0.4]]))
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.6, 0.2]]))
        >>> round(float(metric.result()), 4)  # 2 of the 3 positives found
        0.6667
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class JaccardIndex(RegisteredMetric, metric="jaccard_index"):
    """The Jaccard index (IoU) ``tp / (Σy + Σp - tp)`` of everything seen since the last reset.

    ``DiceCoefficient``'s options: hard (``p > 0.5``) and unsmoothed by default; unlike Keras'
    ``MeanIoU`` it takes probabilities (or logits) directly, without an argmax.

    Example:
        >>> import numpy as np
        >>> metric = JaccardIndex()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]]))
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.8, 0.4]]))
        >>> round(float(metric.result()), 4)  # tp = 2 of a union of 3
        0.6667
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class Precision(RegisteredMetric, metric="precision"):
    """The precision ``Σ y·[p > 0.5] / Σ [p > 0.5]`` of everything seen since the last reset.

    ``TruePositiveRate``'s options; ``zero_division`` (0) where nothing was predicted positive.

    Example:
        >>> import numpy as np
        >>> metric = Precision()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.7]]))
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.8, 0.3]]))
        >>> round(float(metric.result()), 4)  # 2 of the 3 predicted positives
        0.6667
    """
