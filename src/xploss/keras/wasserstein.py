"""Keras generalized Wasserstein Dice loss: one value per sample, as ``xploss.keras.losses``."""

from __future__ import annotations

from typing import Any

import keras

from xploss.keras._base import PACKAGE
from xploss.keras.losses import RegisteredLoss

__all__ = ["GeneralizedWassersteinDiceLoss"]


@keras.saving.register_keras_serializable(package=PACKAGE)
class GeneralizedWassersteinDiceLoss(
    RegisteredLoss, loss="generalized_wasserstein_dice_loss", keep_class_axis=True
):
    """Generalized Wasserstein Dice loss (Fidon et al. 2017) per sample, classes on
    ``class_axis``: ``axis`` defaults to every axis but the batch and class axes.

    ``dist_matrix`` is a ``(C, C)`` array or nested list (row: true class, column: predicted
    class); ``get_config`` stores it as nested lists, so a saved model reloads without
    ``custom_objects``. See ``xploss.generalized_wasserstein_dice_loss``.

    Example:
        >>> import numpy as np
        >>> M = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.5, 0.0]]
        >>> y_true = np.array([[0.0, 1.0, 2.0]])  # (B, W) class indices
        >>> y_pred = np.array([[[0.8, 0.1, 0.1], [0.1, 0.6, 0.3], [0.0, 0.5, 0.5]]])
        >>> loss = GeneralizedWassersteinDiceLoss(dist_matrix=M, smooth_nr=0, smooth_dr=0)
        >>> round(float(loss(y_true, y_pred)), 6)  # 7/37
        0.189189
    """

    def __init__(self, *, dist_matrix: Any = None, **options: Any) -> None:
        if dist_matrix is not None and not isinstance(dist_matrix, (list, tuple)):
            dist_matrix = keras.ops.convert_to_numpy(dist_matrix).tolist()  # a config holds lists
        super().__init__(dist_matrix=dist_matrix, **options)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        matrix = config.get("dist_matrix")
        if isinstance(matrix, tuple):
            config["dist_matrix"] = [list(row) for row in matrix]
        return config
