"""Metrics: the Dice coefficient, the Jaccard index (IoU), the true-positive rate (recall) and
precision, as functions of arrays and as the scores of the stateful metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xploss._namespace import Array, Namespace
from xploss._options import (
    DiceOptions,
    RateMetricOptions,
    RateOptions,
    SmoothedMetricOptions,
)
from xploss._reductions import reduce
from xploss._registry import functional, register_metric
from xploss._scores import (
    dice_score,
    jaccard_score,
    precision_score,
    true_positive_score,
    zero_stats,
)
from xploss._statistics import OverlapStats, statistics, values_all_reduce
from xploss._weights import prepare_weight

Score = Callable[[OverlapStats, Any, Namespace], Array]
"""A ratio of the statistics, ``score(stats, options, xp)``."""


def reduced_score(
    score: Score, y_true: Array, y_pred: Array, options: Any, mask: Array | None
) -> Array:
    """``score`` of every element that survives ``axis``, combined by ``reduction``."""
    inputs, stats = statistics(y_true, y_pred, options, mask)
    xp = inputs.xp
    values = score(stats, options, xp)
    weights = prepare_weight(options.weight, inputs)
    empty = lambda: score(zero_stats(stats, xp), options, xp)  # noqa: E731
    synced = values_all_reduce(inputs, options)
    return reduce(
        values, weight=weights, reduction=options.reduction, xp=xp, empty=empty, all_reduce=synced
    )


@functional(DiceOptions)
def dice_coefficient(
    y_true: Array, y_pred: Array, options: DiceOptions, mask: Array | None
) -> Array:
    """Soft Dice (Sørensen–Dice, F1) coefficient; hard Dice when ``threshold`` is set.

    ``D = (2 Σ y·p + smooth_nr) / (Σ y + Σ p + smooth_dr)`` with the sums over ``axis``, one value
    for every element of the other axes (per image, per class, ...), then combined by
    ``reduction``. ``squared=True`` uses ``Σ y² + Σ p²`` in the denominator (V-Net, Milletari et
    al. 2016).

    Args:
        y_true: targets in [0, 1] (bool, integer or floating) with ``y_pred``'s shape; or,
            with ``y_pred``'s ``class_axis`` left out, the mask of a single-channel ``y_pred``
            (any dtype, soft values too) or the class indices of several classes (integers, or
            floats with integral values). Eagerly, non-integral indices and indices outside
            ``[0, C)`` that ``mask`` keeps raise a ValueError; under a trace they encode to
            all-zero rows.
        y_pred: probabilities, or logits with ``from_logits``.
        axis: axes to sum over, as in NumPy: ``None`` is the batch ("global") Dice of Keras 3;
            ``(1, 2)`` on ``(B, H, W, C)`` is one Dice per image and class.
        class_axis: the class axis, for sparse labels, single-channel masks and softmax
            (``-1``, channels-last).
        smooth_nr, smooth_dr: added to the numerator and denominator (MONAI's defaults, so an
            empty prediction of an empty target scores 1).
        squared: the V-Net denominator.
        soft_label: the intersection ``(Σ p + Σ y - Σ |p - y|) / 2`` (Wang et al. 2023, MONAI's
            ``soft_label``): the same for 0/1 targets, and exact for soft ones (label
            smoothing, distillation), where ``Σ y·p`` scores ``p = y`` below 1 (C13: 5/6). No
            effect with ``squared``, which is already exact for soft targets.
        from_logits: ``False``, ``True``/``"sigmoid"`` or ``"softmax"`` (over ``class_axis``).
            Logits are clipped to ``±sqrt(finfo.max)``, so ``±inf`` gives finite values and
            gradients.
        threshold: hard Dice. Independent channels (probabilities, sigmoid): ``p > threshold``
            counts as 1. With ``"softmax"`` (exclusive classes): the one-hot of the arg-max over
            ``class_axis`` (MONAI's ``AsDiscrete(argmax=True)``, TorchMetrics), so no element
            predicts nothing. ``None`` or a number in (0, 1); a NaN input gives NaN.
        weight: non-negative weights broadcast against the per-element Dice; ``"mean"`` is then
            ``Σ w·D / Σ w``.
        mask: removes the elements where it is 0 from every sum.
        ignore_index: a label whose elements leave every sum (with ``mask``). Label maps are
            compared with it; a dense target of several classes is read as one-hot over
            ``class_axis`` (MONAI's ``create_ignore_mask``): the elements of class
            ``ignore_index``, or of no class for one outside ``[0, C)``, so one-hot and label-map
            targets agree.
        include_background: ``False`` leaves class 0 out: weighed 0 (on the class axis of
            ``weight``, which may have C entries, MONAI's C - 1 without the background, or one)
            where ``axis`` keeps the class axis, out of the sums where it does not. Ignored with
            a warning for a single channel, as in MONAI.
        zero_division: the Dice where the denominator is exactly 0 (both smoothings 0, empty
            target and prediction).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` over the per-element Dice, or
            ``"per_sample"``: the mean over every surviving axis but the first (one value per
            sample, what Keras' ``sample_weight`` expects).
        all_reduce: a callable that sums ``OverlapStats`` over the devices, which split the
            batch along the first axis. Where ``axis`` sums that axis, the statistics are
            summed before the ratio; where it survives (per-image values), each statistic is
            whole on its device, and the terms of ``"mean"`` and ``"sum"`` are summed instead,
            so every device gets the value of the whole batch (``"none"`` and
            ``"per_sample"`` keep the device's own values).
        validate: eagerly (never under a trace), raise a ValueError if probabilities
            (``from_logits=False``) or a dense ``y_true`` leave [0, 1]; one more pass over each.

    An axis of size 0 is no special case: its sums are 0, so its Dice is the 0/0 value
    (``smooth_nr / smooth_dr``, or ``zero_division``), and ``"mean"`` of no Dice is that value.

    Returns:
        The Dice, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Dice, Ecology 26(3), 1945; Milletari et al., V-Net, 3DV 2016; Wang et al., "Dice
        Semimetric Losses: Optimizing the Dice Score with Soft Labels", MICCAI 2023.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(dice_coefficient(y_true, y_pred, smooth_nr=0, smooth_dr=0)), 6)
        0.72
    """
    return reduced_score(dice_score, y_true, y_pred, options, mask)


@functional(DiceOptions)
def jaccard_index(y_true: Array, y_pred: Array, options: DiceOptions, mask: Array | None) -> Array:
    """Soft Jaccard index (intersection over union, IoU); hard IoU when ``threshold`` is set.

    ``J = (Σ y·p + smooth_nr) / (Σ y + Σ p - Σ y·p + smooth_dr)`` with the sums over ``axis``,
    one value for every element of the other axes, then combined by ``reduction``. Without
    smoothing ``J = D / (2 - D)`` for the Dice ``D`` of the same statistics. ``squared=True``
    uses ``Σ y² + Σ p² - Σ y·p`` (the Tanimoto coefficient, MONAI's ``squared_pred``).

    smp's ``JaccardLoss(smooth=s)`` and Keras' segmentation_models ``iou_score`` use this
    smoothing; MONAI's ``DiceLoss(jaccard=True)`` computes ``(2·tp + s_nr) / (2·union + s_dr)``,
    which is this index with half its smoothing constants.

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, squared, soft_label,
        from_logits, threshold, weight, mask, zero_division, reduction, all_reduce: as in
        ``dice_coefficient`` (``soft_label``: Wang, Ning and Blaschko's Jaccard metric loss).

    Returns:
        The Jaccard index, float32 (float64 for float64 predictions), in the caller's array
        library.

    Reference:
        Jaccard, New Phytologist 11(2), 1912; Wang, Ning, Blaschko, "Jaccard Metric Losses:
        Optimizing the Jaccard Index with Soft Labels", NeurIPS 2023.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> float(jaccard_index(y_true, y_pred, smooth_nr=0, smooth_dr=0))  # 1.8 / 3.2
        0.5625
    """
    return reduced_score(jaccard_score, y_true, y_pred, options, mask)


@functional(RateOptions)
def true_positive_rate(
    y_true: Array, y_pred: Array, options: RateOptions, mask: Array | None
) -> Array:
    """True-positive rate (sensitivity, recall): ``Σ y·[p > threshold] / Σ y`` over ``axis``.

    The comparison is strict, which is what ``K.round(y_pred)`` computes for probabilities (round
    half to even). ``threshold=None`` gives the soft, differentiable recall ``Σ y·p / Σ y``.
    Where the target has no positives the rate is ``zero_division`` (0, as in Keras' ``Recall``,
    TorchMetrics and scikit-learn; pass ``float("nan")`` for MONAI's convention).

    Args:
        y_true, y_pred, axis, class_axis, from_logits, weight, mask, reduction, all_reduce:
            as in ``dice_coefficient``.
        threshold: probabilities above it count as positive predictions (after a softmax, the
            arg-max class); ``None`` for soft TPR.
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
    return reduced_score(true_positive_score, y_true, y_pred, options, mask)


@functional(RateOptions)
def precision(y_true: Array, y_pred: Array, options: RateOptions, mask: Array | None) -> Array:
    """Precision (positive predictive value): ``Σ y·[p > threshold] / Σ [p > threshold]``.

    The counterpart of ``true_positive_rate`` with the predicted volume in the denominator:
    the strict comparison (``p > 0.5``, what ``K.round`` computes), ``threshold=None`` for the
    soft precision ``Σ y·p / Σ p``, and ``zero_division`` (0, as Keras' ``Precision``,
    TorchMetrics and scikit-learn) where nothing is predicted positive.

    Args:
        y_true, y_pred, axis, class_axis, from_logits, weight, mask, reduction, all_reduce:
            as in ``dice_coefficient``.
        threshold: probabilities above it count as positive predictions (after a softmax, the
            arg-max class); ``None`` for soft precision.
        zero_division: the precision of an element with no positive prediction.

    Returns:
        The precision, float32 (float64 for float64 predictions), in the caller's array
        library.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.7], [0.6, 0.3]])
        >>> round(float(precision(y_true, y_pred)), 6)  # 2 of the 3 predicted positives
        0.666667
    """
    return reduced_score(precision_score, y_true, y_pred, options, mask)


# The stateful metrics of every adapter: a score of the accumulated statistics.
register_metric("dice_coefficient", "DiceCoefficient", SmoothedMetricOptions)(dice_score)
register_metric("jaccard_index", "JaccardIndex", SmoothedMetricOptions)(jaccard_score)
register_metric("true_positive_rate", "TruePositiveRate", RateMetricOptions)(true_positive_score)
register_metric("precision", "Precision", RateMetricOptions)(precision_score)
