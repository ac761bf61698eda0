"""Cross-entropy and focal losses: a term per element, averaged over the elements.

Two kinds of classes. **Exclusive** classes (a softmax over ``class_axis``; one class per
element) give one term per element, summed over the classes: ``-Σ_c y_c log q_c``.
**Independent** channels (a sigmoid each; multi-label) give one term per element and channel,
and the channels are averaged like any other axis (``binary_cross_entropy``).
"""

from __future__ import annotations

from typing import Any

from xploss import _checks, _classes, _labels
from xploss._elementwise import (
    bce_from_log_probabilities,
    bce_from_logits,
    bce_from_probabilities,
    categorical_log_probabilities,
    clip,
    log_softmax,
)
from xploss._inputs import Inputs, aligned, as_dtype, with_nan
from xploss._namespace import Array, Namespace, array_namespace, device_of
from xploss._reductions import elementwise_mean, reduce, summed_over_devices
from xploss._scores import safe_divide
from xploss._statistics import sums_all_reduce, values_all_reduce
from xploss._weights import prepare_weight


def smoothed(y: Array, label_smoothing: Any, classes: Any) -> Array:
    """Label smoothing: ``y·(1 - ε) + ε/K`` over ``K`` classes (Keras, PyTorch; ``K = 2`` for a
    binary target)."""
    if isinstance(label_smoothing, float) and label_smoothing == 0:
        return y
    return y * (1 - label_smoothing) + label_smoothing / classes


def per_class(value: object, inputs: Inputs, name: str, class_axis: int) -> Any:
    """A per-class option (class weights, ``alpha``, ``pos_weight``) along ``y_pred``'s class
    axis: a number stays a number; ``C`` entries become an array of shape ``(C, 1, ..., 1)``."""
    if value is None or isinstance(value, float):
        return value
    xp, shape = inputs.xp, _checks.shape_of(inputs.y_pred)
    if isinstance(value, tuple):
        array = xp.asarray(value, dtype=inputs.dtype, device=device_of(inputs.y_pred, xp))
    else:
        (value,) = aligned(inputs.y_pred, value=value)
        array_namespace(y_pred=inputs.y_pred, **{name: value})  # a TypeError for a mix
        _checks.check_dtypes(xp, **{name: value})
        array = as_dtype(value, inputs.dtype, xp)
    if array.ndim == 0:
        return array
    given = _checks.shape_of(array)
    classes = shape[class_axis]
    entries = None if None in given else int(_prod(given))
    if entries is not None and classes is not None and entries != classes:
        raise ValueError(
            f"{name} of shape {given} has {entries} entries, but y_pred of shape {shape} has "
            f"{classes} classes on class_axis={class_axis}: give one {name} per class, or one."
        )
    trailing = len(shape) - class_axis - 1
    return xp.reshape(array, (-1,) + (1,) * trailing)


def _prod(values: tuple[int | None, ...]) -> int:
    total = 1
    for v in values:
        total *= v or 0
    return total


def class_axis_of(inputs: Inputs, options: Any) -> int:
    if inputs.class_axis is not None:
        return inputs.class_axis
    return _checks.normalize_class_axis(options.class_axis, _checks.shape_of(inputs.y_pred))


def modulating_factor(base: Array, gamma: Any, xp: Namespace) -> Array | None:
    """``base^gamma`` for ``base`` in [0, 1] (the focal factor), None for ``gamma = 0``.

    A whole exponent is a product, exact and smooth; a fractional one takes the power of a base
    clipped at 0 (rounding may leave it a hair below), with value and gradient 0 where the base
    is 0 (the derivative ``gamma·base^(gamma - 1)`` is infinite there for ``gamma < 1``).
    """
    if isinstance(gamma, float) and gamma == int(gamma):
        return None if gamma == 0 else base ** int(gamma)
    base = clip(base, xp, min=0.0)
    positive = base > 0
    safe = xp.where(positive, base, xp.ones_like(base))
    return xp.where(positive, safe**gamma, xp.zeros_like(base))


def exclusive_sums(
    terms: Array, inputs: Inputs, counted: Array | None = None
) -> tuple[Array, Array]:
    """``(Σ m·ℓ, Σ m·v)`` over ``inputs.axes`` and the class axis: the per-class ``terms`` and
    the elements' weights ``v`` (``counted``, per class; None counts each element once) under
    the element mask ``m``. The class axis is dropped; NaN inputs make the first sum NaN."""
    xp, c = inputs.xp, inputs.class_axis
    assert c is not None
    axes = tuple(sorted({*inputs.axes, c}))
    mask = inputs.element_mask
    if mask is not None:
        terms = terms * mask
    total = xp.sum(terms, axis=axes)
    if counted is not None:
        count = xp.sum(counted if mask is None else counted * mask, axis=axes)
    else:
        shape = _checks.shape_of(terms)
        sizes = tuple(shape[a] for a in axes if a != c)
        if mask is None and None not in sizes:  # every element counts: a number, not a pass
            count = xp.zeros_like(total) + float(_prod(sizes))
        else:
            element = xp.ones_like(terms[(slice(None),) * c + (slice(0, 1), ...)])
            if mask is not None:
                element = element * _element_of(mask, c - (terms.ndim - mask.ndim), xp)
            count = xp.sum(element, axis=axes)
    if inputs.nan_probes:
        (total,) = with_nan(inputs, total, axes=axes)
    return total, count


def _element_of(mask: Array, class_axis: int, xp: Namespace) -> Array:
    """A mask of elements: one that holds the classes (a user's per-class mask) counts an
    element where any of its classes is kept."""
    if class_axis < 0 or _checks.shape_of(mask)[class_axis] in (1, None):
        return mask
    return xp.max(mask, axis=class_axis, keepdims=True)


def ratio_reduction(total: Array, count: Array, inputs: Inputs, options: Any) -> Array:
    """A loss that is a ratio of sums, ``Σ m·w·ℓ / Σ m·w``, reduced as one ratio.

    ``"mean"`` divides the sums over every element (PyTorch's weighted mean ``Σ w_i·ℓ_i / Σ w_i``,
    whatever ``axis`` splits); ``"sum"`` is the numerator; ``"none"`` the ratio per element of
    the result and ``"per_sample"`` per first axis. ``all_reduce`` adds the sums of every device
    first. A ratio of nothing (everything masked) is 0.
    """
    xp, reduction = inputs.xp, options.reduction
    spanning = sums_all_reduce(inputs, options)
    if spanning is not None:
        total, count = summed_over_devices(spanning, xp, total, count)
    if reduction == "none":
        return safe_divide(total, count, 0.0, xp)
    if reduction == "per_sample":
        if total.ndim == 0:
            raise ValueError(
                "reduction='per_sample' keeps the first axis that survives axis (the batch), "
                "but axis reduced every axis; leave the batch axis out of axis."
            )
        axes = tuple(range(1, total.ndim))
        return safe_divide(xp.sum(total, axis=axes), xp.sum(count, axis=axes), 0.0, xp)
    total, count = xp.sum(total), xp.sum(count)
    synced = values_all_reduce(inputs, options)
    if synced is not None:
        total, count = summed_over_devices(synced, xp, total, count)
    return total if reduction == "sum" else safe_divide(total, count, 0.0, xp)


def log_probabilities(inputs: Inputs, c: int) -> Array:
    """``log q`` over the exclusive classes: the one ``prepare`` took the probabilities from,
    else the logits' log-softmax (or Keras' rule for probabilities)."""
    if inputs.log_probabilities is not None:
        return inputs.log_probabilities
    return categorical_log_probabilities(inputs.logits, inputs.y_pred, c, inputs.xp)


def cross_entropy_sums(inputs: Inputs, options: Any) -> tuple[Array, Array]:
    """``(Σ m·ℓ, Σ m·v)`` of the categorical cross-entropy ``ℓ = -Σ_c w_c·y'_c·log q_c``, with
    ``y'`` the smoothed target and ``v = Σ_c w_c·y_c`` (1 without class weights)."""
    c = inputs.class_axis
    assert c is not None
    log_q = log_probabilities(inputs, c)
    classes = _checks.sizes(inputs.y_pred)[c]
    weight = per_class(options.weight, inputs, "weight", c)
    if inputs.indices:
        return _picked_sums(log_q, inputs, options, weight, classes)
    target = smoothed(inputs.y_true, options.label_smoothing, classes)
    if weight is None:
        return exclusive_sums(-(target * log_q), inputs)
    return exclusive_sums(-(weight * target) * log_q, inputs, weight * inputs.y_true)


def _picked_sums(
    log_q: Array, inputs: Inputs, options: Any, weight: Any, classes: Any
) -> tuple[Array, Array]:
    """``cross_entropy_sums`` of class indices: ``log q`` of each element's class picked by a
    gather (PyTorch's ``nll_loss``), which is what the one-hot product computes, in a pass over
    ``C`` times fewer entries. An index outside ``[0, C)`` (unchecked under a trace) picks
    nothing, as its all-zero one-hot row would."""
    xp, c, labels = inputs.xp, inputs.class_axis, inputs.y_true
    assert c is not None
    safe, valid = _labels.gather_indices(labels, classes, inputs.indices_in_range, xp)
    kept = None if valid is None else xp.astype(valid, log_q.dtype)
    picked = -xp.take_along_axis(log_q, safe, axis=c)
    counted = None  # each element's weight (0 for an invalid index); None: 1 each
    if weight is None:
        if kept is not None:
            picked = picked * kept
    else:
        if isinstance(weight, float) or weight.ndim == 0:
            counted = weight * (xp.ones_like(picked) if kept is None else kept)
        else:
            per_element = xp.take(xp.reshape(weight, (-1,)), xp.reshape(safe, (-1,)), axis=0)
            counted = xp.reshape(per_element, _checks.sizes(safe))
            if kept is not None:
                counted = counted * kept
        picked = counted * picked
    epsilon = options.label_smoothing
    if isinstance(epsilon, float) and epsilon == 0:
        return exclusive_sums(picked, inputs, counted)
    every = -(log_q if weight is None else weight * log_q)
    spread = xp.sum(every, axis=c, keepdims=True) / classes
    return exclusive_sums((1 - epsilon) * picked + epsilon * spread, inputs, counted)


def binary_cross_entropy_terms(inputs: Inputs, options: Any) -> Array:
    """The binary cross-entropy of each element and channel, with ``pos_weight`` and label
    smoothing (``K = 2``) where the options have them."""
    xp = inputs.xp
    y = smoothed(inputs.y_true, getattr(options, "label_smoothing", 0.0), 2)
    pos_weight = getattr(options, "pos_weight", None)
    if pos_weight is not None:
        pos_weight = per_class(pos_weight, inputs, "pos_weight", class_axis_of(inputs, options))
    if inputs.activation == "sigmoid":
        return bce_from_logits(y, inputs.logits, xp, pos_weight)
    if inputs.activation == "softmax":
        assert inputs.class_axis is not None
        log_q = log_softmax(inputs.logits, inputs.class_axis, xp)
        return bce_from_log_probabilities(y, log_q, xp, pos_weight)
    return bce_from_probabilities(y, inputs.y_pred, xp, pos_weight)


def is_exclusive(inputs: Inputs, options: Any) -> bool:
    return inputs.activation == "softmax" or bool(getattr(options, "exclusive", False))


def focal_term(inputs: Inputs, options: Any) -> Array:
    """The focal loss of prepared inputs, reduced.

    Exclusive classes: a ratio of sums like ``cross_entropy`` (``weight`` the class weights,
    ``Σ m·w·ℓ / Σ m·w``), so that ``gamma=0`` is the cross-entropy. Independent channels: the
    mean over ``axis`` of each element and channel, then ``weight`` over the result, like
    ``binary_cross_entropy``.
    """
    xp = inputs.xp
    if is_exclusive(inputs, options):
        assert inputs.class_axis is not None
        terms = categorical_focal_terms(inputs, options)
        weight = per_class(options.weight, inputs, "weight", inputs.class_axis)
        if weight is None:
            total, count = exclusive_sums(terms, inputs)
        else:
            total, count = exclusive_sums(weight * terms, inputs, weight * inputs.y_true)
        return ratio_reduction(total, count, inputs, options)
    terms = binary_focal_terms(inputs, options)
    values = elementwise_mean(terms, inputs, sums_all_reduce(inputs, options))
    weights = prepare_weight(options.weight, inputs)
    synced = values_all_reduce(inputs, options)
    return reduce(values, weight=weights, reduction=options.reduction, xp=xp, all_reduce=synced)


def binary_focal_terms(inputs: Inputs, options: Any) -> Array:
    """``α_t·(1 - p_t)^γ·BCE(y, p)`` per element and channel (Lin et al.; torchvision's
    ``sigmoid_focal_loss``), ``p_t = y·p + (1 - y)(1 - p)``, ``α_t = α·y + (1 - α)(1 - y)``."""
    xp = inputs.xp
    y = smoothed(inputs.y_true, options.label_smoothing, 2)
    p = inputs.y_pred
    if inputs.activation == "sigmoid":
        terms = bce_from_logits(y, inputs.logits, xp)
    else:
        terms = bce_from_probabilities(y, p, xp)
    factor = modulating_factor(p + y - 2 * (y * p), options.gamma, xp)  # 1 - p_t
    if factor is not None:
        terms = factor * terms
    alpha = per_class(options.alpha, inputs, "alpha", class_axis_of(inputs, options))
    if alpha is not None:
        terms = (alpha * y + (1 - alpha) * (1 - y)) * terms
    return terms


def categorical_focal_terms(inputs: Inputs, options: Any) -> Array:
    """``-α_c·(1 - q_c)^γ·y_c·log q_c`` per element and class (Keras'
    ``CategoricalFocalCrossentropy``), summed over the classes by the caller."""
    xp, c = inputs.xp, inputs.class_axis
    assert c is not None
    log_q = log_probabilities(inputs, c)
    classes = _checks.sizes(inputs.y_pred)[c]
    y = smoothed(inputs.y_true, options.label_smoothing, classes)
    factor = modulating_factor(1 - xp.exp(log_q), options.gamma, xp)
    terms = -(y * log_q) if factor is None else -(factor * y) * log_q
    alpha = per_class(options.alpha, inputs, "alpha", c)
    if alpha is not None:
        terms = alpha * terms
    if not getattr(options, "include_background", True) and classes != 1:
        rank, known = terms.ndim, classes if isinstance(classes, int) else None
        terms = terms * _classes.background_factor(known, c, rank, inputs.y_pred, inputs.dtype, xp)
    return terms
