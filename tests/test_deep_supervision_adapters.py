"""Deep supervision's label-map rule through every adapter.

MONAI's label map is a float ``(B, 1, *spatial)`` tensor of class indices. Beside outputs of
several classes ``mode="auto"`` resizes it as labels (nearest-exact), never by block averages,
and so do floating class indices (``(B, *spatial)``, what a Keras target becomes). The core
``deep_supervision_loss``, ``xploss.torch.DeepSupervisionLoss`` and
``xploss.keras.DeepSupervisionLoss`` then agree with MONAI's ``DeepSupervisionLoss`` and with
the same labels as integer class indices. A soft single channel is still averaged.

The Keras class runs on this process' Keras backend; keras_entropy_checks.py runs it on each.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from monai import losses as monai

import xploss
import xploss.torch as xt

# Sizes that are no multiple of each other: nearest-exact resizing (block averages of labels
# would fail on them, or give non-integral class indices on multiples).
SIZES = [(12, 13), (6, 7), (3, 3)]
CLASSES = 3
WEIGHTS = (1.0, 0.5, 0.25)  # MONAI's weight_mode="exp" for three outputs
# MONAI casts each output to float32 and sums in float32.
F32 = {"rtol": 2e-5, "atol": 2e-6}


def channels_first_case() -> tuple[list[np.ndarray], np.ndarray]:
    """Logits ``(B, C, *size)`` at every scale and integer class indices ``(B, *SIZES[0])``."""
    rng = np.random.default_rng(7)
    outputs = [rng.normal(0.0, 2.0, size=(2, CLASSES, *size)) for size in SIZES]
    return outputs, rng.integers(0, CLASSES, size=(2, *SIZES[0]))


@functools.cache
def monai_value() -> float:
    """MONAI's ``DeepSupervisionLoss(DiceCELoss(softmax=True, to_onehot_y=True))`` of the float
    label map: the reference every adapter is held to."""
    outputs, indices = channels_first_case()
    label_map = torch.from_numpy(indices[:, None].astype(np.float64))
    inner = monai.DiceCELoss(softmax=True, to_onehot_y=True)
    loss = monai.DeepSupervisionLoss(inner, weights=list(WEIGHTS))
    return float(loss([torch.from_numpy(o) for o in outputs], label_map))


def assert_monai(value: object) -> None:
    np.testing.assert_allclose(float(value), monai_value(), **F32)  # type: ignore[arg-type]


def label_map_dice_ce(y_true, y_pred, *, class_axis, **options):
    """``xploss.dice_ce_loss`` of a label map, whose size-1 class axis it drops first (the core
    reads class indices without the class axis)."""
    indices = y_true[:, 0, ...] if class_axis == 1 else y_true[..., 0]
    return xploss.dice_ce_loss(indices, y_pred, class_axis=class_axis, **options)


@pytest.mark.parametrize("channels_first", [True, False], ids=["class_axis=1", "class_axis=-1"])
def test_core_function_resizes_a_float_label_map_as_labels(channels_first):
    """On NumPy arrays (test_entropy_properties.py resizes on every backend; the rule reads
    shapes and dtypes alone); the PyTorch test below calls the core on tensors."""
    outputs, indices = channels_first_case()
    label_map = indices[:, None].astype(np.float32)
    class_axis, spatial = (1, (2, 3)) if channels_first else (-1, (1, 2))
    if not channels_first:
        outputs = [np.moveaxis(o, 1, -1) for o in outputs]
        label_map = np.moveaxis(label_map, 1, -1)
    options = {"weights": WEIGHTS, "class_axis": class_axis, "from_logits": "softmax"}

    def value(loss, target):
        return float(xploss.deep_supervision_loss(loss, target, outputs, axis=spatial, **options))

    from_map = value(label_map_dice_ce, label_map)
    from_indices = value(xploss.dice_ce_loss, indices)
    from_float_indices = value(xploss.dice_ce_loss, indices.astype(np.float32))
    assert_monai(from_map)
    np.testing.assert_allclose(from_map, from_indices, rtol=1e-12)
    np.testing.assert_allclose(from_float_indices, from_indices, rtol=1e-12)


def test_torch_module_resizes_a_float_label_map_as_labels():
    outputs, indices = channels_first_case()
    preds = [torch.from_numpy(o) for o in outputs]
    label_map = torch.from_numpy(indices[:, None].astype(np.float64))
    by_map = xt.DeepSupervisionLoss(
        xt.DiceCELoss(from_logits="softmax", to_onehot_y=True), weights=WEIGHTS
    )(preds, label_map)
    by_index = xt.DeepSupervisionLoss(xt.DiceCELoss(from_logits="softmax"), weights=WEIGHTS)(
        preds, torch.from_numpy(indices)
    )
    core = xploss.deep_supervision_loss(
        label_map_dice_ce,
        label_map,
        preds,
        weights=WEIGHTS,
        class_axis=1,
        from_logits="softmax",
        axis=(2, 3),
    )
    assert_monai(by_map)
    torch.testing.assert_close(by_map, by_index, rtol=1e-12, atol=0)
    torch.testing.assert_close(by_map, core, rtol=1e-12, atol=0)


@pytest.mark.parametrize("mode", [None, "auto", "nearest"], ids=str)
def test_keras_class_resizes_a_float_label_map_as_labels(mode):
    """Keras' default mode is ``"nearest"``; ``"auto"`` takes the label map for labels too."""
    import xploss.keras as xk

    outputs, indices = channels_first_case()
    preds = [np.moveaxis(o, 1, -1) for o in outputs]  # Keras' channels-last layout
    inner = xk.DiceCELoss(from_logits="softmax", axis=(1, 2))  # per class, as MONAI
    chosen = {} if mode is None else {"mode": mode}
    loss = xk.DeepSupervisionLoss(inner, weights=WEIGHTS, dtype="float64", **chosen)
    by_map = float(loss(indices[..., None].astype(np.float64), preds))
    by_index = float(loss(indices, preds))
    assert_monai(by_map)
    np.testing.assert_allclose(by_map, by_index, rtol=1e-12)


def test_auto_mode_still_averages_a_soft_single_channel():
    """A soft ``(B, 1, *spatial)`` target beside a single-channel output is no label map: the
    core and the PyTorch module hand their loss ``avg_pool2d`` of it."""
    soft = torch.from_numpy(np.random.default_rng(8).random((2, 1, 8, 8)))
    preds = [torch.zeros(2, 1, 8, 8, dtype=torch.float64), torch.zeros(2, 1, 4, 4)]
    targets: list[torch.Tensor] = []

    def record(target, y_pred, **_):
        targets.append(target)
        return torch.zeros(())

    xploss.deep_supervision_loss(record, soft, preds, class_axis=1)
    xt.DeepSupervisionLoss(lambda y_pred, target: record(target, y_pred))(preds, soft)
    expected = F.avg_pool2d(soft, kernel_size=2)
    for half in targets[1::2]:
        torch.testing.assert_close(half, expected, rtol=1e-12, atol=1e-15)
