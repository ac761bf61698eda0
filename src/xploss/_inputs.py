"""From the caller's arrays to validated, dense, floating inputs in the accumulation dtype.

What the labels mean is ``_labels.py``'s (dense targets, the channel-less mask of a single
channel, class indices one-hot encoded by one broadcast comparison); logits become probabilities
with a stable sigmoid or softmax, and float16/bfloat16 inputs are promoted to float32 so that no
sum is ever taken in half precision. Value checks (``_values.py``) run on concrete arrays only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import array_api_compat

from xploss import _checks, _classes, _elementwise, _labels, _values
from xploss._namespace import Array, Namespace, array_namespace, device_of, gathers, is_concrete
from xploss._namespace import _is_tensorflow as is_tensorflow
from xploss._validators import ACTIVATIONS


@dataclass(slots=True)  # not frozen: a frozen dataclass costs microseconds per construction
class Inputs:
    """Dense inputs in the accumulation dtype, ready for the statistics."""

    xp: Namespace
    y_true: Array
    y_pred: Array
    """Probabilities, or 0/1 predictions when a threshold was given."""
    logits: Array | None
    """The logits, None for probabilities; clipped to ``±sqrt(finfo.max)`` (``saturate``) unless a
    fused sigmoid made the probabilities, which is exact at ``±inf``."""
    activation: str | None
    mask: Array | None
    axes: tuple[int, ...]
    class_axis: int | None
    """Non-negative class axis when one was needed (sparse labels, softmax, generalized Dice,
    ``include_background``, ``ignore_index``)."""
    element_mask: Array | None = None
    """``mask`` before ``include_background=False`` folded class 0 out of it: the elements a
    cross-entropy of exclusive classes counts (MONAI's ``DiceCELoss`` leaves the background out
    of the Dice only)."""
    background: tuple[int, int] | None = None
    """``(position in the result, C)`` of the class axis whose class 0 ``prepare_weight``
    weighs 0 (``include_background=False`` where the class axis survives the sums)."""
    indices: bool = False
    """``y_true`` holds class indices, size 1 on the class axis (``prepare(encode=False)``)."""
    indices_in_range: bool = False
    """Every class index was read and lies in ``[0, C)`` (eager, nothing masked)."""
    log_probabilities: Array | None = None
    """The log-softmax of ``logits`` where a categorical term reads it beside the probabilities,
    which are then its ``exp`` (``prepare(log_probabilities=True)``)."""
    nan_probes: tuple[Array, ...] = ()
    """Arrays of ``y_pred``'s rank (size 1 on the axes they broadcast over) that hold the NaNs
    the dense inputs cannot: of soft predictions made hard, of float class indices. Their sums
    over ``axes`` make the statistics NaN (``with_nan``): a sum, not a full-size ``where``
    (and compilers fold ``0·p`` to 0, so that cannot carry them)."""

    @property
    def dtype(self) -> object:
        return self.y_pred.dtype

    @property
    def empty(self) -> bool:
        """Whether an axis of ``y_pred`` has size 0 (known while tracing too)."""
        return 0 in _checks.shape_of(self.y_pred)

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
    exclusive: bool = False,
    probabilities: bool = True,
    one_hot: bool = True,
    log_probabilities: bool = False,
) -> Inputs:
    """Check and convert the inputs of every loss and metric.

    ``options`` holds the validated ``axis``, ``class_axis``, ``from_logits`` and ``validate``
    (an ``_options.Axes`` record). ``keep_class_axis`` (generalized Dice) makes ``axis=None``
    mean every axis but the class axis and rejects a class axis inside ``axis``. ``exclusive``
    (a categorical cross-entropy) needs the class axis whatever the target. Without
    ``probabilities`` (a loss that reads the logits alone) logits are not activated:
    ``y_pred`` holds them too; without ``one_hot`` class indices stay indices.
    ``log_probabilities`` (a Dice beside a softmax cross-entropy) takes the probabilities of a
    softmax as the ``exp`` of one log-softmax that both terms read: Inductor compiles that pair
    1.8× faster than a softmax beside a log-softmax.
    """
    y_true, mask = aligned(y_pred, y_true=y_true, mask=mask)
    xp = array_namespace(y_true=y_true, y_pred=y_pred, mask=mask)
    _checks.check_known_rank(y_true=y_true, y_pred=y_pred, mask=mask)
    _checks.check_dtypes(xp, y_true=y_true, y_pred=y_pred, mask=mask)
    activation = ACTIVATIONS[options.from_logits]
    axis = options.axis
    pred_shape = _checks.shape_of(y_pred)
    kind = _labels.label_kind(y_true, y_pred, options.class_axis, xp)
    background = not getattr(options, "include_background", True)
    ignore_index = getattr(options, "ignore_index", None)

    class_index = None
    if (
        kind != _labels.DENSE
        or activation == "softmax"
        or keep_class_axis
        or exclusive
        or background
        or (ignore_index is not None)
    ):
        class_index = _checks.normalize_class_axis(options.class_axis, pred_shape)
        if activation == "softmax" and pred_shape[class_index] == 1:
            _classes.warn_constant_softmax(pred_shape, class_index)
    num_classes = None if class_index is None else pred_shape[class_index]
    if background and num_classes == 1:
        _classes.warn_single_channel_background(pred_shape)
        background = False
    axes = _checks.normalize_axis(axis, pred_shape)
    if keep_class_axis:
        assert class_index is not None
        axes = _checks.exclude_class_axis(axis, axes, class_index, pred_shape)

    dtype = accumulation_dtype(y_pred.dtype, xp)
    true_shape = _checks.shape_of(y_true)
    if mask is not None:
        mask = _labels.expand_mask(mask, kind, true_shape, class_index, xp)
        _checks.check_broadcastable(_checks.shape_of(mask), pred_shape, "mask", "y_pred")
    ignored = _labels.kept(y_true, ignore_index, kind, class_index, num_classes, xp)
    if ignored is not None:
        ignored = _labels.expand_mask(ignored, kind, true_shape, class_index, xp)
        mask = _classes.product(mask, ignored, dtype, xp)
    element_mask = mask
    position = None
    if background:
        assert class_index is not None
        if keep_class_axis or class_index in axes:  # no class axis to weigh: out of the sums
            rank = len(pred_shape)
            factor = _classes.background_factor(num_classes, class_index, rank, y_pred, dtype, xp)
            mask = _classes.product(mask, factor, dtype, xp)
        else:
            before = sum(a < class_index for a in axes)
            position = (class_index - before, _classes.known(num_classes))
    sizes = _checks.sizes(y_pred)  # symbolic sizes stay symbolic (torch.export, jax.export)
    # Kept indices are gathered by a cross-entropy (exclusive), compared class by class by the
    # overlap statistics.
    encode = kind != _labels.SPARSE or one_hot or (exclusive and not gathers(xp))
    encode = encode or _labels.mask_holds_classes(mask, class_index, len(pred_shape))
    dense_true, in_range = _labels.dense_target(
        y_true, kind, sizes, class_index, dtype, xp, mask, encode=encode
    )
    values = as_dtype(y_pred, dtype, xp)
    if options.validate and is_concrete(y_true, y_pred):
        if activation is None:
            _values.check_unit_interval("y_pred", values, xp, hint=_LOGITS_HINT)
        if kind != _labels.SPARSE:
            _values.check_unit_interval("y_true", dense_true, xp)
    log_q = None
    if probabilities or activation is None:
        activated = activate(values, activation, class_index, threshold, xp, log_probabilities)
        logits, soft, probe, log_q = activated
    else:
        logits, probe = _elementwise.saturate(values, xp), None
        soft = logits
    label_probe = _labels.nan_probe(y_true, kind, class_index, dtype, xp)
    return Inputs(
        xp=xp,
        y_true=dense_true,
        y_pred=soft,
        logits=logits,
        activation=activation,
        mask=None if mask is None else as_dtype(mask, dtype, xp),
        element_mask=None if element_mask is None else as_dtype(element_mask, dtype, xp),
        axes=axes,
        class_axis=class_index,
        background=position,
        indices=not encode,
        indices_in_range=in_range,
        log_probabilities=log_q,
        nan_probes=tuple(a for a in (probe, label_probe) if a is not None),
    )


def aligned(y_pred: Array, **arrays: Array | None) -> tuple[Array | None, ...]:
    """``arrays`` in ``y_pred``'s array library: NumPy arrays beside a JAX or TensorFlow
    prediction are converted, as ``jnp``, ``optax`` and TensorFlow's ops take them (PyTorch's
    losses, like the other libraries, take their own arrays only: a mix is a TypeError); a Python
    list or tuple where an array is expected is a TypeError (it has no array library, and the
    result is returned in the inputs' library)."""
    kind = type(y_pred)
    one_type = all(x is None or type(x) is kind for x in arrays.values())
    if one_type and kind is not list and kind is not tuple:
        return tuple(arrays.values())  # one array type: nothing to align (the common call)
    for name, x in {**arrays, "y_pred": y_pred}.items():
        if isinstance(x, (list, tuple)):
            raise TypeError(
                f"{name} is a Python {type(x).__name__}: xploss computes in the array library "
                "of its inputs and returns the result in it, and a list has none. Pass arrays, "
                f"e.g. np.asarray({name}), torch.as_tensor({name}) or jnp.asarray({name})."
            )
    numpy = sys.modules.get("numpy")
    takes_numpy = array_api_compat.is_jax_array(y_pred) or is_tensorflow(y_pred)
    if numpy is None or not takes_numpy:
        return tuple(arrays.values())
    if not any(isinstance(x, numpy.ndarray) for x in arrays.values()):
        return tuple(arrays.values())
    xp = array_namespace(y_pred=y_pred)
    device = device_of(y_pred, xp) if is_concrete(y_pred) else None
    return tuple(
        xp.asarray(x, device=device) if isinstance(x, numpy.ndarray) else x for x in arrays.values()
    )


def with_nan(
    inputs: Inputs, *values: Array, axes: tuple[int, ...] | None = None
) -> tuple[Array, ...]:
    """``values`` (reduced over ``axes``, by default ``inputs.axes``), NaN where a probe's sum
    is."""
    xp = inputs.xp
    for probe in inputs.nan_probes:
        total = xp.sum(probe, axis=inputs.axes if axes is None else axes)
        values = tuple(xp.where(total == total, v, total) for v in values)
    return values


_LOGITS_HINT = (
    " Probabilities are expected: if y_pred holds logits, pass from_logits=True (independent "
    "channels) or from_logits='softmax' (exclusive classes)."
)


def activate(
    values: Array,
    activation: str | None,
    class_axis: int | None,
    threshold: float | None,
    xp: Namespace,
    log_probabilities: bool = False,
) -> tuple[Array | None, Array, Array | None, Array | None]:
    """``(logits, probabilities, NaN probe, log-probabilities)``, the probabilities made hard by
    ``threshold``; the log-probabilities of a soft softmax when ``log_probabilities`` asks.

    Logits are clipped by ``_elementwise.saturate`` wherever a formula would take ``inf - inf``
    (the softmax's shift, the unfused sigmoid); a fused sigmoid is exact at ``±inf`` and takes
    them as they are. NaN passes through. Hard predictions are ``p > threshold`` for independent
    channels and the one-hot of the arg-max over ``class_axis`` after a softmax (exclusive
    classes); a NaN input, which a comparison makes 0, is kept by the probe
    (``Inputs.nan_probes``): the soft probabilities, or for the arg-max a NaN for every class of
    an element with a NaN class.
    """
    if activation is None:
        if threshold is None:
            return None, values, None, None
        return None, xp.astype(values > threshold, values.dtype), values, None
    if activation == "sigmoid":
        # A fused sigmoid is exact at ±inf: the clip, a full pass, is left to the BCE that needs it.
        fused = getattr(xp, "sigmoid", None) is not None
        logits = values if fused else _elementwise.saturate(values, xp)
        probabilities = _elementwise.sigmoid(logits, xp)
        if threshold is None:
            return logits, probabilities, None, None
        return logits, xp.astype(probabilities > threshold, values.dtype), probabilities, None
    assert class_axis is not None
    logits = _elementwise.saturate(values, xp)
    if _checks.shape_of(logits)[class_axis] == 0:  # no class: nothing to normalise
        return logits, logits, None, None
    if threshold is None and log_probabilities:
        log_q = _elementwise.categorical_log_probabilities(logits, values, class_axis, xp)
        return logits, xp.exp(log_q), None, log_q
    if threshold is None:
        return logits, _elementwise.softmax(logits, class_axis, xp), None, None
    hard = _elementwise.arg_max_one_hot(logits, class_axis, xp)
    nan = xp.any(logits != logits, axis=class_axis, keepdims=True)  # XLA's max skips NaN
    first = logits[(slice(None),) * class_axis + (slice(0, 1), ...)]
    probe = xp.where(nan, xp.full_like(first, float("nan")), xp.zeros_like(first))
    return logits, hard, probe, None
