"""Reductions: how per-element values (per image, per class, ...) become the returned value.

Empty inputs follow the rule of the sums: a statistic over no element is 0, so a score over no
element is the score of zero statistics (its 0/0 value: ``zero_division``, or
``smooth_nr / smooth_dr``), whichever axis is empty. ``"mean"`` of no value is that score
(``empty``); ``"sum"`` of no value is 0; ``"none"`` returns the empty array.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from xploss._checks import shape_of
from xploss._namespace import Array, Namespace
from xploss._scores import dice_penalty, safe_divide

Empty = Callable[[], Array | float]
"""The value of a mean over no element, computed only where one is (or may be) empty."""


def reduce(
    values: Array,
    *,
    weight: Array | None,
    reduction: str,
    xp: Namespace,
    empty: Empty = lambda: 0.0,
) -> Array:
    """Combine per-element values: ``"none"``, ``"sum"``, or the weighted mean ``Σw·v / Σw``
    over everything (``"mean"``) or over every axis but the first (``"per_sample"``).

    The weighted mean of all-zero weights is 0 (there is nothing to average); the mean over no
    element at all is ``empty()``.
    """
    axes = None
    if reduction == "per_sample":
        if values.ndim == 0:
            raise ValueError(
                "reduction='per_sample' keeps the first axis that survives axis (the batch), "
                "but axis reduced every axis; leave the batch axis out of axis."
            )
        axes = tuple(range(1, values.ndim))
    weighted = values if weight is None else weight * values
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return xp.sum(weighted)
    shape = shape_of(values)
    averaged = shape if axes is None else shape[1:]
    count = None if None in averaged else math.prod(averaged)  # type: ignore[arg-type]
    if count == 0:
        return xp.zeros_like(xp.sum(values, axis=axes)) + empty()
    if weight is None:
        mean = xp.mean(values, axis=axes)
    else:
        total_weight = xp.sum(weight * xp.ones_like(values), axis=axes)
        mean = safe_divide(xp.sum(weighted, axis=axes), total_weight, 0.0, xp)
    if count is None:  # a size known only when the graph runs (TensorFlow)
        number = xp.sum(xp.ones_like(values), axis=axes)
        mean = xp.where(number == 0, xp.zeros_like(mean) + empty(), mean)
    return mean


def reduced_dice_penalty(
    dice: Array,
    *,
    weight: Array | None,
    reduction: str,
    log: bool,
    xp: Namespace,
    empty: Empty = lambda: 1.0,
) -> Array:
    """The Dice term of a loss after the reduction.

    ``"mean"`` and ``"per_sample"`` take the penalty of the (weighted) mean Dice: ``-log(mean D)``
    for the log form, as the Keras ``bce_dice`` it replaces does; ``1 - mean D`` equals
    ``mean(1 - D)``. ``"none"`` and ``"sum"`` take the penalty per element. ``empty`` is the Dice
    of no element.
    """
    if reduction in ("mean", "per_sample"):
        mean = reduce(dice, weight=weight, reduction=reduction, xp=xp, empty=empty)
        return dice_penalty(mean, log=log, xp=xp)
    return reduce(dice_penalty(dice, log=log, xp=xp), weight=weight, reduction=reduction, xp=xp)
