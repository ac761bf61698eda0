"""The cross-entropy family against its PyTorch peers, run here: values and gradients.

Peers: PyTorch's ``cross_entropy`` and ``BCEWithLogitsLoss``, torchvision's
``sigmoid_focal_loss``, MONAI's ``FocalLoss``, ``DiceCELoss``, ``DiceFocalLoss``,
``GeneralizedDiceFocalLoss`` and ``DeepSupervisionLoss``, segmentation_models_pytorch's
``FocalLoss`` and ``SoftCrossEntropyLoss``, and nnU-Net's ``DC_and_CE_loss``. Each is compared on
random float64 cases, in value and in gradient with respect to the logits, and on its own
published test cases, through the xploss options that say the same thing. Where a peer's
convention differs, the exact relation is asserted (and, where it could hold by accident, that
the plain equality does not).

Tolerances: the peers that compute in float64 agree to rounding (``F64``, far inside 1e-6).
MONAI's ``FocalLoss`` and ``DeepSupervisionLoss`` cast the input to float32 and nnU-Net sums its
Dice statistics in float32, so those comparisons take float32 rounding (``F32``). Published
values carry 4 to 6 digits and are checked at the peer's own tolerance (``PUBLISHED``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import pathlib
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import monai.losses as monai
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import xploss
import xploss.torch as xt
from tests.peers import smp_losses

F64 = {"rtol": 1e-9, "atol": 1e-12}
F32 = {"rtol": 2e-5, "atol": 2e-6}
PUBLISHED = {"rtol": 1e-4, "atol": 1e-4}
REQUIRED = bool(os.environ.get("XPLOSS_REQUIRE_ALL_BACKENDS"))

# MONAI (and xploss, on one channel) warn where they ignore an option on purpose (one channel,
# a scalar alpha without the background); the tests say what happens instead.
pytestmark = [
    pytest.mark.filterwarnings("ignore:single channel prediction"),
    pytest.mark.filterwarnings("ignore:`include_background=False`, scalar `alpha`"),
    pytest.mark.filterwarnings("ignore:include_background=False is ignored for a single-channel"),
]


# ---- data and the comparison ----------------------------------------------------------------
def randn(*shape: int, seed: int, scale: float = 2.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, dtype=torch.float64, generator=generator)


def labels(shape: tuple[int, ...], classes: int, seed: int) -> torch.Tensor:
    return torch.randint(0, classes, shape, generator=torch.Generator().manual_seed(seed))


def one_hot(indices: torch.Tensor, classes: int) -> torch.Tensor:
    """Channels-first one-hot float64 targets of class indices ``(B, *spatial)``."""
    return F.one_hot(indices, classes).movedim(-1, 1).to(torch.float64)


def binary(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, dtype=torch.float64, generator=generator) > 0.5).to(torch.float64)


def f64(values: object) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


Loss = Callable[[torch.Tensor], torch.Tensor]


def given(loss: Callable[..., torch.Tensor], target: Any, **options: Any) -> Loss:
    """``z ↦ loss(z, target, **options)``: a module's or a peer's loss of the logits ``z``."""
    return lambda z: loss(z, target, **options)


def ours(loss: Callable[..., Any], target: Any, **options: Any) -> Loss:
    """``z ↦ loss(target, z, **options)``: an xploss function's loss of the logits ``z``."""
    return lambda z: loss(target, z, **options)


def assert_agree(
    mine: Loss, theirs: Loss, logits: torch.Tensor, tol: dict, scale: Any = 1.0
) -> None:
    """``theirs(z) == scale·mine(z)`` in value and in gradient with respect to the logits."""
    a = logits.detach().clone().requires_grad_(True)
    b = logits.detach().clone().requires_grad_(True)
    value, reference = scale * mine(a), theirs(b).to(torch.float64)
    torch.testing.assert_close(value, reference, **tol)
    (grad,) = torch.autograd.grad(value.sum(), a)
    (reference_grad,) = torch.autograd.grad(reference.sum(), b)
    torch.testing.assert_close(grad, reference_grad, **tol)


def assert_on_numpy(
    loss: Callable[..., Any], target: Any, logits: Any, expected: Any, **options: Any
) -> None:
    """The functional API on NumPy arrays gives the peer's value."""
    value = loss(np.asarray(target), np.asarray(logits), **options)
    np.testing.assert_allclose(value, np.asarray(expected.detach()), **F64)


def assert_differ(a: torch.Tensor, b: torch.Tensor) -> None:
    """The relation a test asserts is not a plain equality in disguise."""
    assert float((a.double() - b.double()).abs().max()) > 1e-4


class Sum(nn.Module):
    """``Σ factor·loss(input, target)``: a peer's compound whose terms take different
    activations, built from the xploss modules of each term."""

    def __init__(self, *terms: tuple[float, nn.Module]) -> None:
        super().__init__()
        self.factors = [factor for factor, _ in terms]
        self.terms = nn.ModuleList([term for _, term in terms])

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        pairs = zip(self.factors, self.terms, strict=True)
        return sum(factor * term(input, target) for factor, term in pairs)


def missing(package: str, how: str) -> None:
    message = f"{package} is not installed ({how})"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


# ---- PyTorch: cross_entropy / nn.CrossEntropyLoss -------------------------------------------
C = 4
WEIGHT = f64([0.5, 1.0, 2.0, 3.5])
SHAPES = {"2d": (7, C), "4d": (2, C, 5, 6), "5d": (2, C, 3, 4, 5)}
CE_OPTIONS = {
    "plain": {},
    "weight": {"weight": WEIGHT},
    "ignore": {"ignore_index": 1},
    "smoothing": {"label_smoothing": 0.15},
    "all": {"weight": WEIGHT, "ignore_index": 2, "label_smoothing": 0.1},
}
LOGITS = {"from_logits": True, "class_axis": 1}


def class_indices(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return labels((shape[0], *shape[2:]), C, seed)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("option", CE_OPTIONS)
@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropy_of_class_indices_is_pytorchs(shape, option, reduction):
    """Class indices, and their one-hot targets: class indices here too (``ignore_index``
    drops that one-hot class), where PyTorch takes them as probabilities (tested below)."""
    options = {**CE_OPTIONS[option], "reduction": reduction}
    logits, target = randn(*SHAPES[shape], seed=1), class_indices(SHAPES[shape], seed=2)
    theirs = given(F.cross_entropy, target, **options)
    module = xt.CrossEntropyLoss(from_logits=True, **options)
    assert_agree(ours(xploss.cross_entropy, target, **LOGITS, **options), theirs, logits, F64)
    assert_agree(given(module, target), theirs, logits, F64)
    assert_agree(given(module, one_hot(target, C)), theirs, logits, F64)
    on_numpy = {k: np.asarray(v) if k == "weight" else v for k, v in options.items()}
    assert_on_numpy(xploss.cross_entropy, target, logits, theirs(logits), **LOGITS, **on_numpy)


@pytest.mark.parametrize("option", ["plain", "ignore", "smoothing"])
@pytest.mark.parametrize("shape", ["2d", "4d"])
def test_cross_entropy_per_element_is_pytorchs_reduction_none(shape, option):
    """Without class weights ``axis=()`` with ``"none"`` is PyTorch's per-element loss (0 at the
    ignored elements); class weights make PyTorch's ``w_y·ℓ`` and ours the ratio ``ℓ``."""
    options = {**CE_OPTIONS[option], "reduction": "none"}
    logits, target = randn(*SHAPES[shape], seed=3), class_indices(SHAPES[shape], seed=4)
    mine = ours(xploss.cross_entropy, target, **LOGITS, axis=(), **options)
    assert_agree(mine, given(F.cross_entropy, target, **options), logits, F64)


@pytest.mark.parametrize("option", ["plain", "weight", "smoothing"])
@pytest.mark.parametrize("kind", ["one_hot", "soft"])
@pytest.mark.parametrize("shape", SHAPES)
def test_cross_entropy_of_probability_targets_is_pytorchs_times_the_mean_weight(
    shape, kind, option
):
    """PyTorch's probability targets divide ``"mean"`` by the number of elements N, ours by
    ``Σ_i v_i`` (``v_i = Σ_c w_c·y_ic``): PyTorch = ours·mean(v_i), documented."""
    options = CE_OPTIONS[option]
    logits = randn(*SHAPES[shape], seed=7)
    if kind == "soft":
        target = torch.softmax(randn(*SHAPES[shape], seed=8), dim=1)
    else:
        target = one_hot(class_indices(SHAPES[shape], seed=8), C)
    weight = options.get("weight", torch.ones(C, dtype=torch.float64))
    v = (weight.reshape((C,) + (1,) * (target.ndim - 2)) * target).sum(1)
    for reduction, scale in (("mean", v.mean()), ("sum", 1.0)):
        theirs = given(F.cross_entropy, target, reduction=reduction, **options)
        mine = ours(xploss.cross_entropy, target, **LOGITS, reduction=reduction, **options)
        module = xt.CrossEntropyLoss(from_logits=True, reduction=reduction, **options)
        assert_agree(mine, theirs, logits, F64, scale)
        assert_agree(given(module, target), theirs, logits, F64, scale)
    if option == "weight":
        mean = xploss.cross_entropy(target, logits, **LOGITS, **options)
        assert_differ(mean, F.cross_entropy(logits, target, **options))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_ignores_255_in_uint8_labels_as_pytorch(reduction):
    logits = randn(*SHAPES["4d"], seed=9)
    target = class_indices(SHAPES["4d"], seed=10).to(torch.uint8)
    target[0, :2] = 255
    target[1, 3, 1:4] = 255
    options = {"weight": WEIGHT, "label_smoothing": 0.2, "reduction": reduction}
    theirs = given(F.cross_entropy, target.long(), ignore_index=255, **options)
    module = xt.CrossEntropyLoss(from_logits=True, ignore_index=255, **options)
    assert_agree(given(module, target), theirs, logits, F64)
    mine = ours(xploss.cross_entropy, target, **LOGITS, ignore_index=255, **options)
    assert_agree(mine, theirs, logits, F64)
    unmasked = xt.CrossEntropyLoss(from_logits=True, ignore_index=0, **options)
    assert_differ(unmasked(logits, target.clamp(max=C - 1)), theirs(logits))


# ---- PyTorch: BCEWithLogitsLoss (pos_weight) and BCE label smoothing ------------------------
POS_WEIGHT = (0.5, 2.0, 3.0)


@pytest.mark.parametrize("target_kind", ["binary", "soft"])
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 5, 6), (2, 3, 3, 4, 5)], ids=["2d", "4d", "5d"])
def test_bce_with_per_class_pos_weight_is_pytorchs(shape, target_kind):
    """PyTorch broadcasts ``pos_weight`` against the last axes, so a per-class one of a
    channels-first input has shape ``(C, 1, 1)``; ours places the C entries on ``class_axis``.
    Its ``"sum"`` runs over every element: ``axis=()`` here."""
    logits = randn(*shape, seed=11)
    if target_kind == "binary":
        target = binary(shape, seed=12)
    else:
        target = torch.sigmoid(randn(*shape, seed=12))
    placed = f64(POS_WEIGHT).reshape((3,) + (1,) * (len(shape) - 2))
    theirs = given(nn.BCEWithLogitsLoss(pos_weight=placed), target)
    options = {**LOGITS, "pos_weight": POS_WEIGHT}
    assert_agree(ours(xploss.binary_cross_entropy, target, **options), theirs, logits, F64)
    module = xt.BinaryCrossEntropyLoss(from_logits=True, pos_weight=f64(POS_WEIGHT))
    assert_agree(given(module, target), theirs, logits, F64)
    summed = given(nn.BCEWithLogitsLoss(pos_weight=placed, reduction="sum"), target)
    mine = ours(xploss.binary_cross_entropy, target, **options, axis=(), reduction="sum")
    assert_agree(mine, summed, logits, F64)
    assert_on_numpy(xploss.binary_cross_entropy, target, logits, theirs(logits), **options)


def test_bce_with_one_pos_weight_is_pytorchs():
    logits, target = randn(2, 3, 5, 6, seed=13), binary((2, 3, 5, 6), seed=14)
    theirs = given(nn.BCEWithLogitsLoss(pos_weight=f64(2.5)), target)
    mine = ours(xploss.binary_cross_entropy, target, from_logits=True, pos_weight=2.5)
    assert_agree(mine, theirs, logits, F64)


@pytest.mark.parametrize("pos_weight", [None, POS_WEIGHT])
@pytest.mark.parametrize("epsilon", [0.1, 0.3])
def test_bce_label_smoothing_is_pytorchs_bce_of_the_smoothed_target(epsilon, pos_weight):
    """``label_smoothing=ε`` is the BCE of ``y·(1 - ε) + ε/2``, from logits and from
    probabilities (PyTorch's ``binary_cross_entropy``)."""
    logits, target = randn(2, 3, 5, 6, seed=15), binary((2, 3, 5, 6), seed=16)
    smoothed = target * (1 - epsilon) + epsilon / 2
    placed = None if pos_weight is None else f64(pos_weight).reshape(3, 1, 1)
    theirs = given(F.binary_cross_entropy_with_logits, smoothed, pos_weight=placed)
    options = {**LOGITS, "label_smoothing": epsilon, "pos_weight": pos_weight}
    assert_agree(ours(xploss.binary_cross_entropy, target, **options), theirs, logits, F64)
    if pos_weight is None:
        module = xt.BinaryCrossEntropyLoss(from_logits=True, label_smoothing=epsilon)
        assert_agree(given(module, target), theirs, logits, F64)

        def probabilities(z: torch.Tensor) -> torch.Tensor:
            return xploss.binary_cross_entropy(target, torch.sigmoid(z), label_smoothing=epsilon)

        def peer(z: torch.Tensor) -> torch.Tensor:
            return F.binary_cross_entropy(torch.sigmoid(z), smoothed)

        assert_agree(probabilities, peer, logits, F64)


# ---- torchvision: ops.sigmoid_focal_loss ----------------------------------------------------
@functools.cache
def sigmoid_focal_loss() -> Callable[..., torch.Tensor]:
    """torchvision's ``ops/focal_loss.py`` on its own. The torchvision wheel that installs beside
    the pinned CPU torch is a CUDA build whose compiled ops do not load (``import torchvision``
    raises, and so would torchmetrics' imports of it), so ``nox -s tests`` installs it in
    ``<venv>/peers``, off ``sys.path``. The file is loaded by path, with a stand-in for its one
    import (an API-usage logger) while it loads."""
    folders = [pathlib.Path(sys.prefix, "peers", "torchvision")]
    spec = importlib.util.find_spec("torchvision")  # an ordinary install, found, not run
    if spec is not None and spec.submodule_search_locations:
        folders.append(pathlib.Path(spec.submodule_search_locations[0]))
    path = next((f / "ops" / "focal_loss.py" for f in folders if (f / "ops").is_dir()), None)
    if path is None:
        missing("torchvision", "nox -s tests installs it in <venv>/peers")
    package, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
    package.__path__, ops.__path__ = [], []
    utils = types.ModuleType("torchvision.utils")
    utils._log_api_usage_once = lambda obj: None  # type: ignore[attr-defined]
    stand_ins = {"torchvision": package, "torchvision.ops": ops, "torchvision.utils": utils}
    with mock.patch.dict(sys.modules, stand_ins):
        spec = importlib.util.spec_from_file_location("torchvision.ops.focal_loss", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module.sigmoid_focal_loss


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [-1.0, 0.0, 0.25, 0.58, 1.0])
def test_sigmoid_focal_loss_is_torchvisions(alpha, gamma):
    """torchvision's ``alpha=-1`` is ``alpha=None``; its ``"sum"`` and ``"none"`` run over every
    element (``axis=()`` here)."""
    focal = sigmoid_focal_loss()
    logits, target = randn(2, 3, 4, 5, seed=17), binary((2, 3, 4, 5), seed=18)
    options = {"gamma": gamma, "alpha": None if alpha < 0 else alpha}
    for reduction in ("mean", "sum", "none"):
        theirs = given(focal, target, alpha=alpha, gamma=gamma, reduction=reduction)
        axis = None if reduction == "mean" else ()
        mine = ours(
            xploss.focal_loss, target, from_logits=True, axis=axis, reduction=reduction, **options
        )
        assert_agree(mine, theirs, logits, F64)
    theirs = given(focal, target, alpha=alpha, gamma=gamma, reduction="mean")
    assert_agree(given(xt.FocalLoss(from_logits=True, **options), target), theirs, logits, F64)
    assert_on_numpy(xploss.focal_loss, target, logits, theirs(logits), from_logits=True, **options)


def diverse_pairs(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """torchvision's ``TestFocalLoss._generate_diverse_input_target_pair`` (nine pairs of ranges
    of probabilities and targets, (5, 2) each), in float64."""
    torch.random.manual_seed(seed)
    ranges = {"small": (0.0, 0.2), "big": (0.8, 1.0), "random": (0.0, 1.0)}
    inputs, targets = [], []
    for low, high in ranges.values():
        for target in ("zeros", "ones", "random_binary"):
            prob = torch.testing.make_tensor(
                (5, 2), low=low, high=high, dtype=torch.float64, device="cpu"
            )
            inputs.append(torch.log(prob / (1 - prob)))
            if target == "random_binary":
                targets.append(torch.randint(0, 2, (5, 2), dtype=torch.float64))
            else:
                targets.append(torch.full((5, 2), float(target == "ones"), dtype=torch.float64))
    return torch.cat(inputs), torch.cat(targets)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("gamma", [0, 2])
@pytest.mark.parametrize("alpha", [-1.0, 0.0, 0.58, 1.0])
def test_torchvision_published_correct_ratio(alpha, gamma, seed):
    """torchvision's ``test_correct_ratio`` on ours: focal / BCE is ``α_t·(1 - p_t)^γ``, at most
    1; ours also equals torchvision's on these pairs."""
    inputs, targets = diverse_pairs(seed)
    options = {"gamma": float(gamma), "alpha": None if alpha < 0 else alpha}
    mine = xploss.focal_loss(
        targets, inputs, from_logits=True, axis=(), reduction="none", **options
    )
    ce = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    assert torch.all(mine <= ce * (1 + 1e-12))  # equal for gamma=0 and alpha=-1, to rounding
    prob = torch.sigmoid(inputs)
    p_t = prob * targets + (1 - prob) * (1 - targets)
    ratio = (1.0 - p_t) ** gamma
    if alpha >= 0:
        ratio = ratio * (alpha * targets + (1 - alpha) * (1 - targets))
    torch.testing.assert_close(mine / ce, ratio, rtol=1e-5, atol=1e-5)
    theirs = sigmoid_focal_loss()(inputs, targets, alpha=alpha, gamma=gamma, reduction="none")
    torch.testing.assert_close(mine, theirs, **F64)


@pytest.mark.parametrize("seed", [2, 3])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_torchvision_published_equal_ce_loss(reduction, seed):
    """torchvision's ``test_equal_ce_loss``: ``alpha=-1, gamma=0`` is the BCE, value and grad."""
    inputs, targets = diverse_pairs(seed)
    theirs = given(F.binary_cross_entropy_with_logits, targets, reduction=reduction)
    options = {"from_logits": True, "gamma": 0.0, "axis": (), "reduction": reduction}
    assert_agree(ours(xploss.focal_loss, targets, **options), theirs, inputs, F64)


# ---- MONAI: FocalLoss -----------------------------------------------------------------------
# MONAI's FocalLoss casts the input to float32: F32.
MC = 3
MONAI_SHAPE = (2, MC, 5, 6)
ALPHAS = {"none": None, "scalar": 0.25, "sequence": (0.2, 0.5, 0.7)}


def label_map(seed: int, shape: tuple[int, ...] = MONAI_SHAPE) -> torch.Tensor:
    """MONAI's ``(B, 1, *spatial)`` label map of ``shape[1]`` classes."""
    return labels((shape[0], 1, *shape[2:]), shape[1], seed)


@pytest.mark.parametrize("gamma", [0.0, 2.0, 0.5])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_monai_sigmoid_focal_loss(alpha, gamma):
    """``use_softmax=False``: ours with the same alpha, except that MONAI's per-class alpha
    weighs the positives by ``a_c`` and the negatives by 1: that is ``alpha = a/(1 + a)`` with
    class weights ``1 + a`` here, times ``mean(1 + a)`` (our weighted mean is normalised)."""
    logits, target = randn(*MONAI_SHAPE, seed=20), label_map(seed=21)
    a = ALPHAS[alpha]
    theirs = monai.FocalLoss(to_onehot_y=True, gamma=gamma, alpha=a)
    mine = xt.FocalLoss(from_logits=True, to_onehot_y=True, gamma=gamma, alpha=a)
    scale = 1.0
    if alpha == "sequence":
        assert_differ(mine(logits, target), theirs(logits, target))
        factor = f64(a) + 1
        alpha_t = tuple((f64(a) / factor).tolist())
        mine = xt.FocalLoss(
            from_logits=True, to_onehot_y=True, gamma=gamma, alpha=alpha_t, weight=factor
        )
        scale = float(factor.mean())
    assert_agree(given(mine, target), given(theirs, target), logits, F32, scale)
    direct = monai.FocalLoss(gamma=gamma, alpha=a)  # to_onehot_y=False: one-hot targets
    assert_agree(given(mine, target), given(direct, one_hot(target[:, 0], MC)), logits, F32, scale)


@pytest.mark.parametrize("gamma", [0.0, 2.0, 0.5])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_monai_softmax_focal_loss_is_ours_over_the_classes(alpha, gamma):
    """``use_softmax=True`` averages over the classes too: ours / C, and MONAI's scalar
    ``alpha=a`` is ``(1 - a, a, ..., a)`` here."""
    logits, target = randn(*MONAI_SHAPE, seed=22), label_map(seed=23)
    a = ALPHAS[alpha]
    theirs = given(
        monai.FocalLoss(to_onehot_y=True, gamma=gamma, alpha=a, use_softmax=True), target
    )
    per_class = (1 - a,) + (a,) * (MC - 1) if isinstance(a, float) else a
    mine = xt.FocalLoss(from_logits="softmax", to_onehot_y=True, gamma=gamma, alpha=per_class)
    assert_agree(given(mine, target), theirs, logits, F32, 1 / MC)
    options = {"from_logits": "softmax", "class_axis": 1, "gamma": gamma, "alpha": per_class}
    assert_agree(ours(xploss.focal_loss, target[:, 0], **options), theirs, logits, F32, 1 / MC)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_monai_focal_class_weight(reduction):
    """MONAI multiplies each class's loss by ``weight`` and takes a plain mean: ours·mean(w) for
    ``"mean"``, ours for ``"sum"``. With a softmax the class weight is a per-class alpha."""
    logits, target = randn(*MONAI_SHAPE, seed=24), label_map(seed=25)
    weight = [0.5, 1.0, 2.5]
    scale = float(np.mean(weight)) if reduction == "mean" else 1.0
    theirs = monai.FocalLoss(to_onehot_y=True, weight=weight, reduction=reduction)
    mine = xt.FocalLoss(from_logits=True, to_onehot_y=True, weight=weight, reduction=reduction)
    assert_agree(given(mine, target), given(theirs, target), logits, F32, scale)
    theirs = monai.FocalLoss(to_onehot_y=True, weight=weight, use_softmax=True, alpha=0.3)
    alpha = tuple(w * a for w, a in zip(weight, (0.7, 0.3, 0.3), strict=True))
    mine = xt.FocalLoss(from_logits="softmax", to_onehot_y=True, alpha=alpha)
    assert_agree(given(mine, target), given(theirs, target), logits, F32, 1 / MC)


def test_monai_focal_without_background():
    """Sigmoid: class 0 out of the mean, and weights of C - 1 entries, as MONAI's. Softmax:
    MONAI drops channel 0 before its softmax, ours keeps it in the softmax (documented), so
    MONAI's is ours of channels 1.. (divided by their number)."""
    logits, target = randn(*MONAI_SHAPE, seed=26), label_map(seed=27)
    for weight, scale in ((None, 1.0), ([1.0, 3.0], 2.0)):
        theirs = monai.FocalLoss(to_onehot_y=True, include_background=False, weight=weight)
        mine = xt.FocalLoss(
            from_logits=True, to_onehot_y=True, include_background=False, weight=weight
        )
        assert_agree(given(mine, target), given(theirs, target), logits, F32, scale)
    theirs = monai.FocalLoss(to_onehot_y=True, include_background=False, use_softmax=True)
    dense = one_hot(target[:, 0], MC)
    foreground = xt.FocalLoss(from_logits="softmax")

    def dropped(z: torch.Tensor) -> torch.Tensor:
        return foreground(z[:, 1:], dense[:, 1:])

    assert_agree(dropped, given(theirs, target), logits, F32, 1 / (MC - 1))
    kept = xt.FocalLoss(from_logits="softmax", include_background=False)(logits, dense)
    assert_differ(kept / (MC - 1), theirs(logits, target))


@pytest.mark.parametrize("use_softmax", [False, True])
@pytest.mark.parametrize("ignore_index", [2, 255])
def test_monai_focal_ignore_index(ignore_index, use_softmax):
    """MONAI's ``"mean"`` with ``ignore_index`` divides the masked sum by the number of kept
    pixels of the whole batch, not pixels × channels: ours (the softmax form's ratio of sums),
    or with ``batch=True`` times C for the sigmoid form (a scale its own mean without
    ``ignore_index`` does not have). Its ``"sum"`` is per image and class the mean over kept
    pixels, summed: ours for the sigmoid form, and the sum of the per-image ratios
    (``reduction="none"``) for the softmax form, whose ``"sum"`` is the numerator."""
    logits, target = randn(*MONAI_SHAPE, seed=28), label_map(seed=29)
    target[0, 0, :2] = ignore_index
    from_logits = "softmax" if use_softmax else True
    for reduction, batch, scale in (("mean", True, 1 if use_softmax else MC), ("sum", False, 1)):
        common = {"to_onehot_y": True, "ignore_index": ignore_index}
        theirs = monai.FocalLoss(use_softmax=use_softmax, reduction=reduction, **common)
        if use_softmax and reduction == "sum":
            per_image = xt.FocalLoss(from_logits=from_logits, reduction="none", **common)
            mine = lambda z, t, m=per_image: m(z, t).sum()  # noqa: E731
        else:
            mine = xt.FocalLoss(from_logits=from_logits, batch=batch, reduction=reduction, **common)
        assert_agree(given(mine, target), given(theirs, target), logits, F32, scale)


def test_monai_focal_gamma_zero_is_bce_with_logits():
    """MONAI's ``test_consistency_with_cross_entropy_*`` on ours, once each: 2-D maps with
    ``weight=1.0``, and classification ``(B, C)`` with a label map."""
    logits, target = randn(8, 10, 8, 4, seed=30), binary((8, 10, 8, 4), seed=31)
    mine = xt.FocalLoss(from_logits=True, gamma=0.0, weight=1.0)
    bce = F.binary_cross_entropy_with_logits
    assert_agree(given(mine, target), given(bce, target), logits, F64)
    logits, indices = randn(16, 10, seed=32), labels((16, 1), 10, seed=33)
    mine = xt.FocalLoss(from_logits=True, gamma=0.0, to_onehot_y=True)
    assert_agree(given(mine, indices), given(bce, one_hot(indices[:, 0], 10)), logits, F64)
    theirs = monai.FocalLoss(to_onehot_y=True, gamma=0.0)
    assert_agree(given(mine, indices), given(theirs, indices), logits, F32)


# MONAI tests/losses/test_focal_loss.py TEST_CASES: input (1, 3, 2, 2), labels (1, 1, 2, 2).
FOCAL_INPUT = [[[[1.0, 1.0], [0.5, 0.0]], [[1.0, 1.0], [0.5, 0.0]], [[1.0, 1.0], [0.5, 0.0]]]]
FOCAL_LABELS = [[[[0, 1], [2, 0]]]]
FOCAL_NONE = [
    [
        [[0.02266, 0.70187], [0.37741, 0.17329]],
        [[0.70187, 0.02266], [0.37741, 0.17329]],
        [[0.70187, 0.70187], [0.06757, 0.17329]],
    ]
]
FOCAL_WEIGHTED_NONE = [
    [
        [[0.01133, 0.35093], [0.18871, 0.08664]],
        [[0.07019, 0.00227], [0.03774, 0.01733]],
        [[0.14037, 0.14037], [0.01352, 0.03466]],
    ]
]
MONAI_FOCAL_CASES = {
    "to_onehot_y": ("labels", {}, 0.34959),
    "one_hot_target": ("one_hot", {}, 0.34959),
    "no_background": ("labels", {"include_background": False}, 0.36498),
    "alpha": ("labels", {"alpha": 0.8}, 0.08423),
    "none": ("none", {}, FOCAL_NONE),
    "weight_none": ("none", {"weight": (0.5, 0.1, 0.2)}, FOCAL_WEIGHTED_NONE),
    "softmax": ("softmax", {}, 0.16276),
    "softmax_alpha": ("softmax", {"alpha": 0.8}, 0.08138),
}


@pytest.mark.parametrize("case", MONAI_FOCAL_CASES)
def test_monai_published_focal_cases(case):
    """MONAI's FocalLoss TEST_CASES through ours: ``"none"`` is per element and class
    (``axis=()``, the class weights on the class axis), the softmax form divided by C, its
    scalar alpha ``(1 - a, a, a)``."""
    how, options, expected = MONAI_FOCAL_CASES[case]
    logits, target = f64(FOCAL_INPUT), torch.tensor(FOCAL_LABELS)
    dense = one_hot(target[:, 0], MC)
    if how == "none":
        weight = options.get("weight")
        weight = None if weight is None else f64(weight).reshape(MC, 1, 1)
        value = xploss.focal_loss(dense, logits, **LOGITS, axis=(), reduction="none", weight=weight)
    elif how == "softmax":
        a = options.get("alpha")
        loss = xt.FocalLoss(from_logits="softmax", to_onehot_y=True, alpha=a and (1 - a, a, a))
        value = loss(logits, target) / MC
    elif how == "one_hot":
        value = xt.FocalLoss(from_logits=True, **options)(logits, dense)
    else:
        value = xt.FocalLoss(from_logits=True, to_onehot_y=True, **options)(logits, target)
    torch.testing.assert_close(value, f64(expected), **PUBLISHED)


@pytest.mark.parametrize("from_logits", [True, "softmax"])
@pytest.mark.parametrize(
    "grid",
    [
        [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]],
        [[0, 0, 0, 0]] * 4,
        [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]],
        [[[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]] * 3,
    ],
    ids=["bin_seg_2d", "empty_class_2d", "multi_class_seg_2d", "bin_seg_3d"],
)
def test_monai_published_very_good_predictions_give_almost_zero(grid, from_logits):
    """MONAI's ``test_bin_seg_2d``, ``test_empty_class_2d``, ``test_multi_class_seg_2d`` and
    ``test_bin_seg_3d``: ±500 logits of the right class give a focal loss of about 0, with and
    without ``alpha=0.5``, from label maps and one-hot targets (and the wrong class a large
    one)."""
    indices = torch.tensor(grid)[None]
    classes = 6 if int(indices.max()) > 1 else 2
    logits = 1000 * one_hot(indices, classes) - 500
    for a in (None, 0.5):
        alpha = (1 - a,) + (a,) * (classes - 1) if from_logits == "softmax" and a else a
        mine = xt.FocalLoss(from_logits=from_logits, to_onehot_y=True, alpha=alpha)
        assert abs(float(mine(logits, indices[:, None]))) < 1e-3
        dense = xt.FocalLoss(from_logits=from_logits, alpha=alpha)
        assert abs(float(dense(logits, one_hot(indices, classes)))) < 1e-3
        assert float(mine(-logits, indices[:, None])) > 1.0


def test_monai_published_foreground():
    """MONAI's ``test_foreground``: 0.1116 with the background, 0.1733 without."""
    target = torch.cat((torch.ones(1, 1, 5, 5), torch.zeros(1, 1, 5, 5)), dim=1).double()
    logits = target.clone()
    target[:, 0, 2, 2], target[:, 1, 2, 2] = 0, 1
    with_background = xt.FocalLoss(from_logits=True)(logits, target)
    without = xt.FocalLoss(from_logits=True, include_background=False)(logits, target)
    torch.testing.assert_close(with_background, f64(0.1116), rtol=0, atol=1e-3)
    torch.testing.assert_close(without, f64(0.1733), rtol=0, atol=1e-3)


# ---- MONAI: DiceCELoss ----------------------------------------------------------------------
DICE_CE_OPTIONS = {
    "plain": {},
    "batch": {"batch": True},
    "lambdas": {"lambda_dice": 0.3, "lambda_ce": 1.7},
    "smoothing": {"label_smoothing": 0.1},
    "no_background": {"include_background": False},
    "squared": {"squared_pred": True},
    "mixed": {"smooth_nr": 0.0, "smooth_dr": 1e-3, "batch": True, "label_smoothing": 0.2},
}


@pytest.mark.parametrize("option", DICE_CE_OPTIONS)
@pytest.mark.parametrize("shape", [MONAI_SHAPE, (2, MC, 3, 4, 5)], ids=["4d", "5d"])
def test_monai_dice_ce_softmax(shape, option):
    """Label maps (``to_onehot_y``) and one-hot targets; MONAI's ``squared_pred`` is
    ``squared``."""
    options = DICE_CE_OPTIONS[option]
    same = {("squared" if k == "squared_pred" else k): v for k, v in options.items()}
    logits, label = randn(*shape, seed=40), label_map(seed=41, shape=shape)
    for onehot_y, target in ((True, label), (False, one_hot(label[:, 0], MC))):
        theirs = monai.DiceCELoss(softmax=True, to_onehot_y=onehot_y, **options)
        mine = xt.DiceCELoss(from_logits="softmax", to_onehot_y=onehot_y, **same)
        # MONAI's to_onehot_y makes a float32 one-hot, whose squared norms it sums in float32.
        tol = F32 if option == "squared" and onehot_y else F64
        assert_agree(given(mine, target), given(theirs, target), logits, tol)


@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_monai_dice_ce_class_weights(reduction, include_background):
    """``weight`` weighs both terms; MONAI's Dice term is ours·mean(w) (its weighted plain
    mean; without the background, of ``w[1:]``), so MONAI's DiceCELoss is ours with
    ``lambda_dice`` times that mean. ``"sum"`` needs no factor."""
    logits, target = randn(*MONAI_SHAPE, seed=42), label_map(seed=43)
    weight = f64([0.5, 1.0, 2.5])
    kept = weight if include_background else weight[1:]
    factor = float(kept.mean()) if reduction == "mean" else 1.0
    common = {"to_onehot_y": True, "reduction": reduction, "include_background": include_background}
    theirs = given(monai.DiceCELoss(softmax=True, weight=weight, lambda_dice=0.8, **common), target)
    mine = xt.DiceCELoss(from_logits="softmax", weight=weight, lambda_dice=0.8 * factor, **common)
    assert_agree(given(mine, target), theirs, logits, F64)
    if reduction == "mean":
        plain = xt.DiceCELoss(from_logits="softmax", weight=weight, lambda_dice=0.8, **common)
        assert_differ(plain(logits, target), theirs(logits))
    options = {"from_logits": "softmax", "class_axis": 1, "axis": (2, 3), "weight": weight.numpy()}
    options.update(
        lambda_dice=0.8 * factor, reduction=reduction, include_background=include_background
    )
    assert_on_numpy(xploss.dice_ce_loss, target[:, 0], logits, theirs(logits), **options)


@pytest.mark.parametrize("option", ["plain", "batch", "lambdas", "no_background"])
def test_monai_dice_ce_one_channel_is_bce_and_dice(option):
    """One channel: MONAI adds BCEWithLogitsLoss to the sigmoid Dice; ours too."""
    options = DICE_CE_OPTIONS[option]
    logits, target = randn(2, 1, 5, 6, seed=44), binary((2, 1, 5, 6), seed=45)
    theirs = monai.DiceCELoss(sigmoid=True, **options)
    mine = xt.DiceCELoss(from_logits=True, **options)
    assert_agree(given(mine, target), given(theirs, target), logits, F64)


def test_monai_dice_ce_sigmoid_of_several_channels_takes_a_softmax_ce():
    """MONAI's CE term is the softmax CE whenever C > 1, even with ``sigmoid=True``: the sum of
    our sigmoid Dice and our categorical CE. Ours with a sigmoid takes a BCE per channel."""
    logits, target = randn(*MONAI_SHAPE, seed=46), one_hot(label_map(seed=47)[:, 0], MC)
    theirs = given(monai.DiceCELoss(sigmoid=True, lambda_ce=0.6), target)
    parts = Sum((1.0, xt.DiceLoss(from_logits=True)), (0.6, xt.CrossEntropyLoss(from_logits=True)))
    assert_agree(given(parts, target), theirs, logits, F64)
    assert_differ(xt.DiceCELoss(from_logits=True, lambda_ce=0.6)(logits, target), theirs(logits))


@pytest.mark.parametrize("ignore_index", [1, 255])
def test_dice_ce_ignore_index_is_monais_dice_plus_pytorchs_ce(ignore_index):
    """MONAI's DiceCELoss has no ``ignore_index``: ours is its DiceLoss(ignore_index) plus
    PyTorch's CrossEntropyLoss(ignore_index)."""
    logits, target = randn(*MONAI_SHAPE, seed=48), label_map(seed=49)
    target[0, 0, :2] = ignore_index
    dice = monai.DiceLoss(softmax=True, to_onehot_y=True, ignore_index=ignore_index)

    def theirs(z: torch.Tensor) -> torch.Tensor:
        return dice(z, target) + F.cross_entropy(z, target[:, 0], ignore_index=ignore_index)

    mine = xt.DiceCELoss(from_logits="softmax", to_onehot_y=True, ignore_index=ignore_index)
    assert_agree(given(mine, target), theirs, logits, F64)


def raw_dice_ce(
    lambda_dice: float = 1.0,
    lambda_ce: float = 1.0,
    weight: Sequence[float] | None = None,
    include_background: bool = True,
    to_onehot_y: bool = False,
) -> nn.Module:
    """MONAI's DiceCELoss without an activation: the Dice of the input as probabilities plus
    the CE of the input as logits (C > 1)."""
    labelled = {"to_onehot_y": to_onehot_y, "weight": weight}
    dice = xt.DiceLoss(include_background=include_background, **labelled)
    return Sum((lambda_dice, dice), (lambda_ce, xt.CrossEntropyLoss(from_logits=True, **labelled)))


# MONAI tests/losses/test_dice_ce_loss.py TEST_CASES: (2, 2, 3) inputs.
DCE_X = [[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]]
DCE_X100 = [[[100.0, 100.0, 0.0], [0.0, 0.0, 1.0]], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]]
DCE_LABELS = [[[0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]]]
NO_BG = {"include_background": False, "to_onehot_y": True}
MONAI_DICE_CE_CASES = {
    "to_onehot_y": ({"to_onehot_y": True}, DCE_X, DCE_LABELS, torch.float64, 0.3133),
    "one_hot": ({}, DCE_X, DCE_X, torch.float64, 0.3133),
    "one_hot_uint8": ({}, DCE_X, DCE_X, torch.uint8, 0.3133),
    "weight": ({**NO_BG, "weight": [1.0, 1.0]}, DCE_X100, DCE_LABELS, torch.float64, 0.2088),
    "lambda_ce": (
        {**NO_BG, "weight": [1.0, 1.0], "lambda_ce": 2.0},
        DCE_X100,
        DCE_LABELS,
        torch.float64,
        0.4176,
    ),
    "no_class_0": ({**NO_BG, "weight": [0.0, 1.0]}, DCE_X100, DCE_LABELS, torch.float64, 0.3133),
}


@pytest.mark.parametrize("case", MONAI_DICE_CE_CASES)
def test_monai_published_dice_ce_cases(case):
    """MONAI's DiceCELoss TEST_CASES take no activation: the Dice of the raw input plus the
    softmax CE of the same input, ``DiceLoss`` + ``CrossEntropyLoss(from_logits=True)`` here
    (a compound has one activation). Checked against the published value and MONAI itself."""
    options, x, y, dtype, expected = MONAI_DICE_CE_CASES[case]
    logits, target = f64(x), torch.tensor(y, dtype=dtype)
    mine = raw_dice_ce(**options)
    torch.testing.assert_close(mine(logits, target), f64(expected), **PUBLISHED)
    weight = options.get("weight")
    theirs = monai.DiceCELoss(**{**options, "weight": None if weight is None else f64(weight)})
    assert_agree(given(mine, target), given(theirs, target), logits, F64)


def test_monai_published_dice_ce_one_channel_case():
    """The BCE case (``weight=[0.5]``, ``sigmoid=True``, C = 1): MONAI's weight is the BCE's
    ``pos_weight`` (our DiceCE has no ``pos_weight``: Dice + BCE with it)."""
    logits, target = f64([[[0.8, 0.6, 0.0]], [[0.0, 0.0, 0.9]]]), f64(DCE_LABELS)
    bce = xt.BinaryCrossEntropyLoss(from_logits=True, pos_weight=0.5)
    mine = Sum((1.0, xt.DiceLoss(from_logits=True)), (1.0, bce))
    torch.testing.assert_close(mine(logits, target), f64(1.445239), rtol=1e-6, atol=1e-6)
    theirs = monai.DiceCELoss(weight=f64([0.5]), sigmoid=True)
    assert_agree(given(mine, target), given(theirs, target), logits, F64)


# ---- MONAI: DiceFocalLoss and GeneralizedDiceFocalLoss --------------------------------------
# Their focal term is MONAI's FocalLoss (float32): F32. The grids are those of MONAI's
# test_dice_focal_loss.py and test_generalized_dice_focal_loss.py (reductions, weights None,
# [1, 1, 2], (3, 2, 1), lambda_focal, alpha), whose tests compare the compound with its parts on
# random input; reduction="none" adds MONAI's (B, C, 1, 1) Dice to its per-pixel focal values,
# which has no counterpart here (ours gives one value per image and class).
WEIGHTS = {"none": None, "tensor": [1.0, 1.0, 2.0], "tuple": (3, 2.0, 1)}


def mean_weight(weight: Any, reduction: str) -> float:
    return float(np.mean(weight)) if weight is not None and reduction == "mean" else 1.0


@pytest.mark.parametrize("alpha", [None, 0.25])
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_monai_dice_focal_sigmoid(reduction, weight, alpha):
    """Both terms of MONAI's are ours·mean(w) for ``"mean"`` (plain means of weighted values),
    ours for ``"sum"``."""
    logits, target = randn(3, 3, 5, 5, seed=50), binary((3, 3, 5, 5), seed=51)
    w = WEIGHTS[weight]
    common = {"gamma": 1.0, "weight": w, "reduction": reduction, "alpha": alpha}
    common["lambda_focal"] = 1.5 if alpha is None else 0.5
    theirs = monai.DiceFocalLoss(sigmoid=True, **common)
    mine = xt.DiceFocalLoss(from_logits=True, **common)
    scale = mean_weight(w, reduction)
    assert_agree(given(mine, target), given(theirs, target), logits, F32, scale)


@pytest.mark.parametrize("weight", [2.0, [1.0, 2.0], (2.0, 1)])
def test_monai_dice_focal_softmax_is_softmax_dice_plus_sigmoid_focal(weight):
    """MONAI's ``test_result_no_onehot_no_bg``: ``softmax=True`` reaches its Dice only, its focal
    term stays a sigmoid one (MONAI 1.6's DiceFocalLoss has no ``use_softmax``). Ours is one
    activation per compound, so the peer is our softmax Dice plus our sigmoid focal."""
    logits, target = randn(3, 3, 5, 5, seed=52), label_map(seed=53, shape=(3, 3, 5, 5))
    common = {"include_background": False, "to_onehot_y": True, "weight": weight}
    scale = float(np.mean(weight))
    theirs = monai.DiceFocalLoss(softmax=True, lambda_focal=0.5, **common)
    dice = xt.DiceLoss(from_logits="softmax", **common)
    parts = Sum((1.0, dice), (0.5, xt.FocalLoss(from_logits=True, **common)))
    assert_agree(given(parts, target), given(theirs, target), logits, F32, scale)
    theirs = monai.DiceFocalLoss(sigmoid=True, lambda_focal=0.5, **common)
    mine = xt.DiceFocalLoss(from_logits=True, lambda_focal=0.5, **common)
    assert_agree(given(mine, target), given(theirs, target), logits, F32, scale)


@pytest.mark.parametrize("lambda_focal", [0.5, 1.5])
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_monai_generalized_dice_focal_sigmoid(reduction, weight, lambda_focal):
    """``weight`` reaches the focal term only, which MONAI takes as ours·mean(w) for ``"mean"``:
    ours with ``lambda_focal`` times mean(w)."""
    logits, target = randn(3, 3, 5, 5, seed=54), binary((3, 3, 5, 5), seed=55)
    w = WEIGHTS[weight]
    common = {"gamma": 1.0, "weight": w, "reduction": reduction}
    theirs = monai.GeneralizedDiceFocalLoss(sigmoid=True, lambda_focal=lambda_focal, **common)
    factor = lambda_focal * mean_weight(w, reduction)
    mine = xt.GeneralizedDiceFocalLoss(from_logits=True, lambda_focal=factor, **common)
    assert_agree(given(mine, target), given(theirs, target), logits, F32)


@pytest.mark.parametrize("weight", [2.0, [1.0, 2.0], (2.0, 1)])
def test_monai_generalized_dice_focal_softmax_is_softmax_gdl_plus_sigmoid_focal(weight):
    """MONAI's ``test_result_no_onehot_no_bg`` of GeneralizedDiceFocalLoss: as DiceFocalLoss,
    ``softmax=True`` reaches the generalized Dice only."""
    logits, target = randn(3, 3, 5, 5, seed=56), label_map(seed=57, shape=(3, 3, 5, 5))
    common = {"include_background": False, "to_onehot_y": True}
    theirs = monai.GeneralizedDiceFocalLoss(softmax=True, weight=weight, **common)
    dice = xt.GeneralizedDiceLoss(from_logits="softmax", **common)
    focal = xt.FocalLoss(from_logits=True, weight=weight, **common)
    parts = Sum((1.0, dice), (float(np.mean(weight)), focal))
    assert_agree(given(parts, target), given(theirs, target), logits, F32)


# ---- MONAI: DeepSupervisionLoss -------------------------------------------------------------
# MONAI's casts each output to float32 and accumulates in float32: F32.
LEVELS = [(12, 13), (10, 11), (8, 9), (6, 7), (4, 5), (3, 3)]
MONAI_MODES = {
    "exp": [1.0, 0.5, 0.25, 0.125, 0.0625, 0.0625],  # 1/2^i floored at 1/16
    "same": [1.0] * 6,
    "two": [1.0] + [0.5] * 5,
}
Outputs = list[torch.Tensor]


def assert_ds_agree(
    mine: Callable[[Outputs], torch.Tensor],
    theirs: Callable[[Outputs], torch.Tensor],
    outputs: Outputs,
    tol: dict,
) -> None:
    """Values, and the gradients with respect to every output."""
    a = [o.detach().clone().requires_grad_(True) for o in outputs]
    b = [o.detach().clone().requires_grad_(True) for o in outputs]
    value, reference = mine(a), theirs(b).to(torch.float64)
    torch.testing.assert_close(value, reference, **tol)
    grads = torch.autograd.grad(value, a)
    # nnU-Net's wrapper skips an output of weight 0: no gradient, where ours has zeros.
    reference_grads = torch.autograd.grad(reference, b, allow_unused=True)
    for grad, reference_grad in zip(grads, reference_grads, strict=True):
        expected = torch.zeros_like(grad) if reference_grad is None else reference_grad
        torch.testing.assert_close(grad, expected, **tol)


@pytest.mark.parametrize("mode", [*MONAI_MODES, "explicit"])
def test_monai_deep_supervision_weight_modes(mode):
    """Six outputs at sizes that are no multiple of each other (nearest-exact resizing of the
    label map); MONAI's weight modes are explicit weights here. The explicit case also runs
    class indices through the module and the functional API."""
    outputs = [randn(2, MC, *size, seed=60 + i) for i, size in enumerate(LEVELS)]
    target = label_map(seed=61, shape=(2, MC, 12, 13)).double()
    weights = [0.3, 0.2, 0.1, 0.4, 0.5, 0.6] if mode == "explicit" else MONAI_MODES[mode]
    peer_options = {"weights": weights} if mode == "explicit" else {"weight_mode": mode}
    loss = monai.DiceCELoss(softmax=True, to_onehot_y=True)
    theirs = given(monai.DeepSupervisionLoss(loss, **peer_options), target)
    mine = xt.DeepSupervisionLoss(
        xt.DiceCELoss(from_logits="softmax", to_onehot_y=True), weights=weights
    )
    assert_ds_agree(given(mine, target), theirs, outputs, F32)
    if mode != "explicit":
        return
    indices = target[:, 0].long()
    by_index = xt.DeepSupervisionLoss(xt.DiceCELoss(from_logits="softmax"), weights=weights)
    assert_ds_agree(given(by_index, indices), theirs, outputs, F32)
    options = {"weights": weights, "class_axis": 1, "from_logits": "softmax", "axis": (2, 3)}
    functional = functools.partial(xploss.deep_supervision_loss, xploss.dice_ce_loss)
    assert_ds_agree(ours(functional, indices, **options), theirs, outputs, F32)


def test_monai_deep_supervision_of_one_hot_targets():
    """A one-hot float target resized by nearest (``mode="nearest"``; ``"auto"`` would average
    a floating target), DiceFocalLoss with a sigmoid, MONAI's default ``"exp"`` weights."""
    outputs = [randn(2, MC, *size, seed=62 + i) for i, size in enumerate(LEVELS[:3])]
    target = one_hot(labels((2, 12, 13), MC, seed=63), MC)
    theirs = monai.DeepSupervisionLoss(monai.DiceFocalLoss(sigmoid=True))
    loss = xt.DiceFocalLoss(from_logits=True)
    mine = xt.DeepSupervisionLoss(loss, weights=[1, 0.5, 0.25], mode="nearest")
    assert_ds_agree(given(mine, target), given(theirs, target), outputs, F32)


# MONAI tests/losses/test_ds_loss.py: three outputs (1, 2, 2, 3), (1, 2, 2, 2), (1, 2, 2, 1).
DS_INPUT = [
    [[[[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]]],
    [[[[1.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]]],
    [[[[1.0], [0.0]], [[1.0], [0.0]]]],
]
DS_TARGET = [[[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]]]
MONAI_DS_CASES = {
    "dice_ce_single": ("dice_ce", 1, [1.0], 0.606557),
    "dice_ce_exp": ("dice_ce", 3, [1.0, 0.5, 0.25], 1.78144),
    "dice_ce_same": ("dice_ce", 3, [1.0, 1.0, 1.0], 3.5529),
    "dice_ce_two": ("dice_ce", 3, [1.0, 0.5, 0.5], 2.07973),
    "dice_ce_weights": ("dice_ce", 3, [0.1, 0.2, 0.3], 0.76924),
    "dice_single": ("dice", 1, [1.0], 0.166666),
    "dice_exp": ("dice", 3, [1.0, 0.5, 0.25], 0.666665),
    "dice_focal_single": ("dice_focal", 1, [1.0], 0.32124),
    "dice_focal_exp": ("dice_focal", 3, [1.0, 0.5, 0.25], 1.06452),
}


@pytest.mark.parametrize("case", MONAI_DS_CASES)
def test_monai_published_deep_supervision_cases(case):
    """MONAI's DeepSupervisionLoss TEST_CASES (``weight_mode`` "exp", "same", "two" and explicit
    weights, all explicit weights here). Their losses take no activation: the Dice of the raw
    input, the CE and the (sigmoid) focal term of it as logits."""
    loss, levels, weights, expected = MONAI_DS_CASES[case]
    outputs = [f64(x) for x in DS_INPUT[:levels]]
    dice = xt.DiceLoss(to_onehot_y=True)
    focal = xt.FocalLoss(from_logits=True, to_onehot_y=True)
    term = {
        "dice_ce": raw_dice_ce(to_onehot_y=True),
        "dice": dice,
        "dice_focal": Sum((1.0, dice), (1.0, focal)),
    }[loss]
    value = xt.DeepSupervisionLoss(term, weights=weights)(outputs, f64(DS_TARGET))
    torch.testing.assert_close(value, f64(expected), **PUBLISHED)


# ---- segmentation_models_pytorch: FocalLoss, SoftCrossEntropyLoss ---------------------------
def smp(name: str, module: str) -> Any:
    smp_losses()
    return getattr(importlib.import_module(f"_smp_losses.{module}"), name)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_smp_focal_binary_multilabel_and_multiclass(alpha, gamma):
    """smp's multiclass focal loss is the mean over the classes of a binary focal loss of each
    one-vs-rest column: ours with a sigmoid on the one-hot target (a mean over the classes
    too, so no factor C)."""
    focal = smp("FocalLoss", "focal")
    options = {"alpha": alpha, "gamma": gamma}
    logits, indices = randn(2, C, 5, 6, seed=70), labels((2, 5, 6), C, seed=71)
    dense = one_hot(indices, C)
    mine = xt.FocalLoss(from_logits=True, **options)
    theirs = given(focal("multiclass", **options), indices)
    assert_agree(given(mine, indices), theirs, logits, F64)
    assert_agree(ours(xploss.focal_loss, dense, **LOGITS, **options), theirs, logits, F64)
    multilabel = focal("multilabel", **options)
    assert_agree(given(mine, dense), given(multilabel, dense), logits, F64)
    mask = binary((2, 1, 5, 6), seed=72)
    binary_focal = focal("binary", **options)

    def one_channel(loss: Callable[..., torch.Tensor]) -> Loss:
        return lambda z: loss(z[:, :1], mask)

    assert_agree(one_channel(mine), one_channel(binary_focal), logits, F64)


def test_smp_focal_class_weights_and_ignore_index():
    """``class_weights`` is our normalised ``weight``; ``ignore_index`` drops the pixels from
    every class's mean over the batch (``batch=True``, or the functional default)."""
    focal = smp("FocalLoss", "focal")
    logits, indices = randn(2, C, 5, 6, seed=73), labels((2, 5, 6), C, seed=74)
    weights = [0.5, 1.0, 2.0, 4.0]
    theirs = given(focal("multiclass", class_weights=weights), indices)
    assert_agree(
        given(xt.FocalLoss(from_logits=True, weight=weights), indices), theirs, logits, F64
    )
    indices[0, :2] = 255
    theirs = given(focal("multiclass", ignore_index=255), indices)
    mine = xt.FocalLoss(from_logits=True, ignore_index=255, batch=True)
    assert_agree(given(mine, indices), theirs, logits, F64)
    functional = ours(xploss.focal_loss, indices, **LOGITS, ignore_index=255)
    assert_agree(functional, theirs, logits, F64)


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.3])
def test_smp_soft_cross_entropy_smoothing_is_pytorchs_label_smoothing(epsilon):
    """smp's ``smooth_factor=ε`` is ``(1 - ε)·NLL + ε/C·Σ_c -log q_c``: PyTorch's (and our)
    ``label_smoothing=ε``, the target ``y·(1 - ε) + ε/C`` (its docstring's example shows
    ε/(C - 1)). With ignored pixels its ``"mean"`` divides by every pixel, the ignored ones too:
    our ``"sum"`` over their number, where our ``"mean"`` (PyTorch's) counts the kept ones."""
    soft_ce = smp("SoftCrossEntropyLoss", "soft_ce")
    logits, indices = randn(2, C, 5, 6, seed=75), labels((2, 5, 6), C, seed=76)
    mine = given(xt.CrossEntropyLoss(from_logits=True, label_smoothing=epsilon), indices)
    assert_agree(mine, given(soft_ce(smooth_factor=epsilon), indices), logits, F64)
    pytorch = given(F.cross_entropy, indices, label_smoothing=epsilon)
    assert_agree(mine, pytorch, logits, F64)
    indices[0, :2] = 255
    options = {"label_smoothing": epsilon, "ignore_index": 255}
    summed = given(xt.CrossEntropyLoss(from_logits=True, reduction="sum", **options), indices)
    for reduction, scale in (("mean", 1 / indices.numel()), ("sum", 1.0)):
        theirs = soft_ce(smooth_factor=epsilon, ignore_index=255, reduction=reduction)
        assert_agree(summed, given(theirs, indices), logits, F64, scale)
    mean = xt.CrossEntropyLoss(from_logits=True, **options)(logits, indices)
    assert_differ(mean, soft_ce(smooth_factor=epsilon, ignore_index=255)(logits, indices))


# ---- nnU-Net: DC_and_CE_loss ----------------------------------------------------------------
# nnU-Net sums its Dice statistics in float32 (sum(..., dtype=torch.float32)): F32.
@functools.cache
def nnunet() -> types.SimpleNamespace:
    try:
        from nnunetv2.training.loss import compound_losses, deep_supervision, dice
    except ImportError:
        missing("nnunetv2", "nox -s tests installs it without its dependencies")
    return types.SimpleNamespace(
        DC_and_CE_loss=compound_losses.DC_and_CE_loss,
        DeepSupervisionWrapper=deep_supervision.DeepSupervisionWrapper,
        dice={
            "SoftDiceLoss": dice.SoftDiceLoss,
            "MemoryEfficient": dice.MemoryEfficientSoftDiceLoss,
        },
    )


def nnunet_dice_ce(dice_class: str, batch_dice: bool, **options: Any) -> nn.Module:
    """The loss of nnU-Net's trainer (``nnUNetTrainer._build_loss``), outside DDP."""
    peer = nnunet()
    dice = {"batch_dice": batch_dice, "smooth": 1e-5, "do_bg": False, "ddp": False}
    return peer.DC_and_CE_loss(dice, {}, dice_class=peer.dice[dice_class], **options)


def nnunet_of_ours(batch: bool, **options: Any) -> Loss:
    """nnU-Net adds ``-D`` where ours adds ``1 - D``: ours - 1."""
    loss = xt.DiceCELoss(
        from_logits="softmax",
        batch=batch,
        include_background=False,
        smooth_nr=1e-5,
        smooth_dr=1e-5,
        to_onehot_y=True,
        **options,
    )
    return lambda z, target: loss(z, target) - 1


@pytest.mark.parametrize("shape", [(2, 4, 6, 7), (2, 3, 3, 4, 5)], ids=["2d", "3d"])
@pytest.mark.parametrize("batch_dice", [True, False])
@pytest.mark.parametrize("dice_class", ["SoftDiceLoss", "MemoryEfficient"])
def test_nnunet_dc_and_ce_is_ours_minus_one(dice_class, batch_dice, shape):
    logits, target = randn(*shape, seed=80), label_map(seed=81, shape=shape).double()
    theirs = nnunet_dice_ce(dice_class, batch_dice)
    mine = nnunet_of_ours(batch_dice)
    assert_agree(given(mine, target), given(theirs, target), logits, F32)


@pytest.mark.parametrize("dice_class", ["SoftDiceLoss", "MemoryEfficient"])
def test_nnunet_ignore_label_is_our_ignore_index(dice_class):
    logits, target = randn(2, 4, 6, 7, seed=82), label_map(seed=83, shape=(2, 4, 6, 7)).double()
    target[0, 0, :2] = 4
    target[1, 0, 3, 1:5] = 4
    theirs = nnunet_dice_ce(dice_class, True, ignore_label=4)
    mine = nnunet_of_ours(True, ignore_index=4)
    assert_agree(given(mine, target), given(theirs, target), logits, F32)


def test_nnunet_deep_supervision_wrapper():
    """nnU-Net's trainer weights (``1/2^i``, the lowest output 0, normalised) on targets resized
    by nearest-exact (its data loader's): ours resizes the full-resolution target itself."""
    weights = np.array([1 / 2**i for i in range(4)])
    weights[-1] = 0
    weights = (weights / weights.sum()).tolist()
    sizes = [(8, 8), (4, 4), (2, 2), (1, 1)]
    outputs = [randn(2, 3, *size, seed=84 + i) for i, size in enumerate(sizes)]
    target = label_map(seed=90, shape=(2, 3, 8, 8)).double()
    targets = [F.interpolate(target, size=size, mode="nearest-exact") for size in sizes]
    theirs = nnunet().DeepSupervisionWrapper(nnunet_dice_ce("MemoryEfficient", True), weights)
    loss = xt.DiceCELoss(
        from_logits="softmax",
        batch=True,
        include_background=False,
        smooth_nr=1e-5,
        smooth_dr=1e-5,
        to_onehot_y=True,
    )
    mine = xt.DeepSupervisionLoss(loss, weights=weights)
    assert_ds_agree(lambda z: mine(z, target) - 1, given(theirs, targets), outputs, F32)
