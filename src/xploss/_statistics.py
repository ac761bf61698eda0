"""Statistics layer: the additive sums that every overlap score is a ratio of.

Sums over disjoint parts of the data add up to the sums over the whole, so batches, devices and
processes combine by adding statistics, never by averaging scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from xploss._inputs import Inputs, prepare, with_nan
from xploss._namespace import Array
from xploss._options import StatsOptions
from xploss._registry import functional


class OverlapStats(NamedTuple):
    """Sums over the reduced axes; each field has the shape of the unreduced axes.

    With ``squared=True`` the last two fields hold ``Σ y²`` and ``Σ p²`` (the V-Net denominator).
    Being sums, statistics of disjoint parts of the data add up to those of the whole.

    Example:
        >>> import numpy as np
        >>> y_true, y_pred = np.array([1, 0, 1, 1]), np.array([0.9, 0.2, 0.6, 0.3])
        >>> halves = [overlap_stats(y_true[i : i + 2], y_pred[i : i + 2]) for i in (0, 2)]
        >>> whole = OverlapStats(*(a + b for a, b in zip(*halves)))
        >>> np.allclose(whole, overlap_stats(y_true, y_pred))
        True
        >>> round(float(2 * whole.tp / (whole.sum_true + whole.sum_pred)), 6)
        0.72
    """

    tp: Array
    """``Σ y·p``, the (soft) true positives."""
    sum_true: Array
    """``Σ y`` (``Σ y²`` when squared), the reference volume."""
    sum_pred: Array
    """``Σ p`` (``Σ p²`` when squared), the predicted volume."""


def overlap_sums(
    inputs: Inputs, *, squared: bool = False, soft_label: bool = False
) -> OverlapStats:
    if soft_label and not squared:
        return soft_label_sums(inputs)
    xp, y, p, axes = inputs.xp, inputs.y_true, inputs.y_pred, inputs.axes
    y_kept, p_kept = y, p
    if inputs.mask is not None:
        y_kept, p_kept = y * inputs.mask, p * inputs.mask
    tp = xp.sum(y_kept * p, axis=axes)
    if squared:
        return OverlapStats(tp, xp.sum(y_kept * y, axis=axes), xp.sum(p_kept * p, axis=axes))
    return OverlapStats(tp, xp.sum(y_kept, axis=axes), xp.sum(p_kept, axis=axes))


def soft_label_sums(inputs: Inputs) -> OverlapStats:
    """The statistics with ``tp = (Σ p + Σ y - Σ |p - y|) / 2`` (Wang et al. 2023).

    That is ``Σ min(y, p)``: equal to ``Σ y·p`` for 0/1 targets, and exact for soft ones (it is
    ``Σ y`` at ``p = y``, where ``Σ y·p`` is ``Σ y²``). A mask ``m >= 0`` multiplies both inputs,
    and ``|m·p - m·y| = m·|p - y|``. The squared statistics need no such form: the same identity
    with squared norms gives ``Σ y·p`` back, and ``Σ y² + Σ p²`` is already 2·tp at ``p = y``.

    ``|d|`` is written ``d·sign(d)``: the same value, and a slope of 0 at ``d = 0`` in every
    framework (``abs`` has slope 0 there in PyTorch and TensorFlow but 1 in JAX), so where
    ``p = y`` exactly each element adds 1/2 to the gradient of tp, as MONAI's and smp's do.
    """
    xp, y, p, axes = inputs.xp, inputs.y_true, inputs.y_pred, inputs.axes
    if inputs.mask is not None:
        y, p = y * inputs.mask, p * inputs.mask
    sum_true = xp.sum(y, axis=axes)
    sum_pred = xp.sum(p, axis=axes)
    difference = p - y
    distance = xp.sum(difference * xp.sign(difference), axis=axes)
    return OverlapStats((sum_true + sum_pred - distance) / 2, sum_true, sum_pred)


def statistics(
    y_true: Array,
    y_pred: Array,
    options: Any,
    mask: Array | None,
    *,
    keep_class_axis: bool = False,
) -> tuple[Inputs, OverlapStats]:
    """The prepared inputs and their statistics, summed over devices by ``options.all_reduce``.

    ``options`` is a record with the input options, and optionally ``threshold``, ``squared``,
    ``soft_label`` and ``all_reduce`` (those it lacks are off).
    """
    inputs = prepare(
        y_true,
        y_pred,
        options,
        mask,
        threshold=getattr(options, "threshold", None),
        keep_class_axis=keep_class_axis,
    )
    return inputs, statistics_of(inputs, options)


def statistics_of(inputs: Inputs, options: Any) -> OverlapStats:
    """The statistics of prepared inputs (those of ``statistics``): a compound loss prepares its
    inputs once and takes each term's statistics from them."""
    stats = overlap_sums(
        inputs,
        squared=getattr(options, "squared", False),
        soft_label=getattr(options, "soft_label", False),
    )
    if inputs.nan_probes:
        stats = OverlapStats(*with_nan(inputs, *stats))
    reducer = sums_all_reduce(inputs, options)
    return stats if reducer is None else OverlapStats(*reducer(stats))


AllReduce = Callable[[OverlapStats], OverlapStats]


def spans_devices(inputs: Inputs) -> bool:
    """Whether the sums run over the first axis, the one that data parallelism splits between
    devices (or there is no axis at all).

    Then each device holds a part of every sum, and ``all_reduce`` adds them up before any
    ratio. Otherwise every statistic (per image) is whole on its device, and what spans the
    devices is the reduction of the per-element values (``values_all_reduce``).
    """
    return inputs.y_pred.ndim == 0 or 0 in inputs.axes


def sums_all_reduce(inputs: Inputs, options: Any) -> AllReduce | None:
    """``options.all_reduce`` where the sums over ``axis`` span the devices, else None."""
    reducer: AllReduce | None = getattr(options, "all_reduce", None)
    return reducer if reducer is not None and spans_devices(inputs) else None


def values_all_reduce(inputs: Inputs, options: Any) -> AllReduce | None:
    """``options.all_reduce`` where the batch axis survives ``axis`` (per-image values, whose
    ``"mean"`` and ``"sum"`` span the devices), else None."""
    reducer: AllReduce | None = getattr(options, "all_reduce", None)
    return reducer if reducer is not None and not spans_devices(inputs) else None


@functional(StatsOptions)
def overlap_stats(
    y_true: Array, y_pred: Array, options: StatsOptions, mask: Array | None
) -> OverlapStats:
    """The additive statistics ``tp = Σ y·p``, ``Σ y`` and ``Σ p`` over ``axis``.

    Args:
        y_true: targets in [0, 1] (bool, integer or floating) with ``y_pred``'s shape; or,
            with ``y_pred``'s ``class_axis`` left out, the mask of a single-channel ``y_pred``
            (any dtype, soft values too) or class indices (integers, or floats with integral
            values; one-hot encoded inside). Eagerly, non-integral indices and indices outside
            ``[0, C)`` that ``mask`` keeps raise a ValueError; under ``jax.jit``,
            ``torch.compile`` or ``tf.function`` values are not read and they encode to
            all-zero rows.
        y_pred: probabilities, or logits with ``from_logits``.
        mask: removes the elements where it is 0 from every sum; broadcasts to ``y_pred``
            (or has ``y_true``'s shape for sparse labels).
        axis: the axes to sum over, as in NumPy's ``sum``: ``None`` for all of them.
        class_axis: the class axis of ``y_pred``, used by sparse labels, single-channel
            masks and softmax.
        squared: sum ``y²`` and ``p²`` instead of ``y`` and ``p`` (Milletari et al. 2016).
        from_logits: ``False``, ``True``/``"sigmoid"`` or ``"softmax"``.
        threshold: hard statistics: ``p > threshold`` counts as 1 and the rest as 0; after a
            softmax, the one-hot of the arg-max over ``class_axis``. NaN stays NaN.
        soft_label: ``tp = (Σ p + Σ y - Σ |p - y|) / 2`` (Wang et al. 2023), the same as
            ``Σ y·p`` for 0/1 targets and exact for soft ones; no effect with ``squared``.

    Returns:
        ``OverlapStats(tp, sum_true, sum_pred)``, each of ``y_pred``'s shape without ``axis``,
        in float32 (float64 for float64 predictions).

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.75, 0.25], [0.5, 0.25]])
        >>> stats = overlap_stats(y_true, y_pred, axis=1)
        >>> [s.tolist() for s in stats]
        [[0.75, 0.75], [1.0, 2.0], [1.0, 0.75]]
    """
    return statistics(y_true, y_pred, options, mask)[1]
