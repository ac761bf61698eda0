"""The options that a MONAI, PyTorch or JAX user sets every day (issue 17): ``include_background``
on one channel, class weights without the background, ``ignore_index`` with one-hot targets,
channels-last modules, wide label maps, ``(B, C)`` inputs, option values from NumPy and JAX, and
the weight in a loss's ``state_dict``. Interpreted in the core, so every backend is tested
through the functional API and the adapters beside it; MONAI is the reference where it has the
option."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import xploss
from tests import oracle
from xploss._options import field_names
from xploss._registry import FUNCTIONS, LOSSES

RNG = np.random.default_rng(17)
WITH_CLASSES = [
    xploss.dice_coefficient,
    xploss.jaccard_index,
    xploss.true_positive_rate,
    xploss.precision,
    xploss.dice_loss,
    xploss.jaccard_loss,
    xploss.tversky_loss,
    xploss.focal_tversky_loss,
    xploss.bce_dice_loss,
    xploss.binary_cross_entropy,
    xploss.generalized_dice_loss,
    xploss.focal_loss,
    xploss.dice_ce_loss,
    xploss.dice_focal_loss,
    xploss.generalized_dice_focal_loss,
    xploss.mcc_loss,
    xploss.lovasz_hinge_loss,
    xploss.lovasz_softmax_loss,
    xploss.hausdorff_dt_loss,
    xploss.boundary_loss,
    xploss.soft_cldice_loss,
    xploss.soft_dice_cldice_loss,
]


def test_every_loss_and_score_takes_the_class_options():
    """Every function but the raw statistics, the losses the next issues add included."""
    takes = [f for f in FUNCTIONS.values() if "include_background" in field_names(f.options)]
    # The confusion-matrix metrics take them too; their own tests cover them against the peers.
    confusion = {"confusion_stats", "confusion_metric", "accuracy", "balanced_accuracy",
                 "f_beta_score", "false_negative_rate", "false_positive_rate",
                 "matthews_corrcoef", "negative_predictive_value", "specificity"}  # fmt: skip
    assert {f.__name__ for f in takes} == {f.__name__ for f in WITH_CLASSES} | confusion
    assert all("ignore_index" in field_names(f.options) for f in takes)
    # The raw statistics, and the cross-entropy of exclusive classes, whose background is a class
    # like any other (PyTorch's and MONAI's CE: MONAI leaves it out of DiceCELoss's Dice only).
    # The generalized Wasserstein Dice gives the background its role through weighting_mode.
    assert set(FUNCTIONS) - {f.__name__ for f in takes} == {
        "overlap_stats",
        "cross_entropy",
        "generalized_wasserstein_dice_loss",
    }


def run(backend, fn, *arrays, **options):
    arrays = (backend.asarray(np.asarray(a)) for a in arrays)
    out = backend.call(fn, *arrays, **options)
    if isinstance(out, tuple):
        return [backend.to_numpy(o) for o in out]
    return backend.to_numpy(out)


def each(functions, options=None):
    """One function (one compilation) returning every function's value."""

    def many(y_true, y_pred, **shared):
        return tuple(
            f(y_true, y_pred, **{**shared, **(options or {}).get(f.__name__, {})})
            for f in functions
        )

    return many


def softmax(z, axis):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def caught(call):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        value = call()
    return value, [str(w.message) for w in seen if issubclass(w.category, UserWarning)]


# 1. include_background=False on a single channel: a warning, and the option is ignored.


def test_include_background_false_on_one_channel_is_ignored_with_a_warning(backend):
    probs = RNG.random((2, 5, 6, 1)).astype(np.float32)
    target = (RNG.random((2, 5, 6, 1)) < 0.4).astype(np.float32)
    fns = WITH_CLASSES
    got, messages = caught(
        lambda: run(backend, each(fns), target, probs, axis=(1, 2), include_background=False)
    )
    expected = each(fns)(target, probs, axis=(1, 2))
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(expected), rtol=1e-5)
    if backend.name != "torch-compile":  # a warning would break the full graph
        assert any("include_background=False is ignored" in m for m in messages), messages


def test_include_background_false_on_one_channel_in_the_torch_modules_is_monais():
    torch = pytest.importorskip("torch")
    monai = pytest.importorskip("monai")
    import xploss.torch as xt

    probs = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    target = (torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    for entry in LOSSES.values():
        if "include_background" not in entry.options.names:
            continue
        module = getattr(xt, entry.class_name)
        value, messages = caught(lambda m=module: m(include_background=False)(probs, target))
        assert any("include_background=False is ignored" in m for m in messages), entry.name
        torch.testing.assert_close(value, module()(probs, target))
    with pytest.warns(UserWarning, match="single channel prediction"):
        reference = monai.losses.DiceLoss(include_background=False)(probs, target)
    torch.testing.assert_close(xt.DiceLoss(include_background=False)(probs, target), reference)


def test_include_background_false_leaves_class_zero_out_as_monai(eager_backend):
    """Where the class axis survives the sums, class 0 is weighed 0; where it is summed over
    (one Dice pooled over the classes, the generalized Dice), class 0 is out of the sums."""
    y = RNG.integers(0, 3, (2, 6, 5))
    p = softmax(RNG.normal(size=(2, 6, 5, 3)), -1).astype(np.float32)
    onehot = np.eye(3)[y]
    per_class = oracle.dice(onehot, p, (1, 2), 1e-5, 1e-5)  # (B, C)
    got = run(eager_backend, xploss.dice_loss, y, p, axis=(1, 2), include_background=False)
    np.testing.assert_allclose(float(got), 1 - per_class[:, 1:].mean(), rtol=1e-5)
    pooled = run(eager_backend, xploss.dice_loss, y, p, axis=(1, 2, 3), include_background=False)
    foreground = oracle.dice(onehot[..., 1:], p[..., 1:], (1, 2, 3), 1e-5, 1e-5)
    np.testing.assert_allclose(float(pooled), 1 - foreground.mean(), rtol=1e-5)
    gd = run(eager_backend, xploss.generalized_dice_loss, y, p, include_background=False)
    gd_foreground = xploss.generalized_dice_loss(onehot[..., 1:], p[..., 1:].astype(np.float64))
    np.testing.assert_allclose(float(gd), float(gd_foreground), rtol=1e-5)


def test_include_background_false_in_the_torch_modules_equals_monai():
    torch = pytest.importorskip("torch")
    monai = pytest.importorskip("monai")
    import xploss.torch as xt

    logits = torch.randn(2, 3, 5, 6, generator=torch.Generator().manual_seed(3))
    labels = torch.randint(0, 3, (2, 1, 5, 6), generator=torch.Generator().manual_seed(4))
    common = {"to_onehot_y": True, "include_background": False}
    pairs = [
        (
            xt.DiceLoss(from_logits="softmax", **common),
            monai.losses.DiceLoss(softmax=True, **common),
        ),
        (
            xt.GeneralizedDiceLoss(from_logits="softmax", **common),
            monai.losses.GeneralizedDiceLoss(softmax=True, **common),
        ),
        (
            xt.TverskyLoss(from_logits="softmax", alpha=0.3, beta=0.7, **common),
            monai.losses.TverskyLoss(softmax=True, alpha=0.3, beta=0.7, **common),
        ),
    ]
    for ours, theirs in pairs:
        torch.testing.assert_close(ours(logits, labels), theirs(logits, labels))


# 2. Weights with include_background=False: zeroed on the class axis, in every form MONAI takes.


def _no_background_reference(y, p, weight):
    per_class = oracle.dice(np.eye(3)[y], p, (1, 2), 1e-5, 1e-5)  # (B, C)
    w = np.broadcast_to(np.asarray(weight, np.float64), per_class.shape).copy()
    w[:, 0] = 0
    return 1 - (w * per_class).sum() / w.sum()


@pytest.mark.parametrize(
    "weight",
    [2.0, (1.0, 2.0, 3.0), ((1.0, 2.0, 3.0),), ((1.0, 2.0, 3.0), (3.0, 1.0, 0.5)), "0-d"],
    ids=["scalar", "per-class", "(1, C)", "(B, C)", "0-d array"],
)
def test_weight_without_background_is_zeroed_on_the_class_axis(backend, weight):
    y = RNG.integers(0, 3, (2, 6, 5))
    p = softmax(RNG.normal(size=(2, 6, 5, 3)), -1).astype(np.float32)
    if weight == "0-d":
        weight, option = 2.0, backend.asarray(np.asarray(2.0, np.float32))
    else:
        option = (
            backend.asarray(np.asarray(weight, np.float32))
            if isinstance(weight, tuple) and len(weight) == 2
            else weight
        )
    got = run(backend, xploss.dice_loss, y, p, axis=(1, 2), include_background=False, weight=option)
    np.testing.assert_allclose(float(got), _no_background_reference(y, p, weight), rtol=1e-5)


def test_monais_weight_without_background_has_no_background_entry(eager_backend):
    y = RNG.integers(0, 3, (2, 6, 5))
    p = softmax(RNG.normal(size=(2, 6, 5, 3)), -1).astype(np.float32)
    got = run(
        eager_backend, xploss.dice_loss, y, p, axis=(1, 2), include_background=False, weight=[2, 3]
    )
    expected = _no_background_reference(y, p, (0.0, 2.0, 3.0))
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) has 4 entries.*3 classes"):
        xploss.dice_loss(y, p, axis=(1, 2), include_background=False, weight=[1, 2, 3, 4])


@pytest.mark.parametrize(
    ("weight", "classes"), [(2.0, 3), ("0-d", 3), ([2.0], 2), ([1.0, 2.0], 3), ([1.0, 2.0], 2)]
)
def test_torch_weight_without_background_is_monais_divided_by_the_mean_weight(weight, classes):
    """MONAI multiplies by the weight and takes a plain mean; xploss takes the weighted mean, so
    MONAI's value is xploss's times the mean foreground weight (MONAI applies no weight to a
    single foreground class). With include_background=False MONAI's weight has C - 1 entries
    (none for the background); xploss takes that form, and C entries, and one."""
    torch = pytest.importorskip("torch")
    monai = pytest.importorskip("monai")
    import xploss.torch as xt

    probs = torch.rand(2, classes, 5, 6, generator=torch.Generator().manual_seed(5)).softmax(1)
    labels = torch.randint(0, classes, (2, 1, 5, 6), generator=torch.Generator().manual_seed(6))
    value = torch.tensor(2.0) if weight == "0-d" else weight
    options = {"to_onehot_y": True, "include_background": False}
    ours = xt.DiceLoss(weight=value, **options)(probs, labels)
    if len(np.shape(weight)) == 1 and len(weight) == classes:  # C entries: MONAI rejects them
        monais = list(weight[1:])
    else:
        monais = value
        theirs = monai.losses.DiceLoss(weight=value, **options)(probs, labels)
        scale = 1.0 if classes == 2 else float(np.mean(2.0 if weight == "0-d" else weight))
        torch.testing.assert_close(ours * scale, theirs)
    theirs_form = xt.DiceLoss(weight=monais, **options)(probs, labels)
    torch.testing.assert_close(ours, theirs_form)


def test_torch_tensor_weights_of_one_sample_or_every_sample_weigh_the_classes():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    probs = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(7)).softmax(1)
    labels = torch.randint(0, 3, (2, 5, 6), generator=torch.Generator().manual_seed(8))
    per_class = xt.DiceLoss(reduction="none")(probs, labels)  # (B, C)
    for weight in ([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0], [2.0, 0.5, 1.0]]):
        w = torch.tensor(weight).expand(2, 3).clone()
        got = xt.DiceLoss(weight=torch.tensor(weight), include_background=False)(probs, labels)
        w[:, 0] = 0
        torch.testing.assert_close(got, (w * per_class).sum() / w.sum())


# 3. ignore_index with a one-hot target: the elements of class k, as MONAI's ignore mask.


@pytest.mark.parametrize("ignore_index", [0, 2, 255])
def test_ignore_index_with_one_hot_and_label_map_targets_agree(backend, ignore_index):
    labels = RNG.integers(0, 3, (2, 6, 5)).astype(np.uint8)
    if ignore_index == 255:
        labels[:, :2] = 255
    onehot = (labels[..., None] == np.arange(3)).astype(np.float32)  # 255: all-zero rows
    p = softmax(RNG.normal(size=(2, 6, 5, 3)), -1).astype(np.float32)
    # boundary_loss reads a float target of y_pred's shape as its distance map, not a one-hot.
    fns = [f for f in WITH_CLASSES if f is not xploss.boundary_loss]
    options = {"axis": (1, 2), "ignore_index": ignore_index}
    from_labels = run(backend, each(fns), labels, p, **options)
    from_onehot = run(backend, each(fns), onehot, p, **options)
    np.testing.assert_allclose(from_onehot, from_labels, rtol=1e-5, atol=1e-6)
    keep = (labels != ignore_index)[..., None]
    masked = each(fns)(onehot, p, axis=(1, 2), mask=keep)
    np.testing.assert_allclose(from_onehot, masked, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ignore_index", [1, 255])
def test_torch_ignore_index_on_one_hot_targets_is_monais_mask(ignore_index):
    torch = pytest.importorskip("torch")
    pytest.importorskip("monai")
    from monai.metrics.utils import create_ignore_mask

    import xploss.torch as xt

    labels = torch.randint(0, 3, (2, 5, 6), generator=torch.Generator().manual_seed(9))
    labels[:, :2] = 255 if ignore_index == 255 else labels[:, :2]
    onehot = torch.stack([labels == c for c in range(3)], 1).float()
    probs = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(10)).softmax(1)
    mask = create_ignore_mask(onehot, ignore_index)
    expected = xploss.dice_loss(onehot, probs, axis=(2, 3), class_axis=1, mask=mask)
    for target in (onehot, labels):
        got = xt.DiceLoss(ignore_index=ignore_index)(probs, target)
        torch.testing.assert_close(got, expected)


def test_a_dense_target_that_holds_the_ignored_label_is_an_error():
    y = (RNG.random((2, 6, 5)) < 0.5).astype(np.uint8)
    y[:, 0] = 255  # a binary label map with y_pred's shape (no channel axis)
    p = RNG.random((2, 6, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="ignore_index=255 with a y_true of y_pred's shape"):
        xploss.dice_loss(y, p, ignore_index=255)
    got = xploss.dice_loss(y, p[..., None], ignore_index=255)  # its channel: compared directly
    expected = xploss.dice_loss(y, p[..., None], mask=y != 255)
    np.testing.assert_allclose(float(got), float(expected))


# 4. class_axis=-1 in the torch modules: the default axes are every axis but batch and classes.


# Losses whose result has no class axis: they combine the classes themselves.
NO_CLASS_AXIS = (
    "generalized_dice_loss",
    "cross_entropy",
    "lovasz_softmax_loss",
    "generalized_wasserstein_dice_loss",
    "soft_cldice_loss",
)


def test_torch_modules_with_channels_last_input_reduce_the_spatial_axes():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    probs = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(11)).softmax(1)
    labels = torch.randint(0, 3, (2, 5, 6), generator=torch.Generator().manual_seed(12))
    last = probs.permute(0, 2, 3, 1)
    # One value per element of the result: the cross-entropy has no class axis in it, and
    # generalized Dice + focal pairs a result without one with a result with one (so "mean").
    reductions = {"generalized_dice_focal_loss": "mean", "soft_dice_cldice_loss": "mean"}
    for entry in LOSSES.values():
        module = getattr(xt, entry.class_name)
        reduction = reductions.get(entry.name, "none")
        for batch in (False, True):
            first = module(batch=batch, reduction=reduction)(probs, labels)
            channels_last = module(batch=batch, reduction=reduction, class_axis=-1)(last, labels)
            torch.testing.assert_close(channels_last, first)
        if reduction == "none" and entry.name not in NO_CLASS_AXIS:
            assert first.shape == (3,)  # batch=True: one value per class
            assert module(reduction="none", class_axis=-1)(last, labels).shape == (2, 3)


# 7. uint8 labels with more classes than uint8 holds.


def test_uint8_labels_with_more_than_256_classes_do_not_wrap(backend):
    classes = 300
    labels = RNG.integers(0, 256, (2, 8)).astype(np.uint8)
    p = softmax(RNG.normal(size=(2, 8, classes)), -1).astype(np.float32)
    onehot = (labels[..., None] == np.arange(classes)).astype(np.float32)
    got = run(backend, each(WITH_CLASSES[:4]), labels, p, axis=(0, 1))
    expected = each(WITH_CLASSES[:4])(onehot, p, axis=(0, 1))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# 8. (B, C) input: no spatial axis, so the torch modules sum over the batch.


@pytest.mark.parametrize("classes", [1, 2])
def test_torch_input_without_spatial_axes_is_scored_over_the_batch_as_monai(classes):
    torch = pytest.importorskip("torch")
    monai = pytest.importorskip("monai")
    import xploss.torch as xt

    target = torch.eye(classes)[torch.tensor([0, 1, 1, 0]) % classes]
    if classes == 1:
        target = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    probs = (target * 0.98 + 0.01).requires_grad_()
    ours, theirs = xt.DiceLoss()(probs, target), monai.losses.DiceLoss()(probs, target)
    torch.testing.assert_close(ours, theirs)
    assert float(ours) < 0.02  # near-perfect probabilities: near 0, not one Dice per entry
    assert xt.DiceLoss(reduction="none")(probs, target).shape == (classes,)


# 14. Option values from NumPy and JAX.


def test_numpy_scalars_are_options(eager_backend):
    y = (RNG.random((2, 5, 3)) < 0.5).astype(np.float32)
    p = RNG.random((2, 5, 3)).astype(np.float32)
    numpy_options = {
        "smooth_nr": np.float32(0.5),
        "smooth_dr": np.float64(0.5),
        "log": np.bool_(True),
        "soft_label": np.bool_(False),
        "class_axis": np.int64(-1),
        "threshold": np.float32(0.5),
    }
    python = {k: v.item() for k, v in numpy_options.items()}
    got = run(eager_backend, xploss.dice_loss, y, p, **numpy_options)
    np.testing.assert_allclose(float(got), float(xploss.dice_loss(y, p, **python)), rtol=1e-6)
    got = run(eager_backend, xploss.bce_dice_loss, y, p, from_logits=np.bool_(True))
    expected = xploss.bce_dice_loss(y, p, from_logits=True)
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-6)


def test_numpy_options_in_the_torch_modules():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    probs, target = torch.rand(2, 2, 4, 4), (torch.rand(2, 2, 4, 4) > 0.5).float()
    ours = xt.DiceLoss(smooth_nr=np.float32(0.5), batch=np.bool_(True), weight=np.float32(2))
    expected = xt.DiceLoss(smooth_nr=0.5, batch=True, weight=2.0)(probs, target)
    torch.testing.assert_close(ours(probs, target), expected)


@pytest.fixture(scope="module")
def jax():
    return pytest.importorskip("jax")


def test_traced_factors_inside_jit_are_used_as_they_are(jax):
    jnp = jax.numpy
    y = jnp.asarray((RNG.random((2, 5, 3)) < 0.5).astype(np.float32))
    p = jnp.asarray(RNG.random((2, 5, 3)).astype(np.float32))
    cases = {
        xploss.dice_loss: ("smooth_nr", "smooth_dr", "zero_division", "threshold"),
        xploss.bce_dice_loss: ("bce_weight", "dice_weight", "smooth_nr", "smooth_dr"),
        xploss.focal_tversky_loss: ("alpha", "beta", "gamma", "smooth_dr"),
        xploss.true_positive_rate: ("threshold", "zero_division"),
    }
    values = {"threshold": 0.4, "gamma": 0.8, "alpha": 0.3, "beta": 0.6}
    for fn, names in cases.items():
        chosen = {n: values.get(n, 0.25) for n in names}

        def step(*factors, fn=fn, names=names):
            return fn(y, p, **dict(zip(names, factors, strict=True)))

        got = jax.jit(step)(*(jnp.float32(chosen[n]) for n in names))
        np.testing.assert_allclose(float(got), float(fn(y, p, **chosen)), rtol=1e-5)
        gradient = jax.grad(step)(*(jnp.float32(chosen[n]) for n in names))  # a schedule
        assert np.isfinite(float(gradient))


def test_numpy_arrays_beside_jax_predictions(jax):
    jnp = jax.numpy
    y = (RNG.random((2, 5, 3)) < 0.5).astype(np.float32)
    p = RNG.random((2, 5, 3)).astype(np.float32)
    mask, weight = RNG.random((2, 5, 3)) < 0.7, np.array([1.0, 2.0, 3.0], np.float32)
    expected = xploss.dice_loss(y, p, axis=1, mask=mask, weight=weight)
    for call in (lambda f: f, jax.jit):
        got = call(lambda p: xploss.dice_loss(y, p, axis=1, mask=mask, weight=weight))(
            jnp.asarray(p)
        )
        assert isinstance(got, jax.Array)
        np.testing.assert_allclose(float(got), float(expected), rtol=1e-5)


def test_numpy_arrays_beside_tensorflow_predictions_but_not_torch_tensors():
    tf = pytest.importorskip("tensorflow")
    torch = pytest.importorskip("torch")
    y = (RNG.random((2, 5, 3)) < 0.5).astype(np.float32)
    p = RNG.random((2, 5, 3)).astype(np.float32)
    mask, weight = RNG.random((2, 5, 3)) < 0.7, np.array([1.0, 2.0, 3.0], np.float32)
    expected = xploss.dice_loss(y, p, axis=1, mask=mask, weight=weight)
    got = xploss.dice_loss(y, tf.constant(p), axis=1, mask=mask, weight=weight)
    np.testing.assert_allclose(float(got), float(expected), rtol=1e-5)
    with pytest.raises(TypeError, match=r"mask is numpy\.ndarray"):
        xploss.dice_loss(torch.tensor(y), torch.tensor(p), mask=mask)


def test_python_lists_as_arrays_are_a_clear_error():
    with pytest.raises(TypeError, match=r"y_true is a Python list.*np\.asarray\(y_true\)"):
        xploss.dice_loss([1, 0], [0.5, 0.5])


def test_an_option_traced_by_jit_names_static_argnames(jax):
    jnp = jax.numpy
    y, p = jnp.ones((2, 3)), jnp.full((2, 3), 0.5)
    for option in ({"log": True}, {"class_axis": 1}, {"from_logits": True}, {"axis": 1}):
        with pytest.raises(TypeError, match="static_argnames"):
            jax.jit(xploss.dice_loss)(y, p, **option)
    static = jax.jit(xploss.dice_loss, static_argnames=("log",))(y, p, log=True)
    np.testing.assert_allclose(float(static), float(xploss.dice_loss(y, p, log=True)), rtol=1e-6)


# 15. A loss's tensor weight is in its state_dict; the shapes of reduction="none".


def test_torch_loss_weight_is_in_the_state_dict_and_loads_strictly():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    for entry in LOSSES.values():
        if "weight" not in field_names(entry.options):
            continue
        module = getattr(xt, entry.class_name)
        saved = module(weight=torch.tensor([1.0, 2.0, 3.0])).state_dict()
        assert list(saved) == ["weight"], entry.name
        fresh = module(weight=torch.ones(3))
        fresh.load_state_dict(saved, strict=True)
        torch.testing.assert_close(fresh.weight, torch.tensor([1.0, 2.0, 3.0]))


def test_torch_reduction_none_shapes_are_monais_without_the_singleton_axes():
    torch = pytest.importorskip("torch")
    monai = pytest.importorskip("monai")
    import xploss.torch as xt

    probs = torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(13))
    target = (torch.rand(2, 3, 5, 6, generator=torch.Generator().manual_seed(14)) > 0.5).float()
    ours = xt.DiceLoss(reduction="none")(probs, target)
    theirs = monai.losses.DiceLoss(reduction="none")(probs, target)
    assert ours.shape == (2, 3) and theirs.shape == (2, 3, 1, 1)
    torch.testing.assert_close(ours, theirs[..., 0, 0])


def test_functional_options_forward_in_a_partial():
    # The functional form as a training script binds it: options first, arrays later.
    loss = functools.partial(xploss.dice_loss, include_background=False, ignore_index=255)
    y = RNG.integers(0, 3, (2, 4, 4)).astype(np.uint8)
    y[0, 0] = 255
    p = softmax(RNG.normal(size=(2, 4, 4, 3)), -1)
    assert np.isfinite(float(loss(y, p, axis=(1, 2))))
