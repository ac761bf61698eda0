"""The generalized Wasserstein Dice loss (Fidon et al. 2017): a Dice whose errors are distances
between classes, from additive per-class sums."""

from __future__ import annotations

import math
from typing import Any

from xploss import _checks
from xploss._inputs import Inputs, aligned, prepare, with_nan
from xploss._namespace import Array, Namespace, array_namespace, device_of, is_concrete
from xploss._options import Axes, IgnoreIndex, Options, Reduced, Smoothing, Synced, option, record
from xploss._reductions import reduce, summed_over_devices
from xploss._registry import functional
from xploss._scores import smoothed_ratio
from xploss._statistics import sums_all_reduce, values_all_reduce
from xploss._validators import choice, weights

WEIGHTING_MODES = ("default", "GDL")
_MATRIX = "a C x C matrix of distances (an array, or C rows of C numbers)"


@record
class ClassDistances(Options):
    dist_matrix: object = option(
        None, weights, "C x C distances, row: true class, column: predicted (None: 1 - identity)"
    )
    weighting_mode: str = option(
        "default", choice(*WEIGHTING_MODES), "'default' (foreground 1, background 0) or 'GDL'"
    )

    def check_together(self) -> None:
        super().check_together()
        _check_matrix(self.dist_matrix)
        logits = getattr(self, "from_logits", False)
        if logits == "sigmoid":
            raise ValueError(
                "from_logits='sigmoid': the generalized Wasserstein Dice loss compares "
                "distributions over mutually exclusive classes, so logits go through a softmax "
                "over class_axis: pass from_logits=True or 'softmax' (MONAI's only form)."
            )
        if logits is True:  # the only activation of exclusive classes
            object.__setattr__(self, "from_logits", "softmax")


@record
class WassersteinOptions(Synced, Reduced, Smoothing, IgnoreIndex, ClassDistances, Axes):
    """``generalized_wasserstein_dice_loss``."""


def _check_matrix(matrix: object) -> None:
    """A square matrix, non-negative (checked by ``weights``), finite, with a zero diagonal and
    some positive distance; an array's values where they can be read."""
    if matrix is None:
        return
    if isinstance(matrix, tuple):
        rows = len(matrix)
        if (
            not rows
            or not all(isinstance(r, tuple) and len(r) == rows for r in matrix)
            or not all(type(v) is float for r in matrix for v in r)
        ):
            raise ValueError(f"dist_matrix must be {_MATRIX}; got {matrix!r}.")
        if any(matrix[i][i] != 0 for i in range(rows)):
            diagonal = [matrix[i][i] for i in range(rows)]
            raise ValueError(_diagonal_error(f"{rows} x {rows}", str(diagonal)))
        if rows > 1 and not any(v > 0 for r in matrix for v in r):
            raise ValueError(_zero_error(f"{rows} x {rows}"))
        return
    shape = _checks.shape_of(matrix) if hasattr(matrix, "shape") else ()
    if len(shape) != 2 or (None not in shape and shape[0] != shape[1]):
        raise ValueError(f"dist_matrix must be {_MATRIX}; got {_described(matrix, shape)}.")
    if not is_concrete(matrix):
        return
    m: Any = matrix
    xp = array_namespace(dist_matrix=m)
    rows, size = shape[0] or 0, f"{shape[0]} x {shape[1]}"  # a concrete array's sizes are known
    if _any((m != m) | (xp.abs(m) == math.inf), xp):
        raise ValueError(f"dist_matrix of shape {size} must hold finite distances.")
    index = xp.arange(rows, device=device_of(m, xp))
    diagonal = xp.reshape(index, (-1, 1)) == xp.reshape(index, (1, -1))
    if _any(diagonal & (m != 0), xp):
        raise ValueError(_diagonal_error(size, "a non-zero entry"))
    if rows > 1 and not _any(m > 0, xp):
        raise ValueError(_zero_error(size))


def _any(x: Array, xp: Namespace) -> bool:
    return bool(xp.any(x))  # concrete arrays only


def _described(matrix: object, shape: _checks.Shape) -> str:
    if hasattr(matrix, "shape"):
        return f"{type(matrix).__name__} of shape {shape}"
    return repr(matrix)


def _diagonal_error(size: str, found: str) -> str:
    return (
        f"dist_matrix ({size}) must have a zero diagonal: the distance of a class to itself is "
        f"0, so that a perfect prediction has no error; its diagonal holds {found}."
    )


def _zero_error(size: str) -> str:
    return (
        f"dist_matrix ({size}) holds no positive distance: every prediction would score the "
        "same. Give the distances between the classes (1 - identity when all are equally far)."
    )


def distance_matrix(matrix: object, inputs: Inputs) -> tuple[Array, int]:
    """``dist_matrix`` as a ``(C, C)`` array of the accumulation dtype, divided by its largest
    entry (MONAI's and the reference code's rule), ``1 - identity`` for None; and ``C``."""
    xp, p, class_axis = inputs.xp, inputs.y_pred, inputs.class_axis
    assert class_axis is not None
    shape = _checks.shape_of(p)
    classes = shape[class_axis]
    device = device_of(p, xp)
    if matrix is None:
        if classes is None:
            raise ValueError(
                f"generalized_wasserstein_dice_loss needs a known number of classes on "
                f"class_axis={class_axis} to build its default distances; y_pred has shape "
                f"{shape}. Pass dist_matrix=..."
            )
        index = xp.arange(classes, device=device)
        different = xp.reshape(index, (-1, 1)) != xp.reshape(index, (1, -1))
        return xp.astype(different, inputs.dtype), classes
    size: int | None
    if isinstance(matrix, tuple):
        size = len(matrix)
        top = max(max(row) for row in matrix)  # rows validated: C >= 1 of C numbers
        scaled = tuple(tuple(v / top for v in r) for r in matrix) if top > 0 else matrix
        array = xp.asarray(scaled, dtype=inputs.dtype, device=device)
    else:
        (matrix,) = aligned(p, dist_matrix=matrix)
        array_namespace(y_pred=p, dist_matrix=matrix)  # a TypeError for a mix
        _checks.check_dtypes(xp, dist_matrix=matrix)
        size = _checks.shape_of(matrix)[0]
        array = xp.astype(matrix, inputs.dtype, copy=False)
        top = xp.max(array)
        array = array / xp.where(top > 0, top, xp.ones_like(top))
    if classes is not None and size is not None and size != classes:
        raise ValueError(
            f"dist_matrix is {size} x {size}, but y_pred of shape {shape} has {classes} "
            f"classes on class_axis={class_axis}: give one row and one column per class."
        )
    known = classes if size is None else size
    if known is None:
        raise ValueError(
            f"generalized_wasserstein_dice_loss needs a known number of classes: y_pred has "
            f"shape {shape} (class_axis={class_axis}) and dist_matrix an unknown size."
        )
    return array, known


def wasserstein_sums(inputs: Inputs, matrix: Array, classes: int) -> tuple[Array, Array]:
    """``(V, E)`` summed over ``inputs.axes``, the class axis kept: the volume of each true
    class ``V_l = Σ y_l`` and its Wasserstein errors ``E_l = Σ y_l·(M p)_l``, where
    ``(M p)_l = Σ_c M[l, c]·p_c`` is the expected distance of the prediction to class ``l``."""
    xp, y, p, axes = inputs.xp, inputs.y_true, inputs.y_pred, inputs.axes
    class_axis = inputs.class_axis
    assert class_axis is not None
    column_shape = (classes,) + (1,) * (p.ndim - class_axis - 1)
    expected = xp.zeros_like(p)  # one column of M at a time: memory of p's size, not C times
    for c in range(classes):
        column = xp.reshape(matrix[:, c], column_shape)
        expected = expected + column * p[(slice(None),) * class_axis + (slice(c, c + 1), ...)]
    if inputs.mask is not None:
        y = y * inputs.mask
    volumes, errors = xp.sum(y, axis=axes), xp.sum(y * expected, axis=axes)
    if inputs.nan_probes:
        volumes, errors = with_nan(inputs, volumes, errors)
    return volumes, errors


def wasserstein_dice(
    volumes: Array, errors: Array, class_position: int, classes: int, options: Any, xp: Namespace
) -> Array:
    """``(2·TP + smooth_nr) / (denominator + smooth_dr)`` of the per-class sums, the classes on
    ``class_position``: ``TP = Σ_l α_l·(V_l - E_l)``; the denominator is ``2·TP + Σ_l E_l``
    (``"default"``, ``α = (0, 1, ..., 1)``) or ``Σ_l α_l·(2·V_l - E_l)`` (``"GDL"``,
    ``α_l = 1 / (V_l + 1)``)."""
    if options.weighting_mode == "GDL":
        alpha = 1 / (volumes + 1)
    else:
        shape = (classes,) + (1,) * (volumes.ndim - class_position - 1)
        index = xp.arange(classes, device=device_of(volumes, xp))
        alpha = xp.astype(xp.reshape(index, shape) > 0, volumes.dtype)
    true_positives = xp.sum(alpha * (volumes - errors), axis=class_position)
    if options.weighting_mode == "GDL":
        denominator = xp.sum(alpha * (2 * volumes - errors), axis=class_position)
    else:
        denominator = 2 * true_positives + xp.sum(errors, axis=class_position)
    numerator = 2 * true_positives + options.smooth_nr
    return smoothed_ratio(numerator, denominator + options.smooth_dr, options, xp)


@functional(WassersteinOptions, loss="GeneralizedWassersteinDiceLoss")
def generalized_wasserstein_dice_loss(
    y_true: Array, y_pred: Array, options: WassersteinOptions, mask: Array | None
) -> Array:
    """Generalized Wasserstein Dice loss ``1 - GWDS`` (Fidon et al. 2017).

    Each element's error is the Wasserstein distance between the target and the prediction over
    the class distances ``M``: for an element of class ``l``, ``W = Σ_c M[l, c]·p_c``. Summed
    over ``axis`` per true class, ``V_l = Σ y_l`` and ``E_l = Σ y_l·W``, and with weights
    ``α_l``, ``TP = Σ_l α_l·(V_l - E_l)`` and

        GWDS = (2·TP + smooth_nr) / (2·TP + Σ_l E_l + smooth_dr)        ("default")
        GWDS = (2·TP + smooth_nr) / (Σ_l α_l·(2·V_l - E_l) + smooth_dr)   ("GDL")

    ``"default"`` is the paper's: ``α`` is 0 for the background (class 0) and 1 for the other
    classes, so the background enters only through its errors. ``"GDL"`` (Tilborghs et al.
    2020) weighs each class by ``1 / (V_l + 1)``. ``M`` is divided by its largest entry, as in
    MONAI and the authors' code (only the ratios of the distances matter); ``M = 1 - identity``
    makes the loss a soft multi-class Dice. Soft targets score the expectation over labels drawn
    from them. An exact 0/0 (``smooth_dr = 0``, no error and no foreground) scores 1: loss 0.

    ``axis=None`` pools every element but the class axis (one score for the batch);
    ``(1, 2)`` on ``(B, H, W, C)`` gives one score per image. The classes are always combined:
    listing the class axis in ``axis`` changes nothing. ``all_reduce`` sums ``V`` and ``E``
    over the devices where ``axis`` holds the batch axis (the GDL weights then come from the
    global volumes), else combines the per-image values of ``"mean"`` and ``"sum"``.

    MONAI's ``GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode=w, reduction=r,
    smooth_nr=a, smooth_dr=b)(logits, labels)`` on ``(B, C, *spatial)`` is
    ``xploss.torch.GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode=w,
    reduction=r, smooth_nr=a, smooth_dr=b, from_logits="softmax")``, here ``axis`` of the
    spatial axes and ``class_axis=1``; ``reduction="none"`` is its ``(B,)``.

    Args:
        y_true, y_pred, axis, class_axis, smooth_nr, smooth_dr, mask, ignore_index, reduction,
        all_reduce, validate: as in ``generalized_dice_loss``; ``y_true`` holds class indices
            or targets of ``y_pred``'s shape.
        dist_matrix: ``M``, ``(C, C)`` non-negative with a zero diagonal, row ``l`` the
            distances of true class ``l`` to each predicted class: an array or nested
            sequence. None (default): 1 between any two different classes.
        weighting_mode: ``"default"`` or ``"GDL"``.
        from_logits: ``False`` (probabilities over ``class_axis``), or ``True``/``"softmax"``.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Fidon et al., "Generalised Wasserstein Dice Score for Imbalanced Multi-class
        Segmentation using Holistic Convolutional Networks", BrainLes 2017, arXiv:1707.00478;
        Tilborghs et al., arXiv:2007.15546 (2020), appendix ("GDL").

    Example:
        >>> import numpy as np
        >>> M = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.5, 0.0]]
        >>> labels = np.array([[0, 1, 2]])  # (B, W) class indices
        >>> y_pred = np.array([[[0.8, 0.1, 0.1], [0.1, 0.6, 0.3], [0.0, 0.5, 0.5]]])
        >>> loss = generalized_wasserstein_dice_loss(
        ...     labels, y_pred, dist_matrix=M, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss), 6)  # W = 0.2, 0.25, 0.25: 1 - 2·1.5 / (2·1.5 + 0.7) = 7/37
        0.189189
    """
    inputs = prepare(y_true, y_pred, options, mask, exclusive=True)
    class_axis = inputs.class_axis
    assert class_axis is not None
    inputs.axes = tuple(a for a in inputs.axes if a != class_axis)  # the classes: combined below
    xp = inputs.xp
    matrix, classes = distance_matrix(options.dist_matrix, inputs)
    volumes, errors = wasserstein_sums(inputs, matrix, classes)
    reducer = sums_all_reduce(inputs, options)
    if reducer is not None:
        volumes, errors = summed_over_devices(reducer, xp, volumes, errors)
    class_position = class_axis - sum(a < class_axis for a in inputs.axes)
    score = wasserstein_dice(volumes, errors, class_position, classes, options, xp)

    def empty() -> Array:  # the loss of no element: 1 - smooth_nr / smooth_dr (0 at 0/0)
        zero = xp.zeros_like(xp.sum(volumes))
        return 1 - smoothed_ratio(zero + options.smooth_nr, zero + options.smooth_dr, options, xp)

    synced = values_all_reduce(inputs, options)
    return reduce(
        1 - score, weight=None, reduction=options.reduction, xp=xp, empty=empty, all_reduce=synced
    )
