"""``xploss.torch.ConfusionMatrixMetric``'s state: what ``compute()`` gives after several updates
equals one call of the functional API on everything seen, for every score, average, aggregation
level and input layout; and the state survives ``.half()``, ``state_dict`` and ``reset``."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402

SCORES = xploss.CONFUSION_SCORES
AVERAGES = ("micro", "macro", "weighted", "none")
LEVELS = ("global", "samplewise")
POLICIES = {
    "formula": {},
    "monai": {"empty_class": "exclude", "zero_division": math.nan},
    "perfect": {"empty_class": "perfect"},
}
SPLITS = ((0, 2), (2, 2), (2, 5))  # three updates, the second of no image
# Global scores are ratios of sums of integer counts, exact in float64 whatever the order of the
# sums. Samplewise means add per-image values in batches, then the batches: another order than
# one sum, so the last bits may differ (5 values in [-1, 1]: well under 100 eps).
ATOL = {"global": 0.0, "samplewise": 100 * np.finfo(np.float64).eps}


def layouts() -> dict[str, tuple[torch.Tensor, torch.Tensor, dict]]:
    """Five float64 images in each input layout the metric takes, with the options that read
    them; class 2 is absent from some images and predictions, so that empty classes occur."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 3, 4, 4, generator=g, dtype=torch.float64) * 2
    logits[1:3, 2] -= 10  # no prediction of class 2 in images 1 and 2
    labels = torch.randint(0, 3, (5, 4, 4), generator=g)
    labels[:3][labels[:3] == 2] = 1  # no class 2 in images 0 to 2
    one_hot = torch.nn.functional.one_hot(labels, 3).movedim(-1, 1).to(torch.float64)
    probabilities = torch.rand(5, 4, 4, generator=g, dtype=torch.float64)
    binary = (torch.rand(5, 4, 4, generator=g) > 0.6).to(torch.float64)
    return {
        "one_hot": (torch.softmax(logits, 1), one_hot, {}),
        "labels": (logits, labels, {"from_logits": "softmax"}),
        "mask": (logits[:, :1], binary, {"from_logits": True}),  # (B, 1, H, W) and (B, H, W)
        "no_class_axis": (probabilities, binary, {"class_axis": None}),  # (B, H, W) both
    }


LAYOUTS = layouts()


def functional(name: str, x: torch.Tensor, y: torch.Tensor, **options) -> torch.Tensor:
    """The score by the functional API, channels-first as the metric."""
    return xploss.confusion_metric(y, x, metric=name, **{"class_axis": 1, **options})


def assert_equal(got: torch.Tensor, want: torch.Tensor, level: str = "global", msg: str = ""):
    assert got.dtype == torch.float64, msg
    torch.testing.assert_close(
        got,
        want.to(torch.float64),
        rtol=0,
        atol=ATOL[level],
        equal_nan=True,
        msg=lambda details: f"{msg}\n{details}",
    )


@pytest.mark.parametrize("policy", list(POLICIES))
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_compute_over_updates_equals_one_functional_call(layout, average, level, policy):
    x, y, options = LAYOUTS[layout]
    options = {**options, **POLICIES[policy], "average": average, "aggregation_level": level}
    metric = xt.ConfusionMatrixMetric(metrics=SCORES, **options)
    for first, last in SPLITS:
        metric.update(x[first:last], y[first:last])
    got = metric.compute()
    assert list(got) == list(SCORES)
    for name in SCORES:
        assert_equal(got[name], functional(name, x, y, **options), level, name)


@pytest.mark.parametrize("level", LEVELS)
def test_the_counts_and_scores_equal_torchmetrics(level):
    from torchmetrics.classification import (
        MulticlassF1Score,
        MulticlassPrecision,
        MulticlassRecall,
        MulticlassSpecificity,
        MulticlassStatScores,
    )

    g = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 3, 5, 5, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (6, 5, 5), generator=g)
    multidim = "global" if level == "global" else "samplewise"
    common = {"num_classes": 3, "average": "macro", "multidim_average": multidim}
    peers = {
        "dice": MulticlassF1Score(**common),
        "precision": MulticlassPrecision(**common),
        "recall": MulticlassRecall(**common),
        "specificity": MulticlassSpecificity(**common),
    }
    stat_scores = MulticlassStatScores(num_classes=3, average=None)
    metric = xt.ConfusionMatrixMetric(
        metrics=tuple(peers), from_logits="softmax", aggregation_level=level
    )
    per_image: dict[str, list[torch.Tensor]] = {name: [] for name in peers}
    for first in range(0, 6, 4):  # batches of 4 and 2
        x, y = logits[first : first + 4], labels[first : first + 4]
        metric.update(x, y)
        stat_scores.update(x, y)
        for name, peer in peers.items():
            per_image[name].append(peer(x, y))  # samplewise: one value per image
    tp, fp, tn, fn, _ = stat_scores.compute().T
    assert torch.equal(metric.counts, torch.stack([tp, fp, fn, tn]).to(torch.float64))
    got = metric.compute()
    for name, peer in peers.items():
        want = peer.compute() if level == "global" else torch.cat(per_image[name]).mean()
        torch.testing.assert_close(
            got[name].float(), want.float(), msg=lambda m, name=name: f"{name}: {m}"
        )


def test_forward_returns_the_batch_value_and_accumulates():
    x, y, options = LAYOUTS["labels"]
    metric = xt.ConfusionMatrixMetric(metrics=("dice", "mcc"), **options)
    for first, last in ((0, 2), (2, 5)):
        batch = metric(x[first:last], y[first:last])
        for name in ("dice", "matthews_corrcoef"):
            assert_equal(batch[name], functional(name, x[first:last], y[first:last], **options))
    single = xt.ConfusionMatrixMetric(**options)
    assert_equal(single(x[:2], y[:2]), functional("dice", x[:2], y[:2], **options))
    assert_equal(metric.compute()["dice"], functional("dice", x, y, **options))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("convert", ["half", "to_float16", "bfloat16", "double"])
def test_dtype_conversions_keep_the_float64_state(level, convert):
    x, y, options = LAYOUTS["labels"]
    options = {**options, "aggregation_level": level}
    metric = xt.ConfusionMatrixMetric(metrics=("dice", "iou"), **options)
    metric.update(x[:2], y[:2])
    before = {k: v.clone() for k, v in metric.state_dict().items()}
    if convert == "to_float16":
        metric.to(torch.float16)
    else:
        getattr(metric, convert)()
    for name, value in metric.state_dict().items():
        assert value.dtype == before[name].dtype, name
        assert torch.equal(value, before[name]), name
    metric.update(x[2:], y[2:])  # float64 inputs still add to a float64 state
    assert metric.counts.dtype == metric.images.dtype == torch.float64
    assert_equal(metric.compute()["iou"], functional("iou", x, y, **options), level)


@pytest.mark.parametrize("level", LEVELS)
def test_state_dict_round_trip_into_a_fresh_metric(level):
    x, y, options = LAYOUTS["labels"]
    options = {**options, "aggregation_level": level, "metrics": ("dice", "specificity")}
    metric = xt.ConfusionMatrixMetric(dataset_size=4, **options)
    metric.update(x[:3], y[:3])
    fresh = xt.ConfusionMatrixMetric(dataset_size=4, **options)
    fresh.load_state_dict(metric.state_dict())
    for name, value in metric.state_dict().items():
        assert torch.equal(fresh.state_dict()[name], value), name
    # Both continue alike: the position in the dataset came along, so both drop image 4.
    for m in (metric, fresh):
        m.update(x[3:], y[3:])
    want = functional("dice", x[:4], y[:4], aggregation_level=level, **LAYOUTS["labels"][2])
    for m in (metric, fresh):
        assert_equal(m.compute()["dice"], want, level)


def test_reset_forgets_the_state_and_the_position_in_the_dataset():
    x, y, options = LAYOUTS["labels"]
    metric = xt.ConfusionMatrixMetric(dataset_size=2, **options)
    metric.update(x[:2], y[:2])
    metric.reset()
    assert int(metric.samples_seen) == 0
    with pytest.warns(UserWarning, match="before any update"):
        assert torch.isnan(metric.compute())
    metric.update(x[2:], y[2:])  # positions 0 and 1 again: images 2 and 3 are kept
    assert_equal(metric.compute(), functional("dice", x[2:4], y[2:4], **options))


def test_reset_accepts_another_class_count():
    x, y, options = LAYOUTS["labels"]
    metric = xt.ConfusionMatrixMetric(**options)
    metric.update(x[:2], y[:2])
    metric.reset()
    g = torch.Generator().manual_seed(2)
    four = torch.randn(3, 4, 4, 4, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (3, 4, 4), generator=g)
    metric.update(four, labels)  # 4 classes after 3: no error after reset
    assert_equal(metric.compute(), functional("dice", four, labels, **options))


@pytest.mark.parametrize("include_background", [True, False])
def test_a_change_of_class_count_raises_naming_the_shapes(include_background):
    x, y, options = LAYOUTS["labels"]
    metric = xt.ConfusionMatrixMetric(include_background=include_background, **options)
    metric.update(x[:2], y[:2])
    four = torch.randn(2, 4, 4, 4, dtype=torch.float64)
    state, held = ("(4, 3)", 3) if include_background else ("(4, 2)", 2)
    expected = rf"shape \(2, 4, 4, 4\), with {held + 1} classes.*state of shape {re.escape(state)}"
    with pytest.raises(ValueError, match=expected):
        metric.update(four, torch.zeros(2, 4, 4, dtype=torch.int64))
    assert_equal(metric.compute(), functional("dice", x[:2], y[:2], **options,
                                              include_background=include_background))  # fmt: skip


@pytest.mark.parametrize("metrics", [("dice",), ("dice", "specificity")])
def test_compute_before_any_update_warns_and_is_nan(metrics):
    metric = xt.ConfusionMatrixMetric(metrics=metrics)
    with pytest.warns(UserWarning, match=r"ConfusionMatrixMetric.compute\(\) called before"):
        got = metric.compute()
    values = [got] if len(metrics) == 1 else [got[name] for name in metrics]
    assert all(torch.isnan(v) and v.ndim == 0 for v in values)


def per_class_report(x, y, options, names) -> dict[str, float]:
    """What ``report()`` must give: each average, then each class's value, by the functional
    API."""
    want: dict[str, float] = {}
    for score in ("dice", "recall"):
        want[score] = float(functional(score, x, y, **options))
        values = functional(score, x, y, **{**options, "average": "none"}).tolist()
        want.update({f"{score}/{n}": v for n, v in zip(names, values, strict=True)})
    return want


@pytest.mark.parametrize(
    ("include_background", "given", "shown"),
    [
        (True, ("background", "liver", "tumour"), ("background", "liver", "tumour")),
        (False, ("background", "liver", "tumour"), ("liver", "tumour")),  # C names
        (False, ("liver", "tumour"), ("liver", "tumour")),  # C - 1 names
        (True, None, ("0", "1", "2")),
        (False, None, ("1", "2")),
    ],
)
def test_report_names_each_class(include_background, given, shown):
    x, y, options = LAYOUTS["labels"]
    options = {**options, "include_background": include_background}
    metric = xt.ConfusionMatrixMetric(metrics=("dice", "recall"), class_names=given, **options)
    metric.update(x[:2], y[:2])
    metric.update(x[2:], y[2:])
    assert metric.report() == per_class_report(x, y, options, shown)


@pytest.mark.parametrize("include_background", [True, False])
def test_report_rejects_a_wrong_number_of_class_names(include_background):
    x, y, options = LAYOUTS["labels"]
    metric = xt.ConfusionMatrixMetric(
        class_names=("a", "b", "c", "d"), include_background=include_background, **options
    )
    metric.update(x, y)
    with pytest.raises(ValueError, match=r"got 4 class_names .* for an input of 3 classes"):
        metric.report()


def test_class_names_must_be_strings():
    with pytest.raises(TypeError, match="class_names must be a sequence of str"):
        xt.ConfusionMatrixMetric(class_names="tumour")
    with pytest.raises(TypeError, match="class_names must be a sequence of str"):
        xt.ConfusionMatrixMetric(class_names=(0, 1))


NAMED = {
    xt.Specificity: "specificity",
    xt.FBetaScore: "f_beta",
    xt.BalancedAccuracy: "balanced_accuracy",
    xt.MatthewsCorrCoef: "matthews_corrcoef",
    xt.NegativePredictiveValue: "negative_predictive_value",
    xt.FalsePositiveRate: "false_positive_rate",
    xt.FalseNegativeRate: "false_negative_rate",
}


@pytest.mark.parametrize("cls", list(NAMED), ids=lambda c: c.__name__)
def test_named_subclasses_compute_their_score_and_reject_metrics(cls):
    score = NAMED[cls]
    assert "metrics" not in inspect.signature(cls).parameters
    with pytest.raises(TypeError, match=rf"{cls.__name__}\(\) computes '{score}' alone"):
        cls(metrics=("dice",))
    x, y, options = LAYOUTS["labels"]
    options = {**options, "average": "weighted", "beta": 2.0}
    metric = cls(**options)
    metric.update(x[:2], y[:2])
    metric.update(x[2:], y[2:])
    assert_equal(metric.compute(), functional(score, x, y, **options))
    assert "metrics" not in repr(metric)


@pytest.mark.parametrize("level", LEVELS)
def test_dataset_size_without_a_process_group_drops_what_lies_past_it(level):
    x, y, options = LAYOUTS["labels"]
    options = {**options, "aggregation_level": level}
    metric = xt.ConfusionMatrixMetric(metrics=("dice", "mcc"), dataset_size=4, **options)
    metric.update(x[:2], y[:2])
    metric.update(x[2:], y[2:])  # image 4 lies past the dataset's 4
    metric.update(x[:1], y[:1])  # nothing left
    assert int(metric.samples_seen) == 6
    got = metric.compute()
    for name in ("dice", "matthews_corrcoef"):
        assert_equal(got[name], functional(name, x[:4], y[:4], **options), level, name)
    # Macro over the 3 classes, or the mean over the 4 images kept.
    assert float(metric.entries()["dice"]) == (3.0 if level == "global" else 4.0)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("layout", ["labels", "one_hot"])
def test_a_nan_in_the_input_gives_nan(level, layout):
    x, y, options = LAYOUTS[layout]
    x = x.clone()
    x[1, 0, 2, 2] = math.nan
    metric = xt.ConfusionMatrixMetric(metrics=("dice", "specificity"), aggregation_level=level,
                                      **options)  # fmt: skip
    metric.update(x[:2], y[:2])
    metric.update(x[2:], y[2:])
    got = metric.compute()
    assert all(torch.isnan(v) for v in got.values())
