"""Keras Lovász losses: one value per sample, as ``xploss.keras.losses``."""

from __future__ import annotations

import keras

from xploss.keras._base import PACKAGE
from xploss.keras.losses import RegisteredLoss

__all__ = ["LovaszHingeLoss", "LovaszSoftmaxLoss"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class LovaszHingeLoss(RegisteredLoss, loss="lovasz_hinge_loss"):
    """Lovász hinge loss per sample: one ranking of each sample's elements (every non-batch
    axis, the channels too: smp's ``LovaszLoss("binary" or "multilabel", per_image=True)``).

    ``y_pred`` holds logits by default; a sigmoid output is ``from_logits=False`` (the hinge of
    its log-odds). ``axis=(1, 2)`` on ``(B, H, W, C)`` ranks each channel on its own (Berman's
    per-class loss) and averages the channels. See ``xploss.lovasz_hinge_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[1.0], [0.0]]])  # (B, W, C) = (1, 2, 1)
        >>> logits = np.array([[[2.0], [0.0]]])
        >>> float(LovaszHingeLoss()(y_true, logits))  # the background's hinge 1, times J = 1/2
        0.5
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class LovaszSoftmaxLoss(RegisteredLoss, loss="lovasz_softmax_loss", keep_class_axis=True):
    """Lovász-softmax loss per sample: one ranking of each sample's elements per class, the
    classes present averaged (smp's ``LovaszLoss("multiclass", per_image=True)``).

    ``y_pred`` holds probabilities (a softmax output), or logits with ``from_logits=True``;
    ``y_true`` one-hot targets or class indices. See ``xploss.lovasz_softmax_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])  # (B, W, C) = (1, 3, 2)
        >>> y_pred = np.array([[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])  # element 1 is wrong
        >>> float(LovaszSoftmaxLoss()(y_true, y_pred))  # 1 - IoU = 1/2 for either class
        0.5
    """
