"""Weights: the ``weight`` option as an array that broadcasts against the per-element result,
with the background class weighed 0 where ``include_background=False`` asks for it."""

from __future__ import annotations

from xploss import _checks
from xploss._classes import background_factor
from xploss._inputs import Inputs, aligned
from xploss._namespace import Array, array_namespace, device_of


def prepare_weight(weight: object, inputs: Inputs) -> Array | None:
    """``weight`` as an array of the accumulation dtype that broadcasts to the per-element
    result (``inputs.result_shape()``), class 0 weighed 0 where ``inputs.background`` says so;
    array weights are checked by the options record."""
    if weight is None:
        return None if inputs.background is None else _without_background(None, inputs)
    result_shape = inputs.result_shape()
    xp = inputs.xp
    if isinstance(weight, (float, tuple)):  # validated by the options record
        array = xp.asarray(weight, dtype=inputs.dtype, device=device_of(inputs.y_pred, xp))
    else:
        (weight,) = aligned(inputs.y_pred, weight=weight)
        array_namespace(y_pred=inputs.y_pred, weight=weight)  # a TypeError for a mix
        _checks.check_known_rank(weight=weight)
        _checks.check_dtypes(xp, weight=weight)
        array = xp.astype(weight, inputs.dtype, copy=False)
    if inputs.background is not None:
        array = _without_background(array, inputs)
    _checks.check_broadcastable(_checks.shape_of(array), result_shape, "weight", "the result")
    return array


def _without_background(weight: Array | None, inputs: Inputs) -> Array:
    """``weight`` with class 0 weighed 0 along the class axis of the result.

    The weight's class axis is the one that broadcasts against the result's: a scalar, a
    ``(C,)``, ``(1, C)`` or ``(B, C)`` weight of a ``(B, C)`` result. ``C`` entries (or one)
    have the background's zeroed; ``C - 1`` entries are MONAI's form, which has none for the
    background, and get a 0 in front.
    """
    xp = inputs.xp
    position, num_classes = inputs.background  # type: ignore[misc]
    rank = len(inputs.result_shape())
    factor = background_factor(num_classes, position, rank, inputs.y_pred, inputs.dtype, xp)
    if weight is None:
        return factor
    shape = _checks.shape_of(weight)
    axis = len(shape) - (rank - position)
    entries = shape[axis] if axis >= 0 else 1
    if entries in (1, num_classes):
        return weight * factor
    if entries == num_classes - 1:
        zero = xp.zeros_like(weight[(slice(None),) * axis + (slice(0, 1),)])
        return xp.concat([zero, weight], axis=axis)
    raise ValueError(
        f"weight of shape {shape} has {entries} entries on the class axis, for y_pred of shape "
        f"{_checks.shape_of(inputs.y_pred)} with {num_classes} classes and "
        f"include_background=False: give one weight per class ({num_classes}), one per class "
        f"but the background ({num_classes - 1}, MONAI's form) or a single weight."
    )
