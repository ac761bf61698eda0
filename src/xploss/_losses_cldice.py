"""Soft clDice (Shit et al. 2021) and Dice + clDice: the overlap of soft skeletons."""

from __future__ import annotations

from typing import Any

from xploss import _classes
from xploss._checks import Shape, normalize_axis, normalize_class_axis, shape_of
from xploss._inputs import Inputs, prepare, with_nan
from xploss._namespace import Array, Namespace
from xploss._options_cldice import ClDiceOptions, DiceClDiceOptions
from xploss._reductions import reduce, reduced_dice_penalty, summed_over_devices
from xploss._registry import functional
from xploss._scores import dice_score, safe_divide, smoothed_ratio, zero_stats
from xploss._skeleton import soft_skeleton
from xploss._statistics import statistics_of, values_all_reduce
from xploss._weights import prepare_weight


def spatial_axes_of(spatial_axes: object, shape: Shape, class_axis: int) -> tuple[int, ...]:
    """The axes the skeleton runs over: ``spatial_axes``, or every axis but 0 and the class
    axis; never empty, never the class axis (each class is an image of its own)."""
    if spatial_axes is None:
        axes = tuple(a for a in range(len(shape)) if a not in (0, class_axis))
        if not axes:
            raise ValueError(
                f"spatial_axes=None takes every axis of y_pred but the batch axis 0 and "
                f"class_axis={class_axis}, which leaves none for y_pred of shape {shape}: the "
                "soft skeleton needs an image. Give y_pred spatial axes, (B, H, W, C) or "
                "(B, C, H, W) with class_axis=1, or name them with spatial_axes=(...)."
            )
        return axes
    axes = normalize_axis(spatial_axes, shape, name="spatial_axes")
    if not axes:
        raise ValueError(
            f"spatial_axes={spatial_axes!r} names no axis of y_pred of shape {shape}: name the "
            "axes the soft skeleton runs over, (1, 2) for (B, H, W, C), or None."
        )
    if class_axis in axes:
        raise ValueError(
            f"spatial_axes={spatial_axes!r} holds class_axis={class_axis} of y_pred of shape "
            f"{shape}: the skeleton runs over each class's image, so the class axis cannot be a "
            "spatial axis. Give the inputs a class axis (x[..., None] for a single channel) or "
            "point class_axis at it."
        )
    return axes


def cldice_score(sums: tuple[Array, ...], options: Any, xp: Namespace) -> Array:
    """``2·Tprec·Tsens / (Tprec + Tsens + smooth)`` of the four skeleton sums."""
    pred_true, pred, true_pred, true = sums
    nr, dr, smooth = options.smooth_nr, options.smooth_dr, options.smooth
    precision = smoothed_ratio(pred_true + nr, pred + dr, options, xp)
    sensitivity = smoothed_ratio(true_pred + nr, true + dr, options, xp)
    product, total = precision * sensitivity, precision + sensitivity + smooth
    if isinstance(smooth, (int, float)) and smooth > 0:  # no 0/0 to guard
        return 2 * product / total
    return 2 * safe_divide(product, total, 0.0, xp)


def cldice_term(inputs: Inputs, options: Any) -> Array:
    """``1 - clDice`` of prepared inputs, reduced by ``options.reduction``."""
    xp, y, p = inputs.xp, inputs.y_true, inputs.y_pred
    shape = shape_of(p)
    c = normalize_class_axis(options.class_axis, shape)
    spatial = spatial_axes_of(options.spatial_axes, shape, c)
    pooled = options.pool_classes and c not in inputs.axes
    axes = tuple(sorted({*inputs.axes, c})) if pooled else inputs.axes
    mask = inputs.mask
    if pooled and inputs.background is not None:  # class 0 out of the pooled sums
        classes = _classes.known(shape[c])
        factor = _classes.background_factor(classes, c, len(shape), p, inputs.dtype, xp)
        mask = _classes.product(mask, factor, inputs.dtype, xp)
    skeleton_pred = soft_skeleton(p, spatial, options.iter_, xp)
    skeleton_true = soft_skeleton(y, spatial, options.iter_, xp)
    if mask is not None:  # the skeletons are the whole images'; the mask chooses what counts
        skeleton_pred, skeleton_true = skeleton_pred * mask, skeleton_true * mask
    sums = (
        xp.sum(skeleton_pred * y, axis=axes),
        xp.sum(skeleton_pred, axis=axes),
        xp.sum(skeleton_true * p, axis=axes),
        xp.sum(skeleton_true, axis=axes),
    )
    if inputs.nan_probes:
        sums = with_nan(inputs, *sums, axes=axes)
    reducer = options.all_reduce
    spans = p.ndim == 0 or 0 in axes  # the sums run over the batch: add every device's
    if reducer is not None and spans:
        sums = summed_over_devices(reducer, xp, *sums[:3]) + summed_over_devices(
            reducer, xp, sums[3]
        )
    loss = 1 - cldice_score(sums, options, xp)

    def empty() -> Array:  # the loss of no element: every sum 0
        zero = xp.zeros_like(xp.sum(sums[0]))
        return 1 - cldice_score((zero,) * 4, options, xp)

    weight = None if pooled else prepare_weight(None, inputs)  # class 0 weighed 0 if kept
    synced = reducer if not spans else None
    return reduce(
        loss, weight=weight, reduction=options.reduction, xp=xp, empty=empty, all_reduce=synced
    )


@functional(ClDiceOptions, loss="SoftclDiceLoss")
def soft_cldice_loss(
    y_true: Array, y_pred: Array, options: ClDiceOptions, mask: Array | None
) -> Array:
    """Soft clDice loss ``1 - clDice`` (Shit et al. 2021): overlap of soft skeletons.

    ``S_P`` and ``S_L``, the soft skeletons of the prediction and the target, run over
    ``spatial_axes`` (each batch element and class is an image of its own) with ``iter_``
    iterations of soft erosion (``_skeleton.soft_skeleton``). Over ``axis``, and over
    ``class_axis`` with ``pool_classes=True``::

        Tprec = (Σ S_P·y + smooth_nr) / (Σ S_P + smooth_dr)    (topology precision)
        Tsens = (Σ S_L·p + smooth_nr) / (Σ S_L + smooth_dr)    (topology sensitivity)
        clDice = 2·Tprec·Tsens / (Tprec + Tsens + smooth)

    and ``reduction`` combines ``1 - clDice`` over what survives. MONAI's ``SoftclDiceLoss``
    (1.6) is one clDice per image pooled over its channels, with the same defaults: for
    ``(B, C, *spatial)``, ``MONAI SoftclDiceLoss(iter_=k, smooth_nr=a, smooth_dr=b, smooth=s,
    include_background=i, reduction=r)`` is ``soft_cldice_loss(y, p, class_axis=1,
    axis=spatial, iter_=k, smooth_nr=a, smooth_dr=b, smooth=s, include_background=i,
    reduction=r)`` (``xploss.torch.SoftclDiceLoss`` takes MONAI's arguments as they are).
    MONAI takes probabilities (``sigmoid=True`` is ``from_logits=True``, ``softmax=True``
    ``from_logits="softmax"``; for ``other_act``, activate first). The authors' code and MONAI
    up to 1.5 sum over the batch too, always leave channel 0 out, smooth both ratios by one
    ``smooth`` and take no epsilon in the harmonic mean: ``axis=None,
    include_background=False, smooth_nr=s, smooth_dr=s, smooth=0``. ``pool_classes=False``
    gives one clDice per class instead, averaged like ``dice_loss``'s.

    ``mask`` and ``ignore_index`` multiply the skeletons in the sums; the skeletons themselves
    are those of the whole images. With ``smooth_dr=0`` a ratio of an empty skeleton is 1;
    with ``smooth=0``, two zero ratios give clDice 0. Values and gradients, ties included, are
    MONAI's (the pooling's border and tie rules, see ``_skeleton.py``).

    Args:
        y_true: targets in [0, 1] of ``y_pred``'s shape, or class indices without its class
            axis (one-hot encoded inside).
        y_pred: probabilities, or logits with ``from_logits``; a class axis and at least one
            spatial axis.
        mask: the elements that count in the sums (or weights of them).
        spatial_axes: the image's axes; None is every axis but axis 0 (the batch) and
            ``class_axis``. The class axis may not be one of them.
        iter_: the skeleton's iterations, >= 0 (MONAI's 3).
        smooth_nr, smooth_dr: added to the numerators and denominators of Tprec and Tsens.
        smooth: added to the harmonic mean's denominator (MONAI's 1e-4), >= 0.
        pool_classes: one clDice over all the classes (True) or one per class.
        axis, class_axis, from_logits, include_background, ignore_index, reduction,
        all_reduce, validate: as in ``dice_loss``; ``all_reduce`` adds the four sums of every
        device where they run over the batch.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Shit, Paetzold, Sekuboyina, Ezhov, Unger, Zhovmer, Pluim, Menze, "clDice - a Novel
        Topology-Preserving Loss Function for Tubular Structure Segmentation", CVPR 2021,
        arXiv:2003.07311; MONAI ``SoftclDiceLoss``.

    Example: a prediction of the target's centerline is topologically perfect.

        >>> import numpy as np
        >>> y_true = np.zeros((1, 5, 7, 1))  # (B, H, W, C)
        >>> y_true[0, 1:4, 1:6] = 1.0  # a bar 3 pixels thick
        >>> y_pred = np.zeros((1, 5, 7, 1))
        >>> y_pred[0, 2, 1:6] = 1.0  # its middle row
        >>> zero = {"smooth_nr": 0, "smooth_dr": 0}
        >>> float(soft_cldice_loss(y_true, y_pred, smooth=0, **zero))  # Tprec = 5/5, Tsens = 3/3
        0.0
        >>> from xploss import dice_loss
        >>> float(dice_loss(y_true, y_pred, **zero))  # 1 - 2·5 / (15 + 5)
        0.5
    """
    inputs = prepare(y_true, y_pred, options, mask)
    return cldice_term(inputs, options)


def check_pairing(inputs: Inputs, options: Any) -> None:
    """The Dice term keeps the class axis where a pooled clDice has none: ``"none"`` (and
    ``"per_sample"`` with the class axis first) could not add them element by element."""
    c = normalize_class_axis(options.class_axis, shape_of(inputs.y_pred))
    reduction = options.reduction
    if not options.pool_classes or c in inputs.axes or reduction in ("mean", "sum"):
        return
    surviving = [a for a in range(inputs.y_pred.ndim) if a not in inputs.axes]
    if reduction == "none" or surviving[:1] == [c]:
        raise ValueError(
            f"reduction={reduction!r} with axis={options.axis!r} and class_axis={c}: the Dice "
            "term keeps one value per class and the pooled clDice one for all the classes, so "
            "their results do not pair up (MONAI's broadcast them into a meaningless array). "
            "Use 'mean' or 'sum' (MONAI's values), 'per_sample', an axis that holds class_axis, "
            "or pool_classes=False."
        )


@functional(DiceClDiceOptions, loss="SoftDiceclDiceLoss")
def soft_dice_cldice_loss(
    y_true: Array, y_pred: Array, options: DiceClDiceOptions, mask: Array | None
) -> Array:
    """``(1 - alpha)·(1 - Dice) + alpha·(1 - clDice)``: MONAI's ``SoftDiceclDiceLoss``.

    The Dice term is ``dice_loss`` over ``axis`` (per image and class with the spatial axes:
    MONAI's ``DiceLoss``), the clDice term ``soft_cldice_loss`` (pooled over the classes by
    default), with the same smoothing, inputs and options; ``reduction`` applies to each term,
    and ``"none"`` needs results of one shape (``axis`` holding ``class_axis``, or
    ``pool_classes=False``). MONAI's ``SoftDiceclDiceLoss(iter_=k, alpha=a, smooth_nr=n,
    smooth_dr=d, smooth=s, include_background=i, reduction="mean" or "sum")`` on
    ``(B, C, *spatial)`` is ``soft_dice_cldice_loss(y, p, class_axis=1, axis=spatial, ...)``
    with the same arguments (``xploss.torch.SoftDiceclDiceLoss`` takes them as they are).

    Args:
        y_true, y_pred, mask, spatial_axes, iter_, smooth, pool_classes, axis, class_axis,
        from_logits, include_background, ignore_index, reduction, all_reduce, validate: as
        in ``soft_cldice_loss``.
        smooth_nr, smooth_dr: added to the numerators and denominators of the Dice, Tprec
            and Tsens (MONAI's 1 and 1).
        alpha: the weight of the clDice term, in [0, 1].

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Shit et al., "clDice - a Novel Topology-Preserving Loss Function for Tubular Structure
        Segmentation", CVPR 2021, arXiv:2003.07311; MONAI ``SoftDiceclDiceLoss``.

    Example: the centerline of a thick bar, as in ``soft_cldice_loss``: Dice 0.5, clDice 1.

        >>> import numpy as np
        >>> y_true = np.zeros((1, 5, 7, 1))  # (B, H, W, C)
        >>> y_true[0, 1:4, 1:6] = 1.0
        >>> y_pred = np.zeros((1, 5, 7, 1))
        >>> y_pred[0, 2, 1:6] = 1.0
        >>> loss = soft_dice_cldice_loss(y_true, y_pred, smooth_nr=0, smooth_dr=0, smooth=0)
        >>> float(loss)  # 0.5·(1 - 0.5) + 0.5·(1 - 1)
        0.25
    """
    inputs = prepare(y_true, y_pred, options, mask)
    check_pairing(inputs, options)
    xp = inputs.xp
    stats = statistics_of(inputs, options)
    dice = dice_score(stats, options, xp)

    def empty() -> Array:  # the Dice of no element
        return dice_score(zero_stats(stats, xp), options, xp)

    dice_term = reduced_dice_penalty(
        dice, weight=prepare_weight(None, inputs), reduction=options.reduction, log=False,
        xp=xp, empty=empty, all_reduce=values_all_reduce(inputs, options),
    )  # fmt: skip
    return (1 - options.alpha) * dice_term + options.alpha * cldice_term(inputs, options)
