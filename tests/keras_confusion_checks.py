"""The Keras confusion-matrix metrics, run by ``test_keras.py`` once per backend: over several
``update_state`` calls they equal the functional API and scikit-learn; the config and a saved
model round-trip; and a real ``fit`` logs one value per class, where a class the model never
predicts shows as 0 beside a mean that looks fine."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

import xploss
import xploss.keras as xk
from xploss._confusion import SCORES
from xploss.keras.metrics import state_dtype

KERAS_KEYWORDS = {"name", "dtype"}
SINGLE = {
    xk.Specificity: "specificity",
    xk.FBetaScore: "f_beta",
    xk.BalancedAccuracy: "balanced_accuracy",
    xk.MatthewsCorrCoef: "matthews_corrcoef",
    xk.NegativePredictiveValue: "negative_predictive_value",
    xk.FalsePositiveRate: "false_positive_rate",
    xk.FalseNegativeRate: "false_negative_rate",
}


def batches(seed: int, classes: int = 4, sizes=(2, 2, 2)) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches of class indices ``(B, 5, 5)`` and logits ``(B, 5, 5, classes)``, all of one
    shape: eager JAX compiles each operation once per shape."""
    rng = np.random.default_rng(seed)
    return [
        (rng.integers(0, classes, (n, 5, 5)), (rng.normal(size=(n, 5, 5, classes)) * 2))
        for n in sizes
    ]


def joined(parts):
    labels, logits = (np.concatenate(p) for p in zip(*parts, strict=True))
    return labels, logits.astype("float32")


def hard(logits: np.ndarray, activation: str) -> np.ndarray:
    """The predictions the metrics count: the arg-max of a softmax, or ``sigmoid > 0.5``."""
    if activation == "softmax":
        return np.eye(logits.shape[-1], dtype=int)[logits.argmax(-1)]
    return (logits > 0).astype(int)


def values(metric) -> dict[str, np.ndarray]:
    result = metric.result()
    result = result if isinstance(result, dict) else {metric.name: result}
    return {k: np.asarray(v) for k, v in result.items()}


# Samplewise: four scores, as the per-image averaging is the same for every score (and eager JAX
# compiles each score's operations per shape).
SAMPLEWISE = ("dice", "matthews_corrcoef", "balanced_accuracy", "false_positive_rate")
CASES = [
    {"activation": "softmax", "one_hot": False, "include_background": True},
    {"activation": "sigmoid", "one_hot": True, "include_background": False, "average": "micro"},
    {"activation": "softmax", "one_hot": False, "average": "weighted",
     "zero_division": float("nan")},
    {"activation": "softmax", "one_hot": True, "aggregation_level": "samplewise"},
    {"activation": "sigmoid", "one_hot": False, "include_background": False,
     "aggregation_level": "samplewise", "average": "none", "empty_class": "exclude"},
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c.values())))
def test_every_score_equals_the_functional_api_over_several_updates(case):
    case = dict(case)
    activation, one_hot = case.pop("activation"), case.pop("one_hot")
    names = SAMPLEWISE if "aggregation_level" in case else tuple(SCORES)
    options = {"from_logits": activation, "beta": 2.0, **case}
    metric = xk.ConfusionMatrixMetric(metrics=names, num_classes=4, **options)
    parts = batches(0)
    for labels, logits in parts:
        metric.update_state(np.eye(4)[labels] if one_hot else labels, logits.astype("float32"))
    got, (labels, logits) = values(metric), joined(parts)
    for name in names:
        expected = xploss.confusion_metric(labels, logits, metric=name, **options)
        np.testing.assert_allclose(got[name], expected, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("activation", ["softmax", "sigmoid"])
def test_per_class_and_averaged_values_equal_scikit_learn(activation):
    metric = xk.ConfusionMatrixMetric(
        metrics=tuple(SCORES), num_classes=4, from_logits=activation, beta=2.0,
        per_class_logs=True, class_names=("background", "liver", "kidney", "tumour"),
    )  # fmt: skip
    micro = xk.ConfusionMatrixMetric(metrics=("dice", "iou"), num_classes=4, average="micro",
                                     from_logits=activation)  # fmt: skip
    parts = batches(1)
    for labels, logits in parts:
        metric.update_state(labels, logits.astype("float32"))
        micro.update_state(labels, logits.astype("float32"))
    got, labels, logits = values(metric), *joined(parts)
    y, p = np.eye(4, dtype=int)[labels].reshape(-1, 4), hard(logits, activation).reshape(-1, 4)
    columns = [(y[:, c], p[:, c]) for c in range(4)]
    peers = {
        "dice": skm.f1_score(y, p, average=None, zero_division=0),
        "f_beta": skm.fbeta_score(y, p, beta=2.0, average=None, zero_division=0),
        "iou": skm.jaccard_score(y, p, average=None, zero_division=0),
        "precision": skm.precision_score(y, p, average=None, zero_division=0),
        "recall": skm.recall_score(y, p, average=None, zero_division=0),
        "specificity": skm.recall_score(1 - y, 1 - p, average=None, zero_division=0),
        "negative_predictive_value": skm.precision_score(1 - y, 1 - p, average=None),
        "false_positive_rate": 1 - skm.recall_score(1 - y, 1 - p, average=None),
        "false_negative_rate": 1 - skm.recall_score(y, p, average=None),
        "accuracy": [skm.accuracy_score(t, q) for t, q in columns],
        "balanced_accuracy": [skm.balanced_accuracy_score(t, q) for t, q in columns],
        "matthews_corrcoef": [skm.matthews_corrcoef(t, q) for t, q in columns],
    }
    for name, per_class in peers.items():
        for index, label in enumerate(("background", "liver", "kidney", "tumour")):
            key = f"{name}/{label}"
            np.testing.assert_allclose(got[key], per_class[index], rtol=1e-5, err_msg=key)
        np.testing.assert_allclose(got[name], np.mean(per_class), rtol=1e-5, err_msg=name)
    micro_values = values(micro)
    assert micro_values["dice"] == pytest.approx(skm.f1_score(y, p, average="micro"), rel=1e-5)
    assert micro_values["iou"] == pytest.approx(skm.jaccard_score(y, p, average="micro"), 1e-5)


def test_sample_weight_weighs_the_counts_and_samplewise_the_images():
    parts = batches(2, sizes=(2, 2))
    labels, logits = joined(parts)
    weight = np.array([0.0, 0.5, 2.0, 1.0], "float32")  # the first image: weight 0
    pooled = xk.ConfusionMatrixMetric(metrics=("dice", "mcc"), num_classes=4, per_class_logs=True,
                                      from_logits="softmax")  # fmt: skip
    images = xk.ConfusionMatrixMetric(num_classes=4, aggregation_level="samplewise",
                                      from_logits="softmax")  # fmt: skip
    for metric in (pooled, images):
        for (batch_labels, batch_logits), rows in zip(
            parts, (slice(0, 2), slice(2, 4)), strict=True
        ):
            metric.update_state(batch_labels, batch_logits, sample_weight=weight[rows])
    y, p = np.eye(4, dtype=int)[labels], hard(logits, "softmax")
    pixels = np.repeat(weight, 25)
    got = values(pooled)
    for c in range(4):
        t, q = y[..., c].ravel(), p[..., c].ravel()
        assert got[f"dice/{c}"] == pytest.approx(skm.f1_score(t, q, sample_weight=pixels), 1e-5)
        expected = skm.matthews_corrcoef(t, q, sample_weight=pixels)
        assert got[f"matthews_corrcoef/{c}"] == pytest.approx(expected, rel=1e-5)
    per_image = [
        skm.f1_score(y[i].reshape(-1, 4), p[i].reshape(-1, 4), average="macro", zero_division=0)
        for i in range(len(labels))
    ]
    expected = np.average(per_image, weights=weight)
    assert float(images.result()) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("aggregation_level", "channel"), [("global", False), ("samplewise", True)]
)
def test_num_classes_none_is_one_binary_class_without_a_class_axis(aggregation_level, channel):
    rng = np.random.default_rng(3)
    masks, logits = rng.integers(0, 2, (4, 5, 5)), rng.normal(size=(4, 5, 5)).astype("float32")
    metric = xk.ConfusionMatrixMetric(metrics=("dice", "mcc"), from_logits=True,
                                      aggregation_level=aggregation_level)  # fmt: skip
    for rows in (slice(0, 2), slice(2, 4)):
        metric.update_state(masks[rows], logits[rows][..., None] if channel else logits[rows])
    got = values(metric)
    for name in ("dice", "matthews_corrcoef"):
        expected = xploss.confusion_metric(
            masks, logits, metric=name, class_axis=None, from_logits=True,
            aggregation_level=aggregation_level,
        )  # fmt: skip
        np.testing.assert_allclose(got[name], expected, rtol=1e-5, err_msg=name)
    if aggregation_level == "global":
        expected = skm.f1_score(masks.ravel(), (logits > 0).ravel())
        assert got["dice"] == pytest.approx(expected, rel=1e-5)


def test_bad_options_and_inputs_raise_naming_them():
    metric = xk.ConfusionMatrixMetric(num_classes=4)
    labels, logits = batches(4, classes=3)[0]
    with pytest.raises(ValueError, match=r"num_classes=4\) got y_pred of shape .* with 3 classes"):
        metric.update_state(labels, logits)
    wrong_names = r"got 2 class_names \('a', 'b'\) for an input of 4 classes"
    with pytest.raises(ValueError, match=wrong_names):
        xk.ConfusionMatrixMetric(num_classes=4, class_names=("a", "b"))
    with pytest.raises(TypeError, match="class_names must be a sequence of str"):
        xk.ConfusionMatrixMetric(num_classes=1, class_names="tumour")
    with pytest.raises(TypeError, match=r"Specificity\(\) computes 'specificity' alone"):
        xk.Specificity(metrics=("dice",))
    with pytest.raises(ValueError, match="metrics='kappa' is not a confusion-matrix score"):
        xk.ConfusionMatrixMetric(metrics="kappa")
    with pytest.raises(ValueError, match="num_classes=3 and class_axis=None"):
        xk.ConfusionMatrixMetric(num_classes=3, class_axis=None)
    # a softmax over the one class of num_classes=None would count a constant
    with pytest.raises(ValueError, match=r"from_logits='softmax' and num_classes=None.*sigmoid"):
        xk.ConfusionMatrixMetric(metrics="iou", from_logits="softmax")
    with pytest.raises(ValueError, match=r"Specificity\(\) got from_logits='softmax'"):
        xk.Specificity(from_logits="softmax")
    with pytest.raises(
        TypeError, match=r"Specificity\(\) got an unexpected keyword argument 'beta'"
    ):
        xk.Specificity(beta=2.0)  # F-beta's weight belongs to FBetaScore alone


def test_state_dtype_result_dtype_direction_and_reset():
    several = xk.ConfusionMatrixMetric(metrics=("dice", "fnr"), num_classes=3,
                                       aggregation_level="samplewise")  # fmt: skip
    assert {keras.backend.standardize_dtype(v.dtype) for v in several.variables} == {state_dtype()}
    assert [tuple(v.shape) for v in several.variables] == [(4, 3), (2, 2, 4)]
    assert several.name == "confusion_matrix" and several._direction == "up"
    for cls, score in SINGLE.items():
        metric = cls()
        assert metric.name == score and metric.names == (score,)
        assert metric._direction == ("down" if SCORES[score].best == 0 else "up")
        assert float(metric.result()) == metric.zero_division  # no update: silently 0/0
    labels, logits = batches(5, classes=3)[0]
    several.update_state(labels, logits.astype("float32"))
    result = several.result()
    assert sorted(result) == ["dice", "false_negative_rate"]
    assert {keras.backend.standardize_dtype(v.dtype) for v in result.values()} == {"float32"}
    several.reset_state()
    assert all(not np.any(np.asarray(v.value)) for v in several.variables)
    background = xk.ConfusionMatrixMetric(num_classes=3, include_background=False)
    assert tuple(background.variables[0].shape) == (4, 2)


def round_trip(metric):
    """Through a ``.keras`` file's JSON: tuples come back as lists."""
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(metric)))
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(metric)
    same = json.dumps(restored.get_config()) == json.dumps(metric.get_config())  # NaN too
    assert same, (restored.get_config(), metric.get_config())
    return restored


def test_config_round_trips_and_is_complete():
    metric = round_trip(xk.ConfusionMatrixMetric(
        metrics=("f1", "mcc"), num_classes=3, class_names=("bg", "a", "b"), per_class_logs=True,
        from_logits="softmax", average="weighted", aggregation_level="samplewise", beta=0.5,
        empty_class="exclude", zero_division=float("nan"), ignore_index=2, threshold=None,
        name="seg",
    ))  # fmt: skip
    assert metric.metrics == ("dice", "matthews_corrcoef") and metric.class_names[2] == "b"
    assert metric.name == "seg" and metric.num_classes == 3 and np.isnan(metric.zero_division)
    for cls in (xk.ConfusionMatrixMetric, *SINGLE):
        options = set(cls.__signature__.parameters) - KERAS_KEYWORDS
        config = round_trip(cls(num_classes=2)).get_config()
        assert options == config.keys() - KERAS_KEYWORDS
        assert "all_reduce" not in options and ("metrics" in options) == (cls not in SINGLE)
        assert keras.saving.get_registered_name(cls) == f"xploss>{cls.__name__}"


def segmentation_model(classes: int = 5) -> keras.Model:
    """Logits ``(B, 8, 8, classes)``: a 1x1 convolution that reads the classes but the last from
    the input, whose logit is fixed at -1e4: the model never predicts the last class."""
    inputs = keras.Input((8, 8, classes - 1))
    kernel = keras.initializers.Constant(4 * np.eye(classes - 1))
    seen = keras.layers.Conv2D(classes - 1, 1, kernel_initializer=kernel)(inputs)
    never = keras.ops.zeros_like(seen[..., :1]) - 1e4
    return keras.Model(inputs, keras.layers.Concatenate()([seen, never]))


def images_of(labels: np.ndarray, seed: int, classes: int = 5) -> np.ndarray:
    """One noisy channel per class but the last, whose pixels look like none of them."""
    noise = np.random.default_rng(seed).normal(scale=0.3, size=(*labels.shape, classes - 1))
    return (np.eye(classes)[labels][..., : classes - 1] + noise).astype("float32")


def test_fit_logs_one_value_per_class_and_a_never_predicted_class_shows_as_zero(capsys):
    keras.utils.set_random_seed(0)
    names = ("background", "liver", "kidney", "spleen", "lesion")
    rng, frequencies = np.random.default_rng(6), [0.25, 0.25, 0.2, 0.2, 0.1]
    labels, val_labels = (rng.choice(5, (n, 8, 8), p=frequencies) for n in (32, 16))
    model = segmentation_model()
    metric = xk.ConfusionMatrixMetric(metrics="dice", num_classes=5, class_names=names,
                                      per_class_logs=True, from_logits="softmax")  # fmt: skip
    model.compile(optimizer=keras.optimizers.SGD(0.01), metrics=[metric],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    history = model.fit(
        images_of(labels, 7), labels, batch_size=8, epochs=2, verbose=2,
        validation_data=(images_of(val_labels, 8), val_labels),
    ).history  # fmt: skip
    shown = capsys.readouterr().out
    for prefix in ("", "val_"):
        keys = [f"{prefix}dice/{name}" for name in names]
        assert set(keys) | {f"{prefix}dice"} <= history.keys(), history.keys()
        assert f"{prefix}dice/lesion:" in shown, shown[-2000:]
        assert history[f"{prefix}dice/lesion"] == [0.0, 0.0]  # never predicted
        assert min(history[f"{prefix}dice/{name}"][-1] for name in names[:4]) > 0.85
        mean = np.mean([history[key][-1] for key in keys])
        assert 0.7 < history[f"{prefix}dice"][-1] == pytest.approx(mean, rel=1e-6)
    predicted = model.predict(images_of(val_labels, 8), verbose=0).argmax(-1)
    expected = skm.f1_score(val_labels.ravel(), predicted.ravel(), average=None, labels=range(5))
    got = [history[f"val_dice/{name}"][-1] for name in names]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_a_model_with_the_metrics_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    labels = np.random.default_rng(9).integers(0, 5, (8, 8, 8))
    images = images_of(labels, 10)
    model = segmentation_model()
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            xk.ConfusionMatrixMetric(metrics=("dice", "mcc"), num_classes=5, per_class_logs=True,
                                     aggregation_level="samplewise", from_logits="softmax"),
            xk.FalseNegativeRate(num_classes=5, from_logits="softmax", average="micro"),
        ],
    )  # fmt: skip
    before = model.evaluate(images, labels, batch_size=4, verbose=0, return_dict=True)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    after = reloaded.evaluate(images, labels, batch_size=4, verbose=0, return_dict=True)
    assert after.keys() == before.keys() and "matthews_corrcoef/4" in after
    for key, value in before.items():
        assert after[key] == pytest.approx(value, rel=1e-6), key
    (saved, *_), (restored, *_) = (m.metrics[-1].metrics for m in (model, reloaded))
    assert type(restored) is xk.ConfusionMatrixMetric
    assert restored.get_config() == saved.get_config()
