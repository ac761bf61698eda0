"""Keras cross-entropy, focal and compound losses, and deep supervision: one value per sample,
as ``xploss.keras.losses``.

``class_weight`` weighs the classes: the cross-entropy's ``Σ w·ℓ / Σ w`` over each sample's
elements, the Dice term's weighted mean of its classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from xploss._deep_supervision import check_options, supervised_sum
from xploss.keras._base import MODULE, PACKAGE, labels
from xploss.keras.losses import RegisteredLoss

__all__ = [
    "CrossEntropyLoss",
    "DeepSupervisionLoss",
    "DiceCELoss",
    "DiceFocalLoss",
    "FocalLoss",
    "GeneralizedDiceFocalLoss",
]


@keras.saving.register_keras_serializable(package=PACKAGE)
class CrossEntropyLoss(RegisteredLoss, loss="cross_entropy"):
    """Cross-entropy of exclusive classes per sample: Keras' ``CategoricalCrossentropy`` (one-hot
    or soft targets) and ``SparseCategoricalCrossentropy`` (class indices) in one class.

    ``CrossEntropyLoss()`` on probabilities equals ``keras.losses.CategoricalCrossentropy()``
    (the same normalisation and clip); ``from_logits=True`` equals ``from_logits=True``;
    ``label_smoothing`` is Keras'. See ``xploss.cross_entropy``.

    Example:
        >>> import keras
        >>> import numpy as np
        >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = np.array([[0.05, 0.9, 0.05], [0.1, 0.8, 0.1]])
        >>> ours = float(CrossEntropyLoss()(y_true, y_pred))
        >>> theirs = float(keras.losses.CategoricalCrossentropy()(y_true, y_pred))
        >>> bool(np.isclose(ours, theirs, rtol=1e-6))
        True
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class FocalLoss(RegisteredLoss, loss="focal_loss"):
    """Focal loss per sample: Keras' ``BinaryFocalCrossentropy`` (independent channels) and,
    with ``from_logits="softmax"`` or ``exclusive=True``, ``CategoricalFocalCrossentropy``.

    ``keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=a, gamma=g)`` is
    ``FocalLoss(alpha=a, gamma=g)`` (``alpha=None`` without class balancing);
    ``CategoricalFocalCrossentropy(alpha=a, gamma=g)`` is ``FocalLoss(exclusive=True, alpha=a,
    gamma=g)``. See ``xploss.focal_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0]])
        >>> y_pred = np.array([[0.9, 0.2]])
        >>> round(float(FocalLoss()(y_true, y_pred)), 6)
        0.00499
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceCELoss(RegisteredLoss, loss="dice_ce_loss"):
    """``lambda_dice·(1 - D) + lambda_ce·CE`` per sample (MONAI's ``DiceCELoss``): the Dice of
    each sample and its cross-entropy, categorical with ``from_logits="softmax"`` or
    ``exclusive=True``, binary per channel otherwise. See ``xploss.dice_ce_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # (B, W, C)
        >>> logits = np.array([[[2.0, 0.0], [0.0, 2.0]]])
        >>> round(float(DiceCELoss(from_logits="softmax")(y_true, logits)), 5)
        0.24613
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class DiceFocalLoss(RegisteredLoss, loss="dice_focal_loss"):
    """``lambda_dice·(1 - D) + lambda_focal·FL`` per sample (MONAI's ``DiceFocalLoss``). See
    ``xploss.dice_focal_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 0.0]])
        >>> y_pred = np.array([[0.9, 0.2]])
        >>> round(float(DiceFocalLoss(smooth_nr=0, smooth_dr=0)(y_true, y_pred)), 6)
        0.147847
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class GeneralizedDiceFocalLoss(
    RegisteredLoss, loss="generalized_dice_focal_loss", keep_class_axis=True
):
    """``lambda_dice·(1 - GD) + lambda_focal·FL`` per sample (MONAI's
    ``GeneralizedDiceFocalLoss``), classes on ``class_axis``. See
    ``xploss.generalized_dice_focal_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # (B, W, C)
        >>> y_pred = np.array([[[0.8, 0.2], [0.1, 0.9]]])
        >>> loss = GeneralizedDiceFocalLoss(exclusive=True, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss(y_true, y_pred)), 5)
        0.15499
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class DeepSupervisionLoss(keras.losses.Loss):
    """``Σ_i w_i·loss(y_true at scale i, y_pred_i)`` per sample, for a train step that has the
    outputs of several decoder scales: ``loss(y_true, [full, half, ...])``.

    Args:
        loss: an xploss Keras loss of one scale (``DiceCELoss(...)``); its per-sample values
            are weighted and summed, then reduced by this loss's ``reduction``.
        weights: one per output, the full resolution first; by default ``1/2^i`` normalised to
            sum to 1 (nnU-Net).
        mode: how the target is resized: ``"nearest"``, ``"average"`` or ``"auto"`` (see
            ``xploss.deep_supervision_loss``: Keras casts targets to floats, and ``"auto"``
            takes floating class indices and label maps beside outputs of several classes for
            labels, other floating targets for soft ones).

    Example:
        >>> import numpy as np
        >>> from xploss.keras import DiceLoss
        >>> y_true = np.ones((2, 8, 8, 1))
        >>> outputs = [np.full((2, 8, 8, 1), 0.5), np.full((2, 4, 4, 1), 0.5)]
        >>> loss = DeepSupervisionLoss(DiceLoss(smooth_nr=0, smooth_dr=0))
        >>> round(float(loss(y_true, outputs)), 6)  # 1 - 1/1.5 at every scale
        0.333333
    """

    def __init__(
        self,
        loss: Any,
        *,
        weights: Sequence[float] | None = None,
        mode: str = "nearest",
        reduction: str | None = "sum_over_batch_size",
        name: str | None = "deep_supervision_loss",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(loss, dict):
            loss = keras.saving.deserialize_keras_object(loss)
        if not isinstance(loss, RegisteredLoss):
            raise TypeError(
                f"DeepSupervisionLoss takes an xploss Keras loss (DiceCELoss(...), ...), whose "
                f"per-sample values it weighs; got {type(loss).__name__}."
            )
        self.weights = None if weights is None else tuple(float(w) for w in weights)
        check_options(self.weights, mode)
        self.loss, self.mode = loss, mode

    def call(self, y_true: Any, y_pred: Any) -> Any:
        outputs = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]
        class_axis = self.loss.options.class_axis
        if outputs:  # Keras' rank rule, the same at every scale (an empty list fails below)
            y_true = labels(y_true, outputs[0], class_axis)
        return supervised_sum(
            self.loss.call,
            y_true,
            outputs,
            weights=self.weights,
            mode=self.mode,
            class_axis=class_axis,
            name="y_pred",
        )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "loss": keras.saving.serialize_keras_object(self.loss),
            "weights": None if self.weights is None else list(self.weights),
            "mode": self.mode,
        }


DeepSupervisionLoss.__module__ = MODULE
