"""Binary cross-entropy, and the BCE-Dice compound loss of the seeds."""

from __future__ import annotations

from typing import Any

from xploss._entropy_terms import binary_cross_entropy_terms
from xploss._inputs import Inputs, prepare
from xploss._namespace import Array
from xploss._options import BCEDiceOptions, BCEOptions
from xploss._reductions import elementwise_mean, reduce, reduced_dice_penalty
from xploss._registry import functional
from xploss._scores import dice_score, zero_stats
from xploss._statistics import AllReduce, statistics, sums_all_reduce, values_all_reduce
from xploss._weights import prepare_weight


def mean_bce(inputs: Inputs, options: Any, all_reduce: AllReduce | None = None) -> Array:
    """The elementwise BCE averaged over the reduced axes (over the unmasked elements), and over
    every device's elements with ``all_reduce`` (see ``elementwise_mean``)."""
    xp = inputs.xp
    if inputs.empty and all_reduce is None:  # no element to average: 0, as where a mask removes all
        return xp.sum(xp.zeros_like(inputs.y_pred), axis=inputs.axes)
    return elementwise_mean(binary_cross_entropy_terms(inputs, options), inputs, all_reduce)


@functional(BCEOptions, loss="BinaryCrossEntropyLoss")
def binary_cross_entropy(
    y_true: Array, y_pred: Array, options: BCEOptions, mask: Array | None
) -> Array:
    """Binary cross-entropy, averaged over ``axis``.

    From probabilities (Keras 3): ``ℓ = -(y log q + (1-y) log(1-q))``, ``q = clip(p, 1e-7,
    1 - 1e-7)``. From logits ``z`` (``from_logits=True``): the softplus form
    ``max(z, 0) - z·y + log1p(exp(-|z|))``, exact and finite for saturated logits (``±inf``
    is clipped to ``±sqrt(finfo.max)`` first, where the form would take ``inf - inf``). With
    ``"softmax"``, ``log q`` is a log-softmax over ``class_axis`` and ``log(1 - q)`` is computed
    from it without cancellation, floored at the log of the smallest normal float (-87.3 in
    float32) where ``q`` is exactly 1 (PyTorch's ``BCELoss`` floors at -100). The mean over
    ``axis`` counts the unmasked elements only (0 where there are none); ``weight`` and
    ``reduction`` then act on the result.

    ``pos_weight`` multiplies the positive term, ``-(w·y log q + (1-y) log(1-q))``, as
    PyTorch's ``BCEWithLogitsLoss(pos_weight=w)``; one number per class is placed on
    ``class_axis`` (PyTorch broadcasts it against the last axis). ``label_smoothing=ε`` takes
    the target ``y·(1 - ε) + ε/2``, as Keras. ``mask`` may be a weight map (U-Net's border
    weights): the mean is then ``Σ m·ℓ / Σ m``.

    Args:
        y_true, y_pred, axis, class_axis, from_logits, weight, mask, reduction,
            include_background, ignore_index, validate: as in ``dice_coefficient``.
        pos_weight: the factor of the positive term: a number, or one per class.
        label_smoothing: ε in [0, 1].

    Returns:
        The BCE, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(binary_cross_entropy(y_true, y_pred)), 6)  # -log(0.6)
        0.510826
    """
    inputs = prepare(y_true, y_pred, options, mask)
    weights = prepare_weight(options.weight, inputs)
    return reduce(
        mean_bce(inputs, options), weight=weights, reduction=options.reduction, xp=inputs.xp
    )


@functional(BCEDiceOptions, loss="BCEDiceLoss")
def bce_dice_loss(
    y_true: Array, y_pred: Array, options: BCEDiceOptions, mask: Array | None
) -> Array:
    """``bce_weight·BCE - dice_weight·log(D)``, or ``bce_weight·BCE + dice_weight·(1 - D)``.

    The log form is the Keras ``bce_dice`` (``binary_crossentropy - K.log(dice_coef)``): with
    ``reduction="mean"`` it is ``mean(BCE) - log(mean(D))``, the log of the batch-mean Dice.
    ``"none"`` gives ``BCE_i - log(D_i)`` per element and ``"sum"`` their sum. The BCE term is
    ``binary_cross_entropy`` over the same ``axis``; the Dice term is ``dice_coefficient``. With
    logits, the BCE uses the logits directly and the Dice their sigmoid (or softmax).

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, from_logits, weight, mask,
        reduction, all_reduce: as in ``dice_coefficient``; with ``all_reduce`` both terms are
        those of the whole batch (the BCE's sum and count of elements are summed too).
        bce_weight, dice_weight: non-negative factors of the two terms.
        log_dice: ``-log(D)`` (default) or ``1 - D``.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(bce_dice_loss(y_true, y_pred, smooth_nr=0, smooth_dr=0)), 6)
        0.83933
    """
    inputs, stats = statistics(y_true, y_pred, options, mask, one_hot=True)  # the BCE reads y
    xp, reduction = inputs.xp, options.reduction
    dice = dice_score(stats, options, xp)
    weights = prepare_weight(options.weight, inputs)
    # Every term is global under all_reduce: the sums of both span the devices, or neither's.
    synced = values_all_reduce(inputs, options)
    elements = mean_bce(inputs, options, sums_all_reduce(inputs, options))
    bce = reduce(elements, weight=weights, reduction=reduction, xp=xp, all_reduce=synced)
    empty = lambda: dice_score(zero_stats(stats, xp), options, xp)  # noqa: E731
    penalty = reduced_dice_penalty(
        dice, weight=weights, reduction=reduction, log=options.log_dice, xp=xp, empty=empty,
        all_reduce=synced,
    )  # fmt: skip
    return options.bce_weight * bce + options.dice_weight * penalty
