"""Checks layer: validate shapes, axes and dtypes in plain Python (options: ``_options.py``).

Nothing here reads an array's values, so every check also runs while ``jax.jit``,
``torch.compile`` or ``tf.function`` trace the computation. Shapes may contain ``None`` (an
unknown dimension in a TensorFlow graph, or a symbolic one: ``torch.export`` with a
``torch.export.Dim``, ``torch.compile(dynamic=True)``, ``jax.export`` with a symbolic batch);
such a dimension matches anything. A symbolic size is never turned into an int, which would fix
it to the size of the example.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

from xploss._namespace import Array, Namespace

Shape = tuple[int | None, ...]


def shape_of(x: Array) -> Shape:
    """The static shape: None for a size that is unknown or symbolic."""
    shape = tuple(x.shape)
    if all(type(d) is int for d in shape):
        return shape
    return tuple(int(d) if isinstance(d, numbers.Integral) else None for d in shape)


def sizes(x: Array) -> tuple[Any, ...]:
    """The sizes to compute with (``arange``, ``reshape``): ints, symbolic sizes
    (``torch.SymInt``, JAX symbolic dimensions), or None where a graph does not know one."""
    return tuple(int(d) if isinstance(d, numbers.Integral) else d for d in tuple(x.shape))


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        return None


def normalize_axis(axis: object, shape: Shape, *, name: str = "axis") -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints, with NumPy's rules for ``sum``."""
    ndim = len(shape)
    # The usual spellings in a training loop take no more than a comparison or two (no cache: a
    # dict filled while torch.compile traces would become a guard and cause recompilations).
    if axis is None:
        return tuple(range(ndim))
    if (
        type(axis) is tuple
        and all(type(a) is int and 0 <= a < ndim for a in axis)
        and axis == tuple(sorted(set(axis)))
    ):
        return axis
    return _normalize_axis(axis, shape, name)


def _normalize_axis(axis: object, shape: Shape, name: str) -> tuple[int, ...]:
    ndim = len(shape)
    if _as_int(axis) is None and not isinstance(axis, (tuple, list)):
        raise ValueError(
            f"{name}={axis!r} is not an axis: use None (every axis), an int or a tuple of ints, "
            f"for an input of shape {shape} (rank {ndim})."
        )
    ints = [_as_int(a) for a in (axis if isinstance(axis, (tuple, list)) else [axis])]
    if any(i is None for i in ints):
        raise ValueError(
            f"{name}={axis!r} must hold integers only, for an input of shape {shape} "
            f"(rank {ndim}); valid axes are {-ndim}..{ndim - 1}."
        )
    out_of_range = [i for i in ints if i is not None and not -ndim <= i < ndim]
    if out_of_range:
        raise ValueError(
            f"{name}={axis!r} is out of range for an input of shape {shape} (rank {ndim}): "
            f"valid axes are {-ndim}..{ndim - 1}, or None for every axis. Axis {out_of_range[0]} "
            f"needs an input of rank at least {_rank_needed(out_of_range[0])}; "
            "axis=(1, 2, 3), for example, sums over the height, width and channel axes of a "
            "(batch, height, width, channels) array, so it cannot apply to a rank-2 input."
        )
    normalized = [i % ndim for i in ints if i is not None]
    if len(set(normalized)) != len(normalized):
        raise ValueError(
            f"{name}={axis!r} names an axis twice for an input of shape {shape} (rank {ndim}) "
            f"(as non-negative axes: {tuple(normalized)})."
        )
    return tuple(sorted(normalized))


def _rank_needed(axis: int) -> int:
    return axis + 1 if axis >= 0 else -axis


def normalize_class_axis(class_axis: object, shape: Shape) -> int:
    ndim = len(shape)
    index = _as_int(class_axis)
    if index is None:
        raise TypeError(f"class_axis must be an int, got {class_axis!r}.")
    if not -ndim <= index < ndim:
        raise ValueError(
            f"class_axis={class_axis!r} is out of range for y_pred of shape {shape} "
            f"(rank {ndim}): valid values are {-ndim}..{ndim - 1}."
        )
    return index % ndim


def exclude_class_axis(
    axis: object, axes: tuple[int, ...], class_axis: int, shape: Shape
) -> tuple[int, ...]:
    """The reduced axes of a per-class score: ``None`` means all but the class axis."""
    if axis is None:
        return tuple(a for a in axes if a != class_axis)
    if class_axis in axes:
        raise ValueError(
            f"axis={axis!r} contains class_axis={class_axis} for y_pred of shape {shape}: the "
            "generalized Dice weighs each class separately, so the class axis cannot be summed "
            f"over; use axis=None for every axis but {class_axis}."
        )
    return axes


def dtype_kind(dtype: object, xp: Namespace) -> str | None:
    """``"real floating"``, ``"bool"`` or ``"integral"``; ``None`` for any other dtype.

    One ``isdtype`` call per kind, most common first: the tuple form is slower in some namespaces.
    """
    for kind in ("real floating", "bool", "integral"):
        try:
            if xp.isdtype(dtype, kind):
                return kind
        except (TypeError, ValueError):  # dtypes outside the standard (strings, objects)
            return None
    return None


def check_dtypes(xp: Namespace, **arrays: Array | None) -> None:
    """``y_pred`` floating; ``y_true``, ``mask`` and ``weight`` bool, integer or floating."""
    for name, x in arrays.items():
        if x is None:
            continue
        kind = dtype_kind(x.dtype, xp)
        ok = kind == "real floating" if name == "y_pred" else kind is not None
        if not ok:
            wanted = "a floating dtype" if name == "y_pred" else "a bool, integer or floating dtype"
            hint = " (probabilities or logits)" if name == "y_pred" else ""
            raise TypeError(f"{name} must have {wanted}{hint}, got {x.dtype}.")


def check_known_rank(**arrays: Array | None) -> None:
    """A ValueError naming the argument whose rank is unknown (a TensorFlow tensor traced with
    ``tf.TensorSpec(None)``): the axes, the class axis and the labels' form depend on it."""
    for name, x in arrays.items():
        if x is not None and getattr(x.shape, "rank", 0) is None:
            raise ValueError(
                f"{name} has an unknown rank (shape {x.shape}): xploss reads the axes from the "
                "rank, so trace the function with a known rank, e.g. "
                "tf.TensorSpec([None, None, None, 1]) rather than tf.TensorSpec(None)."
            )


def check_sparse_shape(true_shape: Shape, pred_shape: Shape, class_axis: int) -> None:
    expected = pred_shape[:class_axis] + pred_shape[class_axis + 1 :]
    if not same_shape(true_shape, expected):
        single = [
            i
            for i, d in enumerate(pred_shape)
            if d == 1 and same_shape(true_shape, pred_shape[:i] + pred_shape[i + 1 :])
        ]
        hint = ""
        if single:
            hint = f"; y_pred's single channel is on axis {single[0]}: pass class_axis={single[0]}"
        raise ValueError(
            f"sparse y_true of shape {true_shape} does not match y_pred of shape {pred_shape} "
            f"without its class_axis={class_axis}: expected {expected}{hint}."
        )


def same_shape(a: Shape, b: Shape) -> bool:
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


def check_broadcastable(shape: Shape, target: Shape, name: str, target_name: str) -> None:
    """``shape`` broadcasts to ``target`` without changing it (NumPy's rules)."""
    fits = len(shape) <= len(target) and all(
        s is None or s == 1 or t is None or s == t
        for s, t in zip(reversed(shape), reversed(target), strict=False)
    )
    if not fits:
        raise ValueError(
            f"{name} of shape {shape} does not broadcast to {target_name} of shape {target}."
        )
