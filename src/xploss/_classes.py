"""The class options: ``include_background=False`` leaves class 0 out (weighed 0 where the
class axis survives the sums, out of the sums where it does not), and ``ignore_index`` leaves
out the elements of a label (``_labels.kept``)."""

from __future__ import annotations

import warnings

from xploss import _checks
from xploss._namespace import Array, Namespace, can_warn, device_of


def product(mask: Array | None, other: Array, dtype: object, xp: Namespace) -> Array:
    other = xp.astype(other, dtype, copy=False)
    return other if mask is None else xp.astype(mask, dtype, copy=False) * other


def known(num_classes: int | None) -> int:
    if num_classes is None:
        raise ValueError(
            "include_background=False needs a known number of classes; y_pred has an unknown "
            "size on its class axis."
        )
    return num_classes


def background_factor(
    num_classes: int | None, position: int, rank: int, like: Array, dtype: object, xp: Namespace
) -> Array:
    """0 for class 0 and 1 for the others, on axis ``position`` of an array of rank ``rank``."""
    num_classes = known(num_classes)
    values = (0.0,) + (1.0,) * (num_classes - 1)
    factor = xp.asarray(values, dtype=dtype, device=device_of(like, xp))
    return xp.reshape(factor, (num_classes,) + (1,) * (rank - position - 1))


def warn_single_channel_background(pred_shape: _checks.Shape) -> None:
    if can_warn():
        warnings.warn(
            f"include_background=False is ignored for a single-channel y_pred of shape "
            f"{pred_shape}: its only class would be left out (as MONAI does).",
            UserWarning,
            stacklevel=3,
        )


def warn_constant_softmax(pred_shape: _checks.Shape, class_axis: int) -> None:
    if can_warn():
        warnings.warn(
            f"from_logits='softmax' over a single channel (y_pred of shape {pred_shape}, "
            f"class_axis={class_axis}): the softmax of one class is 1 whatever the logits, so "
            "the result is constant and its gradient 0. Use from_logits=True (sigmoid) for a "
            "binary output, or give y_pred one channel per class.",
            UserWarning,
            stacklevel=2,
        )
