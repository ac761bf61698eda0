"""The array namespace of JAX arrays that the core uses: ``jax.numpy`` plus ``jax.nn``'s softmax and
``lax.clamp``. Under ``jax.jit`` on the CPU, forward and backward of a softmax Dice at 16×256²×4
take 219 ms with the standard's max-shift, exp, sum and divide and ``jnp.clip``, 172 ms with
``jax.nn.softmax`` (its own derivative rule), and 117 ms with ``lax.clamp`` in place of
``jnp.clip`` as well, whose gradient XLA does not fuse: optax's ``dice_loss`` takes 119 ms."""

from __future__ import annotations

import types
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

jax_namespace = types.ModuleType("xploss.jax_namespace")
vars(jax_namespace).update(vars(jnp))
jax_namespace.__name__ = "xploss.jax_namespace"


def softmax(x: Any, axis: int) -> Any:
    return jax.nn.softmax(x, axis=axis)


def clamp(x: Any, *, min: float | None = None, max: float | None = None) -> Any:
    if min is None or max is None:  # lax.clamp takes both bounds
        return jnp.clip(x, min=min, max=max)
    return lax.clamp(jnp.asarray(min, x.dtype), x, jnp.asarray(max, x.dtype))


jax_namespace.softmax = softmax  # type: ignore[attr-defined]
jax_namespace.clamp = clamp  # type: ignore[attr-defined]
