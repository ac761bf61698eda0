"""Keras Matthews correlation coefficient loss: one value per sample, as
``xploss.keras.losses``."""

from __future__ import annotations

import keras

from xploss.keras._base import PACKAGE
from xploss.keras.losses import RegisteredLoss

__all__ = ["MCCLoss"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class MCCLoss(RegisteredLoss, loss="mcc_loss"):
    """Matthews correlation coefficient loss ``1 - MCC`` per sample.

    ``axis`` defaults to every non-batch axis: one coefficient of each image, its classes
    pooled (``axis=(1, 2)`` on ``(B, H, W, C)`` takes one per class, weighted by
    ``class_weight``). ``smoothing`` is added to each of ``tp``, ``fp``, ``fn`` and ``tn``
    (segmentation_models_pytorch's ``eps``). See ``xploss.mcc_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[1.0, 1.0, 0.0, 0.0]])
        >>> y_pred = np.array([[0.5, 1.0, 0.5, 0.0]])
        >>> round(float(MCCLoss(smoothing=0)(y_true, y_pred)), 6)  # 1 - (2.25 - 0.25) / 4
        0.5
    """
