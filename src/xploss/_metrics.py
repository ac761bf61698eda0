"""Metrics: the Dice coefficient and the true-positive rate (recall)."""

from __future__ import annotations

from collections.abc import Callable

from xploss import _checks
from xploss._inputs import Inputs, prepare, prepare_weight
from xploss._namespace import Array
from xploss._scores import dice_score, reduce, true_positive_score
from xploss._statistics import OverlapStats, overlap_sums

AllReduce = Callable[[OverlapStats], OverlapStats]


def statistics(inputs: Inputs, *, squared: bool, all_reduce: object) -> OverlapStats:
    """The statistics of ``inputs``, summed over devices by ``all_reduce`` when one is given."""
    reducer = _checks.check_callable(all_reduce, "all_reduce")
    stats = overlap_sums(inputs, squared=squared)
    return stats if reducer is None else OverlapStats(*reducer(stats))


def per_element_dice(
    y_true: Array,
    y_pred: Array,
    *,
    axis: object,
    class_axis: object,
    smooth_nr: object,
    smooth_dr: object,
    squared: bool,
    from_logits: object,
    threshold: object,
    mask: Array | None,
    zero_division: object,
    all_reduce: object,
) -> tuple[Inputs, Array]:
    """The validated inputs and the Dice of every element that survives ``axis``."""
    nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
    dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
    empty = _checks.check_real(zero_division, "zero_division")
    inputs = prepare(
        y_true,
        y_pred,
        axis=axis,
        class_axis=class_axis,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
    )
    stats = statistics(inputs, squared=squared, all_reduce=all_reduce)
    dice = dice_score(stats, smooth_nr=nr, smooth_dr=dr, zero_division=empty, xp=inputs.xp)
    return inputs, dice


def dice_coefficient(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    squared: bool = False,
    from_logits: bool | str = False,
    threshold: float | None = None,
    weight: Array | float | tuple[float, ...] | None = None,
    mask: Array | None = None,
    zero_division: float = 1.0,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
) -> Array:
    """Soft Dice (Sørensen–Dice, F1) coefficient; hard Dice when ``threshold`` is set.

    ``D = (2 Σ y·p + smooth_nr) / (Σ y + Σ p + smooth_dr)`` with the sums over ``axis``, one value
    for every element of the other axes (per image, per class, ...), then combined by
    ``reduction``. ``squared=True`` uses ``Σ y² + Σ p²`` in the denominator (V-Net, Milletari et
    al. 2016).

    Args:
        y_true: targets in [0, 1] (bool, integer or floating) with ``y_pred``'s shape, or integer
            class indices with ``y_pred``'s ``class_axis`` left out.
        y_pred: probabilities, or logits with ``from_logits``.
        axis: axes to sum over, as in NumPy: ``None`` is the batch ("global") Dice of Keras 3;
            ``(1, 2)`` on ``(B, H, W, C)`` is one Dice per image and class.
        class_axis: the class axis, for sparse labels and softmax (``-1``, channels-last).
        smooth_nr, smooth_dr: added to the numerator and denominator (MONAI's defaults, so an
            empty prediction of an empty target scores 1).
        squared: the V-Net denominator.
        from_logits: ``False``, ``True``/``"sigmoid"`` or ``"softmax"`` (over ``class_axis``).
        threshold: binarise the probabilities as ``p > threshold`` (hard Dice).
        weight: non-negative weights broadcast against the per-element Dice; ``"mean"`` is then
            ``Σ w·D / Σ w``.
        mask: removes the elements where it is 0 from every sum.
        zero_division: the Dice where the denominator is exactly 0 (both smoothings 0, empty
            target and prediction).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` over the per-element Dice, or
            ``"per_sample"``: the mean over every surviving axis but the first (one value per
            sample, what Keras' ``sample_weight`` expects).
        all_reduce: a callable that sums the statistics over devices before the ratio.

    Returns:
        The Dice, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Dice, Ecology 26(3), 1945; Milletari et al., V-Net, 3DV 2016.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(dice_coefficient(y_true, y_pred, smooth_nr=0, smooth_dr=0)), 6)
        0.72
    """
    inputs, dice = per_element_dice(
        y_true,
        y_pred,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        squared=squared,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    weights = prepare_weight(weight, inputs, inputs.result_shape())
    return reduce(dice, weight=weights, reduction=reduction, xp=inputs.xp)


def true_positive_rate(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    threshold: float | None = 0.5,
    from_logits: bool | str = False,
    zero_division: float = 0.0,
    weight: Array | float | tuple[float, ...] | None = None,
    mask: Array | None = None,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
) -> Array:
    """True-positive rate (sensitivity, recall): ``Σ y·[p > threshold] / Σ y`` over ``axis``.

    The comparison is strict, which is what ``K.round(y_pred)`` computes for probabilities (round
    half to even). ``threshold=None`` gives the soft, differentiable recall ``Σ y·p / Σ y``.
    Where the target has no positives the rate is ``zero_division`` (0, as in Keras' ``Recall``,
    TorchMetrics and scikit-learn; pass ``float("nan")`` for MONAI's convention).

    Args:
        y_true, y_pred, axis, class_axis, from_logits, weight, mask, reduction, all_reduce:
            as in ``dice_coefficient``.
        threshold: probabilities above it count as positive predictions; ``None`` for soft TPR.
        zero_division: the rate of an element whose target has no positives.

    Returns:
        The TPR, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(true_positive_rate(y_true, y_pred)), 6)
        0.666667
    """
    empty = _checks.check_real(zero_division, "zero_division")
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    inputs = prepare(
        y_true,
        y_pred,
        axis=axis,
        class_axis=class_axis,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
    )
    stats = statistics(inputs, squared=False, all_reduce=all_reduce)
    rate = true_positive_score(stats, zero_division=empty, xp=inputs.xp)
    weights = prepare_weight(weight, inputs, inputs.result_shape())
    return reduce(rate, weight=weights, reduction=reduction, xp=inputs.xp)
