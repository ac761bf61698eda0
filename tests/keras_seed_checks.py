"""The Keras snippets of the README's "From the Keras snippets" table, run as written beside the
xploss code of each row. Run by ``test_keras.py`` once per Keras backend, in its own process
(``KERAS_BACKEND``).

Each row is checked twice on random data: the code of its second column against the snippet
called on the same arrays (reduced as Keras reduces a loss: the mean of what it returns), and
the code of its third column in ``compile`` against the snippet in ``compile`` (what ``fit``
logs). The model of the ``fit`` checks passes its input through unchanged (or through a
sigmoid) and has no weights, so its logs are the loss and metrics of the given predictions.
The other tests check what the table says about the ``xk`` classes and where the snippets and
xploss part ways.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import re
import warnings
from collections.abc import Callable

import keras
import numpy as np
import pytest
from keras import ops

import xploss
import xploss.keras as xk
from tests.keras_snippets import (
    bce_dice,
    dice_coef,
    gen_dice,
    generalized_dice_loss_w,
    true_positive_rate,
    weighted_loss,
)

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(16)
# weighted_loss casts to int64, which JAX without jax_enable_x64 truncates to int32, with a warning
pytestmark = pytest.mark.filterwarnings("ignore:Explicitly requested dtype int64")

# ---- helpers ----------------------------------------------------------------------------------
README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
CLOSE = {"rtol": 1e-6, "atol": 1e-7}
SMOOTH_1 = {"smooth_nr": 1, "smooth_dr": 1}
WEIGHTS = {0: 1, 1: 1, 2: 1, 3: 1, 4: 1000}


def value(x) -> float:
    """A Keras loss function's value as Keras reduces it: the mean of what it returns."""
    return float(ops.convert_to_numpy(ops.mean(ops.convert_to_tensor(x))))


def tensors(*arrays):
    return [ops.convert_to_tensor(a) for a in arrays]


def fit_logs(
    x, y, *, loss="mse", metrics=(), batch_size=None, run_eagerly=False, activation="linear"
) -> dict:
    """What ``fit`` logs for one epoch of a model whose output is its input ``x`` (or the
    ``activation`` of it)."""
    model = keras.Sequential([keras.Input(x.shape[1:]), keras.layers.Activation(activation)])
    model.compile(optimizer="adam", loss=loss, metrics=list(metrics), run_eagerly=run_eagerly)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The model does not have any trainable weights")
        history = model.fit(
            x, y, batch_size=batch_size or len(x), epochs=1, verbose=0, shuffle=False
        )
    return {name: float(values[-1]) for name, values in history.history.items()}


def binary_batch(n: int, size: int = 16):
    """Binary masks (B, H, W, 1) and probabilities, with ties at 0.5 on some positives."""
    y = (RNG.random((n, size, size, 1)) < 0.4).astype("float32")
    p = RNG.random((n, size, size, 1)).astype("float32")
    p[:, :2, :2][y[:, :2, :2] == 1] = 0.5  # not a positive prediction: strict p > 0.5
    return y, p


def one_hot_batch(shape: tuple[int, ...], classes: int, *, absent=()):
    """One-hot targets in which every class but ``absent`` is present in every sample."""
    present = [c for c in range(classes) if c not in absent]
    labels = RNG.choice(present, shape)
    labels.reshape(shape[0], -1)[:, : len(present)] = present  # each present class at least once
    return np.eye(classes, dtype="float32")[labels]


def five_classes(n: int):
    """One-hot (B, H, W, 5) targets and independent (sigmoid) probabilities."""
    y = one_hot_batch((n, 16, 16), 5)
    return y, RNG.random(y.shape).astype("float32")


def volumes(n: int, *, absent=()):
    """One-hot (B, D1, D2, D3, 4) targets and softmax probabilities."""
    y = one_hot_batch((n, 6, 6, 6), 4, absent=absent)
    return y, RNG.dirichlet(np.ones(4), y.shape[:-1]).astype("float32")


def images_and_logits(n: int, *, absent=()):
    """One-hot (B, H, W, 3) targets and logits."""
    y = one_hot_batch((n, 8, 8), 3, absent=absent)
    return y, (RNG.normal(size=y.shape) * 2).astype("float32")


@dataclasses.dataclass
class Snippet:
    function: Callable
    kind: str  # "loss" or "metric": where compile takes it
    data: tuple[np.ndarray, np.ndarray]  # (y_true, y_pred)
    batch_size: int  # fit runs several batches of this size


SNIPPETS = {
    "dice_coef": Snippet(dice_coef, "metric", binary_batch(12), 4),
    "bce_dice": Snippet(bce_dice, "loss", binary_batch(12), 4),
    "true_positive_rate": Snippet(true_positive_rate, "metric", binary_batch(12), 4),
    "weighted_loss": Snippet(weighted_loss(WEIGHTS), "loss", five_classes(4), 2),
    "generalized_dice_loss_w": Snippet(generalized_dice_loss_w, "loss", volumes(4), 2),
    "gen_dice": Snippet(gen_dice, "loss", images_and_logits(6), 3),
}
NUMPY_TIMES_TENSOR = "generalized_dice_loss_w multiplies a NumPy array by a tensor: not in PyTorch"


def readme_rows() -> dict[str, tuple[str, str]]:
    """``{snippet: (code of the second column, code of the third)}``: the first code span of
    each cell; ``...`` in the third column stands for the code of the second."""
    section = README.read_text().split("\n## From the Keras snippets\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        name, function, in_compile = (re.search(r"`([^`]+)`", c).group(1) for c in cells)
        name = re.match(r"\w+", name).group()
        rows[name] = (function, in_compile.replace("...", function))
    return rows


def evaluate(code: str, **names):
    namespace = {"keras": keras, "xploss": xploss, "xk": xk, "functools": functools}
    return eval(code, namespace, names)


def snippet_log(name: str, snippet: Snippet) -> float:
    """What ``fit`` logs with the snippet in ``compile``: its loss, or its metric."""
    y, p = snippet.data
    size = snippet.batch_size
    if snippet.kind == "metric":
        return fit_logs(p, y, metrics=[snippet.function], batch_size=size)[name]
    if name != "generalized_dice_loss_w":
        return fit_logs(p, y, loss=snippet.function, batch_size=size)["loss"]
    if BACKEND == "tensorflow":  # it reads its targets with NumPy: eager execution only
        return fit_logs(p, y, loss=snippet.function, batch_size=size, run_eagerly=True)["loss"]
    # Keras traces the loss of a JAX model even with run_eagerly=True: the mean of the batch
    # values is what fit would log
    batches = [tensors(y[i : i + size], p[i : i + size]) for i in range(0, len(y), size)]
    return float(np.mean([value(snippet.function(*batch)) for batch in batches]))


# ---- the README's table, row by row ---------------------------------------------------------
def test_the_readme_has_a_row_for_every_snippet():
    assert set(readme_rows()) == set(SNIPPETS)


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_the_readme_row_gives_the_snippets_value(name):
    if name == "generalized_dice_loss_w" and BACKEND == "torch":
        pytest.skip(NUMPY_TIMES_TENSOR)
    function, _ = readme_rows()[name]
    snippet = SNIPPETS[name]
    y, p = tensors(*snippet.data)
    ours = evaluate(function, y_true=y, y_pred=p)
    np.testing.assert_allclose(value(ours), value(snippet.function(y, p)), **CLOSE)


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_the_readme_row_gives_the_snippets_value_in_fit(name):
    if name == "generalized_dice_loss_w" and BACKEND == "torch":
        pytest.skip(NUMPY_TIMES_TENSOR)
    _, in_compile = readme_rows()[name]
    snippet = SNIPPETS[name]
    y, p = snippet.data
    ours = evaluate(in_compile)
    if snippet.kind == "metric":
        logs = fit_logs(p, y, metrics=[ours], batch_size=snippet.batch_size)
        got = logs[ours.name]
    else:
        got = fit_logs(p, y, loss=ours, batch_size=snippet.batch_size)["loss"]
    np.testing.assert_allclose(got, snippet_log(name, snippet), **CLOSE)


# ---- what the table says about the xk classes, and where the snippets part ways -------------
def test_the_pooled_dice_metric_equals_dice_coef_only_for_one_image():
    y, p = binary_batch(12)

    def pooled():  # a new metric for each model
        return xk.DiceCoefficient(threshold=None, smooth_nr=1, smooth_dr=1, name="pooled")

    logs = fit_logs(p, y, metrics=[dice_coef, pooled()], batch_size=4)
    # the soft Dice of every pixel of the epoch, smoothed once
    np.testing.assert_allclose(
        logs["pooled"], float(xploss.dice_coefficient(y, p, **SMOOTH_1)), **CLOSE
    )
    assert abs(logs["pooled"] - logs["dice_coef"]) > 1e-3
    one = fit_logs(p[:1], y[:1], metrics=[dice_coef, pooled()])
    np.testing.assert_allclose(one["pooled"], one["dice_coef"], **CLOSE)


def test_the_per_image_bce_dice_loss_is_larger_unless_the_batch_holds_one_image():
    y, p = binary_batch(4)
    per_image = xk.BCEDiceLoss(smooth_nr=1, smooth_dr=1)
    theirs, ours = fit_logs(p, y, loss=bce_dice), fit_logs(p, y, loss=per_image)
    expected = xploss.bce_dice_loss(y, p, axis=(1, 2, 3), **SMOOTH_1, reduction="none")
    np.testing.assert_allclose(ours["loss"], float(np.mean(expected)), **CLOSE)
    assert ours["loss"] > theirs["loss"] + 1e-4  # mean(-log D_i) >= -log(mean D_i)
    theirs, ours = fit_logs(p[:1], y[:1], loss=bce_dice), fit_logs(p[:1], y[:1], loss=per_image)
    np.testing.assert_allclose(ours["loss"], theirs["loss"], **CLOSE)


def test_the_pooled_true_positive_rate_equals_the_snippet_on_one_batch():
    y, p = binary_batch(12)
    y[8:, 4:] = 0  # the last batch has fewer positives: it weighs less in the pooled recall
    one_batch = fit_logs(p, y, metrics=[true_positive_rate, xk.TruePositiveRate(name="pooled")])
    np.testing.assert_allclose(one_batch["pooled"], one_batch["true_positive_rate"], **CLOSE)
    three = fit_logs(
        p, y, metrics=[true_positive_rate, xk.TruePositiveRate(name="pooled")], batch_size=4
    )
    np.testing.assert_allclose(three["pooled"], float(xploss.true_positive_rate(y, p)), **CLOSE)
    assert abs(three["pooled"] - three["true_positive_rate"]) > 1e-3


def test_the_bce_of_a_sigmoid_layer_on_each_backend():
    """On TensorFlow, Keras' binary_crossentropy of a sigmoid layer's output reads the logits
    behind it; on JAX and PyTorch, as in xploss, it clips the probabilities to [1e-7, 1 - 1e-7]."""
    y, _ = binary_batch(4)
    z = (RNG.normal(size=y.shape) * 2).astype("float32")
    z[:, :3, :3] = np.where(y[:, :3, :3] == 1, -30.0, 30.0)  # confidently wrong pixels
    ours = functools.partial(xploss.bce_dice_loss, axis=(1, 2, 3), smooth_nr=1, smooth_dr=1)
    theirs = fit_logs(z, y, loss=bce_dice, activation="sigmoid")["loss"]
    clipped = fit_logs(z, y, loss=ours, activation="sigmoid")["loss"]
    from_logits = fit_logs(z, y, loss=functools.partial(ours, from_logits=True))["loss"]
    if BACKEND == "tensorflow":
        np.testing.assert_allclose(from_logits, theirs, **CLOSE)  # a model ending with logits
        assert clipped < theirs - 0.1
    else:
        np.testing.assert_allclose(clipped, theirs, **CLOSE)
        assert from_logits > theirs + 0.1
    # without confident pixels the two forms agree to float32 rounding on every backend
    z = np.clip(z, -4, 4)
    np.testing.assert_allclose(
        fit_logs(z, y, loss=ours, activation="sigmoid")["loss"],
        fit_logs(z, y, loss=bce_dice, activation="sigmoid")["loss"],
        **CLOSE,
    )


def test_a_batch_without_positives():
    y, p = tensors(*binary_batch(2))
    nothing = ops.zeros_like(y)  # the snippet divides 0 by 0
    assert np.isnan(value(true_positive_rate(nothing, p)))
    assert np.isnan(float(xploss.true_positive_rate(nothing, p, zero_division=float("nan"))))
    assert float(xploss.true_positive_rate(nothing, p)) == 0.0  # the default zero_division


def test_the_class_weighted_loss_weighs_each_pixel_by_its_class_index():
    y, p = tensors(*five_classes(2))
    rows = readme_rows()
    theirs = value(weighted_loss(WEIGHTS)(y, p))
    # zip over the dict reads its keys: the weight of a pixel is its class index
    keys = rows["weighted_loss"][0].replace(
        'keras.ops.cast(keras.ops.argmax(y_true, axis=-1), "float32")',
        "keras.ops.take(keras.ops.convert_to_tensor(weights), keras.ops.argmax(y_true, axis=-1))",
    )
    assert keys != rows["weighted_loss"][0]
    by_keys = evaluate(keys, y_true=y, y_pred=p, weights=[float(k) for k in WEIGHTS])
    np.testing.assert_allclose(value(by_keys), theirs, **CLOSE)
    by_values = evaluate(keys, y_true=y, y_pred=p, weights=[float(w) for w in WEIGHTS.values()])
    assert abs(value(by_values) - theirs) > 1.0
    assert theirs < 0  # BCE - 1 - D is negative wherever the BCE is below 1 + D


def test_an_absent_class_in_the_generalized_dice_for_volumes():
    if BACKEND == "torch":
        pytest.skip(NUMPY_TIMES_TENSOR)
    y, p = tensors(*volumes(2, absent=(3,)))
    theirs = value(generalized_dice_loss_w(y, p))
    ours = float(xploss.generalized_dice_loss(y, p, axis=(0, 1, 2, 3), smooth_nr=0, smooth_dr=0))
    assert theirs > 0.99 and ours < 0.9  # its weight 1/1e-5 lets its false positives swamp GD


def test_the_per_volume_generalized_dice_loss_equals_the_snippet_for_one_volume():
    y, p = volumes(1)
    ours = fit_logs(p, y, loss=xk.GeneralizedDiceLoss(smooth_nr=0, smooth_dr=0))["loss"]
    pooled = float(xploss.generalized_dice_loss(y, p, axis=(0, 1, 2, 3), smooth_nr=0, smooth_dr=0))
    np.testing.assert_allclose(ours, pooled, **CLOSE)
    y, p = volumes(2)
    ours = fit_logs(p, y, loss=xk.GeneralizedDiceLoss(smooth_nr=0, smooth_dr=0))["loss"]
    pooled = float(xploss.generalized_dice_loss(y, p, axis=(0, 1, 2, 3), smooth_nr=0, smooth_dr=0))
    assert abs(ours - pooled) > 1e-4


def test_an_absent_class_in_gen_dice():
    y, logits = images_and_logits(3, absent=(2,))
    ours = xploss.generalized_dice_loss(
        y, logits, axis=(1, 2), from_logits="softmax", smooth_nr=0, smooth_dr=0
    )
    # gen_dice weighs the absent class eps = 1e-6; xploss the largest weight of the present ones
    assert abs(float(ours) - value(gen_dice(*tensors(y, logits)))) > 1e-3
