"""Namespace layer: find the array API namespace of the caller's arrays.

Detection never imports a framework: TensorFlow is recognised only if the caller has already
imported it (``sys.modules``), as einops and array-api-compat do, and everything else goes through
``array_api_compat.array_namespace``, which is just as lazy.
"""

from __future__ import annotations

import sys
from typing import Any, TypeAlias

import array_api_compat

Array: TypeAlias = Any
Namespace: TypeAlias = Any


def _is_tensorflow(x: object) -> bool:
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(x, (tf.Tensor, tf.Variable))


def _library(x: object) -> str:
    module = type(x).__module__.split(".")[0]
    return f"{module}.{type(x).__qualname__}"


# Namespaces by the set of array types: a plain dict rather than array-api-compat's lru_cache,
# which torch.compile cannot trace (it warns and traces through the uncached function).
# Adapters register their framework's namespace up front with ``register_namespace``.
_BY_TYPES: dict[frozenset[type], Namespace] = {}


def register_namespace(array_type: type, xp: Namespace) -> None:
    _BY_TYPES[frozenset((array_type,))] = xp


def array_namespace(**arrays: Array | None) -> Namespace:
    """The namespace shared by the named arrays (``None`` entries are ignored).

    Raises ``TypeError`` naming every argument and its type when the arrays come from different
    libraries, or when one is not an array at all.
    """
    present = {name: a for name, a in arrays.items() if a is not None}
    types = frozenset(type(a) for a in present.values())
    known = _BY_TYPES.get(types)
    if known is not None:
        return known
    xp = _detect(present)
    _BY_TYPES[types] = xp
    return xp


def _torch_namespace(present: dict[str, Array]) -> Namespace | None:
    """array-api-compat's PyTorch namespace when every array is a tensor, found by type: its
    ``array_namespace`` goes through ``lru_cache`` helpers, on which ``torch.compile`` warns."""
    torch = sys.modules.get("torch")
    if torch is None or not all(isinstance(a, torch.Tensor) for a in present.values()):
        return None
    import array_api_compat.torch as compat_torch

    # Tensor subclasses (torch.export's functional tensors) get xploss.torch's namespace too.
    return _BY_TYPES.get(frozenset((torch.Tensor,)), compat_torch)


def _detect(present: dict[str, Array]) -> Namespace:
    torch_xp = _torch_namespace(present)
    if torch_xp is not None:
        return torch_xp
    tensorflow = {name: _is_tensorflow(a) for name, a in present.items()}
    if any(tensorflow.values()):
        if all(tensorflow.values()):
            from xploss import _tf_namespace

            return _tf_namespace
        raise _mixed_error(present)
    try:
        xp = array_api_compat.array_namespace(*present.values())
    except TypeError as error:
        raise _mixed_error(present) from error
    if array_api_compat.is_jax_namespace(xp):
        from xploss._jax_namespace import jax_namespace

        return jax_namespace
    return xp


def _mixed_error(arrays: dict[str, Array]) -> TypeError:
    described = ", ".join(f"{name} is {_library(a)}" for name, a in arrays.items())
    return TypeError(
        f"all arrays must come from one array library, but {described}. Convert them first "
        "(for example torch.as_tensor(y_true, device=y_pred.device) or jnp.asarray(y_true)); "
        "xploss accepts NumPy, PyTorch, JAX, TensorFlow, CuPy, Dask and array-api-strict arrays."
    )


def device_of(x: Array, xp: Namespace) -> Any:
    """The device to create new arrays on, next to ``x``; None for the library's default.

    PyTorch: ``x.device`` (array-api-compat's ``device()`` calls ``lru_cache`` helpers, which
    ``torch.compile`` warns about). JAX and TensorFlow: None, so that a new array is
    uncommitted and follows ``x``: the device of a JAX array sharded with ``NamedSharding`` is
    the sharding, on which a small ``arange`` cannot be laid out.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return x.device
    jax = sys.modules.get("jax")
    if getattr(xp, "is_tensorflow_namespace", False) or (
        jax is not None and isinstance(x, jax.Array)
    ):
        return None
    return array_api_compat.device(x)


def is_concrete(*arrays: Array | None) -> bool:
    """Whether the arrays' values can be read now: eager arrays outside any trace.

    False under ``jax.jit`` and ``jax.grad`` (tracers), ``torch.compile`` (FakeTensors, and
    ``torch.compiler.is_compiling()``), ``torch.jit.trace``, ``torch.func`` transforms, meta
    tensors, ``tf.function`` (``not tf.executing_eagerly()``) and for lazy or unknown arrays
    (Dask). Only the libraries the caller imported are looked at (``sys.modules``): a check that
    reads values runs where this is True and is skipped, never wrong, elsewhere.
    """
    torch = sys.modules.get("torch")
    if torch is not None and _torch_tracing(torch):
        return False
    return all(_concrete(a) for a in arrays if a is not None)


def _torch_tracing(torch: Any) -> bool:
    compiler = getattr(torch, "compiler", None)
    compiling = compiler is not None and compiler.is_compiling()
    return bool(compiling or torch.jit.is_tracing())


def _concrete(x: Array) -> bool:
    if type(x).__module__.split(".")[0] in ("numpy", "array_api_strict", "cupy"):
        return True
    if array_api_compat.is_torch_array(x):
        functorch = getattr(sys.modules["torch"]._C, "_functorch", None)
        wrapped = functorch is not None and functorch.is_functorch_wrapped_tensor(x)
        return not wrapped and x.device.type != "meta" and not _is_fake(x)
    if array_api_compat.is_jax_array(x):
        return not isinstance(x, sys.modules["jax"].core.Tracer)
    if _is_tensorflow(x):
        return bool(sys.modules["tensorflow"].executing_eagerly())
    return False


def _is_fake(x: Array) -> bool:
    fake = sys.modules.get("torch._subclasses.fake_tensor")
    return fake is not None and isinstance(x, fake.FakeTensor)


def can_warn() -> bool:
    """Whether ``warnings.warn`` may run: not while ``torch.compile`` traces (a graph break,
    an error with ``fullgraph=True``). Eagerly, and while JAX or TensorFlow trace, it does."""
    torch = sys.modules.get("torch")
    return torch is None or not _torch_tracing(torch)


def index_dtype(xp: Namespace) -> Any:
    """The namespace's default indexing dtype, which every gather takes (PyTorch's int64 only)."""
    return xp.__array_namespace_info__().default_dtypes()["indexing"]


def gathers(xp: Namespace) -> bool:
    """Whether ``xp`` has ``take_along_axis`` (array API 2024.12) at the version it runs
    (array-api-strict runs an older one unless its flags ask for it)."""
    if not hasattr(xp, "take_along_axis"):
        return False
    flags = getattr(xp, "get_array_api_strict_flags", None)
    version = flags()["api_version"] if flags is not None else "2024.12"
    return str(version) >= "2024.12"
