"""The Matthews correlation coefficient loss: ``1 - MCC`` of the soft confusion counts.

The counts ``tp``, ``fp``, ``fn``, ``tn`` are ``_confusion.confusion_sums``' (``tn`` counted from
the kept elements, so a mask removes elements from all four), and the coefficient is the
confusion metrics' own formula, ``_confusion.matthews_corrcoef``, made gradient-safe here where a
margin of the table is 0.
"""

from __future__ import annotations

import types
from typing import Any

from xploss._confusion import ConfusionStats, confusion_sums
from xploss._confusion import matthews_corrcoef as coefficient_of_counts
from xploss._inputs import prepare
from xploss._namespace import Array, Namespace
from xploss._options import (
    Axes,
    Classes,
    Options,
    Reduced,
    Synced,
    Weighted,
    option,
    record,
)
from xploss._reductions import reduce, summed_over_devices
from xploss._registry import functional
from xploss._statistics import sums_all_reduce, values_all_reduce
from xploss._validators import nonnegative
from xploss._weights import prepare_weight


@record
class CountSmoothing(Options):
    smoothing: float = option(
        1e-5, nonnegative, "added to each of tp, fp, fn and tn (smp's MCCLoss eps)"
    )


@record
class MCCOptions(Synced, Weighted, Reduced, CountSmoothing, Classes, Axes):
    """``mcc_loss``."""


# The coefficient where it is undefined (a margin of 0): scikit-learn's and the metrics' 0.
_UNDEFINED = types.SimpleNamespace(zero_division=0.0)


def soft_mcc(stats: ConfusionStats, smoothing: Any, xp: Namespace) -> Array:
    """``(tp·tn - fp·fn) / √((tp+fp)(tp+fn)(tn+fp)(tn+fn))`` of the counts plus ``smoothing``.

    With ``smoothing > 0`` every margin is positive. Otherwise a margin may be 0 (a target or a
    prediction of one class only), where the coefficient is undefined: it is 0 there, and its
    gradient 0, because the counts of that element are replaced by ones (whose coefficient is 0)
    before the square roots, whose slope at 0 is infinite. A margin that rounding made negative
    is taken as 0. NaN counts stay NaN.
    """
    smoothed = ConfusionStats(*(s + smoothing for s in stats))
    if isinstance(smoothing, (int, float)) and smoothing > 0:  # a traced one cannot be read
        return coefficient_of_counts(smoothed, _UNDEFINED, xp)[0]
    tp, fp, fn, tn = smoothed
    undefined = tp + fp <= 0
    for margin in (tp + fn, tn + fp, tn + fn):
        undefined = xp.logical_or(undefined, margin <= 0)
    one = xp.ones_like(tp)
    safe = ConfusionStats(*(xp.where(undefined, one, s) for s in smoothed))
    value = coefficient_of_counts(safe, _UNDEFINED, xp)[0]
    return xp.where(undefined, xp.zeros_like(value), value)


@functional(MCCOptions, loss="MCCLoss")
def mcc_loss(y_true: Array, y_pred: Array, options: MCCOptions, mask: Array | None) -> Array:
    """Matthews correlation coefficient loss ``1 - MCC`` of the soft confusion counts.

    Over ``axis``, ``tp = Σ y·p``, ``fp = Σ (1 - y)·p``, ``fn = Σ y·(1 - p)`` and
    ``tn = Σ (1 - y)·(1 - p)`` (the elements ``mask`` keeps), each plus ``smoothing = s``; then
    ``MCC = (tp·tn - fp·fn) / √((tp + fp)(tp + fn)(tn + fp)(tn + fn))``, the formula of
    ``matthews_corrcoef`` (the metric) on soft counts. The loss is in [0, 2]: 0 for a perfect
    prediction, 1 for one uncorrelated with the target, 2 for the inverted target. With
    ``s = 0`` the coefficient of a table with an empty margin (a target or a prediction of one
    class only) is 0, with a zero gradient; ``s > 0`` avoids that case.

    The default ``axis=None`` sums every axis, the batch too: segmentation_models_pytorch's
    ``MCCLoss(eps=s)`` is ``mcc_loss(y_true, y_pred, smoothing=s)`` (it takes probabilities of
    one binary channel; its ``eps`` default is this ``smoothing``'s, 1e-5). ``axis`` that leaves
    axes out gives one coefficient per image (and class); ``reduction`` combines the losses
    ``1 - MCC``, a weighted mean ``Σ w·l / Σ w`` with ``weight``. Classes pooled in one sum
    (``axis`` with the class axis) give the micro-averaged coefficient.

    Args:
        y_true: targets in [0, 1] of ``y_pred``'s shape, a channel-less mask of a single
            channel, or class indices (one-hot encoded inside).
        y_pred: probabilities, or logits with ``from_logits``.
        mask: removes the elements where it is 0 from all four counts; broadcasts to
            ``y_pred``.
        axis, class_axis, from_logits, include_background, ignore_index, weight, reduction,
            validate: as in ``dice_loss``.
        smoothing: added to each count, a finite number >= 0.
        all_reduce: sums the counts over the devices before the ratio, where ``axis`` holds
            the batch axis (the coefficient of the global batch); otherwise the per-image
            losses' ``"mean"`` and ``"sum"`` span the devices.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Abhishek, Hamarneh, "Matthews Correlation Coefficient Loss for Deep Convolutional
        Networks: Application to Skin Lesion Segmentation", ISBI 2021, arXiv:2010.13454;
        Matthews, Biochim. Biophys. Acta 405(2), 1975.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([1.0, 1.0, 0.0, 0.0])
        >>> y_pred = np.array([0.5, 1.0, 0.5, 0.0])  # tp 1.5, fp 0.5, fn 0.5, tn 1.5
        >>> round(float(mcc_loss(y_true, y_pred, smoothing=0)), 6)  # 1 - (2.25 - 0.25) / 4
        0.5
    """
    inputs = prepare(y_true, y_pred, options, mask)
    xp = inputs.xp
    stats = confusion_sums(inputs)
    summed = sums_all_reduce(inputs, options)
    if summed is not None:  # two collectives: an all_reduce takes up to three statistics
        tp, fp, fn = summed_over_devices(summed, xp, stats.tp, stats.fp, stats.fn)
        stats = ConfusionStats(tp, fp, fn, summed_over_devices(summed, xp, stats.tn)[0])
    values = soft_mcc(stats, options.smoothing, xp)

    def empty() -> Array:  # the loss of no element: zero counts
        zero = xp.zeros_like(xp.sum(stats.tp))
        return 1 - soft_mcc(ConfusionStats(zero, zero, zero, zero), options.smoothing, xp)

    return reduce(
        1 - values,
        weight=prepare_weight(options.weight, inputs),
        reduction=options.reduction,
        xp=xp,
        empty=empty,
        all_reduce=values_all_reduce(inputs, options),
    )
