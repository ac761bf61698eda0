"""Statistics layer: the additive sums that every overlap score is a ratio of.

Sums over disjoint parts of the data add up to the sums over the whole, so batches, devices and
processes combine by adding statistics, never by averaging scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from xploss import _checks, _labels
from xploss._inputs import Inputs, prepare, with_nan
from xploss._namespace import Array, Namespace, device_of, gathers
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
    if inputs.indices:
        return class_index_sums(inputs, squared=squared)
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


CLASSES_PER_PASS = 8
"""Classes one-hot encoded at a time by ``class_index_sums``: up to 8 classes, one pass as a
full one-hot; for many (TotalSegmentator's 105), temporaries of 8 classes' size, not C."""


def class_passes(num_classes: Any) -> list[tuple[Any, Any]]:
    """``[(0, 8), (8, 16), ...]``; one pass over every class where their number is symbolic."""
    if not isinstance(num_classes, int):
        return [(0, num_classes)]
    return [
        (start, min(start + CLASSES_PER_PASS, num_classes))
        for start in range(0, num_classes, CLASSES_PER_PASS)
    ]


def class_index_sums(inputs: Inputs, *, squared: bool = False) -> OverlapStats:
    """The statistics of class indices (``Inputs.indices``) without their full one-hot array.

    ``tp`` and ``Σ y`` of classes ``[c, c + 8)`` come from the one-hot of those classes alone,
    so a 105-class 3-D volume never holds a ``C``-fold copy of its labels (the native loss's
    ``one_hot`` does); the sums are those of the one-hot product, class for class. With more
    than 8 classes each pass multiplies the probability of each element's own class, gathered
    once, rather than a slice of ``p``: a slice's gradient is a zero-filled array of ``p``'s
    size per pass. ``Σ p`` needs no target (``Σ p²`` with ``squared``: a one-hot ``y`` is its
    own square). The masks here have size 1 on the class axis (``prepare`` encodes the targets
    where a mask holds the classes).
    """
    xp, labels, p, axes, mask = inputs.xp, inputs.y_true, inputs.y_pred, inputs.axes, inputs.mask
    class_axis = inputs.class_axis
    assert class_axis is not None
    num_classes = _checks.sizes(p)[class_axis]
    trailing = (1,) * (p.ndim - class_axis - 1)
    passes = class_passes(num_classes)
    own = None
    if len(passes) > 1 and gathers(xp):
        own = own_class_probability(p, labels, class_axis, num_classes, inputs.indices_in_range, xp)
    tp, sum_true = [], []
    for start, stop in passes:
        classes = xp.arange(start, stop, dtype=labels.dtype, device=device_of(labels, xp))
        target = xp.astype(labels == xp.reshape(classes, (stop - start, *trailing)), p.dtype)
        if mask is not None:
            target = target * mask
        if own is not None:
            values = own
        elif len(passes) == 1:
            values = p
        else:
            values = p[(slice(None),) * class_axis + (slice(start, stop), ...)]
        tp.append(xp.sum(target * values, axis=axes))
        sum_true.append(xp.sum(target, axis=axes))
    kept = p if mask is None else p * mask
    sum_pred = xp.sum(kept * p if squared else kept, axis=axes)  # a one-hot y is y²
    if class_axis in axes:  # the classes pooled: the passes add up
        return OverlapStats(_total(tp), _total(sum_true), sum_pred)
    position = class_axis - sum(a < class_axis for a in axes)
    return OverlapStats(_joined(tp, position, xp), _joined(sum_true, position, xp), sum_pred)


def own_class_probability(
    p: Array, labels: Array, class_axis: int, num_classes: int, in_range: bool, xp: Namespace
) -> Array:
    """``p`` of each element's class (size 1 on the class axis). An index outside ``[0, C)``
    gathers class 0: its one-hot row is all zeros, which zeroes the product."""
    safe, _ = _labels.gather_indices(labels, num_classes, in_range, xp)
    return xp.take_along_axis(p, safe, axis=class_axis)


def _total(parts: list[Array]) -> Array:
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _joined(parts: list[Array], axis: int, xp: Namespace) -> Array:
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=axis)


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
    one_hot: bool = False,
) -> tuple[Inputs, OverlapStats]:
    """The prepared inputs and their statistics, summed over devices by ``options.all_reduce``.

    ``options`` is a record with the input options, and optionally ``threshold``, ``squared``,
    ``soft_label`` and ``all_reduce`` (those it lacks are off). Class indices stay indices
    (``Inputs.indices``) unless ``one_hot`` (a caller that reads ``inputs.y_true``) or
    ``soft_label`` asks for their one-hot.
    """
    inputs = prepare(
        y_true,
        y_pred,
        options,
        mask,
        threshold=getattr(options, "threshold", None),
        keep_class_axis=keep_class_axis,
        one_hot=one_hot or needs_one_hot(options),
    )
    return inputs, statistics_of(inputs, options)


def needs_one_hot(options: Any) -> bool:
    """Whether the statistics of ``options`` need the one-hot of class indices: only the soft
    label form, whose ``|p - y|`` has its own slope where ``p = y``."""
    return bool(getattr(options, "soft_label", False))


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
            values; read as their one-hot, 8 classes at a time). Eagerly, non-integral
            indices and indices outside ``[0, C)`` that ``mask`` keeps raise a ValueError;
            under ``jax.jit``, ``torch.compile`` or ``tf.function`` values are not read and
            they encode to all-zero rows.
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
