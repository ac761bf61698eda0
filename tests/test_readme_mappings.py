"""Every mapping of the README from a peer's call to an xploss call, checked against the peer.

The README's "From MONAI" table is parsed: each row must have a check in ``MONAI`` below, so a new
row without a test fails. The "From optax" and "From Keras" tables hold code in both columns,
evaluated here (optax) and in ``keras_readme_checks.py`` (Keras, once per backend) on random
inputs. Each mapping is checked with one channel (C = 1) and with several (C = 3), with a sigmoid
and with a softmax where the peer has both; the torch losses are compared in value and gradient.
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
) -> None:
    """``ours(logits, our_target) * scale`` equals ``peer(logits, target)``, value and gradient."""
    theirs_in = logits.clone().requires_grad_(True)
    ours_in = logits.clone().requires_grad_(True)
    theirs = peer(theirs_in, target)
    got = ours(ours_in, target if our_target is None else our_target) * scale
    torch.testing.assert_close(got, theirs, rtol=rtol, atol=1e-12)
    theirs.sum().backward()
    got.sum().backward()
    torch.testing.assert_close(ours_in.grad, theirs_in.grad, rtol=10 * rtol, atol=1e-12)


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
    ours = xt.BCEDiceLoss(from_logits=True, bce_weight=0.7, dice_weight=1.3, log_dice=False)
    same(peer, ours, logits, dense(labels, channels))


@row("`DiceCELoss(...)`, C > 1", [(3, "sigmoid"), (3, "softmax")])
def _dice_ce_classes(channels, act):
    """MONAI's CE term is the softmax cross-entropy of the logits whatever the activation: no
    xploss loss has it yet, and the BCE-Dice is another number."""
    logits, labels = data(channels, 9, act)
    target = dense(labels, channels)
    theirs, ours = activation(channels, act)
    peer = monai.DiceCELoss(**theirs, lambda_ce=0.7, lambda_dice=1.3)(logits, target)
    dice = monai.DiceLoss(**theirs)(logits, target)
    torch.testing.assert_close(peer, 1.3 * dice + 0.7 * F.cross_entropy(logits, labels))
    bce_dice = xt.BCEDiceLoss(**ours, bce_weight=0.7, dice_weight=1.3, log_dice=False)
    assert differs(bce_dice(logits, labels), peer)


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
    without = {"binary_cross_entropy", "overlap_stats"}
    assert all(takes(getattr(xploss, n)) for n in functions if n not in without)
    torch_losses = [n for n in xt.__all__ if n.endswith("Loss") and n != "BinaryCrossEntropyLoss"]
    assert torch_losses and all(takes(getattr(xt, n)) for n in torch_losses)
    assert not any(takes(getattr(xt, n)) for n in xt.__all__ if n[0].isupper() and n not in
                   {*torch_losses, "BinaryCrossEntropyLoss"})  # fmt: skip
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


@pytest.mark.parametrize(("smp_code", "xploss_code"), smp_rows(), ids=[a for a, _ in smp_rows()])
def test_the_smp_row_holds(smp_code, xploss_code):
    import importlib
    import types

    from tests.test_torch import _smp_losses

    _smp_losses()
    losses = types.SimpleNamespace(
        DiceLoss=importlib.import_module("_smp_losses.dice").DiceLoss,
        JaccardLoss=importlib.import_module("_smp_losses.jaccard").JaccardLoss,
    )
    mode = re.search(r'mode="(\w+)"', smp_code).group(1)
    channels = 1 if mode == "binary" else 3
    logits, labels = data(channels, 17, "sigmoid")  # every class in the batch
    target = labels if mode == "multiclass" else dense(labels, channels)
    for s in (0.0, 1.0):
        names = {"smp": types.SimpleNamespace(losses=losses), "xt": xt, "s": s}
        same(eval(smp_code, names), eval(xploss_code, names), logits, target)
