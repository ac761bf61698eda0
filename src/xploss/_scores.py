"""Scores layer: ratios of the statistics, and the penalties that turn a score into a loss.

Every division goes through ``safe_divide``: the denominator is made safe first and the result
selected after, so an exact 0/0 gives the documented value with a finite (zero) gradient, while a
NaN denominator still gives NaN.
"""

from __future__ import annotations

from typing import Any

from xploss._elementwise import clip
from xploss._namespace import Array, Namespace
from xploss._statistics import OverlapStats

# -log(Dice) is evaluated at max(Dice, 2**-126), the smallest normal float32, so that the log form
# stays finite (at most 87.34) where the Dice is exactly 0 (only possible with smooth_nr = 0).
LOG_DICE_FLOOR = 2.0**-126


def safe_divide(numerator: Array, denominator: Array, zero_division: float, xp: Namespace) -> Array:
    """``numerator / denominator``, or ``zero_division`` where the denominator is exactly 0."""
    empty = denominator == 0
    safe = xp.where(empty, xp.ones_like(denominator), denominator)
    if isinstance(zero_division, (int, float)):
        fill = xp.full_like(numerator, zero_division)
    else:  # a traced value (a JAX schedule), which full_like may not take
        fill = xp.zeros_like(numerator) + zero_division
    return xp.where(empty, fill, numerator / safe)


def smoothed_ratio(numerator: Array, denominator: Array, options: Any, xp: Namespace) -> Array:
    """``numerator / denominator`` for a denominator of non-negative statistics plus
    ``options.smooth_dr``: with ``smooth_dr > 0`` there is no 0/0 to guard, else an exact 0/0
    is ``options.zero_division`` (1 for the losses, which have no such option)."""
    smooth_dr = options.smooth_dr
    if isinstance(smooth_dr, (int, float)) and smooth_dr > 0:  # a traced one cannot be read
        return numerator / denominator
    return safe_divide(numerator, denominator, getattr(options, "zero_division", 1.0), xp)


def zero_stats(stats: OverlapStats, xp: Namespace) -> OverlapStats:
    """The statistics of no element: 0-d zeros of ``stats``' dtype and device."""
    zero = xp.zeros_like(xp.sum(stats.tp))
    return OverlapStats(zero, zero, zero)


def dice_score(stats: OverlapStats, options: Any, xp: Namespace) -> Array:
    """``(2·tp + smooth_nr) / (Σy + Σp + smooth_dr)``."""
    numerator = 2 * stats.tp + options.smooth_nr
    denominator = stats.sum_true + stats.sum_pred + options.smooth_dr
    return smoothed_ratio(numerator, denominator, options, xp)


def jaccard_score(stats: OverlapStats, options: Any, xp: Namespace) -> Array:
    """``(tp + smooth_nr) / (Σy + Σp - tp + smooth_dr)``: intersection over union."""
    numerator = stats.tp + options.smooth_nr
    denominator = stats.sum_true + stats.sum_pred - stats.tp + options.smooth_dr
    return smoothed_ratio(numerator, denominator, options, xp)


def tversky_score(stats: OverlapStats, options: Any, xp: Namespace) -> Array:
    """``(tp + smooth_nr) / (tp + alpha·FP + beta·FN + smooth_dr)`` with ``FP = Σp - tp`` and
    ``FN = Σy - tp`` (Tversky 1977; Salehi et al. 2017)."""
    false_positives = stats.sum_pred - stats.tp
    false_negatives = stats.sum_true - stats.tp
    numerator = stats.tp + options.smooth_nr
    errors = options.alpha * false_positives + options.beta * false_negatives
    return smoothed_ratio(numerator, stats.tp + errors + options.smooth_dr, options, xp)


def true_positive_score(stats: OverlapStats, options: Any, xp: Namespace) -> Array:
    """``tp / Σy``, NaN where ``Σp`` is (see ``_nan_of``)."""
    rate = safe_divide(stats.tp, stats.sum_true, options.zero_division, xp)
    return _nan_of(stats.sum_pred, rate, xp)


def precision_score(stats: OverlapStats, options: Any, xp: Namespace) -> Array:
    """``tp / Σp``, NaN where ``Σy`` is (see ``_nan_of``)."""
    rate = safe_divide(stats.tp, stats.sum_pred, options.zero_division, xp)
    return _nan_of(stats.sum_true, rate, xp)


def _nan_of(other: Array, ratio: Array, xp: Namespace) -> Array:
    """``ratio``, or NaN where the sum it does not divide by is NaN.

    A NaN prediction where the target is 0 is in ``Σp`` but may be missing from ``tp = Σ y·p``:
    XLA rewrites ``y·p`` with a 0/1 ``y`` as ``select(y, p, 0)``. A NaN input is never dropped.
    """
    return xp.where(other == other, ratio, other)


def class_weights(sum_true: Array, *, class_axis: int, weight_type: str, xp: Namespace) -> Array:
    """Sudre et al.'s weights ``1/R²`` (square), ``1/R`` (simple) or ``1`` (uniform).

    A class absent from the reference (``R = 0``) would get an infinite weight; it gets the largest
    weight of the present classes instead (NiftyNet's and MONAI's rule, per sample). Where every
    class is absent, every weight is 1, the largest weight a present class can have with 0/1
    labels, so predicted volume there still lowers the score.
    """
    if weight_type == "uniform" or sum_true.shape[class_axis] == 0:  # no class: nothing to weigh
        return xp.ones_like(sum_true)
    present = sum_true > 0
    volume = xp.where(present, sum_true, xp.ones_like(sum_true))
    inverse = 1 / volume
    raw = inverse * inverse if weight_type == "square" else inverse
    finite = xp.where(present, raw, xp.zeros_like(raw))
    largest = xp.max(finite, axis=class_axis, keepdims=True)
    fallback = xp.where(largest > 0, largest, xp.ones_like(largest))
    return xp.where(present, finite, fallback)


def generalized_dice_score(
    stats: OverlapStats, options: Any, class_axis: int, xp: Namespace
) -> Array:
    """``(2 Σ_l w_l·tp_l + smooth_nr) / (Σ_l w_l·(R_l + P_l) + smooth_dr)`` (Sudre et al. 2017),
    1 at an exact 0/0."""
    w = class_weights(stats.sum_true, class_axis=class_axis, weight_type=options.weight_type, xp=xp)
    numerator = 2 * xp.sum(w * stats.tp, axis=class_axis) + options.smooth_nr
    denominator = xp.sum(w * (stats.sum_true + stats.sum_pred), axis=class_axis)
    return safe_divide(numerator, denominator + options.smooth_dr, 1.0, xp)


def dice_penalty(dice: Array, *, log: bool, xp: Namespace) -> Array:
    """``1 - dice``, or ``-log(dice)`` with Dice floored at ``LOG_DICE_FLOOR``."""
    if log:
        return -xp.log(clip(dice, xp, min=LOG_DICE_FLOOR))
    return 1 - dice


def focal_penalty(score: Array, *, gamma: float, xp: Namespace) -> Array:
    """``(1 - score)^gamma``, with ``1 - score`` floored at 0.

    Where ``1 - score`` is 0 (a perfect score) the value and the gradient are 0: the derivative
    ``gamma·(1 - score)^(gamma - 1)`` is infinite there for ``gamma < 1``, so the power is taken
    of a safe base and the result selected after. NaN propagates.
    """
    base = 1 - score
    perfect = base <= 0
    safe = xp.where(perfect, xp.ones_like(base), base)
    return xp.where(perfect, xp.zeros_like(base), safe**gamma)
