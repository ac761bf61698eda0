"""Cross-entropy and focal loss: the losses of one term per element (``_entropy_terms.py``)."""

from __future__ import annotations

from xploss._entropy_terms import cross_entropy_sums, focal_term, ratio_reduction
from xploss._inputs import prepare
from xploss._namespace import Array
from xploss._options_entropy import CrossEntropyOptions, FocalOptions
from xploss._registry import functional


@functional(CrossEntropyOptions, loss="CrossEntropyLoss")
def cross_entropy(
    y_true: Array, y_pred: Array, options: CrossEntropyOptions, mask: Array | None
) -> Array:
    """Cross-entropy of mutually exclusive classes, ``ℓ = -Σ_c w_c·y'_c·log q_c`` per element.

    ``q`` is the softmax over ``class_axis`` of logits (``from_logits=True`` or ``"softmax"``,
    as ``torch.nn.functional.cross_entropy`` and optax take them), or probabilities normalised
    over the classes and clipped to ``[1e-7, 1 - 1e-7]`` (Keras' ``CategoricalCrossentropy``).
    ``y'`` is the target, smoothed to ``y·(1 - ε) + ε/C`` by ``label_smoothing=ε``. The loss
    is a ratio of sums: ``"mean"`` is ``Σ_i m_i·ℓ_i / Σ_i m_i·v_i`` over every element ``i``
    with ``v_i = Σ_c w_c·y_ic`` (the class weight of the element's class; 1 without ``weight``)
    and ``m`` the mask: PyTorch's weighted mean ``Σ w_i·ℓ_i / Σ w_i``, whatever ``axis`` splits.
    ``"sum"`` is the numerator; ``"none"`` and ``"per_sample"`` give the ratio per element of
    the result (``y_pred``'s shape without ``axis`` and ``class_axis``). A ratio of nothing (all
    masked) is 0, where PyTorch gives NaN.

    PyTorch's probability targets divide ``"mean"`` by the number of elements instead of
    ``Σ w_i``: with class weights its value is this one times ``mean(v_i)``. Keras' losses take
    no class weights; ``ignore_index`` is PyTorch's (a target class index, or for one-hot targets
    the class whose elements are left out).

    Args:
        y_true: class indices (``y_pred`` without ``class_axis``; integers, or floats with
            integral values), or one-hot or soft targets of ``y_pred``'s shape.
        y_pred: logits (``from_logits``) or probabilities, the classes on ``class_axis``.
        mask: leaves out the elements where it is 0; a weight map (U-Net's border weights)
            weighs them: ``m_i`` above.
        weight: one weight per class (a sequence or an array of ``C`` entries) or one number.
        label_smoothing: ε in [0, 1].
        ignore_index: the class index (or one-hot class) whose elements are left out.
        axis, class_axis, reduction, all_reduce, validate: as in ``dice_coefficient``;
            ``all_reduce`` adds both sums of every device before the ratio.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Example:
        >>> import numpy as np
        >>> labels = np.array([0, 2])
        >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
        >>> round(float(cross_entropy(labels, logits, from_logits=True)), 6)  # log(1 + 2/e²), log 3
        0.669079
    """
    inputs = prepare(
        y_true, y_pred, options, mask, exclusive=True, probabilities=False, one_hot=False
    )
    total, count = cross_entropy_sums(inputs, options)
    return ratio_reduction(total, count, inputs, options)


@functional(FocalOptions, loss="FocalLoss")
def focal_loss(y_true: Array, y_pred: Array, options: FocalOptions, mask: Array | None) -> Array:
    """Focal loss (Lin et al. 2017): the cross-entropy scaled by ``(1 - p_t)^gamma``.

    Independent channels (``from_logits=True``, or probabilities): per element and channel
    ``α_t·(1 - p_t)^γ·BCE(y, p)`` with ``p_t = y·p + (1 - y)(1 - p)`` and ``α_t = α·y +
    (1 - α)(1 - y)`` (no ``α_t`` when ``alpha=None``), averaged over ``axis`` like
    ``binary_cross_entropy``: torchvision's ``sigmoid_focal_loss``, optax's
    ``sigmoid_focal_loss``, Keras' ``BinaryFocalCrossentropy`` and MONAI's ``FocalLoss`` (for
    a scalar ``alpha`` and no ``ignore_index``, where MONAI's mean counts pixels, not channels).
    Exclusive classes (``from_logits="softmax"``, or ``exclusive=True`` for probabilities):
    per element ``-Σ_c α_c·(1 - q_c)^γ·y_c·log q_c`` (``α`` one number, or one per class),
    averaged over the elements: Keras' ``CategoricalFocalCrossentropy``. MONAI's
    ``FocalLoss(use_softmax=True)`` also averages over the classes: its value is this one
    divided by ``C``, and its scalar ``alpha=a`` is ``alpha=(1 - a, a, ..., a)`` here. For
    exclusive classes the loss is a ratio of sums as ``cross_entropy``'s, ``weight`` its class
    weights: ``gamma=0`` is the cross-entropy, weights included.
    Computed in float32 for float16 and bfloat16 inputs.

    Args:
        y_true, y_pred, axis, class_axis, from_logits, mask, reduction, include_background,
            ignore_index, all_reduce, validate: as in ``binary_cross_entropy``.
            ``include_background=False`` leaves class 0 out of the terms (MONAI drops that
            channel before its softmax).
        weight: independent channels: weights of the result, as ``binary_cross_entropy``'s;
            exclusive classes: one per class, as ``cross_entropy``'s.
        gamma: the exponent of ``1 - p_t``, >= 0 (0 is the cross-entropy).
        alpha: None, a number in [0, 1], or one number per class on ``class_axis``.
        exclusive: probabilities of mutually exclusive classes (the categorical form).
        label_smoothing: ε in [0, 1]: ``y·(1 - ε) + ε/K``, ``K = C`` for exclusive classes,
            2 for independent channels.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, arXiv:1708.02002.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([1.0, 0.0])
        >>> y_pred = np.array([0.9, 0.2])
        >>> round(float(focal_loss(y_true, y_pred)), 6)  # (0.1²·-log 0.9 + 0.2²·-log 0.8) / 2
        0.00499
    """
    exclusive = options.from_logits == "softmax" or options.exclusive
    inputs = prepare(
        y_true, y_pred, options, mask, exclusive=exclusive, probabilities=not exclusive
    )
    return focal_term(inputs, options)
