"""Numerically stable elementwise maps that the array API standard lacks.

Every branch of every ``where`` below is finite for finite input, so gradients are finite too
(an untaken branch is still differentiated, and ``0 * inf`` is NaN). ``where`` is avoided on
full-size arrays where one elementwise op will do: it is several times slower than ``tanh`` or
``abs`` in eager PyTorch on the CPU.
"""

from __future__ import annotations

import math

from xploss import _checks
from xploss._namespace import Array, Namespace, device_of

# Keras 3's clip for BCE on probabilities (``keras.config.epsilon()``).
BCE_EPSILON = 1e-7
_LOG_HALF = -math.log(2.0)


def clip(x: Array, xp: Namespace, *, min: float | None = None, max: float | None = None) -> Array:
    """``clip(x, min, max)``, NaN kept: PyTorch's ``clamp`` where the namespace has it, as
    array-api-compat's ``clip`` tests its bounds with ``math.isnan``, which
    ``torch.compile(dynamic=True)`` cannot trace on the floats it makes symbolic."""
    fused = getattr(xp, "clamp", None)
    if fused is not None:
        return fused(x, min=min, max=max)
    return xp.clip(x, min=min, max=max)


def saturate(z: Array, xp: Namespace) -> Array:
    """``z`` clipped to ``±sqrt(finfo.max)`` (1.8e19 in float32): a no-op for any finite logit
    of realistic size, so that ``±inf`` gives the values and finite gradients of a saturated
    logit. The stable forms take ``z - |z|``, ``z - max(z)`` and ``softplus(z) - z·y``, which
    are ``inf - inf`` at infinity; the square root of the largest float leaves room for the
    differences of two logits, class weights and sums over many elements. NaN passes."""
    bound = math.sqrt(float(xp.finfo(z.dtype).max))
    return clip(z, xp, min=-bound, max=bound)


def sigmoid(z: Array, xp: Namespace) -> Array:
    """``1 / (1 + exp(-z))``: the namespace's own fused sigmoid where it has one (PyTorch's, the
    TensorFlow namespace's), else ``exp(min(z, 0) - log1p(exp(-|z|)))``, accurate to a few ulps
    for every z and with a finite gradient everywhere (``1/(1 + exp(-z))`` overflows, and its
    gradient is NaN, below z = -88 in float32)."""
    fused = getattr(xp, "sigmoid", None)
    if fused is not None:
        return fused(z)
    magnitude = xp.abs(z)
    return xp.exp((z - magnitude) / 2 - xp.log1p(xp.exp(-magnitude)))


def softplus(z: Array, xp: Namespace) -> Array:
    """``log(1 + exp(z))``: the namespace's own fused softplus where it has one (the PyTorch
    namespace that ``xploss.torch`` registers, the TensorFlow namespace), else
    ``(z + |z|)/2 + log1p(exp(-|z|))``, seven elementwise passes instead of one.

    Written with ``abs`` rather than ``maximum``: the slope at z = 0 is exactly 1/2 whatever a
    framework takes as the slope of ``|z|`` there (0 in PyTorch and TensorFlow, 1 in JAX: the two
    terms' contributions cancel), while ties in ``maximum`` are split differently.
    """
    fused = getattr(xp, "softplus", None)
    if fused is not None:
        return fused(z)
    magnitude = xp.abs(z)
    return (z + magnitude) / 2 + xp.log1p(xp.exp(-magnitude))


def log_softmax(z: Array, axis: int, xp: Namespace) -> Array:
    """``z - logsumexp(z)``, accurate for the largest class too.

    After the shift by the maximum, ``Σ exp`` is ``1 + rest``; summing ``rest`` alone (the
    entries below the maximum, plus any ties) and taking ``log1p`` keeps ``log q`` of a
    near-certain class at ``-rest`` instead of rounding it to 0, which ``log(1 - q)`` needs.
    """
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    e = xp.exp(shifted)
    rest = xp.sum(xp.where(shifted < 0, e, xp.zeros_like(e)), axis=axis, keepdims=True)
    ties = xp.sum(xp.astype(shifted == 0, z.dtype), axis=axis, keepdims=True) - 1
    return shifted - xp.log1p(rest + ties)


def softmax(z: Array, axis: int, xp: Namespace, *, fused: bool = True) -> Array:
    """``exp(z - max z) / Σ exp(z - max z)``: the namespace's own where it has one (PyTorch's,
    JAX's and TensorFlow's, whose derivative rules are one fused pass), unless ``fused=False``.

    The standard form gives equal rows equal probabilities under every compiler; Inductor's
    lowering of PyTorch's softmax rounds some equal rows apart (the Lovász ranking needs exact
    ties), but is 2.7× faster than the standard form compiled (forward and backward of a softmax
    Dice at 16×4×256², 18 against 49 ms).
    """
    fused_softmax = getattr(xp, "softmax", None) if fused else None
    if fused_softmax is not None:
        return fused_softmax(z, axis)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log1mexp(a: Array, xp: Namespace) -> Array:
    """``log(1 - exp(a))`` for ``a <= 0``, floored at ``log(tiny)`` where it would be ``-inf``.

    Mächler's split: ``expm1`` near 0, ``log1p`` further out; each branch gets an input clipped
    into its own half so that neither produces ``inf`` (or an infinite gradient).
    """
    near = clip(a, xp, min=_LOG_HALF)
    far = clip(a, xp, max=_LOG_HALF)
    tiny = float(xp.finfo(a.dtype).smallest_normal)
    near_value = xp.log(clip(-xp.expm1(near), xp, min=tiny))
    return xp.where(a > _LOG_HALF, near_value, xp.log1p(-xp.exp(far)))


def bce_from_logits(y: Array, z: Array, xp: Namespace, pos_weight: Array | None = None) -> Array:
    """``max(z, 0) - z·y + log1p(exp(-|z|))``, the sigmoid cross-entropy, finite at ``z = ±inf``;
    with ``pos_weight`` PyTorch's ``(1 - y)·z + (1 + (w - 1)·y)·softplus(-z)``."""
    z = saturate(z, xp)
    if pos_weight is None:
        return softplus(z, xp) - z * y
    scale = 1 + (pos_weight - 1) * y
    return (1 - y) * z + scale * (softplus(z, xp) - z)


def bce_from_log_probabilities(
    y: Array, log_q: Array, xp: Namespace, pos_weight: Array | None = None
) -> Array:
    """``-(w·y log q + (1 - y) log(1 - q))`` given ``log q`` (from a log-softmax)."""
    positive = y * log_q if pos_weight is None else pos_weight * y * log_q
    return -(positive + (1 - y) * log1mexp(log_q, xp))


def bce_from_probabilities(
    y: Array, p: Array, xp: Namespace, pos_weight: Array | None = None
) -> Array:
    """Keras 3's definition: ``q = clip(p, ε, 1 - ε)`` with ``ε = 1e-7``, then the log-loss
    ``-(w·y log q + (1 - y) log(1 - q))``."""
    q = clip(p, xp, min=BCE_EPSILON, max=1 - BCE_EPSILON)
    positive = y * xp.log(q) if pos_weight is None else pos_weight * y * xp.log(q)
    return -(positive + (1 - y) * xp.log(1 - q))


def categorical_log_probabilities(
    logits: Array | None, p: Array, axis: int, xp: Namespace
) -> Array:
    """``log q`` over the exclusive classes on ``axis``: the log-softmax of the logits
    (``z - max z - log Σ exp(z - max z)``, as PyTorch's), or of probabilities Keras' rule:
    ``q = clip(p / Σ p, ε, 1 - ε)`` with ``ε = 1e-7``."""
    if logits is not None:
        fused = getattr(xp, "log_softmax", None)  # PyTorch's and TensorFlow's: one kernel
        if fused is not None:
            return fused(logits, axis)
        shifted = logits - xp.max(logits, axis=axis, keepdims=True)
        return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
    total = xp.sum(p, axis=axis, keepdims=True)
    q = p / xp.where(total == 0, xp.ones_like(total), total)
    return xp.log(clip(q, xp, min=BCE_EPSILON, max=1 - BCE_EPSILON))


def arg_max_one_hot(logits: Array, class_axis: int, xp: Namespace) -> Array:
    """The one-hot of the arg-max over ``class_axis``, the first of tied classes (MONAI's
    ``AsDiscrete(argmax=True)``, TorchMetrics).

    The namespace's own where it has one (JAX's ``argmax``: 10 ms at 16×256²×4 under ``jax.jit``,
    where the arithmetic below takes 130); else the smallest class index among the maxima, by
    arithmetic in the logits' dtype rather than ``argmax`` (PyTorch's CPU ``argmax`` over a
    non-last axis is 2–10 times slower) or a broadcast ``where`` (twice as slow in NumPy).
    """
    fused = getattr(xp, "arg_max_one_hot", None)
    if fused is not None:
        return fused(logits, class_axis)
    shape = _checks.sizes(logits)
    num_classes = shape[class_axis]
    if num_classes is None:
        raise ValueError(
            f"from_logits='softmax' with a threshold takes the arg-max over class_axis="
            f"{class_axis}, which needs a known number of classes; y_pred has shape "
            f"{_checks.shape_of(logits)}."
        )
    classes = xp.arange(num_classes, dtype=logits.dtype, device=device_of(logits, xp))
    classes = xp.reshape(classes, (num_classes,) + (1,) * (len(shape) - class_axis - 1))
    largest = xp.max(logits, axis=class_axis, keepdims=True)
    candidates = xp.astype(logits < largest, logits.dtype) * num_classes + classes
    first = xp.min(candidates, axis=class_axis, keepdims=True)
    return xp.astype(first == classes, logits.dtype)
