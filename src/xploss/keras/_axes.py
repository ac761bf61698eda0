"""What a Keras loss reduces, and where its class weights sit.

Keras weighs and averages one loss per sample, so the batch axis always survives the reduction;
class weights weigh the classes on ``class_axis``, so the class axis survives too when they are
given (one score per sample and class, then their weighted mean per sample).
"""

from __future__ import annotations

from typing import Any

from xploss._checks import Shape, normalize_axis, normalize_class_axis


def batch_axis_error(owner: str, function: str, axis: object, shape: Shape | None) -> ValueError:
    of = "" if shape is None else f" for y_pred of shape {shape}"
    return ValueError(
        f"{owner} returns one loss per sample, which Keras weighs by sample_weight and "
        f"averages over the batch, so axis must leave the batch axis 0 out; got axis={axis!r}"
        f"{of}. For one score of the whole batch (the batch Dice per "
        f"class), call xploss.{function}(y_true, y_pred, axis=...) in a loss function of your "
        "own; the metrics (num_classes=C for one score per class) give the dataset's value."
    )


def check_axis(axis: object, owner: str, function: str) -> None:
    """At construction: an ``axis`` that names the batch axis 0 itself (a negative axis is
    checked at the call, against the rank)."""
    given = axis if isinstance(axis, (tuple, list)) else (axis,)
    if any(type(a) is not bool and a == 0 for a in given if a is not None):
        raise batch_axis_error(owner, function, axis, None)


def loss_axes(
    axis: object,
    shape: Shape,
    class_axis: int,
    *,
    keep_class_axis: bool,
    weighted: bool,
    owner: str,
    function: str,
) -> tuple[int, ...]:
    """Every non-batch axis but the class axis where it is kept (generalized Dice, class
    weights), or the user's ``axis``, checked to keep the batch axis (and the class axis, for
    class weights)."""
    ndim = len(shape)
    if axis is None:
        kept = {0}
        if keep_class_axis or weighted:
            kept.add(normalize_class_axis(class_axis, shape))
        return tuple(a for a in range(ndim) if a not in kept)
    axes = normalize_axis(axis, shape)
    if 0 in axes:
        raise batch_axis_error(owner, function, axis, shape)
    if weighted and normalize_class_axis(class_axis, shape) in axes:
        raise ValueError(
            f"{owner}(class_weight=...) weighs the classes on class_axis={class_axis}, but "
            f"axis={axis!r} sums over that axis of y_pred of shape {shape}: leave the class axis "
            "out of axis (axis=(1, 2) on (B, H, W, C), the default with class_weight), or drop "
            "class_weight."
        )
    return axes


def placed_class_weight(
    weight: Any, axes: tuple[int, ...], shape: Shape, class_axis: int, owner: str
) -> Any:
    """``weight`` (one number per class) shaped to broadcast along the class axis of the
    per-element result, whatever axes survive after it."""
    if not isinstance(weight, tuple):
        return weight  # one number: the same weight for every class
    index = normalize_class_axis(class_axis, shape)
    classes = shape[index]
    if classes is not None and len(weight) not in (1, classes):
        raise ValueError(
            f"{owner} got class_weight of {len(weight)} weights {weight}, but y_pred of shape "
            f"{shape} has {classes} classes on class_axis={class_axis}: give one weight per "
            "class."
        )
    trailing = sum(1 for a in range(index + 1, len(shape)) if a not in axes)
    placed = weight
    for _ in range(trailing):
        placed = tuple((w,) for w in placed)
    return placed


def check_class_weight(weight: Any, owner: str) -> None:
    """One number per class (or one for all): a nested sequence has no class axis to sit on."""
    if isinstance(weight, tuple) and any(isinstance(w, tuple) for w in weight):
        raise ValueError(
            f"{owner} takes class_weight as one number per class (or one number), got the "
            f"nested {weight!r}."
        )
