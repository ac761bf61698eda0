"""Validators of option values: each returns the normalised value or raises an error that names
the option, the value and the valid choices. They run once, when a record is built."""

from __future__ import annotations

import math
import numbers
import operator
import sys
from collections.abc import Callable, Mapping
from typing import Any

from xploss import _values
from xploss._namespace import array_namespace, is_concrete

REDUCTIONS = ("mean", "sum", "none", "per_sample")
WEIGHT_TYPES = ("square", "simple", "uniform")
ACTIVATIONS = {False: None, True: "sigmoid", "sigmoid": "sigmoid", "softmax": "softmax"}

Check = Callable[[object, str], Any]
"""A validator: ``check(value, name)`` returns the normalised value or raises, naming ``name``."""


def real(value: object, name: str) -> Any:
    """A Python float, from a Python or NumPy number or a 0-d array whose value can be read; a
    traced 0-d array (a schedule inside ``jax.jit``) is kept as it is, for arithmetic."""
    if type(value) is float or type(value) is int:
        return float(value)
    if _is_real(value):
        return float(value)  # type: ignore[arg-type]
    if _scalar_kind(value) in ("i", "u", "f"):
        return float(value) if is_concrete(value) else value  # type: ignore[arg-type]
    raise TypeError(f"{name} must be a real number, got {value!r}.{_static_hint(value, name)}")


def _is_real(value: object) -> bool:
    # Python and NumPy scalars (np.float32(0.5) is a numbers.Real).
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, _numpy_bool()))


def _is_array(value: object) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _scalar_kind(value: Any) -> str | None:
    """The kind of a 0-d array's dtype; None for anything else."""
    return _kind(value) if _is_array(value) and tuple(value.shape) == () else None


def _kind(value: Any) -> str:
    """NumPy's kind letter of an array's dtype (JAX's dtypes are NumPy's); PyTorch's from its
    flags. ``"?"`` where it cannot be told."""
    dtype = value.dtype
    kind = getattr(dtype, "kind", None)
    if isinstance(kind, str):
        return kind
    if str(dtype) in ("torch.bool", "<dtype: 'bool'>"):
        return "b"
    if getattr(dtype, "is_floating_point", False) or getattr(dtype, "is_floating", False) is True:
        return "f"
    return "i" if getattr(dtype, "is_signed", None) is not None else "?"


def _numpy_bool() -> type:
    numpy = sys.modules.get("numpy")
    return bool if numpy is None else numpy.bool_


def _traced(value: object) -> bool:
    return _is_array(value) and not is_concrete(value)


def _static_hint(value: object, name: str) -> str:
    if not _traced(value):
        return ""
    return (
        f" {name} is traced: jax.jit traces every argument it is not told is static, and "
        f"{name} must be known while the function is traced. Mark it static, "
        f"jax.jit(f, static_argnames=({name!r},)), or bind it first with functools.partial."
    )


def nonnegative(value: object, name: str) -> Any:
    number = real(value, name)
    if isinstance(number, float) and not 0 <= number < math.inf:  # no isfinite: Dynamo traces it
        raise ValueError(f"{name}={value!r} must be a finite number >= 0.")
    return number


def positive(value: object, name: str) -> Any:
    number = real(value, name)
    if isinstance(number, float) and not 0 < number < math.inf:
        raise ValueError(f"{name}={value!r} must be a finite number > 0.")
    return number


def optional_real(value: object, name: str) -> float | None:
    return None if value is None else real(value, name)


def probability_threshold(value: object, name: str) -> float | None:
    """None, or a number strictly between 0 and 1 (NaN is not)."""
    number = optional_real(value, name)
    if isinstance(number, float) and not 0 < number < 1:
        raise ValueError(
            f"{name}={value!r} must be None (soft predictions) or a number in (0, 1): "
            f"probabilities above it count as positive predictions."
        )
    return number


def flag(value: object, name: str) -> bool:
    """A switch is a Python or NumPy bool: ``bool("False")`` is True, and an array has no truth
    value while a function is traced."""
    if isinstance(value, bool):
        return value
    if isinstance(value, _numpy_bool()):  # a NumPy scalar, never an array (it may be traced)
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}.{_static_hint(value, name)}")


def integer(value: object, name: str) -> int:
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise TypeError(f"{name} must be an int, got {value!r}.{_static_hint(value, name)}")


def optional_integer(value: object, name: str) -> int | None:
    return None if value is None else integer(value, name)


def positive_integer(value: object, name: str) -> int | None:
    number = optional_integer(value, name)
    if number is not None and number < 1:
        raise ValueError(f"{name}={value!r} must be None or an int >= 1.")
    return number


def axis(value: object, name: str) -> Any:
    """Kept as the user wrote it (a list too), so that an error can quote it: only the input's
    shape tells the valid axes (``_checks.normalize_axis``). NumPy integers become ints, which a
    config can store."""
    entries = value if isinstance(value, (list, tuple)) else (value,)
    if all(type(entry) is int for entry in entries):  # the common spelling, checked at once
        return value
    for entry in entries:
        if _traced(entry):
            raise TypeError(f"{name} must hold ints, got {value!r}.{_static_hint(entry, name)}")
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_integer(a) for a in value)
    return _plain_integer(value)


def _plain_integer(value: object) -> object:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return value


def choice(*choices: str) -> Check:
    def check(value: object, name: str) -> str:
        if not isinstance(value, str) or value not in choices:
            valid = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{name}={value!r} is not one of {valid}.")
        return value

    return check


def activation(value: object, name: str) -> bool | str:
    if isinstance(value, _numpy_bool()):
        value = bool(value)
    if isinstance(value, (bool, str)) and value in ACTIVATIONS:
        return value
    if _traced(value):
        raise TypeError(
            f"{name} must be a bool or a str, got {value!r}.{_static_hint(value, name)}"
        )
    raise ValueError(
        f"{name}={value!r} is not one of False (probabilities), True or 'sigmoid' "
        "(independent labels), 'softmax' (mutually exclusive classes over class_axis)."
    )


def exclusive_activation(value: object, name: str) -> bool | str:
    """The activation of mutually exclusive classes: ``False`` (probabilities), ``True`` or
    ``"softmax"`` (logits; both mean the softmax). A sigmoid is for independent channels."""
    checked = activation(value, name)
    if checked == "sigmoid" and value is not True:
        raise ValueError(
            f"{name}={value!r}: the classes of a cross-entropy are mutually exclusive, so logits "
            "go through a softmax over class_axis (from_logits=True or 'softmax'). For "
            "independent channels (multi-label) use binary_cross_entropy(from_logits=True)."
        )
    return "softmax" if checked is True else checked


def smoothing_factor(value: object, name: str) -> Any:
    """Label smoothing's ε, a number in [0, 1]."""
    number = real(value, name)
    if isinstance(number, float) and not 0 <= number <= 1:
        raise ValueError(f"{name}={value!r} must be a number in [0, 1].")
    return number


def callable_or_none(value: object, name: str) -> Callable[..., Any] | None:
    if value is not None and not callable(value):
        raise TypeError(
            f"{name} must be a callable that takes and returns the statistics, or None; "
            f"got {type(value).__name__}."
        )
    return value


def weights(value: object, name: str) -> Any:
    """``None``, non-negative numbers (nested lists become tuples), or an array, whose values
    are checked where they can be read (eagerly; never under a trace)."""
    if value is None:
        return value
    if not isinstance(value, (list, tuple)) and not _is_real(value):
        if not (hasattr(value, "shape") and hasattr(value, "dtype")):
            hint = ""
            if isinstance(value, Mapping):  # Keras fit's class_weight={class: weight}
                hint = " For a dict {class: weight}, pass [weights[c] for c in range(C)]."
            raise TypeError(
                f"{name} must be None, a number >= 0, a sequence of them or an array; got "
                f"{type(value).__name__} {value!r}.{hint}"
            )
        if is_concrete(value):
            _values.check_nonnegative(name, value, array_namespace(**{name: value}))
        return value
    if isinstance(value, (list, tuple)):
        return tuple(weights(v, name) for v in value)
    number = real(value, name)
    if isinstance(number, float) and not 0 <= number < math.inf:  # no isfinite: Dynamo traces it
        raise ValueError(f"{name} must hold finite values >= 0, got {value!r}.")
    return number
