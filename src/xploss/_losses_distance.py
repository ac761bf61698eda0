"""Distance-map losses: Kervadec et al.'s boundary loss and Karimi & Salcudean's Hausdorff
distance-transform loss, over the exact, jit-safe transform of ``_distance.py``."""

from __future__ import annotations

from xploss import _checks, _values
from xploss._distance import Axes, nearest_other, signed_map
from xploss._inputs import Inputs, prepare
from xploss._namespace import Array, array_namespace, is_concrete
from xploss._options_distance import BoundaryOptions, HausdorffDTOptions
from xploss._reductions import elementwise_mean, reduce
from xploss._registry import functional
from xploss._weights import prepare_weight


def distance_axes(options: BoundaryOptions | HausdorffDTOptions, inputs: Inputs) -> Axes:
    """``spatial_axes`` of ``y_pred``, unit spacing; by default every axis but the first (the
    batch) and the class axis."""
    shape = _checks.shape_of(inputs.y_pred)
    if options.spatial_axes is not None:
        chosen = _checks.normalize_axis(options.spatial_axes, shape, name="spatial_axes")
        return tuple((a, 1.0) for a in chosen)
    if not shape:
        return ()
    classes = _checks.normalize_class_axis(options.class_axis, shape)
    return tuple((a, 1.0) for a in range(1, len(shape)) if a != classes)


def _reduced(terms: Array, inputs: Inputs, options: BoundaryOptions | HausdorffDTOptions) -> Array:
    """The mean of the per-element ``terms`` over ``axis`` (the unmasked elements), then
    ``weight`` and ``reduction``."""
    xp = inputs.xp
    if inputs.empty:  # no element to average: 0, as where a mask removes every element
        values = xp.sum(xp.zeros_like(inputs.y_pred), axis=inputs.axes)
    else:
        values = elementwise_mean(terms, inputs, None)
    weights = prepare_weight(options.weight, inputs)
    return reduce(values, weight=weights, reduction=options.reduction, xp=xp)


@functional(HausdorffDTOptions, loss="HausdorffDTLoss")
def hausdorff_dt_loss(
    y_true: Array, y_pred: Array, options: HausdorffDTOptions, mask: Array | None
) -> Array:
    """Hausdorff distance-transform loss (Karimi & Salcudean 2019): MONAI's ``HausdorffDTLoss``.

    Per element ``ℓ = (p - y)²·(d_p^α + d_y^α)``, averaged over ``axis`` (over the unmasked
    elements), then ``weight`` and ``reduction``. ``d_p`` is the distance field of the hard
    prediction ``p > 0.5`` and ``d_y`` that of ``y > 0.5``: in each image (the slice over
    ``spatial_axes`` of one sample and one class), the Euclidean distance from every element
    to the nearest element of the other kind (a foreground element to the background, a
    background element to the foreground), and 0 in an image that is all foreground or all
    background, as MONAI's. The fields read a comparison, so they are constants of the gradient
    in every framework (MONAI computes them under ``torch.no_grad``): the gradient is
    ``2(p - y)·(d_p^α + d_y^α)`` over the count. With ``log=True`` the loss is
    ``log(1 + loss)`` after the reduction: MONAI's ``LogHausdorffDTLoss``. The fields are
    computed in the graph, on the inputs' device (``distance_transform``'s exact transform and
    cost), with no host round trip: the loss compiles with ``jax.jit``, ``torch.compile`` and
    ``tf.function(jit_compile=True)``.

    ``hausdorff_dt_loss(y, p, axis=(1, 2), class_axis=-1)`` with ``reduction="mean"`` equals
    ``HausdorffDTLoss(include_background=True)`` of MONAI 1.6 on the channels-first arrays
    (``xploss.torch.HausdorffDTLoss`` takes those directly): ``sigmoid=True`` is
    ``from_logits=True``, ``softmax=True`` is ``from_logits="softmax"`` (the per-channel
    threshold at 0.5, not an arg-max, as MONAI's), ``other_act=f`` is ``f`` applied to
    ``y_pred`` first; ``alpha``, ``include_background`` and ``reduction`` keep their meaning.
    MONAI's default is ``include_background=False``; xploss's is ``True`` (every loss's).
    The distances are exact in float64 where MONAI rounds them to float32 (a relative 1e-7).

    Args:
        y_true: one-hot, soft or binary targets of ``y_pred``'s shape, class indices
            (``y_pred`` without ``class_axis``), or the mask of a single channel.
        y_pred: probabilities, or logits with ``from_logits``; ``(B, *spatial, C)`` by default.
        mask: leaves out the elements where it is 0 (or weighs them) in the mean; the distance
            fields are those of the whole images.
        alpha: the exponent of the distances, >= 0 (2: squared distances, exact).
        spatial_axes: the spatial axes; None: every axis but the first and ``class_axis``.
            Their sizes must be known (a TensorFlow graph may leave the batch unknown).
        axis, class_axis, from_logits, weight, reduction, include_background, ignore_index,
            validate: as in ``binary_cross_entropy``.
        log: ``log(1 + loss)``.

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Karimi & Salcudean, "Reducing the Hausdorff Distance in Medical Image Segmentation with
        Convolutional Neural Networks", IEEE TMI 39(2), 2020, arXiv:1904.10030.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[1.0], [0.0]], [[1.0], [1.0]]])[None]  # (B, H, W, C)
        >>> logits = np.array([[[1.0], [-1.0]], [[-1.0], [1.0]]])[None]
        >>> round(float(hausdorff_dt_loss(y_true, logits, from_logits=True)), 6)  # MONAI's
        0.509329
    """
    inputs = prepare(y_true, y_pred, options, mask)
    xp, p, y = inputs.xp, inputs.y_pred, inputs.y_true
    hard = xp.stack([p > 0.5, y > 0.5], axis=0)
    axes = tuple((a + 1, step) for a, step in distance_axes(options, inputs))
    squared, _ = nearest_other(hard, axes, inputs.dtype, xp)
    alpha = options.alpha
    powered = squared if isinstance(alpha, float) and alpha == 2.0 else squared ** (alpha / 2)
    error = p - y
    loss = _reduced(error * error * (powered[0, ...] + powered[1, ...]), inputs, options)
    return xp.log1p(loss) if options.log else loss


@functional(BoundaryOptions, loss="BoundaryLoss")
def boundary_loss(
    y_true: Array, y_pred: Array, options: BoundaryOptions, mask: Array | None
) -> Array:
    """Boundary loss (Kervadec et al. 2019): the mean of ``φ·p`` over ``axis``.

    ``φ`` is the signed distance map of the target (``signed_distance_map``): in each image
    (the slice over ``spatial_axes`` of one sample and one class) the distance to the object
    outside it and ``1 -`` the distance to the outside inside it, 0 for an absent class. The
    loss falls as probability moves inside the object, and is negative at best. Per element
    ``ℓ = φ·p``, averaged over ``axis`` (over the unmasked elements), then ``weight`` and
    ``reduction``: with ``reduction="mean"`` the mean over the images, the classes and the
    elements, the authors' ``SurfaceLoss`` (``einsum("bkwh,bkwh->bkwh", p, φ).mean()`` over
    their classes ``idc``; ``include_background=False`` is ``idc`` without class 0). The
    authors combine it with a regional loss, ``α·GDL + (1 - α)·boundary`` with ``α`` moving from
    1 towards 0.01 during training.

    ``y_true`` is read from its shape and dtype. A floating ``y_true`` of ``y_pred``'s shape
    is ``φ`` itself, precomputed with ``signed_distance_map`` (as the authors do, in the data
    loader). Any other target is labels whose ``φ`` is computed here over ``spatial_axes``
    (exactly, and jit-safe: no precomputation is needed): a bool or integer target of
    ``y_pred``'s shape (one-hot, or one mask per channel; nonzero is the object), class
    indices (``y_pred`` without ``class_axis``), or the mask of a single channel. A floating
    one-hot target is read as ``φ``: cast it to an integer dtype, or pass class indices.
    ``φ`` has no gradient; the gradient of the loss is ``φ`` over the count.

    Args:
        y_true: ``φ`` (floating, ``y_pred``'s shape), or labels: a bool or integer mask of
            ``y_pred``'s shape, class indices, or the mask of a single channel.
        y_pred: probabilities, or logits with ``from_logits``; ``(B, *spatial, C)`` by default.
        mask: leaves out the elements where it is 0 (or weighs them) in the mean.
        spatial_axes: the spatial axes of a ``φ`` computed here; None: every axis but the
            first and ``class_axis``.
        ignore_index: with labels, the label whose elements are left out (and which is no
            class's object in ``φ``); with ``φ`` it is an error (pass ``mask``).
        axis, class_axis, from_logits, weight, reduction, include_background, validate: as in
            ``binary_cross_entropy`` (``validate`` checks ``y_pred`` only when ``y_true`` is
            ``φ``).

    Returns:
        The loss, float32 (float64 for float64 predictions), in the caller's array library.

    Reference:
        Kervadec et al., "Boundary loss for highly unbalanced segmentation", MIDL 2019 and
        Medical Image Analysis 67, 2021, arXiv:1812.07032.

    Example:
        >>> import numpy as np
        >>> from xploss import signed_distance_map
        >>> labels = np.array([[0, 1, 1, 0]])  # (B, W)
        >>> phi = signed_distance_map(labels, axis=1, num_classes=2)  # (B, W, C)
        >>> phi[..., 1].tolist()
        [[1.0, 0.0, 0.0, 1.0]]
        >>> probs = np.array([[[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]]])
        >>> round(float(boundary_loss(phi, probs, include_background=False)), 6)  # (0.1+0.3)/4
        0.1
        >>> round(float(boundary_loss(labels, probs, include_background=False)), 6)
        0.1
    """
    if not _is_distance_map(y_true, y_pred):  # class indices, a channel's mask, a mask
        inputs = prepare(y_true, y_pred, options, mask)
        xp = inputs.xp
        phi = signed_map(inputs.y_true != 0, distance_axes(options, inputs), inputs.dtype, xp)
        if _checks.dtype_kind(y_true.dtype, xp) == "real floating":  # a NaN mask: NaN
            phi = xp.where(inputs.y_true == inputs.y_true, phi, inputs.y_true)
        return _reduced(phi * inputs.y_pred, inputs, options)
    true_shape, pred_shape = _checks.shape_of(y_true), _checks.shape_of(y_pred)
    if not _checks.same_shape(true_shape, pred_shape):
        raise ValueError(
            f"y_true of shape {true_shape} does not match y_pred of shape {pred_shape}: the "
            "boundary loss takes the signed distance map of y_pred's shape "
            "(xploss.signed_distance_map), a bool or integer target of y_pred's shape, class "
            "indices without y_pred's class_axis, or the mask of a single channel."
        )
    if options.ignore_index is not None:
        raise ValueError(
            f"ignore_index={options.ignore_index} with a floating y_true of y_pred's shape "
            f"{true_shape}: such a y_true is a signed distance map, which holds no labels to "
            "ignore. Pass mask= to leave elements out, or the labels as y_true."
        )
    inputs = prepare(y_true, y_pred, options.updated({"validate": False}), mask)
    xp = inputs.xp
    if options.validate and inputs.activation is None and is_concrete(y_pred):
        _values.check_unit_interval("y_pred", inputs.y_pred, xp)
    return _reduced(inputs.y_true * inputs.y_pred, inputs, options)


def _is_distance_map(y_true: Array, y_pred: Array) -> bool:
    """A floating ``y_true`` of ``y_pred``'s rank: the precomputed ``φ``."""
    if not (hasattr(y_true, "shape") and hasattr(y_pred, "shape")):
        return False  # lists: prepare names them
    if len(_checks.shape_of(y_true)) != len(_checks.shape_of(y_pred)):
        return False
    xp = array_namespace(y_pred=y_pred)  # y_true may be NumPy's beside JAX or TensorFlow
    return _checks.dtype_kind(y_true.dtype, xp) == "real floating"
