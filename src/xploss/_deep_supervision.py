"""Deep supervision: one loss over the outputs of several decoder scales and one target.

The target is resized to each output's size (nearest for labels, the average of each block for
soft targets) and the terms are weighted: nnU-Net's halving weights ``1/2^i``, normalised to
sum to 1, by default. ``supervised_sum`` is the one loop; ``deep_supervision_loss`` and the
PyTorch and Keras ``DeepSupervisionLoss`` classes call it with their own argument order.
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


def check_mode(mode: str) -> str:
    """``mode`` if it is one of ``MODES``."""
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, MODES))}.")
    return mode


def check_options(weights: Sequence[float] | None, mode: str) -> None:
    """A class's options, checked when it is built: the mode, and weights that are numbers
    ``>= 0`` (their count is checked against the outputs of each call)."""
    check_mode(mode)
    if weights is not None:
        scale_weights(weights, len(weights))


def holds_labels(y_true: Array, y_pred: Array, class_axis: int) -> bool:
    """Whether ``y_true`` holds the labels of ``y_pred``'s several classes, whatever its dtype:
    class indices (``y_pred`` without its class axis) or a label map (size 1 on it, MONAI's
    ``(B, 1, *spatial)``). Soft targets keep the class axis at full size, and a single
    channel's mask may be soft."""
    true_shape, pred_shape = _checks.shape_of(y_true), _checks.shape_of(y_pred)
    index = _checks.normalize_class_axis(class_axis, pred_shape)
    classes = pred_shape[index]
    if classes is None or classes < 2:
        return False
    if len(true_shape) == len(pred_shape) - 1:
        return True
    return len(true_shape) == len(pred_shape) and true_shape[index] == 1


def resize_mode(y_true: Array, y_pred: Array, class_axis: int, mode: str = "auto") -> str:
    """``mode``, with ``"auto"`` made ``"nearest"`` for labels (integer and bool targets, and
    floating ones that ``holds_labels``) and ``"average"`` for other floating targets."""
    if check_mode(mode) != "auto":
        return mode
    xp = array_namespace(y_true=y_true)
    floating = _checks.dtype_kind(y_true.dtype, xp) == "real floating"
    return "average" if floating and not holds_labels(y_true, y_pred, class_axis) else "nearest"


def target_shape(y_true: Array, y_pred: Array, class_axis: int) -> _checks.Shape:
    """The target's shape at ``y_pred``'s scale: ``y_pred``'s spatial sizes in the target's
    layout (class indices have no class axis; a label map keeps its size-1 one)."""
    true_shape, pred_shape = _checks.shape_of(y_true), _checks.shape_of(y_pred)
    rank = len(pred_shape)
    index = _checks.normalize_class_axis(class_axis, pred_shape)
    if len(true_shape) == rank - 1:
        return pred_shape[:index] + pred_shape[index + 1 :]
    if len(true_shape) != rank:
        raise ValueError(
            f"the target of shape {true_shape} cannot be resized to the output of shape "
            f"{pred_shape}: it needs the output's rank, or one less (class indices)."
        )
    return tuple(
        t if a == index else p for a, (t, p) in enumerate(zip(true_shape, pred_shape, strict=True))
    )


def resized_target(y_true: Array, y_pred: Array, class_axis: int, *, mode: str = "auto") -> Array:
    """``y_true`` at ``y_pred``'s scale: resized on every axis whose size differs.

    ``"nearest"`` takes, for output index ``i`` of an axis of ``n`` entries resized to ``m``,
    the entry ``floor((i + 1/2)·n/m)``: the nearest centre (PyTorch's and MONAI's
    ``"nearest-exact"``), which keeps class indices exact. ``"average"`` takes the mean of each
    block of ``n/m`` entries (a soft target's area average; ``n`` a multiple of ``m``).
    ``"auto"`` is nearest for labels: integer and bool targets, and floating class indices or
    a floating label map ``(B, 1, *spatial)`` beside a prediction of several classes (MONAI's
    label maps are float); average for other floating targets (see ``resize_mode``).
    """
    mode = resize_mode(y_true, y_pred, class_axis, mode)
    shape = target_shape(y_true, y_pred, class_axis)
    xp = array_namespace(y_true=y_true)
    current = _checks.shape_of(y_true)
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


def supervised_sum(
    term: Callable[[Any, Any], Any],
    y_true: Any,
    y_preds: Any,
    *,
    weights: Sequence[float] | None = None,
    mode: str = "auto",
    class_axis: int = -1,
    name: str = "y_preds",
) -> Any:
    """``Σ_i w_i·term(y_true at the scale of y_preds[i], y_preds[i])``: the loop of every deep
    supervision (``name`` is the outputs' argument, for the error of an empty list)."""
    outputs = [y_preds] if hasattr(y_preds, "shape") else list(y_preds)
    if not outputs:
        raise ValueError(f"{name} holds no output: give one array per decoder scale.")
    factors = scale_weights(weights, len(outputs))
    total = None
    for factor, y_pred in zip(factors, outputs, strict=True):
        target = resized_target(y_true, y_pred, class_axis, mode=mode)
        weighted = factor * term(target, y_pred)
        total = weighted if total is None else total + weighted
    return total


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
            or ``"auto"``: nearest for labels (integer and bool targets, and floating class
            indices or a floating label map ``(B, 1, *spatial)`` beside outputs of several
            classes), average for other floating targets.
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

    def term(target: Array, y_pred: Array) -> Array:
        return loss(target, y_pred, class_axis=class_axis, **options)

    total: Array = supervised_sum(
        term, y_true, y_preds, weights=weights, mode=mode, class_axis=class_axis
    )
    return total
