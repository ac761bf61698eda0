"""Overlap losses: Dice, Jaccard, Tversky, focal Tversky and generalized Dice."""

from __future__ import annotations

from typing import Any

from xploss._inputs import Inputs, prepare
from xploss._metrics import Score
from xploss._namespace import Array
from xploss._options import (
    DiceLossOptions,
    FocalTverskyOptions,
    GeneralizedDiceOptions,
    TverskyOptions,
)
from xploss._reductions import reduce, reduced_dice_penalty
from xploss._registry import functional
from xploss._scores import (
    dice_score,
    focal_penalty,
    generalized_dice_score,
    jaccard_score,
    tversky_score,
    zero_stats,
)
from xploss._statistics import OverlapStats, needs_one_hot, statistics_of, values_all_reduce
from xploss._weights import prepare_weight


def overlap_loss(
    score: Score,
    y_true: Array,
    y_pred: Array,
    options: Any,
    mask: Array | None,
    *,
    focal: bool = False,
) -> Array:
    """``1 - S`` (``-log S`` with ``options.log``; ``(1 - S)^gamma`` when ``focal``) of the
    per-element ``score``, combined by ``options.reduction``."""
    threshold = getattr(options, "threshold", None)
    one_hot = needs_one_hot(options)
    inputs = prepare(y_true, y_pred, options, mask, threshold=threshold, one_hot=one_hot)
    return overlap_term(score, inputs, options, focal=focal)


def overlap_term(
    score: Score, inputs: Inputs, options: Any, *, focal: bool = False, log: bool | None = None
) -> Array:
    """``overlap_loss`` of prepared inputs: the term of a compound loss. ``log`` overrides
    ``options.log`` (BCE-Dice's ``log_dice``)."""
    stats = statistics_of(inputs, options)
    xp = inputs.xp
    values = score(stats, options, xp)
    weights = prepare_weight(options.weight, inputs)
    reduction = options.reduction
    synced = values_all_reduce(inputs, options)

    def empty() -> Array:  # the score of no element
        return score(zero_stats(stats, xp), options, xp)

    if focal:
        penalty = focal_penalty(values, gamma=options.gamma, xp=xp)
        focal_empty = lambda: focal_penalty(empty(), gamma=options.gamma, xp=xp)  # noqa: E731
        return reduce(
            penalty, weight=weights, reduction=reduction, xp=xp, empty=focal_empty,
            all_reduce=synced,
        )  # fmt: skip
    if log is None:
        log = getattr(options, "log", False)
    return reduced_dice_penalty(
        values, weight=weights, reduction=reduction, log=log, xp=xp, empty=empty,
        all_reduce=synced,
    )  # fmt: skip


@functional(DiceLossOptions, loss="DiceLoss")
def dice_loss(y_true: Array, y_pred: Array, options: DiceLossOptions, mask: Array | None) -> Array:
    """Dice loss ``1 - D``, or ``-log(D)`` with ``log=True``.

    ``D`` is ``dice_coefficient`` with the same options. With ``reduction="mean"`` the loss is
    ``1 - mean(D)`` (which equals ``mean(1 - D)``) or ``-log(mean(D))``; ``"none"`` and ``"sum"``
    apply the penalty per element. ``-log`` uses ``max(D, 2**-126)``, so it is at most 87.34.
    The loss is in [0, 1] (``log=False``) for any non-negative weights.

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, squared, soft_label,
        from_logits, threshold, weight, mask, zero_division, reduction, all_reduce, validate:
        as in ``dice_coefficient``; ``soft_label=True`` makes the loss 0 at ``p = y`` for soft
        targets too. Class indices outside ``[0, C)`` raise eagerly unless ``mask`` removes
        them; under ``jax.jit``, ``torch.compile`` or ``tf.function`` they encode to all-zero
        rows: a negative of every class.
        log: the log-Dice form.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Milletari et al., V-Net, 3DV 2016; MONAI ``DiceLoss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(dice_loss(y_true, y_pred, smooth_nr=0, smooth_dr=0)), 6)
        0.28
    """
    return overlap_loss(dice_score, y_true, y_pred, options, mask)


@functional(DiceLossOptions, loss="JaccardLoss")
def jaccard_loss(
    y_true: Array, y_pred: Array, options: DiceLossOptions, mask: Array | None
) -> Array:
    """Jaccard (soft IoU) loss ``1 - J``, or ``-log(J)`` with ``log=True``.

    ``J = (Σ y·p + smooth_nr) / (Σ y + Σ p - Σ y·p + smooth_dr)`` is ``jaccard_index`` with the
    same options; the reductions and the log floor are those of ``dice_loss``. The loss is in
    [0, 1] (``log=False``) for any non-negative weights.

    Conventions elsewhere: segmentation_models_pytorch's ``JaccardLoss(smooth=s)`` is
    ``smooth_nr = smooth_dr = s, soft_label=True`` (it always takes the L1 intersection, and
    sums the batch too: ``axis`` of every axis but the classes); MONAI's ``DiceLoss(jaccard=True,
    smooth_nr=a, smooth_dr=b)`` is ``smooth_nr=a/2, smooth_dr=b/2`` here (it doubles numerator
    and denominator).

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, squared, soft_label,
        from_logits, threshold, weight, mask, zero_division, reduction, all_reduce, log: as in
        ``dice_loss``; ``soft_label=True`` is Wang, Ning and Blaschko's Jaccard metric loss,
        0 at ``p = y`` for soft targets too.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Wang, Ning, Blaschko, "Jaccard Metric Losses: Optimizing the Jaccard Index with Soft
        Labels", NeurIPS 2023; Bertels et al., MICCAI 2019 (Dice and Jaccard surrogates).

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> float(jaccard_loss(y_true, y_pred, smooth_nr=0, smooth_dr=0))  # 1 - 9/16
        0.4375
    """
    return overlap_loss(jaccard_score, y_true, y_pred, options, mask)


@functional(TverskyOptions, loss="TverskyLoss")
def tversky_loss(
    y_true: Array, y_pred: Array, options: TverskyOptions, mask: Array | None
) -> Array:
    """Tversky loss ``1 - S`` (Salehi et al. 2017).

    ``S = (tp + smooth_nr) / (tp + alpha·FP + beta·FN + smooth_dr)`` with ``tp = Σ y·p``,
    ``FP = Σ p - tp = Σ (1 - y)·p`` and ``FN = Σ y - tp = Σ y·(1 - p)`` over ``axis``: **alpha
    weighs the false positives, beta the false negatives**, as in Tversky (1977), Salehi et
    al., MONAI's ``TverskyLoss`` and segmentation_models_pytorch (the defaults, 0.5 and 0.5,
    are theirs too). ``beta > alpha`` favours recall (Salehi et al. use 0.3 and 0.7).
    ``alpha = beta = 0.5`` is the Dice loss with its smoothing doubled, ``alpha = beta = 1``
    the Jaccard loss, ``alpha = 0, beta = 1`` one minus the soft recall ``Σ y·p / Σ y``.

    Keras 3 up to 3.15 has ``alpha`` and ``beta`` swapped: its ``keras.losses.Tversky(alpha=a,
    beta=b)`` weighs false negatives by ``a`` and false positives by ``b`` (keras-team/keras
    #23333, fixed in 3.16). It equals ``tversky_loss(alpha=b, beta=a, smooth_nr=0,
    smooth_dr=1e-7)`` here.

    The reductions are those of ``dice_loss`` (``1 - mean(S)`` equals ``mean(1 - S)``).

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, soft_label, from_logits,
        weight, mask, zero_division, reduction, all_reduce: as in ``dice_loss``.
        alpha: the weight of the false positives, a finite number >= 0.
        beta: the weight of the false negatives, a finite number >= 0 (not both 0).

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Tversky, "Features of similarity", Psychological Review 84(4), 1977; Salehi, Erdogmus,
        Gholipour, "Tversky loss function for image segmentation using 3D fully convolutional
        deep networks", MLMI 2017, arXiv:1706.05721.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> loss = tversky_loss(y_true, y_pred, alpha=0.3, beta=0.7, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss), 6)  # 1 - 1.8 / (1.8 + 0.3·0.2 + 0.7·1.2)
        0.333333
    """
    return overlap_loss(tversky_score, y_true, y_pred, options, mask)


@functional(FocalTverskyOptions, loss="FocalTverskyLoss")
def focal_tversky_loss(
    y_true: Array, y_pred: Array, options: FocalTverskyOptions, mask: Array | None
) -> Array:
    """Focal Tversky loss ``(1 - S)^gamma`` (Abraham and Khan 2019).

    ``S`` is the Tversky index of ``tversky_loss`` (alpha weighs false positives, beta false
    negatives). ``gamma`` is **the exponent itself**: the paper writes ``(1 - S)^(1/γ)`` with
    γ in [1, 3], so ``gamma = 1/γ``, and the defaults ``alpha=0.3, beta=0.7, gamma=0.75`` are
    the authors' code (γ = 4/3). ``gamma < 1`` raises the loss of the elements that are nearly
    right, relative to those far off; ``gamma = 1`` is the Tversky loss. The power is taken per
    element (per image and class, as the paper's sum over classes), then ``reduction``
    combines: ``"mean"`` is ``mean((1 - S)^gamma)``. segmentation_models_pytorch's
    ``TverskyLoss(gamma=g)`` raises the class mean instead, ``(mean_c (1 - S_c))^g``, which is
    the same for a single score. MONAI and Keras have no focal Tversky loss.

    ``1 - S`` is floored at 0 before the power; where it is 0 (a perfect score) the loss and
    its gradient are 0, where the exact derivative ``gamma·(1 - S)^(gamma - 1)`` is infinite
    for ``gamma < 1``.

    Args:
        y_true, y_pred, axis, class_axis, alpha, beta, smooth_nr, smooth_dr, soft_label,
        from_logits, weight, mask, zero_division, reduction, all_reduce: as in
        ``tversky_loss``.
        gamma: the exponent of ``1 - S``, a finite number > 0.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Abraham, Khan, "A Novel Focal Tversky Loss Function with Improved Attention U-Net for
        Lesion Segmentation", ISBI 2019, arXiv:1810.07842.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> loss = focal_tversky_loss(y_true, y_pred, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss), 6)  # (1 - 2/3)^0.75
        0.438691
    """
    return overlap_loss(tversky_score, y_true, y_pred, options, mask, focal=True)


@functional(GeneralizedDiceOptions, loss="GeneralizedDiceLoss")
def generalized_dice_loss(
    y_true: Array, y_pred: Array, options: GeneralizedDiceOptions, mask: Array | None
) -> Array:
    """Generalized Dice loss ``1 - GD`` (Sudre et al. 2017).

    ``GD = (2 Σ_l w_l Σ y_l·p_l + smooth_nr) / (Σ_l w_l Σ (y_l + p_l) + smooth_dr)`` with the inner
    sums over ``axis`` and the outer over the classes on ``class_axis``. ``axis=None`` sums every
    axis but the class axis (one score for the whole batch); ``(1, 2, 3)`` on ``(B, D, H, W, C)``
    gives one score per volume. The class axis may not be in ``axis``.

    Weights ``w_l`` come from the reference volume ``R_l = Σ y_l``: ``1/R_l²`` (``"square"``),
    ``1/R_l`` (``"simple"``) or ``1`` (``"uniform"``). A class absent from the reference gets the
    largest weight among the present classes of that score (NiftyNet's and MONAI's rule). Where
    every class is absent, all weights are 1, so a prediction of anything there is still
    penalised (MONAI and optax return 0 whatever the prediction); an empty prediction of an empty
    reference scores ``smooth_nr / smooth_dr`` (1 with the defaults; 1 as well at 0/0).

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, from_logits, mask, reduction,
        all_reduce: as in ``dice_coefficient``; ``all_reduce`` sums the statistics before the
        weights are taken, so they come from the global volumes.
        weight_type: ``"square"``, ``"simple"`` or ``"uniform"``.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Sudre et al., "Generalised Dice overlap as a deep learning loss function for highly
        unbalanced segmentations", DLMIA 2017, arXiv:1707.03237.

    Example:
        >>> import numpy as np
        >>> labels = np.array([[[0, 1], [2, 0]]])  # (1, 2, 2) class indices
        >>> y_pred = np.array([[[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]],
        ...                     [[0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]]])
        >>> loss = generalized_dice_loss(labels, y_pred, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss), 6)  # 79/215
        0.367442
    """
    one_hot = needs_one_hot(options)
    inputs = prepare(y_true, y_pred, options, mask, keep_class_axis=True, one_hot=one_hot)
    return generalized_dice_term(inputs, options)


def generalized_dice_term(inputs: Inputs, options: Any) -> Array:
    """``generalized_dice_loss`` of inputs prepared with ``keep_class_axis=True``."""
    stats = statistics_of(inputs, options)
    assert inputs.class_axis is not None
    class_position = inputs.class_axis - sum(a < inputs.class_axis for a in inputs.axes)
    xp = inputs.xp
    score = generalized_dice_score(stats, options, class_position, xp)

    def empty() -> Array:  # the loss of no element: every class absent, one class is enough
        zero = xp.reshape(zero_stats(stats, xp).tp, (1,))
        return 1 - generalized_dice_score(OverlapStats(zero, zero, zero), options, 0, xp)

    synced = values_all_reduce(inputs, options)
    return reduce(
        1 - score, weight=None, reduction=options.reduction, xp=xp, empty=empty, all_reduce=synced
    )
