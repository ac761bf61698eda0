"""Labels layer of the input pipeline: what ``y_true`` means, and its dense form.

``y_true`` is read from its shape and dtype alone (never its values), so the reading is the same
eagerly and under a trace:

- ``"dense"``: ``y_pred``'s shape; targets in [0, 1] of any dtype.
- ``"mask"``: ``y_pred`` has a single channel on ``class_axis`` and ``y_true`` is ``y_pred``
  without it: the mask of that channel, any dtype, soft values included (a binary
  ``(B, H, W)`` mask for ``(B, 1, H, W)`` probabilities). Never one class's indices, which
  would all be 0 and flip the target.
- ``"sparse"``: ``y_pred`` without its class axis, several classes: class indices, integer or
  floating (MONAI's label maps are float) with integral values; one-hot encoded here, or
  kept as indices for the losses that read them directly (``prepare(one_hot=False)``).

The value rules of class indices (integral, in ``[0, C)`` unless masked out) are checked by
``_values.check_class_indices`` on concrete arrays only.
"""

from __future__ import annotations

from typing import Any

from xploss import _checks, _elementwise, _values
from xploss._namespace import Array, Namespace, device_of, index_dtype, is_concrete

DENSE, MASK, SPARSE = "dense", "mask", "sparse"


def label_kind(y_true: Array, y_pred: Array, class_axis: int, xp: Namespace) -> str:
    """``"dense"``, ``"mask"`` or ``"sparse"`` from the shapes and ``y_true``'s dtype."""
    true_shape, pred_shape = _checks.shape_of(y_true), _checks.shape_of(y_pred)
    if true_shape == pred_shape or _checks.same_shape(true_shape, pred_shape):
        return DENSE
    if len(true_shape) == len(pred_shape) - 1:
        index = _checks.normalize_class_axis(class_axis, pred_shape)
        _checks.check_sparse_shape(true_shape, pred_shape, index)
        if pred_shape[index] == 1:
            return MASK
        if _checks.dtype_kind(y_true.dtype, xp) in ("integral", "real floating"):
            return SPARSE
        raise ValueError(
            f"y_true of shape {true_shape} does not match y_pred of shape {pred_shape}: without "
            "y_pred's class axis it holds class indices, of an integer dtype or floats with "
            f"integral values; got {y_true.dtype}."
        )
    raise ValueError(
        f"y_true of shape {true_shape} does not match y_pred of shape {pred_shape}: y_true must "
        "have the same shape as y_pred, or hold class indices with y_pred's class_axis left out "
        f"(rank {len(pred_shape) - 1}), or be the mask of y_pred's single channel on class_axis."
        + _size_one_hint(true_shape, pred_shape, class_axis)
    )


def _size_one_hint(true_shape: _checks.Shape, pred_shape: _checks.Shape, class_axis: int) -> str:
    """A label map that kept a size-1 class axis (Keras' and MONAI's ``(B, H, W, 1)``)."""
    rank = len(pred_shape)
    if len(true_shape) != rank or not -rank <= class_axis < rank:
        return ""
    index = class_axis % rank
    if true_shape[index] != 1 or pred_shape[index] == 1:
        return ""
    return (
        f" A label map of class indices with a size-1 class axis (axis {index}) has to lose "
        "that axis first: squeeze it (the xploss.keras classes do, and the PyTorch modules with "
        "to_onehot_y=True)."
    )


def dense_target(
    y_true: Array,
    kind: str,
    pred_shape: _checks.Shape,
    class_axis: int | None,
    dtype: object,
    xp: Namespace,
    mask: Array | None,
    *,
    encode: bool = True,
) -> tuple[Array, bool]:
    """``y_true`` with ``y_pred``'s shape, in ``dtype``; ``mask`` (already in ``y_pred``'s
    layout) leaves masked-out class indices unchecked. Without ``encode``, class indices stay
    indices (an integer array of ``y_pred``'s rank, size 1 on ``class_axis``), for a loss that
    picks one class per element (a cross-entropy's gather is faster than a one-hot product).
    The flag says whether every class index was read and found in ``[0, C)``."""
    if kind == DENSE:
        return (y_true if y_true.dtype == dtype else xp.astype(y_true, dtype, copy=False)), False
    assert class_axis is not None
    if kind == MASK:
        return xp.expand_dims(xp.astype(y_true, dtype, copy=False), axis=class_axis), False
    num_classes = pred_shape[class_axis]  # an int, or a symbolic size while tracing
    if num_classes is None:
        raise ValueError(
            f"sparse labels need a known number of classes, but y_pred of shape {pred_shape} "
            f"has an unknown size on class_axis={class_axis}."
        )
    in_range = False
    if is_concrete(y_true, mask):
        in_range = _values.check_class_indices(y_true, num_classes, class_axis, mask, xp)
    indices = class_indices(y_true, num_classes, xp)
    if not encode:
        return xp.expand_dims(indices, axis=class_axis), in_range
    return one_hot(indices, pred_shape, class_axis, dtype, xp), in_range


def gather_indices(
    labels: Array, num_classes: int, in_range: bool, xp: Namespace
) -> tuple[Array, Array | None]:
    """Class indices that ``take_along_axis`` accepts, and the boolean mask of the valid ones.

    An index outside ``[0, C)`` (an ``ignore_index``; anything under a trace, where values are
    not read) gathers class 0 and is false in the mask. Indices checked to lie in ``[0, C)``
    (``in_range``) are taken as they are, with no mask: three passes fewer.
    """
    if in_range:
        return as_index(labels, xp), None
    valid = (labels >= 0) & (labels < num_classes)
    return as_index(xp.where(valid, labels, xp.zeros_like(labels)), xp), valid


def as_index(labels: Array, xp: Namespace) -> Array:
    wanted = index_dtype(xp)
    return labels if labels.dtype == wanted else xp.astype(labels, wanted)


def nan_probe(
    y_true: Array, kind: str, class_axis: int | None, dtype: object, xp: Namespace
) -> Array | None:
    """Float class indices in ``y_pred``'s rank and ``dtype``, whose sums carry a NaN label into
    the statistics (its one-hot row cannot hold it); None for other targets."""
    if kind != SPARSE or _checks.dtype_kind(y_true.dtype, xp) != "real floating":
        return None
    return xp.expand_dims(xp.astype(y_true, dtype, copy=False), axis=class_axis)


def class_indices(labels: Array, num_classes: Any, xp: Namespace) -> Array:
    """Class indices in an integer dtype that holds ``0 .. num_classes`` exactly.

    Floats (integral values, checked eagerly) become int32, NaN and values beyond ``[-1, C]``
    clipped first so that the cast is defined; uint8/int8/int16 labels become int32 when the
    number of classes does not fit their range (``arange`` and comparisons would wrap).
    """
    # A symbolic class count is not compared (that would fix it): any bound >= C will do.
    known = num_classes if isinstance(num_classes, int) else 2**24
    if _checks.dtype_kind(labels.dtype, xp) == "real floating":
        clipped = _elementwise.clip(labels, xp, min=-1.0, max=float(known))
        defined = xp.where(clipped == clipped, clipped, xp.zeros_like(clipped))
        return xp.astype(defined, xp.int32)
    if xp.iinfo(labels.dtype).max < known:
        return xp.astype(labels, xp.int32)
    return labels


def one_hot(
    labels: Array, pred_shape: _checks.Shape, class_axis: int, dtype: object, xp: Namespace
) -> Array:
    """Class indices to a one-hot array with the classes on ``class_axis``, by one broadcast
    comparison. Indices outside ``[0, num_classes)`` (an ``ignore_index`` such as 255) encode
    to all zeros; remove them from the sums with ``mask``."""
    num_classes = pred_shape[class_axis]
    trailing = len(pred_shape) - class_axis - 1
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device_of(labels, xp))
    classes = xp.reshape(classes, (num_classes,) + (1,) * trailing)
    return xp.astype(xp.expand_dims(labels, axis=class_axis) == classes, dtype)


def kept(
    target: Array,
    ignore_index: int | None,
    kind: str,
    class_axis: int | None,
    num_classes: int | None,
    xp: Namespace,
) -> Array | None:
    """The mask of the elements ``ignore_index`` leaves in (MONAI's ``create_ignore_mask``);
    None when there is nothing to leave out.

    Label maps (class indices, the mask of a single channel, a dense single channel) are
    compared with ``ignore_index``: ``target != ignore_index``, in ``target``'s shape. A dense
    target of several classes on ``class_axis`` is read as one-hot, so that it agrees with the
    label map it encodes: ``ignore_index`` in ``[0, C)`` leaves out the elements of that class
    (``1 - y_k``, from every class), and one outside ``[0, C)`` the elements whose target is 0
    in every class (what a label map's ``ignore_index`` one-hot encodes to). An integer label
    map never holds a value outside its dtype's range (an int8 target never holds 255, and
    comparing it with 255 would wrap in PyTorch): nothing is left out then.
    """
    if ignore_index is None:
        return None
    if kind == DENSE and class_axis is not None and num_classes != 1:
        if num_classes is None:
            raise ValueError(
                f"ignore_index={ignore_index} with a dense target reads it as one-hot over "
                f"class_axis={class_axis}, which needs a known number of classes; y_pred has "
                f"shape {_checks.shape_of(target)}."
            )
        if is_concrete(target):
            _values.check_one_hot_ignore_index(target, ignore_index, class_axis, xp)
        if 0 <= ignore_index < num_classes:
            index = (slice(None),) * class_axis + (slice(ignore_index, ignore_index + 1), ...)
            channel = target[index]
            if _checks.dtype_kind(channel.dtype, xp) == "bool":
                return ~channel
            return 1 - channel
        return xp.any(target != 0, axis=class_axis, keepdims=True)
    kind_of_dtype = _checks.dtype_kind(target.dtype, xp)
    if kind_of_dtype == "bool":
        return None if ignore_index not in (0, 1) else target != bool(ignore_index)
    if kind_of_dtype == "integral":
        info = xp.iinfo(target.dtype)
        if not info.min <= ignore_index <= info.max:
            return None
    return target != ignore_index


def expand_mask(mask: Array, kind: str, true_shape: _checks.Shape, class_axis: int | None,
                xp: Namespace) -> Array:  # fmt: skip
    """A mask of ``y_true``'s shape gets ``y_pred``'s class axis back for sparse labels and
    channel-less masks (it would broadcast against the wrong axes otherwise)."""
    if kind != DENSE and class_axis is not None and _checks.shape_of(mask) == true_shape:
        return xp.expand_dims(mask, axis=class_axis)
    return mask


def mask_holds_classes(mask: Array | None, class_axis: int | None, rank: int) -> bool:
    """Whether ``mask`` holds the classes (more than one entry on the class axis): then each
    class's term has its own factor, which a gather of one class per element cannot apply."""
    if mask is None or class_axis is None:
        return False
    shape = _checks.shape_of(mask)
    index = class_axis - (rank - len(shape))
    return index >= 0 and shape[index] != 1
