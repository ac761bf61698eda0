"""Exact Euclidean distance transforms, written once in the array API (``_distance_maps.py``
holds the public helpers built on them).

The squared distance transform is separable (Felzenszwalb & Huttenlocher 2012; Meijster et al.
2000): with ``f`` 0 at the sites and "infinite" elsewhere, one pass per axis computes
``d'(x) = min_x' (d(x') + s²·(x - x')²)`` (``s`` the spacing of that axis), and after the last
pass ``d`` is the squared distance to the nearest site over those axes. Each pass here is a
broadcast minimum over the ``(n, n)`` table of squared offsets: no sort, no scan, no loop over
values, so it runs unchanged under ``jax.jit``, ``torch.compile(fullgraph=True)`` and
``tf.function(jit_compile=True)`` and on every device. It is exact: the offsets are whole
multiples of the spacing, and the squared distances of a unit grid are integers (exact in
float32 up to 2^24). "Infinite" is a finite ``far``, larger than twice any real squared distance
of the image, so that no ``inf - inf`` or ``inf·0`` ever arises; what stays at or above
``limit`` after the passes belongs to an image without a site.

Cost: a pass over an axis of size ``n`` takes ``N·n`` operations for an array of ``N`` elements
(``O(N·Σn)`` for all axes, where Meijster's scan takes ``O(N)``) and is computed in blocks of
output positions whose broadcast holds at most ``BUDGET`` elements (256 MiB in float32):
a block holds at most ``max(N, BUDGET)`` elements, whatever the sizes (``N`` for an axis of
``n > BUDGET / N``, in ``n`` blocks: the graph of a compiled call grows with them).
"""

from __future__ import annotations

import math
import numbers

from xploss import _checks
from xploss._namespace import Array, Namespace, device_of

BUDGET = 1 << 26
"""The most elements of one block of the broadcast ``d(x') + s²·(x - x')²``."""

Axes = tuple[tuple[int, float], ...]
"""``(axis, spacing)`` pairs, axes ascending and non-negative."""


def squared_distances(
    sites: Array, axes: Axes, dtype: object, xp: Namespace
) -> tuple[Array, float]:
    """The squared distance from each element to the nearest site (``sites`` true) of its image,
    over ``axes``, and the ``limit`` below which a distance is real: an image (the elements that
    share their indices on every other axis) without a site holds values ``>= limit``."""
    shape = _checks.shape_of(sites)
    sizes = [_known_size(shape, axis) for axis, _ in axes]
    reach = sum([(step * (n - 1)) ** 2 for (_, step), n in zip(axes, sizes, strict=True)])
    limit = 2.0 * (reach + 1.0)
    far = 2.0 * limit
    d = (1 - xp.astype(sites, dtype)) * far  # exactly 0 at the sites and far elsewhere
    if 0 in sizes:
        return d, limit  # no element: nothing to compute (a pass would take an empty minimum)
    for (axis, step), n in zip(axes, sizes, strict=True):
        d = _lower_envelope(d, axis, n, step, xp)
    return d, limit


def _known_size(shape: _checks.Shape, axis: int) -> int:
    size = shape[axis]
    if size is None:
        raise ValueError(
            f"the distance transform runs over axis {axis}, whose size is unknown in an array "
            f"of shape {shape}: give that axis a known size (a TensorFlow graph traced with "
            "tf.TensorSpec([None, 64, 64, 1]) rather than [None, None, None, 1])."
        )
    return size


def _lower_envelope(d: Array, axis: int, n: int, step: float, xp: Namespace) -> Array:
    """One pass: ``min_x' (d(x') + step²·(x - x')²)`` along ``axis`` (of size ``n``)."""
    shape = _checks.shape_of(d)
    position = xp.arange(n, dtype=d.dtype, device=device_of(d, xp))
    offset = xp.reshape(position, (n, 1)) - xp.reshape(position, (1, n))
    table = offset * offset if step == 1.0 else (offset * offset) * (step * step)
    trailing = (1,) * (len(shape) - axis - 1)
    source = xp.expand_dims(d, axis=axis)  # x' on axis + 1, the output positions x on axis
    elements = math.prod([s for s in shape if s is not None])
    rows = max(1, BUDGET // max(elements, 1))
    blocks = []
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        block = xp.reshape(table[start:stop, :], (stop - start, n, *trailing))
        blocks.append(xp.min(source + block, axis=axis + 1))
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=axis)


def nearest_other(inside: Array, axes: Axes, dtype: object, xp: Namespace) -> tuple[Array, Array]:
    """``(squared, valid)``: the squared distance from each element to the nearest element of
    the other kind (an inside element to the nearest outside one, and the reverse) over
    ``axes``, 0 where ``valid`` is false: in an image that holds one kind only (all inside or
    all outside), where no such element exists. ``inside`` is boolean."""
    both = xp.stack([xp.logical_not(inside), inside], axis=0)  # the sites of each kind
    shifted = tuple((axis + 1, step) for axis, step in axes)
    squared, limit = squared_distances(both, shifted, dtype, xp)
    other = xp.where(inside, squared[0, ...], squared[1, ...])
    valid = other < limit
    return xp.where(valid, other, xp.zeros_like(other)), valid


def signed_map(inside: Array, axes: Axes, dtype: object, xp: Namespace) -> Array:
    """Kervadec et al.'s signed distance map of the boolean ``inside``: the distance to the
    object outside it, ``1 -`` the distance to the outside inside it, 0 in an image that holds
    one kind only."""
    squared, valid = nearest_other(inside, axes, dtype, xp)
    distance = xp.sqrt(squared)
    signed = xp.where(inside, 1 - distance, distance)
    return xp.where(valid, signed, xp.zeros_like(signed))


def pairs(axis: object, spacing: object, shape: _checks.Shape) -> Axes:
    """``axis`` (None: every axis) and ``spacing`` (None, one number, or one per axis of
    ``axis`` in the order written) as ``(axis, spacing)`` pairs, checked against ``shape``."""
    ndim = len(shape)
    _checks.normalize_axis(axis, shape)  # range, repeats and types, with the standard message
    written = range(ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else [axis]
    normalized = [int(a) % ndim for a in written]  # type: ignore[arg-type]
    if spacing is None:
        steps = [1.0] * len(normalized)
    elif isinstance(spacing, (tuple, list)):
        if len(spacing) != len(normalized):
            raise ValueError(
                f"spacing={spacing!r} has {len(spacing)} entries, but axis={axis!r} names "
                f"{len(normalized)} axes of an array of shape {shape}: give one spacing per "
                "axis, in the order of axis, or one number for every axis."
            )
        steps = [_step(s, spacing) for s in spacing]
    else:
        steps = [_step(spacing, spacing)] * len(normalized)
    return tuple(sorted(zip(normalized, steps, strict=True)))


def _step(value: object, spacing: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"spacing must be None, a number or a sequence of numbers; got {spacing!r}."
        )
    step = float(value)
    if not 0 < step < math.inf:
        raise ValueError(f"spacing={spacing!r} must hold finite numbers > 0.")
    return step
