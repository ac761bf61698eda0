"""A NumPy float64 oracle, written from the formulas and independently of xploss.

Reduced axes are moved to the end and flattened, so every statistic is a plain ``sum(-1)``; the
elementwise maps use ``logaddexp`` rather than the core's branch-free forms.
"""

from __future__ import annotations

import numpy as np

TINY32 = 2.0**-126


def flatten_reduced(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    return moved.reshape((*moved.shape[: len(kept)], -1))


def normalize(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def softmax(z, class_axis):
    lse = np.logaddexp.reduce(z, axis=class_axis, keepdims=True)
    return np.exp(z - lse)


def one_hot(labels, num_classes, class_axis):
    eye = np.eye(num_classes)[labels]  # classes last
    return np.moveaxis(eye, -1, class_axis)


def activate(y_pred, from_logits, class_axis):
    z = np.asarray(y_pred, np.float64)
    if from_logits in (True, "sigmoid"):
        return sigmoid(z)
    if from_logits == "softmax":
        return softmax(z, class_axis)
    return z


def dense_target(y_true, y_pred):
    y = np.asarray(y_true)
    if y.ndim == np.ndim(y_pred) - 1:
        raise ValueError("pass sparse labels through one_hot first")
    return y.astype(np.float64)


def stats(y, p, axes, *, squared=False, mask=None):
    m = np.ones_like(p) if mask is None else np.broadcast_to(np.asarray(mask, np.float64), p.shape)
    y, p, m = (flatten_reduced(np.asarray(a, np.float64), axes) for a in (y, p, m))
    tp = (y * p * m).sum(-1)
    if squared:
        return tp, (y * y * m).sum(-1), (p * p * m).sum(-1)
    return tp, (y * m).sum(-1), (p * m).sum(-1)


def ratio(num, den, empty):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, empty, num / np.where(den == 0, 1.0, den))


def confusion(y, p, axes, *, soft_label=False, mask=None):
    """Soft TP, FP and FN from their elementwise definitions: ``y·p``, ``(1 - y)·p`` and
    ``y·(1 - p)``; with ``soft_label`` the fuzzy-set ones ``min(y, p)``, ``max(p - y, 0)`` and
    ``max(y - p, 0)`` (Wang et al. 2023)."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    if soft_label:
        terms = (np.minimum(y, p), np.maximum(p - y, 0.0), np.maximum(y - p, 0.0))
    else:
        terms = (y * p, (1 - y) * p, y * (1 - p))
    m = np.ones_like(p) if mask is None else np.broadcast_to(np.asarray(mask, np.float64), p.shape)
    return tuple(flatten_reduced(t * m, axes).sum(-1) for t in terms)


def dice(
    y,
    p,
    axes,
    smooth_nr,
    smooth_dr,
    *,
    squared=False,
    soft_label=False,
    mask=None,
    zero_division=1.0,
):
    if soft_label and not squared:  # with squared, soft labels change nothing
        tp, fp, fn = confusion(y, p, axes, soft_label=True, mask=mask)
        return ratio(2 * tp + smooth_nr, 2 * tp + fp + fn + smooth_dr, zero_division)
    tp, st, sp = stats(y, p, axes, squared=squared, mask=mask)
    return ratio(2 * tp + smooth_nr, st + sp + smooth_dr, zero_division)


def jaccard(
    y,
    p,
    axes,
    smooth_nr,
    smooth_dr,
    *,
    squared=False,
    soft_label=False,
    mask=None,
    zero_division=1.0,
):
    """Intersection over union; with ``squared`` the Tanimoto form ``Σyp / (Σy² + Σp² - Σyp)``."""
    if squared:
        tp, st, sp = stats(y, p, axes, squared=True, mask=mask)
        return ratio(tp + smooth_nr, st + sp - tp + smooth_dr, zero_division)
    tp, fp, fn = confusion(y, p, axes, soft_label=soft_label, mask=mask)
    return ratio(tp + smooth_nr, tp + fp + fn + smooth_dr, zero_division)


def tversky(
    y, p, axes, alpha, beta, smooth_nr, smooth_dr, *, soft_label=False, mask=None, zero_division=1.0
):
    """Tversky's index with alpha on the false positives and beta on the false negatives."""
    tp, fp, fn = confusion(y, p, axes, soft_label=soft_label, mask=mask)
    return ratio(tp + smooth_nr, tp + alpha * fp + beta * fn + smooth_dr, zero_division)


def focal(score, gamma):
    """Abraham and Khan's ``(1 - S)^gamma``, with ``1 - S`` floored at 0."""
    return np.maximum(1 - np.asarray(score, np.float64), 0.0) ** gamma


def harden(p, threshold, from_logits=False, class_axis=-1):
    """Hard predictions: the one-hot of the arg-max over the classes after a softmax (MONAI's
    ``AsDiscrete(argmax=True)``, TorchMetrics), else ``p > threshold``."""
    if threshold is None:
        return p
    if from_logits == "softmax":
        index = np.expand_dims(np.argmax(p, axis=class_axis), class_axis)
        classes = np.arange(p.shape[class_axis])
        classes = classes.reshape((-1,) + (1,) * (p.ndim - class_axis % p.ndim - 1))
        return (index == classes).astype(np.float64)
    return (p > threshold).astype(np.float64)


def tpr(y, p, axes, threshold, *, mask=None, zero_division=0.0):
    hard = p if threshold is None else (p > threshold).astype(np.float64)
    tp, st, _ = stats(y, hard, axes, mask=mask)
    return ratio(tp, st, zero_division)


def precision(y, p, axes, threshold, *, mask=None, zero_division=0.0):
    hard = p if threshold is None else (p > threshold).astype(np.float64)
    tp, fp, _ = confusion(y, hard, axes, mask=mask)
    return ratio(tp, tp + fp, zero_division)


def weighted_mean(values, weight=None):
    values = np.asarray(values, np.float64)
    if weight is None:
        return values.mean()
    w = np.broadcast_to(np.asarray(weight, np.float64), values.shape)
    return 0.0 if w.sum() == 0 else float((w * values).sum() / w.sum())


def reduce(values, reduction, weight=None):
    values = np.asarray(values, np.float64)
    w = np.ones_like(values) if weight is None else np.broadcast_to(weight, values.shape)
    if reduction == "none":
        return w * values
    if reduction == "sum":
        return (w * values).sum()
    if reduction == "per_sample":
        return np.array([weighted_mean(v, wv) for v, wv in zip(values, w, strict=True)])
    return weighted_mean(values, weight)


def log_dice_penalty(d):
    return -np.log(np.maximum(d, TINY32))


def bce_elementwise(y, y_pred, from_logits, class_axis):
    """Keras 3's clip bounds are taken in the prediction's dtype (1 - 1e-7 rounds in float32)."""
    eps = np.asarray(1e-7, dtype=np.result_type(y_pred, np.float32)).astype(np.float64)
    top = np.asarray(1 - 1e-7, dtype=np.result_type(y_pred, np.float32)).astype(np.float64)
    y = np.asarray(y, np.float64)
    z = np.asarray(y_pred, np.float64)
    if from_logits in (True, "sigmoid"):
        return np.logaddexp(0.0, z) - z * y
    if from_logits == "softmax":
        lse = np.logaddexp.reduce(z, axis=class_axis, keepdims=True)
        log_q = z - lse
        zc = np.moveaxis(z, class_axis, -1)
        c = zc.shape[-1]
        others = np.where(np.eye(c, dtype=bool), -np.inf, zc[..., None, :])
        log_rest = np.moveaxis(np.logaddexp.reduce(others, axis=-1), -1, class_axis) - lse
        tiny = np.finfo(np.result_type(y_pred, np.float32)).smallest_normal
        log_rest = np.maximum(log_rest, np.log(tiny))  # the documented floor where q == 1
        return -(y * log_q + (1 - y) * log_rest)
    q = np.clip(z, eps, top)
    return -(y * np.log(q) + (1 - y) * np.log(1 - q))


def bce(y, y_pred, axes, from_logits=False, class_axis=-1, mask=None):
    elementwise = bce_elementwise(y, y_pred, from_logits, class_axis)
    m = np.ones_like(elementwise) if mask is None else np.broadcast_to(mask, elementwise.shape)
    total = flatten_reduced(elementwise * m, axes).sum(-1)
    count = flatten_reduced(np.asarray(m, np.float64), axes).sum(-1)
    return ratio(total, count, 0.0)


def gd_weights(r, weight_type, class_axis):
    if weight_type == "uniform":
        return np.ones_like(r)
    with np.errstate(divide="ignore"):
        w = 1.0 / r**2 if weight_type == "square" else 1.0 / r
    infinite = np.isinf(w)
    w = np.where(infinite, 0.0, w)
    largest = w.max(axis=class_axis, keepdims=True)
    largest = np.where(largest == 0, 1.0, largest)  # every class absent: weight 1
    return np.where(infinite, largest, w)


def generalized_dice(y, p, axes, class_axis, weight_type, smooth_nr, smooth_dr, mask=None):
    """Per-score GD; ``axes`` excludes the class axis; returns the scores without it."""
    tp, r, s = stats(y, p, axes, mask=mask)
    c = class_axis - sum(a < class_axis for a in axes)
    w = gd_weights(r, weight_type, c)
    num = 2 * (w * tp).sum(axis=c) + smooth_nr
    den = (w * (r + s)).sum(axis=c) + smooth_dr
    return ratio(num, den, 1.0)


# ---- The cross-entropy family: cross-entropy, binary CE, focal, their compounds with Dice, and
# deep supervision's resized targets. Shapes are NumPy's; the class axis is any axis, and a
# per-class option (class weights, alpha, pos_weight) is a number or C entries along it. -------

KERAS_EPSILON = 1e-7


def clip_bounds(dtype) -> tuple[float, float]:
    """Keras' ``[ε, 1 - ε]``, rounded to the accumulation dtype (float32 below float64)."""
    accumulation = np.result_type(dtype, np.float32)
    return float(np.asarray(KERAS_EPSILON, accumulation)), float(
        np.asarray(1 - KERAS_EPSILON, accumulation)
    )


def along_class_axis(value, ndim: int, class_axis: int):
    """A per-class option as an array that broadcasts along ``class_axis``; None stays None."""
    if value is None:
        return None
    a = np.asarray(value, np.float64)
    if a.ndim == 0:
        return a
    return a.reshape((-1,) + (1,) * (ndim - class_axis % ndim - 1))


def smooth_labels(y, label_smoothing: float, classes: int):
    return np.asarray(y, np.float64) * (1 - label_smoothing) + label_smoothing / classes


def log_probabilities(y_pred, from_logits, class_axis):
    """``log q`` of exclusive classes: the log-softmax of logits, or Keras' categorical rule for
    probabilities: ``q = clip(p / Σ_c p, ε, 1 - ε)`` (a zero sum divides by 1)."""
    z = np.asarray(y_pred, np.float64)
    if from_logits:
        return z - np.logaddexp.reduce(z, axis=class_axis, keepdims=True)
    low, high = clip_bounds(np.asarray(y_pred).dtype)
    total = z.sum(axis=class_axis, keepdims=True)
    return np.log(np.clip(z / np.where(total == 0, 1.0, total), low, high))


def binary_log_probabilities(y_pred, from_logits, class_axis):
    """``(log q, log(1 - q))`` of independent channels: a sigmoid of logits, a softmax (whose
    ``log(1 - q)`` is the log of the other classes' mass, floored at the smallest normal float),
    or probabilities clipped to Keras' ``[ε, 1 - ε]``."""
    z = np.asarray(y_pred, np.float64)
    if from_logits in (True, "sigmoid"):
        return -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    if from_logits == "softmax":
        lse = np.logaddexp.reduce(z, axis=class_axis, keepdims=True)
        zc = np.moveaxis(z, class_axis, -1)
        others = np.where(np.eye(zc.shape[-1], dtype=bool), -np.inf, zc[..., None, :])
        log_rest = np.moveaxis(np.logaddexp.reduce(others, axis=-1), -1, class_axis) - lse
        tiny = np.finfo(np.result_type(np.asarray(y_pred).dtype, np.float32)).smallest_normal
        return z - lse, np.maximum(log_rest, np.log(tiny))
    low, high = clip_bounds(np.asarray(y_pred).dtype)
    q = np.clip(z, low, high)
    return np.log(q), np.log(1 - q)


def full_mask(mask, shape):
    if mask is None:
        return np.ones(shape)
    return np.broadcast_to(np.asarray(mask, np.float64), shape)


def element_axes(axes, class_axis, ndim):
    """``axes`` without the class axis, numbered as in an array that has lost the class axis."""
    c = class_axis % ndim
    return tuple(a - (a > c) for a in axes if a != c)


def reduce_ratio(total, count, reduction):
    """A ratio of sums reduced as one ratio: per element (``"none"``), per first axis
    (``"per_sample"``), the numerator (``"sum"``) or the whole (``"mean"``); 0/0 is 0."""
    if reduction == "none":
        return ratio(total, count, 0.0)
    if reduction == "per_sample":
        rows = total.reshape(total.shape[0], -1), count.reshape(count.shape[0], -1)
        return ratio(rows[0].sum(-1), rows[1].sum(-1), 0.0)
    if reduction == "sum":
        return total.sum()
    return ratio(total.sum(), count.sum(), 0.0)


def exclusive_sums(terms, counted, axes, class_axis):
    """The per-class ``terms`` and the per-element ``counted`` summed over the classes and
    ``axes``: the sums of a term per element of exclusive classes."""
    ndim = terms.ndim
    kept = element_axes(axes, class_axis, ndim)
    total = flatten_reduced(terms.sum(axis=class_axis % ndim), kept).sum(-1)
    return total, flatten_reduced(counted, kept).sum(-1)


def cross_entropy(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits=False,
    *,
    weight=None,
    label_smoothing=0.0,
    mask=None,
    reduction="mean",
):
    """``ℓ_i = -Σ_c w_c·y'_ic·log q_ic`` with ``y' = y(1 - ε) + ε/C``; the loss is the ratio
    ``Σ m_i·ℓ_i / Σ m_i·v_i``, ``v_i = Σ_c w_c·y_ic`` (1 without class weights). A mask that
    holds the classes weighs each class's term, and counts an element where any class is kept."""
    y = np.asarray(y, np.float64)
    c = class_axis % y.ndim
    log_q = log_probabilities(y_pred, from_logits, c)
    m = full_mask(mask, y.shape)
    w = along_class_axis(weight, y.ndim, c)
    target = smooth_labels(y, label_smoothing, y.shape[c])
    terms = -(1.0 if w is None else w) * target * log_q * m
    counted = m.max(axis=c) if w is None else (w * y * m).sum(axis=c)
    total, count = exclusive_sums(terms, counted, axes, c)
    return reduce_ratio(total, count, reduction)


def binary_cross_entropy(
    y,
    y_pred,
    axes,
    from_logits=False,
    class_axis=-1,
    *,
    pos_weight=None,
    label_smoothing=0.0,
    mask=None,
):
    """``-(w·y' log q + (1 - y') log(1 - q))`` per element and channel, ``y' = y(1 - ε) + ε/2``,
    averaged over ``axes`` (the unmasked elements; 0 where there are none)."""
    y = np.asarray(y, np.float64)
    log_q, log_not_q = binary_log_probabilities(y_pred, from_logits, class_axis)
    target = smooth_labels(y, label_smoothing, 2)
    w = along_class_axis(pos_weight, y.ndim, class_axis)
    positive = target * log_q if w is None else w * target * log_q
    return masked_mean(-(positive + (1 - target) * log_not_q), axes, mask)


def masked_mean(terms, axes, mask):
    m = full_mask(mask, terms.shape)
    total = flatten_reduced(terms * m, axes).sum(-1)
    return ratio(total, flatten_reduced(m, axes).sum(-1), 0.0)


def binary_focal(
    y,
    y_pred,
    axes,
    from_logits=False,
    class_axis=-1,
    *,
    gamma=2.0,
    alpha=None,
    label_smoothing=0.0,
    mask=None,
):
    """Lin et al.'s ``α_t·(1 - p_t)^γ·BCE(y', p)`` per element and channel, ``p_t = y'p +
    (1 - y')(1 - p)`` of the unclipped probability (Keras' ``BinaryFocalCrossentropy``),
    ``α_t = α y' + (1 - α)(1 - y')``; averaged over ``axes`` like the BCE."""
    y = np.asarray(y, np.float64)
    target = smooth_labels(y, label_smoothing, 2)
    p = activate(y_pred, from_logits, class_axis)
    log_q, log_not_q = binary_log_probabilities(y_pred, from_logits, class_axis)
    bce_terms = -(target * log_q + (1 - target) * log_not_q)
    p_t = target * p + (1 - target) * (1 - p)
    terms = np.maximum(1 - p_t, 0.0) ** gamma * bce_terms
    a = along_class_axis(alpha, y.ndim, class_axis)
    if a is not None:
        terms = (a * target + (1 - a) * (1 - target)) * terms
    return masked_mean(terms, axes, mask)


def categorical_focal(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits=False,
    *,
    gamma=2.0,
    alpha=None,
    label_smoothing=0.0,
    mask=None,
    weight=None,
    reduction="mean",
):
    """Keras' ``CategoricalFocalCrossentropy``, ``ℓ_i = -Σ_c w_c·α_c·(1 - q_c)^γ·y'_c·log q_c``,
    reduced as the cross-entropy's ratio ``Σ m_i·ℓ_i / Σ m_i·v_i`` with ``v_i = Σ_c w_c·y_ic``
    (1 without class weights), so that ``γ = 0`` is the cross-entropy."""
    y = np.asarray(y, np.float64)
    c = class_axis % y.ndim
    log_q = log_probabilities(y_pred, from_logits, c)
    target = smooth_labels(y, label_smoothing, y.shape[c])
    a = along_class_axis(alpha, y.ndim, c)
    w = along_class_axis(weight, y.ndim, c)
    m = full_mask(mask, y.shape)
    factor = (1.0 if a is None else a) * (1.0 if w is None else w)
    terms = -factor * np.maximum(1 - np.exp(log_q), 0.0) ** gamma
    counted = m.max(axis=c) if w is None else (w * y * m).sum(axis=c)
    total, count = exclusive_sums(terms * target * log_q * m, counted, axes, c)
    return reduce_ratio(total, count, reduction)


def focal_loss(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits=False,
    *,
    exclusive=False,
    weight=None,
    reduction="mean",
    **options,
):
    """The focal loss: categorical for a softmax or ``exclusive`` (``weight`` its class
    weights), else binary, reduced with ``weight`` over the result."""
    if from_logits == "softmax" or exclusive:
        return categorical_focal(
            y, y_pred, axes, class_axis, from_logits, weight=weight, reduction=reduction,
            **options,
        )  # fmt: skip
    values = binary_focal(y, y_pred, axes, from_logits, class_axis, **options)
    return reduce(values, reduction, weight)


def dice_penalty_reduced(d, reduction, weight=None, log=False):
    """The Dice term of a loss: the penalty (``1 - D`` or ``-log D``) of the weighted mean Dice
    for ``"mean"`` and ``"per_sample"``, the reduced penalties for ``"none"`` and ``"sum"``."""
    penalty = log_dice_penalty if log else (lambda s: 1 - np.asarray(s))
    if reduction in ("mean", "per_sample"):
        return penalty(reduce(d, reduction, weight))
    return reduce(penalty(d), reduction, weight)


def dice_loss(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits,
    *,
    smooth_nr=1e-5,
    smooth_dr=1e-5,
    squared=False,
    soft_label=False,
    mask=None,
    weight=None,
    reduction="mean",
    log=False,
):
    p = activate(y_pred, from_logits, class_axis)
    d = dice(y, p, axes, smooth_nr, smooth_dr, squared=squared, soft_label=soft_label, mask=mask)
    return dice_penalty_reduced(d, reduction, weight, log)


def dice_ce(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits=False,
    *,
    exclusive=False,
    weight=None,
    label_smoothing=0.0,
    lambda_dice=1.0,
    lambda_ce=1.0,
    mask=None,
    reduction="mean",
    **dice_options,
):
    """``λ_d·dice_loss + λ_ce·CE``: the categorical CE for a softmax or exclusive probabilities
    (``weight`` then holds the C class weights, laid out as the Dice result's weight), else the
    binary CE per channel, reduced with ``weight``."""
    dice_term = dice_loss(
        y,
        y_pred,
        axes,
        class_axis,
        from_logits,
        mask=mask,
        weight=weight,
        reduction=reduction,
        **dice_options,
    )
    if from_logits == "softmax" or exclusive:
        classes = None if weight is None else np.ravel(weight)
        ce = cross_entropy(
            y,
            y_pred,
            axes,
            class_axis,
            bool(from_logits),
            weight=classes,
            label_smoothing=label_smoothing,
            mask=mask,
            reduction=reduction,
        )
    else:
        values = binary_cross_entropy(
            y, y_pred, axes, from_logits, class_axis, mask=mask, label_smoothing=label_smoothing
        )
        ce = reduce(values, reduction, weight)
    return lambda_dice * dice_term + lambda_ce * ce


def dice_focal(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits=False,
    *,
    exclusive=False,
    weight=None,
    gamma=2.0,
    alpha=None,
    label_smoothing=0.0,
    lambda_dice=1.0,
    lambda_focal=1.0,
    mask=None,
    reduction="mean",
    **dice_options,
):
    """``λ_d·dice_loss + λ_f·focal_loss``, ``weight`` on both results."""
    dice_term = dice_loss(
        y,
        y_pred,
        axes,
        class_axis,
        from_logits,
        mask=mask,
        weight=weight,
        reduction=reduction,
        **dice_options,
    )
    focal_term = focal_loss(
        y,
        y_pred,
        axes,
        class_axis,
        from_logits,
        exclusive=exclusive,
        weight=weight,
        reduction=reduction,
        gamma=gamma,
        alpha=alpha,
        label_smoothing=label_smoothing,
        mask=mask,
    )
    return lambda_dice * dice_term + lambda_focal * focal_term


def generalized_dice_focal(
    y,
    y_pred,
    axes,
    class_axis,
    from_logits=False,
    *,
    weight_type="square",
    smooth_nr=1e-5,
    smooth_dr=1e-5,
    exclusive=False,
    weight=None,
    gamma=2.0,
    alpha=None,
    label_smoothing=0.0,
    lambda_dice=1.0,
    lambda_focal=1.0,
    mask=None,
    reduction="mean",
):
    """``λ_d·(1 - GD) + λ_f·focal_loss``; ``axes`` leave the class axis out, and ``weight``
    weighs the focal term's result only."""
    c = class_axis % np.ndim(y_pred)
    p = activate(y_pred, from_logits, c)
    gd = generalized_dice(y, p, axes, c, weight_type, smooth_nr, smooth_dr, mask=mask)
    focal_term = focal_loss(
        y,
        y_pred,
        axes,
        c,
        from_logits,
        exclusive=exclusive,
        weight=weight,
        reduction=reduction,
        gamma=gamma,
        alpha=alpha,
        label_smoothing=label_smoothing,
        mask=mask,
    )
    return lambda_dice * reduce(1 - gd, reduction) + lambda_focal * focal_term


def resize_nearest(y, shape):
    """Nearest-exact resizing: output entry ``i`` of an axis of ``n`` entries resized to ``m``
    is input entry ``floor((i + 1/2)·n/m)``, in exact integer arithmetic."""
    y = np.asarray(y)
    for axis, (n, m) in enumerate(zip(y.shape, shape, strict=True)):
        if n != m:
            y = np.take(y, [(2 * i + 1) * n // (2 * m) for i in range(m)], axis=axis)
    return y


def resize_average(y, shape):
    """The mean of each block of ``n/m`` entries (``n`` a multiple of ``m``) on every axis."""
    y = np.asarray(y, np.float64)
    for axis, (n, m) in enumerate(zip(y.shape, shape, strict=True)):
        if n != m:
            assert n % m == 0
            blocks = (*y.shape[:axis], m, n // m, *y.shape[axis + 1 :])
            y = y.reshape(blocks).mean(axis=axis + 1)
    return y


def halving_weights(count):
    w = 0.5 ** np.arange(count)
    return w / w.sum()


def deep_supervision(loss, y, y_preds, class_axis, *, weights=None, average=False):
    """``Σ_i w_i·loss(y resized to output i, output i)``: labels (class indices, without the
    class axis) or dense targets (whose class axis keeps its size)."""
    y = np.asarray(y)
    weights = halving_weights(len(y_preds)) if weights is None else weights
    total = 0.0
    for w, p in zip(weights, y_preds, strict=True):
        c = class_axis % p.ndim
        if y.ndim == p.ndim - 1:
            shape = p.shape[:c] + p.shape[c + 1 :]
        else:
            shape = tuple(y.shape[a] if a == c else p.shape[a] for a in range(p.ndim))
        resized = resize_average(y, shape) if average else resize_nearest(y, shape)
        total = total + w * loss(resized, p)
    return total
