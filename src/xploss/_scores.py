"""Scores layer: ratios of the statistics, and the reductions that combine them.

Every division goes through ``safe_divide``: the denominator is made safe first and the result
selected after, so an exact 0/0 gives the documented value with a finite (zero) gradient, while a
NaN denominator still gives NaN.
"""

from __future__ import annotations

from xploss._namespace import Array, Namespace
from xploss._statistics import OverlapStats

# -log(Dice) is evaluated at max(Dice, 2**-126), the smallest normal float32, so that the log form
# stays finite (at most 87.34) where the Dice is exactly 0 (only possible with smooth_nr = 0).
LOG_DICE_FLOOR = 2.0**-126


def safe_divide(numerator: Array, denominator: Array, zero_division: float, xp: Namespace) -> Array:
    """``numerator / denominator``, or ``zero_division`` where the denominator is exactly 0."""
    empty = denominator == 0
    safe = xp.where(empty, xp.ones_like(denominator), denominator)
    return xp.where(empty, xp.full_like(numerator, zero_division), numerator / safe)


def smoothed_ratio(
    numerator: Array, denominator: Array, *, smooth_dr: float, zero_division: float, xp: Namespace
) -> Array:
    """``numerator / denominator`` for a denominator of non-negative statistics plus
    ``smooth_dr``: with ``smooth_dr > 0`` there is no 0/0 to guard."""
    if smooth_dr > 0:
        return numerator / denominator
    return safe_divide(numerator, denominator, zero_division, xp)


def dice_score(
    stats: OverlapStats, *, smooth_nr: float, smooth_dr: float, zero_division: float, xp: Namespace
) -> Array:
    """``(2·tp + smooth_nr) / (Σy + Σp + smooth_dr)``."""
    numerator = 2 * stats.tp + smooth_nr
    denominator = stats.sum_true + stats.sum_pred + smooth_dr
    return smoothed_ratio(
        numerator, denominator, smooth_dr=smooth_dr, zero_division=zero_division, xp=xp
    )


def jaccard_score(
    stats: OverlapStats, *, smooth_nr: float, smooth_dr: float, zero_division: float, xp: Namespace
) -> Array:
    """``(tp + smooth_nr) / (Σy + Σp - tp + smooth_dr)``: intersection over union."""
    numerator = stats.tp + smooth_nr
    denominator = stats.sum_true + stats.sum_pred - stats.tp + smooth_dr
    return smoothed_ratio(
        numerator, denominator, smooth_dr=smooth_dr, zero_division=zero_division, xp=xp
    )


def tversky_score(
    stats: OverlapStats,
    *,
    alpha: float,
    beta: float,
    smooth_nr: float,
    smooth_dr: float,
    zero_division: float,
    xp: Namespace,
) -> Array:
    """``(tp + smooth_nr) / (tp + alpha·FP + beta·FN + smooth_dr)`` with ``FP = Σp - tp`` and
    ``FN = Σy - tp`` (Tversky 1977; Salehi et al. 2017)."""
    false_positives = stats.sum_pred - stats.tp
    false_negatives = stats.sum_true - stats.tp
    numerator = stats.tp + smooth_nr
    denominator = stats.tp + alpha * false_positives + beta * false_negatives + smooth_dr
    return smoothed_ratio(
        numerator, denominator, smooth_dr=smooth_dr, zero_division=zero_division, xp=xp
    )


def true_positive_score(stats: OverlapStats, *, zero_division: float, xp: Namespace) -> Array:
    """``tp / Σy``."""
    return safe_divide(stats.tp, stats.sum_true, zero_division, xp)


def precision_score(stats: OverlapStats, *, zero_division: float, xp: Namespace) -> Array:
    """``tp / Σp``."""
    return safe_divide(stats.tp, stats.sum_pred, zero_division, xp)


def class_weights(sum_true: Array, *, class_axis: int, weight_type: str, xp: Namespace) -> Array:
    """Sudre et al.'s weights ``1/R²`` (square), ``1/R`` (simple) or ``1`` (uniform).

    A class absent from the reference (``R = 0``) would get an infinite weight; it gets the largest
    weight of the present classes instead (NiftyNet's and MONAI's rule, per sample). Where every
    class is absent, every weight is 1, the largest weight a present class can have with 0/1
    labels, so predicted volume there still lowers the score.
    """
    if weight_type == "uniform":
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
    stats: OverlapStats,
    *,
    class_axis: int,
    weight_type: str,
    smooth_nr: float,
    smooth_dr: float,
    zero_division: float,
    xp: Namespace,
) -> Array:
    """``(2 Σ_l w_l·tp_l + smooth_nr) / (Σ_l w_l·(R_l + P_l) + smooth_dr)`` (Sudre et al. 2017)."""
    w = class_weights(stats.sum_true, class_axis=class_axis, weight_type=weight_type, xp=xp)
    numerator = 2 * xp.sum(w * stats.tp, axis=class_axis) + smooth_nr
    denominator = xp.sum(w * (stats.sum_true + stats.sum_pred), axis=class_axis) + smooth_dr
    return safe_divide(numerator, denominator, zero_division, xp)


def reduce(values: Array, *, weight: Array | None, reduction: str, xp: Namespace) -> Array:
    """Combine per-element values: ``"none"``, ``"sum"``, or the weighted mean ``Σw·v / Σw``
    over everything (``"mean"``) or over every axis but the first (``"per_sample"``).

    The weighted mean of all-zero weights is 0 (there is nothing to average).
    """
    axes = None
    if reduction == "per_sample":
        if values.ndim == 0:
            raise ValueError(
                "reduction='per_sample' keeps the first axis that survives axis (the batch), "
                "but axis reduced every axis; leave the batch axis out of axis."
            )
        axes = tuple(range(1, values.ndim))
    if weight is None:
        if reduction == "none":
            return values
        return xp.sum(values) if reduction == "sum" else xp.mean(values, axis=axes)
    weighted = weight * values
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return xp.sum(weighted)
    total_weight = xp.sum(weight * xp.ones_like(values), axis=axes)
    return safe_divide(xp.sum(weighted, axis=axes), total_weight, 0.0, xp)


def dice_penalty(dice: Array, *, log: bool, xp: Namespace) -> Array:
    """``1 - dice``, or ``-log(dice)`` with Dice floored at ``LOG_DICE_FLOOR``."""
    if log:
        return -xp.log(xp.clip(dice, min=LOG_DICE_FLOOR))
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


def reduced_dice_penalty(
    dice: Array, *, weight: Array | None, reduction: str, log: bool, xp: Namespace
) -> Array:
    """The Dice term of a loss after the reduction.

    ``"mean"`` and ``"per_sample"`` take the penalty of the (weighted) mean Dice: ``-log(mean D)``
    for the log form, as the Keras ``bce_dice`` it replaces does; ``1 - mean D`` equals
    ``mean(1 - D)``. ``"none"`` and ``"sum"`` take the penalty per element.
    """
    if reduction in ("mean", "per_sample"):
        mean = reduce(dice, weight=weight, reduction=reduction, xp=xp)
        return dice_penalty(mean, log=log, xp=xp)
    return reduce(dice_penalty(dice, log=log, xp=xp), weight=weight, reduction=reduction, xp=xp)
