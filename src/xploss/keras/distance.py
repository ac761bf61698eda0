"""Keras distance-map losses: one value per sample, as ``xploss.keras.losses``. The distance
transforms run inside the loss on every backend (no ``tf.py_function``, no host round trip);
the spatial axes need known sizes (the batch may be unknown)."""

from __future__ import annotations

import keras

from xploss.keras._base import PACKAGE
from xploss.keras.losses import RegisteredLoss

__all__ = ["BoundaryLoss", "HausdorffDTLoss"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class HausdorffDTLoss(RegisteredLoss, loss="hausdorff_dt_loss"):
    """Hausdorff distance-transform loss per sample (MONAI's ``HausdorffDTLoss``): the mean of
    ``(p - y)²·(d_p^α + d_y^α)`` over each sample's elements (all classes; ``axis=(1, 2)``
    with ``class_weight`` weighs them), the distance fields over the spatial axes (every axis
    but the batch and ``class_axis``). ``log=True`` takes ``log(1 + ℓ)`` of each sample's
    value (MONAI's ``LogHausdorffDTLoss`` takes it of the batch mean). See
    ``xploss.hausdorff_dt_loss``.

    Example:
        >>> import numpy as np
        >>> y_true = np.array([[[[1.0], [0.0]], [[1.0], [1.0]]]])  # (B, H, W, C)
        >>> logits = np.array([[[[1.0], [-1.0]], [[-1.0], [1.0]]]])
        >>> round(float(HausdorffDTLoss(from_logits=True)(y_true, logits)), 5)  # MONAI's
        0.50933
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class BoundaryLoss(RegisteredLoss, loss="boundary_loss"):
    """Boundary loss per sample (Kervadec et al.): the mean of ``φ·p`` over each sample.

    ``y_true`` is the signed distance map ``φ`` of ``y_pred``'s shape
    (``xploss.signed_distance_map(labels, axis=(1, 2), num_classes=C)`` in the data pipeline),
    or class indices ``(B, H, W)`` / ``(B, H, W, 1)`` whose ``φ`` is computed here. Keras casts
    targets to floats, so a one-hot target of ``y_pred``'s shape would be read as ``φ``: pass
    ``φ`` or class indices. See ``xploss.boundary_loss``.

    Example:
        >>> import numpy as np
        >>> labels = np.array([[[0], [1], [1], [0]]])  # (B, W, 1) class indices
        >>> probs = np.array([[[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]]])
        >>> loss = BoundaryLoss(include_background=False)
        >>> round(float(loss(labels, probs)), 6)  # the mean of φ·p of class 1: (0.1 + 0.3)/4
        0.1
    """
