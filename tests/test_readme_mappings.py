"""Every mapping of the README from a peer's call to an xploss call, checked against the peer.

The README's "From MONAI" table is parsed: each row must have a check in ``MONAI`` below, so a new
row without a test fails. The segmentation_models_pytorch, "From PyTorch, torchvision and
nnU-Net", "From optax" and "From Keras" tables hold code in both columns, evaluated here (Keras in
``keras_readme_checks.py``, once per backend) on random inputs. Each mapping is checked with one
channel (C = 1) and with several (C = 3), with a sigmoid and with a softmax where the peer has
both (a row that names its case, in that case); the torch losses are compared in value and
gradient.
"""

from __future__ import annotations

import ast
import contextlib
import pathlib
import re
from collections.abc import Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")
monai = pytest.importorskip("monai.losses")

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
F = torch.nn.functional
# MONAI warns where it ignores an option on one channel; the checks say what it does instead.
pytestmark = pytest.mark.filterwarnings("ignore:single channel prediction")


# ---- the README's tables --------------------------------------------------------------------
def table_after(marker: str) -> list[list[str]]:
    """The cells of each body row of the first Markdown table after ``marker``."""
    lines = README.split(marker, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    return rows


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


# ---- data -----------------------------------------------------------------------------------
# (C, activation): one channel with a sigmoid, and with MONAI's softmax (which MONAI ignores on
# one channel); several channels with a sigmoid (independent labels) and a softmax.
CASES = [(1, "sigmoid"), (1, "softmax"), (3, "sigmoid"), (3, "softmax")]


def data(channels: int, seed: int, act: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(2, C, 5, 6)`` and labels ``(2, 5, 6)``: every class (0 and 1 when C = 1) in
    every image. MONAI's softmax on one channel reads probabilities: those of the logits."""
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, channels, 5, 6, generator=generator, dtype=torch.float64)
    if channels == 1 and act == "softmax":
        logits = torch.sigmoid(logits)
    classes = max(channels, 2)
    labels = torch.randint(0, classes, (2, 5, 6), generator=generator)
    labels[:, 0, :classes] = torch.arange(classes)
    return logits, labels


def dense(labels: torch.Tensor, channels: int) -> torch.Tensor:
    """The one-hot target ``(B, C, H, W)``; the mask ``(B, 1, H, W)`` when C = 1."""
    if channels == 1:
        return labels[:, None].to(torch.float64)
    return F.one_hot(labels, channels).movedim(-1, 1).to(torch.float64)


def activation(channels: int, act: str) -> tuple[dict, dict]:
    """MONAI's options and xploss's for one activation. On one channel MONAI ignores
    ``softmax=True`` (with a warning) and reads the input as probabilities: ``from_logits=False``
    (xploss's softmax over one channel is the constant 1)."""
    if act == "sigmoid":
        return {"sigmoid": True}, {"from_logits": True}
    return {"softmax": True}, ({} if channels == 1 else {"from_logits": "softmax"})


def same(
    peer: Callable,
    ours: Callable,
    logits: torch.Tensor,
    target: torch.Tensor,
    our_target: torch.Tensor | None = None,
    *,
    scale: float = 1.0,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> None:
    """``ours(logits, our_target) * scale`` equals ``peer(logits, target)``, value and gradient
    (a peer that computes in float32 is compared in float64 with a float32 tolerance)."""
    theirs_in = logits.clone().requires_grad_(True)
    ours_in = logits.clone().requires_grad_(True)
    theirs = peer(theirs_in, target)
    got = ours(ours_in, target if our_target is None else our_target) * scale
    torch.testing.assert_close(got, theirs.to(got.dtype), rtol=rtol, atol=atol)
    theirs.sum().backward()
    got.sum().backward()
    torch.testing.assert_close(ours_in.grad, theirs_in.grad, rtol=10 * rtol, atol=atol)


# MONAI computes the generalized Dice weights in float32 (``ground_o.float()``)
MONAI_GDL_RTOL = 1e-6


def warns_if(condition: bool, match: str):
    return pytest.warns(UserWarning, match=match) if condition else contextlib.nullcontext()


def differs(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool((a - b).abs().max() > 1e-4)


# ---- the "From MONAI" table: one check per row -----------------------------------------------
MONAI: dict[str, tuple[Callable[[int, str], None], list[tuple[int, str]]]] = {}


def row(key: str, cases: list[tuple[int, str]] = CASES):
    """Registers the check of the MONAI row whose first cell is ``key``."""

    def register(check: Callable[[int, str], None]) -> Callable[[int, str], None]:
        MONAI[key] = (check, cases)
        return check

    return register


def dice_pair(channels: int, act: str, monai_options: dict, options: dict, name="DiceLoss"):
    theirs, ours = activation(channels, act)
    peer = getattr(monai, name)(**theirs, **monai_options)
    return peer, getattr(xt, name)(**ours, **options)


@row("`DiceLoss(sigmoid=True)` / `softmax=True`")
def _activations(channels, act):
    logits, labels = data(channels, 0, act)
    same(*dice_pair(channels, act, {}, {}), logits, dense(labels, channels), labels)
    if channels == 1 and act == "softmax":  # MONAI reads the input as it is; xploss warns
        with pytest.warns(UserWarning, match="single channel"):
            constant = xt.DiceLoss(from_logits="softmax")(logits, labels)
        assert differs(constant, monai.DiceLoss(softmax=True)(logits, dense(labels, 1)))


@row("`batch=True`")
def _batch(channels, act):
    logits, labels = data(channels, 1, act)
    pair = dice_pair(channels, act, {"batch": True}, {"batch": True})
    same(*pair, logits, dense(labels, channels), labels)


@row("`squared_pred=True`")
def _squared(channels, act):
    logits, labels = data(channels, 2, act)
    pair = dice_pair(channels, act, {"squared_pred": True}, {"squared": True})
    same(*pair, logits, dense(labels, channels))


@row("`include_background=False`")
def _include_background(channels, act):
    logits, labels = data(channels, 3, act)
    target = dense(labels, channels)
    options = {"include_background": False}
    none = {**options, "reduction": "none"}
    peer, ours = dice_pair(channels, act, none, none)
    with warns_if(channels == 1, "include_background=False is ignored"):
        same(*dice_pair(channels, act, options, options), logits, target)
        theirs, got = peer(logits, target), ours(logits, target)
    if channels == 1:  # MONAI ignores it on one channel, and so does xploss
        torch.testing.assert_close(got, theirs.reshape(got.shape))
    else:  # MONAI drops the background channel; xploss keeps it, with zeros
        assert theirs.shape == (logits.shape[0], channels - 1, 1, 1)
        assert got.shape == logits.shape[:2] and not got[:, 0].any()
        torch.testing.assert_close(got[:, 1:], theirs[:, :, 0, 0])


@row("`to_onehot_y=True` with a `(B, 1, H, W)` label map")
def _to_onehot_y(channels, act):
    logits, labels = data(channels, 4, act)
    label_map = labels[:, None].to(torch.float64)
    pair = dice_pair(channels, act, {"to_onehot_y": True}, {"to_onehot_y": True})
    same(*pair, logits, label_map)
    peer, _ = pair
    same(peer, dice_pair(channels, act, {}, {})[1], logits, label_map, labels)


@row("`ignore_index=255`")
def _ignore_index(channels, act):
    logits, labels = data(channels, 5, act)
    labels[:, 1:3, 2:5] = 255
    label_map = labels[:, None].to(torch.float64)
    to_onehot = {"to_onehot_y": True, "ignore_index": 255}
    peer, ours = dice_pair(channels, act, to_onehot, {"ignore_index": 255})
    same(peer, ours, logits, label_map, labels)


@row("`smooth_nr`, `smooth_dr`")
def _smoothing(channels, act):
    logits, labels = data(channels, 6, act)
    smooth = {"smooth_nr": 0.5, "smooth_dr": 2.0}
    same(*dice_pair(channels, act, smooth, smooth), logits, dense(labels, channels))


@row("`weight=w`")
def _weight(channels, act):
    logits, labels = data(channels, 7, act)
    weight = [0.5, 1.0, 4.0][:channels] if channels > 1 else [3.0]
    peer, ours = dice_pair(channels, act, {"weight": weight}, {"weight": weight})
    # MONAI ignores the weight of a single channel; xploss's normalised mean of one loss is it
    scale = float(np.mean(weight)) if channels > 1 else 1.0
    same(peer, ours, logits, dense(labels, channels), scale=scale)


@row("`GeneralizedDiceLoss(w_type=...)`")
def _generalized_dice(channels, act):
    logits, labels = data(channels, 8, act)  # every class present in every image
    for w_type in ("square", "simple", "uniform"):
        for batch in (False, True):
            pair = dice_pair(
                channels,
                act,
                {"batch": batch, "w_type": w_type},
                {"batch": batch, "weight_type": w_type},
                "GeneralizedDiceLoss",
            )
            same(*pair, logits, dense(labels, channels), rtol=MONAI_GDL_RTOL)


@row("`DiceCELoss(sigmoid=True, lambda_ce=a, lambda_dice=b)`, C = 1", [(1, "sigmoid")])
def _dice_ce_one_channel(channels, act):
    logits, labels = data(channels, 9, act)
    peer = monai.DiceCELoss(sigmoid=True, lambda_ce=0.7, lambda_dice=1.3)
    ours = xt.DiceCELoss(from_logits=True, lambda_ce=0.7, lambda_dice=1.3)
    same(peer, ours, logits, dense(labels, channels), labels)
    bce_dice = xt.BCEDiceLoss(from_logits=True, bce_weight=0.7, dice_weight=1.3, log_dice=False)
    same(peer, bce_dice, logits, dense(labels, channels))


@row("`DiceCELoss(softmax=True, lambda_ce=a, lambda_dice=b)`, C > 1", [(3, "softmax")])
def _dice_ce_softmax(channels, act):
    logits, labels = data(channels, 19, act)
    target, label_map = dense(labels, channels), labels[:, None].to(torch.float64)
    factors = {"lambda_ce": 0.7, "lambda_dice": 1.3}
    peer = monai.DiceCELoss(softmax=True, **factors)
    ours = xt.DiceCELoss(from_logits="softmax", **factors)
    same(peer, ours, logits, target, labels)
    peer_map = monai.DiceCELoss(softmax=True, to_onehot_y=True, **factors)
    same(peer_map, xt.DiceCELoss(from_logits="softmax", to_onehot_y=True, **factors), logits,
         label_map)  # fmt: skip
    options = [({"label_smoothing": 0.1}, {"label_smoothing": 0.1}), ({"batch": True},) * 2,
               ({"squared_pred": True}, {"squared": True}), ({"include_background": False},) * 2,
               ({"smooth_nr": 0.5, "smooth_dr": 2.0},) * 2]  # fmt: skip
    for theirs, mine in options:
        peer = monai.DiceCELoss(softmax=True, **theirs)
        same(peer, xt.DiceCELoss(from_logits="softmax", **mine), logits, target, labels)


@row("`DiceCELoss(sigmoid=True)`, C > 1", [(3, "sigmoid")])
def _dice_ce_sigmoid_classes(channels, act):
    """MONAI's CE term is the softmax cross-entropy of the logits whatever the activation;
    xploss's sigmoid takes the binary cross-entropy of each channel."""
    logits, labels = data(channels, 9, act)
    target = dense(labels, channels)
    peer = monai.DiceCELoss(sigmoid=True)

    def monai_value(x, y):
        return xt.DiceLoss(from_logits=True)(x, y) + xt.CrossEntropyLoss(from_logits=True)(x, y)

    same(peer, monai_value, logits, target)
    ours = xt.DiceCELoss(from_logits=True)
    binary = xt.DiceLoss(from_logits=True)(logits, target) + F.binary_cross_entropy_with_logits(
        logits, target
    )
    torch.testing.assert_close(ours(logits, target), binary)
    assert differs(ours(logits, target), peer(logits, target))


@row("`DiceCELoss(weight=w)`", [(1, "sigmoid"), (3, "softmax")])
def _dice_ce_weight(channels, act):
    logits, labels = data(channels, 20, act)
    target, label_map = dense(labels, channels), labels[:, None].to(torch.float64)
    if channels == 1:  # MONAI passes its weight to the BCE as pos_weight
        w = torch.tensor([3.0], dtype=torch.float64)
        peer = monai.DiceCELoss(sigmoid=True, weight=w)
        bce = xt.BinaryCrossEntropyLoss(from_logits=True, pos_weight=w)
        same(peer, lambda x, y: xt.DiceLoss(from_logits=True)(x, y) + bce(x, y), logits, target)
        return
    w = torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64)
    dice = xt.DiceLoss(from_logits="softmax", weight=w)
    cross_entropy = xt.CrossEntropyLoss(from_logits=True, weight=w)
    peer = monai.DiceCELoss(softmax=True, to_onehot_y=True, weight=w)
    same(peer, lambda x, y: w.mean() * dice(x, y) + cross_entropy(x, y), logits, label_map, labels)
    # the one-hot target: PyTorch's probability-target mean, ours times mean(w_i)
    peer = monai.DiceCELoss(softmax=True, weight=w)

    def onehot(x, y):
        return w.mean() * dice(x, y) + cross_entropy(x, y) * w[labels].mean()

    same(peer, onehot, logits, target)
    assert differs(xt.DiceCELoss(from_logits="softmax", weight=w)(logits, labels),
                   peer(logits, target))  # fmt: skip


# MONAI's FocalLoss and DeepSupervisionLoss cast their input to float32 (``input.float()``)
FLOAT32 = {"rtol": 1e-6, "atol": 1e-8}


@row("`DiceFocalLoss(sigmoid=True, gamma=g, alpha=a, lambda_dice=b, lambda_focal=c)`",
     [(1, "sigmoid"), (3, "sigmoid")])  # fmt: skip
def _dice_focal(channels, act):
    logits, labels = data(channels, 21, act)
    target = dense(labels, channels)
    options = {"gamma": 1.5, "alpha": 0.3, "lambda_dice": 1.3, "lambda_focal": 0.7}
    peer = monai.DiceFocalLoss(sigmoid=True, **options)
    ours = xt.DiceFocalLoss(from_logits=True, **options)
    same(peer, ours, logits, target, labels, **FLOAT32)
    if channels == 1:
        return
    for extra in ({"batch": True}, {"include_background": False}):
        peer = monai.DiceFocalLoss(sigmoid=True, **options, **extra)
        same(peer, xt.DiceFocalLoss(from_logits=True, **options, **extra), logits, target,
             **FLOAT32)  # fmt: skip
    w = [0.5, 1.0, 4.0]
    peer = monai.DiceFocalLoss(sigmoid=True, weight=w)
    same(peer, xt.DiceFocalLoss(from_logits=True, weight=w), logits, target,
         scale=float(np.mean(w)), **FLOAT32)  # fmt: skip


@row("`DiceFocalLoss(softmax=True)`, C > 1", [(3, "softmax")])
def _dice_focal_softmax(channels, act):
    """MONAI's DiceFocalLoss has no use_softmax: its focal term stays a sigmoid one."""
    logits, labels = data(channels, 22, act)
    target = dense(labels, channels)
    peer = monai.DiceFocalLoss(softmax=True)

    def value(x, y):
        return xt.DiceLoss(from_logits="softmax")(x, y) + xt.FocalLoss(from_logits=True)(x, y)

    same(peer, value, logits, target, **FLOAT32)
    assert differs(xt.DiceFocalLoss(from_logits="softmax")(logits, labels), peer(logits, target))


@row("`GeneralizedDiceFocalLoss(sigmoid=True, w_type=t, lambda_gdl=b, lambda_focal=c)`",
     [(1, "sigmoid"), (3, "sigmoid"), (3, "softmax")])  # fmt: skip
def _generalized_dice_focal(channels, act):
    logits, labels = data(channels, 23, act)
    target = dense(labels, channels)
    if act == "softmax":  # the focal term stays a sigmoid one, as in DiceFocalLoss
        peer = monai.GeneralizedDiceFocalLoss(softmax=True)
        generalized = xt.GeneralizedDiceLoss(from_logits="softmax")
        focal = xt.FocalLoss(from_logits=True)
        same(peer, lambda x, y: generalized(x, y) + focal(x, y), logits, target,
             **FLOAT32)  # fmt: skip
        return
    for w_type in ("square", "simple", "uniform"):
        for batch in (False, True):
            peer = monai.GeneralizedDiceFocalLoss(
                sigmoid=True, w_type=w_type, batch=batch, lambda_gdl=1.3, lambda_focal=0.7
            )
            ours = xt.GeneralizedDiceFocalLoss(
                from_logits=True, weight_type=w_type, batch=batch, lambda_dice=1.3,
                lambda_focal=0.7,
            )  # fmt: skip
            same(peer, ours, logits, target, labels, **FLOAT32)
    if channels > 1:
        peer = monai.GeneralizedDiceFocalLoss(sigmoid=True, include_background=False)
        ours = xt.GeneralizedDiceFocalLoss(from_logits=True, include_background=False)
        same(peer, ours, logits, target, **FLOAT32)
        w = [0.5, 1.0, 4.0]
        peer = monai.GeneralizedDiceFocalLoss(sigmoid=True, weight=w, lambda_focal=0.7)
        ours = xt.GeneralizedDiceFocalLoss(from_logits=True, weight=w,
                                           lambda_focal=0.7 * float(np.mean(w)))  # fmt: skip
        same(peer, ours, logits, target, **FLOAT32)


@row("`FocalLoss(gamma=g, alpha=a)`", [(1, "sigmoid"), (3, "sigmoid")])
def _focal_sigmoid(channels, act):
    logits, labels = data(channels, 24, act)
    target = dense(labels, channels)
    for options in ({}, {"gamma": 1.5, "alpha": 0.3}, {"gamma": 0.0, "alpha": 0.8}):
        peer = monai.FocalLoss(**options)
        same(peer, xt.FocalLoss(from_logits=True, **options), logits, target, labels,
             **FLOAT32)  # fmt: skip
    if channels == 1:
        return
    peer = monai.FocalLoss(include_background=False, gamma=1.5)
    same(peer, xt.FocalLoss(from_logits=True, include_background=False, gamma=1.5), logits,
         target, **FLOAT32)  # fmt: skip
    w = [0.5, 1.0, 4.0]
    same(monai.FocalLoss(weight=w), xt.FocalLoss(from_logits=True, weight=w), logits, target,
         scale=float(np.mean(w)), **FLOAT32)  # fmt: skip
    # a sequence alpha weighs only the positives of each class in MONAI
    sequence = monai.FocalLoss(alpha=[0.2, 0.5, 0.9])(logits, target)
    assert differs(xt.FocalLoss(from_logits=True, alpha=[0.2, 0.5, 0.9])(logits, target),
                   sequence)  # fmt: skip


@row("`FocalLoss(use_softmax=True, gamma=g, alpha=a)`", [(3, "softmax")])
def _focal_softmax(channels, act):
    logits, labels = data(channels, 25, act)
    target = dense(labels, channels)
    for gamma, a in ((2.0, None), (1.5, 0.3)):
        peer = monai.FocalLoss(use_softmax=True, gamma=gamma, alpha=a)
        alpha = None if a is None else (1 - a, a, a)
        ours = xt.FocalLoss(from_logits="softmax", gamma=gamma, alpha=alpha)
        same(peer, ours, logits, target, labels, scale=1 / channels, **FLOAT32)
    w = [0.5, 1.0, 4.0]
    peer = monai.FocalLoss(use_softmax=True, weight=w)
    same(peer, xt.FocalLoss(from_logits="softmax", alpha=w), logits, target, labels,
         scale=1 / channels, **FLOAT32)  # fmt: skip


@row("`FocalLoss(use_softmax=True, include_background=False)`", [(3, "softmax")])
def _focal_softmax_without_background(channels, act):
    """MONAI drops channel 0 before its softmax; xploss keeps it in the softmax."""
    logits, labels = data(channels, 26, act)
    target = dense(labels, channels)
    peer = monai.FocalLoss(use_softmax=True, include_background=False)

    def dropped(x, y):
        return xt.FocalLoss(from_logits="softmax")(x[:, 1:], y[:, 1:]) / (channels - 1)

    same(peer, dropped, logits, target, **FLOAT32)
    ours = xt.FocalLoss(from_logits="softmax", include_background=False)(logits, labels)
    assert differs(ours / channels, peer(logits, target))


@row('`DeepSupervisionLoss(loss, weight_mode="exp")`', [(3, "softmax")])
def _deep_supervision(channels, act):
    """Three outputs, a label map resized by nearest-exact in both; MONAI accumulates the
    terms in float32."""
    generator = torch.Generator().manual_seed(27)
    outputs = [torch.randn(2, channels, 12 // 2**i, 10 // 2**i + 1, generator=generator,
                           dtype=torch.float64) for i in range(3)]  # fmt: skip
    labels = torch.randint(0, channels, (2, 12, 11), generator=generator)
    label_map = labels[:, None].to(torch.float64)
    modes = {"exp": (1, 0.5, 0.25), "same": (1, 1, 1), "two": (1, 0.5, 0.5)}
    for mode, weights in modes.items():
        term = monai.DiceCELoss(softmax=True, to_onehot_y=True)
        peer = monai.DeepSupervisionLoss(term, weight_mode=mode)
        ours = xt.DeepSupervisionLoss(xt.DiceCELoss(from_logits="softmax"), weights=weights)
        theirs_in = [x.clone().requires_grad_(True) for x in outputs]
        ours_in = [x.clone().requires_grad_(True) for x in outputs]
        theirs, got = peer(theirs_in, label_map), ours(ours_in, labels)
        torch.testing.assert_close(got, theirs.to(got.dtype), **FLOAT32)
        theirs.backward()
        got.backward()
        for a, b in zip(ours_in, theirs_in, strict=True):
            torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-8)
    # MONAI's "exp" floors at 1/16 from the sixth output on
    sizes = [torch.randn(1, channels, 2 ** (6 - i), 2 ** (6 - i), generator=generator)
             for i in range(6)]  # fmt: skip
    labels = torch.randint(0, channels, (1, 64, 64), generator=generator)
    peer = monai.DeepSupervisionLoss(monai.DiceCELoss(softmax=True, to_onehot_y=True))
    weights = [max(0.5**i, 1 / 16) for i in range(6)]
    ours = xt.DeepSupervisionLoss(xt.DiceCELoss(from_logits="softmax"), weights=weights)
    torch.testing.assert_close(ours(sizes, labels), peer(sizes, labels[:, None].float()),
                               **FLOAT32)  # fmt: skip


@row("`DiceLoss(jaccard=True, smooth_nr=a, smooth_dr=b)`")
def _jaccard(channels, act):
    logits, labels = data(channels, 10, act)
    theirs, ours = activation(channels, act)
    for smooth in (1e-5, 1.0):
        peer = monai.DiceLoss(**theirs, jaccard=True, smooth_nr=smooth, smooth_dr=smooth)
        half = xt.JaccardLoss(**ours, smooth_nr=smooth / 2, smooth_dr=smooth / 2)
        same(peer, half, logits, dense(labels, channels))


@row("`TverskyLoss(alpha=a, beta=b)`")
def _tversky(channels, act):
    logits, labels = data(channels, 11, act)
    options = {"alpha": 0.3, "beta": 0.7}
    pair = dice_pair(channels, act, options, options, "TverskyLoss")
    same(*pair, logits, dense(labels, channels))


@row("`soft_label=True` (Dice, Tversky)")
def _soft_label(channels, act):
    logits, labels = data(channels, 12, act)
    soft = dense(labels, channels) * 0.8 + 0.1  # label smoothing
    for name in ("DiceLoss", "TverskyLoss"):
        options = {"soft_label": True}
        same(*dice_pair(channels, act, options, options, name), logits, soft)


@row("`GeneralizedDiceLoss(include_background=False)`")
def _generalized_dice_without_background(channels, act):
    logits, labels = data(channels, 13, act)
    theirs, ours = activation(channels, act)
    peer = monai.GeneralizedDiceLoss(**theirs, include_background=False)
    with warns_if(channels == 1, "include_background=False is ignored"):
        pair = (peer, xt.GeneralizedDiceLoss(**ours, include_background=False))
        same(*pair, logits, dense(labels, channels), rtol=MONAI_GDL_RTOL)


@row('`reduction="none"`: `(B, C, 1, 1)`')
def _reduction_none(channels, act):
    logits, labels = data(channels, 17, act)
    target = dense(labels, channels)
    peer, ours = dice_pair(channels, act, {"reduction": "none"}, {"reduction": "none"})
    theirs, got = peer(logits, target), ours(logits, target)
    assert theirs.shape == (2, channels, 1, 1) and got.shape == (2, channels)
    torch.testing.assert_close(got, theirs[:, :, 0, 0])


@row(
    "`(B, C)` input (no spatial axis): one Dice of everything, since `torch.sum` over no "
    "dimension sums them all"
)
def _no_spatial_axis(channels, act):
    logits, labels = data(channels, 18, act)
    flat, target = logits[:, :, 0, 0], dense(labels, channels)[:, :, 0, 0]
    theirs, ours = activation(channels, act)
    got = xt.DiceLoss(**ours)(flat, target)
    batch = xt.DiceLoss(**ours, batch=True)(flat[..., None], target[..., None])
    torch.testing.assert_close(got, batch)  # one Dice per class over the batch
    pooled = monai.DiceLoss(**theirs)(flat, target)
    if channels == 1:
        torch.testing.assert_close(got, pooled)
    else:  # MONAI pools every entry, of every class, into one Dice
        p = torch.sigmoid(flat) if act == "sigmoid" else torch.softmax(flat, 1)
        smooth = 1e-5
        one = 1 - (2 * (target * p).sum() + smooth) / (target.sum() + p.sum() + smooth)
        torch.testing.assert_close(pooled, one)
        assert differs(got, pooled)


@row("`GeneralizedDiceLoss(soft_label=True)`")
def _generalized_dice_soft_label(channels, act):
    """No equivalent yet: the same values for 0/1 targets, others for soft targets."""
    logits, labels = data(channels, 14, act)
    theirs, ours = activation(channels, act)
    peer = monai.GeneralizedDiceLoss(**theirs, soft_label=True)
    target = dense(labels, channels)
    same(peer, xt.GeneralizedDiceLoss(**ours), logits, target, rtol=MONAI_GDL_RTOL)
    soft = target * 0.8 + 0.1
    assert differs(xt.GeneralizedDiceLoss(**ours)(logits, soft), peer(logits, soft))


@row("`other_act=f`")
def _other_act(channels, act):
    logits, labels = data(channels, 15, act)
    target = dense(labels, channels)

    def act_fn(z):
        return torch.sigmoid(2 * z)

    peer = monai.DiceLoss(other_act=act_fn)
    same(peer, lambda z, y: xt.DiceLoss()(act_fn(z), y), logits, target)


@row('`DiceMetric(ignore_empty=False, reduction="none")` on binarised predictions')
def _dice_metric(channels, act):
    metrics = pytest.importorskip("monai.metrics")
    logits, labels = data(channels, 16, act)
    labels[1] = 0  # a second image without foreground: classes absent from the reference
    target = dense(labels, channels)
    if act == "softmax" and channels > 1:
        hard = dense(logits.argmax(1), channels)
    else:
        hard = (logits > (0 if act == "sigmoid" else 0.5)).to(torch.float64)
    theirs = metrics.DiceMetric(ignore_empty=False, reduction="none")(hard, target)
    ours = xploss.dice_coefficient(
        target, hard, axis=(2, 3), class_axis=1, smooth_nr=0, smooth_dr=0, reduction="none"
    )
    torch.testing.assert_close(ours, theirs.to(ours.dtype))  # MONAI's metric is float32
    # MONAI's default, ignore_empty=True, is NaN wherever the reference is empty, false
    # positives or not; xploss's zero_division is only the value of 0/0
    nan = metrics.DiceMetric(reduction="none")(hard, target).to(ours.dtype)
    empty = target.sum((2, 3)) == 0
    assert nan[empty].isnan().all() and not nan[~empty].isnan().any()
    torch.testing.assert_close(nan[~empty], ours[~empty])
    assert (ours[empty] == 0).any()  # false positives on an absent class: Dice 0, not NaN


@row("`torch.compile(fullgraph=True)` fails (`torch.arange(...).tolist()`)", [(3, "softmax")])
def _compile(channels, act):
    """Compiling is slow: tests/test_torch.py compiles every module with fullgraph=True."""
    tree = ast.parse((ROOT / "tests" / "test_torch.py").read_text())
    names = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "test_modules_compile_with_fullgraph" in names


@row("float16 on a 512×512 image: NaN", [(1, "sigmoid")])
def _float16(channels, act):
    logits = torch.full((1, 1, 512, 512), 4.0, dtype=torch.float16)
    target = torch.ones(1, 1, 512, 512, dtype=torch.float16)
    assert monai.DiceLoss(sigmoid=True)(logits, target).isnan()
    ours = xt.DiceLoss(from_logits=True)(logits, target)
    assert ours.isfinite() and float(ours) < 0.02


def ident(key: str) -> str:
    return re.sub(r"[^\w=.]+", "-", key).strip("-")


def test_every_row_of_the_monai_table_has_a_check():
    rows = [cells[0] for cells in table_after("**From MONAI.**")]
    assert len(rows) == len(set(rows))
    assert set(rows) == set(MONAI)


@pytest.mark.parametrize(
    ("key", "channels", "act"),
    [
        pytest.param(key, c, a, id=f"{ident(key)}-C{c}-{a}")
        for key, (_, cases) in MONAI.items()
        for c, a in cases
    ],
)
def test_the_monai_row_holds(key, channels, act):
    check, _ = MONAI[key]
    check(channels, act)


# ---- the "From optax" table: both columns evaluated ------------------------------------------
def optax_rows() -> list[tuple[str, str, tuple[int, ...]]]:
    """``(optax code, xploss code, channels)`` of each row; "C > 1" or "C = 1" in the first cell
    restricts the row to those channel counts."""
    rows = []
    for first, second in table_after("**From optax.**"):
        channels = (3,) if "C > 1" in first else (1,) if "C = 1" in first else (1, 3)
        rows.append((code_spans(first)[0], code_spans(second)[0], channels))
    return rows


def optax_inputs(channels: int) -> dict:
    jax = pytest.importorskip("jax")
    generator = np.random.default_rng(channels)
    logits = generator.normal(size=(2, 5, 6, channels))
    classes = max(channels, 2)
    labels = generator.integers(0, classes, size=(2, 5, 6))
    labels[:, 0, :classes] = np.arange(classes)
    onehot = np.eye(classes)[labels][..., -channels:]  # C = 1: the mask of class 1
    jnp = jax.numpy
    return {
        "logits": jnp.asarray(logits, jnp.float32),
        "onehot": jnp.asarray(onehot, jnp.float32),
        "labels": jnp.asarray(labels),
        "s": 0.5,
        "a": 0.3,
        "b": 0.7,
        "w": jnp.asarray([0.5, 1.0, 4.0][:channels], jnp.float32),
    }


def test_the_optax_table_has_its_rows():
    rows = optax_rows()
    assert len(rows) >= 6 and all(code.startswith("optax.losses.") for code, _, _ in rows)
    assert {c for _, _, channels in rows for c in channels} == {1, 3}


@pytest.mark.parametrize(
    ("optax_code", "xploss_code", "channels"),
    [
        pytest.param(theirs, ours, c, id=f"{ident(theirs)}-C{c}")
        for theirs, ours, cases in optax_rows()
        for c in cases
    ],
)
def test_the_optax_row_holds(optax_code, xploss_code, channels):
    optax = pytest.importorskip("optax")
    names = {"optax": optax, "xploss": xploss, **optax_inputs(channels)}
    theirs = eval(optax_code, names)
    ours = eval(xploss_code, names)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-6, atol=1e-7)


def test_optax_on_one_channel_is_a_sigmoid_not_a_softmax():
    optax = pytest.importorskip("optax")
    names = optax_inputs(1)
    logits, onehot = names["logits"], names["onehot"]
    theirs = optax.losses.dice_loss(logits, onehot, smooth=0.5)
    with pytest.warns(UserWarning, match="single channel"):
        constant = xploss.dice_loss(
            onehot, logits, axis=(1, 2), from_logits="softmax", smooth_nr=1, smooth_dr=1,
            reduction="per_sample",
        )  # fmt: skip
    assert np.abs(np.asarray(constant) - np.asarray(theirs)).max() > 1e-3


# ---- "Distributed training": who takes all_reduce= -------------------------------------------
def test_who_takes_all_reduce_as_the_readme_says():
    import inspect

    def takes(f) -> bool:
        return "all_reduce" in inspect.signature(f).parameters

    functions = [n for n in xploss.__all__ if n.islower() and callable(getattr(xploss, n))]
    without = {"binary_cross_entropy", "overlap_stats", "deep_supervision_loss",
               "lovasz_hinge_loss", "lovasz_softmax_loss", "boundary_loss", "hausdorff_dt_loss",
               "distance_transform", "signed_distance_map"}  # fmt: skip
    assert all(takes(getattr(xploss, n)) for n in functions if n not in without)
    assert not any(takes(getattr(xploss, n)) for n in without)
    torch_without = {"BinaryCrossEntropyLoss", "DeepSupervisionLoss", "LovaszHingeLoss",
                     "LovaszSoftmaxLoss", "BoundaryLoss", "HausdorffDTLoss"}  # fmt: skip
    torch_losses = [n for n in xt.__all__ if n.endswith("Loss") and n not in torch_without]
    assert torch_losses and all(takes(getattr(xt, n)) for n in torch_losses)
    assert not any(takes(getattr(xt, n)) for n in xt.__all__ if n[0].isupper() and n not in
                   torch_losses)  # fmt: skip
    # deep supervision passes it on to its loss: each scale's Dice is the global one
    generator = np.random.default_rng(4)
    labels = generator.integers(0, 3, (4, 8, 8))
    outputs = [generator.normal(size=(4, 8 // 2**i, 8 // 2**i, 3)) for i in range(2)]
    halves = []

    def sums_in_halves(stats):
        halves.append(stats)
        return stats

    xploss.deep_supervision_loss(xploss.dice_loss, labels, outputs, axis=(0, 1, 2),
                                 from_logits="softmax", all_reduce=sums_in_halves)  # fmt: skip
    assert len(halves) == 2
    pytest.importorskip("flax")
    import xploss.jax as xj

    flax_metrics = ["DiceCoefficient", "JaccardIndex", "TruePositiveRate", "Precision"]
    assert all(takes(getattr(xj, n)) for n in flax_metrics)


@pytest.mark.parametrize("name", ["DiceCoefficient", "TruePositiveRate"])
@pytest.mark.parametrize("num_classes", [None, 3])
def test_flax_metrics_sum_each_batch_over_a_mapped_axis(name, num_classes):
    """Two mapped devices, each with half the batch: with ``all_reduce`` both hold the global
    sums and compute the value of the whole batch; without it, each its own half's."""
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    import xploss.jax as xj

    generator = np.random.default_rng(3)
    channels = num_classes or 1
    probabilities = jax.numpy.asarray(generator.random((4, 5, 6, channels)), jax.numpy.float32)
    labels = jax.numpy.asarray(generator.integers(0, 2, (4, 5, 6, channels)), jax.numpy.float32)
    whole = getattr(xj, name)(num_classes=num_classes)
    whole.update(logits=probabilities, labels=labels)
    shards = [x.reshape(2, 2, 5, 6, channels) for x in (probabilities, labels)]

    def per_device(metric):
        graphdef, state = nnx.split(metric)

        def step(state, p, y):
            device = nnx.merge(graphdef, state)
            device.update(logits=p, labels=y, loss=0.0)  # MultiMetric's extra keywords
            return device.compute()

        return jax.vmap(step, in_axes=(None, 0, 0), axis_name="batch")(state, *shards)

    synced = getattr(xj, name)(num_classes=num_classes, all_reduce=xj.all_reduce("batch"))
    np.testing.assert_allclose(per_device(synced), [whole.compute()] * 2, rtol=1e-6)
    local = per_device(getattr(xj, name)(num_classes=num_classes))
    assert np.abs(np.asarray(local) - float(whole.compute())).max() > 1e-3
    with pytest.raises(TypeError, match=rf"{name}\(all_reduce="):
        whole.update(logits=probabilities, labels=labels, all_reduce=xj.all_reduce("batch"))


# ---- the "From segmentation_models_pytorch" table: both columns evaluated --------------------
def smp_rows() -> list[tuple[str, str]]:
    return [
        (code_spans(a)[0], code_spans(b)[0])
        for a, b in table_after("**From segmentation_models_pytorch**")
    ]


def test_the_smp_table_has_its_rows():
    losses = {re.match(r"smp\.losses\.(\w+)\(", code).group(1) for code, _ in smp_rows()}
    assert losses == {"DiceLoss", "JaccardLoss", "FocalLoss", "SoftCrossEntropyLoss"}


@pytest.mark.parametrize(("smp_code", "xploss_code"), smp_rows(), ids=[a for a, _ in smp_rows()])
def test_the_smp_row_holds(smp_code, xploss_code):
    import importlib
    import types

    from tests.test_torch import _smp_losses

    _smp_losses()
    losses = types.SimpleNamespace(
        DiceLoss=importlib.import_module("_smp_losses.dice").DiceLoss,
        JaccardLoss=importlib.import_module("_smp_losses.jaccard").JaccardLoss,
        FocalLoss=importlib.import_module("_smp_losses.focal").FocalLoss,
        SoftCrossEntropyLoss=importlib.import_module("_smp_losses.soft_ce").SoftCrossEntropyLoss,
    )
    mode = re.search(r'mode="(\w+)"', smp_code)
    mode = "multiclass" if mode is None else mode.group(1)  # SoftCrossEntropyLoss: indices
    channels = 1 if mode == "binary" else 3
    logits, labels = data(channels, 17, "sigmoid")  # every class in the batch
    target = labels if mode == "multiclass" else dense(labels, channels)
    for s in (0.0, 0.1, 1.0):
        names = {"smp": types.SimpleNamespace(losses=losses), "xt": xt, "s": s, "a": 0.3,
                 "g": 1.5, "w": [0.5, 1.0, 4.0]}  # fmt: skip
        same(eval(smp_code, names), eval(xploss_code, names), logits, target)


def test_smp_soft_cross_entropy_counts_the_ignored_elements():
    """The README's note on ``SoftCrossEntropyLoss(ignore_index=i)``: smp's mean divides by every
    element, the ignored ones too."""
    from tests.test_torch import _smp_losses

    _smp_losses()
    import importlib

    soft_ce = importlib.import_module("_smp_losses.soft_ce").SoftCrossEntropyLoss
    logits, labels = data(3, 28, "softmax")
    theirs = soft_ce(smooth_factor=0.1, ignore_index=2)(logits, labels)
    ours = xt.CrossEntropyLoss(from_logits=True, label_smoothing=0.1, ignore_index=2)
    kept = (labels != 2).to(logits.dtype).mean()
    torch.testing.assert_close(ours(logits, labels) * kept, theirs)


# ---- the "From PyTorch, torchvision and nnU-Net" table: both columns evaluated ---------------
# torchvision's sigmoid_focal_loss (torchvision/ops/focal_loss.py, BSD-3-Clause) and nnU-Net v2's
# Dice + CE and deep supervision (nnunetv2/training/loss/, Apache-2.0), as published: a
# torchvision build matches one torch build only, and nnunetv2 pulls in its whole training stack,
# so neither is a test dependency. Only the logging call and the DDP gather (ddp=False) are left
# out.
def published_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    return loss


class MemoryEfficientSoftDiceLoss(torch.nn.Module):
    def __init__(self, apply_nonlin=None, batch_dice=False, do_bg=True, smooth=1.0, ddp=True):
        super().__init__()
        self.do_bg, self.batch_dice, self.apply_nonlin = do_bg, batch_dice, apply_nonlin
        self.smooth, self.ddp = smooth, ddp

    def forward(self, x, y, loss_mask=None):
        shp_x, shp_y = x.shape, y.shape
        if self.apply_nonlin is not None:
            x = self.apply_nonlin(x)
        if not self.do_bg:
            x = x[:, 1:]
        axes = list(range(2, len(shp_x)))
        with torch.no_grad():
            if len(shp_x) != len(shp_y):
                shp_y = (shp_y[0], 1, *shp_y[1:])
                y = y.view(shp_y)
            if all(i == j for i, j in zip(shp_x, shp_y, strict=True)):
                y_onehot = y
            else:
                gt = y.long()
                y_onehot = torch.zeros(shp_x, device=x.device, dtype=torch.bool)
                y_onehot.scatter_(1, gt, 1)
            if not self.do_bg:
                y_onehot = y_onehot[:, 1:]
            sum_gt = y_onehot.sum(axes) if loss_mask is None else (y_onehot * loss_mask).sum(axes)
        intersect = (x * y_onehot).sum(axes) if loss_mask is None else (
            x * y_onehot * loss_mask).sum(axes)  # fmt: skip
        sum_pred = x.sum(axes) if loss_mask is None else (x * loss_mask).sum(axes)
        if self.batch_dice:
            intersect, sum_pred, sum_gt = intersect.sum(0), sum_pred.sum(0), sum_gt.sum(0)
        dc = (2 * intersect + self.smooth) / (torch.clip(sum_gt + sum_pred + self.smooth, 1e-8))
        return -dc.mean()


class RobustCrossEntropyLoss(torch.nn.CrossEntropyLoss):
    def forward(self, input, target):
        if len(target.shape) == len(input.shape):
            assert target.shape[1] == 1
            target = target[:, 0]
        return super().forward(input, target.long())


class DC_and_CE_loss(torch.nn.Module):
    def __init__(self, soft_dice_kwargs, ce_kwargs, weight_ce=1, weight_dice=1,
                 ignore_label=None, dice_class=None):  # fmt: skip
        super().__init__()
        if ignore_label is not None:
            ce_kwargs["ignore_index"] = ignore_label
        self.weight_dice, self.weight_ce, self.ignore_label = weight_dice, weight_ce, ignore_label
        self.ce = RobustCrossEntropyLoss(**ce_kwargs)
        self.dc = dice_class(apply_nonlin=lambda x: torch.softmax(x, 1), **soft_dice_kwargs)

    def forward(self, net_output, target):
        if self.ignore_label is not None:
            mask = (target != self.ignore_label).float()
            target_dice = torch.clone(target)
            target_dice[target == self.ignore_label] = 0
            num_fg = mask.sum()
        else:
            target_dice, mask = target, None
        dc_loss = self.dc(net_output, target_dice, loss_mask=mask) if self.weight_dice != 0 else 0
        ce_loss = self.ce(net_output, target[:, 0]) if self.weight_ce != 0 and (
            self.ignore_label is None or num_fg > 0) else 0  # fmt: skip
        return self.weight_ce * ce_loss + self.weight_dice * dc_loss


class DeepSupervisionWrapper(torch.nn.Module):
    def __init__(self, loss, weight_factors=None):
        super().__init__()
        self.weight_factors, self.loss = weight_factors, loss

    def forward(self, *args):
        weights = [1] * len(args[0]) if self.weight_factors is None else self.weight_factors
        total = weights[0] * self.loss(*[j[0] for j in args])
        for i, inputs in enumerate(zip(*args, strict=True)):
            if i == 0:
                continue
            total += weights[i] * self.loss(*inputs)
        return total


def nnunet_targets(labels: torch.Tensor, scales: list[float]) -> list[torch.Tensor]:
    """The label maps nnU-Net's data loader makes for the outputs (batchgeneratorsv2's
    ``DownsampleSegForDSTransform``, one image at a time)."""
    seg = labels[:, None].to(torch.float64)
    results = []
    for s in scales:
        if s == 1:
            results.append(seg)
            continue
        shape = [round(i * s) for i in seg.shape[2:]]
        images = [F.interpolate(image[None].float(), shape, mode="nearest-exact")[0]
                  for image in seg]  # fmt: skip
        results.append(torch.stack(images).to(seg.dtype))
    return results


def peer_rows() -> list[tuple[str, str]]:
    return [
        (code_spans(a)[0], code_spans(b)[0])
        for a, b in table_after("**From PyTorch, torchvision and nnU-Net.**")
    ]


def test_the_pytorch_table_has_its_rows():
    peers = " ".join(code for code, _ in peer_rows())
    for name in ("F.cross_entropy(x, labels", "F.cross_entropy(x, onehot", "pos_weight=",
                 "sigmoid_focal_loss(", "DC_and_CE_loss(", "DeepSupervisionWrapper("):  # fmt: skip
        assert name in peers


def peer_names(channels: int, seed: int) -> dict:
    """The README's names: logits at three scales, labels with every class, nnU-Net's targets and
    deep supervision weights (its trainer's: 1/2^i, the lowest resolution 0, normalised)."""
    generator = torch.Generator().manual_seed(seed)
    xs = [torch.randn(2, channels, 12 // 2**i, 8 // 2**i, generator=generator,
                      dtype=torch.float64) for i in range(3)]  # fmt: skip
    labels = torch.randint(0, channels, (2, 12, 8), generator=generator)
    labels[:, 0, :channels] = torch.arange(channels)
    weights = np.array([1 / (2**i) for i in range(3)])
    weights[-1] = 0
    weights = weights / weights.sum()
    try:
        from torchvision.ops import sigmoid_focal_loss
    except Exception:  # not installed, or built for another torch
        sigmoid_focal_loss = published_sigmoid_focal_loss
    return {
        "F": F, "xt": xt, "x": xs[0], "xs": xs, "labels": labels,
        "onehot": F.one_hot(labels, channels).movedim(-1, 1).to(torch.float64),
        "w": torch.tensor([0.5, 1.0, 4.0, 2.0][:channels], dtype=torch.float64),
        "p": torch.tensor([2.0, 0.5, 3.0, 1.5][:channels], dtype=torch.float64),
        "i": 1, "a": 0.3, "g": 1.5, "e": 0.1, "sigmoid_focal_loss": sigmoid_focal_loss,
        "DC_and_CE_loss": DC_and_CE_loss, "MemoryEfficientSoftDiceLoss":
        MemoryEfficientSoftDiceLoss, "DeepSupervisionWrapper": DeepSupervisionWrapper,
        "targets": nnunet_targets(labels, [1, 0.5, 0.25]), "weights": list(weights),
    }  # fmt: skip


@pytest.mark.parametrize(("channels", "seed"), [(3, 0), (4, 1)])
@pytest.mark.parametrize(("peer_code", "xploss_code"), peer_rows(), ids=[a[:60] for a, _ in
                                                                        peer_rows()])  # fmt: skip
def test_the_pytorch_row_holds(peer_code, xploss_code, channels, seed):
    """Both columns on the same logits, each with its own leaf copies: values and gradients."""
    names = peer_names(channels, seed)
    results = []
    for code in (peer_code, xploss_code):
        xs = [x.clone().requires_grad_(True) for x in names["xs"]]
        value = eval(code, {**names, "x": xs[0], "xs": xs})
        value.sum().backward()
        results.append((value, [x.grad for x in xs]))
    (theirs, their_grads), (ours, our_grads) = results
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-12)
    compared = 0
    for a, b in zip(our_grads, their_grads, strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-12)
            compared += 1
    assert compared >= 1
