"""From the caller's arrays to validated, dense, floating inputs in the accumulation dtype.

Sparse labels are one-hot encoded by one broadcast comparison (no Python loop over classes),
logits become probabilities with a stable sigmoid or softmax, and float16/bfloat16 inputs are
promoted to float32 so that no sum is ever taken in half precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xploss import _checks, _elementwise
from xploss._namespace import Array, Namespace, array_namespace, device_of
from xploss._validators import ACTIVATIONS


@dataclass(slots=True)  # not frozen: a frozen dataclass costs microseconds per construction
class Inputs:
    """Dense inputs in the accumulation dtype, ready for the statistics."""

    xp: Namespace
    y_true: Array
    y_pred: Array
    """Probabilities, or 0/1 predictions when a threshold was given."""
    logits: Array | None
    activation: str | None
    mask: Array | None
    axes: tuple[int, ...]
    class_axis: int | None
    """Non-negative class axis when one was needed (sparse labels, softmax, generalized Dice)."""

    @property
    def dtype(self) -> object:
        return self.y_pred.dtype

    def result_shape(self, *, drop_class_axis: bool = False) -> _checks.Shape:
        """The shape of a statistic: ``y_pred``'s shape without the reduced axes."""
        dropped = set(self.axes)
        if drop_class_axis and self.class_axis is not None:
            dropped.add(self.class_axis)
        shape = _checks.shape_of(self.y_pred)
        return tuple(d for i, d in enumerate(shape) if i not in dropped)


def accumulation_dtype(dtype: object, xp: Namespace) -> object:
    """float64 stays float64; float32, float16 and bfloat16 accumulate in float32."""
    return xp.float64 if dtype == xp.float64 else xp.float32


def as_dtype(x: Array, dtype: object, xp: Namespace) -> Array:
    """``x`` itself when it has ``dtype`` already (``astype`` costs a call even without a copy)."""
    return x if x.dtype == dtype else xp.astype(x, dtype, copy=False)


def prepare(
    y_true: Array,
    y_pred: Array,
    options: Any,
    mask: Array | None = None,
    *,
    threshold: float | None = None,
    keep_class_axis: bool = False,
) -> Inputs:
    """Check and convert the inputs of every loss and metric.

    ``options`` holds the validated ``axis``, ``class_axis`` and ``from_logits`` (an
    ``_options.Axes`` record). ``keep_class_axis`` (generalized Dice) makes ``axis=None`` mean
    every axis but the class axis and rejects a class axis inside ``axis``.
    """
    xp = array_namespace(y_true=y_true, y_pred=y_pred, mask=mask)
    _checks.check_dtypes(xp, y_true=y_true, y_pred=y_pred, mask=mask)
    activation = ACTIVATIONS[options.from_logits]
    axis = options.axis
    pred_shape = _checks.shape_of(y_pred)
    sparse = _checks.check_label_shapes(y_true, y_pred, xp)

    class_index = None
    if sparse or activation == "softmax" or keep_class_axis:
        class_index = _checks.normalize_class_axis(options.class_axis, pred_shape)
    if sparse:
        assert class_index is not None
        _checks.check_sparse_shape(_checks.shape_of(y_true), pred_shape, class_index)
    axes = _checks.normalize_axis(axis, pred_shape)
    if keep_class_axis:
        assert class_index is not None
        axes = _checks.exclude_class_axis(axis, axes, class_index, pred_shape)

    dtype = accumulation_dtype(y_pred.dtype, xp)
    logits = None
    probabilities = as_dtype(y_pred, dtype, xp)
    if activation is not None:
        logits = probabilities
        if activation == "sigmoid":
            probabilities = _elementwise.sigmoid(logits, xp)
        else:
            assert class_index is not None
            probabilities = _elementwise.softmax(logits, class_index, xp)
    if threshold is not None:
        probabilities = xp.astype(probabilities > threshold, dtype)

    if sparse:
        assert class_index is not None
        dense_true = one_hot(y_true, pred_shape, class_index, dtype, xp)
    else:
        dense_true = as_dtype(y_true, dtype, xp)

    dense_mask = None
    if mask is not None:
        mask_shape = _checks.shape_of(mask)
        if sparse and class_index is not None and mask_shape == _checks.shape_of(y_true):
            mask = xp.expand_dims(mask, axis=class_index)
            mask_shape = _checks.shape_of(mask)
        _checks.check_broadcastable(mask_shape, pred_shape, "mask", "y_pred")
        dense_mask = xp.astype(mask, dtype, copy=False)

    return Inputs(
        xp=xp,
        y_true=dense_true,
        y_pred=probabilities,
        logits=logits,
        activation=activation,
        mask=dense_mask,
        axes=axes,
        class_axis=class_index,
    )


def one_hot(
    labels: Array, pred_shape: _checks.Shape, class_axis: int, dtype: object, xp: Namespace
) -> Array:
    """Class indices to a one-hot array with the classes on ``class_axis``.

    Indices outside ``[0, num_classes)`` (an ``ignore_index`` such as 255) encode to all zeros;
    remove them from the sums with ``mask``.
    """
    num_classes = pred_shape[class_axis]
    assert num_classes is not None
    trailing = len(pred_shape) - class_axis - 1
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device_of(labels, xp))
    classes = xp.reshape(classes, (num_classes,) + (1,) * trailing)
    return xp.astype(xp.expand_dims(labels, axis=class_axis) == classes, dtype)


def prepare_weight(
    weight: object, inputs: Inputs, result_shape: _checks.Shape | None = None
) -> Array | None:
    """``weight`` as an array of the accumulation dtype that broadcasts to ``result_shape``
    (by default ``inputs.result_shape()``)."""
    if weight is None:
        return None
    if result_shape is None:
        result_shape = inputs.result_shape()
    xp = inputs.xp
    if isinstance(weight, (float, tuple)):  # validated by the options record
        array = xp.asarray(weight, dtype=inputs.dtype, device=device_of(inputs.y_pred, xp))
    else:
        array_namespace(y_pred=inputs.y_pred, weight=weight)  # a TypeError for a mix
        _checks.check_dtypes(xp, weight=weight)
        array = xp.astype(weight, inputs.dtype, copy=False)
    _checks.check_broadcastable(_checks.shape_of(array), result_shape, "weight", "the result")
    return array
