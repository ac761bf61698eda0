"""The input rules of the pipeline (issue 16), on every backend they apply to: what a target
means (a single channel's mask, class indices of any numeric dtype), hard predictions (the
arg-max after a softmax), NaN and infinite inputs, value checks that run eagerly only, warnings
for constant losses, empty inputs and tensors of unknown rank."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xploss
from tests import oracle
from xploss._options import field_names
from xploss._registry import FUNCTIONS

RNG = np.random.default_rng(16)
OVERLAP = [
    xploss.dice_loss,
    xploss.jaccard_loss,
    xploss.tversky_loss,
    xploss.focal_tversky_loss,
    xploss.dice_coefficient,
    xploss.jaccard_index,
    xploss.true_positive_rate,
    xploss.precision,
]
WITH_BCE = [xploss.bce_dice_loss, xploss.binary_cross_entropy]
HARD = [f for f in FUNCTIONS.values() if "threshold" in field_names(f.options)]


def composite(functions, options=None):
    """One function (one compilation) returning every function's value, options per function."""

    def many(*arrays, **shared):
        *targets, y_pred = arrays
        return tuple(
            f(y, y_pred, **{**shared, **(options or {}).get(f.__name__, {})})
            for y in targets
            for f in functions
        )

    return many


def to_numpy(backend, out):
    if isinstance(out, tuple):  # several results, or OverlapStats
        return [to_numpy(backend, o) for o in out]
    return backend.to_numpy(out)


def run(backend, fn, *arrays, **options):
    arrays = (backend.asarray(np.asarray(a)) for a in arrays)
    return to_numpy(backend, backend.call(fn, *arrays, **options))


def assert_close(got, expected, atol=1e-6):
    for g, e in zip(got, expected, strict=True):
        g, e = np.asarray(g, np.float64), np.asarray(e, np.float64)
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=atol)


# 1. A single-channel prediction and a target without that channel: the channel's mask.


@pytest.mark.parametrize("layout", ["channels_last", "channels_first"])
def test_single_channel_target_without_the_channel_is_its_mask(backend, layout):
    binary = RNG.random((2, 5, 6)) < 0.4
    soft = RNG.random((2, 5, 6)).astype(np.float32)
    probs = np.clip(binary + RNG.normal(0, 0.2, binary.shape), 0, 1).astype(np.float32)
    axis = 1 if layout == "channels_first" else -1
    targets = [binary, binary.astype(np.int32), binary.astype(np.float32), soft]
    fns = OVERLAP + WITH_BCE
    got = run(backend, composite(fns), *targets, np.expand_dims(probs, axis), class_axis=axis)
    dense = [np.expand_dims(t, axis).astype(np.float32) for t in targets]
    expected = composite(fns)(*dense, np.expand_dims(probs, axis), class_axis=axis)
    assert_close(got, expected)
    perfect = np.expand_dims(binary, axis).astype("f4")
    perfect = run(backend, xploss.dice_loss, binary, perfect, class_axis=axis)
    assert abs(float(perfect)) < 1e-6  # a perfect prediction: loss 0, never a flipped target


def test_single_channel_torch_modules_read_a_channel_less_mask():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    mask = torch.as_tensor(RNG.random((2, 6, 6)) < 0.5)
    probs = mask[:, None].float()
    for module in (xt.DiceLoss(), xt.BCEDiceLoss(), xt.TverskyLoss(), xt.JaccardLoss()):
        for target in (mask, mask.long(), mask.float()):
            assert float(module(probs, target)) < 1e-5, (module, target.dtype)
            np.testing.assert_allclose(
                float(module(probs * 0.7, target)), float(module(probs * 0.7, mask[:, None])), 1e-6
            )
    compiled = torch.compile(xt.DiceLoss(), fullgraph=True)
    assert float(compiled(probs, mask.float())) < 1e-5


def test_a_wrong_class_axis_names_the_single_channel():
    with pytest.raises(ValueError, match=r"single channel is on axis 1: pass class_axis=1"):
        xploss.dice_loss(np.ones((2, 4, 4)), np.ones((2, 1, 4, 4)))


# 2. Hard predictions of exclusive classes: the one-hot of the arg-max.


def test_softmax_threshold_takes_the_arg_max(backend):
    logits = RNG.normal(0, 0.3, (4, 6, 3)).astype(np.float32)  # no class reaches 0.5 mostly
    labels = RNG.integers(0, 3, (4, 6))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert (probs.max(-1) <= 0.5).mean() > 0.5
    hard = np.eye(3, dtype=np.float32)[probs.argmax(-1)]
    metrics = [xploss.dice_coefficient, xploss.jaccard_index, xploss.precision]
    metrics.append(xploss.true_positive_rate)
    options = {"axis": (0, 1), "reduction": "none"}
    unsmoothed = {"smooth_nr": 0.0, "smooth_dr": 0.0}
    each = {"dice_coefficient": unsmoothed, "jaccard_index": unsmoothed}
    hard_options = {"from_logits": "softmax", "threshold": 0.5, **options}
    got = run(backend, composite(metrics, each), labels, logits, **hard_options)
    soft = {f.__name__: {**each.get(f.__name__, {}), "threshold": None} for f in metrics}
    expected = composite(metrics, soft)(labels, hard, **options)
    assert_close(got, expected)


def test_softmax_threshold_breaks_ties_by_the_first_class(backend):
    logits = np.zeros((2, 3, 4), np.float32)  # every class tied: class 0, as argmax
    logits[1, :, 2:] = 5.0  # classes 2 and 3 tied: class 2
    options = {"axis": (0, 1), "from_logits": "softmax", "threshold": 0.5}
    stats = run(backend, xploss.overlap_stats, np.zeros((2, 3), np.int64), logits, **options)
    np.testing.assert_allclose(stats[2], [3.0, 0.0, 3.0, 0.0])  # predicted volume per class


# 3. NaN is never masked: it makes every loss and metric NaN.


@pytest.mark.parametrize("from_logits", [False, True, "softmax"])
def test_nan_gives_nan_in_hard_and_soft_results(backend, from_logits):
    labels = RNG.integers(0, 3, (2, 4))
    y_pred = RNG.random((2, 4, 3)).astype(np.float32)
    y_pred[1, 2, 1] = np.nan
    hard = {f.__name__: {"threshold": 0.5} for f in HARD}
    fns = list(FUNCTIONS.values())
    got = run(backend, composite(fns, hard), labels, y_pred, from_logits=from_logits)
    for fn, value in zip(fns, got, strict=True):
        assert np.isnan(np.asarray(value, np.float64)).any(), fn.__name__


def test_nan_float_class_indices_give_nan(backend):
    labels = np.array([[0.0, np.nan], [2.0, 1.0]], np.float32)
    probs = RNG.dirichlet(np.ones(3), (2, 2)).astype(np.float32)
    fns = [xploss.dice_loss, xploss.true_positive_rate, xploss.binary_cross_entropy]
    got = run(backend, composite(fns), labels, probs)
    assert all(np.isnan(g) for g in got), got


def test_nan_reaches_the_torch_metrics():
    torch = pytest.importorskip("torch")
    import xploss.torch.metrics as tm

    for metric in (tm.DiceCoefficient(), tm.Precision(), tm.TruePositiveRate()):
        metric.update(torch.tensor([[[0.9, float("nan")]]]), torch.tensor([[[1, 0]]]))
        assert torch.isnan(metric.compute()), type(metric).__name__
    softmax = tm.DiceCoefficient(from_logits="softmax")
    softmax.update(torch.tensor([[[0.9], [float("nan")]]]), torch.tensor([[0]]))
    assert torch.isnan(softmax.compute())


def test_nan_reaches_the_flax_metrics():
    pytest.importorskip("flax")
    import jax.numpy as jnp

    import xploss.jax as xj

    metric = xj.DiceCoefficient()
    metric.update(logits=jnp.array([[0.9, jnp.nan]]), labels=jnp.array([[1.0, 0.0]]))
    assert bool(jnp.isnan(metric.compute()))


# 4. Infinite logits: finite values and finite gradients.

INF_Z = np.array([[np.inf, -np.inf, 3.0, -np.inf], [np.inf, -2.0, -np.inf, np.inf]], np.float32)
INF_Y = np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]], np.float32)  # one wrong: [1, 2]
INF_LABELS = np.array([[0, 1], [1, 1]])
INF_SOFTMAX = np.stack([INF_Z, -INF_Z], axis=-1)[:, :2]  # (2, 2, 2): classes on the last axis


def infinite_logits_losses(y, z, labels, zz):
    sigmoid = [f(y, z, from_logits=True) for f in (xploss.dice_loss, *WITH_BCE)]
    softmax = [
        f(labels, zz, from_logits="softmax")
        for f in (xploss.dice_loss, xploss.generalized_dice_loss, *WITH_BCE)
    ]
    return (*sigmoid, *softmax)


def test_infinite_logits_give_finite_values(backend):
    got = run(backend, infinite_logits_losses, INF_Y, INF_Z, INF_LABELS, INF_SOFTMAX)
    assert all(np.isfinite(g).all() for g in got), got


def test_infinite_logits_give_finite_gradients(autodiff_backend):
    b = autodiff_backend
    y, z = b.asarray(INF_Y), b.asarray(INF_Z)
    for fn in (xploss.dice_loss, *WITH_BCE):
        gradient = b.grad(fn, y, z, from_logits=True)
        assert np.isfinite(gradient).all(), (fn.__name__, gradient)
    labels, zz = b.asarray(INF_LABELS), b.asarray(INF_SOFTMAX)
    for fn in (xploss.dice_loss, xploss.generalized_dice_loss, *WITH_BCE):
        gradient = b.grad(fn, labels, zz, from_logits="softmax")
        assert np.isfinite(gradient).all(), (fn.__name__, gradient)


# 5. Float label maps with integral values are class indices.


def test_integral_float_labels_are_class_indices(backend):
    labels = RNG.integers(0, 3, (2, 5))
    probs = RNG.dirichlet(np.ones(3), (2, 5)).astype(np.float32)
    fns = [*OVERLAP, *WITH_BCE, xploss.generalized_dice_loss]
    for dtype in (np.float32, np.float64):
        got = run(backend, composite(fns), labels.astype(dtype), probs)
        assert_close(got, composite(fns)(labels, probs))


def test_non_integral_class_indices_raise_eagerly(backend):
    labels = np.array([[0.0, 1.5], [2.0, 1.0]], np.float32)
    probs = RNG.dirichlet(np.ones(3), (2, 2)).astype(np.float32)
    if backend.compiled:  # values are not read under a trace: it runs
        assert np.isfinite(run(backend, xploss.dice_loss, labels, probs))
        return
    with pytest.raises(ValueError, match=r"non-integral values \(found 1.5\)"):
        run(backend, xploss.dice_loss, labels, probs)


def test_torch_float_label_maps_with_a_channel():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    labels = torch.as_tensor(RNG.integers(0, 3, (2, 1, 4, 4)))
    probs = torch.rand(2, 3, 4, 4).softmax(1)
    loss = xt.DiceLoss(to_onehot_y=True)
    np.testing.assert_allclose(float(loss(probs, labels.float())), float(loss(probs, labels)))
    with pytest.raises(ValueError, match="non-integral"):
        loss(probs, labels.float() + 0.5)


# 6. Narrow integer labels are exact.


@pytest.mark.parametrize(("dtype", "top"), [(np.uint8, 255), (np.int8, 127)])
def test_narrow_labels_of_more_classes_than_their_range(backend, dtype, top):
    labels = np.array([[0, 7, top], [top - 1, 3, 3]])
    probs = RNG.dirichlet(np.ones(300), (2, 3)).astype(np.float32)  # 300 classes
    got = run(backend, xploss.dice_loss, labels.astype(dtype), probs)
    np.testing.assert_allclose(got, xploss.dice_loss(labels, probs), rtol=1e-6)


# More classes than one pass of the one-hot holds (8): the per-class sums come in passes.
MANY_LABELS = RNG.integers(0, 21, (2, 3, 4))
MANY_PROBS = RNG.dirichlet(np.ones(21), (2, 3, 4)).astype(np.float32)


@pytest.mark.parametrize("squared", [False, True])
def test_many_class_indices_give_the_oracles_dice_per_class(backend, squared):
    dense = oracle.one_hot(MANY_LABELS, 21, -1)
    got = run(backend, xploss.dice_coefficient, MANY_LABELS, MANY_PROBS, axis=(1, 2),
              reduction="none", squared=squared)  # fmt: skip
    expected = oracle.dice(dense, MANY_PROBS, (1, 2), 1e-5, 1e-5, squared=squared)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    pooled = run(backend, xploss.dice_coefficient, MANY_LABELS, MANY_PROBS, axis=(0, 1, 2, 3))
    np.testing.assert_allclose(pooled, oracle.dice(dense, MANY_PROBS, (0, 1, 2, 3), 1e-5, 1e-5),
                               rtol=1e-5)  # fmt: skip


def test_many_class_indices_have_the_gradient_of_their_one_hot(autodiff_backend):
    b = autodiff_backend
    dense = oracle.one_hot(MANY_LABELS, 21, -1).astype(np.float32)
    probs = b.asarray(MANY_PROBS)
    for fn in (xploss.dice_loss, xploss.generalized_dice_loss):
        sparse = b.grad(fn, b.asarray(MANY_LABELS), probs, axis=(1, 2))
        np.testing.assert_allclose(sparse, b.grad(fn, b.asarray(dense), probs, axis=(1, 2)),
                                   rtol=1e-5, atol=1e-7, err_msg=fn.__name__)  # fmt: skip


@pytest.mark.parametrize("compiled", [False, True])
def test_torch_ignore_index_compares_narrow_labels_exactly(compiled):
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    probs = torch.rand(2, 3, 5).softmax(1)
    masks = torch.tensor([[0, 1, 255, 2, 255], [1, 1, 0, 255, 2]])
    for dtype in (torch.uint8, torch.int16, torch.int64):
        loss = xt.DiceLoss(ignore_index=255)
        call = torch.compile(loss, fullgraph=True) if compiled else loss
        np.testing.assert_allclose(float(call(probs, masks.to(dtype))), float(loss(probs, masks)))
    wrapped = torch.tensor([[0, 1, -1, 2, 2], [1, 1, 0, 2, 2]])  # -1 is not 255
    loss = xt.DiceLoss(ignore_index=255)
    if compiled:  # -1 is no class: a zero row, as for int64 labels
        expected = float(torch.compile(loss, fullgraph=True)(probs, wrapped))
        got = float(torch.compile(loss, fullgraph=True)(probs, wrapped.to(torch.int8)))
        np.testing.assert_allclose(got, expected)
    else:
        with pytest.raises(ValueError, match=r"outside \[0, 3\) \(found -1\)"):
            loss(probs, wrapped.to(torch.int8))
        for ignored, dtype in ((-1, torch.int8), (255, torch.uint8)):
            kept = wrapped.clone().to(dtype)
            kept[wrapped == -1] = ignored
            value = float(xt.DiceLoss(ignore_index=ignored)(probs, kept))
            np.testing.assert_allclose(value, float(xt.DiceLoss(ignore_index=-1)(probs, wrapped)))


# 7. Values that are checked where they can be read.


def test_class_indices_out_of_range_raise_eagerly(backend):
    labels = np.array([[0, 3], [2, 1]])
    probs = RNG.dirichlet(np.ones(3), (2, 2)).astype(np.float32)
    mask = labels != 3
    if backend.compiled:  # under a trace: an all-zero row
        dense = np.eye(4, dtype=np.float32)[labels][..., :3]
        got = run(backend, xploss.dice_loss, labels, probs)
        np.testing.assert_allclose(got, xploss.dice_loss(dense, probs), rtol=1e-6)
    else:
        with pytest.raises(ValueError, match=r"outside \[0, 3\) \(found 3\).*3 classes"):
            run(backend, xploss.dice_loss, labels, probs)
        with pytest.raises(ValueError, match=r"found -2"):
            run(backend, xploss.dice_loss, labels - 2, probs)
    masked = run(backend, xploss.dice_loss, labels, probs, mask=backend.asarray(mask))
    np.testing.assert_allclose(masked, xploss.dice_loss(labels % 3, probs, mask=mask), rtol=1e-6)


@pytest.mark.parametrize("threshold", [float("nan"), 0.0, 1.0, 1.5, -0.2, np.float64(2.0)])
def test_threshold_outside_the_open_unit_interval_raises(threshold):
    with pytest.raises(ValueError, match=r"threshold=.* must be None .* in \(0, 1\)"):
        xploss.dice_coefficient(np.ones(3), np.ones(3), threshold=threshold)


def test_numpy_scalar_thresholds_are_accepted():
    value = xploss.dice_coefficient(np.ones(3), np.full(3, 0.6), threshold=np.float32(0.5))
    assert float(value) == pytest.approx(1.0)


def test_negative_array_weights_raise_eagerly(eager_backend):
    backend = eager_backend
    y, p = np.ones((2, 3)), np.full((2, 3), 0.5, np.float32)
    weight = np.array([1.0, -0.5], np.float32)
    options = {"axis": 1, "weight": backend.asarray(weight)}
    with pytest.raises(ValueError, match=r"weight must hold values >= 0, but holds -0.5"):
        backend.call(xploss.dice_loss, backend.asarray(y), backend.asarray(p), **options)


# 8. The opt-in value check.


def test_validate_checks_probabilities_and_targets_eagerly(backend):
    y, p = np.array([[1.0, 0.0, 1.0]]), np.array([[2.5, -1.0, 0.5]], np.float32)
    if backend.compiled:  # never under a trace
        assert np.isfinite(run(backend, xploss.dice_loss, y, p, validate=True))
        return
    assert np.isfinite(run(backend, xploss.dice_loss, y, p))  # off by default
    assert np.isfinite(run(backend, xploss.dice_loss, y, p, validate=True, from_logits=True))
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 1\].*-1 to 2.5.*from_logits"):
        run(backend, xploss.dice_loss, y, p, validate=True)
    with pytest.raises(ValueError, match=r"y_true must lie in \[0, 1\].*found 2"):
        run(backend, xploss.precision, y * 2, p * 0, validate=True)
    labels = np.array([[0, 2]])  # class indices are checked by their own rule
    assert np.isfinite(
        run(backend, xploss.dice_loss, labels, np.full((1, 2, 3), 0.3), validate=True)
    )


def test_validate_is_an_option_of_every_function_and_adapter():
    for fn in FUNCTIONS.values():
        assert "validate" in field_names(fn.options), fn.__name__
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    with pytest.raises(ValueError, match="y_pred must lie in"):
        xt.DiceLoss(validate=True)(torch.full((1, 2, 3), 1.5), torch.zeros(1, 3, dtype=torch.long))


# 9. Warnings where a loss would be constant.


def test_softmax_over_one_channel_warns(backend):
    y, z = RNG.random((2, 5, 1)) < 0.5, RNG.normal(size=(2, 5, 1)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(backend, xploss.dice_loss, y, z, from_logits="softmax")
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if backend.name == "torch-compile":  # a warning would break the full graph
        return
    assert any("softmax of one class is 1" in m for m in messages), messages


def test_include_background_false_on_one_channel_warns_and_is_ignored():
    torch = pytest.importorskip("torch")
    import xploss.torch as xt

    probs, mask = torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4) > 0.5
    with pytest.warns(UserWarning, match="include_background=False is ignored"):
        value = xt.DiceLoss(include_background=False)(probs, mask)
    np.testing.assert_allclose(float(value), float(xt.DiceLoss()(probs, mask)))
    assert float(value) < 1.0


# 10. Empty inputs: empty sums are 0, scores are their 0/0 value, whichever axis is empty.


@pytest.mark.parametrize(("shape", "axis"), [((0, 4), 1), ((0, 4), None), ((3, 0), 1)])
def test_empty_inputs_score_the_empty_statistics(backend, shape, axis):
    fns = [*OVERLAP, *WITH_BCE, xploss.generalized_dice_loss]
    options = {"generalized_dice_loss": {"axis": None}}
    empty = np.zeros(shape, np.float32)
    got = run(backend, composite(fns, options), empty, empty, axis=axis)
    nothing = np.zeros((1, 4), np.float32)  # non-empty, but every sum is 0
    expected = composite(fns, options)(nothing, nothing, axis=None)
    assert_close(got, expected, atol=2e-7)  # BCE of p = 0 at y = 0 is 1e-7, of no element 0
    per_sample = run(backend, xploss.dice_loss, empty, empty, axis=1, reduction="per_sample")
    assert per_sample.shape == (shape[0],) and np.allclose(per_sample, 0.0)


# 11. TensorFlow tensors of unknown rank.


def test_tensorflow_unknown_rank_names_the_argument():
    tf = pytest.importorskip("tensorflow")

    spec = tf.TensorSpec(None, tf.float32)
    known = tf.TensorSpec([None, 3], tf.float32)
    for signature, name in (((spec, known), "y_true"), ((known, spec), "y_pred")):
        loss = tf.function(lambda y, p: xploss.dice_loss(y, p), input_signature=signature)
        with pytest.raises(ValueError, match=rf"{name} has an unknown rank"):
            loss(tf.ones((2, 3)), tf.ones((2, 3)))
