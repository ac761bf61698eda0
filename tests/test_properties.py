"""Hypothesis properties on every eager backend: equal to the NumPy float64 oracle, in range,
symmetric, additive, and finite for every valid input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import xploss
from tests import oracle
from tests.strategies import Case, cases, tolerance

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def to_backend(backend, case: Case):
    mask = None if case.mask is None else backend.asarray(case.mask)
    weight = None if case.weight is None else backend.asarray(case.weight)
    return backend.asarray(case.y_true), backend.asarray(case.y_pred), mask, weight


def common(case: Case) -> dict:
    return {"axis": case.axis, "class_axis": case.class_axis, "from_logits": case.from_logits}


def check(backend, result, expected, dtype):
    got = backend.to_numpy(result)
    expected = np.asarray(expected, np.float64)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **tolerance(dtype))


def expected_dice(case: Case, **options):
    return oracle.dice(
        case.dense_true,
        case.probabilities,
        case.axes,
        case.smooth_nr,
        case.smooth_dr,
        mask=case.mask,
        **options,
    )


def penalty(dice, log):
    return oracle.log_dice_penalty(dice) if log else 1 - dice


def reduced_penalty(dice, reduction, weight, log):
    if reduction in ("mean", "per_sample"):
        return penalty(oracle.reduce(dice, reduction, weight), log)
    return oracle.reduce(penalty(dice, log), reduction, weight)


OVERLAP_SCORES = [
    pytest.param(xploss.dice_coefficient, oracle.dice, id="dice"),
    pytest.param(xploss.jaccard_index, oracle.jaccard, id="jaccard"),
]
OVERLAP_LOSSES = [
    pytest.param(xploss.dice_loss, oracle.dice, id="dice"),
    pytest.param(xploss.jaccard_loss, oracle.jaccard, id="jaccard"),
]


@pytest.mark.parametrize(("fn", "score"), OVERLAP_SCORES)
@given(
    case=cases(),
    reduction=REDUCTIONS,
    squared=st.booleans(),
    soft_label=st.booleans(),
    threshold=st.sampled_from([None, None, 0.5]),
)
def test_overlap_scores_match_oracle(
    eager_backend, fn, score, case, reduction, squared, soft_label, threshold
):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    result = fn(
        y_true,
        y_pred,
        **common(case),
        smooth_nr=case.smooth_nr,
        smooth_dr=case.smooth_dr,
        squared=squared,
        soft_label=soft_label,
        threshold=threshold,
        mask=mask,
        weight=weight,
        reduction=reduction,
    )
    hard = case.hard(threshold)
    expected = score(
        case.dense_true,
        hard,
        case.axes,
        case.smooth_nr,
        case.smooth_dr,
        squared=squared,
        soft_label=soft_label,
        mask=case.mask,
    )
    check(eager_backend, result, oracle.reduce(expected, reduction, case.weight), case.dtype)


@pytest.mark.parametrize(("fn", "score"), OVERLAP_LOSSES)
@given(case=cases(), reduction=REDUCTIONS, log=st.booleans(), soft_label=st.booleans())
def test_overlap_losses_match_oracle(eager_backend, fn, score, case, reduction, log, soft_label):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    result = fn(
        y_true,
        y_pred,
        **common(case),
        smooth_nr=case.smooth_nr,
        smooth_dr=case.smooth_dr,
        soft_label=soft_label,
        mask=mask,
        weight=weight,
        reduction=reduction,
        log=log,
    )
    expected = score(
        case.dense_true,
        case.probabilities,
        case.axes,
        case.smooth_nr,
        case.smooth_dr,
        soft_label=soft_label,
        mask=case.mask,
    )
    check(eager_backend, result, reduced_penalty(expected, reduction, case.weight, log), case.dtype)


TVERSKY_WEIGHTS = st.sampled_from(
    [(0.5, 0.5), (0.3, 0.7), (0.7, 0.3), (0.0, 1.0), (1.0, 0.0), (2.0, 0.5)]
)


def expected_tversky(case: Case, alpha, beta, soft_label):
    return oracle.tversky(
        case.dense_true,
        case.probabilities,
        case.axes,
        alpha,
        beta,
        case.smooth_nr,
        case.smooth_dr,
        soft_label=soft_label,
        mask=case.mask,
    )


@given(
    case=cases(),
    reduction=REDUCTIONS,
    weights=TVERSKY_WEIGHTS,
    gamma=st.sampled_from([None, 0.75, 1.0, 2.0]),
    soft_label=st.booleans(),
)
def test_tversky_losses_match_oracle(eager_backend, case, reduction, weights, gamma, soft_label):
    """``gamma=None`` is ``tversky_loss``; a number is ``focal_tversky_loss``."""
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    alpha, beta = weights
    options = {
        **common(case),
        "alpha": alpha,
        "beta": beta,
        "smooth_nr": case.smooth_nr,
        "smooth_dr": case.smooth_dr,
        "soft_label": soft_label,
        "mask": mask,
        "weight": weight,
        "reduction": reduction,
    }
    score = expected_tversky(case, alpha, beta, soft_label)
    if gamma is None:
        result = xploss.tversky_loss(y_true, y_pred, **options)
        expected = oracle.reduce(1 - score, reduction, case.weight)
    else:
        result = xploss.focal_tversky_loss(y_true, y_pred, **options, gamma=gamma)
        expected = oracle.reduce(oracle.focal(score, gamma), reduction, case.weight)
    check(eager_backend, result, expected, case.dtype)


@given(case=cases(), reduction=REDUCTIONS, threshold=st.sampled_from([0.5, 0.3, None]))
def test_precision_matches_oracle(eager_backend, case, reduction, threshold):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    result = xploss.precision(
        y_true,
        y_pred,
        **common(case),
        threshold=threshold,
        mask=mask,
        weight=weight,
        reduction=reduction,
    )
    value = oracle.precision(case.dense_true, case.hard(threshold), case.axes, None, mask=case.mask)
    check(eager_backend, result, oracle.reduce(value, reduction, case.weight), case.dtype)


@given(case=cases(allow_weight=False))
def test_identities_between_the_overlap_scores(eager_backend, case):
    """Tversky(0.5, 0.5) is Dice with doubled smoothing, Tversky(1, 1) is Jaccard, Tversky(0, 1)
    is one minus the soft recall, Jaccard is D / (2 - D) without smoothing, and focal Tversky
    with gamma = 1 is Tversky."""
    y_true, y_pred, mask, _ = to_backend(eager_backend, case)
    nr, dr = case.smooth_nr, case.smooth_dr
    options = {**common(case), "mask": mask, "reduction": "none"}
    to_numpy = eager_backend.to_numpy
    tolerance_ = tolerance(case.dtype)

    def tversky(alpha, beta, **smoothing):
        return to_numpy(
            xploss.tversky_loss(y_true, y_pred, **options, alpha=alpha, beta=beta, **smoothing)
        )

    doubled = {"smooth_nr": 2 * nr, "smooth_dr": 2 * dr}
    dice = to_numpy(xploss.dice_coefficient(y_true, y_pred, **options, **doubled))
    np.testing.assert_allclose(
        tversky(0.5, 0.5, smooth_nr=nr, smooth_dr=dr), 1 - dice, **tolerance_
    )
    smoothing = {"smooth_nr": nr, "smooth_dr": dr}
    jaccard = to_numpy(xploss.jaccard_index(y_true, y_pred, **options, **smoothing))
    np.testing.assert_allclose(tversky(1, 1, **smoothing), 1 - jaccard, **tolerance_)
    focal = xploss.focal_tversky_loss(
        y_true, y_pred, **options, **smoothing, alpha=0.3, beta=0.7, gamma=1
    )
    np.testing.assert_allclose(
        to_numpy(focal), np.maximum(tversky(0.3, 0.7, **smoothing), 0), **tolerance_
    )

    s0 = {"smooth_nr": 0.0, "smooth_dr": 0.0}
    recall = xploss.true_positive_rate(y_true, y_pred, **options, threshold=None, zero_division=1.0)
    np.testing.assert_allclose(tversky(0, 1, **s0), 1 - to_numpy(recall), **tolerance_)
    dice0 = to_numpy(xploss.dice_coefficient(y_true, y_pred, **options, **s0))
    jaccard0 = to_numpy(xploss.jaccard_index(y_true, y_pred, **options, **s0))
    np.testing.assert_allclose(jaccard0, dice0 / (2 - dice0), **tolerance_)


@given(
    case=cases(allow_sparse=False, allow_logits=False, allow_weight=False),
    squared=st.booleans(),
)
def test_soft_labels_score_a_perfect_prediction_1(eager_backend, case, squared):
    """With ``soft_label`` every overlap loss is 0 at ``p = y``, also for soft targets (where the
    plain Dice of C13 is 5/6); for 0/1 targets it changes nothing."""
    y = case.dense_true.astype(case.dtype)
    target, prediction = eager_backend.asarray(y), eager_backend.asarray(y)
    mask = None if case.mask is None else eager_backend.asarray(case.mask)
    smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_nr}  # S = 1 at 0/0 too
    options = {"axis": case.axis, "mask": mask, "reduction": "none", **smoothing}
    losses = [
        xploss.dice_loss(target, prediction, **options, squared=squared, soft_label=True),
        xploss.jaccard_loss(target, prediction, **options, squared=squared, soft_label=True),
        xploss.tversky_loss(target, prediction, **options, alpha=0.3, beta=0.7, soft_label=True),
        xploss.focal_tversky_loss(target, prediction, **options, soft_label=True),
    ]
    for value in map(eager_backend.to_numpy, losses):
        np.testing.assert_allclose(value, 0, atol=tolerance(case.dtype)["atol"])
    hard = eager_backend.asarray((case.dense_true > 0.5).astype(case.dtype))
    y_pred = eager_backend.asarray(case.y_pred)
    for fn in (xploss.dice_coefficient, xploss.jaccard_index):
        plain = fn(hard, y_pred, **options)
        soft = fn(hard, y_pred, **options, soft_label=True)
        check(eager_backend, soft, eager_backend.to_numpy(plain), case.dtype)


@given(case=cases(), reduction=REDUCTIONS)
def test_binary_cross_entropy_matches_oracle(eager_backend, case, reduction):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    result = xploss.binary_cross_entropy(
        y_true, y_pred, **common(case), mask=mask, weight=weight, reduction=reduction
    )
    per_element = oracle.bce(
        case.dense_true, case.y_pred, case.axes, case.from_logits, case.class_axis, case.mask
    )
    check(eager_backend, result, oracle.reduce(per_element, reduction, case.weight), case.dtype)


@given(
    case=cases(),
    reduction=REDUCTIONS,
    log_dice=st.booleans(),
    factors=st.sampled_from([(1.0, 1.0), (0.5, 2.0), (0.0, 1.0)]),
)
def test_bce_dice_loss_matches_oracle(eager_backend, case, reduction, log_dice, factors):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    bce_weight, dice_weight = factors
    result = xploss.bce_dice_loss(
        y_true,
        y_pred,
        **common(case),
        smooth_nr=case.smooth_nr,
        smooth_dr=case.smooth_dr,
        mask=mask,
        weight=weight,
        reduction=reduction,
        log_dice=log_dice,
        bce_weight=bce_weight,
        dice_weight=dice_weight,
    )
    bce = oracle.bce(
        case.dense_true, case.y_pred, case.axes, case.from_logits, case.class_axis, case.mask
    )
    expected = bce_weight * oracle.reduce(bce, reduction, case.weight) + dice_weight * (
        reduced_penalty(expected_dice(case), reduction, case.weight, log_dice)
    )
    check(eager_backend, result, expected, case.dtype)


@given(case=cases(), reduction=REDUCTIONS, threshold=st.sampled_from([0.5, 0.3, None]))
def test_true_positive_rate_matches_oracle(eager_backend, case, reduction, threshold):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    result = xploss.true_positive_rate(
        y_true,
        y_pred,
        **common(case),
        threshold=threshold,
        mask=mask,
        weight=weight,
        reduction=reduction,
    )
    rate = oracle.tpr(case.dense_true, case.hard(threshold), case.axes, None, mask=case.mask)
    check(eager_backend, result, oracle.reduce(rate, reduction, case.weight), case.dtype)


@given(
    case=cases(keep_class_axis=True),
    reduction=REDUCTIONS,
    weight_type=st.sampled_from(["square", "simple", "uniform"]),
)
def test_generalized_dice_loss_matches_oracle(eager_backend, case, reduction, weight_type):
    y_true, y_pred, mask, _ = to_backend(eager_backend, case)
    result = xploss.generalized_dice_loss(
        y_true,
        y_pred,
        **common(case),
        smooth_nr=case.smooth_nr,
        smooth_dr=case.smooth_dr,
        weight_type=weight_type,
        mask=mask,
        reduction=reduction,
    )
    score = oracle.generalized_dice(
        case.dense_true,
        case.probabilities,
        case.axes,
        case.class_axis % case.y_pred.ndim,
        weight_type,
        case.smooth_nr,
        case.smooth_dr,
        mask=case.mask,
    )
    check(eager_backend, result, oracle.reduce(1 - score, reduction), case.dtype)


@given(case=cases(allow_weight=False), squared=st.booleans())
def test_overlap_stats_match_oracle(eager_backend, case, squared):
    y_true, y_pred, mask, _ = to_backend(eager_backend, case)
    result = xploss.overlap_stats(y_true, y_pred, **common(case), squared=squared, mask=mask)
    expected = oracle.stats(
        case.dense_true, case.probabilities, case.axes, squared=squared, mask=case.mask
    )
    assert isinstance(result, xploss.OverlapStats)
    for got, want in zip(result, expected, strict=True):
        check(eager_backend, got, want, case.dtype)


@given(case=cases(), log=st.booleans())
def test_values_in_range_and_finite(eager_backend, case, log):
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    options = {**common(case), "mask": mask, "weight": weight}
    smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
    unit_interval = [
        xploss.dice_coefficient(y_true, y_pred, **options, **smoothing),
        xploss.dice_loss(y_true, y_pred, **options, **smoothing),
        xploss.true_positive_rate(y_true, y_pred, **options),
        xploss.true_positive_rate(y_true, y_pred, **options, threshold=None),
        xploss.jaccard_index(y_true, y_pred, **options, **smoothing),
        xploss.jaccard_loss(y_true, y_pred, **options, **smoothing, soft_label=True),
        xploss.tversky_loss(y_true, y_pred, **options, **smoothing, alpha=0.3, beta=0.7),
        xploss.focal_tversky_loss(y_true, y_pred, **options, **smoothing, soft_label=log),
        xploss.precision(y_true, y_pred, **options),
        xploss.precision(y_true, y_pred, **options, threshold=None),
    ]
    for value in map(eager_backend.to_numpy, unit_interval):
        assert np.all(np.isfinite(value))
        assert np.all((value >= -1e-6) & (value <= 1 + 1e-6))
    non_negative = [
        xploss.binary_cross_entropy(y_true, y_pred, **options),
        xploss.bce_dice_loss(y_true, y_pred, **options, **smoothing, log_dice=log),
        xploss.dice_loss(y_true, y_pred, **options, **smoothing, log=True),
    ]
    for value in map(eager_backend.to_numpy, non_negative):
        assert np.all(np.isfinite(value))
        assert np.all(value >= 0)


@given(case=cases(keep_class_axis=True, allow_weight=False))
def test_generalized_dice_loss_in_range_and_finite(eager_backend, case):
    y_true, y_pred, mask, _ = to_backend(eager_backend, case)
    value = eager_backend.to_numpy(
        xploss.generalized_dice_loss(
            y_true,
            y_pred,
            **common(case),
            smooth_nr=case.smooth_nr,
            smooth_dr=case.smooth_dr,
            mask=mask,
            reduction="none",
        )
    )
    assert np.all(np.isfinite(value))
    assert np.all((value >= -1e-6) & (value <= 1 + 1e-6))


@given(case=cases(allow_sparse=False, allow_logits=False, allow_weight=False))
def test_dice_is_symmetric(eager_backend, case):
    a = case.y_pred
    b = case.dense_true.astype(case.dtype)
    options = {
        "axis": case.axis,
        "smooth_nr": case.smooth_nr,
        "smooth_dr": case.smooth_dr,
        "reduction": "none",
    }
    ab = xploss.dice_coefficient(eager_backend.asarray(b), eager_backend.asarray(a), **options)
    ba = xploss.dice_coefficient(eager_backend.asarray(a), eager_backend.asarray(b), **options)
    check(eager_backend, ab, eager_backend.to_numpy(ba), case.dtype)


@given(
    case=cases(allow_weight=False, allow_sparse=False, allow_mask=False),
    split=st.integers(1, 3),
)
def test_overlap_stats_are_additive_over_batches(eager_backend, case, split):
    """Statistics over the whole batch are the sums of the statistics over its parts."""
    assume(case.y_pred.shape[0] >= 2 and 0 in case.axes)
    assume(case.from_logits != "softmax" or case.class_axis % case.y_pred.ndim != 0)
    split = min(split, case.y_pred.shape[0] - 1)
    options = {**common(case), "axis": case.axes}
    whole = xploss.overlap_stats(
        eager_backend.asarray(case.y_true), eager_backend.asarray(case.y_pred), **options
    )
    parts = [
        xploss.overlap_stats(
            eager_backend.asarray(case.y_true[rows]),
            eager_backend.asarray(case.y_pred[rows]),
            **options,
        )
        for rows in (slice(None, split), slice(split, None))
    ]
    for total, first, second in zip(whole, *parts, strict=True):
        summed = eager_backend.to_numpy(first) + eager_backend.to_numpy(second)
        check(eager_backend, total, summed, case.dtype)


@pytest.mark.parametrize("z", [1e4, -1e4])
def test_saturated_logits_are_finite(eager_backend, z):
    logits = np.array([[z, -z, z], [-z, z, -z]], dtype=np.float32)
    labels = np.array([[1, 1, 0], [0, 0, 1]], dtype=np.int32)
    y_true, y_pred = eager_backend.asarray(labels), eager_backend.asarray(logits)
    for from_logits in (True, "softmax"):
        for fn in (xploss.binary_cross_entropy, xploss.bce_dice_loss, xploss.dice_loss):
            value = eager_backend.to_numpy(fn(y_true, y_pred, from_logits=from_logits))
            assert np.isfinite(value)
    bce = eager_backend.to_numpy(xploss.binary_cross_entropy(y_true, y_pred, from_logits=True))
    expected = oracle.bce(labels, logits, (0, 1), from_logits=True)
    np.testing.assert_allclose(bce, expected, rtol=1e-6)  # |z| for every wrong logit


def test_nan_propagates(eager_backend):
    p = np.array([[0.2, np.nan], [0.6, 0.3]])
    y = np.array([[1, 0], [1, 1]])
    y_true, y_pred = eager_backend.asarray(y), eager_backend.asarray(p)
    for fn in (
        xploss.dice_coefficient,
        xploss.dice_loss,
        xploss.binary_cross_entropy,
        xploss.bce_dice_loss,
        xploss.generalized_dice_loss,
        xploss.jaccard_index,
        xploss.jaccard_loss,
        xploss.tversky_loss,
        xploss.focal_tversky_loss,
    ):
        assert np.isnan(eager_backend.to_numpy(fn(y_true, y_pred)))
        if fn not in (
            xploss.binary_cross_entropy,
            xploss.bce_dice_loss,
            xploss.generalized_dice_loss,
        ):
            assert np.isnan(eager_backend.to_numpy(fn(y_true, y_pred, soft_label=True)))
    soft_tpr = xploss.true_positive_rate(y_true, y_pred, threshold=None, zero_division=0.0)
    assert np.isnan(eager_backend.to_numpy(soft_tpr))
    # NaN in the denominator is not mistaken for an empty (0/0) element
    nan_true = eager_backend.asarray(np.array([[np.nan, 0.0], [0.0, 0.0]]))
    zeros = eager_backend.asarray(np.zeros((2, 2)))
    assert np.isnan(
        eager_backend.to_numpy(xploss.dice_coefficient(nan_true, zeros, smooth_nr=0, smooth_dr=0))
    )


@given(case=cases(), log=st.booleans())
def test_per_sample_reduction_keeps_the_first_surviving_axis(eager_backend, case, log):
    assume(len(case.result_shape) >= 1)
    y_true, y_pred, mask, weight = to_backend(eager_backend, case)
    smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
    options = {**common(case), "mask": mask, "weight": weight, "reduction": "per_sample"}
    result = xploss.bce_dice_loss(y_true, y_pred, **options, **smoothing, log_dice=log)
    bce = oracle.bce(
        case.dense_true, case.y_pred, case.axes, case.from_logits, case.class_axis, case.mask
    )
    expected = oracle.reduce(bce, "per_sample", case.weight) + reduced_penalty(
        expected_dice(case), "per_sample", case.weight, log
    )
    assert eager_backend.to_numpy(result).shape == (case.result_shape[0],)
    check(eager_backend, result, expected, case.dtype)
    rate = xploss.true_positive_rate(y_true, y_pred, **options)
    expected = oracle.reduce(
        oracle.tpr(case.dense_true, case.hard(0.5), case.axes, None, mask=case.mask),
        "per_sample",
        case.weight,
    )
    check(eager_backend, rate, expected, case.dtype)


def test_per_sample_needs_a_surviving_axis():
    with pytest.raises(ValueError, match="reduction='per_sample' keeps the first axis"):
        xploss.dice_loss(np.ones((2, 3)), np.ones((2, 3)), reduction="per_sample")
