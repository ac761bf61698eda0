"""Compound losses: weighted sums of terms that share one input pipeline.

A term is a loss of prepared inputs, ``term(inputs, options)``. ``weighted_sum`` prepares the
inputs once (labels read and one-hot encoded, masks built, logits activated) and adds
``factor·term`` for every term; each term reads the options it needs from the one record. The
named compounds are the peers' (MONAI's ``DiceCELoss``, ``DiceFocalLoss`` and
``GeneralizedDiceFocalLoss``, nnU-Net's Dice + CE).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from xploss import _checks, _classes
from xploss._entropy_terms import cross_entropy_sums, focal_term, ratio_reduction
from xploss._inputs import Inputs, prepare
from xploss._losses_bce import mean_bce
from xploss._losses_overlap import generalized_dice_term, overlap_term
from xploss._namespace import Array
from xploss._options_entropy import DiceCEOptions, DiceFocalOptions, GeneralizedDiceFocalOptions
from xploss._reductions import reduce
from xploss._registry import functional
from xploss._scores import dice_score
from xploss._statistics import sums_all_reduce, values_all_reduce
from xploss._weights import prepare_weight

Term = Callable[[Inputs, Any], Array]
"""A loss of prepared inputs: ``term(inputs, options)``."""


def weighted_sum(inputs: Inputs, options: Any, terms: Sequence[tuple[str, Term]]) -> Array:
    """``Σ factor·term(inputs, options)``, each factor the option named beside its term."""
    total: Array | None = None
    for factor, term in terms:
        value = getattr(options, factor) * term(inputs, options)
        total = value if total is None else total + value
    assert total is not None
    return total


def check_mixed(inputs: Inputs, options: Any, *, mixed: bool) -> None:
    """A ValueError where the terms' results cannot be added as ``reduction`` leaves them:
    ``mixed`` (one term has no class axis, the other keeps it) with ``"none"``, or with
    ``"per_sample"`` where the class axis comes first (classes would pair with images)."""
    reduction, c = options.reduction, inputs.class_axis
    if not mixed or c is None or reduction in ("mean", "sum"):
        return
    surviving = [a for a in range(inputs.y_pred.ndim) if a not in inputs.axes]
    if reduction == "none" or surviving[:1] == [c]:
        raise ValueError(
            f"reduction={reduction!r} with axis={options.axis!r} and class_axis={c}: one term "
            "has no class axis (a sum over exclusive classes, or generalized Dice) and the "
            "other keeps it, so their results do not pair up. Use 'mean' or 'sum', "
            "'per_sample' with the batch before the class axis, or (Dice + CE or focal) an "
            "axis that holds class_axis."
        )


def dice_term(inputs: Inputs, options: Any) -> Array:
    return overlap_term(dice_score, inputs, options)


def categorical(options: Any) -> bool:
    """Whether a compound's cross-entropy is categorical: a softmax, or ``exclusive``
    probabilities; sigmoid logits and other probabilities take the binary one per channel."""
    return options.from_logits == "softmax" or bool(options.exclusive)


def cross_entropy_term(inputs: Inputs, options: Any) -> Array:
    """The categorical cross-entropy (class weights ``weight``) for exclusive classes, else the
    binary one per channel (``weight`` on the result, as the Dice term's)."""
    if categorical(options):
        total, count = cross_entropy_sums(inputs, options)
        return ratio_reduction(total, count, inputs, options)
    xp = inputs.xp
    values = mean_bce(inputs, options, sums_all_reduce(inputs, options))
    weights = prepare_weight(options.weight, inputs)
    synced = values_all_reduce(inputs, options)
    return reduce(values, weight=weights, reduction=options.reduction, xp=xp, all_reduce=synced)


def generalized_focal_term(inputs: Inputs, options: Any) -> Array:
    """The focal term beside generalized Dice, whose inputs fold ``include_background=False``
    into the mask: a binary focal result keeps the class axis, where class 0 is then weighed 0
    (as ``focal_loss`` and MONAI weigh it) rather than averaged in as a 0."""
    c = inputs.class_axis
    if categorical(options) or options.include_background or c is None:
        return focal_term(inputs, options)
    classes = _checks.shape_of(inputs.y_pred)[c]
    if classes == 1:  # include_background=False is ignored for a single channel
        return focal_term(inputs, options)
    position = (c - sum(a < c for a in inputs.axes), _classes.known(classes))
    return focal_term(dataclasses.replace(inputs, background=position), options)


def prepared(y_true: Array, y_pred: Array, options: Any, mask: Array | None, **kw: Any) -> Inputs:
    """The inputs of a compound: the class axis found where a categorical term needs it."""
    exclusive = categorical(options)
    inputs = prepare(
        y_true, y_pred, options, mask, exclusive=exclusive, log_probabilities=exclusive, **kw
    )
    if kw.get("keep_class_axis"):  # generalized Dice has no class axis, a binary focal term has
        mixed = not exclusive
    else:  # a categorical term has none, the Dice term keeps it unless axis holds it
        mixed = exclusive and inputs.class_axis not in inputs.axes
    check_mixed(inputs, options, mixed=mixed)
    return inputs


@functional(DiceCEOptions, loss="DiceCELoss")
def dice_ce_loss(y_true: Array, y_pred: Array, options: DiceCEOptions, mask: Array | None) -> Array:
    """``lambda_dice·(1 - D) + lambda_ce·CE``: MONAI's ``DiceCELoss``.

    The Dice term is ``dice_loss`` with the same options (``log=True``: ``-log D``); the CE term
    is ``cross_entropy`` for exclusive classes (``from_logits="softmax"``, or probabilities
    with ``exclusive=True``), and ``binary_cross_entropy`` for independent channels
    (``from_logits=True``, or other probabilities). MONAI takes a softmax cross-entropy whenever
    there are several channels, even with ``sigmoid=True`` (multi-label targets): here a sigmoid
    means independent channels in both terms. ``weight`` weighs the classes of both terms (the
    CE's class weights, the Dice's weighted mean); ``label_smoothing``, ``include_background``
    (MONAI: the Dice only) and ``ignore_index`` apply as in each loss; the CE's ``"mean"`` is the
    ratio over every element, as PyTorch's.

    nnU-Net's ``DC_and_CE_loss`` (batch Dice, background out, smoothing 1e-5) is
    ``dice_ce_loss(batch axes, from_logits="softmax", include_background=False,
    smooth_nr=1e-5, smooth_dr=1e-5) - 1`` (it adds ``-D`` where this adds ``1 - D``).

    Args:
        y_true, y_pred, mask, axis, class_axis, from_logits, smooth_nr, smooth_dr, squared,
        soft_label, weight, include_background, ignore_index, zero_division, reduction, log,
        all_reduce, validate: as in ``dice_loss``.
        label_smoothing: the CE's, ε in [0, 1].
        exclusive: probabilities of mutually exclusive classes: the categorical CE.
        lambda_dice, lambda_ce: the non-negative factors of the terms.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> labels = np.array([[0, 1]])
        >>> logits = np.array([[[2.0, 0.0], [0.0, 2.0]]])  # (B, W, C)
        >>> round(float(dice_ce_loss(labels, logits, from_logits="softmax", axis=1)), 5)
        0.24613
    """
    inputs = prepared(y_true, y_pred, options, mask)
    return weighted_sum(
        inputs, options, (("lambda_dice", dice_term), ("lambda_ce", cross_entropy_term))
    )


@functional(DiceFocalOptions, loss="DiceFocalLoss")
def dice_focal_loss(
    y_true: Array, y_pred: Array, options: DiceFocalOptions, mask: Array | None
) -> Array:
    """``lambda_dice·(1 - D) + lambda_focal·FL``: MONAI's ``DiceFocalLoss``.

    The Dice term is ``dice_loss``, the focal term ``focal_loss`` (sigmoid or softmax as
    ``from_logits`` says; ``exclusive=True`` for probabilities of exclusive classes), with the
    same options; ``weight`` weighs the per-element results of both.

    Args:
        y_true, y_pred, mask, axis, class_axis, from_logits, smooth_nr, smooth_dr, squared,
        soft_label, weight, include_background, ignore_index, zero_division, reduction, log,
        all_reduce, validate: as in ``dice_loss``.
        gamma, alpha, exclusive, label_smoothing: as in ``focal_loss``.
        lambda_dice, lambda_focal: the non-negative factors of the terms.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0]])
        >>> y_pred = np.array([[0.9, 0.2]])
        >>> round(float(dice_focal_loss(y_true, y_pred, smooth_nr=0, smooth_dr=0)), 6)
        0.147847
    """
    inputs = prepared(y_true, y_pred, options, mask)
    terms = (("lambda_dice", dice_term), ("lambda_focal", focal_term))
    return weighted_sum(inputs, options, terms)


@functional(GeneralizedDiceFocalOptions, loss="GeneralizedDiceFocalLoss")
def generalized_dice_focal_loss(
    y_true: Array, y_pred: Array, options: GeneralizedDiceFocalOptions, mask: Array | None
) -> Array:
    """``lambda_dice·(1 - GD) + lambda_focal·FL``: MONAI's ``GeneralizedDiceFocalLoss``.

    ``1 - GD`` is ``generalized_dice_loss`` (``axis`` leaves the class axis out), the focal
    term ``focal_loss`` over the same axes and the classes, with the same options.

    Args:
        y_true, y_pred, mask, axis, class_axis, from_logits, smooth_nr, smooth_dr, weight_type,
        include_background, ignore_index, reduction, all_reduce, validate: as in
        ``generalized_dice_loss``.
        weight: the focal term's, as in ``focal_loss``.
        gamma, alpha, exclusive, label_smoothing: as in ``focal_loss``.
        lambda_dice, lambda_focal: the non-negative factors of the terms.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> labels = np.array([[0, 1]])
        >>> y_pred = np.array([[[0.8, 0.2], [0.1, 0.9]]])  # (B, W, C)
        >>> loss = generalized_dice_focal_loss(labels, y_pred, exclusive=True, smooth_nr=0,
        ...                                    smooth_dr=0)
        >>> round(float(loss), 6)  # 0.15 + the focal term 0.00499
        0.15499
    """
    inputs = prepared(y_true, y_pred, options, mask, keep_class_axis=True)
    terms = (("lambda_dice", generalized_dice_term), ("lambda_focal", generalized_focal_term))
    return weighted_sum(inputs, options, terms)
