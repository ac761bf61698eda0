"""Losses: Dice, Jaccard, Tversky, focal Tversky, binary cross-entropy, BCE-Dice and
generalized Dice."""

from __future__ import annotations

import functools
from typing import Any

from xploss import _checks, _elementwise
from xploss._inputs import Inputs, prepare, prepare_weight
from xploss._metrics import AllReduce, Score, per_element_score, statistics
from xploss._namespace import Array
from xploss._scores import (
    dice_score,
    focal_penalty,
    generalized_dice_score,
    jaccard_score,
    reduce,
    reduced_dice_penalty,
    safe_divide,
    tversky_score,
)

Weight = Array | float | tuple[float, ...] | None


def _overlap_loss(
    score: Score,
    y_true: Array,
    y_pred: Array,
    *,
    weight: Weight,
    reduction: object,
    log: object = False,
    gamma: float | None = None,
    **options: Any,
) -> Array:
    """``1 - S`` (``-log S`` with ``log``; ``(1 - S)^gamma`` with ``gamma``) of the per-element
    ``score``, combined by ``reduction``."""
    inputs, values = per_element_score(score, y_true, y_pred, **options)
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    weights = prepare_weight(weight, inputs)
    xp = inputs.xp
    if gamma is not None:
        focal = focal_penalty(values, gamma=gamma, xp=xp)
        return reduce(focal, weight=weights, reduction=reduction, xp=xp)
    return reduced_dice_penalty(
        values, weight=weights, reduction=reduction, log=_checks.check_flag(log, "log"), xp=xp
    )


def dice_loss(
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
    weight: Weight = None,
    mask: Array | None = None,
    zero_division: float = 1.0,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
    log: bool = False,
) -> Array:
    """Dice loss ``1 - D``, or ``-log(D)`` with ``log=True``.

    ``D`` is ``dice_coefficient`` with the same options. With ``reduction="mean"`` the loss is
    ``1 - mean(D)`` (which equals ``mean(1 - D)``) or ``-log(mean(D))``; ``"none"`` and ``"sum"``
    apply the penalty per element. ``-log`` uses ``max(D, 2**-126)``, so it is at most 87.34.
    The loss is in [0, 1] (``log=False``) for any non-negative weights.

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, squared, soft_label,
        from_logits, threshold, weight, mask, zero_division, reduction, all_reduce: as in
        ``dice_coefficient``; ``soft_label=True`` makes the loss 0 at ``p = y`` for soft
        targets too.
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
    return _overlap_loss(
        dice_score,
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        log=log,
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


def jaccard_loss(
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
    weight: Weight = None,
    mask: Array | None = None,
    zero_division: float = 1.0,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
    log: bool = False,
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
    return _overlap_loss(
        jaccard_score,
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        log=log,
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


def tversky_loss(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    soft_label: bool = False,
    from_logits: bool | str = False,
    weight: Weight = None,
    mask: Array | None = None,
    zero_division: float = 1.0,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
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
    return _overlap_loss(
        _tversky(alpha, beta),
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        squared=False,
        soft_label=soft_label,
        from_logits=from_logits,
        threshold=None,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )


def focal_tversky_loss(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    alpha: float = 0.3,
    beta: float = 0.7,
    gamma: float = 0.75,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    soft_label: bool = False,
    from_logits: bool | str = False,
    weight: Weight = None,
    mask: Array | None = None,
    zero_division: float = 1.0,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
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
    return _overlap_loss(
        _tversky(alpha, beta),
        y_true,
        y_pred,
        weight=weight,
        reduction=reduction,
        gamma=_checks.check_positive(gamma, "gamma"),
        axis=axis,
        class_axis=class_axis,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        squared=False,
        soft_label=soft_label,
        from_logits=from_logits,
        threshold=None,
        mask=mask,
        zero_division=zero_division,
        all_reduce=all_reduce,
    )


def _tversky(alpha: object, beta: object) -> Score:
    fp_weight, fn_weight = _checks.check_tversky_weights(alpha, beta)
    return functools.partial(tversky_score, alpha=fp_weight, beta=fn_weight)


def _mean_bce(inputs: Inputs) -> Array:
    """The elementwise BCE averaged over the reduced axes (over the unmasked elements)."""
    xp, y = inputs.xp, inputs.y_true
    if inputs.activation == "sigmoid":
        elementwise = _elementwise.bce_from_logits(y, inputs.logits, xp)
    elif inputs.activation == "softmax":
        assert inputs.class_axis is not None
        log_q = _elementwise.log_softmax(inputs.logits, inputs.class_axis, xp)
        elementwise = _elementwise.bce_from_log_probabilities(y, log_q, xp)
    else:
        elementwise = _elementwise.bce_from_probabilities(y, inputs.y_pred, xp)
    if inputs.mask is None:
        return xp.mean(elementwise, axis=inputs.axes)
    total = xp.sum(inputs.mask * elementwise, axis=inputs.axes)
    count = xp.sum(inputs.mask * xp.ones_like(elementwise), axis=inputs.axes)
    return safe_divide(total, count, 0.0, xp)


def binary_cross_entropy(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    from_logits: bool | str = False,
    weight: Weight = None,
    mask: Array | None = None,
    reduction: str = "mean",
) -> Array:
    """Binary cross-entropy, averaged over ``axis``.

    From probabilities (Keras 3): ``ℓ = -(y log q + (1-y) log(1-q))``, ``q = clip(p, 1e-7,
    1 - 1e-7)``. From logits ``z`` (``from_logits=True``): the softplus form
    ``max(z, 0) - z·y + log1p(exp(-|z|))``, exact and finite for saturated logits. With
    ``"softmax"``, ``log q`` is a log-softmax over ``class_axis`` and ``log(1 - q)`` is computed
    from it without cancellation, floored at the log of the smallest normal float (-87.3 in
    float32) where ``q`` is exactly 1 (PyTorch's ``BCELoss`` floors at -100). The mean over
    ``axis`` counts the unmasked elements only (0 where there are none); ``weight`` and
    ``reduction`` then act on the result.

    Args:
        y_true, y_pred, axis, class_axis, from_logits, weight, mask, reduction: as in
            ``dice_coefficient``.

    Returns:
        The BCE, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1, 0], [1, 1]])
        >>> y_pred = np.array([[0.9, 0.2], [0.6, 0.3]])
        >>> round(float(binary_cross_entropy(y_true, y_pred)), 6)  # -log(0.6)
        0.510826
    """
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    inputs = prepare(
        y_true, y_pred, axis=axis, class_axis=class_axis, from_logits=from_logits, mask=mask
    )
    weights = prepare_weight(weight, inputs)
    return reduce(_mean_bce(inputs), weight=weights, reduction=reduction, xp=inputs.xp)


def bce_dice_loss(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    from_logits: bool | str = False,
    bce_weight: float = 1.0,
    dice_weight: float = 1.0,
    log_dice: bool = True,
    weight: Weight = None,
    mask: Array | None = None,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
) -> Array:
    """``bce_weight·BCE - dice_weight·log(D)``, or ``bce_weight·BCE + dice_weight·(1 - D)``.

    The log form is the Keras ``bce_dice`` (``binary_crossentropy - K.log(dice_coef)``): with
    ``reduction="mean"`` it is ``mean(BCE) - log(mean(D))``, the log of the batch-mean Dice.
    ``"none"`` gives ``BCE_i - log(D_i)`` per element and ``"sum"`` their sum. The BCE term is
    ``binary_cross_entropy`` over the same ``axis``; the Dice term is ``dice_coefficient``. With
    logits, the BCE uses the logits directly and the Dice their sigmoid (or softmax).

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, from_logits, weight, mask,
        reduction, all_reduce: as in ``dice_coefficient`` (``all_reduce`` acts on the Dice
        statistics).
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
    bce_factor = _checks.check_nonnegative(bce_weight, "bce_weight")
    dice_factor = _checks.check_nonnegative(dice_weight, "dice_weight")
    inputs, dice = per_element_score(
        dice_score,
        y_true,
        y_pred,
        axis=axis,
        class_axis=class_axis,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        squared=False,
        soft_label=False,
        from_logits=from_logits,
        threshold=None,
        mask=mask,
        zero_division=1.0,
        all_reduce=all_reduce,
    )
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    weights = prepare_weight(weight, inputs)
    xp = inputs.xp
    bce = reduce(_mean_bce(inputs), weight=weights, reduction=reduction, xp=xp)
    penalty = reduced_dice_penalty(
        dice,
        weight=weights,
        reduction=reduction,
        log=_checks.check_flag(log_dice, "log_dice"),
        xp=xp,
    )
    return bce_factor * bce + dice_factor * penalty


def generalized_dice_loss(
    y_true: Array,
    y_pred: Array,
    *,
    axis: int | tuple[int, ...] | None = None,
    class_axis: int = -1,
    weight_type: str = "square",
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    from_logits: bool | str = False,
    mask: Array | None = None,
    reduction: str = "mean",
    all_reduce: AllReduce | None = None,
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
    nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
    dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
    weight_type = _checks.check_choice(weight_type, "weight_type", _checks.WEIGHT_TYPES)
    reduction = _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
    inputs = prepare(
        y_true,
        y_pred,
        axis=axis,
        class_axis=class_axis,
        from_logits=from_logits,
        mask=mask,
        keep_class_axis=True,
    )
    assert inputs.class_axis is not None
    stats = statistics(inputs, squared=False, all_reduce=all_reduce)
    class_position = inputs.class_axis - sum(a < inputs.class_axis for a in inputs.axes)
    score = generalized_dice_score(
        stats,
        class_axis=class_position,
        weight_type=weight_type,
        smooth_nr=nr,
        smooth_dr=dr,
        zero_division=1.0,
        xp=inputs.xp,
    )
    return reduce(1 - score, weight=None, reduction=reduction, xp=inputs.xp)
