"""The Flax NNX metrics declared from the registry: one class per entry of ``METRICS``, its options
in ``repr`` and the signature, two updates (eager and jitted) equal to the functional counterpart
on the concatenated data, float32 state without x64 (bfloat16 logits included), float64 with it,
and probabilities by default."""

from __future__ import annotations

import importlib
import inspect
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
nnx = pytest.importorskip("flax.nnx")

import xploss  # noqa: E402
import xploss.jax as xj  # noqa: E402
from xploss._options import field_names  # noqa: E402
from xploss._registry import METRICS  # noqa: E402
from xploss.jax import metrics as flax_metrics  # noqa: E402

NAMES = sorted(METRICS)
CLASSES = 3
SHAPE = (2, 6, 6, CLASSES)


def metric_class(name):
    return getattr(xj, METRICS[name].class_name)


def states(metric):
    return [metric.tp[...], metric.sum_true[...], metric.sum_pred[...]]


def functional_options(name, **changes):
    """The function's options that make it the metric's value: hard at 0.5, unsmoothed, the
    metric's ``zero_division``."""
    function = getattr(xploss, name)
    options = {"threshold": 0.5, "zero_division": metric_class(name)().options.zero_division}
    if "smooth_nr" in field_names(function.options):
        options.update(smooth_nr=0.0, smooth_dr=0.0)
    return function, {**options, **changes}


@pytest.fixture(scope="module", autouse=True)
def without_x64():
    """The backends of the other tests turn x64 on for the whole process."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", previous)


@nnx.jit
def jitted_step(metrics, logits, labels):
    metrics.update(logits=logits, labels=labels)
    return metrics.compute()


def batches():
    """Two batches of one shape (one compilation): logits and class indices."""
    rng = np.random.default_rng(0)
    logits = [rng.normal(0, 2, SHAPE).astype(np.float32) for _ in range(2)]
    labels = [rng.integers(0, CLASSES, SHAPE[:-1]).astype(np.int32) for _ in range(2)]
    return logits, labels


def every_metric(suffix="", **options):
    return {name + suffix: metric_class(name)(**options) for name in NAMES}


@pytest.fixture(scope="module")
def accumulated(without_x64):
    """Every metric, pooled and per class, after an eager and a jitted update."""
    logits, labels = batches()
    metrics = nnx.MultiMetric(
        **every_metric("_pooled", from_logits="softmax"),
        **every_metric("_per_class", num_classes=CLASSES, from_logits="softmax"),
    )
    metrics.update(logits=jnp.asarray(logits[0]), labels=jnp.asarray(labels[0]))
    values = jitted_step(metrics, logits[1], labels[1])
    values = {name: float(value) for name, value in values.items()}
    return values, np.concatenate(logits), np.concatenate(labels)  # the function in NumPy


def test_every_registered_metric_has_a_flax_class():
    assert sorted(flax_metrics.__all__) == sorted(e.class_name for e in METRICS.values())
    for entry in METRICS.values():
        cls = getattr(xj, entry.class_name)
        assert cls is getattr(flax_metrics, entry.class_name)
        assert issubclass(cls, nnx.metrics.Metric) and cls.entry is entry
        assert ">>>" in (cls.__doc__ or "")


@pytest.mark.parametrize("name", NAMES)
def test_repr_and_signature_show_the_options(name):
    cls = metric_class(name)
    default = repr(cls())
    assert default.startswith(f"{cls.__name__}(") and "threshold=0.5" in default  # a real number
    assert "from_logits" not in default and "num_classes" not in default
    changed = cls(num_classes=4, from_logits="softmax", class_axis=1)
    assert "from_logits='softmax'" in repr(changed) and "num_classes=4" in repr(changed)
    assert "class_axis=1" in str(changed)
    assert (changed.num_classes, changed.from_logits, changed.class_axis) == (4, "softmax", 1)
    parameters = inspect.signature(cls).parameters
    assert parameters["from_logits"].default is False
    assert parameters["num_classes"].default is None
    assert parameters["threshold"].default == 0.5
    assert "axis" not in parameters  # decided by num_classes


@pytest.mark.parametrize("name", NAMES)
def test_options_are_validated_once_in_the_constructor(name):
    cls = metric_class(name)
    with pytest.raises(ValueError, match="num_classes=0"):
        cls(num_classes=0)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        cls(num_classes=2.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        cls(axis=(1, 2))
    with pytest.raises(ValueError, match="from_logits"):
        cls(from_logits="relu")


@pytest.mark.parametrize("axis", [None, (0, 1, 2)], ids=["pooled", "per_class"])
@pytest.mark.parametrize("name", NAMES)
def test_two_updates_equal_the_function_on_the_concatenated_data(accumulated, name, axis):
    values, logits, labels = accumulated
    function, options = functional_options(name, from_logits="softmax")
    expected = function(labels, logits, axis=axis, **options)  # per class: their mean
    kind = "pooled" if axis is None else "per_class"
    np.testing.assert_allclose(values[f"{name}_{kind}"], float(expected), rtol=1e-6)


def test_per_class_values_are_not_the_pooled_ones(accumulated):
    values = accumulated[0]
    assert any(abs(values[f"{n}_pooled"] - values[f"{n}_per_class"]) > 1e-3 for n in NAMES)


def test_state_is_float32_without_x64_and_for_bfloat16_logits():
    assert not jax.config.jax_enable_x64
    logits, labels = batches()
    metrics = nnx.MultiMetric(**every_metric(num_classes=CLASSES, from_logits="softmax"))
    values = jitted_step(metrics, jnp.asarray(logits[0], jnp.bfloat16), labels[0])
    for name in NAMES:
        metric = getattr(metrics, name)
        assert [s.dtype for s in states(metric)] == [jnp.float32] * 3, name
        assert float(jnp.sum(metric.sum_true[...])) == np.prod(SHAPE[:-1])
        assert values[name].dtype == jnp.float32
        metric.reset()
        assert [s.dtype for s in states(metric)] == [jnp.float32] * 3, name
        assert float(jnp.sum(metric.sum_true[...])) == 0


def test_state_is_float64_with_x64():
    jax.config.update("jax_enable_x64", True)
    try:
        metrics = nnx.MultiMetric(dice=xj.DiceCoefficient(from_logits=True))
        logits, labels = jnp.array([0.5, -1.0], jnp.bfloat16), jnp.array([1, 0])
        assert float(jitted_step(metrics, logits, labels)["dice"]) == 1.0
        assert [s.dtype for s in states(metrics.dice)] == [jnp.float64] * 3
    finally:
        jax.config.update("jax_enable_x64", False)


def test_inputs_are_probabilities_by_default():
    """0.1.0 took logits by default in Flax only; now every metric takes probabilities."""
    labels = np.array([1, 1, 0, 0, 0])
    probabilities = np.array([0.3, 0.9, 0.2, 0.0, 0.0], np.float32)  # as logits: 1, 1, 1, 0, 0
    metrics = nnx.MultiMetric(**every_metric())
    values = jitted_step(metrics, jnp.asarray(probabilities), jnp.asarray(labels))
    for name in NAMES:
        assert getattr(metrics, name).options.from_logits is False
        function, options = functional_options(name)
        as_probabilities = float(function(labels, probabilities, from_logits=False, **options))
        as_logits = float(function(labels, probabilities, from_logits=True, **options))
        assert abs(as_probabilities - as_logits) > 0.1, name  # the inputs tell them apart
        assert float(values[name]) == pytest.approx(as_probabilities, rel=1e-6), name


def test_num_classes_must_match_the_class_axis():
    metric = xj.DiceCoefficient(num_classes=CLASSES)
    with pytest.raises(ValueError, match=r"num_classes=3\) got logits of shape \(2, 4\)"):
        metric.update(logits=jnp.zeros((2, 4)), labels=jnp.zeros((2, 4)))


def test_import_xploss_jax_does_not_import_flax(monkeypatch):
    monkeypatch.setitem(sys.modules, "flax", None)  # any import of Flax fails
    importlib.reload(xj)
    assert xj.DiceCoefficient is flax_metrics.DiceCoefficient  # loaded already: no import
