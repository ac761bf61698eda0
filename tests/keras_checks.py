"""Keras checks, run by ``test_keras.py`` once per backend in its own process (``KERAS_BACKEND``).

The seeds' three models train with xploss (a binary U-Net with BCE-Dice and both metrics, a
class-weighted 5-class model, a generalized Dice for 3D volumes); losses equal the functional
API; metrics give dataset values; ``sample_weight`` acts as Keras documents; saved models reload
in a fresh process without ``custom_objects``; mixed precision stays finite.
"""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import xploss
import xploss.keras as xk
from tests import oracle

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(0)


def discs(n: int, size: int = 32, seed: int = 0, classes: int = 1):
    """Noisy images of discs; labels are the disc's class (0 is the background)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.2, (n, size, size, 1)).astype("float32")
    labels = np.zeros((n, size, size), dtype="int32")
    for i in range(n):
        r, c = rng.integers(8, size - 8, 2)
        radius = rng.integers(4, 8)
        label = rng.integers(1, classes + 1)
        disc = (rows - r) ** 2 + (cols - c) ** 2 < radius**2
        labels[i][disc] = label
        images[i, ..., 0][disc] += 0.4 * label
    return images, labels


def binary_unet(size: int = 32) -> keras.Model:
    """The seeds' U-Net, one level deep: conv, pool, conv, transpose conv, skip, sigmoid."""
    inputs = keras.Input((size, size, 1))
    c1 = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    c1 = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(c1)
    p1 = keras.layers.MaxPooling2D(2)(c1)
    c2 = keras.layers.Conv2D(16, 3, activation="relu", padding="same")(p1)
    u3 = keras.layers.Conv2DTranspose(8, 2, strides=2, padding="same")(c2)
    c3 = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(
        keras.layers.concatenate([u3, c1])
    )
    outputs = keras.layers.Conv2D(1, 1, activation="sigmoid")(c3)
    return keras.Model(inputs, outputs)


def test_losses_equal_the_functional_api():
    y = (RNG.random((4, 8, 8, 1)) > 0.5).astype("float32")
    p = RNG.random((4, 8, 8, 1)).astype("float32")
    per_sample = xploss.bce_dice_loss(y, p, axis=(1, 2, 3), reduction="none")
    np.testing.assert_allclose(float(xk.BCEDiceLoss()(y, p)), per_sample.mean(), rtol=1e-6)
    labels = RNG.integers(0, 3, (4, 8, 8))
    logits = RNG.normal(size=(4, 8, 8, 3)).astype("float32")
    weights = (1.0, 2.0, 5.0)
    loss = xk.DiceLoss(axis=(1, 2), from_logits="softmax", class_weight=weights)
    expected = xploss.dice_loss(
        labels, logits, axis=(1, 2), from_logits="softmax", weight=weights, reduction="per_sample"
    )
    np.testing.assert_allclose(
        float(loss(labels.astype("float32"), logits)), expected.mean(), rtol=1e-6
    )
    gdl = xk.GeneralizedDiceLoss(from_logits="softmax", reduction=None)
    expected = xploss.generalized_dice_loss(
        labels, logits, axis=(1, 2), from_logits="softmax", reduction="none"
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(gdl(labels[..., None], logits)), expected, rtol=1e-6
    )


def test_overlap_losses_equal_the_functional_api():
    labels = RNG.integers(0, 3, (4, 8, 8))
    logits = RNG.normal(size=(4, 8, 8, 3)).astype("float32")
    soft = (0.9 * np.eye(3)[labels] + 0.1 / 3).astype("float32")  # label smoothing
    common = {"axis": (1, 2, 3), "from_logits": "softmax", "reduction": "per_sample"}
    cases = [
        (xk.JaccardLoss(from_logits="softmax"), xploss.jaccard_loss, {}),
        (
            xk.JaccardLoss(from_logits="softmax", soft_label=True, log=True),
            xploss.jaccard_loss,
            {"soft_label": True, "log": True},
        ),
        (
            xk.TverskyLoss(from_logits="softmax", alpha=0.3, beta=0.7, soft_label=True),
            xploss.tversky_loss,
            {"alpha": 0.3, "beta": 0.7, "soft_label": True},
        ),
        (
            xk.FocalTverskyLoss(from_logits="softmax", gamma=2.0),
            xploss.focal_tversky_loss,
            {"gamma": 2.0},
        ),
        (
            xk.DiceLoss(from_logits="softmax", soft_label=True),
            xploss.dice_loss,
            {"soft_label": True},
        ),
    ]
    for loss, function, options in cases:
        expected = function(soft, logits, **common, **options)
        np.testing.assert_allclose(float(loss(soft, logits)), expected.mean(), rtol=1e-6)
    per_class = xk.TverskyLoss(axis=(1, 2), from_logits="softmax", class_weight=(1.0, 2.0, 0.0))
    expected = xploss.tversky_loss(
        labels, logits, axis=(1, 2), from_logits="softmax", weight=(1, 2, 0), reduction="none"
    )
    np.testing.assert_allclose(
        float(per_class(labels.astype("float32"), logits)),
        expected.sum(axis=1).mean() / 3,
        rtol=1e-6,
    )


def test_keras_tversky_has_alpha_and_beta_swapped():
    """keras.losses.Tversky(alpha=a, beta=b) weighs the false negatives by a (keras-team/keras
    #23333, fixed in 3.16): it is xploss.tversky_loss(alpha=b, beta=a) with Keras' epsilon."""
    y = np.array([[1.0, 0.0], [1.0, 1.0]], dtype="float32")  # docs/formulas.md, case C1
    p = np.array([[0.9, 0.2], [0.6, 0.3]], dtype="float32")
    theirs = float(keras.losses.Tversky(alpha=0.3, beta=0.7)(y, p))
    version = tuple(int(v) for v in keras.__version__.split(".")[:2])
    fp_weight, fn_weight = (0.7, 0.3) if version < (3, 16) else (0.3, 0.7)
    ours = xploss.tversky_loss(y, p, alpha=fp_weight, beta=fn_weight, smooth_nr=0.0, smooth_dr=1e-7)
    np.testing.assert_allclose(theirs, float(ours), rtol=1e-6)
    assert abs(float(ours) - 1 / 3) > 0.1  # C1 with alpha on FP is 1/3; swapped it is 5/23
    if version < (3, 16):
        np.testing.assert_allclose(theirs, 5 / 23, rtol=1e-6)


def test_sample_weight_per_sample_acts_as_keras_documents():
    y = (RNG.random((4, 8, 8, 1)) > 0.5).astype("float32")
    p = RNG.random((4, 8, 8, 1)).astype("float32")
    values = keras.ops.convert_to_numpy(xk.DiceLoss(reduction=None)(y, p))
    assert values.shape == (4,)
    weight = np.array([1.0, 0.0, 2.0, 0.0], dtype="float32")
    weighted = float(xk.DiceLoss()(y, p, sample_weight=weight))
    np.testing.assert_allclose(weighted, (values * weight).sum() / 4, rtol=1e-6)
    column = float(xk.DiceLoss()(y, p, sample_weight=weight[:, None]))
    np.testing.assert_allclose(column, weighted, rtol=1e-6)


def test_a_pixel_sample_weight_map_raises_a_clear_error():
    y = (RNG.random((2, 8, 8, 1)) > 0.5).astype("float32")
    p = RNG.random((2, 8, 8, 1)).astype("float32")
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(batch,\) or"):
        xk.DiceLoss()(y, p, sample_weight=np.ones((2, 8, 8, 1), dtype="float32"))


def test_metrics_accumulate_dataset_values():
    y = (RNG.random((6, 8, 8, 1)) > 0.6).astype("float32")
    p = RNG.random((6, 8, 8, 1)).astype("float32")
    dice, tpr = xk.DiceCoefficient(), xk.TruePositiveRate()
    for rows in (slice(0, 1), slice(1, 4), slice(4, 6)):
        dice.update_state(y[rows], p[rows])
        tpr.update_state(y[rows], p[rows])
    expected = xploss.dice_coefficient(y, p, threshold=0.5, smooth_nr=0, smooth_dr=0)
    np.testing.assert_allclose(float(dice.result()), expected, rtol=1e-6)
    np.testing.assert_allclose(float(tpr.result()), xploss.true_positive_rate(y, p), rtol=1e-6)
    batch_mean = np.mean(
        [
            xploss.dice_coefficient(y[r], p[r], threshold=0.5, smooth_nr=0, smooth_dr=0)
            for r in (slice(0, 1), slice(1, 4), slice(4, 6))
        ]
    )
    assert abs(batch_mean - expected) > 1e-4  # what a mean of batch values would have logged
    per_class = xk.DiceCoefficient(num_classes=3, from_logits="softmax")
    labels = RNG.integers(0, 3, (6, 8, 8))
    logits = RNG.normal(size=(6, 8, 8, 3)).astype("float32") * 3
    per_class.update_state(labels[:2], logits[:2])
    per_class.update_state(labels[2:], logits[2:])
    expected = xploss.dice_coefficient(
        labels,
        logits,
        axis=(0, 1, 2),
        from_logits="softmax",
        threshold=0.5,
        smooth_nr=0,
        smooth_dr=0,
    )
    np.testing.assert_allclose(float(per_class.result()), expected, rtol=1e-6)
    dice.reset_state()
    assert float(dice.result()) == 1.0  # nothing seen: 0/0 is zero_division


def test_jaccard_index_and_precision_accumulate_dataset_values():
    y = (RNG.random((6, 8, 8, 1)) > 0.6).astype("float32")
    p = RNG.random((6, 8, 8, 1)).astype("float32")
    iou, precision = xk.JaccardIndex(), xk.Precision()
    for rows in (slice(0, 1), slice(1, 4), slice(4, 6)):
        iou.update_state(y[rows], p[rows])
        precision.update_state(y[rows], p[rows])
    hard = (p > 0.5).astype("float64")
    axes = (0, 1, 2, 3)
    np.testing.assert_allclose(float(iou.result()), oracle.jaccard(y, hard, axes, 0, 0), rtol=1e-6)
    np.testing.assert_allclose(
        float(precision.result()), oracle.precision(y, p, axes, 0.5), rtol=1e-6
    )
    per_class = xk.JaccardIndex(num_classes=3, from_logits="softmax")
    labels = RNG.integers(0, 3, (6, 8, 8))
    logits = RNG.normal(size=(6, 8, 8, 3)).astype("float32") * 3
    per_class.update_state(labels[:2], logits[:2])
    per_class.update_state(labels[2:], logits[2:])
    expected = xploss.jaccard_index(
        labels,
        logits,
        axis=(0, 1, 2),
        from_logits="softmax",
        threshold=0.5,
        smooth_nr=0,
        smooth_dr=0,
    )
    np.testing.assert_allclose(float(per_class.result()), expected, rtol=1e-6)
    precision.reset_state()
    assert float(precision.result()) == 0.0  # nothing predicted: zero_division


def test_seed_binary_unet_trains_to_validation_dice_above_0_9(tmp_path):
    keras.utils.set_random_seed(0)
    images, labels = discs(192, seed=1)
    val_images, val_labels = discs(48, seed=2)
    model = binary_unet()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=xk.BCEDiceLoss(),
        metrics=["binary_accuracy", xk.DiceCoefficient(), xk.TruePositiveRate()],
    )
    history = model.fit(
        images,
        labels[..., None].astype("float32"),
        batch_size=16,
        epochs=12,
        verbose=0,
        validation_data=(val_images, val_labels[..., None].astype("float32")),
    )
    assert history.history["val_dice_coefficient"][-1] > 0.9, history.history
    assert history.history["val_true_positive_rate"][-1] > 0.9

    path = str(tmp_path / "unet.keras")
    model.save(path)
    loss = float(
        model.evaluate(
            val_images, val_labels[..., None].astype("float32"), verbose=0, return_dict=True
        )["loss"]
    )
    np.save(tmp_path / "x.npy", val_images)
    np.save(tmp_path / "y.npy", val_labels[..., None].astype("float32"))
    code = (
        "import keras, numpy as np\n"
        "import xploss.keras  # registers the classes: no custom_objects\n"
        f"model = keras.models.load_model({path!r})\n"
        f"x, y = np.load({str(tmp_path / 'x.npy')!r}), np.load({str(tmp_path / 'y.npy')!r})\n"
        "print(type(model.loss).__module__, type(model.loss).__name__)\n"
        "print(model.evaluate(x, y, verbose=0, return_dict=True)['loss'])\n"
    )
    env = {**os.environ, "KERAS_BACKEND": BACKEND}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    kind, reloaded = out.stdout.strip().splitlines()[-2:]
    assert kind == "xploss.keras BCEDiceLoss"
    np.testing.assert_allclose(float(reloaded), loss, rtol=1e-5)


def test_seed_class_weighted_five_class_model_trains_without_nan():
    keras.utils.set_random_seed(0)
    images, labels = discs(64, seed=3, classes=4)
    inputs = keras.Input((32, 32, 1))
    hidden = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    outputs = keras.layers.Conv2D(5, 1, activation="sigmoid")(hidden)
    model = keras.Model(inputs, outputs)
    weights = {0: 1, 1: 1, 2: 1, 3: 1, 4: 1000}  # the seed's extreme class weight
    loss = xk.BCEDiceLoss(axis=(1, 2), class_weight=[weights[c] for c in range(5)], log_dice=False)
    model.compile(optimizer="adam", loss=loss, metrics=[xk.DiceCoefficient(num_classes=5)])
    onehot = np.eye(5, dtype="float32")[labels]
    history = model.fit(images, onehot, batch_size=16, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert max(history.history["loss"]) <= 1 + np.log(1e7)  # BCE + (1 - D), never negative
    assert min(history.history["loss"]) >= 0


def test_seed_generalized_dice_on_3d_volumes_trains_without_nan():
    keras.utils.set_random_seed(0)
    volumes = RNG.normal(size=(8, 8, 8, 8, 1)).astype("float32")
    labels = (volumes[..., 0] > 0.5).astype("int32") + (volumes[..., 0] > 1.5).astype("int32")
    labels[:, 0, 0, 0] = 3  # a rare fourth class, absent from most of each volume
    inputs = keras.Input((8, 8, 8, 1))
    outputs = keras.layers.Conv3D(4, 3, padding="same")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=xk.GeneralizedDiceLoss(from_logits="softmax"))
    history = model.fit(volumes, labels, batch_size=4, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_is_finite(policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        images, labels = discs(32, seed=4)
        model = binary_unet()
        model.compile(
            optimizer="adam",
            loss=xk.BCEDiceLoss(),
            metrics=[xk.DiceCoefficient(), xk.TruePositiveRate()],
        )
        history = model.fit(
            images, labels[..., None].astype("float32"), batch_size=16, epochs=2, verbose=0
        )
        for values in history.history.values():
            assert np.all(np.isfinite(values))
        big = np.ones((1, 512, 512, 1), dtype="float32")
        value = keras.ops.convert_to_numpy(
            xk.DiceLoss(reduction=None)(big, keras.ops.cast(big, "float16"))
        )
        assert np.all(np.isfinite(value)) and value.dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_serialization_round_trip_of_every_class():
    objects = [
        xk.DiceLoss(axis=(1, 2), class_weight=(1.0, 3.0), log=True, smooth_nr=1.0),
        xk.BCEDiceLoss(from_logits=True, bce_weight=0.5, log_dice=False),
        xk.GeneralizedDiceLoss(weight_type="simple", class_axis=1),
        xk.DiceCoefficient(num_classes=3, threshold=None),
        xk.TruePositiveRate(from_logits="softmax", zero_division=float("nan")),
        xk.DiceLoss(soft_label=True),
        xk.JaccardLoss(axis=(1, 2), soft_label=True, log=True, smooth_nr=0.5),
        xk.TverskyLoss(alpha=0.2, beta=0.8, class_weight=(1.0, 2.0), from_logits="softmax"),
        xk.FocalTverskyLoss(gamma=1.5, soft_label=True, name="ftl"),
        xk.JaccardIndex(num_classes=2, zero_division=0.0),
        xk.Precision(threshold=0.3, name="ppv"),
    ]
    for obj in objects:
        config = keras.saving.serialize_keras_object(obj)
        restored = keras.saving.deserialize_keras_object(config)
        assert type(restored) is type(obj)
        a, b = restored.get_config(), obj.get_config()
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == b[key] or (a[key] != a[key] and b[key] != b[key]), key
    assert xk.FocalTverskyLoss().get_config()["name"] == "focal_tversky_loss"
    assert xk.JaccardIndex().name == "jaccard_index" and xk.Precision().name == "precision"


def test_model_with_the_new_losses_and_metrics_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    images, labels = discs(16, seed=5)
    inputs = keras.Input((32, 32, 1))
    outputs = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss=xk.FocalTverskyLoss(soft_label=True),
        metrics=[xk.JaccardIndex(), xk.Precision()],
    )
    target = labels[..., None].astype("float32")
    model.fit(images, target, batch_size=8, epochs=1, verbose=0)
    before = model.evaluate(images, target, verbose=0, return_dict=True)
    path = str(tmp_path / "tversky.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert type(reloaded.loss) is xk.FocalTverskyLoss and reloaded.loss.soft_label
    after = reloaded.evaluate(images, target, verbose=0, return_dict=True)
    for key in ("loss", "jaccard_index", "precision"):
        np.testing.assert_allclose(after[key], before[key], rtol=1e-5, err_msg=key)
