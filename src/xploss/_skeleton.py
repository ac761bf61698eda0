"""Soft morphology over any number of spatial axes: the soft skeleton of clDice.

The array API standard has no pooling, so the 3-wide windows are built from shifted slices,
one spatial axis at a time (``concat`` pads the axis with copies of its two border elements).
Values and gradients are those of the reference code (the clDice authors', MONAI's
``soft_erode``, ``soft_dilate``, ``soft_skel``), which pool with ``max_pool2d``/``max_pool3d``
at stride 1 and padding 1:

* the padding of ``max_pool`` is ``-inf``, so a window that leaves the image holds only the
  pixels inside it: the border is neither eroded nor dilated by anything outside. Padding with
  a copy of the border element is the same, values and gradients: the copy before the first
  element is compared with that element itself, and the copy after the last loses its ties;
* soft erosion is the minimum of ``k`` 1-D erosions (a 3-cross in 2-D: 3x1 and 1x3 windows),
  folded pairwise from the first spatial axis (``torch.min(torch.min(p1, p2), p3)``), and each
  pairwise minimum splits its gradient in halves where both sides are equal (``torch.min``);
* soft dilation is the maximum over the full ``3^k`` window, separable into 1-D maxima;
* at equal values the gradient goes where ``max_pool``'s goes: to the first maximum of the
  window in row-major order (PyTorch's CPU kernel keeps the first index of the largest value).
  Reducing the last spatial axis first and each axis' earlier neighbour winning ties gives that
  same element.

Every selection is a ``where`` (the halves of a tie are ``(a + a)·0.5 = a``), so the results
are exact copies of input values, ``x - open(x)`` is exactly 0 where it should be, and every
backend takes the same subgradient. NaN propagates: it reaches the skeleton where it was.
Nothing here reads a value or a size, so it runs under ``jax.jit``, ``torch.compile(fullgraph=
True)`` and ``tf.function(jit_compile=True)``, with symbolic sizes too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xploss._checks import normalize_axis, shape_of
from xploss._namespace import Array, Namespace, array_namespace

Compare = Callable[[Array, Array], Array]


def _along(axis: int, part: slice, ndim: int) -> tuple[slice, ...]:
    return (slice(None),) * axis + (part,) + (slice(None),) * (ndim - axis - 1)


def _window(x: Array, axis: int, earlier: Compare, later: Compare, xp: Namespace) -> Array:
    """The extreme of each element and its two neighbours along ``axis`` (the border's own
    copies beyond it): ``earlier(a, b)`` says whether the previous element ``a`` replaces
    ``b`` (it wins ties), ``later(a, b)`` whether the next one does (it loses them)."""
    n = x.ndim
    first, last = x[_along(axis, slice(0, 1), n)], x[_along(axis, slice(-1, None), n)]
    padded = xp.concat([first, x, last], axis=axis)
    before = padded[_along(axis, slice(None, -2), n)]
    after = padded[_along(axis, slice(2, None), n)]
    best = xp.where(earlier(before, x), before, x)
    return xp.where(later(after, best), after, best)


def _at_least(a: Array, b: Array) -> Array:
    return a >= b


def _above(a: Array, b: Array) -> Array:
    return a > b


def _at_most(a: Array, b: Array) -> Array:
    return a <= b


def _below(a: Array, b: Array) -> Array:
    return a < b


def _minimum(a: Array, b: Array, xp: Namespace) -> Array:
    """``torch.min(a, b)``: the smaller, half the gradient to each side where they are equal
    (``(a + a)/2`` is ``a`` exactly); NaN where either is."""
    return xp.where(a < b, a, xp.where(b < a, b, (a + b) * 0.5))


def _axes(x: Array, axes: int | Sequence[int]) -> tuple[int, ...]:
    chosen = normalize_axis(tuple(axes) if isinstance(axes, Sequence) else axes, shape_of(x))
    if not chosen:
        raise ValueError(f"axes=() names no spatial axis of an input of shape {shape_of(x)}.")
    return chosen


def soft_erode(x: Array, axes: int | Sequence[int], xp: Namespace | None = None) -> Array:
    """Soft erosion over ``axes``: the minimum over the cross of each element and its two
    neighbours along each axis (MONAI's ``soft_erode``: 3x1 and 1x3 min-pools in 2-D)."""
    xp = array_namespace(x=x) if xp is None else xp
    eroded = None
    for axis in _axes(x, axes):
        along = _window(x, axis, _at_most, _below, xp)
        eroded = along if eroded is None else _minimum(eroded, along, xp)
    return eroded


def soft_dilate(x: Array, axes: int | Sequence[int], xp: Namespace | None = None) -> Array:
    """Soft dilation over ``axes``: the maximum over the ``3^k`` window of each element
    (MONAI's ``soft_dilate``: a 3x3 or 3x3x3 max-pool)."""
    xp = array_namespace(x=x) if xp is None else xp
    for axis in reversed(_axes(x, axes)):
        x = _window(x, axis, _at_least, _above, xp)
    return x


def soft_open(x: Array, axes: int | Sequence[int], xp: Namespace | None = None) -> Array:
    """Soft opening: ``soft_dilate(soft_erode(x))``."""
    xp = array_namespace(x=x) if xp is None else xp
    return soft_dilate(soft_erode(x, axes, xp), axes, xp)


def _relu(x: Array, xp: Namespace) -> Array:
    # 0 for x <= 0 with a zero slope at 0 (F.relu's); NaN passes.
    return xp.where(x <= 0, xp.zeros_like(x), x)


def soft_skeleton(
    x: Array, axes: int | Sequence[int], iter_: int = 3, xp: Namespace | None = None
) -> Array:
    """The soft skeleton of Shit et al. (2021), MONAI's ``soft_skel(x, iter_)``, over ``axes``.

    ``skel = relu(x - open(x))``; then ``iter_`` times: ``x = erode(x)``,
    ``delta = relu(x - open(x))``, ``skel += relu(delta - skel·delta)``. The erosion inside
    each opening is the next iteration's ``x``, computed once (MONAI computes it twice: the
    same values and gradients, half the erosions).

    Args:
        x: values in [0, 1] (probabilities, or a 0/1 mask), any shape.
        axes: the spatial axes, an int or a sequence of ints (negative ones count from the
            end); every other axis (batch, channels) is a separate image.
        iter_: the number of erosions, >= 0.
        xp: the namespace of ``x`` (found from ``x`` by default).

    Returns:
        The soft skeleton, of ``x``'s shape and dtype.

    Example:
        >>> import numpy as np
        >>> bar = np.zeros((5, 7))
        >>> bar[1:4, 1:6] = 1.0  # a bar 3 pixels thick: its skeleton is on the middle row
        >>> soft_skeleton(bar, axes=(0, 1), iter_=1)[1:4, 1:6].tolist()
        [[0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
    """
    xp = array_namespace(x=x) if xp is None else xp
    chosen = _axes(x, axes)
    eroded = soft_erode(x, chosen, xp)
    skeleton = _relu(x - soft_dilate(eroded, chosen, xp), xp)
    for _ in range(iter_):
        x = eroded
        eroded = soft_erode(x, chosen, xp)
        delta = _relu(x - soft_dilate(eroded, chosen, xp), xp)
        skeleton = skeleton + _relu(delta - skeleton * delta, xp)
    return skeleton
