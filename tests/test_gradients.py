"""Gradients with respect to y_pred: the analytic values of formulas.md (C4, C7, C11) on every
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
C11_LOGITS = np.array([[2.0, -1.0], [0.0, -3.0]])
S0 = {"smooth_nr": 0, "smooth_dr": 0}
S1 = {"smooth_nr": 1, "smooth_dr": 1}


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


@pytest.mark.parametrize(
    ("fn", "y_true", "y_pred", "options"),
    [
        pytest.param(xploss.dice_loss, EMPTY, EMPTY, S0, id="dice-0/0"),
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
    """d(-log D)/dp = -(1/D)·dD/dp (formulas.md §1.4), checked numerically in float64."""
    d = float(xploss.dice_coefficient(C1_TRUE, C1_PRED, **S0))
    dice_grad = finite_difference(xploss.dice_loss, C1_TRUE, C1_PRED, **S0)
    log_grad = finite_difference(xploss.dice_loss, C1_TRUE, C1_PRED, **S0, log=True)
    np.testing.assert_allclose(log_grad, dice_grad / d, rtol=1e-7)
    assert math.isclose(d, 0.72, rel_tol=1e-12)
