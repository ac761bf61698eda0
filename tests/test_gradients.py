"""Gradients with respect to y_pred: the analytic values of docs/formulas.md (C4, C7, C11) on every
backend, by automatic differentiation where the library has it and by central finite
differences (float64) where it does not."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xploss

C1_TRUE = np.array([[1, 0], [1, 1]], dtype=np.float64)
C1_PRED = np.array([[0.9, 0.2], [0.6, 0.3]])
EMPTY = np.zeros((2, 2))
C8_PRED = np.array([[0.4, 0.0], [0.0, 0.0]])
C11_LOGITS = np.array([[2.0, -1.0], [0.0, -3.0]])
S0 = {"smooth_nr": 0, "smooth_dr": 0}
S1 = {"smooth_nr": 1, "smooth_dr": 1}
TV37 = {"alpha": 0.3, "beta": 0.7}
SOFT_TRUE = np.array([[0.5, 1.0]])
SOFT_PRED = np.array([[0.3, 0.8]])

# C1 by hand: tp = 1.8, union U = 3.2, Tversky denominator T = tp + 0.3·FP + 0.7·FN = 2.7.
# dJ/dp_j = (y_j·U - tp·(1 - y_j)) / U²: 1/3.2 = 0.3125 on the positives, -1.8/10.24 elsewhere.
JACCARD_GRADIENT = [[-0.3125, 1.8 / 10.24], [-0.3125, -0.3125]]
# dS/dp_j = (y_j·T - tp·(y_j + 0.3·(1 - y_j) - 0.7·y_j)) / T²: 8/27 on the positives, -2/27
# elsewhere.
TVERSKY_DS = np.array([[8.0, -2.0], [8.0, 8.0]]) / 27
# d(1 - S)^0.75/dp = -0.75·(1 - S)^(-0.25)·dS/dp with S = 2/3.
FOCAL_GRADIENT = -0.75 * 3**0.25 * TVERSKY_DS


def finite_difference(fn, y_true, y_pred, h=1e-6, **options) -> np.ndarray:
    gradient = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        step = np.zeros_like(y_pred)
        step[index] = h
        up = float(fn(y_true, y_pred + step, **options))
        down = float(fn(y_true, y_pred - step, **options))
        gradient[index] = (up - down) / (2 * h)
    return gradient


def gradient(backend, fn, y_true, y_pred, **options) -> np.ndarray:
    if backend.grad is None:
        return finite_difference(
            lambda t, p, **o: backend.to_numpy(fn(backend.asarray(t), backend.asarray(p), **o)),
            y_true,
            y_pred,
            **options,
        )
    return backend.grad(fn, backend.asarray(y_true), backend.asarray(y_pred), **options)


CASES = [
    ("C4-dice-s0", xploss.dice_loss, C1_TRUE, C1_PRED, S0, [[-0.256, 0.144], [-0.256, -0.256]]),
    (
        "C4-log-dice-s0",
        xploss.dice_loss,
        C1_TRUE,
        C1_PRED,
        {**S0, "log": True},
        [[-0.355555555556, 0.2], [-0.355555555556, -0.355555555556]],
    ),
    (
        "C4-dice-s1",
        xploss.dice_loss,
        C1_TRUE,
        C1_PRED,
        S1,
        [[-0.205555555556, 0.127777777778], [-0.205555555556, -0.205555555556]],
    ),
    (
        "C4-log-dice-s1",
        xploss.dice_loss,
        C1_TRUE,
        C1_PRED,
        {**S1, "log": True},
        [[-0.268115942029, 0.166666666667], [-0.268115942029, -0.268115942029]],
    ),
    (
        "C4-vnet-s0",
        xploss.dice_loss,
        C1_TRUE,
        C1_PRED,
        {**S0, "squared": True},
        [[-0.11465657112, 0.0778799351001], [-0.23147647377, -0.34829637642]],
    ),
    (
        "C4-bce",
        xploss.binary_cross_entropy,
        C1_TRUE,
        C1_PRED,
        {},
        [[-0.277777777778, 0.3125], [-0.416666666667, -0.833333333333]],
    ),
    ("C4-jaccard-s0", xploss.jaccard_loss, C1_TRUE, C1_PRED, S0, JACCARD_GRADIENT),
    ("C4-tversky-s0", xploss.tversky_loss, C1_TRUE, C1_PRED, {**S0, **TV37}, -TVERSKY_DS),
    ("C4-focal-tversky-s0", xploss.focal_tversky_loss, C1_TRUE, C1_PRED, S0, FOCAL_GRADIENT),
    (
        "C4-dice-soft-label-hard-target",
        xploss.dice_loss,
        C1_TRUE,
        C1_PRED,
        {**S0, "soft_label": True},
        [[-0.256, 0.144], [-0.256, -0.256]],
    ),
    # soft labels below the target: d Σmin(y, p)/dp = 1, dD/dp = (2·2.6 - 2.2)/2.6² = 75/169
    (
        "soft-dice-soft-label",
        xploss.dice_loss,
        SOFT_TRUE,
        SOFT_PRED,
        {**S0, "soft_label": True},
        [[-75 / 169, -75 / 169]],
    ),
    ("C7-dice-s1", xploss.dice_loss, EMPTY, EMPTY, S1, [[1, 1], [1, 1]]),
    ("C7-vnet-s1", xploss.dice_loss, EMPTY, EMPTY, {**S1, "squared": True}, [[0, 0], [0, 0]]),
    (
        "C11-bce-logits",
        xploss.binary_cross_entropy,
        C1_TRUE,
        C11_LOGITS,
        {"from_logits": True},
        (1 / (1 + np.exp(-C11_LOGITS)) - C1_TRUE) / 4,
    ),
]


@pytest.mark.parametrize(
    ("fn", "y_true", "y_pred", "options", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_reference_gradient(backend, fn, y_true, y_pred, options, expected):
    got = gradient(backend, fn, y_true, y_pred, **options)
    np.testing.assert_allclose(got, np.asarray(expected, np.float64), rtol=1e-7, atol=1e-9)


def test_gradient_at_zero_is_one_over_smoothing(autodiff_backend):
    """C7: d(1 - D)/dp = s_nr / s_dr² on an empty target and prediction (1e5 for 1e-5).

    Automatic differentiation only: a finite difference of width h measures 1/(h + s) here.
    """
    got = gradient(autodiff_backend, xploss.dice_loss, EMPTY, EMPTY)
    np.testing.assert_allclose(got, np.full((2, 2), 1e5), rtol=1e-9)


def test_soft_label_gradient_vanishes_at_the_soft_target(autodiff_backend):
    """C13: at p = y the soft-label intersection has slope 1/2 (|p - y| has slope 0 at 0), so
    d(1 - D)/dp = ((Σy + Σp) - 2·tp) / (Σy + Σp)² = 0: the minimum, where the plain Dice's
    gradient still pushes. Automatic differentiation only: p = y is a kink of Σ min(y, p)."""
    target = np.array([[0.5, 1.0]])
    options = {**S0, "soft_label": True}
    for fn in (xploss.dice_loss, xploss.jaccard_loss):
        got = gradient(autodiff_backend, fn, target, target, **options)
        np.testing.assert_allclose(got, np.zeros((1, 2)), atol=1e-12, err_msg=fn.__name__)
    plain = gradient(autodiff_backend, xploss.dice_loss, target, target, **S0)
    np.testing.assert_allclose(plain, [[-1 / 18, -7 / 18]], rtol=1e-12)  # -(6y - 2.5)/9


@pytest.mark.parametrize(
    ("fn", "y_true", "y_pred", "options"),
    [
        pytest.param(xploss.dice_loss, EMPTY, EMPTY, S0, id="dice-0/0"),
        pytest.param(xploss.focal_tversky_loss, EMPTY, EMPTY, {}, id="focal-tversky-perfect"),
        pytest.param(xploss.focal_tversky_loss, C1_TRUE, C1_TRUE, S0, id="focal-perfect-s0"),
        pytest.param(
            xploss.focal_tversky_loss, EMPTY, C8_PRED, {"gamma": 0.1}, id="focal-tversky-fp"
        ),
        pytest.param(xploss.jaccard_loss, EMPTY, EMPTY, {**S0, "log": True}, id="log-jaccard-0/0"),
        pytest.param(xploss.tversky_loss, EMPTY, EMPTY, S0, id="tversky-0/0"),
        pytest.param(
            xploss.jaccard_loss,
            SOFT_TRUE,
            SOFT_TRUE,
            {"soft_label": True},
            id="soft-jaccard-at-target",
        ),
        pytest.param(xploss.dice_loss, EMPTY, EMPTY, {**S0, "log": True}, id="log-dice-0/0"),
        pytest.param(xploss.dice_loss, C1_TRUE, EMPTY, {**S0, "log": True}, id="log-dice-0"),
        pytest.param(
            xploss.bce_dice_loss, EMPTY, np.array([[0.4, 0], [0, 0]]), S0, id="bce-dice-fp-s0"
        ),
        pytest.param(
            xploss.generalized_dice_loss,
            np.zeros((1, 2, 2, 1)),
            np.zeros((1, 2, 2, 1)),
            S0,
            id="gdl-empty-s0",
        ),
        pytest.param(
            xploss.true_positive_rate,
            EMPTY,
            C1_PRED,
            {"threshold": None},
            id="soft-tpr-no-positives",
        ),
        pytest.param(
            xploss.binary_cross_entropy,
            C1_TRUE,
            np.array([[1.0, 0.0], [0.0, 1.0]]),
            {},
            id="bce-saturated-probabilities",
        ),
        pytest.param(
            xploss.bce_dice_loss,
            C1_TRUE,
            np.array([[1e4, -1e4], [-1e4, 1e4]]),
            {"from_logits": True},
            id="bce-dice-saturated-logits",
        ),
        pytest.param(
            xploss.bce_dice_loss,
            C1_TRUE,
            np.array([[1e4, -1e4], [-1e4, 1e4]]),
            {"from_logits": "softmax"},
            id="bce-dice-saturated-softmax",
        ),
    ],
)
def test_gradients_are_finite(autodiff_backend, fn, y_true, y_pred, options):
    got = gradient(autodiff_backend, fn, y_true, y_pred, **options)
    assert np.all(np.isfinite(got)), got


def test_finite_differences_agree_with_the_log_dice_chain_rule():
    """d(-log D)/dp = -(1/D)·dD/dp (docs/formulas.md §2), checked numerically in float64."""
    d = float(xploss.dice_coefficient(C1_TRUE, C1_PRED, **S0))
    dice_grad = finite_difference(xploss.dice_loss, C1_TRUE, C1_PRED, **S0)
    log_grad = finite_difference(xploss.dice_loss, C1_TRUE, C1_PRED, **S0, log=True)
    np.testing.assert_allclose(log_grad, dice_grad / d, rtol=1e-7)
    assert math.isclose(d, 0.72, rel_tol=1e-12)
