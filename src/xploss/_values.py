"""Value checks: the only code that reads the values of the caller's arrays.

Each check is called only where ``_namespace.is_concrete`` says the arrays are eager and
concrete, never under ``jax.jit``, ``torch.compile`` or ``tf.function``, and costs one pass over
its array and one read of a boolean (a device synchronisation on a GPU). Where a check finds
something wrong, the message is built from a few more reductions: errors are the slow path.
"""

from __future__ import annotations

from xploss import _checks
from xploss._namespace import Array, Namespace, is_concrete


def _flag(x: Array, xp: Namespace) -> bool:
    """Whether any entry of ``x`` is true; False where that cannot be read (a constant that
    ``jax.jit`` closed over is concrete, but what is computed from it is traced)."""
    found = xp.any(x)
    return is_concrete(found) and bool(found)


def _number(x: Array) -> str:
    value = float(x)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _used(bad: Array, class_axis: int, mask: Array | None, xp: Namespace) -> Array:
    """``bad`` (labels' shape) where ``mask`` keeps some class of the element."""
    if mask is None:
        return bad
    keeps = mask if _checks.dtype_kind(mask.dtype, xp) == "bool" else mask != 0
    return xp.any(xp.expand_dims(bad, axis=class_axis) & keeps, axis=class_axis)


def _extremes(bad: Array, x: Array, xp: Namespace) -> str:
    """The smallest and largest of the entries of ``x`` where ``bad`` (NaN-free ``x``)."""
    low = xp.min(xp.where(bad, x, xp.max(x)))
    high = xp.max(xp.where(bad, x, xp.min(x)))
    return _number(low) if float(low) == float(high) else f"{_number(low)} to {_number(high)}"


def check_class_indices(
    labels: Array, num_classes: int, class_axis: int, mask: Array | None, xp: Namespace
) -> bool:
    """Class indices are integral and in ``[0, num_classes)`` where ``mask`` keeps them.

    NaN float labels pass (they make the result NaN); labels that ``mask`` removes (an
    ``ignore_index``) may be anything. Integers are compared in a dtype that holds
    ``num_classes`` (PyTorch wraps a Python int outside an int8 or uint8 range). Returns whether
    every label was read and found in range (no mask): then a gather by them needs no guard.
    """
    floating = _checks.dtype_kind(labels.dtype, xp) == "real floating"
    if not floating and xp.iinfo(labels.dtype).max < num_classes:
        labels = xp.astype(labels, xp.int32)
    if not floating and mask is None and 0 not in _checks.shape_of(labels):
        # The usual call: two reductions, no temporary of the labels' size.
        inside = (xp.min(labels) >= 0) & (xp.max(labels) < num_classes)
        if not is_concrete(inside):
            return False
        if bool(inside):
            return True
    if floating:
        labels = xp.where(labels == labels, labels, xp.zeros_like(labels))  # NaN: not checked
    outside = (labels < 0) | (labels >= num_classes)
    if floating:
        fraction = _used(labels != xp.floor(labels), class_axis, mask, xp)
        if _flag(fraction, xp):
            raise ValueError(
                f"y_true of dtype {labels.dtype} holds non-integral values (found "
                f"{_extremes(fraction, labels, xp)}) where class indices are expected: y_pred "
                f"has {num_classes} classes on class_axis={class_axis} and y_true has no class "
                "axis. Pass integer labels, or one-hot or soft targets with y_pred's shape."
            )
    bad = _used(outside, class_axis, mask, xp)
    if _flag(bad, xp):
        raise ValueError(
            f"y_true holds class indices outside [0, {num_classes}) "
            f"(found {_extremes(bad, labels, xp)}): y_pred has {num_classes} classes on "
            f"class_axis={class_axis}. Remove other labels with mask= (the PyTorch modules' "
            "ignore_index=); under jax.jit, torch.compile or tf.function, where values are not "
            "read, they encode to all-zero rows."
        )
    return mask is None and is_concrete(bad)


def check_unit_interval(name: str, x: Array, xp: Namespace, *, hint: str = "") -> None:
    """``x`` in [0, 1] (NaN passes: it makes the result NaN)."""
    outside = (x < 0) | (x > 1)
    if not _flag(outside, xp):
        return
    x = xp.where(x == x, x, xp.zeros_like(x))
    raise ValueError(
        f"{name} must lie in [0, 1], but holds values outside it (found "
        f"{_extremes(outside, x, xp)}).{hint}"
    )


def check_nonnegative(name: str, x: Array, xp: Namespace) -> None:
    """No negative entry (NaN passes: it makes the result NaN)."""
    negative = x < 0
    if _flag(negative, xp):
        x = xp.where(x == x, x, xp.zeros_like(x))
        raise ValueError(f"{name} must hold values >= 0, but holds {_extremes(negative, x, xp)}.")


def check_one_hot_ignore_index(
    target: Array, ignore_index: int, class_axis: int, xp: Namespace
) -> None:
    """A dense target read as one-hot for ``ignore_index`` holds no ``ignore_index`` itself
    (beyond 0 and 1): such a target is a label map whose shape only looks like ``y_pred``'s."""
    bool_target = _checks.dtype_kind(target.dtype, xp) == "bool"
    if ignore_index in (0, 1) or bool_target or not _flag(target == ignore_index, xp):
        return
    raise ValueError(
        f"ignore_index={ignore_index} with a y_true of y_pred's shape {_checks.shape_of(target)}: "
        f"such a target is read as one-hot over class_axis={class_axis}, where the ignored "
        "elements are those of class ignore_index (or, outside the classes, those with no class), "
        f"but it holds the value {ignore_index} itself. Pass the label map without y_pred's "
        "class axis (class indices), or give y_pred its class axis (a single channel is "
        "compared with ignore_index), or pass mask=."
    )
