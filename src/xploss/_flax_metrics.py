"""Flax NNX metrics over the additive statistics (``xploss.jax.DiceCoefficient``, ...)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from xploss import _checks
from xploss._scores import dice_score, jaccard_score, precision_score, true_positive_score
from xploss._statistics import OverlapStats, overlap_stats

__all__ = ["DiceCoefficient", "JaccardIndex", "Precision", "TruePositiveRate"]


class _OverlapMetric(nnx.metrics.Metric):
    """Accumulates ``tp``, ``Σy`` and ``Σp`` (float32) over every ``update``.

    ``update(logits=..., labels=...)`` follows ``nnx.metrics.Accuracy`` (extra keyword arguments
    are ignored, so it sits in an ``nnx.MultiMetric``); ``labels`` are one-hot or class indices,
    ``logits`` are probabilities when ``from_logits=False``. With ``num_classes=None`` the sums
    pool every axis; with ``num_classes=C`` they are kept per class on ``class_axis`` and
    ``compute`` averages the class scores.
    """

    def __init__(
        self,
        *,
        num_classes: int | None,
        class_axis: int,
        from_logits: bool | str,
        threshold: float | None,
        zero_division: float,
    ) -> None:
        _checks.check_activation(from_logits)
        self.num_classes = num_classes
        self.class_axis = class_axis
        self.from_logits = from_logits
        self.threshold = threshold
        self.zero_division = _checks.check_real(zero_division, "zero_division")
        shape = () if num_classes is None else (num_classes,)
        self.tp = nnx.metrics.MetricState(jnp.zeros(shape, jnp.float32))
        self.sum_true = nnx.metrics.MetricState(jnp.zeros(shape, jnp.float32))
        self.sum_pred = nnx.metrics.MetricState(jnp.zeros(shape, jnp.float32))

    def _states(self) -> tuple[Any, Any, Any]:
        return self.tp, self.sum_true, self.sum_pred

    def reset(self) -> None:
        for state in self._states():
            state[...] = jnp.zeros_like(state[...])

    def update(  # type: ignore[override]
        self, *, logits: jax.Array, labels: jax.Array, mask: jax.Array | None = None, **_: Any
    ) -> None:
        axis = None
        if self.num_classes is not None:
            classes = self.class_axis % logits.ndim
            axis = tuple(a for a in range(logits.ndim) if a != classes)
        stats = overlap_stats(
            labels,
            logits,
            axis=axis,
            class_axis=self.class_axis,
            from_logits=self.from_logits,
            threshold=self.threshold,
            mask=mask,
        )
        for state, value in zip(self._states(), stats, strict=True):
            state[...] += value.astype(jnp.float32)

    def _score(self, stats: OverlapStats) -> jax.Array:
        raise NotImplementedError

    def compute(self) -> jax.Array:
        stats = OverlapStats(*(state[...] for state in self._states()))
        return jnp.mean(self._score(stats))


class DiceCoefficient(_OverlapMetric):
    """Flax NNX metric: the Dice of everything seen (hard, ``p > 0.5``; unsmoothed).

    Example:
        >>> import jax.numpy as jnp
        >>> metric = DiceCoefficient(from_logits=False)
        >>> metric.update(logits=jnp.array([0.9, 0.2]), labels=jnp.array([1, 0]))
        >>> metric.update(logits=jnp.array([0.8, 0.6]), labels=jnp.array([1, 1]))
        >>> float(metric.compute())
        1.0
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        class_axis: int = -1,
        from_logits: bool | str = True,
        threshold: float | None = 0.5,
        smooth_nr: float = 0.0,
        smooth_dr: float = 0.0,
        zero_division: float = 1.0,
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            class_axis=class_axis,
            from_logits=from_logits,
            threshold=threshold,
            zero_division=zero_division,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")

    def _score(self, stats: OverlapStats) -> jax.Array:
        return dice_score(  # type: ignore[no-any-return]
            stats,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            zero_division=self.zero_division,
            xp=jnp,
        )


class TruePositiveRate(_OverlapMetric):
    """Flax NNX metric: ``Σ y·[p > 0.5] / Σ y`` over everything seen (``zero_division`` 0).

    Example:
        >>> import jax.numpy as jnp
        >>> metric = TruePositiveRate(from_logits=False)
        >>> metric.update(logits=jnp.array([0.9, 0.4]), labels=jnp.array([1, 1]))
        >>> metric.update(logits=jnp.array([0.6, 0.2]), labels=jnp.array([1, 0]))
        >>> round(float(metric.compute()), 4)  # 2 of the 3 positives found
        0.6667
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        class_axis: int = -1,
        from_logits: bool | str = True,
        threshold: float | None = 0.5,
        zero_division: float = 0.0,
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            class_axis=class_axis,
            from_logits=from_logits,
            threshold=threshold,
            zero_division=zero_division,
        )

    def _score(self, stats: OverlapStats) -> jax.Array:
        return true_positive_score(  # type: ignore[no-any-return]
            stats, zero_division=self.zero_division, xp=jnp
        )


class JaccardIndex(DiceCoefficient):
    """Flax NNX metric: the Jaccard index (IoU) ``tp / (Σy + Σp - tp)`` of everything seen.

    ``DiceCoefficient``'s options (hard, ``p > 0.5``; unsmoothed; logits by default).

    Example:
        >>> import jax.numpy as jnp
        >>> metric = JaccardIndex(from_logits=False)
        >>> metric.update(logits=jnp.array([0.9, 0.2]), labels=jnp.array([1, 0]))
        >>> metric.update(logits=jnp.array([0.8, 0.3]), labels=jnp.array([1, 1]))
        >>> round(float(metric.compute()), 4)  # tp = 2 of a union of 3
        0.6667
    """

    def _score(self, stats: OverlapStats) -> jax.Array:
        return jaccard_score(  # type: ignore[no-any-return]
            stats,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            zero_division=self.zero_division,
            xp=jnp,
        )


class Precision(TruePositiveRate):
    """Flax NNX metric: the precision ``Σ y·[p > 0.5] / Σ [p > 0.5]`` of everything seen.

    Example:
        >>> import jax.numpy as jnp
        >>> metric = Precision(from_logits=False)
        >>> metric.update(logits=jnp.array([0.9, 0.7]), labels=jnp.array([1, 0]))
        >>> metric.update(logits=jnp.array([0.8, 0.3]), labels=jnp.array([1, 1]))
        >>> round(float(metric.compute()), 4)  # 2 of the 3 predicted positives
        0.6667
    """

    def _score(self, stats: OverlapStats) -> jax.Array:
        return precision_score(  # type: ignore[no-any-return]
            stats, zero_division=self.zero_division, xp=jnp
        )
