"""A private array API namespace over TensorFlow tensors: exactly the names the core uses.

array-api-compat has no TensorFlow support, and ``tf.experimental.numpy`` is NumPy-shaped rather
than array-API-shaped and needs a global switch that changes every ``tf.Tensor`` of the process,
so the core's handful of functions are written here over plain ``tf`` ops. They work on eager
tensors and inside ``tf.function(jit_compile=True)``. This module is imported only when the caller
already passed TensorFlow tensors. ``tests/test_tf_namespace.py`` keeps it in step with the core.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import tensorflow as tf

is_tensorflow_namespace = True

bool = tf.bool
float32 = tf.float32
float64 = tf.float64
int32 = tf.int32

_KINDS = {
    "bool": lambda d: d == tf.bool,
    "integral": lambda d: d.is_integer,
    "real floating": lambda d: d.is_floating,
}


def _axis(axis: Any) -> Any:
    return list(axis) if isinstance(axis, tuple) else axis


def isdtype(dtype: tf.DType, kind: str | tuple[str, ...]) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return builtins.any(_KINDS[k](tf.as_dtype(dtype)) for k in kinds)


def finfo(dtype: tf.DType) -> Any:
    return np.finfo(tf.as_dtype(dtype).as_numpy_dtype)


def iinfo(dtype: tf.DType) -> Any:
    return np.iinfo(tf.as_dtype(dtype).as_numpy_dtype)


def astype(x: tf.Tensor, dtype: tf.DType, /, *, copy: Any = True, device: Any = None) -> Any:
    return tf.cast(x, dtype)


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: Any = None) -> Any:
    return tf.convert_to_tensor(obj, dtype=dtype)


def arange(start: Any, /, stop: Any = None, *, dtype: Any = None, device: Any = None) -> Any:
    values = tf.range(start) if stop is None else tf.range(start, stop)
    return tf.cast(values, dtype or tf.int64)


def reshape(x: tf.Tensor, /, shape: tuple[int, ...]) -> Any:
    return tf.reshape(x, shape)


def concat(arrays: Any, /, *, axis: int = 0) -> Any:
    return tf.concat(list(arrays), axis)


def stack(arrays: Any, /, *, axis: int = 0) -> Any:
    return tf.stack(list(arrays), axis)


def expand_dims(x: tf.Tensor, /, *, axis: int = 0) -> Any:
    return tf.expand_dims(x, axis)


def sum(x: tf.Tensor, /, *, axis: Any = None, keepdims: Any = False) -> Any:
    return tf.reduce_sum(x, axis=_axis(axis), keepdims=keepdims)


def mean(x: tf.Tensor, /, *, axis: Any = None, keepdims: Any = False) -> Any:
    return tf.reduce_mean(x, axis=_axis(axis), keepdims=keepdims)


def max(x: tf.Tensor, /, *, axis: Any = None, keepdims: Any = False) -> Any:
    return tf.reduce_max(x, axis=_axis(axis), keepdims=keepdims)


def min(x: tf.Tensor, /, *, axis: Any = None, keepdims: Any = False) -> Any:
    return tf.reduce_min(x, axis=_axis(axis), keepdims=keepdims)


def any(x: tf.Tensor, /, *, axis: Any = None, keepdims: Any = False) -> Any:
    return tf.reduce_any(tf.cast(x, tf.bool), axis=_axis(axis), keepdims=keepdims)


def where(condition: tf.Tensor, x1: tf.Tensor, x2: tf.Tensor, /) -> Any:
    return tf.where(condition, x1, x2)


def clip(x: tf.Tensor, /, min: Any = None, max: Any = None) -> Any:
    out = x
    if min is not None:
        out = tf.maximum(out, tf.convert_to_tensor(min, dtype=x.dtype))
    if max is not None:
        out = tf.minimum(out, tf.convert_to_tensor(max, dtype=x.dtype))
    return out


def take(x: tf.Tensor, indices: tf.Tensor, /, *, axis: int | None = None) -> Any:
    return tf.gather(x, indices, axis=axis)


class _Info:
    def default_dtypes(self, *, device: Any = None) -> dict[str, Any]:
        return {"real floating": tf.float32, "integral": tf.int64, "indexing": tf.int64}


def __array_namespace_info__() -> _Info:
    return _Info()


def take_along_axis(x: tf.Tensor, indices: tf.Tensor, /, *, axis: int = -1) -> Any:
    # A non-negative axis: XLA's gradient of a negative one repeats an axis ("0 is duplicated").
    return tf.experimental.numpy.take_along_axis(x, indices, axis=axis % len(x.shape))


def ones_like(x: tf.Tensor, /) -> Any:
    return tf.ones_like(x)


def zeros_like(x: tf.Tensor, /) -> Any:
    return tf.zeros_like(x)


def full_like(x: tf.Tensor, /, fill_value: Any) -> Any:
    return tf.fill(tf.shape(x), tf.convert_to_tensor(fill_value, dtype=x.dtype))


exp = tf.math.exp
floor = tf.math.floor
# Optional: the core uses a namespace's fused sigmoid, softplus, softmax and log-softmax when it
# has them.
sigmoid = tf.math.sigmoid
softplus = tf.math.softplus


def log_softmax(x: tf.Tensor, axis: int) -> Any:
    return tf.nn.log_softmax(x, axis=axis)


def softmax(x: tf.Tensor, axis: int) -> Any:
    return tf.nn.softmax(x, axis=axis)


abs = tf.math.abs
sqrt = tf.math.sqrt
logical_and = tf.math.logical_and
logical_or = tf.math.logical_or
logical_not = tf.math.logical_not
sign = tf.math.sign
expm1 = tf.math.expm1
log = tf.math.log
log1p = tf.math.log1p


def argsort(x: tf.Tensor, /, *, axis: int = -1, descending: Any = False, stable: Any = True) -> Any:
    # top_k underneath: equal values keep their order, in either direction. Indices have no
    # gradient, so the tape need not record the sort's internal ops.
    direction = "DESCENDING" if descending else "ASCENDING"
    return tf.argsort(tf.stop_gradient(x), axis=axis, direction=direction, stable=stable)


def cumulative_sum(x: tf.Tensor, /, *, axis: int | None = None) -> Any:
    return tf.math.cumsum(x, axis=0 if axis is None else axis)


def permute_dims(x: tf.Tensor, /, axes: tuple[int, ...]) -> Any:
    return tf.transpose(x, perm=list(axes))
