"""The class options in Keras (issue 17), run by ``test_keras.py`` once per Keras backend: every
loss class takes ``include_background`` and ``ignore_index`` from the core, ignores
``include_background=False`` on a single channel with a warning, and leaves class 0 and the
ignored label out as the functional API does."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import xploss
import xploss.keras as xk
from xploss._registry import LOSSES

RNG = np.random.default_rng(17)


def value(x):
    return np.asarray(keras.ops.convert_to_numpy(x), np.float64)


WITH_BACKGROUND = [e for e in LOSSES.values() if "include_background" in e.options.names]


@pytest.mark.parametrize("entry", WITH_BACKGROUND, ids=lambda e: e.class_name)
def test_include_background_false_on_one_channel_is_ignored_with_a_warning(entry):
    cls = getattr(xk, entry.class_name)
    target = (RNG.random((2, 5, 6, 1)) < 0.5).astype("float32")
    probs = RNG.random((2, 5, 6, 1)).astype("float32")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got = value(cls(include_background=False)(target, probs))
    assert any("include_background=False is ignored" in str(w.message) for w in seen)
    np.testing.assert_allclose(got, value(cls()(target, probs)), rtol=1e-6)


def test_include_background_and_ignore_index_are_the_cores():
    labels = RNG.integers(0, 3, (2, 5, 6)).astype("int32")
    labels[:, 0] = 255
    probs = RNG.random((2, 5, 6, 3)).astype("float32")
    probs /= probs.sum(-1, keepdims=True)
    loss = xk.DiceLoss(include_background=False, ignore_index=255)
    expected = xploss.dice_loss(
        labels, probs, axis=(1, 2, 3), include_background=False, mask=labels != 255
    )
    np.testing.assert_allclose(value(loss(labels, probs)), float(expected), rtol=1e-5)
    config = loss.get_config()
    assert config["include_background"] is False and config["ignore_index"] == 255
