"""The PyTorch adapter: modules equal the functional core, MONAI's values are reachable, compile
and autocast work, gradients pass gradcheck, metrics give dataset values, and a real training
loop learns with every loss."""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402
from tests import oracle  # noqa: E402
from tests.peers import smp_losses  # noqa: E402

LOSSES = [
    xt.DiceLoss,
    xt.BCEDiceLoss,
    xt.GeneralizedDiceLoss,
    xt.JaccardLoss,
    xt.TverskyLoss,
    xt.FocalTverskyLoss,
]


def batch(seed=0, shape=(3, 4, 8, 8), dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=generator, dtype=dtype)
    labels = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=generator)
    return logits, labels


@pytest.mark.parametrize(
    ("module", "function", "options"),
    [
        (xt.DiceLoss(from_logits="softmax"), xploss.dice_loss, {"from_logits": "softmax"}),
        (xt.DiceLoss(batch=True, squared=True), xploss.dice_loss, {"squared": True}),
        (
            xt.DiceLoss(log=True, from_logits=True),
            xploss.dice_loss,
            {"log": True, "from_logits": True},
        ),
        (xt.BCEDiceLoss(from_logits=True), xploss.bce_dice_loss, {"from_logits": True}),
        (
            xt.BCEDiceLoss(batch=True, log_dice=False, bce_weight=0.5),
            xploss.bce_dice_loss,
            {"log_dice": False, "bce_weight": 0.5},
        ),
        (
            xt.GeneralizedDiceLoss(from_logits="softmax"),
            xploss.generalized_dice_loss,
            {"from_logits": "softmax"},
        ),
        (
            xt.GeneralizedDiceLoss(batch=True, weight_type="simple"),
            xploss.generalized_dice_loss,
            {"weight_type": "simple"},
        ),
        (
            xt.JaccardLoss(from_logits="softmax", soft_label=True),
            xploss.jaccard_loss,
            {"from_logits": "softmax", "soft_label": True},
        ),
        (
            xt.JaccardLoss(batch=True, log=True, squared=True),
            xploss.jaccard_loss,
            {"log": True, "squared": True},
        ),
        (
            xt.TverskyLoss(from_logits=True, alpha=0.3, beta=0.7),
            xploss.tversky_loss,
            {"from_logits": True, "alpha": 0.3, "beta": 0.7},
        ),
        (
            xt.FocalTverskyLoss(batch=True, gamma=2.0, smooth_nr=1.0, smooth_dr=1.0),
            xploss.focal_tversky_loss,
            {"gamma": 2.0, "smooth_nr": 1.0, "smooth_dr": 1.0},
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, torch.nn.Module) else None,
)
def test_modules_equal_the_functional_api(module, function, options):
    logits, labels = batch()
    inputs = logits if options.get("from_logits") else logits.sigmoid()
    spatial = (0, 2, 3) if module.batch else (2, 3)
    got = module(inputs, labels)
    want = function(labels, inputs, axis=spatial, class_axis=1, **options)
    torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_options_map_to_the_core():
    logits, labels = batch()
    probs = logits.softmax(1)
    weighted = xt.DiceLoss(weight=(1.0, 2.0, 3.0, 4.0))(probs, labels)
    torch.testing.assert_close(
        weighted, xploss.dice_loss(labels, probs, axis=(2, 3), class_axis=1, weight=(1, 2, 3, 4))
    )
    tensor_weight = xt.DiceLoss(weight=torch.tensor([1.0, 2.0, 3.0, 4.0]))(probs, labels)
    torch.testing.assert_close(tensor_weight, weighted)
    no_background = xt.DiceLoss(include_background=False, reduction="none")(probs, labels)
    everything = xt.DiceLoss(reduction="none")(probs, labels)
    torch.testing.assert_close(no_background[:, 1:], everything[:, 1:])
    assert torch.all(no_background[:, 0] == 0)
    mean_without_background = xt.DiceLoss(include_background=False)(probs, labels)
    torch.testing.assert_close(mean_without_background, everything[:, 1:].mean())
    onehot_y = xt.DiceLoss(to_onehot_y=True)(probs, labels[:, None])
    torch.testing.assert_close(onehot_y, xt.DiceLoss()(probs, labels))
    ignored = labels.clone()
    ignored[:, :2] = 255
    masked = xt.DiceLoss(ignore_index=255)(probs, ignored)
    mask = (ignored != 255)[:, None].to(probs.dtype)
    torch.testing.assert_close(
        masked, xploss.dice_loss(labels, probs, axis=(2, 3), class_axis=1, mask=mask)
    )


def test_modules_reject_bad_options():
    with pytest.raises(ValueError, match="reduction='avg' is not one of"):
        xt.DiceLoss(reduction="avg")
    with pytest.raises(ValueError, match="from_logits='relu'"):
        xt.BCEDiceLoss(from_logits="relu")
    with pytest.raises(ValueError, match="weight_type='log' is not one of"):
        xt.GeneralizedDiceLoss(weight_type="log")
    with pytest.raises(ValueError, match="smooth_nr=-1 must be a finite number >= 0"):
        xt.DiceLoss(smooth_nr=-1)
    with pytest.raises(ValueError, match="aggregation_level='weighted' is not one of 'global'"):
        xt.DiceCoefficient(aggregation_level="weighted")
    with pytest.raises(TypeError, match=r"takes no average.*aggregation_level='global'"):
        xt.DiceCoefficient(average="macro")  # 0.1's per-image choice, renamed
    with pytest.warns(UserWarning, match=r"compute\(\) called before any update\(\): returning"):
        assert xt.TruePositiveRate().compute().item() == 0.0  # zero_division (issue 16)
    with pytest.raises(ValueError, match=r"alpha=-0.3 must be a finite number >= 0"):
        xt.TverskyLoss(alpha=-0.3)
    with pytest.raises(ValueError, match=r"alpha=0 and beta=0 weigh neither"):
        xt.FocalTverskyLoss(alpha=0, beta=0)
    with pytest.raises(ValueError, match=r"gamma=0 must be a finite number > 0"):
        xt.FocalTverskyLoss(gamma=0)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'squared'"):
        xt.FocalTverskyLoss(squared=True)


def test_new_modules_describe_their_options():
    text = repr(xt.FocalTverskyLoss(batch=True, soft_label=True, gamma=2))
    assert "alpha=0.3, beta=0.7" in text and "gamma=2" in text and "soft_label=True" in text
    assert "soft_label=True" in repr(xt.JaccardLoss(soft_label=True))
    for loss_class in LOSSES:  # .to() still converts the class-weight buffer
        module = loss_class(from_logits="softmax").to(torch.float32)
        if loss_class is not xt.GeneralizedDiceLoss:  # the one without class weights
            weighted = loss_class(weight=torch.ones(4, dtype=torch.float64)).to(torch.float32)
            assert weighted.weight.dtype == torch.float32
        logits, labels = batch()
        assert torch.isfinite(module(logits, labels))


def test_extra_repr_and_no_state_in_forward():
    module = xt.DiceLoss(batch=True, from_logits="softmax", ignore_index=255, log=True)
    text = repr(module)
    assert "batch=True" in text and "from_logits='softmax'" in text
    assert "ignore_index=255" in text and "log=True" in text
    logits, labels = batch()
    before = (dict(module.__dict__), {k: v.clone() for k, v in module.state_dict().items()})
    module(logits, labels)
    assert dict(module.__dict__) == before[0]
    assert module.state_dict().keys() == before[1].keys()


MONAI_CASES = [
    ("DiceLoss", {"softmax": True}, {"from_logits": "softmax"}),
    ("DiceLoss", {"sigmoid": True, "batch": True}, {"from_logits": True, "batch": True}),
    (
        "DiceLoss",
        {"softmax": True, "squared_pred": True},
        {"from_logits": "softmax", "squared": True},
    ),
    (
        "DiceLoss",
        {"softmax": True, "include_background": False},
        {"from_logits": "softmax", "include_background": False},
    ),
    ("GeneralizedDiceLoss", {"softmax": True}, {"from_logits": "softmax"}),
    (
        "GeneralizedDiceLoss",
        {"softmax": True, "batch": True, "w_type": "simple"},
        {"from_logits": "softmax", "batch": True, "weight_type": "simple"},
    ),
    ("TverskyLoss", {"softmax": True}, {"from_logits": "softmax"}),
    (
        "TverskyLoss",
        {"sigmoid": True, "alpha": 0.3, "beta": 0.7, "batch": True, "include_background": False},
        {
            "from_logits": True,
            "alpha": 0.3,
            "beta": 0.7,
            "batch": True,
            "include_background": False,
        },
    ),
]


@pytest.mark.parametrize(("name", "monai_options", "options"), MONAI_CASES)
def test_monai_values_are_reachable(name, monai_options, options):
    monai = pytest.importorskip("monai.losses")
    logits, labels = batch(seed=3)
    onehot = torch.nn.functional.one_hot(labels, 4).movedim(-1, 1).to(logits.dtype)
    reference = getattr(monai, name)(**monai_options)(logits, onehot)
    got = getattr(xt, name)(**options)(logits, labels)
    torch.testing.assert_close(got, reference, rtol=1e-7, atol=1e-7)


def test_monai_jaccard_is_ours_with_half_the_smoothing():
    """MONAI's DiceLoss(jaccard=True) is (2·tp + s_nr) / (2·union + s_dr)."""
    monai = pytest.importorskip("monai.losses")
    logits, labels = batch(seed=8)
    onehot = torch.nn.functional.one_hot(labels, 4).movedim(-1, 1).to(logits.dtype)
    for smooth in (1e-5, 1.0):
        options = {"smooth_nr": smooth, "smooth_dr": smooth}
        reference = monai.DiceLoss(softmax=True, jaccard=True, **options)(logits, onehot)
        ours = xt.JaccardLoss(from_logits="softmax", smooth_nr=smooth / 2, smooth_dr=smooth / 2)
        torch.testing.assert_close(ours(logits, labels), reference, rtol=1e-7, atol=1e-7)
        if smooth == 1.0:  # the same smoothing is a different number
            same = xt.JaccardLoss(from_logits="softmax", **options)(logits, labels)
            assert abs(float(same) - float(reference)) > 1e-4


@pytest.mark.parametrize("name", ["DiceLoss", "TverskyLoss"])
def test_monai_soft_label_values_are_reachable(name):
    """Soft targets (label smoothing): MONAI's soft_label=True is ours."""
    monai = pytest.importorskip("monai.losses")
    logits, labels = batch(seed=9)
    onehot = torch.nn.functional.one_hot(labels, 4).movedim(-1, 1).to(logits.dtype)
    smoothed = onehot * 0.8 + 0.05
    options = {"alpha": 0.3, "beta": 0.7} if name == "TverskyLoss" else {}
    reference = getattr(monai, name)(sigmoid=True, soft_label=True, **options)(logits, smoothed)
    ours = getattr(xt, name)(from_logits=True, soft_label=True, **options)(logits, smoothed)
    torch.testing.assert_close(ours, reference, rtol=1e-7, atol=1e-7)
    plain = getattr(xt, name)(from_logits=True, **options)(logits, smoothed)
    assert abs(float(plain) - float(reference)) > 1e-3  # without it, a different loss


_smp_losses = smp_losses


def test_smp_jaccard_and_focal_tversky_values_are_reachable():
    """smp sums the batch (batch=True), uses the soft-label intersection and, for focal Tversky,
    raises the class mean to gamma: one class, so the same as per class."""
    smp = _smp_losses()
    jaccard = importlib.import_module("_smp_losses.jaccard").JaccardLoss
    tversky = importlib.import_module("_smp_losses.tversky").TverskyLoss
    logits, labels = batch(seed=10)
    reference = jaccard(mode="multiclass", smooth=1.0)(logits, labels)
    ours = xt.JaccardLoss(batch=True, from_logits="softmax", smooth_nr=1.0, smooth_dr=1.0)
    torch.testing.assert_close(ours(logits, labels), reference, rtol=1e-7, atol=1e-7)
    binary_logits = logits[:, :1]
    soft_target = torch.sigmoid(logits[:, 1:2])  # soft targets: smp's L1 form is exact
    options = {"alpha": 0.3, "beta": 0.7, "gamma": 0.75}
    reference = tversky(mode="binary", smooth=1e-5, **options)(binary_logits, soft_target)
    ours = xt.FocalTverskyLoss(batch=True, from_logits=True, soft_label=True, **options)
    torch.testing.assert_close(ours(binary_logits, soft_target), reference, rtol=1e-7, atol=1e-7)
    assert smp.__name__ == "_smp_losses"


def test_monai_weight_is_ours_times_the_mean_weight():
    monai = pytest.importorskip("monai.losses")
    logits, labels = batch(seed=4)
    onehot = torch.nn.functional.one_hot(labels, 4).movedim(-1, 1).to(logits.dtype)
    weight = [0.5, 1.0, 2.0, 4.0]
    reference = monai.DiceLoss(softmax=True, weight=weight)(logits, onehot)
    ours = xt.DiceLoss(from_logits="softmax", weight=weight)(logits, labels)
    torch.testing.assert_close(ours * float(np.mean(weight)), reference)


def test_monai_dice_ce_maps_to_additive_bce_dice():
    monai = pytest.importorskip("monai.losses")
    logits = torch.randn(
        2, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5)
    )
    target = (torch.rand(2, 1, 8, 8, dtype=torch.float64) > 0.5).to(torch.float64)
    reference = monai.DiceCELoss(sigmoid=True, lambda_ce=0.7, lambda_dice=1.3)(logits, target)
    ours = xt.BCEDiceLoss(from_logits=True, bce_weight=0.7, dice_weight=1.3, log_dice=False)
    torch.testing.assert_close(ours(logits, target), reference)


@pytest.mark.parametrize("loss_class", LOSSES, ids=lambda c: c.__name__)
def test_modules_compile_with_fullgraph(loss_class):
    logits, labels = batch(dtype=torch.float32)
    module = loss_class(from_logits="softmax", batch=True)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(compiled(logits, labels), module(logits, labels))


@pytest.mark.parametrize("loss_class", LOSSES, ids=lambda c: c.__name__)
def test_gradcheck_float64(loss_class):
    logits, labels = batch(shape=(2, 3, 4, 4))
    logits.requires_grad_(True)
    module = loss_class(from_logits="softmax")
    assert torch.autograd.gradcheck(lambda z: module(z, labels), (logits,))
    sigmoid_module = loss_class(from_logits=True, batch=True)
    assert torch.autograd.gradcheck(lambda z: sigmoid_module(z, labels), (logits,))


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("loss_class", LOSSES, ids=lambda c: c.__name__)
def test_half_precision_512x512_is_finite_and_accumulated_in_float32(loss_class, half):
    """A 512×512 image sums 262144 pixels: past float16's 65504, where MONAI and smp give NaN."""
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 1, 512, 512, generator=generator) * 4
    target = (torch.rand(2, 1, 512, 512, generator=generator) < 0.6).float()
    module = loss_class(from_logits=True, batch=True)
    low = module(logits.to(half), target.to(half))
    assert low.dtype == torch.float32 and torch.isfinite(low)
    reference = module(logits.to(half).float(), target)
    torch.testing.assert_close(low, reference, rtol=1e-5, atol=1e-6)


def test_autocast_gives_finite_float32_losses_and_gradients():
    net = torch.nn.Conv2d(1, 2, 3, padding=1)
    images = torch.randn(2, 1, 64, 64)
    labels = torch.randint(0, 2, (2, 64, 64))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = net(images)
        assert logits.dtype == torch.bfloat16
        losses = [cls(from_logits="softmax")(logits, labels) for cls in LOSSES]
    for loss in losses:
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
    sum(losses).backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def _shapes(n, size=32, seed=0):
    """Images of one bright disc or square on noise; the target is its mask."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        r, c, radius = [*rng.integers(8, size - 8, 2).tolist(), int(rng.integers(4, 8))]
        if rng.random() < 0.5:
            shape = (rows - r) ** 2 + (cols - c) ** 2 < radius**2
        else:
            shape = (abs(rows - r) < radius) & (abs(cols - c) < radius)
        masks[i][shape] = 1
        images[i, 0][shape] += 1.0
    return torch.from_numpy(images), torch.from_numpy(masks)


@pytest.mark.parametrize(
    "loss",
    [
        xt.DiceLoss(from_logits="softmax"),
        xt.BCEDiceLoss(from_logits=True),
        xt.GeneralizedDiceLoss(from_logits="softmax"),
        xt.JaccardLoss(from_logits="softmax"),
        xt.FocalTverskyLoss(from_logits="softmax"),
    ],
    ids=lambda m: type(m).__name__,
)
def test_training_loop_reaches_dice_above_0_9(loss):
    torch.manual_seed(0)
    images, masks = _shapes(96, seed=1)
    test_images, test_masks = _shapes(32, seed=2)
    channels = 1 if isinstance(loss, xt.BCEDiceLoss) else 2
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=2, dilation=2),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, channels, 1),
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    target = (lambda m: m[:, None].float()) if channels == 1 else (lambda m: m)
    for _ in range(200):
        rows = torch.randint(0, len(images), (16,))
        optimizer.zero_grad()
        loss(net(images[rows]), target(masks[rows])).backward()
        optimizer.step()
    metric = xt.DiceCoefficient(from_logits=True if channels == 1 else "softmax")
    with torch.no_grad():
        logits = net(test_images)
    if channels == 1:
        metric.update(logits, test_masks[:, None])
        dice = metric.compute()
    else:
        metric = xt.DiceCoefficient(from_logits="softmax", reduction="none")
        metric.update(logits, test_masks)
        dice = metric.compute()[1]  # the foreground class
    assert float(dice) > 0.9


def test_dice_metric_accumulates_the_dataset_value():
    logits, labels = batch(seed=7, shape=(6, 3, 8, 8), dtype=torch.float32)
    micro = xt.DiceCoefficient(from_logits="softmax", reduction="none")
    macro = xt.DiceCoefficient(
        from_logits="softmax", aggregation_level="samplewise", reduction="none"
    )
    for rows in (slice(0, 1), slice(1, 4), slice(4, 6)):
        micro.update(logits[rows], labels[rows])
        macro(logits[rows], labels[rows])
    options = {
        "class_axis": 1,
        "from_logits": "softmax",
        "threshold": 0.5,
        "smooth_nr": 0,
        "smooth_dr": 0,
        "reduction": "none",
    }
    dataset = xploss.dice_coefficient(labels, logits, axis=(0, 2, 3), **options)
    per_image = xploss.dice_coefficient(labels, logits, axis=(2, 3), **options)
    torch.testing.assert_close(micro.compute().float(), dataset)
    torch.testing.assert_close(macro.compute().float(), per_image.mean(0))
    hard = oracle.harden(logits.softmax(1).double().numpy(), 0.5, "softmax", 1)  # the arg-max
    onehot = oracle.one_hot(labels.numpy(), 3, 1)
    expected = oracle.dice(onehot, hard, (0, 2, 3), 0, 0)
    np.testing.assert_allclose(micro.compute().numpy(), expected, rtol=1e-12)
    micro.reset()
    with pytest.warns(UserWarning, match=r"before any update\(\): returning zero_division=1"):
        assert micro.compute().item() == 1.0  # nothing seen: the score of empty statistics


def test_jaccard_index_metric_accumulates_the_dataset_value():
    logits, labels = batch(seed=11, shape=(6, 3, 8, 8), dtype=torch.float32)
    micro = xt.JaccardIndex(from_logits="softmax", reduction="none")
    macro = xt.JaccardIndex(from_logits="softmax", aggregation_level="samplewise")
    for rows in (slice(0, 2), slice(2, 6)):
        micro.update(logits[rows], labels[rows])
        macro(logits[rows], labels[rows])
    hard = oracle.harden(logits.softmax(1).double().numpy(), 0.5, "softmax", 1)  # the arg-max
    onehot = oracle.one_hot(labels.numpy(), 3, 1)
    np.testing.assert_allclose(
        micro.compute().numpy(), oracle.jaccard(onehot, hard, (0, 2, 3), 0, 0), rtol=1e-12
    )
    per_image = oracle.jaccard(onehot, hard, (2, 3), 0, 0)
    np.testing.assert_allclose(float(macro.compute()), per_image.mean(), rtol=1e-12)


def test_precision_metric_accumulates_the_dataset_value():
    probs = torch.tensor([[[0.9, 0.7, 0.6]], [[0.4, 0.8, 0.1]]])
    target = torch.tensor([[[1, 0, 1]], [[1, 1, 0]]])
    metric = xt.Precision()
    metric.update(probs[:1], target[:1])
    metric.update(probs[1:], target[1:])
    torch.testing.assert_close(metric.compute().float(), torch.tensor(3 / 4))
    macro = xt.Precision(aggregation_level="samplewise")
    macro.update(probs, target)
    torch.testing.assert_close(macro.compute().float(), torch.tensor((2 / 3 + 1) / 2))


def test_true_positive_rate_metric_accumulates_the_dataset_value():
    probs = torch.tensor([[[0.9, 0.2, 0.7]], [[0.4, 0.8, 0.1]]])
    target = torch.tensor([[[1, 0, 1]], [[1, 1, 0]]])
    metric = xt.TruePositiveRate()
    metric.update(probs[:1], target[:1])
    metric.update(probs[1:], target[1:])
    torch.testing.assert_close(metric.compute().float(), torch.tensor(3 / 4))
    macro = xt.TruePositiveRate(aggregation_level="samplewise")
    macro.update(probs, target)
    torch.testing.assert_close(macro.compute().float(), torch.tensor((1 + 0.5) / 2))
