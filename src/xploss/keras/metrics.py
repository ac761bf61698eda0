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

The state's rules: with ``num_classes=C`` a batch whose ``y_pred`` has another number of classes
on ``class_axis`` raises ``ValueError`` (``num_classes=None`` pools every axis: any count goes).
``sample_weight`` has one weight per sample, cast to the metric's dtype (float32 under
``mixed_float16`` too, as Keras' metrics); a per-pixel map raises ``ValueError``. ``result()``
before any update is the score of empty statistics, silently (it runs traced): the metric's
``zero_division`` unless smoothed, what a class with no pixel scores (Dice and IoU 1, TPR and
precision 0).

Every metric is a score and says so to Keras (``_direction = "up"``, from the registry's
``higher_is_better``): ``EarlyStopping`` and ``ModelCheckpoint`` with ``mode="auto"`` maximise it.

Threads: eager ``update_state``, ``result`` and ``reset_state`` calls from several threads are
serialised by a lock of the metric's around the variables' read-modify-write (``assign_add``
alone loses counts on every backend); the statistics of a batch are computed outside it. Compiled
steps (``model.fit``) update the variables inside the step, as Keras does for its own metrics.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, ClassVar

import keras
from keras import ops

from xploss._namespace import array_namespace
from xploss._options import PerClass
from xploss._registry import METRICS, Adapter, Metric
from xploss._state import per_class_axes
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


def sample_mask(sample_weight: Any, y_pred: Any, owner: str, dtype: Any) -> Any:
    """``sample_weight``, one weight per sample (or one for all), as a mask over ``y_pred``, in
    the metric's ``dtype`` as Keras' metrics cast it: float16 predictions (``mixed_float16``)
    would make a weight of 65520 inf and one of 1e-8 zero."""
    weight = ops.cast(ops.convert_to_tensor(sample_weight), dtype)
    shape, pred = tuple(weight.shape), tuple(y_pred.shape)
    samples = shape[0] if shape else 1
    fits = samples in (1, None, pred[0]) or pred[0] is None
    if not fits or any(d not in (1, None) for d in shape[1:]):
        raise ValueError(
            f"{owner} weighs each sample's pixels, so sample_weight must have shape (batch,) or "
            f"(batch, 1); got sample_weight of shape {shape} for y_pred of shape {pred}. A "
            "per-pixel weight map has no meaning for the dataset's sums: exclude pixels through "
            "the targets instead."
        )
    return ops.reshape(weight, (-1,) + (1,) * (len(pred) - 1))


class RegisteredMetric(Registered, keras.metrics.Metric):
    """A metric of the registry as a ``keras.metrics.Metric``:
    ``class DiceCoefficient(RegisteredMetric, metric="dice_coefficient")``."""

    entry: ClassVar[Metric]
    _direction: ClassVar[str]

    def __init_subclass__(cls, *, metric: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if metric:
            cls.entry = METRICS[metric]
            # What EarlyStopping and ModelCheckpoint(mode="auto") read, as Keras' own metrics.
            cls._direction = "up" if cls.entry.higher_is_better else "down"
            cls.declare(cls.entry.options, ADAPTER, name=cls.entry.name, dtype=None)

    def __init__(self, *, name: str | None = None, dtype: Any = None, **options: Any) -> None:
        super().__init__(name=name or self.entry.name, dtype=dtype)
        self._set_options(options)
        classes = self.keras_options.num_classes
        shape = () if classes is None else (classes,)
        state = state_dtype()  # explicit: no dtype policy changes it
        self.stats = [
            self.add_variable(shape=shape, initializer="zeros", dtype=state, name=field)
            for field in OverlapStats._fields
        ]
        self._state_lock = threading.RLock()

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        options = self.options
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = labels(ops.convert_to_tensor(y_true), y_pred, options.class_axis)
        name, classes = type(self).__name__, self.keras_options.num_classes
        axis = None
        if classes is not None:
            shape = tuple(y_pred.shape)
            axis = per_class_axes(name, classes, "y_pred", shape, options.class_axis)
        if sample_weight is None:
            mask = None
        else:
            mask = sample_mask(sample_weight, y_pred, name, self.dtype)
        _, stats = statistics(y_true, y_pred, options.updated({"axis": axis}), mask)
        with self._state_lock:
            for variable, value in zip(self.stats, stats, strict=True):
                variable.assign_add(ops.cast(value, variable.dtype))

    def result(self) -> Any:
        with self._state_lock:
            stats = OverlapStats(*(ops.convert_to_tensor(v.value) for v in self.stats))
        xp = array_namespace(tp=stats.tp, sum_true=stats.sum_true, sum_pred=stats.sum_pred)
        return ops.cast(xp.mean(self.entry.score(stats, self.options, xp)), RESULT_DTYPE)

    def reset_state(self) -> None:
        with self._state_lock:
            super().reset_state()

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
