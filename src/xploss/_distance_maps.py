"""The public distance maps: ``distance_transform`` (SciPy's ``distance_transform_edt``) and
``signed_distance_map`` (the targets of the boundary loss), over ``_distance.py``'s transform.

There is no SciPy path: the same exact array-API transform runs for NumPy, PyTorch, JAX,
TensorFlow and every other array library, eagerly and compiled, on every device, so no input
ever falls back to another implementation (silently or not). SciPy is a test dependency only:
the tests compare this transform with ``scipy.ndimage.distance_transform_edt``.
"""

from __future__ import annotations

import math
from typing import Any

from xploss import _checks, _labels
from xploss._distance import Axes, pairs, signed_map, squared_distances
from xploss._namespace import Array, Namespace, array_namespace, device_of, is_concrete


def distance_transform(
    mask: Array, *, axis: int | tuple[int, ...] | None, spacing: Any = None, dtype: Any = None
) -> Array:
    """The Euclidean distance from each nonzero element of ``mask`` to the nearest zero element
    of its image: ``scipy.ndimage.distance_transform_edt(mask, sampling=spacing)`` of each image.

    An image is the slice of ``mask`` over ``axis`` (the spatial axes) at fixed indices of the
    other axes (batch, channels): ``axis=(1, 2)`` of a ``(B, H, W, C)`` mask transforms each of
    its ``B·C`` images on its own; ``axis=None`` takes the whole array as one image, as SciPy.
    Zero elements get 0. An image with no zero element has no distance to compute: its elements
    get ``inf`` (SciPy returns distances to a point outside the array there; MONAI's
    ``HausdorffDTLoss`` skips such images). A NaN element of a floating mask is NaN in the
    result (and is nonzero for the others).

    The transform is exact and written in the array API only (``xploss._distance``): it runs
    on every array library, eagerly and under ``jax.jit``, ``torch.compile`` and
    ``tf.function(jit_compile=True)``; no SciPy path exists, so there is no fallback. A pass
    over an axis of size ``n`` costs ``N·n`` operations for ``N`` elements, in blocks of at
    most 2^26 elements. It has no gradient (it reads a comparison of ``mask`` with 0).

    Args:
        mask: an array of any rank: bool, integer or floating (nonzero is foreground).
        axis: the axes of the transform; None for every axis. Their sizes must be known.
        spacing: the grid spacing: None (1), one number, or one per axis of ``axis`` in the
            order written (SciPy's ``sampling``).
        dtype: the result's floating dtype; None: float64 for a float64 ``mask``, float32
            otherwise.

    Returns:
        The distances, ``mask``'s shape, in ``mask``'s array library.

    Example:
        >>> import numpy as np
        >>> mask = np.array([[0, 1, 1, 1, 1]])
        >>> distance_transform(mask, axis=1).tolist()
        [[0.0, 1.0, 2.0, 3.0, 4.0]]
        >>> distance_transform(mask, axis=1, spacing=0.5).tolist()
        [[0.0, 0.5, 1.0, 1.5, 2.0]]
    """
    xp = array_namespace(mask=mask)
    _checks.check_known_rank(mask=mask)
    kind = _kind(mask, "mask", xp)
    chosen = _dtype(mask, dtype, xp)
    axes = pairs(axis, spacing, _checks.shape_of(mask))
    zero = mask == 0 if kind != "bool" else xp.logical_not(mask)
    squared, limit = squared_distances(zero, axes, chosen, xp)
    result = xp.where(squared < limit, xp.sqrt(squared), xp.full_like(squared, math.inf))
    return _with_nan(result, mask, kind, xp)


def signed_distance_map(
    labels_or_mask: Array,
    *,
    axis: int | tuple[int, ...] | None,
    spacing: Any = None,
    num_classes: int | None = None,
    class_axis: int = -1,
    dtype: Any = None,
) -> Array:
    """Kervadec et al.'s signed distance map ``φ``, the target of ``boundary_loss``.

    For each image of a mask (nonzero: the object; images as in ``distance_transform``),
    ``φ = D_in`` outside the object, the distance to the nearest object element, and
    ``φ = 1 - D_out`` inside it, with ``D_out`` the distance to the nearest element outside:
    positive outside, 0 on the object's inner boundary (its elements next to the outside), and
    negative deeper inside. That is the authors' ``one_hot2dist``
    (``dist(neg)·neg - (dist(pos) - 1)·pos``, with SciPy's ``distance_transform_edt``), the
    ``1`` kept whatever the ``spacing``, as theirs. An image without object (an absent class)
    is 0, as theirs; an image that is all object has no outside to measure from and is 0 too
    (theirs holds distances to a point beyond the array there). NaN in a floating input is NaN.
    The map is exact (``distance_transform``'s transform), jit-safe and has no gradient.

    Args:
        labels_or_mask: a mask (bool, integer or floating; one-hot targets included), or with
            ``num_classes`` class indices (integers, or floats with integral values).
        axis: the spatial axes of ``labels_or_mask``, over which distances are measured; None
            for every axis.
        spacing: the grid spacing: None (1), one number, or one per axis of ``axis``.
        num_classes: None for a mask; ``C`` for class indices, one-hot encoded to ``C`` maps
            on a new axis at ``class_axis`` of the result. An index outside ``[0, C)`` raises
            eagerly (no class's object under a trace).
        class_axis: where the new class axis goes (with ``num_classes``): -1 gives
            ``(B, H, W, C)`` maps of ``(B, H, W)`` labels, 1 gives ``(B, C, H, W)``.
        dtype: the result's floating dtype; None: float64 for a float64 input, else float32.

    Returns:
        ``φ``: the mask's shape, or the labels' with ``C`` on ``class_axis``.

    Reference:
        Kervadec et al., "Boundary loss for highly unbalanced segmentation", MIDL 2019 and
        Medical Image Analysis 67, 2021; github.com/LIVIAETS/boundary-loss.

    Example:
        >>> import numpy as np
        >>> mask = np.array([[0, 0, 1, 1, 1, 0]])
        >>> signed_distance_map(mask, axis=1).tolist()
        [[2.0, 1.0, 0.0, -1.0, 0.0, 1.0]]
        >>> signed_distance_map(np.array([0, 1, 1]), axis=0, num_classes=2).tolist()
        [[0.0, 1.0], [1.0, 0.0], [2.0, -1.0]]
    """
    xp = array_namespace(labels_or_mask=labels_or_mask)
    _checks.check_known_rank(labels_or_mask=labels_or_mask)
    source = labels_or_mask
    kind = _kind(source, "labels_or_mask", xp)
    chosen = _dtype(source, dtype, xp)
    shape = _checks.shape_of(source)
    if num_classes is None:
        inside = source != 0 if kind != "bool" else source
        phi = signed_map(inside, pairs(axis, spacing, shape), chosen, xp)
        return _with_nan(phi, source, kind, xp)
    inside, axes = _encoded(source, kind, axis, spacing, num_classes, class_axis, xp)
    phi = signed_map(inside, axes, chosen, xp)
    if kind != "real floating":
        return phi
    position = _checks.normalize_class_axis(class_axis, (*shape, num_classes))
    return _with_nan(phi, xp.expand_dims(source, axis=position), kind, xp)


def _encoded(
    labels: Array, kind: str, axis: Any, spacing: Any, num_classes: Any, class_axis: Any,
    xp: Namespace,
) -> tuple[Array, Axes]:  # fmt: skip
    """The one-hot ``labels`` (boolean, the classes on ``class_axis``) and the spatial axes in
    the encoded array."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be None or an int >= 1, got {num_classes!r}.")
    if kind == "bool":
        raise TypeError(
            "signed_distance_map(num_classes=...) takes class indices (integers or floats with "
            "integral values), got a bool array: pass a bool mask without num_classes."
        )
    shape = _checks.shape_of(labels)
    position = _checks.normalize_class_axis(class_axis, (*shape, num_classes))
    given = pairs(axis, spacing, shape)
    indices = _labels.class_indices(labels, num_classes, xp)
    if is_concrete(labels):
        _check_indices(labels, indices, kind, num_classes, xp)
    classes = xp.arange(num_classes, dtype=indices.dtype, device=device_of(indices, xp))
    classes = xp.reshape(classes, (num_classes,) + (1,) * (len(shape) - position))
    inside = xp.expand_dims(indices, axis=position) == classes
    return inside, tuple((a if a < position else a + 1, step) for a, step in given)


def _check_indices(
    labels: Array, indices: Array, kind: str, num_classes: int, xp: Namespace
) -> None:
    """Eagerly: integral values (NaN passes: it makes the maps NaN) in ``[0, num_classes)``."""
    if kind == "real floating":
        defined = xp.where(labels == labels, labels, xp.zeros_like(labels))
        if bool(xp.any(defined != xp.floor(defined))):
            raise ValueError(
                "signed_distance_map(num_classes=...) takes class indices, but labels_or_mask "
                "holds non-integral values: pass a mask without num_classes."
            )
    outside = (indices < 0) | (indices >= num_classes)
    if bool(xp.any(outside)):
        low = int(xp.min(indices))
        found = low if low < 0 else int(xp.max(indices))
        raise ValueError(
            f"labels_or_mask holds class indices outside [0, {num_classes}) (found {found}): "
            f"num_classes={num_classes} must exceed every label."
        )


def _kind(x: Array, name: str, xp: Namespace) -> str:
    kind = _checks.dtype_kind(x.dtype, xp)
    if kind is None:
        raise TypeError(f"{name} must have a bool, integer or floating dtype, got {x.dtype}.")
    return kind


def _dtype(x: Array, dtype: Any, xp: Namespace) -> Any:
    if dtype is None:
        return xp.float64 if x.dtype == xp.float64 else xp.float32
    if _checks.dtype_kind(dtype, xp) != "real floating":
        raise TypeError(f"dtype must be None or a real floating dtype, got {dtype!r}.")
    return dtype


def _with_nan(result: Array, source: Array, kind: str, xp: Namespace) -> Array:
    """NaN where a floating ``source`` (broadcast against ``result``) is NaN."""
    if kind != "real floating":
        return result
    return xp.where(source == source, result, xp.full_like(result, math.nan))
