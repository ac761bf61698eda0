"""Soft clDice and Dice + clDice against MONAI 1.6 itself (``SoftclDiceLoss``,
``SoftDiceclDiceLoss``, ``soft_skel``): values and gradients in float64, 2-D and 3-D, random
inputs, inputs full of ties (binary and quantised), MONAI's published cases, the authors' form
(MONAI up to 1.5), edge cases, every backend eager and compiled, and the errors."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
monai_losses = pytest.importorskip("monai.losses")

from monai.losses import cldice as monai_cldice  # noqa: E402

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402
from xploss._skeleton import soft_dilate, soft_erode, soft_skeleton  # noqa: E402

EXACT = {"rtol": 1e-10, "atol": 1e-12}  # float64 against MONAI: measured deviations ~1e-16
BACKEND = {"rtol": 1e-9, "atol": 1e-11}
SHAPES = {2: (2, 3, 9, 8), 3: (2, 3, 5, 6, 4)}


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def inputs(shape, seed: int, kind: str = "probabilities"):
    """Channels-first float64 ``(prediction, target)``: probabilities (or logits, or values
    full of ties) and a binary target."""
    g = generator(seed)
    if kind == "logits":
        pred = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    else:
        pred = torch.rand(shape, generator=g, dtype=torch.float64)
    if kind == "binary":
        pred = (pred > 0.5).double()
    elif kind == "quantised":
        pred = torch.round(pred * 3) / 3
    target = (torch.rand(shape, generator=g, dtype=torch.float64) > 0.6).double()
    return pred, target


def value_and_grad(loss, pred, target):
    """``loss(pred, target)`` and the gradient of its sum (``reduction="none"`` too)."""
    pred = pred.detach().clone().requires_grad_(True)
    value = loss(pred, target)
    (gradient,) = torch.autograd.grad(value.sum(), pred)
    return value.detach().numpy(), gradient.numpy()


def ours(monai_kwargs: dict) -> dict:
    """MONAI's arguments as xploss' torch modules take them."""
    kwargs = dict(monai_kwargs)
    if kwargs.pop("sigmoid", False):
        kwargs["from_logits"] = True
    if kwargs.pop("softmax", False):
        kwargs["from_logits"] = "softmax"
    return kwargs


def assert_same(got, expected, tolerance=EXACT):
    for a, b in zip(got, expected, strict=True):
        assert np.all(np.isfinite(a)), a
        np.testing.assert_allclose(a, b, **tolerance)


# ---- The soft skeleton: MONAI's soft_erode, soft_dilate and soft_skel -----------------------


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("kind", ["probabilities", "binary", "quantised"])
def test_soft_morphology_is_monais_values_and_gradients_ties_included(dims, kind):
    """Binary and quantised inputs are full of equal values: the gradient goes where MONAI's
    max-pooling and ``torch.min`` send it (first maximum of a window, halves of a tie)."""
    x, weights = inputs(SHAPES[dims], seed=dims, kind=kind)
    axes = tuple(range(2, 2 + dims))
    pairs = [
        (monai_cldice.soft_erode, functools.partial(soft_erode, axes=axes)),
        (monai_cldice.soft_dilate, functools.partial(soft_dilate, axes=axes)),
        (
            functools.partial(monai_cldice.soft_skel, iter_=3),
            functools.partial(soft_skeleton, axes=axes, iter_=3),
        ),
        (
            functools.partial(monai_cldice.soft_skel, iter_=0),
            functools.partial(soft_skeleton, axes=axes, iter_=0),
        ),
    ]
    for theirs, mine in pairs:
        expected = value_and_grad(lambda p, w, f=theirs: f(p) * w, x, weights)
        got = value_and_grad(lambda p, w, f=mine: f(p) * w, x, weights)
        assert_same(got, expected)


def _oracle_skeleton(x: np.ndarray, axes: tuple[int, ...], iter_: int) -> np.ndarray:
    """The soft skeleton written with SciPy's 1-D filters, ``-inf``/``+inf`` beyond the border
    (max-pooling's padding), for any number of spatial axes."""
    ndimage = pytest.importorskip("scipy.ndimage")

    def erode(a):
        mins = [ndimage.minimum_filter1d(a, 3, axis=k, mode="constant", cval=np.inf) for k in axes]
        return functools.reduce(np.minimum, mins)

    def dilate(a):
        for k in axes:
            a = ndimage.maximum_filter1d(a, 3, axis=k, mode="constant", cval=-np.inf)
        return a

    skeleton = np.maximum(x - dilate(erode(x)), 0)
    for _ in range(iter_):
        x = erode(x)
        delta = np.maximum(x - dilate(erode(x)), 0)
        skeleton = skeleton + np.maximum(delta - skeleton * delta, 0)
    return skeleton


@pytest.mark.parametrize(
    ("shape", "axes"),
    [((3, 11), (1,)), ((2, 5, 4, 6, 5), (1, 2, 3, 4)), ((4, 6, 3), (0, 1))],
    ids=["1-D", "4-D", "no-batch"],
)
def test_any_number_of_spatial_axes_is_the_scipy_oracle(shape, axes):
    rng = np.random.default_rng(len(shape))
    x = np.round(rng.random(shape) * 4) / 4  # ties too
    for iter_ in (0, 2):
        np.testing.assert_allclose(
            soft_skeleton(x, axes, iter_), _oracle_skeleton(x, axes, iter_), **EXACT
        )


# ---- The losses against MONAI 1.6 ---------------------------------------------------------------

OPTIONS = [
    {},
    {"include_background": False},
    {"reduction": "sum", "iter_": 1},
    {"iter_": 5, "smooth_nr": 0.5, "smooth_dr": 2.0, "smooth": 0.3},
    {"sigmoid": True},
    {"softmax": True, "to_onehot_y": True, "include_background": False},
]


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_losses_are_monais_values_and_gradients(dims, options):
    logits = options.get("sigmoid") or options.get("softmax")
    shape = SHAPES[dims]
    pred, target = inputs(shape, seed=10 + dims, kind="logits" if logits else "probabilities")
    if options.get("to_onehot_y"):
        target = torch.randint(0, shape[1], (2, 1, *shape[2:]), generator=generator(4))
    pairs = [
        (monai_losses.SoftclDiceLoss, xt.SoftclDiceLoss, {}),
        (monai_losses.SoftDiceclDiceLoss, xt.SoftDiceclDiceLoss, {"alpha": 0.3}),
    ]
    for theirs, mine, extra in pairs:
        expected = value_and_grad(theirs(**options, **extra), pred, target)
        got = value_and_grad(mine(**ours(options), **extra), pred, target)
        assert_same(got, expected)


@pytest.mark.parametrize("dims", [2, 3])
def test_reduction_none_is_one_value_per_image_as_monai(dims):
    pred, target = inputs(SHAPES[dims], seed=20)
    expected = value_and_grad(monai_losses.SoftclDiceLoss(reduction="none"), pred, target)
    got = value_and_grad(xt.SoftclDiceLoss(reduction="none"), pred, target)
    assert got[0].shape == (2,)
    assert_same(got, expected)


def test_the_functional_api_on_channels_last_arrays_is_monai():
    """The mapping the docstring gives: ``class_axis=1, axis=spatial`` on channels-first
    arrays, and channels-last NumPy arrays with the default ``class_axis=-1``."""
    pred, target = inputs(SHAPES[2], seed=21)
    for theirs, function in (
        (monai_losses.SoftclDiceLoss(iter_=2), xploss.soft_cldice_loss),
        (monai_losses.SoftDiceclDiceLoss(iter_=2), xploss.soft_dice_cldice_loss),
    ):
        expected = float(theirs(pred, target))
        first = function(target.numpy(), pred.numpy(), class_axis=1, axis=(2, 3), iter_=2)
        last = function(
            np.moveaxis(target.numpy(), 1, -1), np.moveaxis(pred.numpy(), 1, -1), axis=(1, 2),
            iter_=2,
        )  # fmt: skip
        np.testing.assert_allclose([float(first), float(last)], [expected] * 2, **EXACT)


def test_pool_classes_false_is_monai_channel_by_channel():
    pred, target = inputs(SHAPES[2], seed=22)
    monai = monai_losses.SoftclDiceLoss(reduction="none")
    expected = np.stack(
        [monai(pred[:, c : c + 1], target[:, c : c + 1]).numpy() for c in range(3)], axis=1
    )
    got = xt.SoftclDiceLoss(reduction="none", pool_classes=False)(pred, target)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got.numpy(), expected, **EXACT)
    mean = xt.SoftclDiceLoss(pool_classes=False, include_background=False)(pred, target)
    np.testing.assert_allclose(float(mean), expected[:, 1:].mean(), **EXACT)


# MONAI's tests/losses/test_cldice_loss.py (all-ones inputs: loss 0 within 1e-4), the CUDA case
# (100, 3, 256, 256) smaller.
PUBLISHED = [(7, 3, 11, 10), (2, 3, 13, 14, 5), (2, 3, 32, 32)]


@pytest.mark.parametrize("shape", PUBLISHED, ids=str)
def test_monais_published_cases(shape):
    ones = torch.ones(shape, dtype=torch.float64)
    for theirs, mine in (
        (monai_losses.SoftclDiceLoss(), xt.SoftclDiceLoss()),
        (monai_losses.SoftDiceclDiceLoss(), xt.SoftDiceclDiceLoss()),
    ):
        expected = value_and_grad(theirs, ones, ones)
        got = value_and_grad(mine, ones, ones)
        assert_same(got, expected)
        np.testing.assert_allclose(got[0], 0.0, atol=1e-4)


def test_the_authors_form_is_monai_before_1_6():
    """The authors' code (jocpae/clDice) and MONAI up to 1.5: sums over the whole batch, channel
    0 left out, ``smooth`` on both ratios, no epsilon in the harmonic mean, and a Dice pooled
    over the foreground channels; written here with MONAI's own ``soft_skel``."""
    pred, target = inputs(SHAPES[2], seed=23)
    smooth, alpha = 1.0, 0.3

    def authors(p, y):
        skel_p, skel_y = monai_cldice.soft_skel(p, 3), monai_cldice.soft_skel(y, 3)
        tprec = ((skel_p * y)[:, 1:].sum() + smooth) / (skel_p[:, 1:].sum() + smooth)
        tsens = ((skel_y * p)[:, 1:].sum() + smooth) / (skel_y[:, 1:].sum() + smooth)
        cl_dice = 1.0 - 2.0 * (tprec * tsens) / (tprec + tsens)
        dice = 1.0 - (2.0 * (y * p)[:, 1:].sum() + smooth) / (
            y[:, 1:].sum() + p[:, 1:].sum() + smooth
        )
        return torch.stack([cl_dice, (1 - alpha) * dice + alpha * cl_dice])

    form = {"include_background": False, "smooth_nr": smooth, "smooth_dr": smooth, "smooth": 0}
    expected = value_and_grad(authors, pred, target)
    got = value_and_grad(
        lambda p, y: torch.stack(
            [
                xt.SoftclDiceLoss(batch=True, **form)(p, y),
                xt.SoftDiceclDiceLoss(axis=(0, 1, 2, 3), alpha=alpha, **form)(p, y),
            ]
        ),
        pred,
        target,
    )
    assert_same(got, expected)


# ---- Edge cases: empty, all-foreground, a single pixel ------------------------------------------


def edge_targets(shape=(1, 2, 7, 6)):
    empty = torch.zeros(shape, dtype=torch.float64)
    full = torch.ones(shape, dtype=torch.float64)
    pixel = empty.clone()
    pixel[..., 3, 2] = 1.0
    return {"empty": empty, "full": full, "pixel": pixel}


@pytest.mark.parametrize("target_name", ["empty", "full", "pixel"])
@pytest.mark.parametrize("pred_name", ["empty", "full", "pixel", "random"])
def test_edge_cases_are_monais_with_finite_gradients(target_name, pred_name):
    targets = edge_targets()
    target = targets[target_name]
    pred = targets.get(pred_name, inputs((1, 2, 7, 6), seed=24)[0])
    for theirs, mine in (
        (monai_losses.SoftclDiceLoss(), xt.SoftclDiceLoss()),
        (monai_losses.SoftDiceclDiceLoss(), xt.SoftDiceclDiceLoss()),
    ):
        assert_same(value_and_grad(mine, pred, target), value_and_grad(theirs, pred, target))


def test_one_pixel_images_have_an_empty_skeleton():
    """A 1x1 image erodes and dilates to itself: its skeleton is 0, as MONAI's."""
    pred, target = inputs((3, 2, 1, 1), seed=25)
    assert_same(
        value_and_grad(xt.SoftDiceclDiceLoss(), pred, target),
        value_and_grad(monai_losses.SoftDiceclDiceLoss(), pred, target),
    )
    assert float(soft_skeleton(pred, (2, 3)).abs().max()) == 0.0


ZERO = {"smooth_nr": 0.0, "smooth_dr": 0.0, "smooth": 0.0}


def test_without_smoothing_the_empty_ratios_are_documented_and_gradients_finite():
    """MONAI needs smooth > 0. Here an empty skeleton's ratio is 1 and two zero ratios give
    clDice 0, with finite gradients (by hand: Tprec, Tsens and clDice below). The guards are
    ``safe_divide``'s, whose gradients every backend's tests check."""
    t = edge_targets()
    elsewhere = t["empty"].clone()
    elsewhere[..., 0, 5] = 1.0
    cases = [  # (target, prediction, expected loss)
        (t["empty"], t["empty"], 0.0),  # Tprec = Tsens = 1 (0/0): clDice 1
        (t["full"], t["empty"], 0.0),  # no border inside, so no skeleton: as above
        (t["pixel"], t["empty"], 1.0),  # Tprec = 1 (0/0), Tsens = 0/1: clDice 0
        (t["pixel"], t["empty"] + 0.5, 1 / 3),  # Tprec = 1 (0/0), Tsens = 0.5/1: 2/3
        (t["pixel"], elsewhere, 1.0),  # Tprec = 0/1, Tsens = 0/1: clDice 0 (0/0)
    ]
    for target, pred, expected in cases:
        value, gradient = value_and_grad(xt.SoftclDiceLoss(**ZERO), pred, target)
        np.testing.assert_allclose(value, expected, atol=1e-15)
        assert np.isfinite(gradient).all()


def test_nan_propagates_to_the_loss_and_the_skeleton():
    pred, target = inputs((2, 2, 6, 5), seed=26)
    pred[1, 0, 2, 3] = float("nan")
    assert torch.isnan(soft_skeleton(pred, (2, 3))[1, 0]).any()
    for loss in (xt.SoftclDiceLoss(reduction="none"), xt.SoftDiceclDiceLoss(reduction="sum")):
        assert torch.isnan(loss(pred, target)).any()
    assert not torch.isnan(xt.SoftclDiceLoss(reduction="none")(pred, target)[0])


# ---- Masks, ignore_index, all_reduce ------------------------------------------------------------


def test_a_mask_and_ignore_index_leave_elements_out_of_the_sums():
    """The skeletons are the whole images' (MONAI's ``soft_skel``); the mask weighs them in the
    four sums. ``ignore_index`` masks the pixels of that label, whose one-hot row is 0."""
    rng = np.random.default_rng(27)
    labels = rng.integers(0, 3, (2, 8, 7))
    labels[:, :2] = 255
    pred = torch.rand(2, 3, 8, 7, generator=generator(27), dtype=torch.float64)
    onehot = torch.from_numpy((labels[:, None] == np.arange(3)[:, None, None]).astype(float))
    keep = torch.from_numpy((labels != 255).astype(float))[:, None]
    skel_p, skel_y = monai_cldice.soft_skel(pred, 3), monai_cldice.soft_skel(onehot, 3)
    dims = (1, 2, 3)
    tprec = ((keep * skel_p * onehot).sum(dims) + 1) / ((keep * skel_p).sum(dims) + 1)
    tsens = ((keep * skel_y * pred).sum(dims) + 1) / ((keep * skel_y).sum(dims) + 1)
    expected = (1 - 2 * tprec * tsens / (tprec + tsens + 1e-4)).mean()
    got = xt.SoftclDiceLoss(ignore_index=255)(pred, torch.from_numpy(labels))
    np.testing.assert_allclose(float(got), float(expected), **EXACT)
    masked = xt.SoftclDiceLoss()(pred, onehot, keep)
    np.testing.assert_allclose(float(masked), float(expected), **EXACT)


def adding(other: list):
    """The other device's sums, call by call, added to this device's."""
    theirs = iter(other)

    def all_reduce(stats):
        return type(stats)(*(a + b for a, b in zip(stats, next(theirs), strict=True)))

    return all_reduce


def recording(log: list):
    def all_reduce(stats):
        log.append(stats)
        return stats

    return all_reduce


@pytest.mark.parametrize("function", [xploss.soft_cldice_loss, xploss.soft_dice_cldice_loss])
@pytest.mark.parametrize("axis", [None, (1, 2)], ids=["batch-sums", "per-image"])
def test_all_reduce_of_two_unequal_halves_is_the_whole_batch(function, axis):
    rng = np.random.default_rng(28)
    y = (rng.random((4, 6, 5, 2)) < 0.5).astype(float)
    p = rng.random((4, 6, 5, 2))
    for reduction in ("mean", "sum"):
        whole = float(function(y, p, axis=axis, reduction=reduction))
        halves = [(y[rows], p[rows]) for rows in (slice(None, 1), slice(1, None))]
        logs: list[list] = [[], []]
        for (yh, ph), log in zip(halves, logs, strict=True):
            function(yh, ph, axis=axis, reduction=reduction, all_reduce=recording(log))
        for (yh, ph), other in zip(halves, reversed(logs), strict=True):
            synced = function(yh, ph, axis=axis, reduction=reduction, all_reduce=adding(other))
            np.testing.assert_allclose(float(synced), whole, **EXACT)
        alone = float(function(*halves[0], axis=axis, reduction=reduction))
        assert not np.isclose(alone, whole, rtol=1e-3)


# ---- Every backend, eager and compiled, on one small shape --------------------------------------

CHANNELS_LAST = {"axis": (1, 2), "from_logits": "softmax", "include_background": False}
MONAI_OPTIONS = {"softmax": True, "to_onehot_y": True, "include_background": False}


def backend_case():
    logits = torch.randn(2, 3, 6, 5, generator=generator(29), dtype=torch.float64)
    labels = torch.randint(0, 3, (2, 6, 5), generator=generator(30))
    return logits, labels


def under_test(backend, single):
    """``(function, MONAI's loss, options)``: both losses with ``iter_=1``; where every graph
    is compiled (the skeleton's graph is large: compiling it takes as long as MONAI's loss) and
    in eager JAX (op by op, as slow), ``single`` alone with ``iter_=0`` (the loop's body is
    compiled by the registry's tests)."""
    pairs = {
        xploss.soft_cldice_loss: (monai_losses.SoftclDiceLoss, {}),
        xploss.soft_dice_cldice_loss: (monai_losses.SoftDiceclDiceLoss, {"alpha": 0.3}),
    }
    chosen = [(single, 0)] if backend.compiled or backend.library == "jax" else []
    chosen = chosen or [(function, 1) for function in pairs]
    for function, iter_ in chosen:
        theirs, extra = pairs[function]
        options = {**extra, "iter_": iter_}
        yield function, theirs(**MONAI_OPTIONS, **options), {**CHANNELS_LAST, **options}


def test_every_eager_backend_gives_monais_values(eager_backend):
    backend = eager_backend
    logits, labels = backend_case()
    last = np.moveaxis(logits.numpy(), 1, -1)
    y_true, y_pred = backend.asarray(labels.numpy()), backend.asarray(last)
    for function, theirs, options in under_test(backend, xploss.soft_dice_cldice_loss):
        expected = float(theirs(logits, labels[:, None]))
        got = backend.call(function, y_true, y_pred, **options)
        np.testing.assert_allclose(backend.to_numpy(got), expected, **BACKEND)


def squared(function):
    """``L²``, whose gradient ``2·L·∇L`` checks the compiled value and gradient at once."""

    def loss(y_true, y_pred, **options):
        value = function(y_true, y_pred, **options)
        return value * value

    return loss


def test_every_autodiff_backend_gives_monais_value_and_gradient(autodiff_backend):
    backend = autodiff_backend
    logits, labels = backend_case()
    last = np.moveaxis(logits.numpy(), 1, -1)
    y_true, y_pred = backend.asarray(labels.numpy()), backend.asarray(last)
    for function, theirs, options in under_test(backend, xploss.soft_cldice_loss):
        expected = value_and_grad(lambda p, y, f=theirs: f(p, y) ** 2, logits, labels[:, None])
        got = backend.grad(squared(function), y_true, y_pred, **options)
        np.testing.assert_allclose(got, np.moveaxis(expected[1], 1, -1), **BACKEND)


# ---- Keras --------------------------------------------------------------------------------------


def test_keras_losses_are_per_sample_and_their_configs_round_trip():
    keras = pytest.importorskip("keras")
    import xploss.keras as xk

    pred, target = inputs(SHAPES[3], seed=31)
    p, y = np.moveaxis(pred.numpy(), 1, -1), np.moveaxis(target.numpy(), 1, -1)
    for cls, monai in (
        (xk.SoftclDiceLoss, monai_losses.SoftclDiceLoss(iter_=2, reduction="none")),
        (xk.SoftDiceclDiceLoss, None),
    ):
        loss = cls(spatial_axes=(1, 2, 3), iter_=2)
        config = json.loads(json.dumps(keras.saving.serialize_keras_object(loss)))
        again = keras.saving.deserialize_keras_object(config)
        assert type(again) is cls and again.spatial_axes == (1, 2, 3) and again.iter_ == 2
        per_sample = cls.entry.function(y, p, axis=(1, 2, 3, 4), iter_=2, reduction="none")
        np.testing.assert_allclose(float(again(y, p)), np.mean(per_sample), rtol=1e-5)
        if monai is not None:
            np.testing.assert_allclose(per_sample, monai(pred, target).numpy(), **EXACT)


# ---- Errors -------------------------------------------------------------------------------------

SHAPE = r"y_pred of shape \(2, 6, 5, 3\)"
ERRORS = [
    ({"spatial_axes": (1, 5)}, ValueError, r"spatial_axes=\(1, 5\) is out of range.*5, 3\)"),
    ({"spatial_axes": (1, 3)}, ValueError, r"spatial_axes=\(1, 3\) holds class_axis=3 of " + SHAPE),
    ({"spatial_axes": ()}, ValueError, r"spatial_axes=\(\) names no axis of " + SHAPE),
    ({"spatial_axes": (1, 1)}, ValueError, r"spatial_axes=\(1, 1\) names an axis twice"),
    ({"iter_": -1}, ValueError, r"iter_=-1 must be an int >= 0"),
    ({"iter_": 1.5}, TypeError, r"iter_ must be an int"),
    ({"smooth": -1.0}, ValueError, r"smooth=-1.0 must be a finite number >= 0"),
    ({"pool_classes": "no"}, TypeError, r"pool_classes must be True or False"),
]


@pytest.mark.parametrize("function", [xploss.soft_cldice_loss, xploss.soft_dice_cldice_loss])
@pytest.mark.parametrize(("options", "error", "message"), ERRORS)
def test_bad_input_names_the_argument_and_the_shapes(function, options, error, message):
    rng = np.random.default_rng(32)
    shape = (2, 6, 5, 3)
    with pytest.raises(error, match=message):
        function(rng.random(shape) < 0.5, rng.random(shape), **options)


@pytest.mark.parametrize("function", [xploss.soft_cldice_loss, xploss.soft_dice_cldice_loss])
def test_an_input_without_spatial_axes_names_spatial_axes(function):
    with pytest.raises(ValueError, match=r"spatial_axes=None .* leaves none for y_pred of shape"):
        function(np.ones((4, 3)), np.ones((4, 3)))


def test_alpha_and_unpaired_reductions_of_dice_cldice_raise():
    y, p = np.ones((2, 6, 5, 3)), np.full((2, 6, 5, 3), 0.5)
    with pytest.raises(ValueError, match=r"alpha=1.5 must be a number in \[0, 1\]"):
        xploss.soft_dice_cldice_loss(y, p, alpha=1.5)
    with pytest.raises(ValueError, match=r"reduction='none' with axis=\(1, 2\).*do not pair up"):
        xploss.soft_dice_cldice_loss(y, p, axis=(1, 2), reduction="none")
    with pytest.raises(ValueError, match="do not pair up"):
        xt.SoftDiceclDiceLoss(reduction="none")(torch.ones(2, 3, 4, 4), torch.ones(2, 3, 4, 4))
    rng = np.random.default_rng(33)
    y, p = rng.random((2, 6, 5, 3)) < 0.5, rng.random((2, 6, 5, 3))
    per_sample = xploss.soft_dice_cldice_loss(y, p, axis=(1, 2), reduction="per_sample")
    dice = xploss.dice_loss(y, p, axis=(1, 2), reduction="per_sample", smooth_nr=1, smooth_dr=1)
    cl_dice = xploss.soft_cldice_loss(y, p, axis=(1, 2), reduction="none")
    assert per_sample.shape == cl_dice.shape == (2,)
    np.testing.assert_allclose(per_sample, 0.5 * dice + 0.5 * cl_dice, **EXACT)
    unpooled = xploss.soft_dice_cldice_loss(y, p, axis=(1, 2), reduction="none", pool_classes=False)
    assert unpooled.shape == (2, 3)
