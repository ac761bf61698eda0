"""The backends every test body runs on: one record per array library (and jitted variant).

A backend converts NumPy arrays in and out, calls a function (eagerly or compiled) and, where the
library differentiates, returns the gradient with respect to ``y_pred``. Options are bound with
``functools.partial`` so that a compiler sees them as Python constants, as a user's jitted step
does.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

STRICT_API_VERSION = "2023.12"


@dataclass(frozen=True)
class Backend:
    name: str
    library: str
    asarray: Callable[[np.ndarray], Any]
    to_numpy: Callable[[Any], np.ndarray]
    call: Callable[..., Any]
    grad: Callable[..., np.ndarray] | None = None
    compiled: bool = False

    def __repr__(self) -> str:
        return self.name


def _eager(fn, *arrays, **options):
    return fn(*arrays, **options)


def numpy_backend() -> Backend:
    return Backend("numpy", "numpy", np.asarray, np.asarray, _eager)


def strict_backend() -> Backend:
    import array_api_strict as xs

    xs.set_array_api_strict_flags(api_version=STRICT_API_VERSION)
    return Backend(
        "array_api_strict",
        "array_api_strict",
        xs.asarray,
        lambda x: np.from_dlpack(x),
        _eager,
    )


def torch_backend(compiled: bool = False) -> Backend:
    import torch

    def asarray(a: np.ndarray):
        return torch.from_numpy(np.array(a, copy=True, order="C"))

    def to_numpy(x):
        return x.detach().to(torch.float64).numpy() if x.is_floating_point() else x.numpy()

    def call(fn, *arrays, **options):
        target = functools.partial(fn, **options)
        if compiled:
            torch._dynamo.reset()
            target = torch.compile(target, fullgraph=True, dynamic=False)
        return target(*arrays)

    def grad(fn, y_true, y_pred, **options):
        pred = y_pred.detach().clone().requires_grad_(True)
        value = call(fn, y_true, pred, **options)
        (gradient,) = torch.autograd.grad(value, pred)
        return to_numpy(gradient)

    name = "torch-compile" if compiled else "torch"
    return Backend(name, "torch", asarray, to_numpy, call, grad, compiled=compiled)


def jax_backend(compiled: bool = False) -> Backend:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def to_numpy(x):
        x = np.asarray(x)
        return x.astype(np.float64) if x.dtype.kind == "f" or x.dtype.name == "bfloat16" else x

    def call(fn, *arrays, **options):
        target = functools.partial(fn, **options)
        return (jax.jit(target) if compiled else target)(*arrays)

    def grad(fn, y_true, y_pred, **options):
        target = functools.partial(fn, **options)
        gradient = jax.grad(lambda p: target(y_true, p))
        return to_numpy((jax.jit(gradient) if compiled else gradient)(y_pred))

    name = "jax-jit" if compiled else "jax"
    return Backend(name, "jax", jnp.asarray, to_numpy, call, grad, compiled=compiled)


def tensorflow_backend(compiled: bool = False) -> Backend:
    import tensorflow as tf

    def to_numpy(x):
        x = np.asarray(x)
        return x.astype(np.float64) if x.dtype.kind == "f" or x.dtype.name == "bfloat16" else x

    def compile_or_not(target):
        return tf.function(target, jit_compile=True) if compiled else target

    def call(fn, *arrays, **options):
        return compile_or_not(functools.partial(fn, **options))(*arrays)

    def grad(fn, y_true, y_pred, **options):
        target = functools.partial(fn, **options)

        def gradient(t, p):
            with tf.GradientTape() as tape:
                tape.watch(p)
                value = target(t, p)
            return tape.gradient(value, p)

        return to_numpy(compile_or_not(gradient)(y_true, y_pred))

    name = "tf-function" if compiled else "tensorflow"
    return Backend(
        name, "tensorflow", tf.convert_to_tensor, to_numpy, call, grad, compiled=compiled
    )


FACTORIES: dict[str, tuple[str, Callable[[], Backend]]] = {
    "numpy": ("numpy", numpy_backend),
    "array_api_strict": ("array_api_strict", strict_backend),
    "torch": ("torch", torch_backend),
    "torch-compile": ("torch", functools.partial(torch_backend, compiled=True)),
    "jax": ("jax", jax_backend),
    "jax-jit": ("jax", functools.partial(jax_backend, compiled=True)),
    "tensorflow": ("tensorflow", tensorflow_backend),
    "tf-function": ("tensorflow", functools.partial(tensorflow_backend, compiled=True)),
}


AUTODIFF = ("torch", "torch-compile", "jax", "jax-jit", "tensorflow", "tf-function")


def selected_names() -> list[str]:
    """All backends, or the comma-separated subset in ``XPLOSS_TEST_BACKENDS``."""
    chosen = os.environ.get("XPLOSS_TEST_BACKENDS")
    names = list(FACTORIES) if not chosen else [n.strip() for n in chosen.split(",")]
    unknown = set(names) - set(FACTORIES)
    if unknown:
        raise ValueError(f"unknown backends {sorted(unknown)}; choose from {list(FACTORIES)}")
    return names


def installed(name: str) -> bool:
    return importlib.util.find_spec(FACTORIES[name][0]) is not None


@functools.cache
def make(name: str) -> Backend:
    return FACTORIES[name][1]()
