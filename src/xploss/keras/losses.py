"""Keras losses, declared from the registry: one value per sample, then Keras' ``reduction``.

Every loss takes its core function's options (``weight`` is called ``class_weight`` here) and
Keras' ``reduction``, ``name`` and ``dtype``. ``call`` reduces every non-batch axis by default
(``axis=None``), so Keras' ``reduction`` and a per-sample ``sample_weight`` work as documented;
an explicit ``axis`` is the core's, and the core's ``reduction="per_sample"`` then averages what
survives but the batch axis. An ``axis`` with the batch axis raises ``ValueError``: Keras would
take what survives for the batch. ``class_weight`` (one number per class) weighs the classes on
``class_axis``: the default axes then leave the class axis out too, and each sample's loss is the
weighted mean ``Σ w·l / Σ w`` of its classes' losses.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
from keras import ops

from xploss._checks import shape_of
from xploss._registry import LOSSES, Adapter, Loss
from xploss.keras._axes import check_axis, check_class_weight, loss_axes, placed_class_weight
from xploss.keras._base import PACKAGE, Registered, labels

__all__ = [
    "BCEDiceLoss",
    "BinaryCrossEntropyLoss",
    "DiceLoss",
    "FocalTverskyLoss",
    "GeneralizedDiceLoss",
    "JaccardLoss",
    "TverskyLoss",
]

ADAPTER = Adapter(
    fixed={"reduction": "per_sample"},
    hidden=frozenset({"all_reduce"}),
    renamed={"class_weight": "weight"},
)
"""One value per sample (Keras reduces the batch); class weights by their 0.1 name; no
``all_reduce`` (a callable, which a config cannot store; Keras combines the replicas' losses)."""


def check_sample_weight(sample_weight: Any, name: str) -> None:
    if sample_weight is None:
        return
    shape = tuple(sample_weight.shape) if hasattr(sample_weight, "shape") else ()
    if len(shape) > 2 or (len(shape) == 2 and shape[1] not in (1, None)):
        raise ValueError(
            f"{name} returns one loss per sample, so sample_weight must have shape (batch,) or "
            f"(batch, 1); got a map of shape {shape}. Per-pixel weights change the sums inside "
            "the Dice, not the average of per-sample losses: pass class weights as "
            "class_weight=..., or exclude pixels through the targets."
        )


def squeezed_channel(y_true: Any, y_pred: Any, options: Any) -> bool:
    """A ``(B, ..., 1)`` target of a ``(B, ...)`` prediction, for a loss over spatial axes whose
    classes are on the last axis: the prediction is one channel, squeezed."""
    rank = len(y_pred.shape)
    return (
        "spatial_axes" in options.names
        and options.class_axis in (-1, rank)
        and len(y_true.shape) == rank + 1
        and y_true.shape[-1] == 1
    )


class RegisteredLoss(Registered, keras.losses.Loss):
    """A loss of the registry as a ``keras.losses.Loss``:
    ``class DiceLoss(RegisteredLoss, loss="dice_loss")``.

    ``keep_class_axis=True`` (generalized Dice) leaves the class axis out of the default axes.
    """

    entry: ClassVar[Loss]
    keep_class_axis: ClassVar[bool] = False

    def __init_subclass__(
        cls, *, loss: str = "", keep_class_axis: bool = False, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if loss:
            cls.entry = LOSSES[loss]
            cls.keep_class_axis = keep_class_axis
            cls.declare(
                cls.entry.options,
                ADAPTER,
                reduction="sum_over_batch_size",
                name=cls.entry.name,
                dtype=None,
            )

    def __init__(
        self,
        *,
        reduction: str | None = "sum_over_batch_size",
        name: str | None = None,
        dtype: Any = None,
        **options: Any,
    ) -> None:
        super().__init__(name=name or self.entry.name, reduction=reduction, dtype=dtype)
        for key in ("class_weight", "axis", "alpha", "pos_weight"):  # arrays: numbers
            if hasattr(options.get(key), "tolist"):
                options[key] = options[key].tolist()
        if isinstance(options.get("axis"), list):  # as 0.1 stored it (configs hold lists)
            options["axis"] = tuple(options["axis"])
        self._set_options(options)
        owner = type(self).__name__
        check_axis(self.options.axis, owner, self.entry.name)
        check_class_weight(getattr(self.options, "weight", None), owner)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        check_sample_weight(sample_weight, type(self).__name__)
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        options, owner = self.options, type(self).__name__
        if squeezed_channel(y_true, y_pred, options):
            # Keras' rank rule would drop the target's channel; a loss over spatial axes (the
            # distance maps, the skeleton) must not read the prediction's last axis as classes.
            y_pred = ops.expand_dims(y_pred, -1)
        shape = shape_of(y_pred)
        weight = getattr(options, "weight", None)
        axes = loss_axes(
            options.axis,
            shape,
            options.class_axis,
            keep_class_axis=self.keep_class_axis,
            weighted=weight is not None,
            owner=owner,
            function=self.entry.name,
        )
        # The user's spelling of axis, when given, so that the core's errors quote it.
        changes: dict[str, Any] = {"axis": axes if options.axis is None else options.axis}
        if weight is not None:
            changes["weight"] = placed_class_weight(weight, axes, shape, options.class_axis, owner)
        y_true = labels(y_true, y_pred, options.class_axis)
        return self.entry.compute(y_true, y_pred, options.updated(changes), None)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.config_values()}


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceLoss(RegisteredLoss, loss="dice_loss"):
    """Dice loss ``1 - D`` (``-log D`` with ``log=True``), one value per sample.

    ``axis`` defaults to every non-batch axis: the Dice of each image pooled over its classes, as
    the seeds' ``dice_coef(axis=[1, 2, 3])``. ``axis=(1, 2)`` on ``(B, H, W, C)`` takes one Dice
    per class and averages them per image, weighted by ``class_weight``; with ``class_weight``
    that is the default. ``axis`` may not hold the batch axis (a batch Dice is
    ``xploss.dice_loss(..., axis=(0, 1, 2))`` in a loss function of your own). See
    ``xploss.dice_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[[1.0], [0.0]]]])  # (1, 1, 2, 1)
        >>> round(float(DiceLoss(smooth_nr=0, smooth_dr=0)(y_true, y_true * 0.5)), 4)  # 1 - 1/1.5
        0.3333
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class JaccardLoss(RegisteredLoss, loss="jaccard_loss"):
    """Jaccard (soft IoU) loss ``1 - J`` (``-log J`` with ``log=True``), one value per sample.

    ``DiceLoss``'s options and axes, ``xploss.jaccard_loss``'s formula (segmentation_models'
    ``JaccardLoss``, with ``smooth_nr = smooth_dr = smooth``). ``soft_label=True`` is exact for
    soft targets (label smoothing, distillation).

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[[1.0], [0.0]]]])  # (1, 1, 2, 1)
        >>> float(JaccardLoss(smooth_nr=0, smooth_dr=0)(y_true, y_true * 0.5))  # 1 - 0.5/1
        0.5
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class BCEDiceLoss(RegisteredLoss, loss="bce_dice_loss"):
    """``bce_weight·BCE - dice_weight·log D`` per sample: the seeds' ``bce_dice``.

    ``BCEDiceLoss(smooth_nr=1, smooth_dr=1)`` is ``binary_crossentropy - log(dice_coef)`` with
    ``dice_coef`` over ``axis=[1, 2, 3]``, computed per sample (Keras then averages the per-sample
    losses). ``log_dice=False`` gives ``BCE + (1 - D)``. See ``xploss.bce_dice_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0, 1.0]])
        >>> y_pred = np.array([[0.9, 0.2, 0.6, 0.3]])
        >>> round(float(BCEDiceLoss(smooth_nr=0, smooth_dr=0)(y_true, y_pred)), 4)
        0.8393
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class GeneralizedDiceLoss(RegisteredLoss, loss="generalized_dice_loss", keep_class_axis=True):
    """Generalized Dice loss (Sudre et al. 2017) per sample, classes on ``class_axis``.

    ``axis`` defaults to every axis but the batch and class axes: one score per volume of a
    ``(B, D1, D2, D3, C)`` batch. See ``xploss.generalized_dice_loss``.

    Example: two classes of equal volume get equal weights.

        >>> import numpy as np
        >>> y_true = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # (B, W, C) = (1, 2, 2)
        >>> y_pred = np.array([[[0.8, 0.2], [0.1, 0.9]]])
        >>> loss = GeneralizedDiceLoss(smooth_nr=0, smooth_dr=0)
        >>> round(float(loss(y_true, y_pred)), 4)  # 1 - 2·(0.8 + 0.9) / (2 + 2)
        0.15
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class TverskyLoss(RegisteredLoss, loss="tversky_loss"):
    """Tversky loss ``1 - S`` per sample; ``alpha`` weighs false positives, ``beta`` false
    negatives.

    Keras' own ``keras.losses.Tversky`` (up to 3.15) has the two swapped: its ``alpha``
    multiplies the false negatives (keras-team/keras#23333). ``keras.losses.Tversky(alpha=a,
    beta=b)`` is ``TverskyLoss(alpha=b, beta=a, smooth_nr=0, smooth_dr=1e-7)`` here on one
    sample (Keras pools the batch; this loss is per sample). See ``xploss.tversky_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0, 1.0]])
        >>> y_pred = np.array([[0.9, 0.2, 0.6, 0.3]])
        >>> loss = TverskyLoss(alpha=0.3, beta=0.7, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss(y_true, y_pred)), 6)  # 1 - 1.8 / (1.8 + 0.3·0.2 + 0.7·1.2)
        0.333333
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class FocalTverskyLoss(RegisteredLoss, loss="focal_tversky_loss"):
    """Focal Tversky loss ``(1 - S)^gamma`` per sample (Abraham and Khan 2019).

    ``gamma`` is the exponent itself (the paper's ``1/γ``); the defaults ``alpha=0.3, beta=0.7,
    gamma=0.75`` are the authors' code. Every other keyword is ``TverskyLoss``'s; see
    ``xploss.focal_tversky_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0, 1.0]])
        >>> y_pred = np.array([[0.9, 0.2, 0.6, 0.3]])
        >>> loss = FocalTverskyLoss(smooth_nr=0, smooth_dr=0)
        >>> round(float(loss(y_true, y_pred)), 6)  # (1 - 2/3)^0.75
        0.438691
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class BinaryCrossEntropyLoss(RegisteredLoss, loss="binary_cross_entropy"):
    """Binary cross-entropy averaged over every non-batch axis, one value per sample.

    For probabilities it equals ``keras.losses.BinaryCrossentropy()`` (the same clip to
    ``[1e-7, 1 - 1e-7]``; Keras averages the last axis, then the rest, which is the same mean);
    ``from_logits=True`` uses the stable softplus form, ``"softmax"`` a log-softmax over
    ``class_axis``. ``class_weight`` weighs the classes: one BCE per sample and class, then their
    weighted mean.
    See ``xploss.binary_cross_entropy``.

    Example:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0, 1.0, 1.0]])
        >>> y_pred = np.array([[0.9, 0.2, 0.6, 0.3]])
        >>> ours = float(BinaryCrossEntropyLoss()(y_true, y_pred))
        >>> theirs = float(keras.losses.BinaryCrossentropy()(y_true, y_pred))
        >>> round(ours, 6), bool(np.isclose(ours, theirs, rtol=1e-6))
        (0.510826, True)
    """
