"""The MCC loss against segmentation_models_pytorch's ``MCCLoss``, and ``mask=`` against MONAI's
``MaskedDiceLoss``: values and gradients, float64, on random cases and on the peers' published
cases; the MCC loss on every backend (eager and compiled) against a NumPy oracle written here.

smp's ``MCCLoss(eps=s)`` (0.6.0) sums the whole batch and adds ``s`` to each of tp, tn, fp, fn:
``mcc_loss(y, p, smoothing=s)``. MONAI's ``MaskedDiceLoss`` (1.6.1) multiplies the prediction
after its activation, and the target, by a ``(B, 1, *spatial)`` or ``(1, 1, *spatial)`` mask and
takes the Dice loss of the products: xploss's ``mask=`` for a 0/1 mask, except where MONAI's
``to_onehot_y=True`` meets ``include_background=True`` (it masks the label map before the
one-hot encoding, so a masked-out pixel becomes a background pixel of the target: an exact
relation is asserted) and for a soft mask (MONAI weighs the intersection by ``m²``).

Tolerances: both peers compute in float64 here and agree to rounding (``F64``, far inside
1e-6); published values carry 5 to 6 digits and are checked at the peers' own tolerances.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xploss
import xploss.torch as xt
from tests import oracle
from tests.peers import smp_losses

F64 = {"rtol": 1e-9, "atol": 1e-12}

pytestmark = [
    pytest.mark.filterwarnings("ignore:single channel prediction"),
    pytest.mark.filterwarnings("ignore:No mask value specified"),
]


# ---- peers -------------------------------------------------------------------------------------
def smp_mcc(eps: float = 1e-5) -> Any:
    smp_losses()
    return importlib.import_module("_smp_losses.mcc").MCCLoss(eps=eps)


def monai_masked(**options: Any) -> Any:
    from monai.losses import MaskedDiceLoss

    return MaskedDiceLoss(**options)


# ---- data -------------------------------------------------------------------------------------
def randn(*shape: int, seed: int) -> torch.Tensor:
    return 2 * torch.randn(
        *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


def rand(*shape: int, seed: int) -> torch.Tensor:
    return torch.rand(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


def binary(*shape: int, seed: int, rate: float = 0.5) -> torch.Tensor:
    return (rand(*shape, seed=seed) < rate).to(torch.float64)


def value_and_grad(loss: Any, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    leaf = x.detach().clone().requires_grad_(True)
    value = loss(leaf)
    (gradient,) = torch.autograd.grad(value.sum(), leaf)
    return value.detach(), gradient


def assert_same(ours: Any, theirs: Any, x: torch.Tensor, tolerance: dict = F64) -> None:
    """Values and gradients with respect to ``x`` of two losses of ``x``."""
    value, gradient = value_and_grad(ours, x)
    expected, expected_gradient = value_and_grad(theirs, x)
    torch.testing.assert_close(value, expected, **tolerance)
    torch.testing.assert_close(gradient, expected_gradient, **tolerance)
    assert torch.isfinite(gradient).all()


# ---- the oracle: the MCC from its elementwise definitions --------------------------------------
def mcc_oracle(y, p, axes, smoothing=1e-5, mask=None):
    """``(tp·tn - fp·fn) / √(...)`` of ``Σ y·p``, ``Σ (1-y)·p``, ``Σ y·(1-p)``, ``Σ (1-y)(1-p)``
    over ``axes`` (plus ``smoothing``); 0 where a margin is 0."""
    y, p = np.asarray(y, np.float64), np.asarray(p, np.float64)
    m = np.ones_like(p) if mask is None else np.broadcast_to(np.asarray(mask, np.float64), p.shape)
    terms = (y * p, (1 - y) * p, y * (1 - p), (1 - y) * (1 - p))
    tp, fp, fn, tn = (oracle.flatten_reduced(t * m, axes).sum(-1) + smoothing for t in terms)
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return oracle.ratio(tp * tn - fp * fn, denominator, 0.0)


# ======================= 1. MCC loss against smp's MCCLoss ======================================
@pytest.mark.parametrize("shape", [(3, 1, 5, 6), (3, 5, 6), (2, 1, 4, 3, 5)])
@pytest.mark.parametrize("eps", [1e-5, 0.25, 0.0])
def test_mcc_equals_smp_on_probabilities(shape, eps):
    """smp takes probabilities and sums every axis: the functional default axis=None; the module
    with batch=True on a (B, 1, *spatial) input, an explicit axis on a (B, *spatial) one."""
    target = binary(*shape, seed=1, rate=0.3)
    probs = rand(*shape, seed=2)
    theirs = functools.partial(smp_mcc(eps), y_true=target)
    assert_same(lambda p: xploss.mcc_loss(target, p, smoothing=eps), lambda p: theirs(p), probs)
    if len(shape) == 4:
        module = xt.MCCLoss(batch=True, smoothing=eps)
    else:
        module = xt.MCCLoss(axis=tuple(range(len(shape))), smoothing=eps)
    assert_same(lambda p: module(p, target), lambda p: theirs(p), probs)


@pytest.mark.parametrize("eps", [1e-5, 0.5])
def test_mcc_from_logits_is_smp_after_a_sigmoid_and_soft_targets_too(eps):
    logits = randn(2, 1, 6, 7, seed=3)
    soft_target = rand(2, 1, 6, 7, seed=4)
    for target in (binary(2, 1, 6, 7, seed=5), soft_target):
        assert_same(
            lambda z, t=target: xploss.mcc_loss(t, z, from_logits=True, smoothing=eps),
            lambda z, t=target: smp_mcc(eps)(torch.sigmoid(z), t),
            logits,
        )
    # A channel-less mask of the single channel is the same target.
    assert_same(
        lambda z: xt.MCCLoss(from_logits=True, batch=True, smoothing=eps)(z, soft_target[:, 0]),
        lambda z: smp_mcc(eps)(torch.sigmoid(z), soft_target),
        logits,
    )


# smp's tests/test_losses.py::test_binary_mcc_loss (eps=1e-5, checked to abs=eps).
SMP_CASES = [
    ([[1, 1, 0, 0], [0, 0, 1, 1]], [[1, 1, 0, 0], [0, 0, 1, 1]], 0.0),  # ideal
    ([[1, 1, 0, 0], [0, 0, 1, 1]], [[0, 0, 1, 1], [1, 1, 0, 0]], 2.0),  # worst
    ([[0, 1, 1, 0], [0, 1, 1, 0]], [[1, 1, 0, 0], [1, 1, 0, 0]], 1.0),
    ([[0, 0, 0, 0], [0, 0, 0, 0]], [[1, 1, 0, 0], [1, 1, 0, 0]], 1.0),  # trivial classifier 1
    ([[0, 0, 0, 0], [0, 0, 0, 0]], [[1, 1, 1, 1], [1, 1, 1, 1]], 1.5),  # trivial classifier 2
    ([[1, 1, 1, 1], [1, 1, 1, 1]], [[1, 1, 1, 1], [1, 1, 1, 1]], 0.5),  # trivial classifier 3
]


@pytest.mark.parametrize(("y_pred", "y_true", "published"), SMP_CASES)
def test_mcc_reproduces_smps_published_cases(y_pred, y_true, published):
    y_pred = torch.tensor([y_pred], dtype=torch.float64)  # (1, 2, 4), as smp's test
    y_true = torch.tensor([y_true], dtype=torch.float64)
    expected = smp_mcc(1e-5)(y_pred, y_true)
    ours = xploss.mcc_loss(y_true, y_pred)
    torch.testing.assert_close(ours, expected, **F64)
    assert float(ours) == pytest.approx(published, abs=1e-5)
    module = xt.MCCLoss(batch=True)(y_pred[:, None], y_true[:, None])  # (B, 1, H, W)
    torch.testing.assert_close(module, expected, **F64)


def test_mcc_with_eps_0_where_smp_gives_nan_is_0_with_a_zero_gradient():
    """An all-foreground target has no negatives: tn + fp = 0, a 0/0 coefficient. smp's eps=0
    gives NaN; xploss defines it as 0 (scikit-learn's and the metrics' value), gradient 0."""
    target = torch.ones(2, 1, 3, 3, dtype=torch.float64)
    probs = rand(2, 1, 3, 3, seed=6)
    assert torch.isnan(smp_mcc(0.0)(probs, target))
    value, gradient = value_and_grad(lambda p: xploss.mcc_loss(target, p, smoothing=0), probs)
    assert float(value) == 1.0
    assert torch.equal(gradient, torch.zeros_like(gradient))


# ======================= 2. MCC options against the oracle =====================================
RNG = np.random.default_rng(20)
LOGITS = RNG.normal(size=(2, 5, 4, 3)) * 2  # (B, H, W, C), channels-last
LABELS = RNG.integers(0, 3, (2, 5, 4))
ONE_HOT = np.eye(3)[LABELS]
MASK = (RNG.random((2, 5, 4, 1)) < 0.7).astype(np.float64)


def test_mcc_options_follow_the_definitions():
    p = oracle.softmax(LOGITS, -1)
    per_class = 1 - mcc_oracle(ONE_HOT, p, (1, 2), mask=MASK)  # (B, C)
    loss = functools.partial(xploss.mcc_loss, LABELS, LOGITS, from_logits="softmax", mask=MASK)
    np.testing.assert_allclose(loss(axis=(1, 2), reduction="none"), per_class, **F64)
    np.testing.assert_allclose(loss(axis=(1, 2)), per_class.mean(), **F64)
    np.testing.assert_allclose(loss(axis=(1, 2), reduction="sum"), per_class.sum(), **F64)
    per_sample = loss(axis=(1, 2), reduction="per_sample")
    np.testing.assert_allclose(per_sample, per_class.mean(1), **F64)
    weights = np.array([0.5, 1.0, 3.0])
    weighted = (per_class * weights).sum() / (weights.sum() * 2)
    np.testing.assert_allclose(loss(axis=(1, 2), weight=tuple(weights)), weighted, **F64)
    no_background = loss(axis=(1, 2), include_background=False)
    np.testing.assert_allclose(no_background, per_class[:, 1:].mean(), **F64)
    # Classes pooled in one sum: the micro-averaged coefficient; class 0 left out of the sums.
    pooled = 1 - mcc_oracle(ONE_HOT[..., 1:], p[..., 1:], (0, 1, 2, 3), mask=MASK)
    np.testing.assert_allclose(loss(include_background=False), pooled, **F64)
    # ignore_index: the elements of that label are out of all four counts.
    kept = (LABELS != 1)[..., None] * MASK
    ignored = 1 - mcc_oracle(ONE_HOT, p, (0, 1, 2, 3), mask=kept)
    np.testing.assert_allclose(loss(ignore_index=1), ignored, **F64)
    # Channels-first with class indices and smoothing.
    first = xploss.mcc_loss(
        LABELS, np.moveaxis(LOGITS, -1, 1), class_axis=1, axis=(2, 3), from_logits="softmax",
        smoothing=0.5,
    )  # fmt: skip
    np.testing.assert_allclose(first, 1 - mcc_oracle(ONE_HOT, p, (1, 2), 0.5).mean(), **F64)


def test_mcc_all_reduce_sums_the_counts_of_every_device():
    """Two identical devices: the counts are doubled, the loss is that of the batch twice, and
    the gradient is the sum of both copies' gradients (what an autograd-aware sum gives)."""
    target = binary(2, 1, 4, 5, seed=7)
    logits = randn(2, 1, 4, 5, seed=8)

    def twice(stats):
        return type(stats)(*(2 * s for s in stats))

    both = torch.cat([target, target])
    # axis=None: the counts are summed before the ratio; (1, 2, 3): the per-image losses' mean.
    for axis in (None, (1, 2, 3)):
        value, gradient = value_and_grad(
            lambda z, a=axis: xploss.mcc_loss(
                target, z, axis=a, from_logits=True, all_reduce=twice
            ),
            logits,
        )
        expected, whole = value_and_grad(
            lambda z, a=axis: xploss.mcc_loss(both, z, axis=a, from_logits=True),
            torch.cat([logits, logits]),
        )
        torch.testing.assert_close(value, expected, **F64)
        torch.testing.assert_close(gradient, whole[:2] + whole[2:], **F64)
    # Without the all-reduce the per-device value differs (the test can fail).
    alone = xploss.mcc_loss(target, logits, from_logits=True)
    assert not torch.isclose(alone, xploss.mcc_loss(both, torch.cat([logits, logits]) * 0.5 + 1))


def test_mcc_propagates_nan_and_sums_half_precision_in_float32():
    probs = rand(2, 1, 3, 3, seed=9)
    target = binary(2, 1, 3, 3, seed=10)
    probs[1, 0, 2, 2] = float("nan")
    for smoothing in (1e-5, 0.0):
        assert torch.isnan(xt.MCCLoss(batch=True, smoothing=smoothing)(probs, target))
        per_image = xt.MCCLoss(reduction="none", smoothing=smoothing)(probs, target)
        assert not torch.isnan(per_image[0]).any() and torch.isnan(per_image[1]).all()
    half = xploss.mcc_loss(target[:1].half(), probs[:1].half())
    assert half.dtype == torch.float32
    expected = smp_mcc()(probs[:1].half().double(), target[:1])
    torch.testing.assert_close(half.double(), expected, rtol=1e-5, atol=1e-6)


def test_mcc_bad_options_are_named():
    with pytest.raises(ValueError, match=r"smoothing=-1\.0 must be a finite number >= 0"):
        xploss.mcc_loss(np.ones(3), np.ones(3), smoothing=-1.0)
    with pytest.raises(ValueError, match="smoothing"):
        xt.MCCLoss(smoothing=float("inf"))
    with pytest.raises(TypeError, match="smooth_nr"):
        xploss.mcc_loss(np.ones(3), np.ones(3), smooth_nr=1.0)
    with pytest.raises(ValueError, match=r"axis.*\(4,\)"):
        xploss.mcc_loss(np.ones(4), np.ones(4), axis=(1, 2, 3))


# ======================= 3. MCC on every backend ================================================
# One small shape (one compilation per compiled backend), channels-last (B, H, W, C) = (2, 3, 4, 2).
# The mask has the classes' shape, so that each (image, class) score of one call is a case of
# its own: image 0 class 0 all foreground, image 0 class 1 an empty mask, image 1 class 0 one
# pixel, image 1 class 1 a random mask.
SHAPE = (2, 3, 4, 2)
CASE = np.random.default_rng(3)
Z = CASE.normal(size=SHAPE) * 2
Y = (CASE.random(SHAPE) < 0.4).astype(np.float64)
Y[0, ..., 0] = 1.0
M = np.zeros(SHAPE)
M[0, ..., 0] = 1.0
M[1, 1, 2, 0] = 1.0
M[1, ..., 1] = CASE.random(SHAPE[1:3]) < 0.6


def per_class(y, z, *, mask):
    """One score per image and class with softmax, class weights, the mask and no smoothing
    (the path that guards the empty margins): the edge cases and a regular one in one call."""
    return xploss.mcc_loss(
        y, z, axis=(1, 2), from_logits="softmax", weight=(1.0, 3.0), mask=mask, smoothing=0.0,
        reduction="none",
    )  # fmt: skip


def expected_per_class(y, z):
    return (1 - mcc_oracle(y, oracle.softmax(z, -1), (1, 2), 0.0, mask=M)) * [1.0, 3.0]


def test_mcc_on_every_backend_equals_the_oracle(backend):
    got = backend.call(per_class, backend.asarray(Y), backend.asarray(Z), mask=backend.asarray(M))
    values = backend.to_numpy(got)
    np.testing.assert_allclose(values, expected_per_class(Y, Z), **F64)
    # With smoothing 0, no negatives (all foreground) and nothing kept are MCC 0; one pixel is
    # a table with an empty margin too.
    assert (values[0, 0], values[0, 1], values[1, 0]) == (1.0, 3.0, 1.0), values


def summed(y, z, *, mask):
    values = per_class(y, z, mask=mask)
    return values[0, 0] + values[0, 1] + values[1, 0] + values[1, 1]


def test_mcc_gradients_on_every_autodiff_backend_are_finite_and_the_oracles(autodiff_backend):
    """The gradient of every score at once (the edge cases included): a NaN anywhere would
    show; compared with central differences of the oracle."""
    backend = autodiff_backend
    y, z, mask = backend.asarray(Y), backend.asarray(Z), backend.asarray(M)
    got = backend.grad(summed, y, z, mask=mask)
    assert np.isfinite(got).all()
    step, expected = 1e-6, np.zeros_like(Z)
    for index in np.ndindex(Z.shape):
        up, down = Z.copy(), Z.copy()
        up[index] += step
        down[index] -= step
        difference = expected_per_class(Y, up).sum() - expected_per_class(Y, down).sum()
        expected[index] = difference / (2 * step)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_mcc_of_a_single_pixel_and_saturated_logits_have_finite_gradients():
    for y in (1.0, 0.0):
        target = torch.full((1, 1, 1, 1), y, dtype=torch.float64)
        probs = torch.full((1, 1, 1, 1), 0.7, dtype=torch.float64)
        assert_same(
            lambda p, t=target: xploss.mcc_loss(t, p), lambda p, t=target: smp_mcc()(p, t), probs
        )
        value, gradient = value_and_grad(lambda p, t=target: xt.MCCLoss(smoothing=0)(p, t), probs)
        assert float(value) == 1.0 and torch.isfinite(gradient).all()
    logits = torch.tensor([[[[1e4, -1e4], [float("inf"), -float("inf")]]]], dtype=torch.float64)
    target = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]], dtype=torch.float64)
    for smoothing in (1e-5, 0.0):
        value, gradient = value_and_grad(
            lambda z, s=smoothing: xt.MCCLoss(from_logits=True, smoothing=s)(z, target), logits
        )
        assert torch.isfinite(gradient).all() and abs(float(value)) < 2e-5


# ======================= 4. mask= is MONAI's MaskedDiceLoss =====================================
B, C, H, W = 3, 3, 5, 4
MONAI_OPTIONS = [
    {"sigmoid": True},
    {"softmax": True},
    {"softmax": True, "include_background": False},
    {"sigmoid": True, "batch": True},
    {"sigmoid": True, "squared_pred": True},
    {"softmax": True, "smooth_nr": 0.0, "smooth_dr": 1e-3},
    {"sigmoid": True, "smooth_nr": 0.3, "smooth_dr": 0.7, "reduction": "sum"},
    {"softmax": True, "to_onehot_y": True, "include_background": False},
]


def ours_for(options: dict[str, Any]) -> dict[str, Any]:
    """MONAI's keywords in xploss' torch module."""
    renamed = {"sigmoid": ("from_logits", True), "softmax": ("from_logits", "softmax")}
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in renamed:
            out[renamed[key][0]] = renamed[key][1]
        else:
            out["squared" if key == "squared_pred" else key] = value
    return out


@pytest.mark.parametrize("mask_batch", [B, 1], ids=["B1HW", "11HW"])
@pytest.mark.parametrize("options", MONAI_OPTIONS, ids=lambda o: ",".join(o))
def test_mask_is_monais_masked_dice_loss(options, mask_batch):
    logits = randn(B, C, H, W, seed=10)
    labels = torch.randint(0, C, (B, 1, H, W), generator=torch.Generator().manual_seed(11))
    one_hot = F.one_hot(labels[:, 0], C).movedim(-1, 1).to(torch.float64)
    mask = binary(mask_batch, 1, H, W, seed=12, rate=0.6)
    target = labels.to(torch.float64) if options.get("to_onehot_y") else one_hot
    monai = monai_masked(**options)
    module = xt.DiceLoss(**ours_for(options))
    assert_same(
        lambda z: module(z, target, mask=mask), lambda z: monai(z, target, mask=mask), logits
    )
    # The functional API with the same arguments, channels-first; class indices too.
    changes = ours_for(options)
    axis = (0, 2, 3) if changes.pop("batch", False) else (2, 3)
    changes.pop("to_onehot_y", None)
    for y in (one_hot, labels[:, 0]):
        assert_same(
            lambda z, y=y: xploss.dice_loss(y, z, axis=axis, class_axis=1, mask=mask, **changes),
            lambda z: monai(z, target, mask=mask),
            logits,
        )
    # Both mask after the activation: the masked logits get no gradient, whatever they hold.
    _, gradient = value_and_grad(lambda z: module(z, target, mask=mask), logits)
    assert torch.equal(gradient * (1 - mask), torch.zeros_like(gradient))


def test_monais_to_onehot_y_with_the_background_counts_masked_pixels_as_background():
    """MONAI multiplies the label map by the mask before one-hot encoding it, so a masked-out
    pixel becomes a background pixel of the target (its prediction is masked to 0): MONAI's
    ``Σ t`` of class 0 holds every masked-out pixel. xploss leaves them out of every class."""
    logits = randn(B, C, H, W, seed=13)
    labels = torch.randint(0, C, (B, 1, H, W), generator=torch.Generator().manual_seed(14))
    mask = binary(B, 1, H, W, seed=15, rate=0.6)
    monai = monai_masked(softmax=True, to_onehot_y=True)
    ours = xt.DiceLoss(from_logits="softmax", to_onehot_y=True)

    def relation(z: torch.Tensor) -> torch.Tensor:  # xploss' statistics, MONAI's Σ t of class 0
        tp, sum_true, sum_pred = xploss.overlap_stats(
            labels[:, 0], z, axis=(2, 3), class_axis=1, from_logits="softmax", mask=mask
        )
        masked_out = (1 - mask).sum(dim=(1, 2, 3))
        sum_true = sum_true + F.one_hot(torch.zeros(B, dtype=torch.long), C) * masked_out[:, None]
        return (1 - (2 * tp + 1e-5) / (sum_true + sum_pred + 1e-5)).mean()

    assert_same(relation, lambda z: monai(z, labels.to(torch.float64), mask=mask), logits)
    value = ours(logits, labels, mask=mask)
    assert not torch.isclose(value, monai(logits, labels.to(torch.float64), mask=mask))
    # Without the background (or with a one-hot target) they agree: see the test above.


def test_a_soft_mask_weighs_monais_intersection_twice():
    """MONAI multiplies both the prediction and the target by the mask, so a soft mask m weighs
    the intersection Σ m²·p·t and each volume Σ m·p, Σ m·t; xploss's weight map weighs each
    element once in every sum (Σ m·p·t). For a 0/1 mask, m² = m and they agree."""
    logits = randn(B, C, H, W, seed=16)
    target = binary(B, C, H, W, seed=17)
    soft = rand(B, 1, H, W, seed=18)
    monai = monai_masked(sigmoid=True)
    assert_same(
        lambda z: xt.DiceLoss()(torch.sigmoid(z) * soft, target * soft),
        lambda z: monai(z, target, mask=soft),
        logits,
    )
    ours = xt.DiceLoss(from_logits=True)(logits, target, mask=soft)
    assert not torch.isclose(ours, monai(logits, target, mask=soft))


def jaccard_for(options: dict[str, Any]) -> dict[str, Any]:
    """MONAI's ``jaccard=True`` doubles numerator and denominator: halve the smoothing."""
    out = ours_for({k: v for k, v in options.items() if k != "jaccard"})
    out["smooth_nr"], out["smooth_dr"] = options["smooth_nr"] / 2, options["smooth_dr"] / 2
    return out


# MONAI's tests/losses/test_masked_dice_loss.py, as stored (the 1.5.0 tree; rtol=1e-5 there). The
# masked cases with a sigmoid (1, 2, 4) were computed when MaskedDiceLoss masked the logits before
# its activation (sigmoid(0) = 0.5 at masked pixels: false positives); MONAI 1.6 activates first
# (Project-MONAI/MONAI#8655), as xploss does, and no longer gives those three values.
T = torch.tensor
LOGITS_22 = [[[[1.0, -1.0], [-1.0, 1.0]]]]
LOGITS_23 = [[[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]
LABELS_23 = [[[1.0, 0.0, 0.0]], [[1.0, 1.0, 0.0]]]
MONAI_CASES = [
    ({"sigmoid": True, "smooth_nr": 1e-6, "smooth_dr": 1e-6},
     LOGITS_22, [[[[1.0, 0.0], [1.0, 1.0]]]], [[[[0.0, 0.0], [1.0, 1.0]]]], 0.5),
    ({"sigmoid": True, "smooth_nr": 1e-4, "smooth_dr": 1e-4},
     LOGITS_22 * 2, [[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [1.0, 0.0]]]],
     [[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 1.0], [0.0, 0.0]]]], 0.422969),
    ({"include_background": False, "to_onehot_y": True, "smooth_nr": 0.0, "smooth_dr": 0.0},
     [[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]],
     [[[0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]]], [[[1.0, 1.0, 1.0]], [[0.0, 1.0, 0.0]]], 0.0),
    ({"to_onehot_y": True, "sigmoid": True, "smooth_nr": 1e-4, "smooth_dr": 1e-4},
     LOGITS_23, LABELS_23, [[[1.0, 1.0, 0.0]]], 0.47033),
    ({"to_onehot_y": True, "sigmoid": True, "reduction": "none", "smooth_nr": 1e-4,
      "smooth_dr": 1e-4}, LOGITS_23, LABELS_23, None, [[0.296529, 0.415136], [0.599976, 0.428559]]),
    ({"to_onehot_y": True, "softmax": True, "smooth_nr": 1e-4, "smooth_dr": 1e-4},
     LOGITS_23, LABELS_23, None, 0.383713),
    ({"to_onehot_y": True, "softmax": True, "reduction": "sum", "smooth_nr": 1e-4,
      "smooth_dr": 1e-4}, LOGITS_23, LABELS_23, None, 1.534853),
    ({"sigmoid": True, "smooth_nr": 1e-6, "smooth_dr": 1e-6},
     LOGITS_22, [[[[1.0, 0.0], [1.0, 1.0]]]], None, 0.307576),
    ({"sigmoid": True, "squared_pred": True, "smooth_nr": 1e-5, "smooth_dr": 1e-5},
     LOGITS_22, [[[[1.0, 0.0], [1.0, 1.0]]]], None, 0.178337),
    ({"sigmoid": True, "jaccard": True, "smooth_nr": 1e-5, "smooth_dr": 1e-5},
     LOGITS_22, [[[[1.0, 0.0], [1.0, 1.0]]]], None, 0.470451),
]  # fmt: skip


def published_value(result: torch.Tensor) -> np.ndarray:
    return result.detach().squeeze(-1).numpy()  # MONAI's "none" keeps a singleton axis


@pytest.mark.parametrize(("options", "logits", "target", "mask", "published"), MONAI_CASES)
def test_monais_published_masked_dice_cases(options, logits, target, mask, published):
    logits, target = T(logits, dtype=torch.float64), T(target, dtype=torch.float64)
    mask = None if mask is None else T(mask, dtype=torch.float64)
    monai = monai_masked(**options)
    jaccard = options.get("jaccard", False)
    module = xt.JaccardLoss(**jaccard_for(options)) if jaccard else xt.DiceLoss(**ours_for(options))
    ours = functools.partial(module, target=target, mask=mask)
    theirs = functools.partial(monai, target=target, mask=mask)
    if options.get("reduction") == "none":  # MONAI keeps the reduced axes as singletons
        theirs = functools.partial(lambda z, f: f(z).squeeze(-1), f=theirs)
    activated = options.get("sigmoid") or options.get("softmax")
    if mask is None or not activated:  # the published value is MONAI 1.6.1's and xploss's
        np.testing.assert_allclose(published_value(monai(logits, target, mask=mask)), published,
                                   rtol=1e-5)  # fmt: skip
        np.testing.assert_allclose(published_value(module(logits, target, mask=mask)), published,
                                   rtol=1e-5)  # fmt: skip
    else:  # the published value masks the logits: xploss of x·m and t·m, without a mask
        old = module(logits * mask, target * mask)
        np.testing.assert_allclose(published_value(old), published, rtol=1e-5)
        assert not np.isclose(published_value(monai(logits, target, mask=mask)), published)
    if mask is not None and options.get("to_onehot_y") and options.get("include_background", 1):
        # MONAI's masked-out pixels are background pixels of its target (see the test above):
        # here every image keeps pixels 0 and 1, and xploss's value is MONAI's on them alone.
        kept = torch.tensor([0, 1])
        on_kept = functools.partial(monai_masked(**options), target=target[..., kept])
        assert_same(lambda z: ours(z), lambda z: on_kept(z[..., kept]), logits)
        assert not torch.isclose(ours(logits), theirs(logits))
        return
    assert_same(lambda z: ours(z), lambda z: theirs(z), logits)
