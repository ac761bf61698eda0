"""The ``psum`` all-reduce of the statistics over a named mapped axis."""

from __future__ import annotations

from collections.abc import Callable

import jax

from xploss._statistics import OverlapStats

__all__ = ["all_reduce"]


def all_reduce(axis_name: str | tuple[str, ...]) -> Callable[[OverlapStats], OverlapStats]:
    """The callable that sums the statistics over the named mapped axis (``jax.lax.psum``).

    Inside ``shard_map``, ``pmap`` or ``vmap(..., axis_name=...)``, pass
    ``all_reduce=xploss.jax.all_reduce("batch")`` to get the Dice of the global batch. Plain
    ``jax.jit`` on sharded arrays needs nothing: the sums already span the global array.

    Example: each of two mapped "devices" holds one image, and both get the Dice of the pair.

        >>> import jax
        >>> import jax.numpy as jnp
        >>> import xploss
        >>> y_true = jnp.array([[1.0, 0.0], [1.0, 1.0]])
        >>> y_pred = jnp.array([[0.9, 0.2], [0.6, 0.3]])
        >>> def dice(y, p):
        ...     return xploss.dice_coefficient(
        ...         y, p, smooth_nr=0, smooth_dr=0, all_reduce=all_reduce("batch")
        ...     )
        >>> [round(float(d), 6) for d in jax.vmap(dice, axis_name="batch")(y_true, y_pred)]
        [0.72, 0.72]
    """

    def summed(stats: OverlapStats) -> OverlapStats:
        return type(stats)(*(jax.lax.psum(s, axis_name) for s in stats))  # type: ignore[no-untyped-call]

    return summed
