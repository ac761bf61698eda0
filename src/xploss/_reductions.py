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
from xploss._inputs import Inputs, with_nan
from xploss._namespace import Array, Namespace
from xploss._scores import dice_penalty, safe_divide
from xploss._statistics import AllReduce, OverlapStats

Empty = Callable[[], Array | float]
"""The value of a mean over no element, computed only where one is (or may be) empty."""


def summed_over_devices(all_reduce: AllReduce, xp: Namespace, *arrays: Array) -> tuple[Array, ...]:
    """Up to three arrays summed over the devices by ``all_reduce``, which takes and returns
    ``OverlapStats``: every framework's all-reduce (and the user's) sums sums of any kind."""
    padding = (xp.zeros_like(xp.sum(arrays[0])),) * (3 - len(arrays))
    return tuple(all_reduce(OverlapStats(*arrays, *padding)))[: len(arrays)]


def elementwise_mean(elementwise: Array, inputs: Inputs, all_reduce: AllReduce | None) -> Array:
    """The mean of a per-element term (a cross-entropy) over ``inputs.axes``, counting the
    unmasked elements only (0 where there are none), NaN where a NaN probe is.

    With ``all_reduce`` (the sums span the devices) the sum and the count of every device are
    added up before the ratio: the mean of the global batch, as the overlap statistics are.
    Every compound loss takes its per-element terms through here.
    """
    xp, axes, mask = inputs.xp, inputs.axes, inputs.mask
    if all_reduce is None and mask is None:
        mean = xp.mean(elementwise, axis=axes)
        return with_nan(inputs, mean)[0] if inputs.nan_probes else mean
    ones = xp.ones_like(elementwise)
    total = xp.sum(elementwise if mask is None else mask * elementwise, axis=axes)
    count = xp.sum(ones if mask is None else mask * ones, axis=axes)
    if all_reduce is not None:
        if inputs.nan_probes:  # a NaN input of one device makes every device's mean NaN
            total = with_nan(inputs, total)[0]
        total, count = summed_over_devices(all_reduce, xp, total, count)
    mean = safe_divide(total, count, 0.0, xp)
    return with_nan(inputs, mean)[0] if inputs.nan_probes else mean


def reduce(
    values: Array,
    *,
    weight: Array | None,
    reduction: str,
    xp: Namespace,
    empty: Empty = lambda: 0.0,
    all_reduce: AllReduce | None = None,
) -> Array:
    """Combine per-element values: ``"none"``, ``"sum"``, or the weighted mean ``Σw·v / Σw``
    over everything (``"mean"``) or over every axis but the first (``"per_sample"``).

    The weighted mean of all-zero weights is 0 (there is nothing to average); the mean over no
    element at all is ``empty()``. ``all_reduce`` (per-image values split between devices)
    makes ``"mean"`` and ``"sum"`` those of every device's values; ``"none"`` and
    ``"per_sample"`` stay the device's own images.
    """
    if all_reduce is not None and reduction in ("mean", "sum"):
        return _over_devices(values, weight, reduction, xp, empty, all_reduce)
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


def _over_devices(
    values: Array,
    weight: Array | None,
    reduction: str,
    xp: Namespace,
    empty: Empty,
    all_reduce: AllReduce,
) -> Array:
    """``"mean"`` or ``"sum"`` of the values of every device. Every device makes the same
    collectives whatever it holds (no image too), so none waits for another."""
    weighted = values if weight is None else weight * values
    if reduction == "sum":
        return summed_over_devices(all_reduce, xp, xp.sum(weighted))[0]
    ones = xp.ones_like(values)
    weights = ones if weight is None else weight * ones
    total, total_weight, number = summed_over_devices(
        all_reduce, xp, xp.sum(weighted), xp.sum(weights), xp.sum(ones)
    )
    mean = safe_divide(total, total_weight, 0.0, xp)
    return xp.where(number == 0, xp.zeros_like(mean) + empty(), mean)


def reduced_dice_penalty(
    dice: Array,
    *,
    weight: Array | None,
    reduction: str,
    log: bool,
    xp: Namespace,
    empty: Empty = lambda: 1.0,
    all_reduce: AllReduce | None = None,
) -> Array:
    """The Dice term of a loss after the reduction.

    ``"mean"`` and ``"per_sample"`` take the penalty of the (weighted) mean Dice: ``-log(mean D)``
    for the log form, as the Keras ``bce_dice`` it replaces does; ``1 - mean D`` equals
    ``mean(1 - D)``. ``"none"`` and ``"sum"`` take the penalty per element. ``empty`` is the Dice
    of no element.
    """
    if reduction in ("mean", "per_sample"):
        mean = reduce(
            dice, weight=weight, reduction=reduction, xp=xp, empty=empty, all_reduce=all_reduce
        )
        return dice_penalty(mean, log=log, xp=xp)
    penalty = dice_penalty(dice, log=log, xp=xp)
    return reduce(penalty, weight=weight, reduction=reduction, xp=xp, all_reduce=all_reduce)
