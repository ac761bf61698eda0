"""Every registered function, parametrized over the registry: a new loss or metric is covered
here without a new test. Each is public, documented and validated from its options record, and
every backend (eager and compiled) gives the float64 NumPy values and gradients of the others."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xploss
from tests.strategies import cases, tolerance
from xploss import _confusion, _validators
from xploss._registry import FUNCTIONS, LOSSES, METRICS

NAMES = sorted(FUNCTIONS)
# Values that no validator accepts, by validator.
BAD_VALUES = {
    "flag": "yes",
    "nonnegative": -1.0,
    "positive": 0.0,
    "real": "x",
    "integer": 1.5,
    "optional_real": "x",
    "activation": "relu",
    "callable_or_none": 3,
    "weights": -1.0,
    "optional_integer": 1.5,
    "score_name": "no-such-score",
    "positive_integer": 0,
    "probability_threshold": 1.5,
    "exclusive_activation": "sigmoid",
    "smoothing_factor": 1.5,
}


def case(seed: int = 0, shape=(2, 5, 6, 3), dtype=np.float64):
    """Channels-last logits and class indices, and the options that make every function apply
    (softmax over the last axis, one value per image and class)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape).astype(dtype)
    labels = rng.integers(0, shape[-1], shape[:-1])
    return labels, logits


def options_for(name: str) -> dict[str, object]:
    options: dict[str, object] = {"from_logits": "softmax", "axis": (1, 2)}
    if name.startswith("generalized_dice"):
        options["axis"] = (1, 2)  # the class axis stays
    if name == "overlap_stats":
        options["axis"] = (0, 1, 2)
    fields = FUNCTIONS[name].options.names
    if "axis" not in fields:  # the confusion metrics: per image, then over the images
        del options["axis"]
        options["aggregation_level"] = "samplewise"
        if "average" in fields:
            options["average"] = "weighted"
    return options


def as_numpy(result) -> np.ndarray:
    if isinstance(result, tuple):
        return np.stack([np.asarray(r, dtype=np.float64) for r in result])
    return np.asarray(result, dtype=np.float64)


@pytest.mark.parametrize("name", NAMES)
def test_every_function_is_public_documented_and_signed_by_its_record(name):
    function = FUNCTIONS[name]
    assert getattr(xploss, name) is function
    parameters = inspect.signature(function).parameters
    fields = [f.name for f in dataclasses.fields(function.options)]
    assert list(parameters)[:3] == ["y_true", "y_pred", "mask"]
    assert list(parameters)[3:] == fields
    defaults = function.options()
    for field in fields:
        assert parameters[field].default == getattr(defaults, field)
        assert parameters[field].kind is inspect.Parameter.KEYWORD_ONLY
    assert ">>>" in (function.__doc__ or "")


@pytest.mark.parametrize("name", NAMES)
def test_unknown_options_are_named_with_the_valid_ones(name):
    labels, logits = case()
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'smoth_nr'.*class_axis"):
        FUNCTIONS[name](labels, logits, smoth_nr=1.0)


def bad_options(name: str):
    for field in dataclasses.fields(FUNCTIONS[name].options):
        check = field.metadata["check"]
        key = check.__qualname__.split(".")[0]
        if key == "choice":
            yield field.name, "no-such-choice"
        elif key in BAD_VALUES:
            yield field.name, BAD_VALUES[key]


@pytest.mark.parametrize(
    ("name", "option", "value"),
    [(n, o, v) for n in NAMES for o, v in bad_options(n)],
)
def test_every_option_rejects_a_bad_value_by_name(name, option, value):
    labels, logits = case()
    with pytest.raises((TypeError, ValueError), match=option):
        FUNCTIONS[name](labels, logits, **{option: value})


def test_every_validator_has_a_bad_value():
    validators = {
        f.metadata["check"].__qualname__.split(".")[0]
        for function in FUNCTIONS.values()
        for f in dataclasses.fields(function.options)
    }
    assert validators - {"choice", "axis"} <= set(BAD_VALUES), validators - set(BAD_VALUES)
    assert all(hasattr(_validators, name) or hasattr(_confusion, name) for name in BAD_VALUES)


@pytest.mark.parametrize("name", NAMES)
def test_every_backend_gives_the_numpy_value(name, backend):
    labels, logits = case(seed=1)
    options = options_for(name)
    expected = as_numpy(FUNCTIONS[name](labels, logits, **options))
    y_true, y_pred = backend.asarray(labels), backend.asarray(logits)
    result = backend.call(FUNCTIONS[name], y_true, y_pred, **options)
    if isinstance(result, tuple):
        got = np.stack([backend.to_numpy(r) for r in result])
    else:
        got = backend.to_numpy(result)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_has_the_same_gradient_on_every_autodiff_backend(name, autodiff_backend):
    labels, logits = case(seed=2)
    options = options_for(name)
    reference = _central_difference(FUNCTIONS[name], labels, logits, options)
    backend = autodiff_backend
    got = backend.grad(FUNCTIONS[name], backend.asarray(labels), backend.asarray(logits), **options)
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-7)


def _central_difference(function, labels, logits, options, step=1e-6):
    gradient = np.zeros_like(logits)
    flat, out = logits.reshape(-1), gradient.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + step
        up = float(function(labels, logits, **options))
        flat[i] = saved - step
        down = float(function(labels, logits, **options))
        flat[i] = saved
        out[i] = (up - down) / (2 * step)
    return gradient


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_has_a_functional_counterpart_with_the_same_options(name):
    metric = METRICS[name]
    function = FUNCTIONS[metric.name]
    functional_fields = {f.name for f in dataclasses.fields(function.options)}
    metric_fields = {f.name for f in dataclasses.fields(metric.options)}
    assert metric_fields <= functional_fields, metric_fields - functional_fields


def drawn_options(name: str, case) -> dict[str, object]:
    """The drawn case as options of ``name``: only those its record has."""
    fields = FUNCTIONS[name].options.names
    options = {"class_axis": case.class_axis, "from_logits": case.from_logits}
    if "axis" in fields:  # the confusion metrics choose their sums by aggregation_level
        options["axis"] = case.axis
    if "smooth_nr" in fields:
        options |= {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
    return options


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10)  # x 18 functions x 5 backends; the families' own suites go wider
@given(data=st.data())
def test_every_eager_backend_agrees_with_numpy_on_drawn_cases(name, eager_backend, data):
    """Random ranks, shapes, axes, class axes, targets, logits, dtypes and masks: every eager
    backend gives NumPy's value for the same inputs (itself checked against the float64 oracle,
    family by family, in test_properties.py), so a registered function is covered on every
    backend as it is added."""
    keep_class_axis = name.startswith(("generalized_dice", "lovasz_softmax"))
    # The soft skeleton runs over an image: an axis besides the batch and the classes.
    min_dims = 3 if "spatial_axes" in FUNCTIONS[name].options.names else 1
    drawn = cases(min_dims=min_dims, keep_class_axis=keep_class_axis, allow_weight=False)
    case = data.draw(drawn)
    options = drawn_options(name, case)
    function = FUNCTIONS[name]
    exact = function(case.y_true, case.y_pred, mask=case.mask, **options)
    backend = eager_backend
    mask = None if case.mask is None else backend.asarray(case.mask)
    result = function(
        backend.asarray(case.y_true), backend.asarray(case.y_pred), mask=mask, **options
    )
    got = (
        np.stack([backend.to_numpy(r) for r in result])
        if isinstance(result, tuple)  # overlap_stats, confusion_stats
        else (backend.to_numpy(result))
    )
    np.testing.assert_allclose(got, as_numpy(exact), **tolerance(case.dtype))
