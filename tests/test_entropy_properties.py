"""Properties of the cross-entropy family on every eager backend.

``cross_entropy``, ``binary_cross_entropy``'s ``pos_weight`` and label smoothing, ``focal_loss``,
the Dice compounds and ``deep_supervision_loss`` equal the NumPy float64 oracle on drawn shapes,
axes, class axes, targets, dtypes and masks; the identities between the losses hold; a batch
split in two with an ``all_reduce`` gives the whole batch's value; NaN propagates, ``±inf``
logits stay finite, half precision computes in float32, ``ignore_index`` and empty masks leave
elements out, and bad options raise errors that name them.
"""

from __future__ import annotations

import collections
import functools
import inspect
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import xploss
from tests import backends, oracle
from tests.strategies import Case, cases, tolerance

pytestmark = [
    pytest.mark.filterwarnings("ignore:from_logits=.softmax. over a single channel"),
    pytest.mark.filterwarnings("ignore:include_background=False is ignored"),
]

# Examples per property and backend. JAX's eager mode compiles every operation for every new
# shape (about a second per example), so it draws a few; the others draw a dozen.
EXAMPLES, FEW, JAX_EXAMPLES = 12, 8, 2


def examples(backend, count: int):
    return settings(max_examples=JAX_EXAMPLES if backend.library == "jax" else count)


REDUCTIONS = st.sampled_from(["mean", "sum", "none", "per_sample"])
SMOOTHINGS = st.sampled_from([0.0, 0.0, 0.1, 0.5])
GAMMAS = st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5])
LAMBDAS = st.sampled_from([(1.0, 1.0), (0.5, 2.0), (0.0, 1.0), (1.0, 0.0)])


# ---- helpers ---------------------------------------------------------------------------------


def check(backend, result, expected, dtype):
    got = backend.to_numpy(result)
    expected = np.asarray(expected, np.float64)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **tolerance(dtype))


def rng_of(data) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def class_axis_of(case: Case) -> int:
    return case.class_axis % case.y_pred.ndim


def num_classes(case: Case) -> int:
    return case.y_pred.shape[case.class_axis]


def result_shape(case: Case, *, exclusive: bool) -> tuple[int, ...]:
    """``y_pred``'s shape without ``axis`` (and the class axis for a term summed over the
    classes)."""
    dropped = {*case.axes, class_axis_of(case)} if exclusive else set(case.axes)
    return tuple(d for a, d in enumerate(case.y_pred.shape) if a not in dropped)


def per_sample_possible(reduction: str, shape: tuple[int, ...]) -> bool:
    return reduction != "per_sample" or len(shape) >= 1


def class_option(data, backend, case: Case, *, unit: bool = False):
    """A per-class option as passed and as the oracle takes it: None, a number, C numbers or an
    array of C entries (the caller's array type)."""
    kind = data.draw(st.sampled_from(["none", "number", "tuple", "array"]), label="class option")
    if kind == "none":
        return None, None
    rng = rng_of(data)
    values = rng.uniform(0, 1 if unit else 3, size=num_classes(case))
    if kind == "number":
        return float(values[0]), float(values[0])
    if kind == "tuple":
        return tuple(float(v) for v in values), values
    values = values.astype(case.dtype)
    return backend.asarray(values), values.astype(np.float64)


def result_weight(data, backend, shape: tuple[int, ...], dtype):
    """A weight of the result: None, or trailing axes of ``shape``."""
    if not data.draw(st.booleans(), label="weight"):
        return None, None
    trailing = data.draw(st.integers(0, len(shape)), label="weight rank")
    values = rng_of(data).uniform(0, 3, size=shape[len(shape) - trailing :]).astype(dtype)
    return backend.asarray(values), values.astype(np.float64)


def element_mask(case: Case, extra=None):
    """The case's mask and ``extra`` (both in ``y_pred``'s layout), as one float64 array."""
    masks = [np.asarray(m, np.float64) for m in (case.mask, extra) if m is not None]
    if not masks:
        return None
    return functools.reduce(np.multiply, masks, np.ones(case.y_pred.shape))


def as_arrays(backend, case: Case):
    mask = None if case.mask is None else backend.asarray(case.mask)
    return backend.asarray(case.y_true), backend.asarray(case.y_pred), mask


def sparse_labels(case: Case):
    """The class indices of a sparse case with several classes, else None."""
    if case.y_true.ndim != case.y_pred.ndim - 1 or num_classes(case) == 1:
        return None
    return np.argmax(case.dense_true, axis=class_axis_of(case))


def with_ignored_labels(data, case: Case):
    """``(y_true, dense target, extra mask, options)``: sometimes a sparse case's labels with
    about a third replaced by ``C``, left out by ``ignore_index=C``."""
    labels = sparse_labels(case)
    if labels is None or not data.draw(st.booleans(), label="ignore_index"):
        return case.y_true, case.dense_true, None, {}
    c, classes = class_axis_of(case), num_classes(case)
    ignored = rng_of(data).random(labels.shape) < 0.3
    y_true = np.where(ignored, classes, labels).astype(case.y_true.dtype)
    dense = oracle.one_hot(labels, classes, c) * np.expand_dims(~ignored, c)
    kept = np.expand_dims(~ignored, c).astype(np.float64)
    return y_true, dense, kept, {"ignore_index": classes}


def options_of(fn, options: dict) -> dict:
    """The entries of ``options`` that ``fn`` takes."""
    parameters = inspect.signature(fn).parameters
    return {k: v for k, v in options.items() if k in parameters}


# ---- equal to the oracle ---------------------------------------------------------------------


def test_cross_entropy_matches_oracle(eager_backend):
    @examples(eager_backend, EXAMPLES)
    @given(case=cases(), reduction=REDUCTIONS, label_smoothing=SMOOTHINGS, data=st.data())
    def example(case, reduction, label_smoothing, data):
        assume(per_sample_possible(reduction, result_shape(case, exclusive=True)))
        weight, weight_expected = class_option(data, eager_backend, case)
        y_true, dense, kept, ignore = with_ignored_labels(data, case)
        _, y_pred, mask = as_arrays(eager_backend, case)
        result = xploss.cross_entropy(
            eager_backend.asarray(y_true),
            y_pred,
            axis=case.axis,
            class_axis=case.class_axis,
            from_logits=case.from_logits,
            weight=weight,
            label_smoothing=label_smoothing,
            mask=mask,
            reduction=reduction,
            **ignore,
        )
        expected = oracle.cross_entropy(
            dense,
            case.y_pred,
            case.axes,
            case.class_axis,
            bool(case.from_logits),
            weight=weight_expected,
            label_smoothing=label_smoothing,
            mask=element_mask(case, kept),
            reduction=reduction,
        )
        check(eager_backend, result, expected, case.dtype)

    example()


def test_binary_cross_entropy_options_match_oracle(eager_backend):
    @examples(eager_backend, EXAMPLES)
    @given(case=cases(), reduction=REDUCTIONS, label_smoothing=SMOOTHINGS, data=st.data())
    def example(case, reduction, label_smoothing, data):
        assume(per_sample_possible(reduction, case.result_shape))
        pos_weight, pos_weight_expected = class_option(data, eager_backend, case)
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        weight = None if case.weight is None else eager_backend.asarray(case.weight)
        result = xploss.binary_cross_entropy(
            y_true,
            y_pred,
            axis=case.axis,
            class_axis=case.class_axis,
            from_logits=case.from_logits,
            pos_weight=pos_weight,
            label_smoothing=label_smoothing,
            mask=mask,
            weight=weight,
            reduction=reduction,
        )
        values = oracle.binary_cross_entropy(
            case.dense_true,
            case.y_pred,
            case.axes,
            case.from_logits,
            case.class_axis,
            pos_weight=pos_weight_expected,
            label_smoothing=label_smoothing,
            mask=case.mask,
        )
        check(eager_backend, result, oracle.reduce(values, reduction, case.weight), case.dtype)

    example()


def test_focal_loss_matches_oracle(eager_backend):
    @examples(eager_backend, EXAMPLES)
    @given(
        case=cases(),
        reduction=REDUCTIONS,
        gamma=GAMMAS,
        label_smoothing=SMOOTHINGS,
        exclusive=st.booleans(),
        data=st.data(),
    )
    def example(case, reduction, gamma, label_smoothing, exclusive, data):
        exclusive = exclusive and case.from_logits is not True  # a sigmoid is never exclusive
        categorical = exclusive or case.from_logits == "softmax"
        shape = result_shape(case, exclusive=categorical)
        assume(per_sample_possible(reduction, shape))
        alpha, alpha_expected = class_option(data, eager_backend, case, unit=True)
        if categorical:  # class weights, as the cross-entropy's
            weight, weight_expected = class_option(data, eager_backend, case)
        else:
            weight, weight_expected = result_weight(data, eager_backend, shape, case.dtype)
        y_true, dense, kept, ignore = with_ignored_labels(data, case)
        _, y_pred, mask = as_arrays(eager_backend, case)
        result = xploss.focal_loss(
            eager_backend.asarray(y_true),
            y_pred,
            axis=case.axis,
            class_axis=case.class_axis,
            from_logits=case.from_logits,
            gamma=gamma,
            alpha=alpha,
            exclusive=exclusive,
            label_smoothing=label_smoothing,
            weight=weight,
            mask=mask,
            reduction=reduction,
            **ignore,
        )
        expected = oracle.focal_loss(
            dense,
            case.y_pred,
            case.axes,
            case.class_axis,
            case.from_logits,
            exclusive=exclusive,
            weight=weight_expected,
            reduction=reduction,
            gamma=gamma,
            alpha=alpha_expected,
            label_smoothing=label_smoothing,
            mask=element_mask(case, kept),
        )
        check(eager_backend, result, expected, case.dtype)

    example()


def compound_weight(data, backend, case: Case, *, categorical: bool, class_weights: bool):
    """A weight that both terms of a compound take.

    Independent channels: any weight of the result. Exclusive classes: the class-less term's
    result is the other's without the class axis, so a weight of the result is one number, or
    (``class_weights``, the categorical CE's class weights) C entries on the result's class
    axis, where ``axis`` leaves it.
    """
    if not categorical:
        return result_weight(data, backend, case.result_shape, case.dtype)
    c = class_axis_of(case)
    kind = data.draw(st.sampled_from(["none", "number", "classes"]), label="compound weight")
    if kind == "none" or (kind == "classes" and (not class_weights or c in case.axes)):
        return None, None
    values = rng_of(data).uniform(0, 3, size=num_classes(case))
    if kind == "number":
        return float(values[0]), float(values[0])
    after = sum(a > c and a not in case.axes for a in range(case.y_pred.ndim))
    values = values.reshape((-1,) + (1,) * after).astype(case.dtype)
    return backend.asarray(values), values.astype(np.float64)


def compound_reduction_possible(case: Case, reduction: str, *, mixed: bool, axes=None) -> bool:
    """Whether a compound's terms have results of one shape after ``reduction`` (``axes``: the
    summed axes, by default the case's). ``mixed``: one term keeps the class axis and the other
    has none (the categorical CE or focal term beside a Dice term whose ``axis`` leaves the
    classes; the generalized Dice beside the binary focal term). Then ``"none"`` cannot add
    them, nor ``"per_sample"`` where the class axis is the first that survives: both raise
    (``test_mixed_results_raise``)."""
    axes = case.axes if axes is None else axes
    c = class_axis_of(case)
    surviving = [a for a in range(case.y_pred.ndim) if a not in axes and a != c]
    if reduction == "per_sample" and not surviving:
        return False
    if not mixed:
        return True
    return reduction != "none" and (reduction != "per_sample" or surviving[0] < c)


def dice_mixed(case: Case, categorical: bool) -> bool:
    return categorical and class_axis_of(case) not in case.axes


def test_dice_ce_loss_matches_oracle(eager_backend):
    @examples(eager_backend, EXAMPLES)
    @given(
        case=cases(),
        reduction=REDUCTIONS,
        label_smoothing=SMOOTHINGS,
        exclusive=st.booleans(),
        lambdas=LAMBDAS,
        log=st.booleans(),
        squared=st.booleans(),
        data=st.data(),
    )
    def example(case, reduction, label_smoothing, exclusive, lambdas, log, squared, data):
        exclusive = exclusive and case.from_logits is not True
        categorical = exclusive or case.from_logits == "softmax"
        assume(compound_reduction_possible(case, reduction, mixed=dice_mixed(case, categorical)))
        weight, weight_expected = compound_weight(
            data, eager_backend, case, categorical=categorical, class_weights=True
        )
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        lambda_dice, lambda_ce = lambdas
        smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
        result = xploss.dice_ce_loss(
            y_true,
            y_pred,
            axis=case.axis,
            class_axis=case.class_axis,
            from_logits=case.from_logits,
            exclusive=exclusive,
            label_smoothing=label_smoothing,
            lambda_dice=lambda_dice,
            lambda_ce=lambda_ce,
            log=log,
            squared=squared,
            weight=weight,
            mask=mask,
            reduction=reduction,
            **smoothing,
        )
        expected = oracle.dice_ce(
            case.dense_true,
            case.y_pred,
            case.axes,
            case.class_axis,
            case.from_logits,
            exclusive=exclusive,
            weight=weight_expected,
            label_smoothing=label_smoothing,
            lambda_dice=lambda_dice,
            lambda_ce=lambda_ce,
            mask=element_mask(case),
            reduction=reduction,
            log=log,
            squared=squared,
            **smoothing,
        )
        check(eager_backend, result, expected, case.dtype)

    example()


def test_dice_focal_loss_matches_oracle(eager_backend):
    @examples(eager_backend, EXAMPLES)
    @given(
        case=cases(),
        reduction=REDUCTIONS,
        gamma=GAMMAS,
        label_smoothing=SMOOTHINGS,
        exclusive=st.booleans(),
        lambdas=LAMBDAS,
        soft_label=st.booleans(),
        data=st.data(),
    )
    def example(case, reduction, gamma, label_smoothing, exclusive, lambdas, soft_label, data):
        exclusive = exclusive and case.from_logits is not True
        categorical = exclusive or case.from_logits == "softmax"
        assume(compound_reduction_possible(case, reduction, mixed=dice_mixed(case, categorical)))
        alpha, alpha_expected = class_option(data, eager_backend, case, unit=True)
        weight, weight_expected = compound_weight(
            data, eager_backend, case, categorical=categorical, class_weights=False
        )
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        lambda_dice, lambda_focal = lambdas
        smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
        result = xploss.dice_focal_loss(
            y_true,
            y_pred,
            axis=case.axis,
            class_axis=case.class_axis,
            from_logits=case.from_logits,
            exclusive=exclusive,
            gamma=gamma,
            alpha=alpha,
            label_smoothing=label_smoothing,
            lambda_dice=lambda_dice,
            lambda_focal=lambda_focal,
            soft_label=soft_label,
            weight=weight,
            mask=mask,
            reduction=reduction,
            **smoothing,
        )
        expected = oracle.dice_focal(
            case.dense_true,
            case.y_pred,
            case.axes,
            case.class_axis,
            case.from_logits,
            exclusive=exclusive,
            weight=weight_expected,
            gamma=gamma,
            alpha=alpha_expected,
            label_smoothing=label_smoothing,
            lambda_dice=lambda_dice,
            lambda_focal=lambda_focal,
            mask=element_mask(case),
            reduction=reduction,
            soft_label=soft_label,
            **smoothing,
        )
        check(eager_backend, result, expected, case.dtype)

    example()


def test_generalized_dice_focal_loss_matches_oracle(eager_backend):
    @examples(eager_backend, EXAMPLES)
    @given(
        case=cases(keep_class_axis=True),
        reduction=REDUCTIONS,
        gamma=GAMMAS,
        weight_type=st.sampled_from(["square", "simple", "uniform"]),
        exclusive=st.booleans(),
        lambdas=LAMBDAS,
        data=st.data(),
    )
    def example(case, reduction, gamma, weight_type, exclusive, lambdas, data):
        exclusive = exclusive and case.from_logits is not True
        categorical = exclusive or case.from_logits == "softmax"
        focal_shape = result_shape(case, exclusive=categorical)
        assume(compound_reduction_possible(case, reduction, mixed=not categorical))
        alpha, alpha_expected = class_option(data, eager_backend, case, unit=True)
        weight, weight_expected = result_weight(data, eager_backend, focal_shape, case.dtype)
        label_smoothing = data.draw(SMOOTHINGS, label="label_smoothing")
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        lambda_dice, lambda_focal = lambdas
        smoothing = {"smooth_nr": case.smooth_nr, "smooth_dr": case.smooth_dr}
        common = {
            "exclusive": exclusive,
            "gamma": gamma,
            "label_smoothing": label_smoothing,
            "lambda_dice": lambda_dice,
            "lambda_focal": lambda_focal,
            "weight_type": weight_type,
            "reduction": reduction,
            **smoothing,
        }
        result = xploss.generalized_dice_focal_loss(
            y_true,
            y_pred,
            axis=case.axis,
            class_axis=case.class_axis,
            from_logits=case.from_logits,
            alpha=alpha,
            weight=weight,
            mask=mask,
            **common,
        )
        expected = oracle.generalized_dice_focal(
            case.dense_true,
            case.y_pred,
            case.axes,
            case.class_axis,
            case.from_logits,
            alpha=alpha_expected,
            weight=weight_expected,
            mask=element_mask(case),
            **common,
        )
        check(eager_backend, result, expected, case.dtype)

    example()


# ---- identities --------------------------------------------------------------------------------


def test_one_hot_targets_equal_class_indices(eager_backend):
    """Class indices are one-hot encoded inside: the value of the one-hot targets, also with
    class weights, label smoothing, ``ignore_index`` and a mask, for the CE and its compounds."""

    @examples(eager_backend, FEW)
    @given(
        case=cases(min_dims=2, allow_sparse=False),
        reduction=REDUCTIONS,
        label_smoothing=SMOOTHINGS,
        data=st.data(),
    )
    def example(case, reduction, label_smoothing, data):
        c, classes = class_axis_of(case), num_classes(case)
        reduction = "mean" if reduction == "none" else reduction
        mixed = c not in case.axes
        assume(classes > 1 and compound_reduction_possible(case, reduction, mixed=mixed))
        labels = rng_of(data).integers(0, classes, size=np.delete(case.y_pred.shape, c))
        one_hot = oracle.one_hot(labels, classes, c).astype(case.dtype)
        weight, _ = class_option(data, eager_backend, case)
        ignore_index = data.draw(st.sampled_from([None, 0, classes - 1]), label="ignore_index")
        _, y_pred, mask = as_arrays(eager_backend, case)
        options = {
            "axis": case.axis,
            "class_axis": case.class_axis,
            "from_logits": "softmax" if case.from_logits else False,
            "exclusive": True,
            "label_smoothing": label_smoothing,
            "ignore_index": ignore_index,
            "mask": mask,
            "reduction": reduction,
        }
        with_weight = {**options, "weight": weight}
        for fn, chosen in [
            (xploss.cross_entropy, with_weight),
            (xploss.focal_loss, options),
            (xploss.dice_ce_loss, options),
            (xploss.dice_focal_loss, options),
        ]:
            chosen = options_of(fn, chosen)
            from_labels = fn(eager_backend.asarray(labels.astype(np.int32)), y_pred, **chosen)
            from_one_hot = fn(eager_backend.asarray(one_hot), y_pred, **chosen)
            check(eager_backend, from_labels, eager_backend.to_numpy(from_one_hot), case.dtype)

    example()


def test_label_smoothing_is_the_loss_of_smoothed_targets(eager_backend):
    """``label_smoothing=ε`` is the plain loss of the soft targets ``y(1 - ε) + ε/K`` (``K = C``
    for exclusive classes, 2 for independent channels); ``label_smoothing=0`` is the plain loss."""

    @examples(eager_backend, FEW)
    @given(case=cases(), label_smoothing=st.sampled_from([0.1, 0.3, 1.0]), gamma=GAMMAS)
    def example(case, label_smoothing, gamma):
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        options = {"axis": case.axis, "class_axis": case.class_axis, "mask": mask}
        exclusive = {**options, "from_logits": "softmax" if case.from_logits else False}
        sigmoid = True if case.from_logits == "softmax" else case.from_logits
        runs = [
            (xploss.cross_entropy, exclusive, num_classes(case)),
            (
                xploss.focal_loss,
                {**exclusive, "exclusive": True, "gamma": gamma},
                num_classes(case),
            ),
            (xploss.binary_cross_entropy, {**options, "from_logits": case.from_logits}, 2),
            (xploss.focal_loss, {**options, "from_logits": sigmoid, "gamma": gamma}, 2),
        ]
        to_numpy = eager_backend.to_numpy
        for fn, chosen, k in runs:
            smoothed = case.dense_true * (1 - label_smoothing) + label_smoothing / k
            value = fn(y_true, y_pred, **chosen, label_smoothing=label_smoothing)
            plain = fn(eager_backend.asarray(smoothed.astype(case.dtype)), y_pred, **chosen)
            check(eager_backend, value, to_numpy(plain), case.dtype)
            zero = fn(y_true, y_pred, **chosen, label_smoothing=0.0)
            check(eager_backend, zero, to_numpy(fn(y_true, y_pred, **chosen)), case.dtype)
        zero = xploss.cross_entropy(y_true, y_pred, **exclusive, label_smoothing=0.0)
        expected = oracle.cross_entropy(
            case.dense_true,
            case.y_pred,
            case.axes,
            case.class_axis,
            bool(case.from_logits),
            mask=element_mask(case),
        )
        check(eager_backend, zero, expected, case.dtype)

    example()


def test_focal_loss_with_gamma_0_is_the_cross_entropy(eager_backend):
    """``gamma=0`` without ``alpha``: the BCE for independent channels (every reduction), the
    CE for exclusive classes (per element of the result, and for ``"mean"`` over every axis,
    where both are the one ratio of sums)."""

    @examples(eager_backend, FEW)
    @given(case=cases(), reduction=REDUCTIONS, label_smoothing=SMOOTHINGS)
    def example(case, reduction, label_smoothing):
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        options = {"axis": case.axis, "class_axis": case.class_axis, "mask": mask}
        options["label_smoothing"] = label_smoothing
        if case.from_logits != "softmax":
            assume(per_sample_possible(reduction, case.result_shape))
            independent = {**options, "from_logits": case.from_logits, "reduction": reduction}
            focal = xploss.focal_loss(y_true, y_pred, **independent, gamma=0.0)
            bce = xploss.binary_cross_entropy(y_true, y_pred, **independent)
            check(eager_backend, focal, eager_backend.to_numpy(bce), case.dtype)
        exclusive = {**options, "from_logits": "softmax" if case.from_logits else False}
        focal = xploss.focal_loss(
            y_true, y_pred, **exclusive, exclusive=True, gamma=0.0, reduction="none"
        )
        ce = xploss.cross_entropy(y_true, y_pred, **exclusive, reduction="none")
        check(eager_backend, focal, eager_backend.to_numpy(ce), case.dtype)
        every_axis = {**exclusive, "axis": None}
        focal = xploss.focal_loss(y_true, y_pred, **every_axis, exclusive=True, gamma=0.0)
        ce = xploss.cross_entropy(y_true, y_pred, **every_axis)
        check(eager_backend, focal, eager_backend.to_numpy(ce), case.dtype)

    example()


def test_compounds_are_the_weighted_sums_of_their_terms(eager_backend):
    """Each compound is ``λ_d·(Dice term) + λ·(CE or focal term)`` of the standalone losses
    with the same options: the categorical CE for exclusive classes, the binary CE for a
    sigmoid; ``include_background`` leaves class 0 out of the Dice term only of Dice + CE."""

    @examples(eager_backend, FEW)
    @given(
        case=cases(allow_weight=False),
        reduction=REDUCTIONS,
        label_smoothing=SMOOTHINGS,
        lambdas=LAMBDAS,
        exclusive=st.booleans(),
        log=st.booleans(),
        include_background=st.booleans(),
        gamma=GAMMAS,
    )
    def example(
        case, reduction, label_smoothing, lambdas, exclusive, log, include_background, gamma
    ):
        exclusive = exclusive and case.from_logits is not True
        categorical = exclusive or case.from_logits == "softmax"
        y_true, y_pred, mask = as_arrays(eager_backend, case)
        lambda_dice, lambda_other = lambdas
        options = {
            "axis": case.axis,
            "class_axis": case.class_axis,
            "from_logits": case.from_logits,
            "exclusive": exclusive,
            "label_smoothing": label_smoothing,
            "include_background": include_background,
            "smooth_nr": case.smooth_nr,
            "smooth_dr": case.smooth_dr,
            "log": log,
            "gamma": gamma,
            "mask": mask,
            "reduction": reduction,
        }
        ce_fn = xploss.cross_entropy if categorical else xploss.binary_cross_entropy
        ce_options = dict(options)
        if categorical:
            ce_options["from_logits"] = "softmax" if case.from_logits else False
        combinations = []
        if compound_reduction_possible(case, reduction, mixed=dice_mixed(case, categorical)):
            combinations += [
                (xploss.dice_ce_loss, xploss.dice_loss, ce_fn, case.axis, ce_options, "lambda_ce"),
                (
                    xploss.dice_focal_loss,
                    xploss.dice_loss,
                    xploss.focal_loss,
                    case.axis,
                    options,
                    "lambda_focal",
                ),
            ]
        # generalized Dice sums every axis but the classes (axis=None, or the case's without them);
        # its focal term sums the same axes and is then reduced over the classes too
        c = class_axis_of(case)
        gd_axes = tuple(a for a in case.axes if a != c)
        gd_axis = None if case.axis is None else gd_axes
        if (case.axis is None or gd_axes) and compound_reduction_possible(
            case, reduction, mixed=not categorical, axes=gd_axes
        ):
            combinations.append(
                (
                    xploss.generalized_dice_focal_loss,
                    xploss.generalized_dice_loss,
                    xploss.focal_loss,
                    gd_axis,
                    {**options, "axis": gd_axes},
                    "lambda_focal",
                )
            )
        assume(combinations)
        to_numpy = eager_backend.to_numpy
        for compound, dice_fn, other_fn, axis, other_options, factor in combinations:
            chosen = {**options, "axis": axis}
            value = compound(
                y_true,
                y_pred,
                **options_of(compound, chosen),
                lambda_dice=lambda_dice,
                **{factor: lambda_other},
            )
            dice = to_numpy(dice_fn(y_true, y_pred, **options_of(dice_fn, chosen)))
            other = to_numpy(other_fn(y_true, y_pred, **options_of(other_fn, other_options)))
            check(eager_backend, value, lambda_dice * dice + lambda_other * other, case.dtype)

    example()


def test_generalized_dice_focal_leaves_the_background_out_of_the_focal_mean():
    """With independent channels and ``include_background=False``, the focal term averages the
    other classes only, as ``focal_loss`` and MONAI's ``GeneralizedDiceFocalLoss`` do (not
    the background as a 0 among C classes)."""
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(2, 5, 3)), rng.integers(0, 3, size=(2, 5))
    options = {"from_logits": True, "include_background": False, "axis": 1}
    value = xploss.generalized_dice_focal_loss(labels, logits, **options)
    gd = xploss.generalized_dice_loss(labels, logits, **options)
    focal = oracle.focal_loss(
        oracle.one_hot(labels, 3, -1)[..., 1:], logits[..., 1:], (1,), -1, True
    )
    np.testing.assert_allclose(value, gd + focal, rtol=1e-12)


# ---- all_reduce: two halves of a batch are the whole batch ---------------------------------------


def recording(log: list):
    def all_reduce(stats):
        log.append(stats)
        return stats

    return all_reduce


def adding(other: list):
    """An all-reduce of two devices seen from one: the other device's sums, call by call (every
    device makes the same collectives in the same order), added to this one's."""
    theirs = iter(other)

    def all_reduce(stats):
        return type(stats)(*(a + b for a, b in zip(stats, next(theirs), strict=True)))

    return all_reduce


ALL_REDUCE_LOSSES = [
    pytest.param(xploss.cross_entropy, {"from_logits": True}, id="cross_entropy"),
    pytest.param(xploss.cross_entropy, {"weight": (0.5, 2.0, 1.0)}, id="cross_entropy-weight"),
    pytest.param(xploss.focal_loss, {"from_logits": True, "alpha": 0.25}, id="focal-sigmoid"),
    pytest.param(xploss.focal_loss, {"from_logits": "softmax"}, id="focal-softmax"),
    pytest.param(xploss.dice_ce_loss, {"from_logits": "softmax"}, id="dice_ce-softmax"),
    pytest.param(xploss.dice_ce_loss, {"from_logits": True}, id="dice_ce-sigmoid"),
    pytest.param(xploss.dice_focal_loss, {"from_logits": True}, id="dice_focal"),
    pytest.param(
        xploss.generalized_dice_focal_loss, {"from_logits": "softmax"}, id="generalized_dice_focal"
    ),
]


@pytest.mark.parametrize(("fn", "options"), ALL_REDUCE_LOSSES)
@pytest.mark.parametrize("axis", [None, 1], ids=["batch-sums", "per-image"])
def test_all_reduce_of_two_halves_is_the_whole_batch(eager_backend, fn, options, axis):
    """Unequal halves (1 and 3 images), so that the mean of the halves' values is not the whole
    batch's: with an all_reduce that adds the other half's sums, each half computes the whole
    batch's value, for sums over the batch (``axis=None``) and per image (``axis=1``)."""
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 3, size=(4, 5, 3)).astype(np.float32)
    labels = rng.integers(0, 3, size=(4, 5)).astype(np.int32)
    mask = (rng.random((4, 5)) < 0.7).astype(np.float32)
    if fn is xploss.generalized_dice_focal_loss and axis is None:
        axis = (0, 1)  # every axis but the classes
    to = eager_backend.asarray
    for reduction in ("mean", "sum"):
        chosen = {**options, "axis": axis, "reduction": reduction}
        whole = fn(to(labels), to(logits), mask=to(mask), **chosen)
        halves = [
            (to(labels[rows]), to(logits[rows]), to(mask[rows]))
            for rows in (slice(None, 1), slice(1, None))
        ]
        logs: list[list] = [[], []]
        for (y, p, m), log in zip(halves, logs, strict=True):
            fn(y, p, mask=m, all_reduce=recording(log), **chosen)
        assert len(logs[0]) == len(logs[1]) >= 1
        for (y, p, m), other in zip(halves, reversed(logs), strict=True):
            synced = fn(y, p, mask=m, all_reduce=adding(other), **chosen)
            check(eager_backend, synced, eager_backend.to_numpy(whole), np.float32)
        alone = eager_backend.to_numpy(fn(*halves[0][:2], mask=halves[0][2], **chosen))
        assert not np.allclose(alone, eager_backend.to_numpy(whole), rtol=1e-3)


# ---- NaN, ±inf, half precision -----------------------------------------------------------------

LOGIT_LOSSES = [
    pytest.param(xploss.cross_entropy, {"from_logits": True}, id="cross_entropy"),
    pytest.param(
        xploss.cross_entropy,
        {"from_logits": True, "weight": (1.0, 2.0, 0.5), "label_smoothing": 0.1},
        id="cross_entropy-options",
    ),
    pytest.param(
        xploss.binary_cross_entropy,
        {"from_logits": True, "pos_weight": (1.0, 3.0, 0.5), "label_smoothing": 0.1},
        id="bce-pos_weight",
    ),
    pytest.param(xploss.binary_cross_entropy, {"from_logits": "softmax"}, id="bce-softmax"),
    pytest.param(xploss.focal_loss, {"from_logits": True, "alpha": 0.25}, id="focal-sigmoid"),
    pytest.param(
        xploss.focal_loss, {"from_logits": True, "gamma": 0.5}, id="focal-sigmoid-gamma0.5"
    ),
    pytest.param(
        xploss.focal_loss,
        {"from_logits": "softmax", "alpha": (0.2, 0.3, 0.5), "label_smoothing": 0.1},
        id="focal-softmax",
    ),
    pytest.param(
        xploss.focal_loss, {"from_logits": "softmax", "gamma": 0.5}, id="focal-softmax-gamma0.5"
    ),
    pytest.param(xploss.dice_ce_loss, {"from_logits": "softmax"}, id="dice_ce-softmax"),
    pytest.param(xploss.dice_ce_loss, {"from_logits": True}, id="dice_ce-sigmoid"),
    pytest.param(xploss.dice_focal_loss, {"from_logits": "softmax"}, id="dice_focal-softmax"),
    pytest.param(xploss.dice_focal_loss, {"from_logits": True}, id="dice_focal-sigmoid"),
    pytest.param(
        xploss.generalized_dice_focal_loss, {"from_logits": "softmax"}, id="gd_focal-softmax"
    ),
    pytest.param(xploss.generalized_dice_focal_loss, {"from_logits": True}, id="gd_focal-sigmoid"),
]

LABELS = np.array([[0, 1, 2, 1], [2, 2, 0, 1]], dtype=np.int64)
LOGITS = np.random.default_rng(11).normal(0, 2, size=(2, 4, 3)).astype(np.float32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, on the NaN itself
@pytest.mark.parametrize(("fn", "options"), LOGIT_LOSSES)
def test_a_nan_logit_makes_the_loss_nan(eager_backend, fn, options):
    logits = LOGITS.copy()
    logits[1, 2, 0] = np.nan
    to = eager_backend.asarray
    for reduction in ("mean", "sum"):
        value = eager_backend.to_numpy(fn(to(LABELS), to(logits), **options, reduction=reduction))
        assert np.isnan(value), (reduction, value)
    # an element whose logits are all finite keeps its own value
    per_image = fn(to(LABELS), to(logits), **options, axis=1, reduction="per_sample")
    per_image = eager_backend.to_numpy(per_image)
    assert np.isfinite(per_image[0]) and np.isnan(per_image[1])


def infinite_logits(*, wrong: bool = False) -> np.ndarray:
    """``LOGITS`` with saturated elements: certain and right, for a softmax and a sigmoid alike
    (the target class ``+inf``, the others ``-inf`` or finite); ``wrong`` adds two elements
    certain of a wrong class, whose true loss is infinite."""
    logits = LOGITS.copy()
    logits[0, 0] = [np.inf, -np.inf, -np.inf]  # label 0
    logits[0, 1] = [-np.inf, np.inf, 0.0]  # label 1
    logits[1, 0] = [-np.inf, -np.inf, np.inf]  # label 2
    if wrong:
        logits[0, 3] = [np.inf, -np.inf, -np.inf]  # label 1
        logits[1, 1] = [-np.inf, np.inf, -np.inf]  # label 2
    return logits


@pytest.mark.parametrize("name", ["torch", "jax"])
@pytest.mark.parametrize(("fn", "options"), LOGIT_LOSSES)
def test_infinite_logits_give_finite_values_and_gradients(name, fn, options):
    backend = backends.make(name)
    y_true, y_pred = backend.asarray(LABELS), backend.asarray(infinite_logits())
    value = backend.to_numpy(backend.call(fn, y_true, y_pred, **options))
    finite = backend.to_numpy(backend.call(fn, y_true, backend.asarray(LOGITS), **options))
    assert np.isfinite(value)
    if not options.get("label_smoothing"):  # smoothing gives every -inf class a target > 0
        assert abs(value) < 10 * abs(finite)
    gradient = backend.grad(fn, y_true, y_pred, **options)
    assert gradient.shape == LOGITS.shape and np.all(np.isfinite(gradient))
    assert np.abs(gradient[0, 2:]).sum() > 0  # the finite elements still learn


@pytest.mark.parametrize(("fn", "options"), LOGIT_LOSSES)
def test_certain_wrong_infinite_logits_give_finite_values_and_gradients(fn, options):
    """A logit of ``±inf`` certain of the wrong class is taken as a saturated logit: finite
    values and gradients, also after class weights, ``pos_weight`` and the sums of several
    such elements."""
    for name in ("torch", "jax"):
        backend = backends.make(name)
        y_true, y_pred = backend.asarray(LABELS), backend.asarray(infinite_logits(wrong=True))
        for reduction in ("mean", "sum"):
            value = backend.call(fn, y_true, y_pred, **options, reduction=reduction)
            assert np.isfinite(backend.to_numpy(value)), (name, reduction)
        gradient = backend.grad(fn, y_true, y_pred, **options)
        assert np.all(np.isfinite(gradient)), name


@pytest.mark.parametrize("name", ["torch", "jax"])
@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize(("fn", "options"), LOGIT_LOSSES)
def test_half_precision_gives_the_float32_value(name, half, fn, options):
    """float16 and bfloat16 inputs are computed in float32: the value of the same (rounded)
    inputs given in float32, to float32's tolerance."""
    backend = backends.make(name)
    if name == "torch":
        import torch

        pred = backend.asarray(LOGITS).to(getattr(torch, half))
        reference = pred.to(torch.float32)
        float32 = torch.float32
    else:
        import jax.numpy as jnp

        pred = jnp.asarray(LOGITS, dtype=getattr(jnp, half))
        reference = pred.astype(jnp.float32)
        float32 = jnp.float32
    labels = backend.asarray(LABELS)
    value = fn(labels, pred, **options)
    assert value.dtype == float32
    expected = backend.to_numpy(fn(labels, reference, **options))
    np.testing.assert_allclose(backend.to_numpy(value), expected, **tolerance(np.float32))


# ---- ignore_index and masks ------------------------------------------------------------------

IGNORE_LOSSES = [
    pytest.param(xploss.cross_entropy, {"from_logits": True}, id="cross_entropy"),
    pytest.param(
        xploss.cross_entropy,
        {"from_logits": True, "weight": (1.0, 2.0, 0.5), "label_smoothing": 0.2},
        id="cross_entropy-options",
    ),
    pytest.param(xploss.cross_entropy, {}, id="cross_entropy-probabilities"),
    pytest.param(xploss.binary_cross_entropy, {"from_logits": True}, id="bce"),
    pytest.param(xploss.focal_loss, {"from_logits": True, "alpha": 0.25}, id="focal-sigmoid"),
    pytest.param(xploss.focal_loss, {"from_logits": "softmax"}, id="focal-softmax"),
    pytest.param(xploss.dice_ce_loss, {"from_logits": "softmax"}, id="dice_ce"),
    pytest.param(xploss.dice_focal_loss, {"from_logits": True}, id="dice_focal"),
    pytest.param(xploss.generalized_dice_focal_loss, {"from_logits": "softmax"}, id="gd_focal"),
]


@pytest.mark.parametrize(("fn", "options"), IGNORE_LOSSES)
def test_ignore_index_leaves_the_elements_out(eager_backend, fn, options):
    """The loss of labels holding 255 with ``ignore_index=255`` (uint8, as a VOC mask) is the
    loss of the other elements alone; a one-hot target with ``ignore_index=k`` leaves out the
    elements of class k."""
    rng = np.random.default_rng(5)
    logits = rng.normal(0, 2, size=(12, 3)).astype(np.float32)
    if not options.get("from_logits"):
        logits = oracle.softmax(logits.astype(np.float64), -1).astype(np.float32)
    labels = rng.integers(0, 3, size=12).astype(np.uint8)
    ignored = np.zeros(12, bool)
    ignored[[1, 4, 5, 9]] = True
    to = eager_backend.asarray
    kept = ~ignored
    for reduction in ("mean", "sum"):
        chosen = {**options, "reduction": reduction}
        value = fn(
            to(np.where(ignored, 255, labels).astype(np.uint8)),
            to(logits),
            ignore_index=255,
            **chosen,
        )
        alone = fn(to(labels[kept]), to(logits[kept]), **chosen)
        check(eager_backend, value, eager_backend.to_numpy(alone), np.float32)
        one_hot = np.eye(3, dtype=np.float32)[labels]
        value = fn(to(one_hot), to(logits), ignore_index=1, **chosen)
        others = labels != 1
        alone = fn(to(one_hot[others]), to(logits[others]), **chosen)
        check(eager_backend, value, eager_backend.to_numpy(alone), np.float32)


EVERY_LOSS = [
    *IGNORE_LOSSES,
    pytest.param(
        xploss.binary_cross_entropy, {"pos_weight": 2.0, "label_smoothing": 0.1}, id="bce-options"
    ),
    pytest.param(xploss.dice_ce_loss, {"from_logits": True, "log": True}, id="dice_ce-log"),
    pytest.param(
        xploss.dice_focal_loss, {"from_logits": "softmax", "alpha": 0.3}, id="dice_focal-softmax"
    ),
    pytest.param(xploss.generalized_dice_focal_loss, {"from_logits": True}, id="gd_focal-sigmoid"),
]


@pytest.mark.parametrize(("fn", "options"), EVERY_LOSS)
def test_an_all_masked_input_gives_0(eager_backend, fn, options):
    logits = LOGITS if options.get("from_logits") else oracle.softmax(LOGITS, -1)
    to = eager_backend.asarray
    for mask in (np.zeros((2, 4), np.float32), np.zeros((2, 4, 1), bool)):
        for reduction in ("mean", "sum", "per_sample"):
            value = fn(
                to(LABELS),
                to(logits.astype(np.float32)),
                mask=to(mask),
                axis=1,
                reduction=reduction,
                **options,
            )
            value = eager_backend.to_numpy(value)
            assert np.all(value == 0), (reduction, value)


# ---- bad options -------------------------------------------------------------------------------

Y = np.array([[0, 2, 1]])
P = np.zeros((1, 3, 3), np.float32)
BAD_OPTIONS = [
    (xploss.focal_loss, {"exclusive": True, "from_logits": True}, ValueError,
     r"exclusive=True .* from_logits=True"),
    (xploss.dice_ce_loss, {"exclusive": True, "from_logits": "sigmoid"}, ValueError,
     r"exclusive=True .* from_logits='sigmoid'"),
    (xploss.dice_focal_loss, {"exclusive": True, "from_logits": True}, ValueError,
     r"exclusive=True"),
    (xploss.generalized_dice_focal_loss, {"exclusive": True, "from_logits": True}, ValueError,
     r"exclusive=True"),
    (xploss.cross_entropy, {"from_logits": "sigmoid"}, ValueError,
     r"from_logits='sigmoid'.*binary_cross_entropy"),
    (xploss.cross_entropy, {"from_logits": "tanh"}, ValueError, r"from_logits='tanh'"),
    (xploss.cross_entropy, {"weight": (1.0, 2.0)}, ValueError,
     r"weight of shape \(2,\) has 2 entries, but y_pred of shape \(1, 3, 3\) has 3 classes"),
    (xploss.cross_entropy, {"weight": np.ones(4)}, ValueError, r"weight of shape \(4,\)"),
    (xploss.cross_entropy, {"weight": (1.0, -2.0, 1.0)}, ValueError, r"weight must hold"),
    (xploss.cross_entropy, {"weight": {0: 1.0}}, TypeError, r"weight must be None"),
    (xploss.focal_loss, {"alpha": (0.1, 0.2)}, ValueError, r"alpha of shape \(2,\)"),
    (xploss.focal_loss, {"alpha": (0.1, 0.2), "from_logits": "softmax"}, ValueError,
     r"alpha of shape \(2,\) has 2 entries.*3 classes"),
    (xploss.dice_focal_loss, {"alpha": (0.1, 0.2, 0.3, 0.4)}, ValueError, r"alpha of shape"),
    (xploss.binary_cross_entropy, {"pos_weight": (1.0, 2.0)}, ValueError,
     r"pos_weight of shape \(2,\) has 2 entries"),
    (xploss.dice_ce_loss, {"weight": (1.0, 2.0), "from_logits": "softmax", "axis": 1},
     ValueError, r"weight of shape \(2,\)"),
    (xploss.cross_entropy, {"label_smoothing": 1.5}, ValueError,
     r"label_smoothing=1.5 must be a number in \[0, 1\]"),
    (xploss.focal_loss, {"label_smoothing": -0.1}, ValueError, r"label_smoothing=-0.1"),
    (xploss.binary_cross_entropy, {"label_smoothing": 1.5}, ValueError, r"label_smoothing=1.5"),
    (xploss.dice_ce_loss, {"label_smoothing": 2.0}, ValueError, r"label_smoothing=2.0"),
    (xploss.focal_loss, {"gamma": -1.0}, ValueError, r"gamma=-1.0 must be a finite number >= 0"),
    (xploss.dice_ce_loss, {"lambda_ce": -1.0}, ValueError, r"lambda_ce=-1.0"),
    (xploss.dice_focal_loss, {"lambda_focal": -1.0}, ValueError, r"lambda_focal=-1.0"),
    (xploss.cross_entropy, {"reduction": "average"}, ValueError, r"reduction='average'"),
    (xploss.dice_ce_loss, {"from_logits": "softmax", "axis": 1, "reduction": "none"},
     ValueError, r"reduction='none'.*per_sample"),
    (xploss.dice_focal_loss, {"exclusive": True, "axis": 1, "reduction": "none"}, ValueError,
     r"reduction='none'"),
    (xploss.generalized_dice_focal_loss, {"from_logits": True, "axis": 1, "reduction": "none"},
     ValueError, r"reduction='none'"),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "options", "error", "match"), BAD_OPTIONS)
def test_bad_options_raise_naming_the_argument(fn, options, error, match):
    with pytest.raises(error, match=match):
        fn(Y, P, **options)


def test_mixed_results_raise():
    """Where one term keeps the class axis and the other has none, ``"none"`` cannot add them
    element by element, nor ``"per_sample"`` with the classes first: with as many images as
    classes the shapes would broadcast, each class's Dice against another image's CE, so they
    raise instead."""
    labels = np.array([[0, 1], [2, 2], [1, 0]])
    logits = np.zeros((3, 2, 3))
    for fn in (xploss.dice_ce_loss, xploss.dice_focal_loss):
        with pytest.raises(
            ValueError, match=r"reduction='none' with axis=1 and class_axis=2: one term"
        ):
            fn(labels, logits, from_logits="softmax", axis=1, reduction="none")
        with pytest.raises(
            ValueError, match=r"reduction='per_sample' with axis=1 and class_axis=0"
        ):
            fn(
                labels.T,
                logits.transpose(2, 1, 0),
                from_logits="softmax",
                axis=1,
                class_axis=0,
                reduction="per_sample",
            )
    with pytest.raises(ValueError, match=r"reduction='none' .* do not pair up"):
        xploss.generalized_dice_focal_loss(
            labels, logits, from_logits=True, axis=1, reduction="none"
        )


DEEP_BAD = [
    ({"weights": (1.0, 0.5)}, ValueError, r"weights=\(1.0, 0.5\) must hold one .* 3 outputs"),
    ({"weights": (1.0, -0.5, 0.25)}, ValueError, r"weights="),
    ({"mode": "bilinear"}, ValueError, r"mode='bilinear' is not one of 'auto', 'nearest'"),
]


@pytest.mark.parametrize(("options", "error", "match"), DEEP_BAD)
def test_deep_supervision_bad_options(options, error, match):
    labels = np.zeros((1, 8), np.int64)
    outputs = [np.zeros((1, n, 3), np.float32) for n in (8, 4, 2)]
    with pytest.raises(error, match=match):
        xploss.deep_supervision_loss(xploss.cross_entropy, labels, outputs, **options)


def test_deep_supervision_average_needs_whole_blocks():
    soft = np.full((1, 7, 3), 1 / 3, np.float32)
    outputs = [np.zeros((1, 7, 3), np.float32), np.zeros((1, 3, 3), np.float32)]
    with pytest.raises(ValueError, match=r"mode='average' .* 7 entries for an output of 3"):
        xploss.deep_supervision_loss(xploss.cross_entropy, soft, outputs, mode="average")
    with pytest.raises(ValueError, match="y_preds holds no output"):
        xploss.deep_supervision_loss(xploss.cross_entropy, soft, [])


# ---- computed once -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [xploss.dice_ce_loss, xploss.dice_focal_loss, xploss.generalized_dice_focal_loss],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("from_logits", ["softmax", True])
def test_compounds_run_the_input_pipeline_once(monkeypatch, fn, from_logits):
    """One call prepares the inputs once: one ``prepare`` (wherever a module imported it), one
    activation and one one-hot encoding of the class indices, shared by both terms; after a
    softmax, one log-softmax, whose ``exp`` is the Dice's probabilities."""
    import xploss._elementwise as elementwise_module
    import xploss._inputs as inputs_module
    import xploss._labels as labels_module

    calls: collections.Counter[str] = collections.Counter()

    def counted(name, original):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)

        return wrapper

    prepare = inputs_module.prepare
    modules = [m for n, m in sys.modules.items() if n.startswith("xploss") and m is not None]
    patched = [m for m in modules if getattr(m, "prepare", None) is prepare]
    assert sys.modules["xploss._compound"] in patched
    for module in patched:
        monkeypatch.setattr(module, "prepare", counted("prepare", prepare))
    monkeypatch.setattr(inputs_module, "activate", counted("activate", inputs_module.activate))
    monkeypatch.setattr(labels_module, "one_hot", counted("one_hot", labels_module.one_hot))
    log_softmax = elementwise_module.categorical_log_probabilities
    for module in modules:
        if getattr(module, "categorical_log_probabilities", None) is log_softmax:
            counted_log_softmax = counted("log_softmax", log_softmax)
            monkeypatch.setattr(module, "categorical_log_probabilities", counted_log_softmax)
    softmax = counted("softmax", elementwise_module.softmax)  # none beside the log-softmax
    monkeypatch.setattr(elementwise_module, "softmax", softmax)
    value = fn(LABELS, LOGITS, from_logits=from_logits, axis=1)
    assert np.isfinite(value)
    expected = {"prepare": 1, "activate": 1, "one_hot": 1}
    if from_logits == "softmax":
        expected["log_softmax"] = 1
    assert dict(calls) == expected


# ---- deep supervision ------------------------------------------------------------------------


def recorded_targets(y_true, outputs, **options):
    """The targets ``deep_supervision_loss`` hands its loss, and the weights it gives the
    outputs: the loss returns the i-th unit vector for output i, so the sum is the weights."""
    targets = []

    def loss(target, y_pred, **_):
        targets.append(np.asarray(target))
        unit = np.zeros(len(outputs))
        unit[len(targets) - 1] = 1.0
        return unit

    weights = xploss.deep_supervision_loss(loss, y_true, outputs, **options)
    return targets, np.asarray(weights)


NEAREST_SIZES = [
    ((7,), [(3,), (5,), (2,), (1,)]),
    ((8, 6), [(4, 3), (3, 2), (5, 4), (8, 6)]),
    ((7, 5), [(3, 2), (6, 3)]),
    ((6, 5, 4), [(3, 2, 2), (4, 3, 3)]),
]


@pytest.mark.parametrize(("full", "sizes"), NEAREST_SIZES, ids=str)
@pytest.mark.parametrize("channels_first", [True, False], ids=["class_axis=1", "class_axis=-1"])
def test_deep_supervision_labels_resize_as_torch_nearest_exact(full, sizes, channels_first):
    import torch
    import torch.nn.functional as F

    labels = np.random.default_rng(2).integers(0, 4, size=(2, *full))
    class_axis = 1 if channels_first else -1
    shape = (lambda s: (2, 4, *s)) if channels_first else (lambda s: (2, *s, 4))
    outputs = [np.zeros(shape(s), np.float32) for s in sizes]
    targets, weights = recorded_targets(labels, outputs, class_axis=class_axis)
    for target, size in zip(targets, sizes, strict=True):
        theirs = F.interpolate(
            torch.from_numpy(labels[:, None].astype(np.float32)), size=size, mode="nearest-exact"
        )
        np.testing.assert_array_equal(target, theirs[:, 0].long().numpy())
        np.testing.assert_array_equal(target, oracle.resize_nearest(labels, (2, *size)))
    halving = 0.5 ** np.arange(len(sizes))
    np.testing.assert_allclose(weights, halving / halving.sum(), rtol=1e-12)


@pytest.mark.parametrize(
    ("full", "factors"),
    [((8,), [(2,), (4,), (8,)]), ((8, 6), [(2, 2), (4, 3), (2, 1)]), ((4, 4, 2), [(2, 2, 2)])],
    ids=str,
)
def test_deep_supervision_soft_targets_average_as_torch_avg_pool(full, factors):
    import torch
    import torch.nn.functional as F

    soft = np.random.default_rng(3).random((2, 3, *full))
    soft /= soft.sum(axis=1, keepdims=True)
    sizes = [tuple(n // f for n, f in zip(full, k, strict=True)) for k in factors]
    outputs = [np.zeros((2, 3, *s)) for s in [full, *sizes]]
    ones = [1] * len(outputs)  # weights as given: not normalised
    targets, weights = recorded_targets(soft, outputs, class_axis=1, weights=ones)
    pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[len(full)]
    np.testing.assert_allclose(targets[0], soft, rtol=1e-12)
    for target, factor in zip(targets[1:], factors, strict=True):
        theirs = pool(torch.from_numpy(soft), kernel_size=factor).numpy()
        np.testing.assert_allclose(target, theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(weights, np.ones(len(outputs)))


def deep_supervision_case(channels_first: bool, soft: bool):
    """Labels or soft targets at full size (6, 8) and outputs at (6, 8), (3, 4) and (2, 3)
    (a non-integer ratio for labels; soft targets take (6, 8), (3, 4), (2, 2))."""
    rng = np.random.default_rng(4)
    sizes = [(6, 8), (3, 4), (2, 2) if soft else (2, 3)]
    if channels_first:
        outputs = [rng.normal(0, 2, size=(2, 3, *s)).astype(np.float32) for s in sizes]
    else:
        outputs = [rng.normal(0, 2, size=(2, *s, 3)).astype(np.float32) for s in sizes]
    class_axis = 1 if channels_first else -1
    if soft:
        target = rng.random(outputs[0].shape)
        target = (target / target.sum(axis=class_axis, keepdims=True)).astype(np.float32)
    else:
        target = rng.integers(0, 3, size=(2, 6, 8)).astype(np.int64)
    return target, outputs, class_axis


def dense(target, outputs, class_axis):
    if target.ndim == outputs[0].ndim:
        return target
    return oracle.one_hot(target, outputs[0].shape[class_axis], class_axis % outputs[0].ndim)


def deep_ce(y, p, c, spatial):
    return oracle.cross_entropy(y, p, tuple(range(p.ndim)), c, True, label_smoothing=0.1)


def deep_dice_ce(y, p, c, spatial):
    return oracle.dice_ce(y, p, spatial, c, "softmax")


def deep_dice_focal(y, p, c, spatial):
    return oracle.dice_focal(y, p, spatial, c, True, gamma=1.5)


CE_OPTIONS = {"from_logits": True, "label_smoothing": 0.1}
DEEP_LOSSES = [  # each loss and each target layout once
    pytest.param(xploss.cross_entropy, CE_OPTIONS, deep_ce, "labels-first", id="ce-labels-first"),
    pytest.param(xploss.cross_entropy, CE_OPTIONS, deep_ce, "soft-last", id="ce-soft-last"),
    pytest.param(
        xploss.dice_ce_loss, {"from_logits": "softmax"}, deep_dice_ce, "labels-last",
        id="dice_ce-labels-last",
    ),
    pytest.param(
        xploss.dice_focal_loss, {"from_logits": True, "gamma": 1.5}, deep_dice_focal,
        "soft-first", id="dice_focal-soft-first",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "options", "expected_fn", "layout"), DEEP_LOSSES)
def test_deep_supervision_matches_oracle(eager_backend, fn, options, expected_fn, layout):
    """The weighted sum of the loss at every scale, per image over the spatial axes (the CE
    over every axis), labels resized by nearest-exact and soft targets by block averages."""
    soft, channels_first = layout.startswith("soft"), layout.endswith("first")
    target, outputs, class_axis = deep_supervision_case(channels_first, soft)
    spatial = (2, 3) if channels_first else (1, 2)
    if fn is not xploss.cross_entropy:
        options = {**options, "axis": spatial}
    to = eager_backend.asarray
    value = xploss.deep_supervision_loss(
        fn, to(target), [to(p) for p in outputs], class_axis=class_axis, **options
    )
    expected = oracle.deep_supervision(
        lambda y, p: expected_fn(y, p, class_axis, spatial),
        dense(target, outputs, class_axis),
        outputs,
        class_axis,
        average=soft,
    )
    check(eager_backend, value, expected, np.float32)


def test_deep_supervision_under_jax_jit():
    import jax

    backends.make("jax")  # float64 enabled, as the other JAX tests have it
    target, outputs, class_axis = deep_supervision_case(channels_first=False, soft=False)

    def step(y, *ps):
        return xploss.deep_supervision_loss(
            xploss.dice_ce_loss,
            y,
            list(ps),
            class_axis=class_axis,
            from_logits="softmax",
            axis=(1, 2),
            weights=(0.5, 0.3, 0.2),
        )

    jitted = jax.jit(step)(target, *outputs)
    expected = oracle.deep_supervision(
        lambda y, p: oracle.dice_ce(y, p, (1, 2), class_axis, "softmax"),
        dense(target, outputs, class_axis),
        outputs,
        class_axis,
        weights=(0.5, 0.3, 0.2),
    )
    np.testing.assert_allclose(np.asarray(jitted), expected, **tolerance(np.float32))
    eager = step(target, *outputs)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-6)
