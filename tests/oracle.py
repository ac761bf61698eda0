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
