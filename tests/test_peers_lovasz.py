"""The Lovász losses against segmentation_models_pytorch 0.6.0's ``LovaszLoss``, run here:
values and gradients, every mode, ``per_image``, ``ignore_index``, ties and edge cases; the
paper's identity at hard predictions; every backend, eager and compiled.

smp computes its Jaccard increments in float32: ``_lovasz_grad`` casts the sorted labels with
``.float()``, and a 0-d float64 sum does not promote the float32 cumulative sums back, so float64
logits end in ``torch.dot: expected both vectors to have same dtype``. smp is therefore compared
twice: as published, on float32 inputs (the only dtype it runs), against xploss in float64 on the
same values (``F32``); and with ``_lovasz_grad`` keeping its input's dtype (the one ``.float()``
left out, the rest of smp as published), in float64 (``F64``).

smp publishes no Lovász test: its ``tests/test_losses.py`` has none, now or in its history (its
reference, pytorch-toolbelt, neither). The published role is taken by the paper's identity: at
errors of 0 or 1 the Lovász extension is the Jaccard loss itself (Berman et al. 2018, Sec. 3),
checked against IoUs counted here, and against smp at saturated logits.

Ties: PyTorch's CPU sort keeps tied elements in order up to 16 of them (stable argsort beyond,
which xploss uses everywhere, is a different subgradient at ties): gradients at ties are compared
element-wise on rankings of at most 16 elements (asserted), and on longer ones through what every
tie order agrees on, the sum of the hinge increments over each group of tied errors.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402
from tests.peers import smp_losses  # noqa: E402

F64 = {"rtol": 1e-10, "atol": 1e-12}
F32 = {"rtol": 1e-6, "atol": 1e-6}  # smp's float32 Jaccard increments (measured: 4.0e-7)
hinge, softmax = xploss.lovasz_hinge_loss, xploss.lovasz_softmax_loss
pytestmark = pytest.mark.filterwarnings("ignore:include_background=False is ignored")


# ---- the peer ---------------------------------------------------------------------------------
def smp_lovasz() -> types.ModuleType:
    return smp_losses("lovasz")


def lovasz_grad_in_its_dtype(gt_sorted: torch.Tensor) -> torch.Tensor:
    """smp's ``_lovasz_grad`` (Algorithm 1) without its ``.float()``: the input's dtype kept."""
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    if p > 1:
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


@pytest.fixture(params=["float32", "float64"])
def peer(request, monkeypatch):
    """``(smp's module, its input dtype, tolerance)``: as published in float32, or in float64
    with ``_lovasz_grad`` keeping the dtype."""
    module = smp_lovasz()
    if request.param == "float64":
        monkeypatch.setattr(module, "_lovasz_grad", lovasz_grad_in_its_dtype)
        return module, torch.float64, F64
    return module, torch.float32, F32


def agree(ours: Callable, theirs: Callable, logits: torch.Tensor, dtype, tolerance) -> None:
    """Values and gradients w.r.t. the logits: ours in float64, smp in ``dtype``, on the same
    numbers (the logits are rounded to ``dtype`` first)."""
    z = logits.to(dtype).to(torch.float64).requires_grad_(True)
    mine = ours(z)
    (mine_grad,) = torch.autograd.grad(mine, z)
    w = z.detach().to(dtype).requires_grad_(True)
    reference = theirs(w)
    (reference_grad,) = torch.autograd.grad(reference, w)
    torch.testing.assert_close(mine, reference.to(torch.float64), **tolerance)
    torch.testing.assert_close(mine_grad, reference_grad.to(torch.float64), **tolerance)
    assert torch.isfinite(mine_grad).all()


def data(shape, seed, classes=2, scale=2.0, ignored=0.0, steps=None):
    """Logits and labels in ``[0, classes)``, a fraction ``ignored`` of them 255; ``steps``
    rounds the logits to multiples of ``1/steps`` (ties)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * scale
    if steps is not None:
        logits = np.round(logits * steps) / steps
    label_shape = shape if classes == 2 else shape[:1] + shape[2:]
    labels = rng.integers(0, classes, label_shape)
    labels[rng.random(label_shape) < ignored] = 255
    return torch.tensor(logits), torch.tensor(labels)


# ---- binary and multilabel modes: the hinge ---------------------------------------------------
@pytest.mark.parametrize("mode", ["binary", "multilabel"])
@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("ignore_index", [None, 255])
def test_smp_binary_and_multilabel_are_the_hinge(peer, mode, per_image, ignore_index):
    """smp flattens an image's channels into one ranking: ``axis=(1, 2, 3)`` per image, every
    axis for the batch."""
    module, dtype, tolerance = peer
    channels = 1 if mode == "binary" else 4
    logits, labels = data((3, channels, 5, 6), seed=1, ignored=0.2 if ignore_index else 0)
    smp_loss = module.LovaszLoss(mode, per_image=per_image, ignore_index=ignore_index)
    axis = (1, 2, 3) if per_image else None
    target = labels.to(torch.float64)

    def ours(z):
        if mode == "binary":  # one channel: its mask is compared with ignore_index
            return hinge(target, z, axis=axis, ignore_index=ignore_index, class_axis=1)
        # Several channels: a dense target is one-hot for ignore_index, so smp's element-wise
        # 255 is mask= here (ignore_index=255 on it raises, naming the mask).
        kept = target != 255
        return hinge(target * kept, z, axis=axis, mask=kept, class_axis=1)

    agree(ours, lambda z: smp_loss(z, target.to(dtype)), logits, dtype, tolerance)
    if mode == "binary":  # a channel-less mask of the single channel
        mask = target[:, 0]

        def channel_less(z):
            return hinge(mask, z, axis=axis, ignore_index=ignore_index, class_axis=1)

        agree(channel_less, lambda z: smp_loss(z, mask.to(dtype)), logits, dtype, tolerance)


@pytest.mark.parametrize("per_image", [False, True])
def test_smp_binary_module_is_the_torch_module(per_image):
    """``LovaszHingeLoss()`` ranks each image and channel: smp's binary ``per_image=True``;
    ``batch=True`` its default ``per_image=False``; multilabel ranks an image's channels
    together, ``axis=(1, 2, 3)``."""
    module = smp_lovasz()
    logits, labels = data((3, 1, 5, 6), seed=2, ignored=0.1)
    target = labels.to(torch.float32)
    mine = xt.LovaszHingeLoss(batch=not per_image, ignore_index=255)
    theirs = module.LovaszLoss("binary", per_image=per_image, ignore_index=255)
    agree(lambda z: mine(z, target), lambda z: theirs(z, target), logits, torch.float32, F32)
    logits, labels = data((3, 4, 5, 6), seed=3)
    target = labels.to(torch.float32)
    axis = (1, 2, 3) if per_image else (0, 1, 2, 3)
    mine = xt.LovaszHingeLoss(axis=axis)
    theirs = module.LovaszLoss("multilabel", per_image=per_image)
    agree(lambda z: mine(z, target), lambda z: theirs(z, target), logits, torch.float32, F32)


# ---- multiclass mode: the softmax ------------------------------------------------------------
@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("ignore_index", [None, 255, 2])
def test_smp_multiclass_is_the_softmax(peer, per_image, ignore_index):
    """One ranking per class, the classes present averaged; image 0 holds two classes only, so
    ``per_image`` averages different classes."""
    module, dtype, tolerance = peer
    ignored = 0.2 if ignore_index == 255 else 0.0  # labels outside [0, C) must be ignored
    logits, labels = data((3, 4, 5, 6), seed=4, classes=4, ignored=ignored)
    labels[0] = torch.where(labels[0] == 255, 255, labels[0] % 2 * 3)  # classes 0 and 3
    smp_loss = module.LovaszLoss("multiclass", per_image=per_image, ignore_index=ignore_index)
    options = {"class_axis": 1, "from_logits": True, "ignore_index": ignore_index}
    options["axis"] = (2, 3) if per_image else None
    agree(
        lambda z: softmax(labels, z, **options),
        lambda z: smp_loss(z, labels),
        logits,
        dtype,
        tolerance,
    )
    one_hot = torch.movedim(torch.nn.functional.one_hot(labels.clamp(max=4), 5)[..., :4], -1, 1)
    # One-hot: 255 encodes to no class, which ignore_index=255 leaves out; 2 leaves class 2 out.
    agree(
        lambda z: softmax(one_hot, z, **options),
        lambda z: smp_loss(z, labels),
        logits,
        dtype,
        tolerance,
    )
    module_options = {"from_logits": True, "batch": not per_image, "ignore_index": ignore_index}
    mine = xt.LovaszSoftmaxLoss(**module_options)
    agree(lambda z: mine(z, labels), lambda z: smp_loss(z, labels), logits, dtype, tolerance)


@pytest.mark.parametrize("per_image", [False, True])
def test_smp_classes_all_and_a_list_without_the_background(peer, per_image):
    """smp's ``_lovasz_softmax(classes="all")`` and ``classes=[1, ..., C - 1]`` (its
    ``LovaszLoss`` always takes "present"): ``classes="all"``, and with
    ``include_background=False``."""
    module, dtype, tolerance = peer
    logits, labels = data((2, 4, 5, 6), seed=5, classes=4)
    labels[1] = labels[1] % 2  # image 1: classes 0 and 1 only
    axis = (2, 3) if per_image else None
    options = {"class_axis": 1, "from_logits": True, "axis": axis, "classes": "all"}

    def theirs(classes):
        return lambda z: module._lovasz_softmax(z.softmax(1), labels, classes, per_image)

    agree(lambda z: softmax(labels, z, **options), theirs("all"), logits, dtype, tolerance)
    agree(
        lambda z: softmax(labels, z, include_background=False, **options),
        theirs([1, 2, 3]),
        logits,
        dtype,
        tolerance,
    )


# ---- ties -------------------------------------------------------------------------------------
def hinge_errors(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return 1 - z * (2 * y - 1)


def assert_sort_keeps_ties(errors: torch.Tensor) -> None:
    """The precondition of an element-wise comparison at ties: PyTorch's sort (smp's) orders
    the tied errors of each ranking as a stable sort does (up to 16 elements, on the CPU)."""
    for row in errors.reshape(-1, errors.shape[-1]):
        _, order = torch.sort(row, descending=True)
        assert torch.equal(order, torch.argsort(row, descending=True, stable=True))


@pytest.mark.parametrize("per_image", [False, True])
def test_ties_on_short_rankings_have_smps_gradient(peer, per_image):
    module, dtype, tolerance = peer
    shape = (2, 1, 2, 4) if per_image else (1, 1, 3, 4)  # 8 or 12 elements per ranking
    logits, labels = data(shape, seed=6, scale=1.0, steps=1)  # logits in {-3, ..., 3}: ties
    target = labels.to(torch.float64)
    errors = hinge_errors(logits, target).reshape(shape[0] if per_image else 1, -1)
    assert len(errors.unique()) < errors.numel() / 2
    assert_sort_keeps_ties(errors)
    axis = (1, 2, 3) if per_image else None
    smp_loss = module.LovaszLoss("binary", per_image=per_image)
    agree(
        lambda z: hinge(target, z, axis=axis),
        lambda z: smp_loss(z, target.to(dtype)),
        logits,
        dtype,
        tolerance,
    )
    shape = (2, 3, 2, 4) if per_image else (1, 3, 4, 4)
    logits, labels = data(shape, seed=7, classes=3, scale=1.0, steps=1)
    probs = logits.softmax(1)
    errors = (torch.nn.functional.one_hot(labels, 3).movedim(-1, 1) - probs).abs()
    errors = errors.movedim(1, 0).reshape(3 * (2 if per_image else 1), -1)
    assert len(errors.unique()) < errors.numel() / 2
    assert_sort_keeps_ties(errors)
    smp_loss = module.LovaszLoss("multiclass", per_image=per_image)
    options = {"class_axis": 1, "from_logits": True, "axis": (2, 3) if per_image else None}
    agree(
        lambda z: softmax(labels, z, **options),
        lambda z: smp_loss(z, labels),
        logits,
        dtype,
        tolerance,
    )


def test_ties_on_long_rankings_agree_on_what_every_tie_order_gives():
    """On 128 elements PyTorch's sort leaves tied errors in no particular order: the values
    agree, and so does the sum over each group of tied errors of ``∂L/∂e = -(2y - 1)·∂L/∂z``."""
    module = smp_lovasz()
    logits, labels = data((2, 1, 8, 8), seed=8, steps=2)
    target = labels.to(torch.float64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_lovasz_grad", lovasz_grad_in_its_dtype)
        results = []
        for loss in (lambda z: hinge(target, z), lambda z: module.LovaszLoss("binary")(z, target)):
            z = logits.clone().requires_grad_(True)
            value = loss(z)
            (gradient,) = torch.autograd.grad(value, z)
            results.append((value, -(2 * target - 1) * gradient))
    (mine, mine_de), (theirs, theirs_de) = results
    torch.testing.assert_close(mine, theirs, **F64)
    errors = hinge_errors(logits, target).flatten()
    groups = errors.unique()
    assert len(groups) < 40
    for e in groups:
        tied = errors == e
        torch.testing.assert_close(mine_de.flatten()[tied].sum(), theirs_de.flatten()[tied].sum())


# ---- edge cases ------------------------------------------------------------------------------
def one_foreground(y: torch.Tensor) -> torch.Tensor:
    single = torch.zeros_like(y)
    single[0, 0, 1, 2] = 1.0
    return single


EDGES = {
    "all background": torch.zeros_like,
    "all foreground": torch.ones_like,
    "one foreground": one_foreground,
}


@pytest.mark.parametrize("case", sorted(EDGES))
@pytest.mark.parametrize("per_image", [False, True])
def test_edge_targets_have_smps_values_and_finite_gradients(peer, case, per_image):
    module, dtype, tolerance = peer
    logits, labels = data((2, 1, 3, 5), seed=9)
    target = EDGES[case](labels.to(torch.float64))
    axis = (1, 2, 3) if per_image else None
    smp_loss = module.LovaszLoss("binary", per_image=per_image)
    agree(
        lambda z: hinge(target, z, axis=axis),
        lambda z: smp_loss(z, target.to(dtype)),
        logits,
        dtype,
        tolerance,
    )
    indices = target[:, 0].long() * 2  # classes 0 and 2 of three
    smp_loss = module.LovaszLoss("multiclass", per_image=per_image)
    options = {"class_axis": 1, "from_logits": True, "axis": (2, 3) if per_image else None}
    logits3, _ = data((2, 3, 3, 5), seed=10, classes=3)
    agree(
        lambda z: softmax(indices, z, **options),
        lambda z: smp_loss(z, indices),
        logits3,
        dtype,
        tolerance,
    )


def test_a_single_pixel(peer):
    module, dtype, tolerance = peer
    smp_loss = module.LovaszLoss("binary")
    for y in (0.0, 1.0):
        target = torch.full((1, 1, 1, 1), y, dtype=torch.float64)
        agree(
            lambda z, t=target: hinge(t, z),
            lambda z, t=target: smp_loss(z, t.to(dtype)),
            torch.tensor([[[[0.3]]]]),
            dtype,
            tolerance,
        )
    labels = torch.tensor([[[2]]])
    agree(
        lambda z: softmax(labels, z, class_axis=1, from_logits=True),
        lambda z: module.LovaszLoss("multiclass")(z, labels),
        torch.tensor([[[[0.2]], [[1.0]], [[-0.5]]]]),
        dtype,
        tolerance,
    )


def test_everything_ignored_is_zero_with_a_zero_gradient():
    """smp's hinge gives 0 (``logits.sum() * 0``) and counts an image of ignored elements as 0
    in its per-image mean; its softmax returns an empty tensor there, where this loss is 0."""
    module = smp_lovasz()
    logits, labels = data((2, 1, 3, 4), seed=11)
    target = labels.to(torch.float32)
    target[0] = 255  # image 0 ignored
    for per_image in (False, True):
        axis = (1, 2, 3) if per_image else None
        smp_loss = module.LovaszLoss("binary", per_image=per_image, ignore_index=255)
        agree(
            lambda z, a=axis: hinge(target, z, axis=a, ignore_index=255, class_axis=1),
            lambda z, s=smp_loss: s(z, target),
            logits,
            torch.float32,
            F32,
        )
    everything = torch.full_like(target, 255)
    z = logits.clone().requires_grad_(True)
    for value in (
        hinge(everything, z, ignore_index=255, class_axis=1),
        softmax(everything[:, 0].long(), z.expand(2, 3, 3, 4), class_axis=1, ignore_index=255),
        softmax(labels[:, 0], z.expand(2, 3, 3, 4), class_axis=1, mask=torch.zeros(2, 3, 4)),
    ):
        (gradient,) = torch.autograd.grad(value, z)
        assert float(value.detach()) == 0.0 and torch.equal(gradient, torch.zeros_like(gradient))
    theirs = module.LovaszLoss("multiclass", ignore_index=255)(
        logits.expand(2, 3, 3, 4), everything[:, 0].long()
    )
    assert theirs.numel() == 0


# ---- the paper's identity: at hard predictions, the Jaccard loss -----------------------------
def iou(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float((truth & predicted).sum() / (truth | predicted).sum())


def test_hinge_at_errors_of_zero_or_one_is_the_jaccard_loss_of_the_wrong_elements():
    """Margins ``z·(2y - 1)`` of 1 (right: error 0) or 0 (wrong: error 1): the loss is
    ``1 - IoU`` of the prediction that flips the wrong elements, counted here."""
    rng = np.random.default_rng(12)
    for _ in range(5):
        y = rng.random((4, 7)) < 0.4
        wrong = rng.random((4, 7)) < 0.3
        logits = np.where(wrong, 0.0, 2.0 * y - 1)
        expected = 1 - iou(y, y ^ wrong)
        np.testing.assert_allclose(float(hinge(y, logits)), expected, rtol=1e-12)
        per_row = [1 - iou(y[i], (y ^ wrong)[i]) for i in range(4)]
        np.testing.assert_allclose(hinge(y, logits, axis=1, reduction="none"), per_row, 1e-12)


def test_softmax_at_one_hot_probabilities_is_the_mean_jaccard_loss_of_the_classes():
    """The mean over the classes present of ``1 - IoU`` (counted here); smp agrees at
    saturated logits (50 apart: probabilities within 2e-22 of one-hot)."""
    rng = np.random.default_rng(13)
    labels = rng.integers(0, 4, (3, 6, 5))
    labels[0] = labels[0] % 3  # class 3 absent from image 0
    predicted = np.where(rng.random(labels.shape) < 0.3, rng.integers(0, 4, labels.shape), labels)
    probs = np.eye(4)[predicted]  # channels last
    present = [c for c in range(4) if (labels == c).any()]
    expected = np.mean([1 - iou(labels == c, predicted == c) for c in present])
    np.testing.assert_allclose(float(softmax(labels, probs)), expected, rtol=1e-12)
    every = np.mean([1 - iou(labels == c, predicted == c) for c in range(4)])
    np.testing.assert_allclose(float(softmax(labels, probs, classes="all")), every, rtol=1e-12)
    per_image = [
        np.mean([1 - iou(labels[i] == c, predicted[i] == c) for c in np.unique(labels[i])])
        for i in range(3)
    ]
    np.testing.assert_allclose(softmax(labels, probs, axis=(1, 2), reduction="none"), per_image)
    logits = torch.tensor(np.moveaxis(probs, -1, 1) * 50.0)
    smp_loss = smp_lovasz().LovaszLoss("multiclass", per_image=True)  # float32: its only dtype
    theirs = smp_loss(logits.to(torch.float32), torch.tensor(labels))
    np.testing.assert_allclose(float(theirs), np.mean(per_image), rtol=1e-6)


# ---- mask, ignore_index and probabilities ----------------------------------------------------
def test_mask_leaves_out_what_ignore_index_does_and_the_values_there_do_not_count():
    rng = np.random.default_rng(14)
    y = (rng.random((2, 6, 5, 1)) < 0.5).astype(float)
    z = rng.normal(size=(2, 6, 5, 1))
    out = rng.random((2, 6, 5, 1)) < 0.3
    labels, z3 = rng.integers(0, 3, (2, 6, 5)), rng.normal(size=(2, 6, 5, 3))
    z_elsewhere = np.where(out, 9.0, z)  # other logits where left out
    for axis in (None, (1, 2, 3)):
        ignored = hinge(np.where(out, 255.0, y), z, axis=axis, ignore_index=255)
        masked = hinge(y, z_elsewhere, axis=axis, mask=1.0 - out)
        np.testing.assert_allclose(masked, ignored, rtol=1e-12)
        ignored = softmax(
            np.where(out[..., 0], 255, labels),
            z3,
            axis=axis and (1, 2),
            ignore_index=255,
            from_logits=True,
        )
        masked = softmax(
            labels,
            np.where(out, 5.0, z3),
            axis=axis and (1, 2),
            mask=1.0 - out[..., 0],
            from_logits=True,
        )
        np.testing.assert_allclose(masked, ignored, rtol=1e-12)
        assert abs(float(masked) - float(softmax(labels, z3, from_logits=True))) > 1e-3


def test_a_weight_map_counts_an_element_as_many_times():
    """A mask weight of 2 is the element twice (two tied errors, next to each other in any
    stable order): the weighted Jaccard counts of the documented weight-map semantics."""
    rng = np.random.default_rng(19)
    y, z = (rng.random(9) < 0.5).astype(float), rng.normal(size=9)
    y[:2] = [0.0, 1.0]
    for k in range(9):
        weight = np.ones(9)
        weight[k] = 2.0
        twice = np.insert(np.arange(9), k, k)
        np.testing.assert_allclose(hinge(y, z, mask=weight), hinge(y[twice], z[twice]), 1e-12)
        q = 1 / (1 + np.exp(-z))
        labels, probs = y.astype(int), np.stack([1 - q, q], axis=-1)
        np.testing.assert_allclose(
            softmax(labels, probs, mask=weight), softmax(labels[twice], probs[twice]), 1e-12
        )


def test_include_background_false_leaves_channel_zero_out():
    rng = np.random.default_rng(20)
    y, z = rng.random((2, 5, 4, 3)) < 0.5, rng.normal(size=(2, 5, 4, 3))
    for axis in ((1, 2), (1, 2, 3)):  # channels ranked apart (weighed 0), or together (masked)
        mine = hinge(y, z, axis=axis, include_background=False)
        np.testing.assert_allclose(mine, hinge(y[..., 1:], z[..., 1:], axis=axis), 1e-12)


def test_probabilities_and_two_class_softmax_are_the_hinge_of_their_log_odds():
    rng = np.random.default_rng(15)
    y = (rng.random((2, 8)) < 0.5).astype(float)
    z = rng.normal(size=(2, 8)) * 3
    expected = hinge(y, z, axis=1)
    probs = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(hinge(y, probs, axis=1, from_logits=False), expected, rtol=1e-9)
    pair = np.stack([np.zeros_like(z), z], axis=-1)  # classes last: log-odds of class 1 are z
    one_hot = np.stack([1 - y, y], axis=-1)
    both = hinge(one_hot, pair, axis=1, from_logits="softmax", reduction="none")
    np.testing.assert_allclose(both[:, 1], hinge(y, z, axis=1, reduction="none"), rtol=1e-9)
    channels = np.stack([np.full_like(z, 7.0), z], axis=-1)  # channel 0 left out
    multilabel = hinge(one_hot, channels, axis=(1, 2), include_background=False)
    np.testing.assert_allclose(multilabel, expected, rtol=1e-9)  # channel 0 out of the ranking


# ---- every backend, eager and compiled, on one small shape -----------------------------------
TIES_Z = np.round(np.random.default_rng(16).normal(size=(2, 3, 4, 3)) * 2) / 2
TIES_Y = np.random.default_rng(17).integers(0, 3, (2, 3, 4))
TIES_Y[0, 0] = 255
MASK = (np.random.default_rng(18).random((2, 3, 4)) > 0.2).astype(np.float64)


def every_lovasz(labels: Any, logits: Any, mask: Any) -> tuple[Any, ...]:
    """One compilation: the hinge of softmax log-odds per image and class, of probabilities over
    the batch, the softmax per image; ties, ``ignore_index``, ``mask``."""
    probabilities = logits * 0.1 + 0.5
    return (
        hinge(labels, logits, axis=(1, 2), from_logits="softmax", ignore_index=255),
        hinge(labels, probabilities, from_logits=False, ignore_index=255, mask=mask),
        softmax(labels, logits, from_logits=True, axis=(1, 2), ignore_index=255, mask=mask),
    )


def test_every_backend_gives_the_numpy_value(backend):
    expected = every_lovasz(TIES_Y, TIES_Z, MASK)
    got = backend.call(
        every_lovasz, backend.asarray(TIES_Y), backend.asarray(TIES_Z), backend.asarray(MASK)
    )
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(backend.to_numpy(g), e, rtol=1e-10, atol=1e-12)


def summed(labels: Any, logits: Any, mask: Any) -> Any:
    """Exact ties only: the log-odds of probabilities ``q`` and ``1 - q`` are opposite to an ulp
    that each library's ``log`` rounds its own way, so their order is the library's."""
    ranked_together = hinge(labels, logits, ignore_index=255, mask=mask, reduction="sum")
    per_image = softmax(labels, logits, from_logits=True, axis=(1, 2), ignore_index=255)
    return ranked_together + per_image


def test_every_backend_gives_the_torch_gradient_with_ties(autodiff_backend):
    """Tied errors get the same subgradient everywhere: one stable sort order."""
    z = torch.tensor(TIES_Z, requires_grad=True)
    (expected,) = torch.autograd.grad(summed(torch.tensor(TIES_Y), z, torch.tensor(MASK)), z)
    b = autodiff_backend
    got = b.grad(
        lambda y, p, mask: summed(y, p, mask),
        b.asarray(TIES_Y),
        b.asarray(TIES_Z),
        mask=b.asarray(MASK),
    )
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_tensorflow_graphs_with_an_unknown_batch_size():
    tf = pytest.importorskip("tensorflow")
    spec = tf.TensorSpec([None, 3, 4, 3], tf.float64)
    labels = tf.TensorSpec([None, 3, 4], tf.int64)
    graph = functools.partial(tf.function, autograph=False)  # nothing to convert: faster
    per_image = graph(
        lambda y, z: softmax(y, z, axis=(1, 2), reduction="none"), input_signature=[labels, spec]
    )
    got = per_image(tf.constant(TIES_Y % 3), tf.constant(TIES_Z))
    np.testing.assert_allclose(
        got.numpy(), softmax(TIES_Y % 3, TIES_Z, axis=(1, 2), reduction="none"), rtol=1e-12
    )
    unknown = tf.TensorSpec([None, None, None, 3], tf.float64)
    whole = graph(lambda y, z: hinge(y, z), input_signature=[unknown, unknown])
    y = (TIES_Z > 0).astype(np.float64)
    np.testing.assert_allclose(float(whole(y, TIES_Z)), float(hinge(y, TIES_Z)), rtol=1e-12)
    images = graph(lambda y, z: hinge(y, z, axis=(1, 2, 3)), input_signature=[unknown] * 2)
    with pytest.raises(ValueError, match=r"sizes \(None, None, None, 3\).*static shape"):
        images.get_concrete_function()


# ---- NaN and bad input -----------------------------------------------------------------------
def test_nan_gives_nan_even_where_ignored():
    y = np.array([[1.0, 0.0, 255.0]])[..., None]  # one channel: compared with ignore_index
    z = np.array([[0.5, -0.5, np.nan]])
    assert np.isnan(float(hinge(y, z[..., None], ignore_index=255)))
    assert np.isnan(float(hinge(np.array([[1.0, 0.0, 1.0]]), z)))
    probs = np.array([[[0.5, 0.5], [np.nan, 0.5]]])
    assert np.isnan(float(softmax(np.array([[0, 1]]), probs)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: softmax(np.zeros((2, 3), int), np.ones((2, 3, 4)) / 4, axis=(1, 2)),
            ValueError,
            r"axis=\(1, 2\) contains class_axis=-1 of y_pred of shape \(2, 3, 4\).*never ranked",
        ),
        (
            lambda: softmax(np.zeros(3, int), np.ones((3, 2)), from_logits="sigmoid"),
            ValueError,
            r"from_logits='sigmoid'",
        ),
        (
            lambda: softmax(np.zeros(3, int), np.ones((3, 2)), classes="some"),
            ValueError,
            r"classes='some' is not one of 'present', 'all'",
        ),
        (
            lambda: hinge(np.zeros((2, 4)), np.zeros((2, 5))),
            ValueError,
            r"y_true of shape \(2, 4\) does not match y_pred of shape \(2, 5\)",
        ),
        (
            lambda: hinge(np.zeros(3), np.zeros(3), from_logits="relu"),
            ValueError,
            r"from_logits='relu' is not one of",
        ),
        (lambda: hinge(np.zeros(3), np.zeros(3), axis=2), ValueError, r"axis"),
    ],
)
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
