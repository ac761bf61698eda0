"""The catalogue of wrong calls: each gets a ValueError or TypeError that names the argument,
the shapes or rank, and the valid choices."""

from __future__ import annotations

import re

import numpy as np
import pytest

import xploss

Y4 = np.array([[1, 0, 1, 1]] * 4)  # (4, 4)
P4 = np.full((4, 4), 0.5)
LABELS = np.zeros((2, 3), dtype=np.int64)
PROBS = np.full((2, 3, 5), 0.2)

ALL_FUNCTIONS = [
    xploss.dice_coefficient,
    xploss.dice_loss,
    xploss.bce_dice_loss,
    xploss.true_positive_rate,
    xploss.binary_cross_entropy,
    xploss.generalized_dice_loss,
    xploss.overlap_stats,
    xploss.jaccard_index,
    xploss.jaccard_loss,
    xploss.tversky_loss,
    xploss.focal_tversky_loss,
    xploss.precision,
]
WITH_REDUCTION = [f for f in ALL_FUNCTIONS if f is not xploss.overlap_stats]
WITH_SMOOTHING = [
    xploss.dice_coefficient,
    xploss.dice_loss,
    xploss.bce_dice_loss,
    xploss.generalized_dice_loss,
    xploss.jaccard_index,
    xploss.jaccard_loss,
    xploss.tversky_loss,
    xploss.focal_tversky_loss,
]
TVERSKY = [xploss.tversky_loss, xploss.focal_tversky_loss]
WITH_WEIGHT = [f for f in WITH_REDUCTION if f is not xploss.generalized_dice_loss]

# (id, function, y_true, y_pred, options, error type, pattern the message must match)
CATALOGUE = [
    (
        "seed-axis-1-2-3-on-rank-2",
        xploss.dice_coefficient,
        np.arange(24).reshape(4, 6) % 2,
        np.arange(10, 34).reshape(4, 6) / 34,
        {"axis": [1, 2, 3]},
        ValueError,
        r"axis=\[1, 2, 3\] is out of range for an input of shape \(4, 6\) \(rank 2\): "
        r"valid axes are -2\.\.1.*rank at least 3",
    ),
    (
        "axis-negative-out-of-range",
        xploss.dice_loss,
        Y4,
        P4,
        {"axis": -3},
        ValueError,
        r"axis=-3 is out of range .*\(4, 4\) \(rank 2\)",
    ),
    (
        "axis-repeated",
        xploss.dice_loss,
        Y4,
        P4,
        {"axis": (0, -2)},
        ValueError,
        r"axis=\(0, -2\) names an axis twice .*\(4, 4\)",
    ),
    (
        "axis-float",
        xploss.true_positive_rate,
        Y4,
        P4,
        {"axis": (1.0,)},
        ValueError,
        r"axis=\(1\.0,\) must hold integers only.*valid axes are -2\.\.1",
    ),
    (
        "axis-string",
        xploss.dice_coefficient,
        Y4,
        P4,
        {"axis": "1"},
        ValueError,
        r"axis='1' is not an axis",
    ),
    ("axis-bool", xploss.dice_coefficient, Y4, P4, {"axis": True}, ValueError, r"axis=True"),
    (
        "class-axis-in-axis",
        xploss.generalized_dice_loss,
        LABELS,
        PROBS,
        {"axis": (1, 2)},
        ValueError,
        r"axis=\(1, 2\) contains class_axis=2 .*\(2, 3, 5\)",
    ),
    (
        "class-axis-out-of-range",
        xploss.generalized_dice_loss,
        LABELS,
        PROBS,
        {"class_axis": 3},
        ValueError,
        r"class_axis=3 is out of range .*\(2, 3, 5\).*-3\.\.2",
    ),
    (
        "class-axis-not-int",
        xploss.generalized_dice_loss,
        LABELS,
        PROBS,
        {"class_axis": "last"},
        TypeError,
        r"class_axis must be an int",
    ),
    (
        "shapes-mismatch",
        xploss.dice_coefficient,
        np.ones((4, 5)),
        P4,
        {},
        ValueError,
        r"y_true of shape \(4, 5\) does not match y_pred of shape \(4, 4\)",
    ),
    (
        "sparse-bool-labels",
        xploss.dice_coefficient,
        np.ones((2, 3), bool),
        PROBS,
        {},
        ValueError,
        r"y_true of shape \(2, 3\) does not match y_pred of shape \(2, 3, 5\).*integer dtype",
    ),
    (
        "sparse-non-integral-float-labels",
        xploss.dice_coefficient,
        np.full((2, 3), 0.5),
        PROBS,
        {},
        ValueError,
        r"y_true of dtype float64 holds non-integral values \(found 0.5\)",
    ),
    (
        "sparse-wrong-axis",
        xploss.dice_coefficient,
        LABELS,
        PROBS,
        {"class_axis": 0},
        ValueError,
        r"sparse y_true of shape \(2, 3\) .*class_axis=0: expected \(3, 5\)",
    ),
    (
        "integer-y-pred",
        xploss.dice_loss,
        Y4,
        Y4,
        {},
        TypeError,
        r"y_pred must have a floating dtype .*int64",
    ),
    (
        "complex-y-true",
        xploss.dice_loss,
        Y4 + 0j,
        P4,
        {},
        TypeError,
        r"y_true must have a bool, integer or floating dtype, got complex128",
    ),
    (
        "complex-y-pred",
        xploss.dice_loss,
        Y4,
        P4 + 0j,
        {},
        TypeError,
        r"y_pred must have a floating dtype",
    ),
    ("string-y-true", xploss.dice_loss, Y4.astype(str), P4, {}, TypeError, r"y_true"),
    (
        "unknown-reduction",
        xploss.dice_loss,
        Y4,
        P4,
        {"reduction": "avg"},
        ValueError,
        r"reduction='avg' is not one of 'mean', 'sum', 'none', 'per_sample'",
    ),
    (
        "unknown-weight-type",
        xploss.generalized_dice_loss,
        LABELS,
        PROBS,
        {"weight_type": "inverse"},
        ValueError,
        r"weight_type='inverse' is not one of 'square', 'simple', 'uniform'",
    ),
    (
        "negative-weight",
        xploss.dice_loss,
        Y4,
        P4,
        {"axis": 1, "weight": [1, 1, -1, 1]},
        ValueError,
        r"weight must hold finite values >= 0",
    ),
    (
        "weight-shape",
        xploss.dice_loss,
        Y4,
        P4,
        {"axis": 1, "weight": np.ones(3)},
        ValueError,
        r"weight of shape \(3,\) does not broadcast to the result of shape \(4,\)",
    ),
    ("weight-not-number", xploss.dice_loss, Y4, P4, {"weight": "heavy"}, TypeError, r"weight"),
    (
        "negative-smooth-nr",
        xploss.dice_loss,
        Y4,
        P4,
        {"smooth_nr": -1},
        ValueError,
        r"smooth_nr=-1 must be a finite number >= 0",
    ),
    (
        "nan-smooth-dr",
        xploss.dice_loss,
        Y4,
        P4,
        {"smooth_dr": float("nan")},
        ValueError,
        r"smooth_dr=nan must be a finite number >= 0",
    ),
    (
        "smooth-not-number",
        xploss.dice_loss,
        Y4,
        P4,
        {"smooth_dr": "1e-5"},
        TypeError,
        r"smooth_dr must be a real number",
    ),
    (
        "negative-bce-weight",
        xploss.bce_dice_loss,
        Y4,
        P4,
        {"bce_weight": -0.5},
        ValueError,
        r"bce_weight=-0.5 must be a finite number >= 0",
    ),
    (
        "unknown-from-logits",
        xploss.dice_loss,
        Y4,
        P4,
        {"from_logits": "tanh"},
        ValueError,
        r"from_logits='tanh' is not one of False .*'softmax'",
    ),
    (
        "threshold-not-number",
        xploss.true_positive_rate,
        Y4,
        P4,
        {"threshold": "0.5"},
        TypeError,
        r"threshold must be a real number",
    ),
    (
        "zero-division-not-number",
        xploss.true_positive_rate,
        Y4,
        P4,
        {"zero_division": "warn"},
        TypeError,
        r"zero_division must be a real number",
    ),
    (
        "all-reduce-not-callable",
        xploss.dice_loss,
        Y4,
        P4,
        {"all_reduce": "sum"},
        TypeError,
        r"all_reduce must be a callable",
    ),
    (
        "mask-shape",
        xploss.dice_loss,
        Y4,
        P4,
        {"mask": np.ones((3, 1))},
        ValueError,
        r"mask of shape \(3, 1\) does not broadcast to y_pred of shape \(4, 4\)",
    ),
    (
        "tversky-negative-alpha",
        xploss.tversky_loss,
        Y4,
        P4,
        {"alpha": -0.3},
        ValueError,
        r"alpha=-0.3 must be a finite number >= 0",
    ),
    (
        "tversky-infinite-beta",
        xploss.focal_tversky_loss,
        Y4,
        P4,
        {"beta": float("inf")},
        ValueError,
        r"beta=inf must be a finite number >= 0",
    ),
    (
        "tversky-alpha-not-number",
        xploss.tversky_loss,
        Y4,
        P4,
        {"alpha": "0.3"},
        TypeError,
        r"alpha must be a real number, got '0.3'",
    ),
    (
        "tversky-beta-bool",
        xploss.tversky_loss,
        Y4,
        P4,
        {"beta": True},
        TypeError,
        r"beta must be a real number, got True",
    ),
    (
        "tversky-both-zero",
        xploss.tversky_loss,
        Y4,
        P4,
        {"alpha": 0, "beta": 0.0},
        ValueError,
        r"alpha=0 and beta=0 weigh neither false positives nor false negatives.*alpha weighs "
        r"false positives, beta false negatives",
    ),
    (
        "focal-gamma-zero",
        xploss.focal_tversky_loss,
        Y4,
        P4,
        {"gamma": 0},
        ValueError,
        r"gamma=0 must be a finite number > 0",
    ),
    (
        "focal-gamma-negative",
        xploss.focal_tversky_loss,
        Y4,
        P4,
        {"gamma": -0.75},
        ValueError,
        r"gamma=-0.75 must be a finite number > 0",
    ),
    (
        "focal-gamma-nan",
        xploss.focal_tversky_loss,
        Y4,
        P4,
        {"gamma": float("nan")},
        ValueError,
        r"gamma=nan must be a finite number > 0",
    ),
    (
        "focal-gamma-not-number",
        xploss.focal_tversky_loss,
        Y4,
        P4,
        {"gamma": None},
        TypeError,
        r"gamma must be a real number, got None",
    ),
    (
        "precision-zero-division-not-number",
        xploss.precision,
        Y4,
        P4,
        {"zero_division": "warn"},
        TypeError,
        r"zero_division must be a real number",
    ),
    (
        "jaccard-threshold-not-number",
        xploss.jaccard_index,
        Y4,
        P4,
        {"threshold": "0.5"},
        TypeError,
        r"threshold must be a real number",
    ),
    (
        "tversky-has-no-squared",
        xploss.tversky_loss,
        Y4,
        P4,
        {"squared": True},
        TypeError,
        r"unexpected keyword argument 'squared'",
    ),
    (
        "y-true-list",
        xploss.dice_loss,
        Y4.tolist(),
        P4,
        {},
        TypeError,
        r"y_true is a Python list: .* np\.asarray\(y_true\)",
    ),
]


@pytest.mark.parametrize(
    ("fn", "y_true", "y_pred", "options", "error", "pattern"),
    [pytest.param(*row[1:], id=row[0]) for row in CATALOGUE],
)
def test_wrong_call_raises_a_clear_error(fn, y_true, y_pred, options, error, pattern):
    with pytest.raises(error, match=pattern):
        fn(y_true, y_pred, **options)


def test_mixed_array_libraries_raise_type_error():
    import array_api_strict as xs

    with pytest.raises(TypeError, match=r"y_true is numpy\.ndarray, y_pred is array_api_strict"):
        xploss.dice_loss(Y4, xs.asarray(P4))
    with pytest.raises(TypeError, match=r"mask is array_api_strict"):
        xploss.dice_loss(Y4, P4, mask=xs.asarray(np.ones((4, 4))))
    with pytest.raises(TypeError, match=r"weight is array_api_strict"):
        xploss.dice_loss(Y4, P4, axis=1, weight=xs.asarray(np.ones(4)))


@pytest.mark.parametrize("fn", WITH_REDUCTION, ids=lambda f: f.__name__)
def test_every_function_checks_reduction(fn):
    with pytest.raises(ValueError, match=r"reduction='batch' is not one of"):
        fn(Y4, P4, reduction="batch")


@pytest.mark.parametrize("fn", ALL_FUNCTIONS, ids=lambda f: f.__name__)
def test_every_function_checks_axis(fn):
    with pytest.raises(ValueError, match=r"axis=5 is out of range for an input of shape"):
        fn(Y4, P4, axis=5)


@pytest.mark.parametrize("fn", WITH_SMOOTHING, ids=lambda f: f.__name__)
def test_every_function_checks_smoothing(fn):
    with pytest.raises(ValueError, match=r"smooth_nr=-1e-05 must be a finite number >= 0"):
        fn(Y4, P4, smooth_nr=-1e-5)


@pytest.mark.parametrize("fn", WITH_WEIGHT, ids=lambda f: f.__name__)
def test_every_function_checks_weights(fn):
    with pytest.raises(ValueError, match=re.escape("weight must hold finite values >= 0")):
        fn(Y4, P4, axis=1, weight=(1.0, float("inf"), 1.0, 1.0))


@pytest.mark.parametrize("fn", TVERSKY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("name", ["alpha", "beta"])
def test_tversky_weights_are_checked(fn, name):
    with pytest.raises(ValueError, match=rf"{name}=-1 must be a finite number >= 0"):
        fn(Y4, P4, **{name: -1})
    with pytest.raises(TypeError, match=rf"{name} must be a real number, got \[0.5\]"):
        fn(Y4, P4, **{name: [0.5]})


def test_options_are_keyword_only():
    with pytest.raises(TypeError, match="positional"):
        xploss.dice_loss(Y4, P4, None)  # type: ignore[misc]


SWITCHES = [
    (xploss.dice_coefficient, "squared"),
    (xploss.dice_coefficient, "soft_label"),
    (xploss.dice_loss, "log"),
    (xploss.dice_loss, "soft_label"),
    (xploss.jaccard_index, "soft_label"),
    (xploss.jaccard_loss, "log"),
    (xploss.tversky_loss, "soft_label"),
    (xploss.bce_dice_loss, "log_dice"),
    (xploss.overlap_stats, "squared"),
    (xploss.overlap_stats, "soft_label"),
]


@pytest.mark.parametrize(("fn", "name"), SWITCHES, ids=lambda v: getattr(v, "__name__", v))
@pytest.mark.parametrize("value", ["False", None, 1, np.array(True)], ids=repr)
def test_switches_must_be_bools(fn, name, value):
    # bool("False") is True: a string must not switch soft labels (or the log form) on.
    with pytest.raises(TypeError, match=rf"{name} must be True or False, got "):
        fn(Y4, P4, **{name: value})


def test_adapters_check_their_switches():
    import xploss.torch as xt

    with pytest.raises(TypeError, match="soft_label must be True or False, got 'yes'"):
        xt.DiceLoss(soft_label="yes")
    with pytest.raises(TypeError, match="batch must be True or False, got 1"):
        xt.TverskyLoss(batch=1)
    import xploss.keras as xk

    with pytest.raises(TypeError, match="squared must be True or False, got 'no'"):
        xk.DiceLoss(squared="no")
