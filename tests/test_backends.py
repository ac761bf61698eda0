"""One code path for every backend: results in the caller's library, dtype and device; half
precision summed in float32; the jitted variants and the gradients agree with the oracle and
with each other; the TensorFlow namespace covers every name the core uses."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xploss
from tests import backends, oracle
from tests.strategies import cases, tolerance
from tests.test_properties import (
    REDUCTIONS,
    common,
    expected_dice,
    reduced_penalty,
    to_backend,
)

CORE = pathlib.Path(xploss.__file__).parent
CORE_MODULES = [p for p in CORE.glob("_*.py") if p.name not in ("_tf_namespace.py",)]

FUNCTIONS = [
    xploss.dice_coefficient,
    xploss.dice_loss,
    xploss.binary_cross_entropy,
    xploss.bce_dice_loss,
    xploss.generalized_dice_loss,
    xploss.true_positive_rate,
    xploss.jaccard_index,
    xploss.jaccard_loss,
    xploss.tversky_loss,
    xploss.focal_tversky_loss,
    xploss.precision,
]
DIFFERENTIABLE = [
    xploss.dice_loss,
    xploss.binary_cross_entropy,
    xploss.bce_dice_loss,
    xploss.generalized_dice_loss,
    xploss.jaccard_loss,
    xploss.tversky_loss,
]
# (1 - S)^0.75 has no bounded second derivative near S = 1, where a central difference of width
# 1e-6 is not accurate to 1e-5: the focal loss is checked for finite gradients only (and against
# analytic gradients in test_gradients.py).
FINITE_GRADIENTS = [*DIFFERENTIABLE, xploss.focal_tversky_loss]


def names_used_by_the_core() -> set[str]:
    used = set()
    for path in CORE_MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            is_xp = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            if is_xp and node.value.id == "xp":
                used.add(node.attr)
    return used


def test_tensorflow_namespace_has_every_name_the_core_uses():
    pytest.importorskip("tensorflow")
    from xploss import _tf_namespace

    used = names_used_by_the_core()
    assert {"sum", "where", "astype"} <= used  # the scan sees the core
    missing = sorted(name for name in used if not hasattr(_tf_namespace, name))
    assert missing == []


def _library_of(result) -> str:
    module = type(result).__module__
    if module.startswith(("jax", "jaxlib")):
        return "jax"
    if module.startswith(("tensorflow", "tf_keras")):
        return "tensorflow"
    return module.split(".")[0]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_stay_in_the_callers_library_and_dtype(eager_backend, fn, dtype):
    y_true = eager_backend.asarray(np.array([[[1, 0], [1, 1]]], dtype=np.int32))
    y_pred = eager_backend.asarray(np.array([[[0.9, 0.2], [0.6, 0.3]]], dtype=dtype))
    axis = 1 if fn is xploss.generalized_dice_loss else (1, 2)  # GD keeps the class axis
    result = fn(y_true, y_pred, axis=axis, reduction="none")
    assert _library_of(result) == eager_backend.library
    assert np.dtype(dtype).name in str(result.dtype)
    assert tuple(result.shape) == (1,)


def test_strict_arrays_stay_on_their_device():
    xs = pytest.importorskip("array_api_strict")
    device = xs.Device("device1")
    labels = xs.asarray(np.array([[0, 1], [2, 1]]), device=device)
    probs = xs.asarray(np.full((2, 2, 3), 1 / 3), device=device)
    for fn in FUNCTIONS:
        result = fn(labels, probs, axis=1, reduction="none")
        assert result.device == device, fn.__name__
    weighted = xploss.dice_loss(labels, probs, axis=1, weight=(1.0, 2.0, 3.0))
    assert weighted.device == device


def test_torch_results_keep_the_device_and_gradient():
    torch = pytest.importorskip("torch")
    y_pred = torch.rand(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    labels = torch.randint(0, 3, (2, 4, 4))
    loss = xploss.generalized_dice_loss(labels, y_pred, class_axis=1, from_logits="softmax")
    assert loss.device == y_pred.device and loss.requires_grad
    loss.backward()
    assert y_pred.grad is not None and torch.isfinite(y_pred.grad).all()


@pytest.mark.parametrize(
    ("first", "second"),
    [("numpy", "torch"), ("torch", "jax"), ("jax", "tensorflow"), ("tensorflow", "numpy")],
)
def test_mixed_frameworks_raise_a_clear_type_error(first, second):
    for name in (first, second):
        pytest.importorskip(backends.FACTORIES[name][0])
    a = backends.make(first).asarray(np.ones((2, 2)))
    b = backends.make(second).asarray(np.full((2, 2), 0.5))
    with pytest.raises(
        TypeError,
        match=r"all arrays must come from one array library, but "
        r"y_true is .*, y_pred is ",
    ):
        xploss.dice_loss(a, b)


def test_detection_imports_no_other_framework():
    pytest.importorskip("torch")
    code = (
        "import sys, torch, xploss; "
        "xploss.dice_loss(torch.ones(2, 2), torch.full((2, 2), 0.5)); "
        "print(','.join(m for m in ('tensorflow', 'jax', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "tensorflow" not in out.stdout and "jax" not in out.stdout


HALF_PRECISION = {
    "numpy": ("float16",),
    "torch": ("float16", "bfloat16"),
    "jax": ("float16", "bfloat16"),
    "tensorflow": ("float16", "bfloat16"),
}
HALF_PARAMS = [
    pytest.param(name, half, id=f"{name}-{half}")
    for name in backends.selected_names()
    for half in HALF_PRECISION.get(name, ())
]


def _half_backend(name: str) -> backends.Backend:
    if not backends.installed(name):
        pytest.skip(f"{name} is not installed")
    return backends.make(name)


def _cast(backend, x, half: str):
    if backend.library == "numpy":
        return x.astype(np.float16)
    if backend.library == "torch":
        import torch

        return x.to(getattr(torch, half))
    if backend.library == "jax":
        import jax.numpy as jnp

        return x.astype(getattr(jnp, half))
    import tensorflow as tf

    return tf.cast(x, getattr(tf, half))


@pytest.mark.parametrize(("name", "half"), HALF_PARAMS)
def test_half_precision_sums_past_65504_in_float32(name, half):
    """1e5 foreground voxels in one class: a float16 sum of them would overflow."""
    backend = _half_backend(name)
    rng = np.random.default_rng(0)
    labels = (rng.random((1, 400, 250, 2)) < np.array([0.98, 0.3])).astype(np.float32)
    probs = np.clip(labels * 0.8 + rng.random(labels.shape) * 0.2, 0, 1).astype(np.float32)
    y_true = backend.asarray(labels)
    y_pred = _cast(backend, backend.asarray(probs), half)
    exact = backend.to_numpy(y_pred)  # the half values, widened
    dice = xploss.dice_coefficient(y_true, y_pred, axis=(0, 1, 2), reduction="none")
    gdl = xploss.generalized_dice_loss(y_true, y_pred)
    assert "float32" in str(dice.dtype) and "float32" in str(gdl.dtype)
    expected_dice = oracle.dice(labels, exact, (0, 1, 2), 1e-5, 1e-5)
    np.testing.assert_allclose(backend.to_numpy(dice), expected_dice, rtol=1e-5)
    expected_gd = oracle.generalized_dice(labels, exact, (0, 1, 2), 3, "square", 1e-5, 1e-5)
    np.testing.assert_allclose(backend.to_numpy(gdl), 1 - expected_gd, rtol=1e-4)
    assert np.isfinite(backend.to_numpy(xploss.bce_dice_loss(y_true, y_pred)))


@pytest.mark.parametrize(("name", "half"), HALF_PARAMS)
@settings(max_examples=15, deadline=None)
@given(case=cases(dtypes=(np.float32,)), reduction=REDUCTIONS)
def test_half_precision_matches_oracle(name, half, case, reduction):
    backend = _half_backend(name)
    y_true, y_pred, mask, weight = to_backend(backend, case)
    y_pred = _cast(backend, y_pred, half)
    case.y_pred = backend.to_numpy(y_pred).astype(np.float32)  # what the core receives
    smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
    options = {**common(case), "mask": mask, "weight": weight, "reduction": reduction}
    result = xploss.dice_loss(y_true, y_pred, **options, **smoothing)
    assert "float32" in str(result.dtype)
    expected = reduced_penalty(expected_dice(case), reduction, case.weight, False)
    np.testing.assert_allclose(backend.to_numpy(result), expected, **tolerance(np.float32))
    bce = xploss.binary_cross_entropy(y_true, y_pred, **options)
    expected = oracle.reduce(
        oracle.bce(
            case.dense_true, case.y_pred, case.axes, case.from_logits, case.class_axis, case.mask
        ),
        reduction,
        case.weight,
    )
    np.testing.assert_allclose(backend.to_numpy(bce), expected, **tolerance(np.float32))


# Compiled variants compile once per shape, so Hypothesis drives them through a few examples.
COMPILED = settings(max_examples=3, deadline=None)


@pytest.fixture(
    scope="session",
    params=[n for n in backends.selected_names() if n.endswith(("-compile", "-jit", "-function"))],
)
def compiled_backend(request):
    if not backends.installed(request.param):
        pytest.skip(f"{backends.FACTORIES[request.param][0]} is not installed")
    return backends.make(request.param)


@COMPILED
@given(case=cases(), log=st.booleans())
def test_compiled_losses_match_oracle(compiled_backend, case, log):
    y_true, y_pred, mask, weight = to_backend(compiled_backend, case)
    smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
    options = {**common(case), **smoothing, "mask": mask, "weight": weight}
    result = compiled_backend.call(xploss.dice_loss, y_true, y_pred, **options, log=log)
    expected = reduced_penalty(expected_dice(case), "mean", case.weight, log)
    np.testing.assert_allclose(compiled_backend.to_numpy(result), expected, **tolerance(case.dtype))
    bce_dice = compiled_backend.call(xploss.bce_dice_loss, y_true, y_pred, **options)
    bce = oracle.bce(
        case.dense_true, case.y_pred, case.axes, case.from_logits, case.class_axis, case.mask
    )
    expected = oracle.weighted_mean(bce, case.weight) + reduced_penalty(
        expected_dice(case), "mean", case.weight, True
    )
    np.testing.assert_allclose(
        compiled_backend.to_numpy(bce_dice), expected, **tolerance(case.dtype)
    )


@COMPILED
@given(
    case=cases(),
    soft_label=st.booleans(),
    weights=st.sampled_from([(0.3, 0.7), (1.0, 0.5)]),
    gamma=st.sampled_from([0.75, 2.0]),
)
def test_compiled_overlap_losses_and_metrics_match_oracle(
    compiled_backend, case, soft_label, weights, gamma
):
    y_true, y_pred, mask, weight = to_backend(compiled_backend, case)
    smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
    options = {**common(case), **smoothing, "mask": mask, "weight": weight}
    alpha, beta = weights
    oracle_options = {**smoothing, "soft_label": soft_label, "mask": case.mask}
    y, p, axes = case.dense_true, case.probabilities, case.axes
    jaccard = oracle.jaccard(y, p, axes, **oracle_options)
    tversky = oracle.tversky(y, p, axes, alpha, beta, **oracle_options)
    expected = {
        xploss.jaccard_loss: 1 - oracle.weighted_mean(jaccard, case.weight),
        xploss.jaccard_index: oracle.weighted_mean(jaccard, case.weight),
        xploss.tversky_loss: 1 - oracle.weighted_mean(tversky, case.weight),
        xploss.focal_tversky_loss: oracle.weighted_mean(oracle.focal(tversky, gamma), case.weight),
    }
    extra = {
        xploss.tversky_loss: {"alpha": alpha, "beta": beta},
        xploss.focal_tversky_loss: {"alpha": alpha, "beta": beta, "gamma": gamma},
    }
    for fn, want in expected.items():
        result = compiled_backend.call(
            fn, y_true, y_pred, **options, soft_label=soft_label, **extra.get(fn, {})
        )
        np.testing.assert_allclose(
            compiled_backend.to_numpy(result), want, **tolerance(case.dtype), err_msg=fn.__name__
        )
    precision = compiled_backend.call(
        xploss.precision, y_true, y_pred, **common(case), mask=mask, weight=weight
    )
    want = oracle.weighted_mean(oracle.precision(y, p, axes, 0.5, mask=case.mask), case.weight)
    np.testing.assert_allclose(compiled_backend.to_numpy(precision), want, **tolerance(case.dtype))


@COMPILED
@given(case=cases(keep_class_axis=True, allow_weight=False))
def test_compiled_metrics_and_generalized_dice_match_oracle(compiled_backend, case):
    y_true, y_pred, mask, _ = to_backend(compiled_backend, case)
    options = {**common(case), "mask": mask, "reduction": "none"}
    tpr = compiled_backend.call(xploss.true_positive_rate, y_true, y_pred, **options)
    all_axes = oracle.normalize(case.axis, case.y_pred.ndim)  # None: the TPR sums every axis
    expected = oracle.tpr(case.dense_true, case.probabilities, all_axes, 0.5, mask=case.mask)
    np.testing.assert_allclose(compiled_backend.to_numpy(tpr), expected, **tolerance(case.dtype))
    gdl = compiled_backend.call(
        xploss.generalized_dice_loss,
        y_true,
        y_pred,
        **options,
        smooth_nr=case.smooth_nr,
        smooth_dr=case.smooth_dr,
    )
    score = oracle.generalized_dice(
        case.dense_true,
        case.probabilities,
        case.axes,
        case.class_axis % case.y_pred.ndim,
        "square",
        case.smooth_nr,
        case.smooth_dr,
        mask=case.mask,
    )
    np.testing.assert_allclose(compiled_backend.to_numpy(gdl), 1 - score, **tolerance(case.dtype))


def _eager_autodiff_backends() -> list[backends.Backend]:
    names = [n for n in ("torch", "jax", "tensorflow") if n in backends.selected_names()]
    return [backends.make(n) for n in names if backends.installed(n)]


def _numeric_gradient(fn, y_true, y_pred, options, h=1e-6):
    gradient = np.zeros_like(y_pred)
    for index in np.ndindex(y_pred.shape):
        step = np.zeros_like(y_pred)
        step[index] = h
        up = float(fn(y_true, y_pred + step, **options))
        down = float(fn(y_true, y_pred - step, **options))
        gradient[index] = (up - down) / (2 * h)
    return gradient


@settings(max_examples=15, deadline=None)
@given(
    case=cases(
        dtypes=(np.float64,), max_dims=3, max_side=3, allow_weight=False, keep_class_axis=True
    ),
    fn=st.sampled_from(DIFFERENTIABLE),
)
def test_gradients_agree_across_frameworks_and_with_finite_differences(case, fn):
    autodiff = _eager_autodiff_backends()
    if not autodiff:
        pytest.skip("no differentiable backend installed")
    options = {**common(case), "smooth_nr": 1e-2, "smooth_dr": 1e-2}
    if fn is xploss.binary_cross_entropy:
        options = common(case)
    if not case.from_logits:  # stay off the BCE clip's kinks at 0 and 1
        case.y_pred = np.clip(case.y_pred, 0.05, 0.95)
    mask = case.mask
    gradients = {
        b.name: b.grad(
            fn,
            b.asarray(case.y_true),
            b.asarray(case.y_pred),
            **options,
            mask=None if mask is None else b.asarray(mask),
        )
        for b in autodiff
    }
    reference = _numeric_gradient(fn, case.y_true, case.y_pred, {**options, "mask": mask})
    for name, got in gradients.items():
        np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-7, err_msg=name)
        np.testing.assert_allclose(
            got,
            gradients[autodiff[0].name],
            rtol=1e-9,
            atol=1e-12,
            err_msg=f"{name} vs {autodiff[0].name}",
        )


@settings(max_examples=25, deadline=None)
@given(
    case=cases(),
    fn=st.sampled_from(FINITE_GRADIENTS),
    log=st.booleans(),
    soft_label=st.booleans(),
)
def test_gradients_are_finite_for_valid_inputs(case, fn, log, soft_label):
    """Empty and full masks, probabilities of exactly 0 and 1, logits, no smoothing at all."""
    options = {**common(case)}
    if fn is not xploss.binary_cross_entropy:
        options.update(smooth_nr=case.smooth_nr, smooth_dr=case.smooth_dr)
    if fn in (xploss.dice_loss, xploss.jaccard_loss):
        options["log"] = log
    if fn not in (xploss.binary_cross_entropy, xploss.bce_dice_loss, xploss.generalized_dice_loss):
        options["soft_label"] = soft_label
    for backend in _eager_autodiff_backends():
        mask = None if case.mask is None else backend.asarray(case.mask)
        y_true, y_pred = backend.asarray(case.y_true), backend.asarray(case.y_pred)
        if fn is xploss.generalized_dice_loss:
            options["axis"] = None  # every axis but the class axis
        gradient = backend.grad(fn, y_true, y_pred, **options, mask=mask)
        assert np.all(np.isfinite(gradient)), backend.name
