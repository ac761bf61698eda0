"""Keras clDice losses: one value per sample, as ``xploss.keras.losses``.

The soft skeleton runs over ``spatial_axes``: by default every axis but the batch and class
axes, ``(H, W)`` of ``(B, H, W, C)`` and ``(D, H, W)`` of ``(B, D, H, W, C)``. Each sample's
clDice pools its classes (MONAI's and the authors' clDice); ``pool_classes=False`` averages one
per class.
"""

from __future__ import annotations

from typing import Any

import keras

from xploss.keras._base import PACKAGE
from xploss.keras.losses import RegisteredLoss

__all__ = ["SoftDiceclDiceLoss", "SoftclDiceLoss"]


class _ClDiceLoss(RegisteredLoss):
    """Takes ``spatial_axes`` back as a tuple from a config, which stores a list."""

    def __init__(self, **options: Any) -> None:
        if isinstance(options.get("spatial_axes"), list):
            options["spatial_axes"] = tuple(options["spatial_axes"])
        super().__init__(**options)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SoftclDiceLoss(_ClDiceLoss, loss="soft_cldice_loss"):
    """Soft clDice loss ``1 - clDice`` (Shit et al. 2021) per sample: MONAI's
    ``SoftclDiceLoss`` of channels-last inputs. See ``xploss.soft_cldice_loss``.

    Example: a prediction of the centerline of a thick bar is topologically perfect.

        >>> import numpy as np
        >>> y_true = np.zeros((1, 5, 7, 1))  # (B, H, W, C)
        >>> y_true[0, 1:4, 1:6] = 1.0
        >>> y_pred = np.zeros((1, 5, 7, 1))
        >>> y_pred[0, 2, 1:6] = 1.0
        >>> loss = SoftclDiceLoss(smooth_nr=0, smooth_dr=0, smooth=0)
        >>> float(loss(y_true, y_pred))
        0.0
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class SoftDiceclDiceLoss(_ClDiceLoss, loss="soft_dice_cldice_loss"):
    """``(1 - alpha)·(1 - Dice) + alpha·(1 - clDice)`` per sample: MONAI's
    ``SoftDiceclDiceLoss`` of channels-last inputs. The Dice of each sample pools its classes
    by default (``axis=(1, 2)`` on ``(B, H, W, C)`` averages one per class, as MONAI).
    See ``xploss.soft_dice_cldice_loss``.

    Example: the same bar and centerline: Dice 0.5, clDice 1.

        >>> import numpy as np
        >>> y_true = np.zeros((1, 5, 7, 1))  # (B, H, W, C)
        >>> y_true[0, 1:4, 1:6] = 1.0
        >>> y_pred = np.zeros((1, 5, 7, 1))
        >>> y_pred[0, 2, 1:6] = 1.0
        >>> loss = SoftDiceclDiceLoss(smooth_nr=0, smooth_dr=0, smooth=0)
        >>> float(loss(y_true, y_pred))  # 0.5·(1 - 0.5) + 0.5·(1 - 1)
        0.25
    """
