"""The state of the Keras metrics (issue 16), run by ``test_keras.py`` once per backend: a class
count other than ``num_classes`` raises naming both shapes, a per-pixel ``sample_weight`` raises
naming ``sample_weight``, four threads lose no count, and ``result()`` before any update is the
score of empty statistics."""

from __future__ import annotations

import copy
import re
import sys
import threading
import warnings

import keras
import numpy as np
import pytest

import xploss.keras as xk
from xploss._registry import METRICS

NAMES = sorted(METRICS)


def batch(classes=3, n=2, seed=0, size=4):
    """Probabilities ``(n, size, size, classes)`` and class indices ``(n, size, size)``."""
    rng = np.random.default_rng(seed)
    probabilities = rng.random((n, size, size, classes)).astype("float32")
    return rng.integers(0, classes, (n, size, size)), probabilities


def sums(metric):
    return [keras.ops.convert_to_numpy(v.value) for v in metric.stats]


# 6. num_classes fixes the number of classes of every batch.


@pytest.mark.parametrize(("classes", "other"), [(3, 4), (1, 3), (3, 1)])
def test_a_batch_with_another_class_count_raises_naming_num_classes(classes, other):
    metric = xk.DiceCoefficient(num_classes=classes)
    metric.update_state(*batch(classes))
    held = sums(metric)
    message = (
        rf"DiceCoefficient\(num_classes={classes}\) got y_pred of shape \(2, 4, 4, {other}\), "
        rf"with {other} classes on class_axis=-1, but its state of shape \({classes},\) holds"
    )
    labels, probabilities = batch(other)
    with pytest.raises(ValueError, match=message):
        metric.update_state(labels, probabilities)
    with pytest.raises(ValueError, match=message):
        metric.update_state(np.eye(other)[labels], probabilities)  # one-hot targets
    for before, after in zip(held, sums(metric), strict=True):
        np.testing.assert_array_equal(before, after)


def test_pooled_metrics_take_any_class_count():
    metric = xk.DiceCoefficient()  # num_classes=None: no class axis in the state
    for classes in (3, 4, 1):
        labels, probabilities = batch(classes)
        metric.update_state(np.eye(classes)[labels], probabilities)
    assert 0 < float(metric.result()) < 1


# 17. A per-pixel sample_weight is named as the user wrote it.


@pytest.mark.parametrize("shape", [(2, 4, 4), (2, 4, 4, 1), (3,), (2, 2)])
def test_a_per_pixel_sample_weight_raises_naming_sample_weight(shape):
    labels, probabilities = batch()
    message = re.escape(
        f"sample_weight must have shape (batch,) or (batch, 1); got sample_weight of shape "
        f"{shape} for y_pred of shape (2, 4, 4, 3)"
    )
    for metric in (xk.DiceCoefficient(num_classes=3), xk.Precision()):
        with pytest.raises(ValueError, match=message):
            metric.update_state(labels, probabilities, sample_weight=np.ones(shape, "float32"))


def test_a_per_sample_weight_weighs_each_sample():
    labels, probabilities = batch(n=3)
    weight = np.array([1.0, 0.0, 2.0], dtype="float32")
    expected = xk.DiceCoefficient(num_classes=3)
    expected.update_state(labels[[0, 2, 2]], probabilities[[0, 2, 2]])
    for given in (weight, weight[:, None], np.float32(2.0)):
        metric = xk.DiceCoefficient(num_classes=3)
        metric.update_state(labels, probabilities, sample_weight=given)
        if given.ndim == 0:  # one weight for every sample: the same ratios
            expected_value = xk.DiceCoefficient(num_classes=3)
            expected_value.update_state(labels, probabilities)
            assert float(metric.result()) == pytest.approx(float(expected_value.result()))
        else:
            assert float(metric.result()) == pytest.approx(float(expected.result()), rel=1e-6)


# 9. Eager updates from four threads lose no count.


def test_four_threads_count_as_one():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    batches = [batch(seed=seed) for seed in range(4)]
    threaded, serial = xk.Precision(num_classes=3), xk.Precision(num_classes=3)
    updates, errors = 40, []

    def work(data):
        try:
            for _ in range(updates):
                threaded.update_state(*data)
                threaded.result()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    try:
        threads = [threading.Thread(target=work, args=(data,)) for data in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert not errors, errors
    for data in batches:
        for _ in range(updates):
            serial.update_state(*data)
    for got, want in zip(sums(threaded), sums(serial), strict=True):
        np.testing.assert_array_equal(got, want)  # counts: exact in any order


def test_a_copy_updates_on_its_own():
    metric = xk.DiceCoefficient(num_classes=3)
    other = copy.deepcopy(metric)
    other.update_state(*batch())
    assert float(metric.result()) == 1.0 and float(other.result()) < 1.0


# 10. result() before any update: the score of empty statistics, silently.


@pytest.mark.parametrize("name", NAMES)
def test_result_before_any_update_is_zero_division(name):
    cls = getattr(xk, METRICS[name].class_name)
    for metric in (cls(), cls(num_classes=3), cls(num_classes=2, zero_division=0.25)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert float(metric.result()) == metric.zero_division
        metric.update_state(*batch(metric.num_classes or 3))
        metric.reset_state()
        assert float(metric.result()) == metric.zero_division
    assert float(xk.DiceCoefficient(smooth_nr=1, smooth_dr=2).result()) == 0.5
