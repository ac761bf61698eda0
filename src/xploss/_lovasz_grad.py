"""The Lovász extension of the Jaccard loss (Berman et al., CVPR 2018, Algorithm 1) over rankings:
the sort, the gathers and the Jaccard increments, in the array API only.

A ranking is every element of the ranked axes: ``errors`` are sorted in decreasing order (a stable
sort: tied errors keep their order, as PyTorch's sort keeps it up to 16 elements), and the loss is
``Σ_k r_k·(J_k - J_{k-1})`` with ``r`` the sorted errors (the hinge takes their positive part)
and ``J_k = 1 - I_k / U_k`` the Jaccard loss of predicting the first ``k`` elements wrong:
``I_k = G - Σ_{j<=k} w_j·y_j`` and ``U_k = G + Σ_{j<=k} w_j·(1 - y_j)``, ``G = Σ_j w_j·y_j``.

The weights ``w`` (the mask) leave elements out without a data-dependent shape: an element of
weight 0 adds nothing to either sum, so ``J`` does not change at its position (its increment is
exactly 0, its gradient too) and the increments of the others are those of the ranking without it,
wherever the sort puts it: the loss of the kept elements alone, as smp's, which removes them.
``J`` of an empty prefix of a ranking without foreground (``U = 0``) is 0: ``Δ(∅) = 0``.
"""

from __future__ import annotations

from typing import Any

from xploss._checks import sizes
from xploss._namespace import Array, Namespace, gathers


def lovasz_losses(
    errors: Array,
    target: Array,
    weight: Array | None,
    axes: tuple[int, ...],
    xp: Namespace,
    *,
    hinge: bool,
) -> Array:
    """The Lovász extension of each ranking of ``errors`` over ``axes`` (``errors`` without them:
    one loss per ranking). ``target`` holds 0/1 and ``weight`` broadcasts to ``errors``."""
    shape = sizes(errors)
    kept = tuple(a for a in range(len(shape)) if a not in axes)
    kept_shape = tuple(shape[a] for a in kept)
    if 0 in tuple(shape[a] for a in axes):  # rankings of no element: loss 0
        return xp.sum(errors, axis=axes) * 0
    order = (*kept, *axes)
    rows, length = _product(kept_shape), _product(tuple(shape[a] for a in axes))
    if rows is None and length is None:
        raise _unknown(shape)
    flat = (-1 if rows is None else rows, -1 if length is None else length)

    def rank(x: Array) -> Array:
        return xp.reshape(xp.permute_dims(x, order), flat)

    e = rank(errors)
    y = rank(target)
    w = None if weight is None else rank(weight * xp.ones_like(errors))
    # (rows, length) arrays: axis 1, not -1, which TensorFlow's take_along_axis cannot
    # differentiate under XLA (its permutation of a negative axis is computed in a cond).
    permutation = xp.argsort(e, axis=1, descending=True, stable=True)
    e, y = _gather(e, permutation, length, xp), _gather(y, permutation, length, xp)
    if w is None:
        foreground, background = y, 1 - y
    else:
        w = _gather(w, permutation, length, xp)
        foreground = y * w
        background = w - foreground
    total = xp.sum(foreground, axis=1, keepdims=True)
    after_foreground = xp.cumulative_sum(foreground, axis=1)
    after_background = xp.cumulative_sum(background, axis=1)
    jaccard = _jaccard(total - after_foreground, total + after_background, xp)
    # J_(k-1): J shifted by one, J_0 = 0 (the empty prefix); the increments telescope exactly.
    before = xp.concat([xp.zeros_like(jaccard[:, :1]), jaccard[:, :-1]], axis=1)
    if hinge:  # max(e, 0) with torch.relu's zero gradient at 0, NaN kept
        e = xp.where(e <= 0, xp.zeros_like(e), e)
    losses = xp.sum(e * (jaccard - before), axis=1)
    return xp.reshape(losses, _known(kept_shape))


def _jaccard(intersection: Array, union: Array, xp: Namespace) -> Array:
    """``1 - I/U``, 0 where ``U = 0`` (an empty prefix of a ranking without foreground)."""
    empty = union == 0
    safe = xp.where(empty, xp.ones_like(union), union)
    return xp.where(empty, xp.zeros_like(union), 1 - intersection / safe)


def _gather(x: Array, permutation: Array, length: Any, xp: Namespace) -> Array:
    """``x`` permuted along its last axis: ``take_along_axis`` where the namespace has it, else
    one ``take`` of the flattened array at the permutation plus each row's offset (array API
    2023.12, whose sizes are always known)."""
    if gathers(xp):
        return xp.take_along_axis(x, permutation, axis=1)
    start = xp.cumulative_sum(xp.ones_like(permutation[:, :1]), axis=0) - 1
    flat = xp.reshape(permutation + start * length, (-1,))
    return xp.reshape(xp.take(xp.reshape(x, (-1,)), flat, axis=0), sizes(x))


def _product(values: tuple[Any, ...]) -> Any:
    """The product of sizes (ints or symbolic sizes), None if one is unknown."""
    total: Any = 1
    for v in values:
        if v is None:
            return None
        total = total * v
    return total


def _known(shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """A shape for ``reshape``: one unknown size (a TensorFlow graph's batch) becomes -1."""
    if sum(d is None for d in shape) > 1:
        raise _unknown(shape)
    return tuple(-1 if d is None else d for d in shape)


def _unknown(shape: tuple[Any, ...]) -> ValueError:
    return ValueError(
        f"the Lovász losses flatten each ranking of y_pred (sizes {shape}, None where unknown), "
        "which needs the sizes of every axis but one while a graph is traced (a TensorFlow "
        "graph with several unknown sizes): give the input a static shape, or one unknown axis."
    )
