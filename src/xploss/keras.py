"""Keras 3 adapter (TensorFlow, JAX and PyTorch backends): losses and stateful metrics.

The losses return one value per sample (every non-batch axis reduced), so Keras' ``reduction``
and ``sample_weight`` work as documented. The metrics accumulate the additive statistics, so the
logged value is the Dice (or TPR) of everything seen since the last reset, not an average of
batch values. Every class is registered for serialization with a complete ``get_config``: a
saved ``.keras`` model reloads without ``custom_objects``. The formulas are the core's; the
tensors of each backend go through their own namespace.

Keras casts ``y_true`` to the loss dtype, so class indices arrive as floats: ``y_true`` with one
axis fewer than ``y_pred`` (or a size-1 class axis where ``y_pred`` has several classes) is read
as class indices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from xploss import _checks
from xploss._losses import (
    bce_dice_loss,
    dice_loss,
    focal_tversky_loss,
    generalized_dice_loss,
    jaccard_loss,
    tversky_loss,
)
from xploss._namespace import array_namespace
from xploss._scores import dice_score, jaccard_score, precision_score, true_positive_score
from xploss._statistics import OverlapStats, overlap_stats

__all__ = [
    "BCEDiceLoss",
    "DiceCoefficient",
    "DiceLoss",
    "FocalTverskyLoss",
    "GeneralizedDiceLoss",
    "JaccardIndex",
    "JaccardLoss",
    "Precision",
    "TruePositiveRate",
    "TverskyLoss",
]

PACKAGE = "xploss"


def _labels(y_true: Any, y_pred: Any, class_axis: int) -> Any:
    """Class indices as integers; one-hot or binary targets unchanged."""
    if len(y_true.shape) == len(y_pred.shape) - 1:
        return ops.cast(y_true, "int32")
    axis = class_axis % len(y_pred.shape)
    if y_true.shape[axis] == 1 and y_pred.shape[axis] not in (1, None):
        return ops.cast(ops.squeeze(y_true, axis=axis), "int32")
    return y_true


def _non_batch_axes(ndim: int) -> tuple[int, ...]:
    return tuple(range(1, ndim))


def _check_sample_weight(sample_weight: Any, name: str) -> None:
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


class _OverlapLoss(keras.losses.Loss):
    """Shared options; ``call`` returns one value per sample."""

    def __init__(
        self,
        *,
        axis: int | Sequence[int] | None,
        class_axis: int,
        from_logits: bool | str,
        class_weight: Sequence[float] | None,
        reduction: str | None,
        name: str,
        dtype: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        _checks.check_activation(from_logits)
        if class_weight is not None:
            _checks.check_weight_values(list(class_weight))
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
        self.class_axis = class_axis
        self.from_logits = from_logits
        self.class_weight = None if class_weight is None else tuple(class_weight)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        _check_sample_weight(sample_weight, type(self).__name__)
        return super().__call__(y_true, y_pred, sample_weight)

    def _options(self, y_true: Any, y_pred: Any) -> tuple[Any, dict[str, Any]]:
        options = {
            "axis": _non_batch_axes(len(y_pred.shape)) if self.axis is None else self.axis,
            "class_axis": self.class_axis,
            "from_logits": self.from_logits,
            "reduction": "per_sample",
        }
        return _labels(y_true, y_pred, self.class_axis), options

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "class_axis": self.class_axis,
            "from_logits": self.from_logits,
            "class_weight": self.class_weight,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceLoss(_OverlapLoss):
    """Dice loss ``1 - D`` (``-log D`` with ``log=True``), one value per sample.

    ``axis`` defaults to every non-batch axis: the Dice of each image pooled over its classes, as
    the seeds' ``dice_coef(axis=[1, 2, 3])``. ``axis=(1, 2)`` on ``(B, H, W, C)`` takes one Dice
    per class and averages them per image (weighted by ``class_weight``). See
    ``xploss.dice_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[[1.0], [0.0]]]])  # (1, 1, 2, 1)
        >>> round(float(DiceLoss(smooth_nr=0, smooth_dr=0)(y_true, y_true * 0.5)), 4)  # 1 - 1/1.5
        0.3333
    """

    def __init__(
        self,
        *,
        axis: int | Sequence[int] | None = None,
        class_axis: int = -1,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        squared: bool = False,
        soft_label: bool = False,
        from_logits: bool | str = False,
        class_weight: Sequence[float] | None = None,
        log: bool = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "dice_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            class_weight=class_weight,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
        self.squared = _checks.check_flag(squared, "squared")
        self.soft_label = _checks.check_flag(soft_label, "soft_label")
        self.log = _checks.check_flag(log, "log")

    @staticmethod
    def _loss(y_true: Any, y_pred: Any, **options: Any) -> Any:
        return dice_loss(y_true, y_pred, **options)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, options = self._options(y_true, y_pred)
        return self._loss(
            y_true,
            y_pred,
            **options,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            squared=self.squared,
            soft_label=self.soft_label,
            weight=self.class_weight,
            log=self.log,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "smooth_nr": self.smooth_nr,
            "smooth_dr": self.smooth_dr,
            "squared": self.squared,
            "soft_label": self.soft_label,
            "log": self.log,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class JaccardLoss(DiceLoss):
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

    def __init__(self, *, name: str = "jaccard_loss", **options: Any) -> None:
        super().__init__(name=name, **options)

    @staticmethod
    def _loss(y_true: Any, y_pred: Any, **options: Any) -> Any:
        return jaccard_loss(y_true, y_pred, **options)


@keras.saving.register_keras_serializable(package=PACKAGE)
class BCEDiceLoss(_OverlapLoss):
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

    def __init__(
        self,
        *,
        axis: int | Sequence[int] | None = None,
        class_axis: int = -1,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        from_logits: bool | str = False,
        bce_weight: float = 1.0,
        dice_weight: float = 1.0,
        log_dice: bool = True,
        class_weight: Sequence[float] | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "bce_dice_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            class_weight=class_weight,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
        self.bce_weight = _checks.check_nonnegative(bce_weight, "bce_weight")
        self.dice_weight = _checks.check_nonnegative(dice_weight, "dice_weight")
        self.log_dice = _checks.check_flag(log_dice, "log_dice")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, options = self._options(y_true, y_pred)
        return bce_dice_loss(
            y_true,
            y_pred,
            **options,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            bce_weight=self.bce_weight,
            dice_weight=self.dice_weight,
            log_dice=self.log_dice,
            weight=self.class_weight,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "smooth_nr": self.smooth_nr,
            "smooth_dr": self.smooth_dr,
            "bce_weight": self.bce_weight,
            "dice_weight": self.dice_weight,
            "log_dice": self.log_dice,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class GeneralizedDiceLoss(_OverlapLoss):
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

    def __init__(
        self,
        *,
        axis: int | Sequence[int] | None = None,
        class_axis: int = -1,
        weight_type: str = "square",
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        from_logits: bool | str = False,
        reduction: str | None = "sum_over_batch_size",
        name: str = "generalized_dice_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            class_weight=None,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )
        self.weight_type = _checks.check_choice(weight_type, "weight_type", _checks.WEIGHT_TYPES)
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, options = self._options(y_true, y_pred)
        if self.axis is None:
            ndim = len(y_pred.shape)
            classes = self.class_axis % ndim
            options["axis"] = tuple(a for a in range(1, ndim) if a != classes)
        return generalized_dice_loss(
            y_true,
            y_pred,
            **options,
            weight_type=self.weight_type,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["class_weight"]
        return {
            **config,
            "weight_type": self.weight_type,
            "smooth_nr": self.smooth_nr,
            "smooth_dr": self.smooth_dr,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class TverskyLoss(_OverlapLoss):
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

    def __init__(
        self,
        *,
        axis: int | Sequence[int] | None = None,
        class_axis: int = -1,
        alpha: float = 0.5,
        beta: float = 0.5,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        soft_label: bool = False,
        from_logits: bool | str = False,
        class_weight: Sequence[float] | None = None,
        reduction: str | None = "sum_over_batch_size",
        name: str = "tversky_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            class_weight=class_weight,
            reduction=reduction,
            name=name,
            dtype=dtype,
        )
        self.alpha, self.beta = _checks.check_tversky_weights(alpha, beta)
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
        self.soft_label = _checks.check_flag(soft_label, "soft_label")

    def _loss(self, y_true: Any, y_pred: Any, **options: Any) -> Any:
        return tversky_loss(y_true, y_pred, **options)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true, options = self._options(y_true, y_pred)
        return self._loss(
            y_true,
            y_pred,
            **options,
            alpha=self.alpha,
            beta=self.beta,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            soft_label=self.soft_label,
            weight=self.class_weight,
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "beta": self.beta,
            "smooth_nr": self.smooth_nr,
            "smooth_dr": self.smooth_dr,
            "soft_label": self.soft_label,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class FocalTverskyLoss(TverskyLoss):
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

    def __init__(
        self,
        *,
        alpha: float = 0.3,
        beta: float = 0.7,
        gamma: float = 0.75,
        name: str = "focal_tversky_loss",
        **options: Any,
    ) -> None:
        super().__init__(alpha=alpha, beta=beta, name=name, **options)
        self.gamma = _checks.check_positive(gamma, "gamma")

    def _loss(self, y_true: Any, y_pred: Any, **options: Any) -> Any:
        return focal_tversky_loss(y_true, y_pred, gamma=self.gamma, **options)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gamma": self.gamma}


class _OverlapMetric(keras.metrics.Metric):
    """Accumulates ``tp``, ``Σy`` and ``Σp`` over every batch (float32 variables).

    With ``num_classes=None`` the sums pool every axis (the seeds' ``dice_coef`` over
    ``[1, 2, 3]``, for the whole dataset); with ``num_classes=C`` they are kept per class on
    ``class_axis`` and the result is the mean of the per-class values. ``sample_weight`` of shape
    ``(batch,)`` weighs each sample's pixels in the sums.
    """

    def __init__(
        self,
        *,
        num_classes: int | None,
        class_axis: int,
        from_logits: bool | str,
        threshold: float | None,
        zero_division: float,
        name: str,
        dtype: Any,
    ) -> None:
        super().__init__(name=name, dtype=dtype)
        _checks.check_activation(from_logits)
        self.num_classes = num_classes
        self.class_axis = class_axis
        self.from_logits = from_logits
        self.threshold = threshold
        self.zero_division = _checks.check_real(zero_division, "zero_division")
        shape = () if num_classes is None else (num_classes,)
        self.stats = [
            self.add_variable(shape=shape, initializer="zeros", dtype="float32", name=field)
            for field in OverlapStats._fields
        ]

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = _labels(ops.convert_to_tensor(y_true), y_pred, self.class_axis)
        ndim = len(y_pred.shape)
        axis = None
        if self.num_classes is not None:
            axis = tuple(a for a in range(ndim) if a != self.class_axis % ndim)
        mask = None
        if sample_weight is not None:
            weight = ops.cast(ops.convert_to_tensor(sample_weight), y_pred.dtype)
            mask = ops.reshape(weight, (-1,) + (1,) * (ndim - 1))
        stats = overlap_stats(
            y_true,
            y_pred,
            axis=axis,
            class_axis=self.class_axis,
            from_logits=self.from_logits,
            threshold=self.threshold,
            mask=mask,
        )
        for variable, value in zip(self.stats, stats, strict=True):
            variable.assign_add(ops.cast(value, "float32"))

    def _score(self, stats: OverlapStats, xp: Any) -> Any:
        raise NotImplementedError

    def result(self) -> Any:
        stats = OverlapStats(*(ops.convert_to_tensor(v.value) for v in self.stats))
        xp = array_namespace(tp=stats.tp, sum_true=stats.sum_true, sum_pred=stats.sum_pred)
        return xp.mean(self._score(stats, xp))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "class_axis": self.class_axis,
            "from_logits": self.from_logits,
            "threshold": self.threshold,
            "zero_division": self.zero_division,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceCoefficient(_OverlapMetric):
    """The Dice of everything seen since the last reset (hard: ``p > 0.5``; unsmoothed).

    Example:
        >>> import numpy as np
        >>> metric = DiceCoefficient()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]]))
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.8, 0.4]]))
        >>> round(float(metric.result()), 4)  # 2·2 / (3 + 2): the dataset's Dice
        0.8
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        class_axis: int = -1,
        from_logits: bool | str = False,
        threshold: float | None = 0.5,
        smooth_nr: float = 0.0,
        smooth_dr: float = 0.0,
        zero_division: float = 1.0,
        name: str = "dice_coefficient",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            class_axis=class_axis,
            from_logits=from_logits,
            threshold=threshold,
            zero_division=zero_division,
            name=name,
            dtype=dtype,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")

    def _score(self, stats: OverlapStats, xp: Any) -> Any:
        return dice_score(
            stats,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            zero_division=self.zero_division,
            xp=xp,
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "smooth_nr": self.smooth_nr, "smooth_dr": self.smooth_dr}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TruePositiveRate(_OverlapMetric):
    """The true-positive rate ``Σ y·[p > 0.5] / Σ y`` of everything seen since the last reset:
    the seeds' ``true_positive_rate`` over the dataset instead of averaged over batches.

    Example:
        >>> import numpy as np
        >>> metric = TruePositiveRate()
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.9, 0.4]]))
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.6, 0.2]]))
        >>> round(float(metric.result()), 4)  # 2 of the 3 positives found
        0.6667
    """

    def __init__(
        self,
        *,
        num_classes: int | None = None,
        class_axis: int = -1,
        from_logits: bool | str = False,
        threshold: float | None = 0.5,
        zero_division: float = 0.0,
        name: str = "true_positive_rate",
        dtype: Any = None,
    ) -> None:
        super().__init__(
            num_classes=num_classes,
            class_axis=class_axis,
            from_logits=from_logits,
            threshold=threshold,
            zero_division=zero_division,
            name=name,
            dtype=dtype,
        )

    def _score(self, stats: OverlapStats, xp: Any) -> Any:
        return true_positive_score(stats, zero_division=self.zero_division, xp=xp)


@keras.saving.register_keras_serializable(package=PACKAGE)
class JaccardIndex(DiceCoefficient):
    """The Jaccard index (IoU) ``tp / (Σy + Σp - tp)`` of everything seen since the last reset.

    ``DiceCoefficient``'s options: hard (``p > 0.5``) and unsmoothed by default; unlike Keras'
    ``MeanIoU`` it takes probabilities (or logits) directly, without an argmax.

    Example:
        >>> import numpy as np
        >>> metric = JaccardIndex()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.2]]))
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.8, 0.4]]))
        >>> round(float(metric.result()), 4)  # tp = 2 of a union of 3
        0.6667
    """

    def __init__(self, *, name: str = "jaccard_index", **options: Any) -> None:
        super().__init__(name=name, **options)

    def _score(self, stats: OverlapStats, xp: Any) -> Any:
        return jaccard_score(
            stats,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            zero_division=self.zero_division,
            xp=xp,
        )


@keras.saving.register_keras_serializable(package=PACKAGE)
class Precision(TruePositiveRate):
    """The precision ``Σ y·[p > 0.5] / Σ [p > 0.5]`` of everything seen since the last reset.

    ``TruePositiveRate``'s options; ``zero_division`` (0) where nothing was predicted positive.

    Example:
        >>> import numpy as np
        >>> metric = Precision()
        >>> metric.update_state(np.array([[1.0, 0.0]]), np.array([[0.9, 0.7]]))
        >>> metric.update_state(np.array([[1.0, 1.0]]), np.array([[0.8, 0.3]]))
        >>> round(float(metric.result()), 4)  # 2 of the 3 predicted positives
        0.6667
    """

    def __init__(self, *, name: str = "precision", **options: Any) -> None:
        super().__init__(name=name, **options)

    def _score(self, stats: OverlapStats, xp: Any) -> Any:
        return precision_score(stats, zero_division=self.zero_division, xp=xp)
