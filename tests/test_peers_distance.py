"""The distance transforms and the distance-map losses against their peers, run here.

Peers: ``scipy.ndimage.distance_transform_edt`` (the transform, spacing included), Kervadec et
al.'s ``one_hot2dist`` and ``SurfaceLoss`` (re-implemented below in NumPy over SciPy, from the
authors' repository: github.com/LIVIAETS/boundary-loss), and MONAI 1.6's ``HausdorffDTLoss`` and
``LogHausdorffDTLoss`` themselves (values and gradients, random cases and MONAI's published
cases of tests/losses/test_hausdorff_loss.py). Every backend, eager and compiled, runs one small
case through every function, values and gradients.

Tolerances: SciPy and the transform here are exact (integers and their square roots, ``F64``).
MONAI rounds its distance fields to float32 (``.float()``), so its values and gradients agree to
float32 rounding (``F32``); its published values carry 6 digits (``PUBLISHED``).
"""

from __future__ import annotations

import math

import monai.losses as monai
import numpy as np
import pytest
import torch
from scipy import ndimage

import xploss
import xploss.torch as xt

F64 = {"rtol": 1e-12, "atol": 1e-12}
F32 = {"rtol": 1e-6, "atol": 1e-9}
PUBLISHED = {"rtol": 1e-5, "atol": 1e-6}
RNG = np.random.default_rng(20)

pytestmark = [
    pytest.mark.filterwarnings("ignore:single channel prediction"),
    pytest.mark.filterwarnings("ignore:include_background=False is ignored for a single-channel"),
]


# ---- independent references -----------------------------------------------------------------
def scipy_edt(mask: np.ndarray, axes: tuple[int, ...], spacing=None) -> np.ndarray:
    """SciPy's transform of each image (the slices over ``axes``); inf for an image without a
    zero element, where SciPy measures from a point outside the array."""
    moved = np.moveaxis(mask, axes, tuple(range(mask.ndim - len(axes), mask.ndim)))
    flat = moved.reshape(-1, *moved.shape[mask.ndim - len(axes) :])
    out = np.empty(flat.shape)
    for i, image in enumerate(flat):
        out[i] = (
            ndimage.distance_transform_edt(image, sampling=spacing)
            if (image == 0).any()
            else np.inf
        )
    back = out.reshape(moved.shape)
    return np.moveaxis(back, tuple(range(mask.ndim - len(axes), mask.ndim)), axes)


def one_hot2dist(seg: np.ndarray, resolution=None) -> np.ndarray:
    """The authors' ``one_hot2dist`` of one sample ``(K, *spatial)``."""
    res = np.zeros(seg.shape)
    for k in range(len(seg)):
        posmask = seg[k].astype(bool)
        if posmask.any():
            negmask = ~posmask
            res[k] = (
                ndimage.distance_transform_edt(negmask, sampling=resolution) * negmask
                - (ndimage.distance_transform_edt(posmask, sampling=resolution) - 1) * posmask
            )
    return res


def kervadec_phi(onehot: np.ndarray) -> np.ndarray:
    """``(B, K, *spatial)`` maps, sample by sample."""
    return np.stack([one_hot2dist(sample) for sample in onehot])


def surface_loss(probs: np.ndarray, phi: np.ndarray, idc: list[int]) -> float:
    """The authors' ``SurfaceLoss``: ``einsum("bkwh,bkwh->bkwh", p[:, idc], φ[:, idc]).mean()``."""
    return float((probs[:, idc] * phi[:, idc]).mean())


def one_hot(labels: np.ndarray, classes: int, axis: int = 1) -> np.ndarray:
    return np.moveaxis(np.eye(classes)[labels], -1, axis)


def softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def monai_value_and_grad(logits: np.ndarray, target: np.ndarray, **options):
    x = torch.tensor(logits, requires_grad=True)
    value = monai.HausdorffDTLoss(**options)(x, torch.tensor(target))
    (gradient,) = torch.autograd.grad(value.sum(), x)
    return value.detach().numpy(), gradient.numpy()


# ---- the transform against SciPy ------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "axes", "spacing"),
    [
        ((9, 11), (0, 1), None),
        ((5, 6, 7), (0, 1, 2), None),
        ((5, 6, 7), (0, 1, 2), (2.5, 1.0, 0.5)),  # anisotropic voxels
        ((1, 13), (0, 1), 0.3),
        ((17,), (0,), None),
        ((3, 8, 2, 9), (1, 3), (1.5, 0.7)),  # a batch and a channel axis around the image
        ((4, 33, 30), (1, 2), None),
    ],
)
@pytest.mark.parametrize("density", [0.05, 0.5, 0.95])
def test_distance_transform_is_scipys(shape, axes, spacing, density):
    mask = RNG.random(shape) < density
    expected = scipy_edt(mask, axes, spacing)
    for given in (mask, mask.astype(np.int64), mask.astype(np.float64)):
        got = xploss.distance_transform(given, axis=axes, spacing=spacing, dtype=np.float64)
        np.testing.assert_allclose(got, expected, **F64)


def test_distance_transform_edge_cases_are_defined():
    empty = np.zeros((2, 4, 5))
    assert (xploss.distance_transform(empty, axis=(1, 2)) == 0).all()  # every element a zero
    full = np.ones((2, 4, 5))
    assert np.isinf(xploss.distance_transform(full, axis=(1, 2))).all()  # no zero to measure to
    mixed = full.copy()
    mixed[1, 2, 3] = 0  # one zero: image 1 measured from it, image 0 has none
    got = xploss.distance_transform(mixed, axis=(1, 2), dtype=np.float64)
    assert np.isinf(got[0]).all()
    np.testing.assert_allclose(got[1], ndimage.distance_transform_edt(mixed[1]), **F64)
    single = np.zeros((5, 6))
    single[2, 2] = 1  # a single foreground pixel is 1 from the background
    assert xploss.distance_transform(single, axis=None).sum() == 1
    nothing = xploss.distance_transform(np.zeros((0, 4)), axis=(0, 1))
    assert nothing.shape == (0, 4)
    no_axis = xploss.distance_transform(single, axis=())  # every element its own image
    assert np.isinf(no_axis[2, 2]) and (no_axis[single == 0] == 0).all()
    with_nan = np.array([[0.0, 1.0, np.nan, 1.0]])
    got = xploss.distance_transform(with_nan, axis=1)
    assert np.isnan(got[0, 2]) and got[0, 3] == 3 and got.dtype == np.float64
    assert xploss.distance_transform(single > 0, axis=None).dtype == np.float32


def test_distance_transform_bad_arguments_name_themselves():
    mask = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"axis=2 is out of range.*shape \(2, 3\)"):
        xploss.distance_transform(mask, axis=2)
    with pytest.raises(ValueError, match=r"axis=\(1, -1\) names an axis twice"):
        xploss.distance_transform(mask, axis=(1, -1))
    with pytest.raises(ValueError, match=r"spacing=\(1.0,\) has 1 entries.*axis=\(0, 1\)"):
        xploss.distance_transform(mask, axis=(0, 1), spacing=(1.0,))
    with pytest.raises(ValueError, match=r"spacing=-1.0 must hold finite numbers > 0"):
        xploss.distance_transform(mask, axis=1, spacing=-1.0)
    with pytest.raises(TypeError, match=r"spacing must be None, a number"):
        xploss.distance_transform(mask, axis=1, spacing="1")
    with pytest.raises(TypeError, match=r"dtype must be None or a real floating dtype"):
        xploss.distance_transform(mask, axis=1, dtype=np.int32)
    with pytest.raises(TypeError, match=r"mask must have a bool, integer or floating dtype"):
        xploss.distance_transform(np.ones((2, 3), complex), axis=1)


def test_an_unknown_spatial_size_names_the_axis():
    tf = pytest.importorskip("tensorflow")
    spec = tf.TensorSpec([None, None], tf.float32)
    transform = tf.function(lambda m: xploss.distance_transform(m, axis=1), input_signature=[spec])
    with pytest.raises(ValueError, match=r"axis 1, whose size is unknown.*\(None, None\)"):
        transform(tf.ones((2, 3)))
    known = tf.TensorSpec([None, 4], tf.float32)  # an unknown batch is fine
    transform = tf.function(lambda m: xploss.distance_transform(m, axis=1), input_signature=[known])
    got = transform(tf.constant([[0.0, 1.0, 1.0, 0.0]]))
    np.testing.assert_allclose(got.numpy(), [[0.0, 1.0, 1.0, 0.0]])


# ---- the signed map against the authors' one_hot2dist --------------------------------------
@pytest.mark.parametrize("spatial", [(12, 10), (6, 5, 7)])
def test_signed_distance_map_is_the_authors_one_hot2dist(spatial):
    labels = RNG.integers(0, 3, (2, *spatial))
    labels[1][labels[1] == 2] = 0  # class 2 absent from sample 1: left blank
    onehot = one_hot(labels, 4)  # class 3 absent everywhere
    expected = kervadec_phi(onehot)
    axes = tuple(range(2, 2 + len(spatial)))
    got = xploss.signed_distance_map(onehot.astype(np.float64), axis=axes)
    np.testing.assert_allclose(got, expected, **F64)
    from_labels = xploss.signed_distance_map(
        labels, axis=tuple(range(1, 1 + len(spatial))), num_classes=4, class_axis=1,
        dtype=np.float64,
    )  # fmt: skip
    np.testing.assert_allclose(from_labels, expected, **F64)
    resolution = (0.5, 2.0, 1.25)[: len(spatial)]
    anisotropic = np.stack([one_hot2dist(sample, resolution) for sample in onehot])
    got = xploss.signed_distance_map(onehot.astype(np.float64), axis=axes, spacing=resolution)
    np.testing.assert_allclose(got, anisotropic, **F64)


def test_signed_distance_map_edge_cases_are_defined():
    empty, full = np.zeros((4, 5), bool), np.ones((4, 5), bool)
    assert (xploss.signed_distance_map(empty, axis=None) == 0).all()  # the authors' blank map
    assert (xploss.signed_distance_map(full, axis=None) == 0).all()  # no outside: 0 as well
    single = empty.copy()
    single[1, 2] = True
    phi = xploss.signed_distance_map(single, axis=None, dtype=np.float64)
    np.testing.assert_allclose(phi, one_hot2dist(single[None])[0], **F64)
    assert phi[1, 2] == 0 and phi[3, 4] == pytest.approx(math.hypot(2, 2))
    channels_last = xploss.signed_distance_map(np.array([[0, 1, 1, 2]]), axis=1, num_classes=3)
    assert channels_last.shape == (1, 4, 3)
    nan = xploss.signed_distance_map(np.array([[0.0, np.nan, 1.0]]), axis=1, num_classes=2)
    assert np.isnan(nan[0, 1]).all() and not np.isnan(nan[0, 0]).any()
    with pytest.raises(ValueError, match=r"outside \[0, 3\) \(found 5\)"):
        xploss.signed_distance_map(np.array([[0, 5]]), axis=1, num_classes=3)
    with pytest.raises(ValueError, match="non-integral"):
        xploss.signed_distance_map(np.array([[0.5, 1.0]]), axis=1, num_classes=3)
    with pytest.raises(ValueError, match=r"num_classes must be None or an int >= 1, got 0"):
        xploss.signed_distance_map(np.array([[0, 1]]), axis=1, num_classes=0)
    with pytest.raises(TypeError, match="got a bool array"):
        xploss.signed_distance_map(single, axis=1, num_classes=2)


# ---- the Hausdorff DT loss against MONAI ---------------------------------------------------
@pytest.mark.parametrize(
    "options",
    [
        {"sigmoid": True},
        {"sigmoid": True, "include_background": False, "batch": True},
        {"softmax": True, "include_background": True, "reduction": "sum"},
        {"softmax": True, "include_background": False, "reduction": "none", "alpha": 1.5},
        {"sigmoid": True, "include_background": True, "alpha": 0.0, "batch": True},
    ],
)
@pytest.mark.parametrize("spatial", [(7, 6), (4, 5, 3)])
def test_hausdorff_dt_loss_is_monais(options, spatial):
    logits = RNG.normal(size=(3, 3, *spatial)) * 2
    labels = RNG.integers(0, 3, (3, *spatial))
    labels[0] = 1  # one image with a single class: all foreground and all background fields
    target = one_hot(labels, 3)
    expected, expected_grad = monai_value_and_grad(logits, target, **options)
    ours_options = {k: v for k, v in options.items() if k not in ("sigmoid", "softmax")}
    ours_options.setdefault("include_background", False)  # MONAI's default
    ours_options["from_logits"] = True if options.get("sigmoid") else "softmax"
    x = torch.tensor(logits, requires_grad=True)
    for y in (torch.tensor(target), torch.tensor(labels)):  # one-hot, and class indices
        value = xt.HausdorffDTLoss(**ours_options)(x, y)
        (gradient,) = torch.autograd.grad(value.sum(), x)
        if options.get("reduction") == "none":  # MONAI keeps singleton axes and drops class 0
            value = value[..., 1:] if options.get("batch") else value[:, 1:]
        np.testing.assert_allclose(value.detach().numpy(), expected.reshape(value.shape), **F32)
        np.testing.assert_allclose(gradient.numpy(), expected_grad, **F32)
    channels_last = np.moveaxis(logits, 1, -1)
    axes = tuple(range(1, 1 + len(spatial))) if not options.get("batch") else None
    if options.get("reduction") in (None, "mean", "sum") and axes is not None:
        functional = xploss.hausdorff_dt_loss(
            labels, channels_last, axis=axes, **{k: v for k, v in ours_options.items()}
        )
        np.testing.assert_allclose(float(functional), float(expected), **F32)


def test_hausdorff_dt_loss_of_a_perfect_or_constant_prediction():
    target = np.zeros((2, 1, 5, 6))
    target[0, 0, 1:3, 2:5] = 1  # image 1 is empty: its field is 0
    perfect = xt.HausdorffDTLoss()(torch.tensor(target), torch.tensor(target))
    assert float(perfect) == 0
    half = torch.full((2, 1, 5, 6), 0.5, dtype=torch.float64, requires_grad=True)
    value = xt.HausdorffDTLoss()(half, torch.tensor(target))
    (gradient,) = torch.autograd.grad(value, half)
    reference = monai.HausdorffDTLoss(include_background=True)(half, torch.tensor(target))
    np.testing.assert_allclose(float(value), float(reference), **F32)
    assert float(value) > 0 and torch.isfinite(gradient).all()
    assert (gradient[1] == 0).all()  # empty target and an all-background prediction: no field


def test_hausdorff_mask_leaves_elements_out_of_the_mean_not_out_of_the_fields():
    probs = RNG.random((2, 1, 6, 7))
    target = (RNG.random((2, 1, 6, 7)) < 0.4).astype(np.float64)
    mask = RNG.random((2, 1, 6, 7)) < 0.6
    field = monai.HausdorffDTLoss().distance_field  # MONAI's own fields, per image
    distance = field(torch.tensor(probs)) ** 2 + field(torch.tensor(target)) ** 2
    terms = (probs - target) ** 2 * distance.numpy()
    expected = (terms * mask).sum(axis=(2, 3)) / mask.sum(axis=(2, 3))
    got = xt.HausdorffDTLoss(reduction="none")(
        torch.tensor(probs), torch.tensor(target), mask=torch.tensor(mask)
    )
    np.testing.assert_allclose(got.numpy(), expected[:, 0:1], **F32)


def test_infinite_logits_give_finite_values_and_gradients():
    logits = torch.tensor(
        [[[[math.inf, -math.inf, 2.0], [-math.inf, math.inf, -1.0]]]], requires_grad=True
    )
    target = torch.tensor([[[[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]]])
    for loss in (xt.HausdorffDTLoss(from_logits=True), xt.BoundaryLoss(from_logits=True)):
        value = loss(logits, target.long())
        (gradient,) = torch.autograd.grad(value, logits)
        assert torch.isfinite(value) and torch.isfinite(gradient).all(), type(loss).__name__


X3 = [
    [[[-1.0], [0.0], [1.0]], [[1.0], [0.0], [-1.0]]],
    [[[0.0], [0.0], [0.0]], [[0.0], [0.0], [0.0]]],
]  # (2, 2, 3, 1)
Y3 = [[[[1.0], [0.0], [0.0]]], [[[1.0], [1.0], [0.0]]]]  # (2, 1, 3, 1)
MONAI_CASES = [  # tests/losses/test_hausdorff_loss.py of MONAI: (options, input, target, value)
    ({"include_background": True, "sigmoid": True},
     [[[[1.0, -1.0], [-1.0, 1.0]]]], [[[[1.0, 0.0], [1.0, 1.0]]]], 0.509329),
    ({"include_background": True, "sigmoid": True},
     [[[[[1.0, -1.0], [-1.0, 1.0]]]]], [[[[[1.0, 0.0], [1.0, 1.0]]]]], 0.509329),
    ({"include_background": True, "sigmoid": True},
     [[[[[1.0, -1.0], [1.0, -1.0]], [[-1.0, 1.0], [-1.0, 1.0]]]]],
     [[[[[1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]]]]], 0.375718),
    ({"include_background": True, "sigmoid": True},
     [[[[1.0, -1.0], [-1.0, 1.0]], [[1.0, -1.0], [-1.0, 1.0]]]],
     [[[[1.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]], 0.326994),
    ({"include_background": True, "sigmoid": True},
     [[[[1.0, -1.0], [-1.0, 1.0]]], [[[1.0, -1.0], [-1.0, 1.0]]]],
     [[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [1.0, 0.0]]]], 0.455082),
    ({"include_background": False, "sigmoid": True},
     [[[[1.0, -1.0], [-1.0, 1.0]], [[1.0, -1.0], [-1.0, 1.0]]]],
     [[[[1.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]], 0.144659),
    ({"include_background": True, "to_onehot_y": True, "sigmoid": True, "reduction": "none"},
     X3,
     Y3,
     [[[[0.407765]], [[0.407765]]], [[[0.5000]], [[0.5000]]]]),
    ({"include_background": True, "to_onehot_y": True, "softmax": True},
     X3,
     Y3, 0.357016),
    ({"include_background": True, "to_onehot_y": True, "softmax": True, "reduction": "sum"},
     X3,
     Y3, 1.428062),
    ({"include_background": True, "other_act": torch.tanh},
     [[[[1.0, -1.0], [-1.0, 1.0]]], [[[1.0, -1.0], [-1.0, 1.0]]]],
     [[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [1.0, 0.0]]]], 1.870039),
    ({"include_background": True, "to_onehot_y": True,
      "other_act": lambda x: torch.log_softmax(x, dim=1)},
     X3,
     Y3, 4.366613),
    ({"include_background": True, "other_act": torch.tanh, "batch": True},
     [[[[1.0, -0.0], [-1.0, 1.0]]], [[[1.0, -1.0], [-1.0, 1.0]]]],
     [[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [1.0, 0.0]]]], 1.607137),
    ({"include_background": True, "other_act": torch.tanh, "batch": False},
     [[[[1.0, -0.0], [-1.0, 1.0]]], [[[1.0, -1.0], [-1.0, 1.0]]]],
     [[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [1.0, 0.0]]]], 1.607137),
]  # fmt: skip


@pytest.mark.parametrize("case", range(len(MONAI_CASES)))
@pytest.mark.parametrize("log", [False, True], ids=["HausdorffDTLoss", "LogHausdorffDTLoss"])
def test_monais_published_cases(case, log):
    options, values, target, published = MONAI_CASES[case]
    x, y = torch.tensor(values, requires_grad=True), torch.tensor(target)
    peer = monai.LogHausdorffDTLoss if log else monai.HausdorffDTLoss
    theirs = peer(**options)(x, y)
    (their_grad,) = torch.autograd.grad(theirs.sum(), x)
    ours_options = {"log": log, "from_logits": bool(options.get("sigmoid"))}
    if options.get("softmax"):
        ours_options["from_logits"] = "softmax"
    ours_options |= {
        k: v for k, v in options.items() if k not in ("sigmoid", "softmax", "other_act")
    }
    act = options.get("other_act", lambda t: t)  # MONAI's other_act: applied first, here
    ours = xt.HausdorffDTLoss(**ours_options)(act(x), y)
    (our_grad,) = torch.autograd.grad(ours.sum(), x)
    expected = np.log1p(np.asarray(published)) if log else np.asarray(published)
    np.testing.assert_allclose(ours.detach().numpy(), expected.reshape(ours.shape), **PUBLISHED)
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy().reshape(ours.shape), **F32
    )
    np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy(), **F32)


# ---- the boundary loss against the authors' formula -----------------------------------------
@pytest.mark.parametrize("spatial", [(9, 8), (4, 6, 5)])
@pytest.mark.parametrize("idc", [[1, 2], [0, 1, 2]], ids=["idc=[1, 2]", "idc=all"])
def test_boundary_loss_is_the_authors_surface_loss(spatial, idc):
    labels = RNG.integers(0, 3, (2, *spatial))
    labels[1][labels[1] == 2] = 1  # an absent class in one sample
    onehot = one_hot(labels, 3)
    phi = kervadec_phi(onehot)
    logits = RNG.normal(size=(2, 3, *spatial))
    probs = softmax(logits, 1)
    expected = surface_loss(probs, phi, idc)
    background = idc[0] == 0
    x = torch.tensor(logits, requires_grad=True)
    targets = (torch.tensor(phi), torch.tensor(labels), torch.tensor(onehot).long())
    for target in targets:  # φ precomputed, or computed here from labels
        loss = xt.BoundaryLoss(from_logits="softmax", include_background=background)
        value = loss(x, target)
        (gradient,) = torch.autograd.grad(value, x)
        np.testing.assert_allclose(float(value), expected, **F64)
        p = torch.softmax(x, 1)  # the authors' loss in torch, differentiated by autograd
        theirs = (p[:, idc] * torch.tensor(phi)[:, idc]).mean()
        (their_grad,) = torch.autograd.grad(theirs, x)
        np.testing.assert_allclose(gradient.numpy(), their_grad.numpy(), **F64)
    channels_last = np.moveaxis(probs, 1, -1)
    got = xploss.boundary_loss(labels, channels_last, include_background=background)
    np.testing.assert_allclose(float(got), expected, **F64)
    phi_last = xploss.signed_distance_map(labels, axis=tuple(range(1, labels.ndim)), num_classes=3)
    got = xploss.boundary_loss(phi_last, channels_last, include_background=background)
    np.testing.assert_allclose(float(got), expected, rtol=1e-6)  # φ in float32


def test_boundary_loss_bad_targets_are_named():
    probs = np.full((2, 4, 5, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"y_true of shape \(2, 4, 5, 2\).*y_pred of shape"):
        xploss.boundary_loss(np.zeros((2, 4, 5, 2)), probs)
    with pytest.raises(
        ValueError, match=r"ignore_index=255 with a floating y_true of y_pred's shape"
    ):
        xploss.boundary_loss(np.zeros((2, 4, 5, 3)), probs, ignore_index=255)
    with pytest.raises(ValueError, match=r"spatial_axes=4 is out of range.*\(2, 4, 5, 1\)"):
        xploss.boundary_loss(np.zeros((2, 4, 5), np.int64), probs[..., :1], spatial_axes=4)
    with pytest.raises(ValueError, match=r"y_pred must lie in \[0, 1\]"):
        xploss.boundary_loss(-np.ones((2, 4, 5, 3)), probs * 4, validate=True)
    assert np.isfinite(xploss.boundary_loss(-np.ones((2, 4, 5, 3)), probs, validate=True))
    with pytest.raises(ValueError, match=r"alpha=-1.0 must be a finite number >= 0"):
        xploss.hausdorff_dt_loss(np.zeros((2, 4)), probs[:, 0, :4, 0], alpha=-1.0)


def test_ignore_index_leaves_labels_out_of_the_mean_and_of_the_objects():
    labels = RNG.integers(0, 3, (2, 6, 5))
    labels[:, 0] = 255
    probs = softmax(RNG.normal(size=(2, 6, 5, 3)), -1)
    kept = labels != 255
    onehot = np.moveaxis(one_hot(np.where(kept, labels, 3), 4)[:, :3], 1, -1)  # 255: no class
    phi = np.moveaxis(kervadec_phi(np.moveaxis(onehot, -1, 1)), 1, -1)
    expected = (phi * probs * kept[..., None]).sum() / (kept.sum() * 3)
    got = xploss.boundary_loss(labels, probs, ignore_index=255)
    np.testing.assert_allclose(float(got), expected, **F64)
    masked = xploss.boundary_loss(phi, probs, mask=kept[..., None])
    np.testing.assert_allclose(float(masked), expected, **F64)


# ---- every backend, eager and compiled: one small case --------------------------------------
SMALL_TARGET = np.zeros((4, 5, 6))
SMALL_TARGET[1] = 1  # all foreground
SMALL_TARGET[2, 2, 3] = 1  # a single pixel
SMALL_TARGET[3, 1:4, 2:5] = 1  # a square; image 0 is empty
SMALL_LOGITS = RNG.normal(size=(4, 5, 6, 1)) * 2
SMALL_LOGITS[0] = -3.0  # an empty prediction of the empty target
SMALL_LOGITS[1, 0, 0] = -1.0  # a near-perfect prediction of the full target


def every_function(y, z):
    """Every function of this family on one case, in one compilation."""
    phi = xploss.signed_distance_map(y, axis=(1, 2))
    per_image = {"from_logits": True, "axis": (1, 2, 3), "reduction": "none"}
    return (
        xploss.hausdorff_dt_loss(y, z, alpha=1.5, log=True, **per_image),
        xploss.boundary_loss(y, z, **per_image),
        xploss.boundary_loss(phi[..., None], z, **per_image),
        xploss.distance_transform(y, axis=(1, 2)),
        phi,
    )


def combined(y, z):
    return xploss.hausdorff_dt_loss(y, z, from_logits=True) + xploss.boundary_loss(
        y, z, from_logits=True
    )


def small_expected():
    channels_first = np.moveaxis(SMALL_LOGITS, -1, 1)
    target = SMALL_TARGET[:, None]
    _, hausdorff_grad = monai_value_and_grad(
        channels_first, target, sigmoid=True, include_background=True, reduction="none"
    )
    log = monai.LogHausdorffDTLoss(
        sigmoid=True, include_background=True, alpha=1.5, reduction="none"
    )
    log_values = log(torch.tensor(channels_first), torch.tensor(target)).numpy()
    phi = np.stack([one_hot2dist(t[None])[0] for t in SMALL_TARGET])
    phi[1] = 0  # the full image: 0 here (the authors' map holds distances to a point outside)
    p = 1 / (1 + np.exp(-SMALL_LOGITS[..., 0]))
    boundary = (phi * p).mean(axis=(1, 2))
    boundary_grad = (phi * p * (1 - p))[..., None] / SMALL_TARGET.size
    edt = scipy_edt(SMALL_TARGET, (1, 2))
    values = (log_values.reshape(4), boundary, boundary, edt, phi)
    return values, np.moveaxis(hausdorff_grad, 1, -1) / 4 + boundary_grad


def test_every_backend_gives_the_peers_values(backend):
    expected, _ = small_expected()
    y, z = backend.asarray(SMALL_TARGET), backend.asarray(SMALL_LOGITS)
    got = backend.call(every_function, y, z)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(backend.to_numpy(g), e, **F32)


def test_every_autodiff_backend_gives_the_peers_gradients(autodiff_backend):
    _, expected = small_expected()
    b = autodiff_backend
    got = b.grad(combined, b.asarray(SMALL_TARGET), b.asarray(SMALL_LOGITS))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, **F32)
