"""Keras checks over the registry, run by ``test_keras.py`` once per backend in its own process.

Every loss and metric of ``xploss._registry`` has its Keras class, equal to the functional core,
with a config that round-trips and a model that saves and reloads; a model saved by xploss 0.1.0
loads and evaluates to the values it gave then; the metrics' state is float64 where the backend
has it, whatever the global dtype policy.
"""

from __future__ import annotations

import contextlib
import json
import pathlib

import keras
import numpy as np
import pytest

import xploss.keras as xk
from tests.fixtures import make_keras_0_1_0
from xploss._registry import FUNCTIONS, LOSSES, METRICS

BACKEND = keras.backend.backend()
FIXTURES = pathlib.Path(__file__).with_name("fixtures")
KERAS_KEYWORDS = {"name", "reduction", "dtype"}

# The 0.1.0 fixture was made on TensorFlow; every backend reproduces it to within 1.6e-7
# (float32 rounding of the convolutions and of the metric results; measured on CPU).
FIXTURE_RTOL = 1e-5

# The default names of 0.1.0 (the keys of the logs), and of the loss added since.
NAMES = {
    "DiceLoss": "dice_loss",
    "JaccardLoss": "jaccard_loss",
    "BCEDiceLoss": "bce_dice_loss",
    "GeneralizedDiceLoss": "generalized_dice_loss",
    "TverskyLoss": "tversky_loss",
    "FocalTverskyLoss": "focal_tversky_loss",
    "BinaryCrossEntropyLoss": "binary_cross_entropy",
    "CrossEntropyLoss": "cross_entropy",
    "FocalLoss": "focal_loss",
    "DiceCELoss": "dice_ce_loss",
    "DiceFocalLoss": "dice_focal_loss",
    "GeneralizedDiceFocalLoss": "generalized_dice_focal_loss",
    "MCCLoss": "mcc_loss",
    "LovaszHingeLoss": "lovasz_hinge_loss",
    "LovaszSoftmaxLoss": "lovasz_softmax_loss",
    "BoundaryLoss": "boundary_loss",
    "HausdorffDTLoss": "hausdorff_dt_loss",
    "GeneralizedWassersteinDiceLoss": "generalized_wasserstein_dice_loss",
    "SoftclDiceLoss": "soft_cldice_loss",
    "SoftDiceclDiceLoss": "soft_dice_cldice_loss",
    "DiceCoefficient": "dice_coefficient",
    "TruePositiveRate": "true_positive_rate",
    "JaccardIndex": "jaccard_index",
    "Precision": "precision",
}


def case(seed: int, batch: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """One-hot targets and softmax probabilities, ``(batch, 6, 6, 3)``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, (batch, 6, 6))
    logits = rng.normal(size=(batch, 6, 6, 3)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return np.eye(3, dtype="float32")[labels], probs.astype("float32")


def round_trip(obj):
    """Through a ``.keras`` file's JSON: tuples come back as lists."""
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(obj)))
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(obj)
    assert restored.get_config() == obj.get_config()
    return restored


def test_a_model_saved_by_0_1_0_loads_and_evaluates_as_then():
    stored = np.load(FIXTURES / "keras_0_1_0.npz")
    images, targets = make_keras_0_1_0.data()
    np.testing.assert_array_equal(images, stored["images"])
    for name, target in targets.items():
        np.testing.assert_array_equal(target, stored[f"target_{name}"])
    model = keras.models.load_model(FIXTURES / "keras_0_1_0.keras")
    assert type(model.loss["dice"]) is xk.DiceLoss and model.loss["dice"].log
    assert model.loss["generalized"].weight_type == "simple"
    results = model.evaluate(images, targets, batch_size=4, verbose=0, return_dict=True)
    expected = {k.removeprefix("result_"): stored[k] for k in stored.files if "result_" in k}
    assert results.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_allclose(results[key], value, rtol=FIXTURE_RTOL, err_msg=key)


@pytest.mark.parametrize("entry", LOSSES.values(), ids=lambda e: e.class_name)
def test_every_loss_is_a_keras_class_equal_to_the_core(entry):
    cls = getattr(xk, entry.class_name)
    assert entry.class_name in xk.__all__ and cls.__module__ == "xploss.keras"
    assert cls().name == NAMES[entry.class_name] == entry.name
    assert keras.saving.get_registered_name(cls) == f"xploss>{entry.class_name}"
    y, p = case(0)
    axes = (1, 2) if entry.name.startswith(("generalized_dice", "lovasz_softmax")) else (1, 2, 3)
    expected = entry.function(y, p, axis=axes, reduction="per_sample")
    np.testing.assert_allclose(float(cls()(y, p)), np.mean(expected), rtol=1e-6)


@pytest.mark.parametrize("entry", LOSSES.values(), ids=lambda e: e.class_name)
def test_every_loss_config_round_trips_and_is_complete(entry):
    cls = getattr(xk, entry.class_name)
    loss = round_trip(cls(axis=[1, 2], reduction="sum", name="custom"))
    assert loss.axis == (1, 2) and loss.reduction == "sum" and loss.name == "custom"
    options = set(cls.__signature__.parameters) - KERAS_KEYWORDS
    assert options <= loss.get_config().keys()
    assert "reduction" not in options and "all_reduce" not in options
    assert ("class_weight" in options) == ("weight" in entry.options.names)
    round_trip(cls())


@pytest.mark.parametrize("entry", LOSSES.values(), ids=lambda e: e.class_name)
def test_every_loss_saves_and_reloads_in_a_model(entry, tmp_path):
    cls = getattr(xk, entry.class_name)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="softmax")(inputs))
    options = {"smooth_nr": 0.5} if "smooth_nr" in cls.core.names else {}
    model.compile(optimizer="adam", loss=cls(**options))
    y, p = case(1, batch=8)
    model.fit(p, y, batch_size=4, epochs=1, verbose=0)  # builds the optimizer's state too
    before = model.evaluate(p, y, batch_size=4, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert type(reloaded.loss) is cls
    assert reloaded.loss.get_config() == model.loss.get_config()
    np.testing.assert_allclose(reloaded.evaluate(p, y, batch_size=4, verbose=0), before, rtol=1e-6)


@pytest.mark.parametrize("entry", METRICS.values(), ids=lambda e: e.class_name)
def test_every_metric_is_a_keras_class_equal_to_the_core(entry):
    cls = getattr(xk, entry.class_name)
    assert entry.class_name in xk.__all__ and cls.__module__ == "xploss.keras"
    assert cls().name == NAMES[entry.class_name] == entry.name
    options = dict(entry.options().items())  # the metric's defaults: hard, unsmoothed
    function = FUNCTIONS[entry.name]
    y, p = case(2, batch=6)
    pooled, per_class = cls(), cls(num_classes=3)
    for rows in (slice(0, 2), slice(2, 6)):
        pooled.update_state(y[rows], p[rows])
        per_class.update_state(np.argmax(y[rows], -1), p[rows])  # class indices
    assert keras.backend.standardize_dtype(pooled.result().dtype) == "float32"
    np.testing.assert_allclose(float(pooled.result()), function(y, p, **options), rtol=1e-6)
    options["axis"] = (0, 1, 2)
    np.testing.assert_allclose(float(per_class.result()), function(y, p, **options), rtol=1e-6)


@pytest.mark.parametrize("entry", METRICS.values(), ids=lambda e: e.class_name)
def test_every_metric_config_round_trips_and_is_complete(entry):
    cls = getattr(xk, entry.class_name)
    metric = round_trip(cls(num_classes=3, threshold=None, from_logits="softmax", name="m"))
    assert metric.num_classes == 3 and metric.threshold is None and metric.name == "m"
    options = set(cls.__signature__.parameters) - KERAS_KEYWORDS
    assert options == metric.get_config().keys() - KERAS_KEYWORDS
    assert "num_classes" in options and "axis" not in options
    round_trip(cls())
    with pytest.raises(ValueError, match="num_classes=0 must be None or an int >= 1"):
        cls(num_classes=0)


@contextlib.contextmanager
def jax_x64(enabled: bool):
    """``jax_enable_x64`` set for the block (JAX only; the other backends have float64)."""
    if BACKEND != "jax":
        yield
        return
    import jax

    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


@pytest.mark.parametrize("x64", [False, True], ids=["default", "x64"])
@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_metric_state_is_float64_where_the_backend_has_it(policy, x64):
    expected = "float32" if BACKEND == "jax" and not x64 else "float64"
    y, p = case(3)
    keras.mixed_precision.set_global_policy(policy)
    try:
        with jax_x64(x64):
            for entry in METRICS.values():
                metric = getattr(xk, entry.class_name)(num_classes=3)
                metric.update_state(
                    y, keras.ops.cast(p, keras.mixed_precision.global_policy().compute_dtype)
                )
                dtypes = {keras.backend.standardize_dtype(v.dtype) for v in metric.variables}
                assert dtypes == {expected}, (entry.class_name, dtypes)
                assert keras.backend.standardize_dtype(metric.result().dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_a_float64_state_counts_past_2_to_the_24():
    """2**24 + 1 is no float32: a float32 state would count 2**24 + 1 positives as 2**24."""
    with jax_x64(True):
        metric = xk.TruePositiveRate()
        tp, sum_true, _ = metric.variables
        tp.assign(2.0**24)
        sum_true.assign(2.0**24)
        metric.update_state(np.ones((1, 1), "float32"), np.zeros((1, 1), "float32"))  # a miss
        assert float(metric.result()) == float(np.float32(2.0**24 / (2.0**24 + 1))) < 1
