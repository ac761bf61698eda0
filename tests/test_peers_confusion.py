"""The confusion-matrix metrics against their peers: scikit-learn, TorchMetrics and MONAI.

Every peer is imported and run here on the same label maps as xploss, in float64:

- scikit-learn on the flattened pixels: the one-vs-rest counts, F-beta, precision, recall and
  Jaccard with every ``average``, per-class MCC and balanced accuracy, the binary scores;
- TorchMetrics' ``Multiclass*`` metrics (``multidim_average`` global and samplewise),
  ``BinaryMatthewsCorrCoef``, and ``segmentation.DiceScore`` / ``MeanIoU``;
- MONAI's ``get_confusion_matrix`` and ``ConfusionMatrixMetric``, on random maps and on the
  inputs of MONAI's own test cases (``tests/metrics/test_compute_confusion_matrix.py``).

Where a peer's convention differs (TorchMetrics' samplewise results are per image, its macro
average drops empty classes, its MCC has its own values for 0/0, MeanIoU's mean runs over
(image, class) pairs), the exact relation is asserted. Every backend reproduces scikit-learn's
values, and Hypothesis checks the empty-class policies against a NumPy oracle written here.

Tolerance: 1e-6. TorchMetrics and MONAI divide in float32, far inside it for these counts.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from monai.metrics import ConfusionMatrixMetric, get_confusion_matrix
from sklearn import metrics as skm
from torchmetrics import classification as tmc
from torchmetrics import segmentation as tms
from torchmetrics.functional.segmentation import mean_iou

import xploss

NAN = math.nan
AVERAGES = ("none", "micro", "macro", "weighted")

pytestmark = [
    # scikit-learn warns where a class of y_pred is absent from y_true (balanced accuracy).
    pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true"),
    pytest.mark.filterwarnings("ignore:A single label was found in 'y_true' and 'y_pred'"),
    # TorchMetrics' note on DiceScore's default, which these tests always set.
    pytest.mark.filterwarnings("ignore:DiceScore metric currently defaults to `average=micro`"),
    pytest.mark.filterwarnings("ignore:include_background=False is ignored for a single-channel"),
]


def assert_close(got, expected) -> None:
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


# ---- data ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Maps:
    """A batch of label maps ``(B, H, W)``: the target's classes and the predicted ones."""

    target: np.ndarray
    predicted: np.ndarray
    classes: int

    @property
    def images(self) -> int:
        return self.target.shape[0]

    def image(self, b: int) -> Maps:
        return Maps(self.target[b : b + 1], self.predicted[b : b + 1], self.classes)


def random_maps(seed, *, shape=(3, 7, 6), classes=4, target_from=None, predicted_from=None):
    """Labels drawn from ``target_from`` and ``predicted_from`` (every class by default); the
    prediction copies the target at 40% of the pixels it can, so scores are spread out."""
    rng = np.random.default_rng(seed)
    target_from = np.arange(classes) if target_from is None else np.asarray(target_from)
    predicted_from = np.arange(classes) if predicted_from is None else np.asarray(predicted_from)
    target = rng.choice(target_from, size=shape)
    predicted = rng.choice(predicted_from, size=shape)
    copies = (rng.random(shape) < 0.4) & np.isin(target, predicted_from)
    return Maps(target, np.where(copies, target, predicted), classes)


def sparse_maps(seed, *, shape=(5, 6, 6), classes=5, background_images=True):
    """Each image draws target and prediction from its own few classes, so classes are absent
    from an image's target, its prediction or both. With ``background_images`` the first image
    is all background in both, and the second in its target only."""
    rng = np.random.default_rng(seed)
    images = [
        random_maps(
            rng.integers(2**32),
            shape=(1, *shape[1:]),
            classes=classes,
            target_from=rng.choice(classes, size=rng.integers(1, 4), replace=False),
            predicted_from=rng.choice(classes, size=rng.integers(1, 4), replace=False),
        )
        for _ in range(shape[0])
    ]
    target = np.concatenate([m.target for m in images])
    predicted = np.concatenate([m.predicted for m in images])
    if background_images:
        target[:2], predicted[0] = 0, 0
    return Maps(target, predicted, classes)


# "gaps": class 3 is never predicted, class 4 never in the target, class 5 in neither.
DATA = {
    "random": random_maps(0, classes=3),
    "gaps": random_maps(1, classes=6, target_from=[0, 1, 2, 3], predicted_from=[0, 1, 2, 4]),
    "five": random_maps(2, shape=(2, 9, 8), classes=5),
}


def one_hot(labels: np.ndarray, classes: int, axis: int = -1) -> np.ndarray:
    return np.moveaxis(np.eye(classes)[labels], -1, axis)


def logits_of(labels: np.ndarray, classes: int, axis: int = -1) -> np.ndarray:
    """Logits whose arg-max is ``labels``: a margin of 10 over noise in [-1, 1)."""
    noise = np.random.default_rng(labels.size).uniform(-1, 1, (*labels.shape, classes))
    return np.moveaxis(noise + 10 * np.eye(classes)[labels], -1, axis)


def prediction(maps: Maps, kind: str, axis: int = -1) -> tuple[np.ndarray, dict]:
    """xploss' ``y_pred`` for the predicted labels: one-hot probabilities (``p > 0.5``), or
    logits through a softmax (the arg-max)."""
    if kind == "one-hot":
        return one_hot(maps.predicted, maps.classes, axis), {}
    return logits_of(maps.predicted, maps.classes, axis), {"from_logits": "softmax"}


def sklearn_average(average: str) -> str | None:
    return None if average == "none" else average


def xploss_f_beta(beta: float) -> Callable:
    return functools.partial(xploss.f_beta_score, beta=beta)


def xploss_named(metric: str) -> Callable:
    return functools.partial(xploss.confusion_metric, metric=metric)


# ---- 1. scikit-learn -------------------------------------------------------------------------
SKLEARN_SCORES = [
    pytest.param(xploss_named("dice"), skm.f1_score, id="f1"),
    pytest.param(xploss_f_beta(0.5), functools.partial(skm.fbeta_score, beta=0.5), id="f0.5"),
    pytest.param(xploss_f_beta(2.0), functools.partial(skm.fbeta_score, beta=2.0), id="f2"),
    pytest.param(xploss_f_beta(3.0), functools.partial(skm.fbeta_score, beta=3.0), id="f3"),
    pytest.param(xploss_named("precision"), skm.precision_score, id="precision"),
    pytest.param(xploss_named("recall"), skm.recall_score, id="recall"),
    pytest.param(xploss_named("iou"), skm.jaccard_score, id="jaccard"),
]


def sklearn_score(peer, maps: Maps, average: str, labels, zero_division=0.0, kept=None):
    y, p = maps.target.ravel(), maps.predicted.ravel()
    if kept is not None:
        y, p = y[kept.ravel()], p[kept.ravel()]
    return peer(y, p, labels=labels, average=sklearn_average(average), zero_division=zero_division)


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize("kind", ["one-hot", "logits"])
@pytest.mark.parametrize("data", ["random", "gaps"])
@pytest.mark.parametrize(("score", "peer"), SKLEARN_SCORES)
def test_scores_match_sklearn(score, peer, data, kind, zero_division):
    maps = DATA[data]
    y_pred, options = prediction(maps, kind)
    for average in AVERAGES:
        got = score(maps.target, y_pred, average=average, zero_division=zero_division, **options)
        labels = list(range(maps.classes))
        assert_close(got, sklearn_score(peer, maps, average, labels, zero_division))


@pytest.mark.parametrize("data", ["random", "gaps"])
@pytest.mark.parametrize(("score", "peer"), SKLEARN_SCORES)
def test_without_background_is_sklearn_on_the_other_labels(score, peer, data):
    maps = DATA[data]
    for average in AVERAGES:
        got = score(
            maps.target,
            one_hot(maps.predicted, maps.classes),
            average=average,
            include_background=False,
        )
        labels = list(range(1, maps.classes))
        assert_close(got, sklearn_score(peer, maps, average, labels))


@pytest.mark.parametrize("ignore_index", [255, 0, 2])
@pytest.mark.parametrize(("score", "peer"), SKLEARN_SCORES)
def test_ignore_index_is_sklearn_on_the_kept_pixels(score, peer, ignore_index):
    maps = DATA["five"]
    target = maps.target.copy()
    if ignore_index == 255:  # a label outside the classes (padding)
        target[np.random.default_rng(3).random(target.shape) < 0.3] = 255
    kept = target != ignore_index
    for average in AVERAGES:
        got = score(
            target,
            one_hot(maps.predicted, maps.classes),
            average=average,
            ignore_index=ignore_index,
        )
        labels = list(range(maps.classes))
        expected = sklearn_score(peer, Maps(target, maps.predicted, 5), average, labels, kept=kept)
        assert_close(got, expected)


def one_vs_rest_counts(maps: Maps) -> np.ndarray:
    """scikit-learn's ``(C, 4)`` counts ``tp, fp, fn, tn`` of each class against the rest."""
    matrices = skm.multilabel_confusion_matrix(
        maps.target.ravel(), maps.predicted.ravel(), labels=list(range(maps.classes))
    )  # [[tn, fp], [fn, tp]] per class
    return np.stack([matrices[:, 1, 1], matrices[:, 0, 1], matrices[:, 1, 0], matrices[:, 0, 0]], 1)


@pytest.mark.parametrize("kind", ["one-hot", "logits"])
@pytest.mark.parametrize("data", ["random", "gaps", "five"])
def test_confusion_stats_are_sklearn_counts(data, kind):
    maps = DATA[data]
    y_pred, options = prediction(maps, kind)
    counts = one_vs_rest_counts(maps)
    assert_close(np.stack(xploss.confusion_stats(maps.target, y_pred, **options), 1), counts)
    for c in range(maps.classes):  # the binary confusion matrix of each class, raveled
        binary = skm.confusion_matrix(
            maps.target.ravel() == c, maps.predicted.ravel() == c, labels=[False, True]
        )
        tn, fp, fn, tp = binary.ravel()
        assert_close(counts[c], [tp, fp, fn, tn])
    without = xploss.confusion_stats(maps.target, y_pred, include_background=False, **options)
    assert_close(np.stack(without, 1), counts[1:])
    per_image = xploss.confusion_stats(
        maps.target, y_pred, aggregation_level="samplewise", **options
    )
    expected = np.stack([one_vs_rest_counts(maps.image(b)) for b in range(maps.images)])
    assert_close(np.stack(per_image, -1), expected)


def ratio(numerator, denominator, zero_division):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / denominator, zero_division)


def nan_mean(values: np.ndarray, axis=None) -> np.ndarray:
    """The mean of the entries that are not NaN; NaN where there are none."""
    return ratio(np.nansum(values, axis=axis), np.sum(~np.isnan(values), axis=axis), NAN)


# Each score as a function of scikit-learn's counts tp, fp, fn, tn (arrays over the classes).
FROM_COUNTS = {
    xploss.specificity: lambda tp, fp, fn, tn, z: ratio(tn, tn + fp, z),
    xploss.negative_predictive_value: lambda tp, fp, fn, tn, z: ratio(tn, tn + fn, z),
    xploss.false_positive_rate: lambda tp, fp, fn, tn, z: ratio(fp, fp + tn, z),
    xploss.false_negative_rate: lambda tp, fp, fn, tn, z: ratio(fn, fn + tp, z),
    xploss.accuracy: lambda tp, fp, fn, tn, z: ratio(tp + tn, tp + fp + fn + tn, z),
}


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize("data", ["random", "gaps"])
@pytest.mark.parametrize("score", list(FROM_COUNTS), ids=lambda f: f.__name__)
def test_rates_of_the_negatives_match_sklearn_counts(score, data, zero_division):
    maps = DATA[data]
    tp, fp, fn, tn = one_vs_rest_counts(maps).T.astype(np.float64)
    per_class = FROM_COUNTS[score](tp, fp, fn, tn, zero_division)
    support = tp + fn
    expected = {
        "none": per_class,
        "macro": per_class.mean(),
        "weighted": (support * per_class).sum() / support.sum(),
        "micro": FROM_COUNTS[score](tp.sum(), fp.sum(), fn.sum(), tn.sum(), zero_division),
    }
    y_pred = one_hot(maps.predicted, maps.classes)
    for average in AVERAGES:
        got = score(maps.target, y_pred, average=average, zero_division=zero_division)
        assert_close(got, expected[average])


@pytest.mark.parametrize("data", ["random", "gaps", "five"])
def test_mcc_and_balanced_accuracy_of_each_class_match_sklearn(data):
    maps = DATA[data]
    y_pred = one_hot(maps.predicted, maps.classes)
    mcc = xploss.matthews_corrcoef(maps.target, y_pred, average="none")
    balanced = xploss.balanced_accuracy(maps.target, y_pred, average="none")
    undefined = xploss.balanced_accuracy(maps.target, y_pred, average="none", zero_division=NAN)
    y, p = maps.target.ravel(), maps.predicted.ravel()
    for c in range(maps.classes):
        assert_close(mcc[c], skm.matthews_corrcoef(y == c, p == c))  # 0 for 0/0, as sklearn
        # Balanced accuracy needs positives and negatives in the target: scikit-learn then
        # averages the recall of the classes y_true holds; xploss leaves it undefined.
        has_both = 0 < np.sum(y == c) < y.size
        assert np.isnan(undefined[c]) == (not has_both)
        if has_both:
            assert_close(balanced[c], skm.balanced_accuracy_score(y == c, p == c))


BINARY_PEERS = {
    "dice": skm.f1_score,
    "f_beta": functools.partial(skm.fbeta_score, beta=2.0),
    "iou": skm.jaccard_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "specificity": functools.partial(skm.recall_score, pos_label=False),
    "negative_predictive_value": functools.partial(skm.precision_score, pos_label=False),
    "false_positive_rate": lambda y, p: 1 - skm.recall_score(y, p, pos_label=False),
    "false_negative_rate": lambda y, p: 1 - skm.recall_score(y, p),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "matthews_corrcoef": skm.matthews_corrcoef,
}


def binary_case(seed: int, layout: str, kind: str):
    """A mask ``(B, H, W)`` and its prediction with no class axis, a channel ``(B, H, W, 1)``
    with a channel-less target, or a channel in both; hard where ``p > 0.5`` (or ``z > 0``)."""
    rng = np.random.default_rng(seed)
    mask = rng.random((3, 6, 5)) < 0.4
    z = rng.normal(0, 2, mask.shape) + 2 * mask
    y_pred, options = (z, {"from_logits": True}) if kind == "logits" else (1 / (1 + np.exp(-z)), {})
    y_true = mask
    if layout != "no class axis":
        y_pred = y_pred[..., None]
        y_true = mask[..., None] if layout == "channel in both" else mask
    class_axis = None if layout == "no class axis" else -1
    return y_true, y_pred, {"class_axis": class_axis, **options}, mask.ravel(), z.ravel() > 0


@pytest.mark.parametrize("kind", ["probabilities", "logits"])
@pytest.mark.parametrize("layout", ["no class axis", "channel", "channel in both"])
def test_binary_inputs_match_sklearn(layout, kind):
    y_true, y_pred, options, y, p = binary_case(4, layout, kind)
    for name in xploss.CONFUSION_SCORES:
        expected = BINARY_PEERS[name](y, p)
        for average in ("macro", "micro", "none"):
            got = xploss.confusion_metric(
                y_true, y_pred, metric=name, beta=2.0, average=average, **options
            )
            assert_close(np.reshape(got, -1), [expected])


@pytest.mark.parametrize("data", ["random", "gaps", "five"])
def test_multiclass_accuracy_is_micro_recall_and_balanced_accuracy_macro_recall(data):
    """scikit-learn's multi-class accuracy and balanced accuracy (documented in ``accuracy``
    and ``balanced_accuracy``): recall pooled over the classes, and averaged over the classes
    the target holds (those without positives are undefined: ``zero_division=NaN``)."""
    maps = DATA[data]
    y, p = maps.target.ravel(), maps.predicted.ravel()
    y_pred = one_hot(maps.predicted, maps.classes)
    micro = xploss.confusion_metric(maps.target, y_pred, metric="recall", average="micro")
    assert_close(micro, skm.accuracy_score(y, p))
    macro = xploss.confusion_metric(
        maps.target, y_pred, metric="recall", average="macro", zero_division=NAN
    )
    assert_close(macro, skm.balanced_accuracy_score(y, p))
    # The one-vs-rest micro accuracy is not it: (C - 2 + 2a) / C of the accuracy a.
    pooled = xploss.accuracy(maps.target, y_pred, average="micro")
    a, c = skm.accuracy_score(y, p), maps.classes
    assert_close(pooled, (c - 2 + 2 * a) / c)
    assert not np.isclose(pooled, a)


# ---- 2. TorchMetrics -------------------------------------------------------------------------
def torch_inputs(maps: Maps) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """TorchMetrics' logits ``(B, C, H, W)`` and target ``(B, H, W)``, and xploss' logits."""
    logits = logits_of(maps.predicted, maps.classes, axis=1)
    return torch.from_numpy(logits), torch.from_numpy(maps.target), logits


TORCHMETRICS = [
    pytest.param(tmc.MulticlassF1Score, {}, xploss_named("dice"), id="f1"),
    pytest.param(tmc.MulticlassFBetaScore, {"beta": 2.0}, xploss_f_beta(2.0), id="f2"),
    pytest.param(tmc.MulticlassPrecision, {}, xploss_named("precision"), id="precision"),
    pytest.param(tmc.MulticlassRecall, {}, xploss_named("recall"), id="recall"),
    pytest.param(tmc.MulticlassSpecificity, {}, xploss.specificity, id="specificity"),
]
SPARSE = sparse_maps(5, background_images=False)  # every image lacks some classes


def torchmetrics_value(peer, options, maps, **more) -> np.ndarray:
    metric = peer(num_classes=maps.classes, **options, **more)
    logits, target, _ = torch_inputs(maps)
    return metric(logits, target).double().numpy()


@pytest.mark.parametrize("multidim_average", ["global", "samplewise"])
@pytest.mark.parametrize(("peer", "options", "score"), TORCHMETRICS)
def test_torchmetrics_multiclass(peer, options, score, multidim_average):
    """TorchMetrics' macro average leaves out classes absent from target and prediction
    (``empty_class="exclude"``); its samplewise results are per image, xploss' their mean."""
    maps = SPARSE
    _, _, logits = torch_inputs(maps)
    common = {"class_axis": 1, "from_logits": "softmax", "aggregation_level": multidim_average}

    def peer_value(average):
        value = torchmetrics_value(
            peer, options, maps, average=average, multidim_average=multidim_average
        )
        return value.mean(axis=0) if multidim_average == "samplewise" else value

    for average in AVERAGES:
        empty_class = "exclude" if average == "macro" else "zero_division"
        got = score(maps.target, logits, average=average, empty_class=empty_class, **common)
        assert_close(got, peer_value(average))
    # xploss' default scores empty classes by the formula: the mean of TorchMetrics' "none".
    per_class = torchmetrics_value(
        peer, options, maps, average="none", multidim_average=multidim_average
    )
    default = score(maps.target, logits, average="macro", **common)
    assert_close(default, np.mean(per_class.mean(axis=-1)))
    if multidim_average == "samplewise":  # every class is in some image, not in each
        assert not np.isclose(default, peer_value("macro"))


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize(("peer", "options", "score"), TORCHMETRICS[:4])
def test_torchmetrics_zero_division(peer, options, score, zero_division):
    maps = DATA["gaps"]
    _, _, logits = torch_inputs(maps)
    for average in AVERAGES:
        empty_class = "exclude" if average == "macro" else "zero_division"
        got = score(
            maps.target,
            logits,
            class_axis=1,
            from_logits="softmax",
            average=average,
            empty_class=empty_class,
            zero_division=zero_division,
        )
        peer_value = torchmetrics_value(
            peer, options, maps, average=average, zero_division=zero_division
        )
        assert_close(got, peer_value)


@pytest.mark.parametrize("multidim_average", ["global", "samplewise"])
def test_torchmetrics_ignore_index(multidim_average):
    maps = DATA["five"]
    target = maps.target.copy()
    target[np.random.default_rng(6).random(target.shape) < 0.3] = 255
    padded = Maps(target, maps.predicted, maps.classes)
    _, _, logits = torch_inputs(padded)
    for peer, options, score in (p.values for p in TORCHMETRICS):
        for average in AVERAGES:
            peer_value = torchmetrics_value(
                peer,
                options,
                padded,
                average=average,
                multidim_average=multidim_average,
                ignore_index=255,
            )
            if multidim_average == "samplewise":
                peer_value = peer_value.mean(axis=0)
            got = score(
                target,
                logits,
                class_axis=1,
                from_logits="softmax",
                average=average,
                aggregation_level=multidim_average,
                ignore_index=255,
                empty_class="exclude" if average == "macro" else "zero_division",
            )
            assert_close(got, peer_value)


@pytest.mark.parametrize("zero_division", [0.0, 1.0])
@pytest.mark.parametrize("data", ["random", "gaps"])
def test_torchmetrics_jaccard_index(data, zero_division):
    maps = DATA[data]
    logits, target, xp_logits = torch_inputs(maps)
    for average in AVERAGES:
        peer = tmc.MulticlassJaccardIndex(
            maps.classes, average=average, zero_division=zero_division
        )
        got = xploss.confusion_metric(
            maps.target,
            xp_logits,
            metric="jaccard",
            class_axis=1,
            from_logits="softmax",
            average=average,
            zero_division=zero_division,
            empty_class="exclude" if average == "macro" else "zero_division",
        )
        assert_close(got, peer(logits, target).double().numpy())


@pytest.mark.parametrize("data", ["random", "gaps", "five"])
def test_torchmetrics_binary_mcc_of_each_class(data):
    """Equal where the formula is defined; TorchMetrics scores a class absent from target and
    prediction 1 (xploss: ``empty_class="perfect"``) and has its own values for the other 0/0
    (xploss: ``zero_division``, 0 as scikit-learn)."""
    maps = DATA[data]
    y_pred = one_hot(maps.predicted, maps.classes)
    got = xploss.matthews_corrcoef(maps.target, y_pred, average="none", empty_class="perfect")
    tp, fp, fn, tn = one_vs_rest_counts(maps).T
    defined = (tp + fp > 0) & (tp + fn > 0) & (tn + fp > 0) & (tn + fn > 0)
    empty = tp + fp + fn == 0
    for c in np.flatnonzero(defined | empty):
        preds = torch.from_numpy((maps.predicted == c).astype(np.int64))
        target = torch.from_numpy((maps.target == c).astype(np.int64))
        assert_close(got[c], tmc.BinaryMatthewsCorrCoef()(preds, target).double().numpy())
    assert (data == "gaps") == (not defined.all())  # the 0/0 cases are covered
    if data == "gaps":
        default = xploss.matthews_corrcoef(maps.target, y_pred, average="none")
        assert_close(default[~defined], 0.0)
        assert_close(got[empty], 1.0)


SEGMENTATION = sparse_maps(7)  # with an all-background image, and a background-only target


def segmentation_inputs(maps: Maps) -> tuple[torch.Tensor, torch.Tensor]:
    """TorchMetrics' one-hot ``(B, C, H, W)`` integer prediction and target."""
    return tuple(
        torch.from_numpy(one_hot(labels, maps.classes, axis=1).astype(np.int64))
        for labels in (maps.predicted, maps.target)
    )


@pytest.mark.parametrize("include_background", [True, False])
@pytest.mark.parametrize("aggregation_level", ["global", "samplewise"])
def test_torchmetrics_dice_score(aggregation_level, include_background):
    """DiceScore leaves NaN (absent) classes and images out of its means: xploss'
    ``empty_class="exclude"``; ``zero_division=NaN`` says the same where no weights enter."""
    maps = SEGMENTATION
    preds, target = segmentation_inputs(maps)
    y_pred = one_hot(maps.predicted, maps.classes)
    common = {"include_background": include_background, "aggregation_level": aggregation_level}
    for average in AVERAGES:
        peer = tms.DiceScore(maps.classes, average=average, input_format="one-hot", **common)
        expected = peer(preds, target).double().numpy()
        got = xploss.confusion_metric(
            maps.target, y_pred, metric="dice", average=average, empty_class="exclude", **common
        )
        assert_close(got, expected)
        if average != "weighted":
            nan = xploss.confusion_metric(
                maps.target, y_pred, metric="dice", average=average, zero_division=NAN, **common
            )
            assert_close(nan, expected)
    index = tms.DiceScore(maps.classes, average="macro", input_format="index", **common)
    expected = index(torch.from_numpy(maps.predicted), torch.from_numpy(maps.target))
    got = xploss.confusion_metric(maps.target, y_pred, metric="f1", empty_class="exclude", **common)
    assert_close(got, expected.double().numpy())


def per_image_values(maps: Maps, score: Callable, **options) -> np.ndarray:
    """``(B, C)``: each image's per-class values, scored alone."""
    images = (maps.image(b) for b in range(maps.images))
    return np.stack(
        [
            score(m.target, one_hot(m.predicted, m.classes), average="none", **options)
            for m in images
        ]
    )


@pytest.mark.parametrize("include_background", [True, False])
def test_torchmetrics_mean_iou(include_background):
    """MeanIoU: per class, the mean over the images where the class is present (``-1`` for
    none: xploss' NaN); overall, the mean over the present (image, class) pairs, which xploss'
    per-image-then-images mean equals only where every image holds as many present classes."""
    maps = SEGMENTATION
    preds, target = segmentation_inputs(maps)
    iou = xploss_named("iou")
    options = {"include_background": include_background, "zero_division": NAN}
    per_class = tms.MeanIoU(maps.classes, include_background=include_background, per_class=True)
    expected = per_class(preds, target).double().numpy()
    got = iou(
        maps.target,
        one_hot(maps.predicted, maps.classes),
        average="none",
        aggregation_level="samplewise",
        **options,
    )
    assert_close(np.nan_to_num(got, nan=-1.0), expected)

    values = per_image_values(maps, iou, **options)
    overall = tms.MeanIoU(maps.classes, include_background=include_background)
    assert_close(nan_mean(values), overall(preds, target).double().numpy())
    per_image = mean_iou(preds, target, maps.classes, include_background=include_background)
    macro = [
        iou(m.target, one_hot(m.predicted, m.classes), average="macro", **options)
        for m in map(maps.image, range(maps.images))
    ]
    assert_close(macro, per_image.double().numpy())
    samplewise = iou(
        maps.target,
        one_hot(maps.predicted, maps.classes),
        average="macro",
        aggregation_level="samplewise",
        **options,
    )
    assert_close(samplewise, nan_mean(nan_mean(values, axis=1)))
    assert not np.isclose(samplewise, nan_mean(values))  # images hold 1 to 3 classes

    full = random_maps(8, shape=(3, 6, 6), classes=3)  # every class in every image
    preds, target = segmentation_inputs(full)
    overall = tms.MeanIoU(full.classes, include_background=include_background)
    got = iou(
        full.target,
        one_hot(full.predicted, full.classes),
        average="macro",
        aggregation_level="samplewise",
        **options,
    )
    assert_close(got, overall(preds, target).double().numpy())


# ---- 3. MONAI --------------------------------------------------------------------------------
# xploss' confusion_metric takes MONAI's names as they are.
MONAI_NAMES = [
    "sensitivity",
    "specificity",
    "precision",
    "negative predictive value",
    "miss rate",
    "fall out",
    "accuracy",
    "balanced accuracy",
    "f1 score",
    "matthews correlation coefficient",
    "threat score",
]


def monai_inputs(maps: Maps) -> tuple[torch.Tensor, torch.Tensor]:
    """MONAI's binarized one-hot ``(B, C, H, W)`` float prediction and target."""
    return tuple(
        torch.from_numpy(one_hot(labels, maps.classes, axis=1))
        for labels in (maps.predicted, maps.target)
    )


@pytest.mark.parametrize("include_background", [True, False])
def test_monai_confusion_counts(include_background):
    maps = SEGMENTATION
    y_pred, y = monai_inputs(maps)
    counts = get_confusion_matrix(y_pred, y, include_background=include_background).numpy()
    tp, fp, fn, tn = xploss.confusion_stats(
        maps.target,
        y_pred.numpy(),
        class_axis=1,
        aggregation_level="samplewise",
        include_background=include_background,
    )
    assert_close(np.stack([tp, fp, tn, fn], axis=-1), counts)  # MONAI's order


def test_monai_sentinel_ignore_index():
    """MONAI's ``ignore_index`` outside the classes leaves out the pixels whose one-hot target
    is all 0: xploss' ``ignore_index=255`` on the label map, or on the one-hot target."""
    maps = DATA["five"]
    target = maps.target.copy()
    target[np.random.default_rng(10).random(target.shape) < 0.3] = 255
    hot = np.moveaxis(np.eye(6)[np.where(target == 255, 5, target)][..., :5], -1, 1)
    y_pred, y = torch.from_numpy(one_hot(maps.predicted, 5, axis=1)), torch.from_numpy(hot)
    counts = get_confusion_matrix(y_pred, y, ignore_index=255).numpy()
    options = {"class_axis": 1, "ignore_index": 255}
    for y_true in (target, hot):
        tp, fp, fn, tn = xploss.confusion_stats(
            y_true, y_pred.numpy(), aggregation_level="samplewise", **options
        )
        assert_close(np.stack([tp, fp, tn, fn], axis=-1), counts)
    metric = ConfusionMatrixMetric(
        metric_name=MONAI_NAMES, compute_sample=True, reduction="mean", ignore_index=255
    )
    metric(y_pred=y_pred, y=y)
    for name, value in zip(MONAI_NAMES, metric.aggregate(), strict=True):
        got = xploss.confusion_metric(
            target,
            y_pred.numpy(),
            metric=name,
            aggregation_level="samplewise",
            zero_division=NAN,
            **options,
        )
        assert_close(got, value.double().numpy()[0])


def monai_metric(maps, names, *, reduction, compute_sample, include_background=True, y=None):
    metric = ConfusionMatrixMetric(
        include_background=include_background,
        metric_name=names,
        compute_sample=compute_sample,
        reduction=reduction,
        get_not_nans=True,
    )
    y_pred, target = monai_inputs(maps) if y is None else y
    metric(y_pred=y_pred, y=target)
    return [(f.double().numpy(), n.double().numpy()) for f, n in metric.aggregate()]


def xploss_like_monai(maps, name, *, reduction, compute_sample, include_background=True):
    """The xploss value of a MONAI reduction, and how many scores it averages (MONAI's
    ``not_nans`` where ``compute_sample``). Without ``compute_sample`` MONAI averages the counts
    before the score (``"mean"``: over classes and images, the pooled ``average="micro"``;
    ``"mean_batch"``: per class); with it, it averages the scores of each (image, class), NaN
    for 0/0, leaving NaN out (``"mean"``: over the classes, then over the images)."""
    score = xploss_named(name)
    options = {"include_background": include_background, "zero_division": NAN}
    values = per_image_values(maps, score, **options)
    defined = ~np.isnan(values)
    if reduction == "none":
        return values, defined
    average, level = {
        (False, "mean"): ("micro", "global"),
        (False, "mean_batch"): ("none", "global"),
        (True, "mean"): ("macro", "samplewise"),
        (True, "mean_batch"): ("none", "samplewise"),
    }[(compute_sample, reduction)]
    y_pred = one_hot(maps.predicted, maps.classes)
    value = score(maps.target, y_pred, average=average, aggregation_level=level, **options)
    counted = defined.any(axis=1).sum() if reduction == "mean" else defined.sum(axis=0)
    return value, counted


def assert_matches_monai(got, counted, value, not_nans) -> None:
    """Equal values and counts; where MONAI averages nothing (``not_nans == 0``) it reports 0
    (NaN without a reduction), xploss ``zero_division``, NaN here."""
    value, not_nans = np.reshape(value, np.shape(got)), np.reshape(not_nans, np.shape(got))
    assert_close(counted, not_nans)
    nothing = not_nans == 0
    assert np.isnan(got[nothing]).all()
    assert ((value[nothing] == 0) | np.isnan(value[nothing])).all()
    assert_close(got[~nothing], value[~nothing])


@pytest.mark.parametrize("reduction", ["mean", "mean_batch", "none"])
@pytest.mark.parametrize("compute_sample", [False, True])
@pytest.mark.parametrize("include_background", [True, False])
def test_monai_confusion_matrix_metric(include_background, compute_sample, reduction):
    """On images where classes are absent (MONAI's 0/0 is NaN: ``zero_division=NaN``)."""
    maps = SEGMENTATION
    options = {
        "reduction": reduction,
        "compute_sample": compute_sample,
        "include_background": include_background,
    }
    results = monai_metric(maps, MONAI_NAMES, **options)
    for name, (value, not_nans) in zip(MONAI_NAMES, results, strict=True):
        got, counted = xploss_like_monai(maps, name, **options)
        if compute_sample:
            assert_matches_monai(got, counted, value, not_nans)
        else:  # MONAI's not_nans count the averaged counts, never NaN
            assert_close(got, np.reshape(value, np.shape(got)))
    assert np.isnan(results[0][0]).any() or reduction != "none"  # NaN cases are covered


# The inputs of MONAI's tests/metrics/test_compute_confusion_matrix.py, and the values its
# cases publish (4 digits; checked at MONAI's own tolerance, 1e-4).
MONAI_CASE = (
    [
        [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]],
        [[[0.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]],
    ],
    [
        [[[0.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]],
        [[[0.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]]],
    ],
)
MONAI_NAN_CASE = (
    [
        [[[0.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]]],
        [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]],
        [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]],
    ],
    [
        [[[0.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]],
        [[[1.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]],
        [[[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]],
    ],
)
MONAI_COUNTS = [  # published: tp, fp, tn, fn per image and class
    [[0.0, 1.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 2.0, 1.0]],
    [[1.0, 0.0, 3.0, 0.0], [1.0, 0.0, 2.0, 1.0], [1.0, 1.0, 2.0, 0.0]],
]
MONAI_PUBLISHED = {  # metric: (reduction "mean", "mean_batch"), compute_sample=True
    "tpr": ([0.5], [0.5, 0.5, 0.5]),
    "fpr": ([0.25], [0.1667, 0.25, 0.3333]),
    "tnr": ([0.75], [0.8333, 0.75, 0.6667]),
    "ppv": ([0.5], [0.5, 0.75, 0.25]),
    "npv": ([0.75], [0.8333, 0.5833, 0.8333]),
    "fnr": ([0.5], [0.5, 0.5, 0.5]),
    "ts": ([0.3889], [0.5, 0.4167, 0.25]),
    "acc": ([0.6667], [0.75, 0.625, 0.625]),
    "ba": ([0.625], [0.6667, 0.625, 0.5833]),
    "f1": ([0.4722], [0.5, 0.5833, 0.3333]),
    "mcc": ([0.248], [0.3333, 0.2887, 0.122]),
}


def monai_case(case) -> tuple[Maps, tuple[torch.Tensor, torch.Tensor]]:
    y_pred, y = (torch.tensor(a, dtype=torch.float64) for a in case)
    maps = Maps(y.argmax(1).numpy(), y_pred.argmax(1).numpy(), 3)
    assert torch.equal(torch.from_numpy(one_hot(maps.target, 3, axis=1)), y)  # one-hot
    return maps, (y_pred, y)


def test_monai_published_confusion_matrix():
    _, (y_pred, y) = monai_case(MONAI_CASE)
    tp, fp, fn, tn = xploss.confusion_stats(
        y.numpy(), y_pred.numpy(), class_axis=1, aggregation_level="samplewise"
    )
    assert_close(np.stack([tp, fp, tn, fn], axis=-1), MONAI_COUNTS)
    assert_close(get_confusion_matrix(y_pred, y).numpy(), MONAI_COUNTS)


@pytest.mark.parametrize("name", list(MONAI_PUBLISHED))
def test_monai_published_compute_sample_cases(name):
    maps, inputs = monai_case(MONAI_CASE)
    options = {"class_axis": 1, "aggregation_level": "samplewise", "zero_division": NAN}
    score = xploss_named(name)
    y_true, y_pred = (t.numpy() for t in reversed(inputs))
    for reduction, average, published in zip(
        ("mean", "mean_batch"), ("macro", "none"), MONAI_PUBLISHED[name], strict=True
    ):
        got = score(y_true, y_pred, average=average, **options)
        np.testing.assert_allclose(np.reshape(got, -1), published, rtol=1e-4, atol=1e-4)
        ((value, _),) = monai_metric(maps, name, reduction=reduction, compute_sample=True, y=inputs)
        assert_close(np.reshape(got, -1), value)


def test_monai_published_nan_case():
    """MONAI's case with 0/0: the published sums of the defined per-image sensitivities and
    specificities, and how many there are (its "sum" and "sum_batch" reductions)."""
    maps, inputs = monai_case(MONAI_NAN_CASE)
    published = {  # name: (sum, not_nans, sum_batch, not_nans per class)
        "tpr": (0.5, 6, [0.0, 0.5, 0.0], [3, 2, 1]),
        "tnr": (4.8333, 8, [1.6667, 2.5, 0.6667], [2, 3, 3]),
    }
    for name, (total, count, per_class, class_count) in published.items():
        values = per_image_values(maps, xploss_named(name), zero_division=NAN)
        defined = ~np.isnan(values)
        np.testing.assert_allclose(np.nansum(values), total, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(np.nansum(values, axis=0), per_class, rtol=1e-4, atol=1e-4)
        assert defined.sum() == count and defined.sum(axis=0).tolist() == class_count
        for reduction in ("mean", "mean_batch"):
            options = {"reduction": reduction, "compute_sample": True}
            ((value, not_nans),) = monai_metric(maps, name, y=inputs, **options)
            assert_matches_monai(*xploss_like_monai(maps, name, **options), value, not_nans)


# ---- 4. every backend, and the empty-class policies -------------------------------------------
def several_scores(target, padded, y_pred, **options):
    """One function (one compilation) of a macro, a per-class samplewise and a weighted score;
    ``padded`` holds the label 255, ignored."""
    return (
        xploss.f_beta_score(target, y_pred, beta=2.0, average="macro", **options),
        xploss.matthews_corrcoef(
            target, y_pred, average="none", aggregation_level="samplewise", **options
        ),
        xploss.confusion_metric(
            padded, y_pred, metric="precision", average="weighted", ignore_index=255, **options
        ),
    )


def sklearn_several_scores(maps: Maps, padded: np.ndarray) -> list:
    y, p, labels = maps.target.ravel(), maps.predicted.ravel(), list(range(maps.classes))
    per_image_mcc = [
        [skm.matthews_corrcoef(m.target.ravel() == c, m.predicted.ravel() == c) for c in labels]
        for m in map(maps.image, range(maps.images))
    ]
    kept = padded.ravel() != 255
    return [
        skm.fbeta_score(y, p, beta=2.0, average="macro", labels=labels, zero_division=0),
        np.mean(per_image_mcc, axis=0),
        skm.precision_score(y[kept], p[kept], average="weighted", labels=labels, zero_division=0),
    ]


def test_every_backend_gives_sklearn_values(backend):
    maps = DATA["gaps"]
    padded = maps.target.copy()
    padded[np.random.default_rng(9).random(padded.shape) < 0.3] = 255
    logits = logits_of(maps.predicted, maps.classes)
    arrays = (backend.asarray(a) for a in (maps.target, padded, logits))
    got = backend.call(several_scores, *arrays, from_logits="softmax")
    for value, expected in zip(got, sklearn_several_scores(maps, padded), strict=True):
        assert_close(backend.to_numpy(value), expected)


BEST = {"false_positive_rate": 0.0, "false_negative_rate": 0.0}  # 1 for the others


def oracle_scores(name, tp, fp, fn, tn, beta, zero_division):
    """Each class's score and whether its ratio is defined, from the formulas."""

    def divided(numerator, denominator):
        return ratio(numerator, denominator, zero_division), denominator != 0

    if name == "balanced_accuracy":
        (sensitivity, positives), (selectivity, negatives) = (
            divided(tp, tp + fn),
            divided(tn, tn + fp),
        )
        return (sensitivity + selectivity) / 2, positives & negatives
    if name == "matthews_corrcoef":
        return divided(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))
    b2 = beta**2
    numerator, denominator = {
        "dice": (2 * tp, 2 * tp + fp + fn),
        "f_beta": ((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp),
        "iou": (tp, tp + fp + fn),
        "precision": (tp, tp + fp),
        "recall": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "negative_predictive_value": (tn, tn + fn),
        "false_positive_rate": (fp, fp + tn),
        "false_negative_rate": (fn, fn + tp),
        "accuracy": (tp + tn, tp + fp + fn + tn),
    }[name]
    return divided(numerator, denominator)


def oracle_average(counts, o) -> tuple[np.ndarray, np.ndarray]:
    """The average over the classes (last axis) of ``counts`` (tp, fp, fn, tn), and how many
    class scores it holds, as the docstrings of xploss' options say."""
    if o["average"] == "micro":
        counts = [c.sum(axis=-1, keepdims=True) for c in counts]
    tp, fp, fn, _ = counts
    value, defined = oracle_scores(o["metric"], *counts, o["beta"], o["zero_division"])
    entered = defined if math.isnan(o["zero_division"]) else np.ones_like(defined)
    empty = tp + fp + fn == 0
    if o["empty_class"] == "perfect":
        value = np.where(empty, BEST.get(o["metric"], 1.0), value)
        entered = entered | empty
    elif o["empty_class"] == "exclude":
        entered = entered & ~empty
    if o["average"] == "none":
        return np.where(entered, value, NAN), entered
    if o["average"] == "micro":
        return np.where(entered, value, o["zero_division"])[..., 0], entered[..., 0]
    weight = entered * (tp + fn if o["average"] == "weighted" else 1.0)
    total = np.sum(weight * np.where(entered, value, 0.0), axis=-1)
    return ratio(total, weight.sum(axis=-1), o["zero_division"]), entered.sum(axis=-1)


def oracle(y_true, predicted, kept, o) -> np.ndarray:
    """Counts by sums of boolean arrays ``(B, N, C)``; per image then the mean over the images
    whose average holds a score (per class for ``"none"``), or of the pooled counts."""
    samplewise = o["aggregation_level"] == "samplewise"
    axes = 1 if samplewise else (0, 1)
    counts = [
        np.sum(a & b & kept, axis=axes).astype(np.float64)
        for a, b in ((y_true, predicted), (~y_true, predicted), (y_true, ~predicted))
    ]
    counts.append(np.sum(kept, axis=axes) - sum(counts))  # tn: the kept elements left
    if not o["include_background"] and y_true.shape[-1] > 1:
        counts = [c[..., 1:] for c in counts]
    value, entries = oracle_average(counts, o)
    if not samplewise:
        return value
    images = entries > 0  # (B,) or, for "none", (B, C)
    total = np.sum(np.where(images, value, 0.0), axis=0)
    return ratio(total, images.sum(axis=0), o["zero_division"])


@st.composite
def empty_class_cases(draw):
    """Binary targets and predictions ``(B, H, W, C)`` (several labels per pixel allowed) with
    each (image, class) all 0, all 1 or mixed, so classes are empty often; a mask sometimes."""
    batch, height, width, classes = (draw(st.integers(1, n)) for n in (3, 3, 3, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (batch, height, width, classes)

    def binary():
        density = rng.choice([0.0, 0.4, 1.0], size=(batch, 1, 1, classes))
        return rng.random(shape) < density

    y_true, predicted = binary(), binary()
    y_pred = np.where(predicted, rng.uniform(0.51, 1.0, shape), rng.uniform(0.0, 0.5, shape))
    mask = rng.random((batch, height, width, 1)) < 0.7 if draw(st.booleans()) else None
    options = {
        "metric": draw(st.sampled_from(xploss.CONFUSION_SCORES)),
        "beta": draw(st.sampled_from([0.5, 1.0, 2.0])),
        "average": draw(st.sampled_from(AVERAGES)),
        "aggregation_level": draw(st.sampled_from(["global", "samplewise"])),
        "empty_class": draw(st.sampled_from(["zero_division", "perfect", "exclude"])),
        "zero_division": draw(st.sampled_from([0.0, 1.0, NAN])),
        "include_background": draw(st.booleans()),
    }
    return y_true, predicted, y_pred, mask, options


@given(empty_class_cases())
def test_empty_class_policies_match_a_numpy_oracle(case):
    y_true, predicted, y_pred, mask, options = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # include_background=False on one class is ignored
        got = xploss.confusion_metric(y_true.astype(np.float64), y_pred, mask=mask, **options)
    flat = (y_true.shape[0], -1, y_true.shape[-1])
    kept = np.ones((*y_true.shape[:-1], 1), bool) if mask is None else mask
    expected = oracle(
        y_true.reshape(flat), predicted.reshape(flat), kept.reshape((*flat[:2], 1)), options
    )
    assert_close(got, expected)
