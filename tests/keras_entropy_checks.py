"""The Keras cross-entropy and focal losses against Keras 3's own, the compounds and deep
supervision against the functional core, run by ``test_keras.py`` once per Keras backend.

Values are compared in float64 (``dtype="float64"`` on both losses; JAX has float64 only under
``jax_enable_x64``, set for this module). Keras' losses return one value per element of the
``(B, H, W)`` result, ours one per sample, the mean over ``H, W``: ``"sum_over_batch_size"``
agrees as is, ``"none"`` after the mean over the spatial axes, ``"sum"`` after dividing by
``H·W``. A per-sample ``sample_weight`` goes to Keras as ``(B, 1, 1)``, which broadcasts over
its per-element result. Keras 3.15's ``ops.mean`` computes float64 in float32 on JAX and torch
(``result_type`` demotes it, keras-team/keras#23223), so its binary and binary focal losses
agree to about 1e-7 there, 1e-16 on TensorFlow: hence rtol 1e-6. One shape throughout (and half
of it for deep supervision): JAX's eager dispatch compiles every primitive anew for each shape.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import xploss
import xploss.keras as xk

BACKEND = keras.backend.backend()
RNG = np.random.default_rng(18)
TOLERANCE = {"rtol": 1e-6, "atol": 1e-9}
GRID = (2, 4, 4, 3)  # channels-last (B, H, W, C)


@pytest.fixture(autouse=True, scope="module")
def float64():
    """Float64 tensors on every backend: JAX makes float32 ones without ``jax_enable_x64``, set
    for this module alone (the other check files run in the same process)."""
    if BACKEND != "jax":
        yield
        return
    import jax

    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", before)


def value(x):
    return np.asarray(keras.ops.convert_to_numpy(x), np.float64)


def probabilities(shape, zeros=True):
    """Unnormalised positive scores, a few of them zeros: both losses normalise over the classes
    and clip to ``[1e-7, 1 - 1e-7]``."""
    p = RNG.random(shape) + 0.05
    if zeros:
        p[RNG.random(shape) < 0.05] = 0.0
    return p


def probabilities01(shape):
    """Independent probabilities in (0, 1), and 0 and 1 to meet the clip."""
    p = RNG.uniform(0.02, 0.98, shape)
    p.flat[:3] = (0.0, 1.0, 0.5)
    return p


def logits(shape):
    # Moderate logits: Keras' binary and focal forms clip sigmoid(z) to [1e-7, 1 - 1e-7] where
    # ours take the stable log-sigmoid; the two meet for |z| < 16.
    return RNG.normal(0.0, 2.0, shape)


def one_hot(labels, classes=3):
    return np.eye(classes)[labels]


def labels_of(shape):
    return RNG.integers(0, shape[-1], shape[:-1])


def sample_weight(shape):
    return RNG.uniform(0.0, 2.0, shape[0])


def compare(ours, theirs, y_true, y_pred, *, theirs_true=None, reductions=None):
    """Ours (one value per sample) against a Keras loss (one value per element of ``(B, ...)``):
    the per-sample values, and the weighted mean of a per-sample ``sample_weight``; with
    ``reductions``, each of them with and without the weight."""
    theirs_true = y_true if theirs_true is None else theirs_true
    weight = sample_weight(y_pred.shape)
    checks = [("none", None), ("sum_over_batch_size", weight)]
    if reductions:
        checks = [(r, w) for r in reductions for w in (None, weight)]
    spatial = int(np.prod(y_pred.shape[1:-1]))
    for reduction, w in checks:
        got = ours(reduction=reduction, dtype="float64")(y_true, y_pred, sample_weight=w)
        spread = None if w is None else np.reshape(w, (-1,) + (1,) * (y_pred.ndim - 2))
        expected = value(
            theirs(reduction=reduction, dtype="float64")(theirs_true, y_pred, sample_weight=spread)
        )
        if reduction == "none":
            expected = expected.reshape(len(y_pred), -1).mean(axis=1)
        elif reduction == "sum":
            expected = expected / spatial
        np.testing.assert_allclose(value(got), expected, **TOLERANCE, err_msg=(reduction, w))


# CrossEntropyLoss against CategoricalCrossentropy and SparseCategoricalCrossentropy.


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("soft", [False, True], ids=["one-hot", "soft"])
def test_cross_entropy_is_keras_categorical_crossentropy(from_logits, label_smoothing, soft):
    y = RNG.dirichlet(np.ones(GRID[-1]), GRID[:-1]) if soft else one_hot(labels_of(GRID))
    p = logits(GRID) if from_logits else probabilities(GRID)
    options = {"from_logits": from_logits, "label_smoothing": label_smoothing}
    compare(
        lambda **kw: xk.CrossEntropyLoss(**options, **kw),
        lambda **kw: keras.losses.CategoricalCrossentropy(**options, **kw),
        y,
        p,
    )


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("trailing_one", [False, True], ids=["labels", "labels-1"])
def test_cross_entropy_of_class_indices_is_sparse_categorical_crossentropy(
    from_logits, trailing_one
):
    labels = labels_of(GRID)
    if trailing_one:
        labels = labels[..., None]  # (B, H, W, 1): Keras squeezes it, so do we
    # Normalised, no zeros: Keras' sparse loss on TensorFlow clips to [1e-7, 1 - 1e-7] before
    # it normalises (its JAX and torch backends, and its dense loss, normalise first).
    p = logits(GRID) if from_logits else RNG.dirichlet(np.ones(GRID[-1]), GRID[:-1])
    compare(
        lambda **kw: xk.CrossEntropyLoss(from_logits=from_logits, **kw),
        lambda **kw: keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, **kw),
        labels,
        p,
    )


def test_smoothed_class_indices_are_smoothed_one_hot_targets():
    """Keras' sparse loss has no label smoothing: its dense one takes the one-hot target."""
    labels = labels_of(GRID)
    compare(
        lambda **kw: xk.CrossEntropyLoss(from_logits=True, label_smoothing=0.2, **kw),
        lambda **kw: keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=0.2, **kw
        ),
        labels,
        logits(GRID),
        theirs_true=one_hot(labels),
    )


def test_channels_first_cross_entropy_is_keras_axis_1():
    labels = labels_of(GRID)
    z = np.moveaxis(logits(GRID), -1, 1)  # (B, C, H, W)
    compare(
        lambda **kw: xk.CrossEntropyLoss(from_logits=True, class_axis=1, **kw),
        lambda **kw: keras.losses.CategoricalCrossentropy(from_logits=True, axis=1, **kw),
        np.moveaxis(one_hot(labels), -1, 1),
        z,
        reductions=("sum_over_batch_size", "none"),
    )


# BinaryCrossEntropyLoss against BinaryCrossentropy.


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_binary_cross_entropy_is_keras_binary_crossentropy(from_logits, label_smoothing):
    y = (RNG.random(GRID) < 0.4).astype(np.float64)
    p = logits(GRID) if from_logits else probabilities01(GRID)
    options = {"from_logits": from_logits, "label_smoothing": label_smoothing}
    compare(
        lambda **kw: xk.BinaryCrossEntropyLoss(**options, **kw),
        lambda **kw: keras.losses.BinaryCrossentropy(**options, **kw),
        y,
        p,
    )


# FocalLoss against BinaryFocalCrossentropy and CategoricalFocalCrossentropy.

BINARY_FOCAL = [
    # (alpha (None: no class balancing), gamma, from_logits, label_smoothing)
    (0.25, 2.0, False, 0.0),
    (0.6, 1.5, True, 0.1),
    (None, 2.0, True, 0.0),
    (None, 0.5, False, 0.2),
    (0.25, 0.0, False, 0.1),
]


def binary_focal_pair(alpha, gamma, from_logits, label_smoothing):
    options = {"gamma": gamma, "from_logits": from_logits, "label_smoothing": label_smoothing}
    balancing = {"apply_class_balancing": alpha is not None}
    if alpha is not None:
        balancing["alpha"] = alpha
    return (
        lambda **kw: xk.FocalLoss(alpha=alpha, **options, **kw),
        lambda **kw: keras.losses.BinaryFocalCrossentropy(**balancing, **options, **kw),
    )


@pytest.mark.parametrize(("alpha", "gamma", "from_logits", "label_smoothing"), BINARY_FOCAL)
def test_focal_loss_is_keras_binary_focal_crossentropy(alpha, gamma, from_logits, label_smoothing):
    y = (RNG.random(GRID) < 0.4).astype(np.float64)
    p = logits(GRID) if from_logits else probabilities01(GRID)
    compare(*binary_focal_pair(alpha, gamma, from_logits, label_smoothing), y, p)


CATEGORICAL_FOCAL = [
    # (alpha, gamma, from_logits, label_smoothing)
    (0.25, 2.0, False, 0.0),
    (0.5, 1.5, True, 0.1),
    (1.0, 0.0, False, 0.2),
]


def categorical_focal_pair(alpha, gamma, from_logits, label_smoothing):
    # Softmax logits say "exclusive" themselves; probabilities need exclusive=True.
    ours = {"from_logits": "softmax"} if from_logits else {"exclusive": True}
    options = {"alpha": alpha, "gamma": gamma, "label_smoothing": label_smoothing}
    return (
        lambda **kw: xk.FocalLoss(**ours, **options, **kw),
        lambda **kw: keras.losses.CategoricalFocalCrossentropy(
            from_logits=from_logits, **options, **kw
        ),
    )


@pytest.mark.parametrize(("alpha", "gamma", "from_logits", "label_smoothing"), CATEGORICAL_FOCAL)
def test_exclusive_focal_loss_is_keras_categorical_focal_crossentropy(
    alpha, gamma, from_logits, label_smoothing
):
    labels = labels_of(GRID)
    p = logits(GRID) if from_logits else probabilities(GRID)
    pair = categorical_focal_pair(alpha, gamma, from_logits, label_smoothing)
    for target in (one_hot(labels), labels):
        compare(*pair, target, p, theirs_true=one_hot(labels))


def test_exclusive_focal_loss_of_sigmoid_logits_is_refused_by_name():
    with pytest.raises(ValueError, match="from_logits='softmax'"):
        xk.FocalLoss(exclusive=True, from_logits=True)(one_hot([0, 1]), np.zeros((2, 3)))


def every_reduction_case(name):
    labels, z = labels_of(GRID), logits(GRID)
    if name == "categorical":
        return (
            lambda **kw: xk.CrossEntropyLoss(from_logits=True, **kw),
            lambda **kw: keras.losses.CategoricalCrossentropy(from_logits=True, **kw),
            one_hot(labels),
            z,
        )
    if name == "sparse":
        return (
            lambda **kw: xk.CrossEntropyLoss(from_logits=True, **kw),
            lambda **kw: keras.losses.SparseCategoricalCrossentropy(from_logits=True, **kw),
            labels,
            z,
        )
    if name == "binary":
        return (
            lambda **kw: xk.BinaryCrossEntropyLoss(from_logits=True, label_smoothing=0.1, **kw),
            lambda **kw: keras.losses.BinaryCrossentropy(
                from_logits=True, label_smoothing=0.1, **kw
            ),
            one_hot(labels),
            z,
        )
    if name == "binary-focal":
        return (*binary_focal_pair(0.25, 2.0, True, 0.1), one_hot(labels), z)
    return (*categorical_focal_pair(0.25, 2.0, True, 0.1), one_hot(labels), z)


@pytest.mark.parametrize(
    "name", ["categorical", "sparse", "binary", "binary-focal", "categorical-focal"]
)
def test_every_reduction_and_sample_weight_is_keras(name):
    ours, theirs, y, z = every_reduction_case(name)
    compare(ours, theirs, y, z, reductions=("sum_over_batch_size", "sum", "none"))


# The compounds: no Keras peer. Against the functional core, and their terms against Keras'.

COMPOUNDS = [
    (xk.DiceCELoss, xploss.dice_ce_loss, {"from_logits": "softmax", "label_smoothing": 0.1}),
    (xk.DiceCELoss, xploss.dice_ce_loss, {"from_logits": True, "lambda_ce": 2.0}),
    (xk.DiceFocalLoss, xploss.dice_focal_loss, {"from_logits": True, "alpha": 0.25}),
    (
        xk.DiceFocalLoss,
        xploss.dice_focal_loss,
        {"exclusive": True, "gamma": 1.5, "alpha": (0.2, 0.3, 0.5), "lambda_dice": 0.5},
    ),
    (
        xk.GeneralizedDiceFocalLoss,
        xploss.generalized_dice_focal_loss,
        {"from_logits": "softmax", "alpha": 0.5},
    ),
    (
        xk.GeneralizedDiceFocalLoss,
        xploss.generalized_dice_focal_loss,
        {"exclusive": True, "weight_type": "simple", "lambda_focal": 2.0},
    ),
]
COMPOUND_IDS = [f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(COMPOUNDS)]


def compound_case(options):
    labels = labels_of(GRID)
    if options.get("from_logits"):
        return labels, logits(GRID)
    return labels, RNG.dirichlet(np.ones(GRID[-1]), GRID[:-1])


def functional_axis(cls):
    # Every non-batch axis, as the Keras class; generalized Dice keeps its class axis.
    return (1, 2) if cls is xk.GeneralizedDiceFocalLoss else (1, 2, 3)


@pytest.mark.parametrize(("cls", "function", "options"), COMPOUNDS, ids=COMPOUND_IDS)
def test_compound_is_the_functional_core_per_sample(cls, function, options):
    labels, p = compound_case(options)
    dense = one_hot(labels)
    expected = function(dense, p, axis=functional_axis(cls), reduction="per_sample", **options)
    for target in (labels, labels[..., None], dense):
        got = value(cls(**options, reduction="none", dtype="float64")(target, p))
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    weight = sample_weight(GRID)
    mean = cls(**options, dtype="float64")(labels, p, sample_weight=weight)
    np.testing.assert_allclose(value(mean), np.mean(weight * expected), **TOLERANCE)


def exclusive_focal(cls, options):
    return cls is not xk.DiceCELoss and (
        options.get("exclusive") or options.get("from_logits") == "softmax"
    )


# Class weights where the focal term has independent channels; exclusive focal terms below.
WEIGHTED = [case for case in COMPOUNDS if not exclusive_focal(case[0], case[2])] + [
    (xk.GeneralizedDiceFocalLoss, xploss.generalized_dice_focal_loss, {"from_logits": True})
]


@pytest.mark.parametrize(
    ("cls", "function", "options"), WEIGHTED, ids=[f"{c.__name__}-{o}" for c, _, o in WEIGHTED]
)
def test_compound_class_weight_is_the_functional_weight(cls, function, options):
    labels, p = compound_case(options)
    w = (1.0, 4.0, 0.5)
    expected = function(labels, p, axis=(1, 2), weight=w, reduction="per_sample", **options)
    got = value(cls(**options, class_weight=w, reduction="none", dtype="float64")(labels, p))
    unweighted = value(cls(**options, reduction="none", dtype="float64")(labels, p))
    np.testing.assert_allclose(got, expected, **TOLERANCE)
    assert np.abs(got - unweighted).max() > 1e-3  # the weights act


def test_class_weight_of_an_exclusive_focal_loss_weighs_the_classes():
    """With gamma = 0 and no alpha the exclusive focal loss is the cross-entropy, so its class
    weights must be the cross-entropy's: ``Σ w·ℓ / Σ w`` over each sample's elements."""
    labels, z = compound_case({"from_logits": True})
    w = (1.0, 4.0, 0.5)
    expected = value(
        xk.CrossEntropyLoss(from_logits=True, class_weight=w, dtype="float64")(labels, z)
    )
    q = value(keras.ops.softmax(z))
    for loss, y_pred in (
        (xk.FocalLoss(from_logits="softmax", gamma=0.0, class_weight=w, dtype="float64"), z),
        (xk.FocalLoss(exclusive=True, gamma=0.0, class_weight=w, dtype="float64"), q),
    ):
        np.testing.assert_allclose(value(loss(labels, y_pred)), expected, **TOLERANCE)


def test_compound_terms_are_keras_losses():
    """Dice + CE and Dice + focal per sample: our Dice loss plus Keras' own cross-entropy and
    focal losses, averaged per sample."""
    labels, z = compound_case({"from_logits": True})
    dense = one_hot(labels)

    def per_sample(keras_loss, **options):
        loss = keras_loss(from_logits=True, reduction="none", dtype="float64", **options)
        return value(loss(dense, z)).mean(axis=(1, 2))

    def dice(from_logits):
        return value(
            xk.DiceLoss(from_logits=from_logits, reduction="none", dtype="float64")(dense, z)
        )

    cases = [
        (
            xk.DiceCELoss(from_logits="softmax", lambda_dice=0.5, lambda_ce=2.0),
            0.5 * dice("softmax") + 2.0 * per_sample(keras.losses.CategoricalCrossentropy),
        ),
        (
            xk.DiceCELoss(from_logits=True),
            dice(True) + per_sample(keras.losses.BinaryCrossentropy),
        ),
        (
            xk.DiceFocalLoss(from_logits="softmax", alpha=0.5, gamma=1.5),
            dice("softmax")
            + per_sample(keras.losses.CategoricalFocalCrossentropy, alpha=0.5, gamma=1.5),
        ),
        (
            xk.DiceFocalLoss(from_logits=True, alpha=0.25, lambda_focal=3.0),
            dice(True)
            + 3.0
            * per_sample(
                keras.losses.BinaryFocalCrossentropy, apply_class_balancing=True, alpha=0.25
            ),
        ),
    ]
    for loss, expected in cases:
        config = {**loss.get_config(), "reduction": "none", "dtype": "float64"}
        got = value(type(loss).from_config(config)(dense, z))
        np.testing.assert_allclose(got, expected, **TOLERANCE, err_msg=type(loss).__name__)


@pytest.mark.parametrize(("cls", "function", "options"), COMPOUNDS, ids=COMPOUND_IDS)
def test_compound_config_round_trips(cls, function, options):
    weighted = {} if exclusive_focal(cls, options) else {"class_weight": (1.0, 2.0, 3.0)}
    loss = cls(**options, **weighted, reduction="sum", name="mine", dtype="float64")
    config = loss.get_config()
    assert config["name"] == "mine" and config["reduction"] == "sum"
    for key, given in {**options, **weighted}.items():
        assert config[key] == given, key
    labels, p = compound_case(options)
    expected = value(loss(labels, p))
    for copy in (cls.from_config(config), keras.losses.deserialize(keras.losses.serialize(loss))):
        assert type(copy) is cls
        assert copy.get_config() == config
        np.testing.assert_allclose(value(copy(labels, p)), expected, **TOLERANCE)


def test_compounds_train_save_and_reload(tmp_path):
    """One model with a head per compound: one fit step, then the ``.keras`` file reloads
    every loss with its options and evaluates to the same sum (in the model's float32)."""
    losses = [
        xk.DiceCELoss(from_logits="softmax", class_weight=(1.0, 2.0, 1.0), lambda_ce=0.5),
        xk.DiceFocalLoss(from_logits=True, alpha=(0.25, 0.5, 0.75), gamma=1.5),
        xk.GeneralizedDiceFocalLoss(from_logits="softmax", label_smoothing=0.1),
    ]
    inputs = keras.Input((*GRID[1:-1], 2))
    heads = [keras.layers.Conv2D(GRID[-1], 1, name=f"head{i}")(inputs) for i in range(3)]
    model = keras.Model(inputs, heads)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=losses)
    x = RNG.normal(size=(*GRID[:-1], 2)).astype("float32")
    labels = labels_of(GRID)
    before = [value(w) for w in model.trainable_weights]
    history = model.fit(x, [labels] * 3, batch_size=GRID[0], epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [value(w) for w in model.trainable_weights]
    assert all(np.abs(a - b).max() > 0 for a, b in zip(after, before, strict=True))

    path = tmp_path / "compounds.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert [type(loss) for loss in reloaded.loss] == [type(loss) for loss in losses]
    assert [loss.get_config() for loss in reloaded.loss] == [loss.get_config() for loss in losses]
    outputs = model.predict(x, verbose=0)
    expected = sum(
        float(value(loss(labels, out))) for loss, out in zip(losses, outputs, strict=True)
    )
    got = reloaded.evaluate(x, [labels] * 3, batch_size=GRID[0], verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], expected, rtol=1e-5)


# DeepSupervisionLoss: the inner loss at each scale, on the nearest-exact resized target.


def nearest(y, factor):
    """``y`` at 1/factor of its size on the axes (1, 2) by nearest-exact: the index
    ``floor((i + 1/2)·factor)``, that is ``i·factor + factor // 2``."""
    return y[:, factor // 2 :: factor, factor // 2 :: factor]


FACTORS = (1, 2)  # full and half resolution: each new shape costs JAX its compilations


def scales():
    labels = labels_of(GRID)
    b, size, _, classes = GRID
    outputs = [logits((b, size // f, size // f, classes)) for f in FACTORS]
    return labels, outputs


@pytest.mark.parametrize("weights", [None, (0.3, 0.7)])
def test_deep_supervision_is_the_weighted_sum_of_scales(weights):
    labels, outputs = scales()
    options = {"from_logits": "softmax", "label_smoothing": 0.1}
    factors = (2 / 3, 1 / 3) if weights is None else weights  # 1/2^i, normalised
    inner = xk.DiceCELoss(**options, reduction="none", dtype="float64")
    by_hand = sum(
        f * value(inner(nearest(labels, s), out))
        for f, s, out in zip(factors, FACTORS, outputs, strict=True)
    )
    loss = xk.DeepSupervisionLoss(xk.DiceCELoss(**options), weights=weights, dtype="float64")
    per_sample = loss.from_config({**loss.get_config(), "reduction": "none"})
    for target in (labels, labels[..., None], one_hot(labels)):
        np.testing.assert_allclose(value(per_sample(target, outputs)), by_hand, **TOLERANCE)
    weight = sample_weight(GRID)
    got = value(loss(labels, outputs, sample_weight=weight))
    np.testing.assert_allclose(got, np.mean(weight * by_hand), **TOLERANCE)
    functional = xploss.deep_supervision_loss(
        xploss.dice_ce_loss,
        labels,
        outputs,
        weights=weights,
        mode="nearest",
        axis=(1, 2, 3),
        reduction="per_sample",
        **options,
    )
    np.testing.assert_allclose(functional, by_hand, **TOLERANCE)


def test_deep_supervision_averages_soft_targets():
    y = RNG.dirichlet(np.ones(GRID[-1]), GRID[:-1])  # soft targets: block averages
    b, size, _, classes = GRID
    outputs = [probabilities((b, size // f, size // f, classes), zeros=False) for f in (1, 2)]
    outputs = [p / p.sum(-1, keepdims=True) for p in outputs]
    inner = {"exclusive": True, "gamma": 1.0}
    expected = xploss.deep_supervision_loss(
        xploss.dice_focal_loss,
        y,
        outputs,
        weights=(1.0, 0.5),
        mode="average",
        axis=(1, 2, 3),
        reduction="per_sample",
        **inner,
    )
    half = y.reshape(b, size // 2, 2, size // 2, 2, classes).mean(axis=(2, 4))
    loss = xk.DeepSupervisionLoss(
        xk.DiceFocalLoss(**inner),
        weights=(1.0, 0.5),
        mode="average",
        reduction="none",
        dtype="float64",
    )
    got = value(loss(y, outputs))
    term = xk.DiceFocalLoss(**inner, reduction="none", dtype="float64")
    by_hand = value(term(y, outputs[0])) + 0.5 * value(term(half, outputs[1]))
    np.testing.assert_allclose(got, expected, **TOLERANCE)
    np.testing.assert_allclose(got, by_hand, **TOLERANCE)


def test_deep_supervision_config_round_trips_with_its_inner_loss():
    inner = xk.DiceCELoss(from_logits="softmax", label_smoothing=0.1, lambda_ce=0.5)
    loss = xk.DeepSupervisionLoss(
        inner, weights=(1.0, 0.25), mode="nearest", name="ds", dtype="float64"
    )
    config = loss.get_config()
    assert config["loss"]["class_name"] == "DiceCELoss"
    assert config["loss"]["config"] == inner.get_config()
    assert config["weights"] == [1.0, 0.25] and config["mode"] == "nearest"
    labels, outputs = scales()
    expected = value(loss(labels, outputs))
    for copy in (
        xk.DeepSupervisionLoss.from_config(config),
        keras.losses.deserialize(keras.losses.serialize(loss)),
    ):
        assert type(copy) is xk.DeepSupervisionLoss and type(copy.loss) is type(inner)
        assert copy.get_config() == config
        np.testing.assert_allclose(value(copy(labels, outputs)), expected, **TOLERANCE)


def test_deep_supervision_errors_name_the_argument():
    with pytest.raises(TypeError, match=r"xploss Keras loss.*CategoricalCrossentropy"):
        xk.DeepSupervisionLoss(keras.losses.CategoricalCrossentropy())
    with pytest.raises(ValueError, match=r"weights=\(1.0, -1.0\).*one finite number >= 0"):
        xk.DeepSupervisionLoss(xk.DiceCELoss(), weights=(1.0, -1.0))
    with pytest.raises(ValueError, match="mode='bilinear' is not one of 'auto', 'nearest'"):
        xk.DeepSupervisionLoss(xk.DiceCELoss(), mode="bilinear")
    labels, outputs = scales()
    loss = xk.DeepSupervisionLoss(xk.DiceCELoss(from_logits="softmax"), weights=(1.0, 0.5, 0.2))
    with pytest.raises(ValueError, match=r"weights=\(1.0, 0.5, 0.2\).*2 outputs were given"):
        loss(labels, outputs)
