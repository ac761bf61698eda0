"""The input rules in Keras (issue 16), run by ``test_keras.py`` once per Keras backend: a
channel-less target of a single-channel prediction is its mask (soft values too), float class
indices are checked eagerly rather than floored, the arg-max after a softmax, NaN and the
``validate`` option in the losses and the stateful metrics."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import xploss
import xploss.keras as xk

RNG = np.random.default_rng(16)
LOSSES = [xk.DiceLoss, xk.JaccardLoss, xk.TverskyLoss, xk.BCEDiceLoss, xk.BinaryCrossEntropyLoss]
METRICS = [xk.DiceCoefficient, xk.JaccardIndex, xk.Precision, xk.TruePositiveRate]


def value(x):
    return np.asarray(keras.ops.convert_to_numpy(x), np.float64)


@pytest.mark.parametrize("cls", LOSSES)
def test_losses_read_a_channel_less_target_of_one_channel_as_its_mask(cls):
    mask = (RNG.random((3, 6, 6)) < 0.5).astype("float32")
    probs = np.clip(mask + RNG.normal(0, 0.2, mask.shape), 0, 1).astype("float32")[..., None]
    loss = cls()
    np.testing.assert_allclose(value(loss(mask, probs)), value(loss(mask[..., None], probs)), 1e-6)
    if cls is not xk.BinaryCrossEntropyLoss:
        assert value(cls(smooth_nr=0, smooth_dr=0)(mask, mask[..., None])) < 1e-5


def test_soft_channel_less_targets_survive():
    soft = RNG.random((2, 5, 5)).astype("float32")
    loss = xk.DiceLoss(soft_label=True)
    assert value(loss(soft, soft[..., None])) < 1e-6  # soft values, not cast to 0
    np.testing.assert_allclose(
        value(xk.BCEDiceLoss()(soft, soft[..., None] * 0.9)),
        value(xk.BCEDiceLoss()(soft[..., None], soft[..., None] * 0.9)),
        rtol=1e-6,
    )


@pytest.mark.parametrize("cls", METRICS)
def test_metrics_read_a_channel_less_target_of_one_channel_as_its_mask(cls):
    mask = (RNG.random((4, 6, 6)) < 0.5).astype("float32")
    probs = np.clip(mask + RNG.normal(0, 0.3, mask.shape), 0, 1).astype("float32")[..., None]
    channel_less, dense = cls(), cls()
    channel_less.update_state(mask, probs)
    dense.update_state(mask[..., None], probs)
    np.testing.assert_allclose(value(channel_less.result()), value(dense.result()), 1e-6)
    perfect = cls()
    perfect.update_state(mask, mask[..., None])
    assert value(perfect.result()) == pytest.approx(1.0)


def test_non_integral_float_class_indices_raise_instead_of_being_floored():
    probs = RNG.dirichlet(np.ones(3), (2, 4)).astype("float32")
    labels = RNG.integers(0, 3, (2, 4))
    loss = xk.DiceLoss()
    np.testing.assert_allclose(
        value(loss(labels.astype("float32"), probs)), value(loss(labels, probs)), rtol=1e-6
    )
    with pytest.raises(ValueError, match="non-integral values"):
        loss(labels + 0.5, probs)
    metric = xk.DiceCoefficient(num_classes=3)
    with pytest.raises(ValueError, match="non-integral values"):
        metric.update_state(labels + 0.25, probs)


def test_softmax_metrics_take_the_arg_max():
    logits = RNG.normal(0, 0.3, (4, 6, 3)).astype("float32")
    labels = RNG.integers(0, 3, (4, 6))
    hard = np.eye(3, dtype="float32")[logits.argmax(-1)]
    unsmoothed = {"smooth_nr": 0.0, "smooth_dr": 0.0}
    for cls in METRICS:
        metric = cls(from_logits="softmax", num_classes=3)
        metric.update_state(labels, logits)
        name = cls.entry.name
        options = {} if name in ("precision", "true_positive_rate") else unsmoothed
        expected = getattr(xploss, name)(labels, hard, axis=(0, 1), threshold=None, **options)
        np.testing.assert_allclose(value(metric.result()), expected, rtol=1e-5, err_msg=name)


def test_nan_reaches_the_losses_and_metrics():
    y = np.array([[1.0, 0.0, 1.0]], "float32")
    p = np.array([[0.9, np.nan, 0.2]], "float32")
    for cls in LOSSES:
        assert np.isnan(value(cls()(y, p))), cls.__name__
    for cls in METRICS:
        metric = cls()
        metric.update_state(y, p)
        assert np.isnan(value(metric.result())), cls.__name__


def test_validate_is_a_keras_option_and_round_trips():
    loss = xk.DiceLoss(validate=True)
    assert loss.get_config()["validate"] is True
    assert loss.validate is True and xk.DiceLoss().validate is False
    assert xk.DiceLoss.from_config(loss.get_config()).validate is True
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 1\]"):
        loss(np.ones((1, 3), "float32"), np.array([[0.5, 1.5, 0.2]], "float32"))
    metric = xk.DiceCoefficient(validate=True)
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 1\]"):
        metric.update_state(np.ones((1, 3), "float32"), np.array([[0.5, 1.5, 0.2]], "float32"))
