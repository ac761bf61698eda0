"""Reductions: how per-element values (per image, per class, ...) become the returned value."""

from __future__ import annotations

from xploss._namespace import Array, Namespace
from xploss._scores import dice_penalty, safe_divide


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
