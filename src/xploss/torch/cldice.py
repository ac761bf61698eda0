"""``nn.Module`` clDice losses, declared from the registry: MONAI's ``SoftclDiceLoss`` and
``SoftDiceclDiceLoss`` with MONAI's arguments, defaults, values and gradients.

``input`` is ``(B, C, *spatial)``; the soft skeleton runs over the spatial axes (every axis but
the batch and class axes, or ``spatial_axes``). One clDice per image, pooled over its channels
(MONAI's); ``batch=True`` pools the batch too (the authors' code, MONAI up to 1.5, with
``include_background=False``), ``pool_classes=False`` gives one per image and class. MONAI's
``sigmoid=True`` is ``from_logits=True``, ``softmax=True`` is ``from_logits="softmax"``;
``iter_``, ``smooth_nr``, ``smooth_dr``, ``smooth``, ``alpha``, ``include_background``,
``to_onehot_y`` and ``reduction`` keep their names.
"""

from __future__ import annotations

from xploss.torch.losses import RegisteredLoss

__all__ = ["SoftDiceclDiceLoss", "SoftclDiceLoss"]


class SoftclDiceLoss(RegisteredLoss, loss="soft_cldice_loss"):
    """Soft clDice loss ``1 - clDice`` (Shit et al. 2021) as an ``nn.Module``: MONAI's
    ``SoftclDiceLoss``.

    ``SoftclDiceLoss(iter_=k, smooth=s, include_background=i, reduction=r)`` equals MONAI's
    ``SoftclDiceLoss`` with the same arguments, 2-D and 3-D (and any number of spatial axes);
    ``reduction="none"`` gives one value per image, as MONAI's. See ``xploss.soft_cldice_loss``.

    Example:
        >>> import torch
        >>> loss = SoftclDiceLoss(from_logits=True)
        >>> logits = torch.zeros(2, 1, 8, 8, requires_grad=True)
        >>> loss(logits, torch.ones(2, 1, 8, 8)).backward()
    """


class SoftDiceclDiceLoss(RegisteredLoss, loss="soft_dice_cldice_loss"):
    """``(1 - alpha)·(1 - Dice) + alpha·(1 - clDice)`` as an ``nn.Module``: MONAI's
    ``SoftDiceclDiceLoss``.

    The Dice term is one per image and class (MONAI's ``DiceLoss``), the clDice term one per
    image; ``reduction="mean"`` and ``"sum"`` are MONAI's, ``"none"`` needs terms of one shape
    (``pool_classes=False``). See ``xploss.soft_dice_cldice_loss``.

    Example:
        >>> import torch
        >>> loss = SoftDiceclDiceLoss(from_logits="softmax", to_onehot_y=True, alpha=0.3)
        >>> logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
        >>> loss(logits, torch.zeros(2, 1, 8, 8, dtype=torch.long)).backward()
    """
