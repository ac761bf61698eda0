"""Metrics: the Dice coefficient, the Jaccard index (IoU), the true-positive rate (recall) and
precision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xploss import _checks
from xploss._inputs import Inputs, prepare, prepare_weight
from xploss._namespace import Array
from xploss._scores import (
    dice_score,
    jaccard_score,
    precision_score,
    reduce,
    true_positive_score,
)
from xploss._statistics import OverlapStats, overlap_sums

AllReduce = Callable[[OverlapStats], OverlapStats]
Score = Callable[..., Array]
"""A ratio of the statistics, ``score(stats, *, smooth_nr, smooth_dr, zero_division, xp)``."""


def statistics(
    inputs: Inputs, *, squared: bool, all_reduce: object, soft_label: object = False
) -> OverlapStats:
    """The statistics of ``inputs``, summed over devices by ``all_reduce`` when one is given."""
    reducer = _checks.check_callable(all_reduce, "all_reduce")
    stats = overlap_sums(
        inputs,
        squared=_checks.check_flag(squared, "squared"),
        soft_label=_checks.check_flag(soft_label, "soft_label"),
    )
    return stats if reducer is None else OverlapStats(*reducer(stats))


def per_element_score(
    score: Score,
    y_true: Array,
    y_pred: Array,
    *,
    axis: object,
    class_axis: object,
    smooth_nr: object,
    smooth_dr: object,
    squared: bool,
    soft_label: object,
    from_logits: object,
    threshold: object,
    mask: Array | None,
    zero_division: object,
    all_reduce: object,
) -> tuple[Inputs, Array]:
    """The validated inputs and ``score`` of every element that survives ``axis``."""
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
    stats = statistics(inputs, squared=squared, soft_label=soft_label, all_reduce=all_reduce)
    return inputs, score(stats, smooth_nr=nr, smooth_dr=dr, zero_division=empty, xp=inputs.xp)


def reduced_score(
    score: Score, y_true: Array, y_pred: Array, *, weight: object, reduction: object, **options: Any
) -> Array:
    """``score`` of every element that survives ``axis``, combined by ``reduction``."""
    inputs, values = per_element_score(score, y_true, y_pred, **options)
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    weights = prepare_weight(weight, inputs)
    return reduce(values, weight=weights, reduction=reduction, xp=inputs.xp)


def dice_coefficient(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    squared: bool = False,
    soft_label: bool = False,
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
        soft_label: the intersection ``(Σ p + Σ y - Σ |p - y|) / 2`` (Wang et al. 2023, MONAI's
            ``soft_label``): the same for 0/1 targets, and exact for soft ones (label
            smoothing, distillation), where ``Σ y·p`` scores ``p = y`` below 1 (C13: 5/6). No
            effect with ``squared``, which is already exact for soft targets.
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
        Dice, Ecology 26(3), 1945; Milletari et al., V-Net, 3DV 2016; Wang et al., "Dice
        Semimetric Losses: Optimizing the Dice Score with Soft Labels", MICCAI 2023.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(dice_coefficient(y_true, y_pred, smooth_nr=0, smooth_dr=0)), 6)
        0.72
    """
    return reduced_score(
        dice_score,
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        squared=squared,
        soft_label=soft_label,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )


def jaccard_index(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    squared: bool = False,
    soft_label: bool = False,
    from_logits: bool | str = False,
    threshold: float | None = None,
    weight: Array | float | tuple[float, ...] | None = None,
    mask: Array | None = None,
    zero_division: float = 1.0,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
) -> Array:
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
    return reduced_score(
        jaccard_score,
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        squared=squared,
        soft_label=soft_label,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )


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
    return reduced_score(
        _unsmoothed(true_positive_score),
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=0.0,
        smooth_dr=0.0,
        squared=False,
        soft_label=False,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )


def precision(
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
    """Precision (positive predictive value): ``Σ y·[p > threshold] / Σ [p > threshold]``.

    The counterpart of ``true_positive_rate`` with the predicted volume in the denominator:
    the strict comparison (``p > 0.5``, what ``K.round`` computes), ``threshold=None`` for the
    soft precision ``Σ y·p / Σ p``, and ``zero_division`` (0, as Keras' ``Precision``,
    TorchMetrics and scikit-learn) where nothing is predicted positive.

    Args:
        y_true, y_pred, axis, class_axis, from_logits, weight, mask, reduction, all_reduce:
            as in ``dice_coefficient``.
        threshold: probabilities above it count as positive predictions; ``None`` for soft
            precision.
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
    return reduced_score(
        _unsmoothed(precision_score),
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=0.0,
        smooth_dr=0.0,
        squared=False,
        soft_label=False,
        from_logits=from_logits,
        threshold=threshold,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )


def _unsmoothed(rate: Callable[..., Array]) -> Score:
    """A rate ``rate(stats, *, zero_division, xp)`` as a ``Score`` (it has no smoothing)."""

    def score(stats: OverlapStats, *, zero_division: float, xp: Any, **_: float) -> Array:
        return rate(stats, zero_division=zero_division, xp=xp)

    return score
