"""Deep supervision: one loss over the outputs of several decoder scales and one target.

The target is resized to each output's size (nearest for labels, the average of each block for
soft targets) and the terms are weighted: nnU-Net's halving weights ``1/2^i``, normalised to
sum to 1, by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from xploss import _checks
from xploss._namespace import Array, array_namespace, device_of

MODES = ("auto", "nearest", "average")


def halving_weights(count: int) -> tuple[float, ...]:
    """``1/2^i`` for the outputs ``i = 0`` (full resolution) ... ``count - 1``, summing to 1
    (nnU-Net's weights; nnU-Net v2 also gives its lowest resolution the weight 0)."""
    raw = [0.5**i for i in range(count)]
    total = sum(raw)
    return tuple(w / total for w in raw)


def scale_weights(weights: Sequence[float] | None, count: int) -> tuple[float, ...]:
    """The weights of ``count`` outputs, checked: one non-negative number per output."""
    if weights is None:
        return halving_weights(count)
    values = tuple(float(w) for w in weights)
    if len(values) != count or any(not 0 <= w < math.inf for w in values):
        raise ValueError(
            f"weights={tuple(weights)!r} must hold one finite number >= 0 per output: "
            f"{count} outputs were given."
        )
    return values


def resized_target(y_true: Array, shape: _checks.Shape, *, mode: str = "auto") -> Array:
    """``y_true`` resized to ``shape`` on every axis whose size differs.

    ``"nearest"`` takes, for output index ``i`` of an axis of ``n`` entries resized to ``m``,
    the entry ``floor((i + 1/2)·n/m)``: the nearest centre (PyTorch's and MONAI's
    ``"nearest-exact"``), which keeps class indices exact. ``"average"`` takes the mean of each
    block of ``n/m`` entries (a soft target's area average; ``n`` a multiple of ``m``).
    ``"auto"`` is nearest for integer and bool targets, average for floating ones.
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, MODES))}.")
    xp = array_namespace(y_true=y_true)
    current = _checks.shape_of(y_true)
    if len(current) != len(shape):
        raise ValueError(
            f"the target of shape {current} cannot be resized to {shape}: the ranks differ."
        )
    if mode == "auto":
        floating = _checks.dtype_kind(y_true.dtype, xp) == "real floating"
        mode = "average" if floating else "nearest"
    for axis, (size, wanted) in enumerate(zip(current, shape, strict=True)):
        if size == wanted or wanted is None or size is None:
            continue
        if mode == "nearest":
            scale = size / wanted
            index = [min(math.floor((i + 0.5) * scale), size - 1) for i in range(wanted)]
            positions = xp.asarray(index, dtype=xp.int32, device=device_of(y_true, xp))
            y_true = xp.take(y_true, positions, axis=axis)
            continue
        if size % wanted:
            raise ValueError(
                f"mode='average' takes blocks of whole entries, but axis {axis} of the target "
                f"has {size} entries for an output of {wanted}; use mode='nearest'."
            )
        blocks = _checks.shape_of(y_true)
        split = (*blocks[:axis], wanted, size // wanted, *blocks[axis + 1 :])
        y_true = xp.mean(xp.reshape(y_true, split), axis=axis + 1)
    return y_true


def target_shape(y_true: Array, y_pred: Array, class_axis: int) -> _checks.Shape:
    """The target's shape at ``y_pred``'s scale: ``y_pred``'s spatial sizes in the target's
    layout (class indices have no class axis; a label map keeps its size-1 one)."""
    true_shape, pred_shape = _checks.shape_of(y_true), _checks.shape_of(y_pred)
    rank = len(pred_shape)
    index = _checks.normalize_class_axis(class_axis, pred_shape)
    if len(true_shape) == rank - 1:
        return pred_shape[:index] + pred_shape[index + 1 :]
    return tuple(
        t if a == index else p for a, (t, p) in enumerate(zip(true_shape, pred_shape, strict=True))
    )


def deep_supervision_loss(
    loss: Callable[..., Array],
    y_true: Array,
    y_preds: Sequence[Array],
    *,
    weights: Sequence[float] | None = None,
    mode: str = "auto",
    class_axis: int = -1,
    **options: Any,
) -> Array:
    """``Σ_i w_i·loss(y_true at scale i, y_preds[i], **options)`` (nnU-Net, MONAI's
    ``DeepSupervisionLoss``).

    Args:
        loss: a loss of ``(y_true, y_pred, **options)``: ``xploss.dice_ce_loss``, ...
        y_true: the target at full resolution: class indices, a label map or a dense target.
        y_preds: the outputs, the full resolution first (one array is one output).
        weights: one per output; by default ``1/2^i`` normalised to sum to 1 (nnU-Net; MONAI's
            ``weight_mode="exp"`` is ``weights=(1, 0.5, 0.25, ...)``, floored at 1/16).
        mode: how the target is resized: ``"nearest"`` (labels), ``"average"`` (soft targets)
            or ``"auto"`` (nearest for integer and bool targets, average for floating ones).
        class_axis: the class axis of the outputs (passed on to ``loss``).
        options: passed on to ``loss``.

    Returns:
        The weighted sum, in the caller's array library.

    Example:
        >>> import numpy as np
        >>> import xploss
        >>> labels = np.array([[0, 0, 1, 1]])  # (B, W)
        >>> full = np.array([[[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9]]])  # (B, W, C)
        >>> half = np.array([[[0.9, 0.1], [0.1, 0.9]]])
        >>> loss = deep_supervision_loss(xploss.dice_loss, labels, [full, half], axis=1,
        ...                              smooth_nr=0, smooth_dr=0)
        >>> round(float(loss), 6)  # (2/3)·0.15 + (1/3)·0.1
        0.133333
    """
    outputs = [y_preds] if hasattr(y_preds, "shape") else list(y_preds)
    if not outputs:
        raise ValueError("y_preds holds no output: give one array per decoder scale.")
    factors = scale_weights(weights, len(outputs))
    total: Array | None = None
    for factor, y_pred in zip(factors, outputs, strict=True):
        target = resized_target(y_true, target_shape(y_true, y_pred, class_axis), mode=mode)
        term = factor * loss(target, y_pred, class_axis=class_axis, **options)
        total = term if total is None else total + term
    assert total is not None
    return total
