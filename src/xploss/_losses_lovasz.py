"""Lovász losses (Berman et al., CVPR 2018): the Lovász hinge and the Lovász-softmax, convex
surrogates of the Jaccard loss built on a sort of the errors of each ranking (``_lovasz_grad``)."""

from __future__ import annotations

from typing import Any

from xploss import _checks
from xploss._elementwise import BCE_EPSILON, clip, log1mexp, log_softmax, softmax
from xploss._inputs import Inputs, prepare, with_nan
from xploss._lovasz_grad import lovasz_losses
from xploss._namespace import Array
from xploss._options import Axes, Classes, Options, Reduced, option, record
from xploss._options_entropy import ExclusiveAxes
from xploss._reductions import reduce
from xploss._registry import functional
from xploss._scores import safe_divide
from xploss._validators import activation, choice
from xploss._weights import prepare_weight


@record
class HingeAxes(Axes):
    from_logits: bool | str = option(
        True,
        activation,
        "True or 'sigmoid': logits (the paper's); False: probabilities (their log-odds); "
        "'softmax': each class's log-odds after a softmax over class_axis",
    )


@record
class LovaszClasses(Options):
    classes: str = option(
        "present", choice("present", "all"), "average the classes present in a ranking, or all"
    )


@record
class LovaszHingeOptions(Reduced, Classes, HingeAxes):
    """``lovasz_hinge_loss``."""


@record
class LovaszSoftmaxOptions(LovaszClasses, Reduced, Classes, ExclusiveAxes):
    """``lovasz_softmax_loss``."""


@functional(LovaszHingeOptions, loss="LovaszHingeLoss")
def lovasz_hinge_loss(
    y_true: Array, y_pred: Array, options: LovaszHingeOptions, mask: Array | None
) -> Array:
    """Lovász hinge loss (Berman et al. 2018): the Lovász extension of the Jaccard loss of the
    hinge errors ``e_i = 1 - z_i·(2y_i - 1)`` of logits ``z`` and 0/1 targets ``y``.

    Each ranking (every element of ``axis``) sorts its errors decreasingly and takes
    ``Σ_k max(e_(k), 0)·(J_k - J_(k-1))``, where ``J_k = 1 - I_k/U_k`` is the Jaccard loss of
    predicting the first ``k`` sorted elements wrong: ``I_k`` counts the foreground after ``k``,
    ``U_k`` the foreground plus the background up to ``k``. At hinge errors of 0 or 1 it is the
    Jaccard loss of the wrong elements; it is convex and piecewise linear in the logits. The
    axes that remain give one loss each, combined by ``reduction``.

    segmentation_models_pytorch's ``LovaszLoss`` (binary and multilabel modes flatten the
    channels into the ranking, as ``axis`` does here), for logits ``(B, C, H, W)``:

    - ``LovaszLoss("binary")`` or ``("multilabel")``, ``per_image=False``:
      ``lovasz_hinge_loss(y, z)`` (``axis=None``: one ranking of the batch);
    - ``per_image=True``: ``lovasz_hinge_loss(y, z, axis=(1, 2, 3))`` (one per image, averaged);
    - ``ignore_index=i``: ``ignore_index=i`` for one channel (its mask is compared with ``i``),
      ``mask=(y != i)`` for several (a dense target of several channels is one-hot for
      ``ignore_index``, as in every loss: ``i`` names a class).

    A target ``(B, H, W)`` of a single channel ``(B, 1, H, W)`` needs ``class_axis=1``. One
    ranking per image and channel (Berman's per-class loss) is ``axis=(2, 3)``; the PyTorch
    module ``LovaszHingeLoss`` ranks that way by default. smp ignores its ``from_logits``.

    Args:
        y_true: 0/1 targets of ``y_pred``'s shape (the label ``ignore_index`` too), the mask of
            a single channel, or class indices (one-hot encoded over ``class_axis``).
        y_pred: logits (``from_logits=True``, the default); probabilities (``False``: the
            hinge of their log-odds ``log(p/(1 - p))``, ``p`` clipped to ``[1e-7, 1 - 1e-7]``);
            or logits of exclusive classes (``"softmax"``: the log-odds ``log(q/(1 - q))`` of
            each class, for two classes the difference of their logits).
        mask: 0 leaves an element out of its ranking (as ``ignore_index``); a weight map weighs
            each element's count in the Jaccard index.
        axis: the axes flattened into one ranking (None: every axis).
        ignore_index: as in ``dice_loss``: the elements of that label (class indices, or a
            single channel's mask: smp's binary ``ignore_index``), or of that one-hot class.
        include_background: False leaves channel 0 out (of the ranking, or of the reduction).
        reduction: ``"mean"``, ``"sum"``, ``"none"`` or ``"per_sample"`` of the rankings' losses.
        class_axis, validate: as in ``dice_loss``.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Berman, Rannen Triki, Blaschko, "The Lovász-Softmax loss: A tractable surrogate for the
        optimization of the intersection-over-union measure in neural networks", CVPR 2018,
        arXiv:1705.08790.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([1.0, 0.0])
        >>> logits = np.array([2.0, 0.0])  # errors: -1 (right), 1 (the background's hinge)
        >>> float(lovasz_hinge_loss(y_true, logits))  # 1 · (J = 1/2 with that element wrong)
        0.5
    """
    inputs = prepare(y_true, y_pred, options, mask, probabilities=False)
    xp, mask = inputs.xp, inputs.mask
    errors = 1 - _log_odds(inputs) * (2 * inputs.y_true - 1)
    values = lovasz_losses(errors, inputs.y_true, mask, inputs.axes, xp, hinge=True)
    if inputs.nan_probes:
        (values,) = with_nan(inputs, values)
    weight = prepare_weight(None, inputs)  # channel 0 weighed 0 (include_background=False)
    return reduce(values, weight=weight, reduction=options.reduction, xp=xp)


@functional(LovaszSoftmaxOptions, loss="LovaszSoftmaxLoss")
def lovasz_softmax_loss(
    y_true: Array, y_pred: Array, options: LovaszSoftmaxOptions, mask: Array | None
) -> Array:
    """Lovász-softmax loss (Berman et al. 2018): per class, the Lovász extension of the Jaccard
    loss of the errors ``|y_c - p_c|`` of probabilities ``p`` of exclusive classes; the classes
    averaged.

    Each ranking (every element of ``axis``; the class axis is never ranked) sorts each class's
    errors decreasingly and takes ``Σ_k e_(k)·(J_k - J_(k-1))`` (``J_k`` the Jaccard loss of
    the first ``k`` sorted elements, as in ``lovasz_hinge_loss``). ``classes="present"`` (the
    paper's and smp's) averages the classes with foreground in the ranking; ``"all"`` every
    class with an element in it. At one-hot probabilities it is the mean of ``1 - IoU``. The
    axes that remain (without the class axis) give one loss each, combined by ``reduction``.

    segmentation_models_pytorch's ``LovaszLoss("multiclass")`` for logits ``(B, C, H, W)``
    and class indices ``(B, H, W)``: ``per_image=False`` is ``lovasz_softmax_loss(labels, z,
    class_axis=1, from_logits=True)`` (``axis=None``: one ranking of the batch per class),
    ``per_image=True`` adds ``axis=(2, 3)``; ``ignore_index=i`` is ``ignore_index=i``. Where
    every element of a ranking is ignored smp returns an empty tensor; this loss is 0 there.

    Args:
        y_true: class indices (``y_pred`` without ``class_axis``), or one-hot targets.
        y_pred: probabilities, or logits with ``from_logits=True`` / ``"softmax"``.
        mask: 0 leaves an element out of the rankings (as ``ignore_index``); a weight map
            weighs each element's count in the Jaccard index.
        axis: the axes flattened into one ranking (None: every axis but ``class_axis``).
        classes: ``"present"`` or ``"all"``.
        ignore_index: the label whose elements are left out (a one-hot class, or for one-hot
            targets outside ``[0, C)`` the elements of no class).
        include_background: False leaves class 0 out of the mean over the classes.
        reduction: ``"mean"``, ``"sum"``, ``"none"`` or ``"per_sample"`` of the rankings' losses.
        class_axis, validate: as in ``dice_loss``.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Berman, Rannen Triki, Blaschko, CVPR 2018, arXiv:1705.08790.

    Example:
        >>> import numpy as np
        >>> labels = np.array([0, 0, 1])
        >>> probs = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # element 1 is wrong
        >>> float(lovasz_softmax_loss(labels, probs))  # 1 - IoU = 1/2 for either class
        0.5
    """
    _check_class_axis_not_ranked(y_pred, options)
    inputs = prepare(
        y_true, y_pred, options, mask, keep_class_axis=True, exclusive=True, probabilities=False
    )
    xp, c, axes = inputs.xp, inputs.class_axis, inputs.axes
    assert c is not None
    y, mask, p = inputs.y_true, inputs.mask, inputs.y_pred
    if inputs.activation == "softmax":  # equal logits, equal errors: ties ranked as eagerly
        p = softmax(inputs.logits, c, xp, fused=False)
    losses = lovasz_losses(xp.abs(y - p), y, mask, axes, xp, hinge=False)
    weight = xp.ones_like(p) if mask is None else mask * xp.ones_like(p)
    counted = y * weight if options.classes == "present" else weight
    included = xp.astype(xp.sum(counted, axis=axes) > 0, inputs.dtype)
    position = c - sum(a < c for a in axes)
    total = xp.sum(included * losses, axis=position)
    values = safe_divide(total, xp.sum(included, axis=position), 0.0, xp)
    if inputs.nan_probes:
        (values,) = with_nan(inputs, values, axes=tuple(sorted({*axes, c})))
    return reduce(values, weight=None, reduction=options.reduction, xp=xp)


def _rank(x: Any) -> int:
    return len(getattr(x, "shape", ()))


def _log_odds(inputs: Inputs) -> Array:
    """The logits of the hinge: given, or the log-odds of probabilities or of a softmax."""
    xp = inputs.xp
    if inputs.activation == "sigmoid":
        return inputs.logits
    if inputs.activation == "softmax":
        assert inputs.class_axis is not None
        log_q = log_softmax(inputs.logits, inputs.class_axis, xp)
        return log_q - log1mexp(log_q, xp)
    q = clip(inputs.y_pred, xp, min=BCE_EPSILON, max=1 - BCE_EPSILON)
    return xp.log(q) - xp.log1p(-q)


def _check_class_axis_not_ranked(y_pred: Array, options: LovaszSoftmaxOptions) -> None:
    if options.axis is None or not hasattr(y_pred, "shape"):
        return
    shape = _checks.shape_of(y_pred)
    c = _checks.normalize_class_axis(options.class_axis, shape)
    if c in _checks.normalize_axis(options.axis, shape):
        raise ValueError(
            f"axis={options.axis!r} contains class_axis={options.class_axis} of y_pred of shape "
            f"{shape}: lovasz_softmax_loss ranks each class on its own and averages the classes, "
            "so the class axis is never ranked. Leave it out: axis=None ranks every other axis "
            "(smp's per_image=False), every axis but the batch and class axes ranks each image "
            "(per_image=True)."
        )
