"""Validators of option values: each returns the normalised value or raises an error that names
the option, the value and the valid choices. They run once, when a record is built."""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

from xploss import _values
from xploss._namespace import array_namespace, is_concrete

REDUCTIONS = ("mean", "sum", "none", "per_sample")
WEIGHT_TYPES = ("square", "simple", "uniform")
ACTIVATIONS = {False: None, True: "sigmoid", "sigmoid": "sigmoid", "softmax": "softmax"}

Check = Callable[[object, str], Any]
"""A validator: ``check(value, name)`` returns the normalised value or raises, naming ``name``."""


def real(value: object, name: str) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    if isinstance(value, bool) or not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r}.")
    return float(value)  # type: ignore[arg-type]


def _is_real(value: object) -> bool:
    # Python and NumPy scalars (np.float32(0.5) is a numbers.Real); never an array, whose value
    # would be read (and which breaks a trace).
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def nonnegative(value: object, name: str) -> float:
    number = real(value, name)
    if not 0 <= number < math.inf:  # comparisons only: a traced number has no isfinite
        raise ValueError(f"{name}={value!r} must be a finite number >= 0.")
    return number


def positive(value: object, name: str) -> float:
    number = real(value, name)
    if not 0 < number < math.inf:
        raise ValueError(f"{name}={value!r} must be a finite number > 0.")
    return number


def optional_real(value: object, name: str) -> float | None:
    return None if value is None else real(value, name)


def probability_threshold(value: object, name: str) -> float | None:
    """None, or a number strictly between 0 and 1 (NaN is not)."""
    number = optional_real(value, name)
    if number is not None and not 0 < number < 1:
        raise ValueError(
            f"{name}={value!r} must be None (soft predictions) or a number in (0, 1): "
            f"probabilities above it count as positive predictions."
        )
    return number


def flag(value: object, name: str) -> bool:
    """A switch is a Python bool: ``bool("False")`` is True, and an array has no truth value
    while a function is traced."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return value


def integer(value: object, name: str) -> int:
    if not isinstance(value, bool):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise TypeError(f"{name} must be an int, got {value!r}.")


def optional_integer(value: object, name: str) -> int | None:
    return None if value is None else integer(value, name)


def positive_integer(value: object, name: str) -> int | None:
    number = optional_integer(value, name)
    if number is not None and number < 1:
        raise ValueError(f"{name}={value!r} must be None or an int >= 1.")
    return number


def axis(value: object, name: str) -> Any:
    """Kept as the user wrote it (a list too), so that an error can quote it: only the input's
    shape tells the valid axes (``_checks.normalize_axis``)."""
    return value


def choice(*choices: str) -> Check:
    def check(value: object, name: str) -> str:
        if not isinstance(value, str) or value not in choices:
            valid = ", ".join(repr(c) for c in choices)
            raise ValueError(f"{name}={value!r} is not one of {valid}.")
        return value

    return check


def activation(value: object, name: str) -> bool | str:
    if isinstance(value, (bool, str)) and value in ACTIVATIONS:
        return value
    raise ValueError(
        f"{name}={value!r} is not one of False (probabilities), True or 'sigmoid' "
        "(independent labels), 'softmax' (mutually exclusive classes over class_axis)."
    )


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
        if is_concrete(value):
            _values.check_nonnegative(name, value, array_namespace(**{name: value}))
        return value
    if isinstance(value, (list, tuple)):
        return tuple(weights(v, name) for v in value)
    number = real(value, name)
    if not 0 <= number < math.inf:
        raise ValueError(f"{name} must hold finite values >= 0, got {value!r}.")
    return number
