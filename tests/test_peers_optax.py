"""Cross-entropy and focal losses against optax, and the options of the new losses compiled.

optax returns one value per element (per example for the softmax forms, per logit for the
sigmoid ones): ``reduction="none", axis=()`` gives the same array here, and the mean is optax's
``.mean()``. Values and ``jax.grad`` gradients (of a random weighting of the elements, which
checks the whole vector-Jacobian product) agree to 1e-6 in float64. The published cases are
optax's own tests (``optax/losses/_classification_test.py``).

``test_registry.py`` runs every registered loss through ``jax.jit`` and
``tf.function(jit_compile=True)`` with its default options (softmax logits, class indices);
the compiled checks here cover what it does not: deep supervision, ``pos_weight``, label
smoothing, ``exclusive`` probabilities, per-class ``alpha`` and class weights, sigmoid logits.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import xploss
from tests import backends

RNG = np.random.default_rng(1818)
SHAPE = (2, 4, 5, 3)  # (B, H, W, C)
TOLERANCE = {"rtol": 1e-6, "atol": 1e-9}


@pytest.fixture(autouse=True, scope="module")
def x64():
    """Float64 in JAX (optax casts the labels to the logits' dtype): the suite's JAX backend
    turns ``jax_enable_x64`` on for the session, and the compiled checks below use it."""
    backends.make("jax")
    assert jax.config.read("jax_enable_x64")


def logits(shape=SHAPE, scale=2.0):
    return RNG.normal(0.0, scale, shape)


def labels_of(shape=SHAPE):
    return RNG.integers(0, shape[-1], shape[:-1])


def targets(kind, shape=SHAPE):
    if kind == "one-hot":
        return np.eye(shape[-1])[labels_of(shape)]
    if kind == "soft":
        return RNG.dirichlet(np.ones(shape[-1]), shape[:-1])
    if kind == "binary":
        return (RNG.random(shape) < 0.4).astype(np.float64)
    assert kind == "soft-binary"
    return RNG.random(shape)


def assert_same_values_and_gradients(ours, theirs, z):
    """``ours(z)`` and ``theirs(z)``, and the gradients of a random weighting of their elements
    (the whole vector-Jacobian product, not one direction)."""
    z = jnp.asarray(z)
    got, expected = ours(z), theirs(z)
    assert got.shape == expected.shape and got.dtype == jnp.float64
    np.testing.assert_allclose(got, expected, **TOLERANCE)
    cotangent = jnp.asarray(RNG.uniform(0.5, 1.5, expected.shape))
    grad_ours = jax.grad(lambda x: jnp.sum(cotangent * ours(x)))(z)
    grad_theirs = jax.grad(lambda x: jnp.sum(cotangent * theirs(x)))(z)
    np.testing.assert_allclose(grad_ours, grad_theirs, **TOLERANCE)


@pytest.mark.parametrize("kind", ["one-hot", "soft"])
def test_softmax_cross_entropy(kind):
    y, z = targets(kind), logits()
    per_element = functools.partial(
        xploss.cross_entropy, from_logits=True, axis=(), reduction="none"
    )
    assert_same_values_and_gradients(
        lambda x: per_element(y, x), lambda x: optax.softmax_cross_entropy(x, y), z
    )
    assert_same_values_and_gradients(
        lambda x: xploss.cross_entropy(y, x, from_logits="softmax"),
        lambda x: optax.softmax_cross_entropy(x, y).mean(),
        z,
    )


def test_softmax_cross_entropy_where_is_the_mask():
    """optax's ``where`` leaves elements out (their value 0); the mean over the kept ones is
    ours with ``mask``."""
    y, z = targets("soft"), logits()
    where = RNG.random(SHAPE[:-1]) < 0.7
    theirs = optax.softmax_cross_entropy(z, y, where=where)
    mask = where[..., None]  # an element mask, on y_pred's class axis
    ours = xploss.cross_entropy(y, z, from_logits=True, axis=(), reduction="none", mask=mask)
    np.testing.assert_allclose(ours, theirs, **TOLERANCE)
    mean = xploss.cross_entropy(y, z, from_logits=True, mask=mask)
    np.testing.assert_allclose(mean, theirs.sum() / where.sum(), **TOLERANCE)


@pytest.mark.parametrize("class_axis", [-1, 1])
def test_softmax_cross_entropy_with_integer_labels(class_axis):
    labels, z = labels_of(), logits()
    if class_axis != -1:
        z = np.moveaxis(z, -1, class_axis)
    assert_same_values_and_gradients(
        lambda x: xploss.cross_entropy(
            labels, x, from_logits=True, class_axis=class_axis, axis=(), reduction="none"
        ),
        lambda x: optax.softmax_cross_entropy_with_integer_labels(x, labels, axis=class_axis),
        z,
    )
    assert_same_values_and_gradients(
        lambda x: xploss.cross_entropy(labels, x, from_logits=True, class_axis=class_axis),
        lambda x: optax.softmax_cross_entropy_with_integer_labels(
            x, labels, axis=class_axis
        ).mean(),
        z,
    )


@pytest.mark.parametrize("kind", ["binary", "soft-binary"])
def test_sigmoid_binary_cross_entropy(kind):
    y, z = targets(kind), logits(scale=4.0)
    assert_same_values_and_gradients(
        lambda x: xploss.binary_cross_entropy(y, x, from_logits=True, axis=(), reduction="none"),
        lambda x: optax.sigmoid_binary_cross_entropy(x, y),
        z,
    )
    assert_same_values_and_gradients(
        lambda x: xploss.binary_cross_entropy(y, x, from_logits=True),
        lambda x: optax.sigmoid_binary_cross_entropy(x, y).mean(),
        z,
    )


@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("gamma", [0.0, 2.0, 0.5])
@pytest.mark.parametrize("kind", ["binary", "soft-binary"])
def test_sigmoid_focal_loss(alpha, gamma, kind):
    y, z = targets(kind), logits(scale=4.0)
    options = {"from_logits": True, "alpha": alpha, "gamma": gamma}
    assert_same_values_and_gradients(
        lambda x: xploss.focal_loss(y, x, axis=(), reduction="none", **options),
        lambda x: optax.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma),
        z,
    )
    assert_same_values_and_gradients(
        lambda x: xploss.focal_loss(y, x, **options),
        lambda x: optax.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma).mean(),
        z,
    )


# optax's published cases.

YS = np.array([[10.0, 1.0, -2.0], [1.0, 4.0, 0.2]])
TS = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_optax_softmax_cross_entropy_case():
    # SoftmaxCrossEntropyTest: expected [9.00013, 3.0696733] (optax: atol 1e-4).
    got = xploss.cross_entropy(TS, YS, from_logits=True, axis=(), reduction="none")
    np.testing.assert_allclose(got, [9.00013, 3.0696733], rtol=1e-6)
    scalar = xploss.cross_entropy(TS[0], YS[0], from_logits=True, reduction="none")
    np.testing.assert_allclose(scalar, 9.00013, rtol=1e-6)
    labels = np.array([1, 0])  # SoftmaxCrossEntropyWithIntegerLabelsTest: the same values
    got = xploss.cross_entropy(labels, YS, from_logits=True, axis=(), reduction="none")
    np.testing.assert_allclose(got, [9.00013, 3.0696733], rtol=1e-6)


@pytest.mark.parametrize(
    ("preds", "labels", "expected"),
    [
        ([-1e09, -1e-09], [1.0, 0.0], 5e08),
        ([-1e09, -1e-09], [0.0, 1.0], 0.3465736),
        ([1e09, 1e-09], [1.0, 0.0], 0.3465736),
        ([1e09, 1e-09], [0.0, 1.0], 5e08),
        ([-1e09, 1e-09], [1.0, 0.0], 5e08),
        ([-1e09, 1e-09], [0.0, 1.0], 0.3465736),
        ([1e09, -1e-09], [1.0, 0.0], 0.3465736),
        ([1e09, -1e-09], [0.0, 1.0], 5e08),
        ([0.0, 0.0], [1.0, 0.0], 0.6931472),
        ([0.0, 0.0], [0.0, 1.0], 0.6931472),
    ],
)
def test_optax_sigmoid_cross_entropy_cases(preds, labels, expected):
    # SigmoidCrossEntropyTest: the mean over the two logits, rtol = atol = 1e-6 as optax's.
    got = xploss.binary_cross_entropy(np.array(labels), np.array(preds), from_logits=True)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


FOCAL_YS = np.array([[2.0, 0.1, -2.0], [0.3, -0.1, 1.2]])
FOCAL_TS = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def focal(y, z, **options):
    return xploss.focal_loss(y, z, from_logits=True, axis=(), reduction="none", **options)


def bce(y, z):
    return xploss.binary_cross_entropy(y, z, from_logits=True, axis=(), reduction="none")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_optax_sigmoid_focal_loss_cases():
    """SigmoidFocalLossTest's relations on its inputs (optax holds them to 2e-5 in float32)."""
    ys, ts = FOCAL_YS, FOCAL_TS
    ce = bce(ts, ys)
    # test_focal_equals_ce and test_focal_gamma_zero_matches_binary_cross_entropy
    np.testing.assert_allclose(focal(ts, ys, gamma=0.0), ce, **TOLERANCE)
    logits2 = np.array([[-1.0, 0.0, 1.0], [2.0, -2.0, 0.5]])
    labels2 = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(focal(labels2, logits2, gamma=0.0), bce(labels2, logits2))
    # test_scale: focal / ce = (1 - p_t)^gamma
    p = sigmoid(ys)
    p_t = p * ts + (1 - p) * (1 - ts)
    np.testing.assert_allclose(focal(ts, ys, gamma=2.0) / ce, (1 - p_t) ** 2, **TOLERANCE)
    # test_large_logit_fl_less_than_ce and test_small_logit_fl_less_than_ce
    ones = np.ones(4)
    for probabilities, alpha, factor in (([0.9, 0.98, 0.3, 0.99], 0.5, 2.0),
                                         ([0.1, 0.02, 0.09, 0.15], None, 1.0)):  # fmt: skip
        q = np.array(probabilities)
        z = np.log(q / (1 - q))
        ratio = bce(ones, z) / focal(ones, z, gamma=2.0, alpha=alpha)
        np.testing.assert_allclose(ratio, factor / (1 - sigmoid(z)) ** 2, **TOLERANCE)
    # test_alpha_one: gamma 0, alpha 1 keeps the positives' cross-entropy alone
    np.testing.assert_allclose(focal(ts, ys, gamma=0.0, alpha=1.0), ce * ts, **TOLERANCE)
    # test_ignore_positive and test_ignore_negative: exactly 0
    assert np.all(ce[ts == 1] > 0) and np.all(focal(ts, ys, alpha=0.0)[ts == 1] == 0)
    assert np.all(ce[ts == 0] > 0) and np.all(focal(ts, ys, alpha=1.0)[ts == 0] == 0)


def test_optax_extreme_logits_have_finite_gradients_and_hessians():
    """test_extreme_logits_finite_gradients: soft labels, gamma = 0.5, logits at ±100; the value
    and gradient also equal optax's."""
    z = jnp.array([100.0, -100.0, 75.0, -75.0, 50.0, -50.0])
    y = jnp.array([0.9, 0.1, 0.8, 0.2, 1.0, 0.0])

    def ours(x):
        return xploss.focal_loss(y, x, from_logits=True, gamma=0.5, reduction="sum", axis=())

    def theirs(x):
        return jnp.sum(optax.sigmoid_focal_loss(x, y, gamma=0.5))

    value, gradient = jax.jit(jax.value_and_grad(ours))(z)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    np.testing.assert_allclose(value, theirs(z), **TOLERANCE)
    np.testing.assert_allclose(gradient, jax.grad(theirs)(z), rtol=1e-6, atol=1e-12)
    assert np.all(np.isfinite(jax.jit(jax.hessian(ours))(z)))


# The new losses' options compiled: jax.jit and tf.function(jit_compile=True) against eager
# NumPy float64.

LABELS = RNG.integers(0, 3, SHAPE[:-1])
ONE_HOT = np.eye(3)[LABELS]
SOFT = RNG.dirichlet(np.ones(3), SHAPE[:-1])
LOGITS = logits()
PROBABILITIES = RNG.dirichlet(np.ones(3), SHAPE[:-1])  # exclusive classes
INDEPENDENT = RNG.uniform(0.02, 0.98, SHAPE)  # a probability per channel
HALF = logits((2, 2, 2, 3))  # nearest: rows 1, 3 of 4 and columns floor((i + 1/2)·5/2) = 1, 3 of 5
WEIGHT = (1.0, 2.0, 0.5)
ALPHA = (0.25, 0.5, 0.75)

COMPILED_CASES = {
    "cross_entropy-probabilities-smoothing-weight": (
        xploss.cross_entropy, LABELS, PROBABILITIES,
        {"label_smoothing": 0.1, "weight": WEIGHT, "axis": (1, 2)},
    ),
    "cross_entropy-soft-smoothing-none": (
        xploss.cross_entropy, SOFT, LOGITS,
        {"from_logits": True, "label_smoothing": 0.2, "reduction": "none"},
    ),
    "binary_cross_entropy-logits-pos_weight-smoothing": (
        xploss.binary_cross_entropy, ONE_HOT, LOGITS,
        {"from_logits": True, "pos_weight": (1.0, 2.0, 3.0), "label_smoothing": 0.2,
         "axis": (1, 2), "reduction": "none"},
    ),
    "binary_cross_entropy-probabilities-pos_weight": (
        xploss.binary_cross_entropy, ONE_HOT, INDEPENDENT,
        {"pos_weight": 2.0, "label_smoothing": 0.1},
    ),
    "focal_loss-sigmoid-alpha-per-class": (
        xploss.focal_loss, ONE_HOT, LOGITS,
        {"from_logits": True, "alpha": ALPHA, "gamma": 1.5, "label_smoothing": 0.1,
         "axis": (1, 2), "weight": WEIGHT},
    ),
    "focal_loss-exclusive-alpha-per-class": (
        xploss.focal_loss, LABELS, PROBABILITIES,
        {"exclusive": True, "alpha": ALPHA, "label_smoothing": 0.1},
    ),
    "focal_loss-softmax-no-background": (
        xploss.focal_loss, LABELS, LOGITS,
        {"from_logits": "softmax", "alpha": 0.25, "gamma": 0.5, "include_background": False},
    ),
    "dice_ce_loss-exclusive-smoothing-weight": (
        xploss.dice_ce_loss, LABELS, PROBABILITIES,
        {"exclusive": True, "label_smoothing": 0.1, "weight": WEIGHT, "axis": (1, 2)},
    ),
    "dice_ce_loss-sigmoid-lambdas": (
        xploss.dice_ce_loss, ONE_HOT, LOGITS,
        {"from_logits": True, "label_smoothing": 0.1, "lambda_dice": 0.5, "lambda_ce": 2.0},
    ),
    "dice_focal_loss-sigmoid-alpha-weight": (
        xploss.dice_focal_loss, ONE_HOT, LOGITS,
        {"from_logits": True, "alpha": ALPHA, "gamma": 1.5, "weight": WEIGHT, "axis": (1, 2)},
    ),
    "dice_focal_loss-exclusive": (
        xploss.dice_focal_loss, LABELS, PROBABILITIES,
        {"exclusive": True, "alpha": 0.25, "label_smoothing": 0.1, "lambda_focal": 2.0},
    ),
    "generalized_dice_focal_loss-exclusive-alpha-per-class": (
        xploss.generalized_dice_focal_loss, LABELS, PROBABILITIES,
        {"exclusive": True, "alpha": ALPHA, "label_smoothing": 0.1, "axis": (1, 2)},
    ),
    "generalized_dice_focal_loss-sigmoid-weight": (
        xploss.generalized_dice_focal_loss, ONE_HOT, LOGITS,
        {"from_logits": True, "gamma": 1.5, "weight": WEIGHT, "axis": (1, 2),
         "weight_type": "simple"},
    ),
    "deep_supervision_loss-dice_ce-labels": (
        functools.partial(xploss.deep_supervision_loss, xploss.dice_ce_loss), LABELS,
        [LOGITS, HALF], {"from_logits": "softmax", "label_smoothing": 0.1, "axis": (1, 2)},
    ),
    "deep_supervision_loss-focal-soft-average": (
        functools.partial(xploss.deep_supervision_loss, xploss.focal_loss), SOFT[:, :, :4],
        [LOGITS[:, :, :4], HALF],
        {"from_logits": "softmax", "weights": (1.0, 0.5), "mode": "average", "alpha": ALPHA},
    ),
}  # fmt: skip
COMPILED = [n for n in ("jax-jit", "tf-function") if n in backends.selected_names()]


@pytest.mark.parametrize("case", list(COMPILED_CASES))
@pytest.mark.parametrize("name", COMPILED)
def test_compiled_options_equal_eager_numpy(case, name):
    function, y_true, y_pred, options = COMPILED_CASES[case]
    expected = np.asarray(function(y_true, y_pred, **options))
    backend = backends.make(name)
    pred = (
        [backend.asarray(p) for p in y_pred]
        if isinstance(y_pred, list)
        else backend.asarray(y_pred)
    )
    got = backend.to_numpy(backend.call(function, backend.asarray(y_true), pred, **options))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
