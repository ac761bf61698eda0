"""Keras conventions of the options (issue 17, points 16 to 21), run by ``test_keras.py`` once per
Keras backend: class weights weigh classes, a loss keeps the batch axis, metrics cast
``sample_weight`` to their own dtype, Keras' rank rule for targets, the metrics' direction for
the callbacks, and NumPy numbers as options. Expected values come from ``tests/oracle.py``."""

from __future__ import annotations

import json
import re

import keras
import numpy as np
import pytest

import xploss
import xploss.keras as xk
from tests import oracle
from xploss._registry import LOSSES, METRICS

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(17)
SMOOTH = 1e-5
METRIC_CLASSES = [xk.DiceCoefficient, xk.JaccardIndex, xk.Precision, xk.TruePositiveRate]


def value(x):
    return np.asarray(keras.ops.convert_to_numpy(x), np.float64)


def batch(b, c, size=5):
    y = (RNG.random((b, size, size, c)) < 0.4).astype("float32")
    p = np.clip(y + RNG.normal(0, 0.35, y.shape), 0.01, 0.99).astype("float32")
    return y, p


# Per sample and class (the axes (1, 2) of (B, H, W, C)), then the per-sample combination of
# each loss, from the formulas.
AXES = (1, 2)


def weighted(values, w):
    w = np.broadcast_to(np.asarray(w, np.float64), values.shape)
    return (w * values).sum(-1) / w.sum(-1)


def per_sample(cls, y, p, w):
    if cls is xk.DiceLoss:
        return 1 - weighted(oracle.dice(y, p, AXES, SMOOTH, SMOOTH), w)
    if cls is xk.JaccardLoss:
        return 1 - weighted(oracle.jaccard(y, p, AXES, SMOOTH, SMOOTH), w)
    if cls is xk.TverskyLoss:
        return 1 - weighted(oracle.tversky(y, p, AXES, 0.5, 0.5, SMOOTH, SMOOTH), w)
    if cls is xk.FocalTverskyLoss:
        score = oracle.tversky(y, p, AXES, 0.3, 0.7, SMOOTH, SMOOTH)
        return weighted(oracle.focal(score, 0.75), w)
    if cls in PER_CLASS_FROM_CORE:
        # The per-class values of these are checked against their peers in
        # test_peers_mcc_masked.py and test_peers_distance.py; here, how the weights combine them.
        per_class = getattr(xploss, cls.entry.name)(
            y.astype("float64"), p.astype("float64"), axis=AXES, reduction="none"
        )
        return weighted(np.asarray(per_class), w)
    bce = weighted(oracle.bce(y, p, AXES), w)
    if cls is xk.BinaryCrossEntropyLoss:
        return bce
    assert cls is xk.BCEDiceLoss
    return bce + oracle.log_dice_penalty(weighted(oracle.dice(y, p, AXES, SMOOTH, SMOOTH), w))


# A float target of y_pred's shape is the boundary loss's signed distance map: the weights
# combine its per-class means all the same.
PER_CLASS_FROM_CORE = (xk.MCCLoss, xk.BoundaryLoss, xk.HausdorffDTLoss)
WEIGHTED_LOSSES = [
    xk.DiceLoss,
    xk.JaccardLoss,
    xk.TverskyLoss,
    xk.FocalTverskyLoss,
    xk.BCEDiceLoss,
    xk.BinaryCrossEntropyLoss,
    *PER_CLASS_FROM_CORE,
]


# Class weights of a cross-entropy weigh its elements (Σ w·ℓ / Σ w), not per-class scores: they
# are checked against Keras and PyTorch in keras_entropy_checks.py.
ELEMENT_WEIGHTED = {
    "cross_entropy", "focal_loss", "dice_ce_loss", "dice_focal_loss", "generalized_dice_focal_loss"
}  # fmt: skip


def test_every_keras_loss_with_a_class_weight_is_checked_here():
    with_weight = {n for n, entry in LOSSES.items() if "weight" in entry.options.names}
    assert {cls.entry.name for cls in WEIGHTED_LOSSES} == with_weight - ELEMENT_WEIGHTED


# Point 16: class weights weigh the classes with the default axis, B == C and B != C.
@pytest.mark.parametrize("cls", WEIGHTED_LOSSES)
@pytest.mark.parametrize("b", [2, 3])
def test_class_weight_weighs_classes_with_the_default_axis(cls, b):
    y, p = batch(b, 2)
    for w in ([1.0, 100.0], [100.0, 1.0]):
        got = value(cls(class_weight=w)(y, p))
        np.testing.assert_allclose(got, per_sample(cls, y, p, w).mean(), rtol=2e-5, err_msg=w)
    heavy_first, heavy_second = (value(cls(class_weight=w)(y, p)) for w in ([100, 1], [1, 100]))
    assert abs(heavy_first - heavy_second) > 1e-4  # the weights act on the classes
    explicit = value(cls(axis=(1, 2), class_weight=[1.0, 100.0])(y, p))
    np.testing.assert_allclose(value(cls(class_weight=[1.0, 100.0])(y, p)), explicit, rtol=1e-6)


def test_class_weight_weighs_channels_first_classes_and_class_indices():
    y, p = batch(3, 4)
    w = [1.0, 2.0, 0.0, 5.0]
    expected = per_sample(xk.DiceLoss, y, p, w).mean()
    first = xk.DiceLoss(class_axis=1, class_weight=w)
    got = first(np.moveaxis(y, -1, 1), np.moveaxis(p, -1, 1))
    np.testing.assert_allclose(value(got), expected, rtol=2e-5)
    labels = RNG.integers(0, 4, (3, 5, 5))
    probs = RNG.dirichlet(np.ones(4), (3, 5, 5)).astype("float32")
    dense = np.eye(4, dtype="float32")[labels]
    expected = per_sample(xk.DiceLoss, dense, probs, w).mean()
    np.testing.assert_allclose(value(xk.DiceLoss(class_weight=w)(labels, probs)), expected, 2e-5)
    # A 5-d target with the class axis first: the weights sit on that axis, not the last one.
    y5, p5 = (RNG.random((2, 3, 2, 4, 4)) < 0.5).astype("float32"), RNG.random((2, 3, 2, 4, 4))
    p5 = p5.astype("float32")
    got = xk.DiceLoss(class_axis=1, axis=(3, 4), class_weight=[1.0, 2.0, 3.0])(y5, p5)
    scores = oracle.dice(y5, p5, (3, 4), SMOOTH, SMOOTH)  # (B, C, D)
    expected = 1 - (np.array([1.0, 2.0, 3.0])[:, None] * scores).sum(1) / 6.0
    np.testing.assert_allclose(value(got), expected.mean(), rtol=2e-5)


def test_class_weight_under_a_compiled_evaluate_with_a_partial_batch():
    """Batches of 2, 2 and 1: TensorFlow retraces with an unknown batch size."""
    y, p = batch(5, 2)
    w = [1.0, 100.0]
    model = keras.Sequential([keras.Input((5, 5, 2)), keras.layers.Identity()])
    for cls in (xk.DiceLoss, xk.BCEDiceLoss):
        model.compile(loss=cls(class_weight=w))
        got = model.evaluate(p, y, batch_size=2, verbose=0)
        np.testing.assert_allclose(got, per_sample(cls, y, p, w).mean(), rtol=1e-5)


def test_class_weight_in_a_traced_function_of_unknown_batch_size():
    y, p = batch(3, 2)
    loss = xk.DiceLoss(class_weight=[1.0, 100.0], reduction=None)
    expected = per_sample(xk.DiceLoss, y, p, [1.0, 100.0])
    if BACKEND == "tensorflow":
        import tensorflow as tf

        spec = tf.TensorSpec((None, 5, 5, 2), tf.float32)
        traced = tf.function(lambda a, b: loss(a, b), input_signature=[spec, spec])
    elif BACKEND == "jax":
        import jax

        traced = jax.jit(lambda a, b: loss(a, b))
    else:
        traced = loss  # the PyTorch backend runs eagerly
    np.testing.assert_allclose(value(traced(y, p)), expected, rtol=2e-5)


@pytest.mark.parametrize("cls", WEIGHTED_LOSSES)
def test_class_weight_that_cannot_weigh_classes_raises(cls):
    y, p = batch(2, 3)
    with pytest.raises(ValueError, match=r"class_weight of 2 weights .*3 classes on class_axis"):
        cls(class_weight=[1.0, 2.0])(y, p)
    with pytest.raises(
        ValueError, match=r"class_weight=\.\.\.\) weighs the classes.*axis=\(1, 2, 3\)"
    ):
        cls(axis=(1, 2, 3), class_weight=[1.0, 2.0, 3.0])(y, p)


# Point 17: a loss keeps the batch axis, which Keras weighs and averages.
@pytest.mark.parametrize("cls", [*WEIGHTED_LOSSES, xk.GeneralizedDiceLoss])
def test_an_axis_over_the_batch_raises(cls):
    with pytest.raises(ValueError, match=r"one loss per sample.*batch axis 0.*axis=\(0, 1, 2\)"):
        cls(axis=(0, 1, 2))
    with pytest.raises(ValueError, match=r"batch axis 0"):
        cls(axis=0)
    y, p = batch(3, 2)
    loss = cls(axis=(-4, 1, 2))  # the batch axis of a rank-4 input: known at the call
    with pytest.raises(ValueError, match=r"batch axis 0 out; got axis=\(-4, 1, 2\) for y_pred"):
        loss(y, p)


# Point 18: the metrics cast sample_weight to their dtype, not to float16 predictions.
@pytest.mark.parametrize("cls", METRIC_CLASSES)
def test_mixed_float16_sample_weights_keep_their_float32_value(cls):
    y, p = batch(2, 1)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        results = {}
        for name, weights in {
            "ones": [1.0, 2.0],
            "huge": [7e4, 14e4],
            "tiny": [1e-8, 2e-8],
        }.items():
            metric = cls()
            metric.update_state(y, keras.ops.cast(p, "float16"), sample_weight=np.array(weights))
            results[name] = value(metric.result())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    hard = (p > 0.5).astype("float64")
    mask = np.array([1.0, 2.0])[:, None, None, None]
    stats = oracle.stats(y, hard, (0, 1, 2, 3), mask=mask)
    expected = {
        "dice_coefficient": 2 * stats[0] / (stats[1] + stats[2]),
        "jaccard_index": stats[0] / (stats[1] + stats[2] - stats[0]),
        "precision": stats[0] / stats[2],
        "true_positive_rate": stats[0] / stats[1],
    }[cls.entry.name]
    for name, got in results.items():
        np.testing.assert_allclose(got, expected, rtol=1e-5, err_msg=name)


# Point 19: Keras' rank rule for targets, and the functional API in model.fit.
SPATIAL_LOSSES = [xk.SoftclDiceLoss, xk.SoftDiceclDiceLoss, xk.LovaszHingeLoss]


@pytest.mark.parametrize("cls", [*WEIGHTED_LOSSES, *SPATIAL_LOSSES, *METRIC_CLASSES])
def test_a_trailing_size_one_target_of_a_squeezed_prediction(cls):
    y, p = batch(3, 1)

    def result(target, prediction):
        if cls in METRIC_CLASSES:
            metric = cls()
            metric.update_state(target, prediction)
            return value(metric.result())
        return value(cls()(target, prediction))

    np.testing.assert_allclose(result(y, p[..., 0]), result(y, p), rtol=1e-6)
    if cls is xk.BinaryCrossEntropyLoss:  # as Keras' own loss on the same shapes
        theirs = keras.losses.BinaryCrossentropy()(y, p[..., 0])
        np.testing.assert_allclose(result(y, p[..., 0]), value(theirs), rtol=1e-5)


def test_the_functional_api_takes_keras_float_class_indices_in_fit():
    labels = RNG.integers(0, 3, (4, 6, 6))
    probs = RNG.dirichlet(np.ones(3), (4, 6, 6)).astype("float32")
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Identity()])
    model.compile(loss=xploss.dice_loss)  # Keras casts the labels to float32
    got = model.evaluate(probs, labels, batch_size=4, verbose=0)
    dense = np.eye(3)[labels]
    expected = 1 - oracle.dice(dense, probs, (0, 1, 2, 3), SMOOTH, SMOOTH)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    inputs = keras.Input((6, 6, 1))
    trained = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="softmax")(inputs))
    trained.compile(optimizer="adam", loss=xploss.dice_loss)
    history = trained.fit(probs[..., :1], labels, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_a_size_one_label_map_in_the_functional_api_says_what_to_do():
    labels = RNG.integers(0, 3, (2, 6, 6, 1))
    probs = RNG.dirichlet(np.ones(3), (2, 6, 6)).astype("float32")
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Identity()])
    model.compile(loss=xploss.dice_loss)  # Keras casts the labels to float32
    with pytest.raises(ValueError, match=r"size-1 class axis \(axis 3\).*squeeze") as info:
        model.evaluate(probs, labels, batch_size=2, verbose=0)
    assert "float32" not in str(info.value)  # the dtype is not the problem
    np.testing.assert_allclose(  # the Keras class squeezes it
        value(xk.DiceLoss()(labels, probs)), value(xk.DiceLoss()(labels[..., 0], probs)), 1e-6
    )


# Point 20: the callbacks' mode="auto" maximises every score.
def test_every_metric_declares_its_direction_from_the_registry():
    for cls in METRIC_CLASSES:
        assert cls._direction == ("up" if METRICS[cls.entry.name].higher_is_better else "down")
    assert {cls.entry.name for cls in METRIC_CLASSES} == set(METRICS)
    assert all(entry.higher_is_better for entry in METRICS.values())  # every one is a score


def test_early_stopping_and_checkpoints_monitor_the_metrics_in_auto_mode(tmp_path):
    y, p = batch(4, 1, size=6)
    inputs = keras.Input((6, 6, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(inputs))
    model.compile(optimizer="adam", loss=xk.DiceLoss(), metrics=[c() for c in METRIC_CLASSES])
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_jaccard_index", patience=3)]
    for cls in METRIC_CLASSES:
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(tmp_path / f"{cls.entry.name}.weights.h5"),
                monitor=f"val_{cls.entry.name}",
                save_best_only=True,
                save_weights_only=True,
            )
        )
    model.fit(p, y, validation_data=(p, y), epochs=2, batch_size=4, verbose=0, callbacks=callbacks)
    for callback in callbacks:
        assert callback.monitor_op is keras.ops.greater, callback.monitor
    assert callbacks[1].best == max(model.history.history["val_dice_coefficient"])


# Point 21 (and 14): NumPy numbers as options; messages name class_weight.
def test_numpy_numbers_are_options():
    labels = RNG.integers(0, 3, (3, 5, 5))
    probs = RNG.dirichlet(np.ones(3), (3, 5, 5)).astype("float32")
    counts = np.bincount(labels.ravel(), minlength=3)
    balanced = (counts.sum() / (3 * counts)).astype(np.float32)
    plain = [float(w) for w in balanced]
    for given in (balanced, list(balanced), tuple(balanced)):
        loss = xk.DiceLoss(class_weight=given, smooth_nr=np.float32(0.5), soft_label=np.bool_(True))
        reference = xk.DiceLoss(class_weight=plain, smooth_nr=0.5, soft_label=True)
        np.testing.assert_allclose(value(loss(labels, probs)), value(reference(labels, probs)))
        config = loss.get_config()
        json.dumps(config)  # plain Python values, which a .keras file stores
        assert config["class_weight"] == pytest.approx(plain) and config["soft_label"] is True
    axes = xk.DiceLoss(axis=np.array([1, 2]), class_axis=np.int64(-1), log=np.bool_(False))
    assert axes.get_config()["axis"] == (1, 2) and type(axes.get_config()["axis"][0]) is int
    json.dumps(axes.get_config())
    metric = xk.DiceCoefficient(num_classes=np.int64(3), threshold=np.float32(0.5))
    json.dumps(metric.get_config())
    numpy_options = {"soft_label": np.bool_(True), "axis": (np.int64(1), np.int64(2))}
    np.testing.assert_allclose(  # the functional API, which a Keras loss function calls
        value(xploss.dice_loss(labels, probs, **numpy_options)),
        value(xploss.dice_loss(labels, probs, soft_label=True, axis=(1, 2))),
    )


@pytest.mark.parametrize(
    "given, error, pattern",
    [
        (np.array([1.0, -2.0], np.float32), ValueError, r"class_weight must hold finite values"),
        ([1.0, float("nan")], ValueError, r"class_weight must hold finite values"),
        ({0: 1.0, 1: 2.0}, TypeError, r"class_weight must be None.*dict.*range\(C\)"),
        ("balanced", TypeError, r"class_weight must be None.*str"),
        ([[1.0, 2.0]], ValueError, r"class_weight as one number per class"),
    ],
)
def test_bad_class_weights_are_named_class_weight(given, error, pattern):
    for cls in (xk.DiceLoss, xk.BinaryCrossEntropyLoss):
        with pytest.raises(error, match=pattern) as info:
            cls(class_weight=given)
        assert not re.search(r"(?<!class_)weight (must|of shape)", str(info.value))
