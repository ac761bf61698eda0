"""Hypothesis strategies: random ranks, shapes, axis tuples (negative entries too), dtypes,
targets (binary, soft, sparse, the channel-less mask of a single channel), probabilities or
logits, smoothing, masks and weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from tests import oracle

SMOOTHINGS = [(0.0, 0.0), (1e-5, 1e-5), (1.0, 1.0), (0.0, 1e-5), (0.5, 2.0)]


@dataclass
class Case:
    y_true: np.ndarray  # as passed (bool, int, float, or sparse int labels)
    y_pred: np.ndarray  # as passed (float32/float64; logits when from_logits)
    dense_true: np.ndarray  # float64, y_pred's shape
    axis: int | tuple[int, ...] | None
    axes: tuple[int, ...]  # normalized
    class_axis: int  # negative form as passed
    from_logits: bool | str
    smooth_nr: float
    smooth_dr: float
    mask: np.ndarray | None
    weight: np.ndarray | None  # broadcasts to the result shape

    @property
    def dtype(self) -> np.dtype:
        return self.y_pred.dtype

    @property
    def probabilities(self) -> np.ndarray:
        return oracle.activate(self.y_pred, self.from_logits, self.class_axis)

    def hard(self, threshold: float | None) -> np.ndarray:
        """The predictions a threshold makes: ``p > threshold``, or the one-hot of the arg-max
        over the class axis after a softmax; the probabilities without one."""
        return oracle.harden(self.probabilities, threshold, self.from_logits, self.class_axis)

    @property
    def result_shape(self) -> tuple[int, ...]:
        return tuple(d for i, d in enumerate(self.y_pred.shape) if i not in self.axes)


def _axis(draw, ndim: int, *, exclude: int | None = None):
    candidates = [a for a in range(ndim) if a != exclude]
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or not candidates:
        return None
    chosen = draw(st.lists(st.sampled_from(candidates), unique=True, min_size=1))
    as_negative = [draw(st.booleans()) for _ in chosen]
    entries = tuple(a - ndim if neg else a for a, neg in zip(chosen, as_negative, strict=True))
    if kind == "int":
        return entries[0]
    return entries


@st.composite
def cases(
    draw,
    *,
    dtypes=(np.float32, np.float64),
    min_dims: int = 1,
    max_dims: int = 5,
    max_side: int = 4,
    allow_sparse: bool = True,
    allow_logits: bool = True,
    allow_mask: bool = True,
    allow_weight: bool = True,
    keep_class_axis: bool = False,
) -> Case:
    ndim = draw(st.integers(min_dims, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    class_axis = draw(st.integers(-ndim, ndim - 1))
    c = class_axis % ndim
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    target_kind = draw(
        st.sampled_from(["bool", "int", "float", "soft"] + (["sparse"] if allow_sparse else []))
    )
    if target_kind == "sparse" and shape[c] == 1:  # no class axis: the single channel's mask
        labels = rng.random(shape[:c] + shape[c + 1 :]) < 0.5
        y_true = labels.astype(draw(st.sampled_from([bool, np.int32, np.float32])))
        dense = np.expand_dims(labels, c)
    elif target_kind == "sparse":  # class indices, integers or integral floats (MONAI)
        labels = rng.integers(0, shape[c], size=shape[:c] + shape[c + 1 :])
        dtypes = [np.int64, np.int32, np.uint8, np.int8, np.float32]
        y_true = labels.astype(draw(st.sampled_from(dtypes)))
        dense = oracle.one_hot(labels, shape[c], c)
    else:
        binary = rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
        dense = rng.random(shape) if target_kind == "soft" else binary.astype(np.float64)
        y_true = {"bool": binary, "int": binary.astype(np.int32)}.get(target_kind, dense)
        if target_kind in ("float", "soft"):
            y_true = dense.astype(dtype)
            dense = y_true.astype(np.float64)

    from_logits = draw(st.sampled_from([False, True, "softmax"] if allow_logits else [False]))
    if from_logits:
        y_pred = rng.uniform(-12, 12, size=shape)
    else:
        y_pred = rng.random(shape)
        extremes = rng.random(shape)
        y_pred = np.where(extremes < 0.1, 0.0, np.where(extremes > 0.9, 1.0, y_pred))
        if draw(st.booleans()):  # one-hot-like predictions, exactly 0 and 1
            y_pred = np.round(y_pred)
    y_pred = y_pred.astype(dtype)

    axis = _axis(draw, ndim, exclude=c if keep_class_axis else None)
    axes = oracle.normalize(axis, ndim)
    if keep_class_axis:
        axes = tuple(a for a in axes if a != c) if axis is None else axes
    smooth_nr, smooth_dr = draw(st.sampled_from(SMOOTHINGS))

    mask = None
    if allow_mask and draw(st.booleans()):
        fill = draw(st.sampled_from(["random", "empty", "full"]))
        mask_shape = tuple(d if draw(st.booleans()) else 1 for d in shape)
        mask = {
            "random": rng.random(mask_shape) < 0.6,
            "empty": np.zeros(mask_shape, bool),
            "full": np.ones(mask_shape, bool),
        }[fill]

    result_shape = tuple(d for i, d in enumerate(shape) if i not in axes)
    weight = None
    if allow_weight and not keep_class_axis and draw(st.booleans()):
        trailing = draw(st.integers(0, len(result_shape)))
        weight_shape = result_shape[len(result_shape) - trailing :]
        weight = rng.uniform(0, 3, size=weight_shape).astype(dtype)

    return Case(
        y_true=np.asarray(y_true),
        y_pred=y_pred,
        dense_true=np.asarray(dense, np.float64),
        axis=axis,
        axes=axes,
        class_axis=class_axis,
        from_logits=from_logits,
        smooth_nr=smooth_nr,
        smooth_dr=smooth_dr,
        mask=mask,
        weight=weight,
    )


def tolerance(dtype: np.dtype) -> dict[str, float]:
    """float64: close to rounding; float32 (and float16/bfloat16 inputs, summed in float32):
    a few hundred ulps of the sums of at most 1024 elements."""
    if np.dtype(dtype) == np.float64:
        return {"rtol": 1e-9, "atol": 1e-10}
    return {"rtol": 2e-4, "atol": 2e-5}
