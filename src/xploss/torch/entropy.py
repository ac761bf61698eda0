"""``nn.Module`` cross-entropy, focal and compound losses, declared from the registry: the axes,
options and buffers of ``xploss.torch.losses``.

Their ``"mean"`` is PyTorch's: ``CrossEntropyLoss`` is the weighted mean over every element
(``Σ w_i·ℓ_i / Σ w_i``, whatever ``batch`` says), as ``nn.CrossEntropyLoss``; ``FocalLoss`` the
mean over the batch, the classes (independent channels) and the spatial axes, as torchvision's
and MONAI's. ``forward(input, target, mask=None)`` takes a weight map as ``mask``.
"""

from __future__ import annotations

from xploss.torch.losses import RegisteredLoss

__all__ = [
    "CrossEntropyLoss",
    "DiceCELoss",
    "DiceFocalLoss",
    "FocalLoss",
    "GeneralizedDiceFocalLoss",
]


class CrossEntropyLoss(RegisteredLoss, loss="cross_entropy"):
    """Cross-entropy of exclusive classes as an ``nn.Module``: ``nn.CrossEntropyLoss``'s values.

    ``CrossEntropyLoss(from_logits=True, weight=w, ignore_index=i, label_smoothing=e)`` equals
    ``nn.CrossEntropyLoss(weight=w, ignore_index=i, label_smoothing=e)`` for class indices
    ``(B, *spatial)`` (or ``(B, 1, *spatial)`` with ``to_onehot_y=True``), one-hot and soft
    targets; ``reduction="none"`` gives one value per image (the mean of its elements). See
    ``xploss.cross_entropy``; smp's ``SoftCrossEntropyLoss(smooth_factor=e)`` is
    ``label_smoothing=e`` here.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])  # (B, C, W)
        >>> labels = torch.tensor([[0, 2]])
        >>> ours = CrossEntropyLoss(from_logits=True)(logits, labels)
        >>> bool(torch.isclose(ours, torch.nn.CrossEntropyLoss()(logits, labels)))
        True
    """


class FocalLoss(RegisteredLoss, loss="focal_loss"):
    """Focal loss as an ``nn.Module``: sigmoid (``from_logits=True``) or softmax
    (``from_logits="softmax"``) form; see ``xploss.focal_loss``.

    torchvision's ``sigmoid_focal_loss(input, target, alpha=a, gamma=g, reduction="mean")`` is
    ``FocalLoss(from_logits=True, alpha=a, gamma=g)`` (``alpha=None`` for its ``alpha=-1``);
    MONAI's ``FocalLoss(gamma=g, alpha=a)`` the same (a scalar ``alpha``, no ``ignore_index``),
    and with ``use_softmax=True`` it is ``FocalLoss(from_logits="softmax", alpha=(1 - a, a,
    ...))`` divided by ``C``; the README lists the other relations. smp's
    ``FocalLoss("binary", alpha=a, gamma=g)`` is ``FocalLoss(from_logits=True, alpha=a)``.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[[2.0, -1.0, 0.5, -0.5]]])  # (B, C, W)
        >>> target = torch.tensor([[[1.0, 0.0, 1.0, 1.0]]])
        >>> round(float(FocalLoss(from_logits=True, gamma=0.0)(logits, target)), 6)  # BCE
        0.472086
    """


class DiceCELoss(RegisteredLoss, loss="dice_ce_loss"):
    """``lambda_dice·(1 - D) + lambda_ce·CE`` as an ``nn.Module``: MONAI's ``DiceCELoss``.

    ``DiceCELoss(from_logits="softmax", to_onehot_y=True)`` equals MONAI's ``DiceCELoss(
    softmax=True, to_onehot_y=True)``; ``lambda_dice``, ``lambda_ce``, ``label_smoothing``,
    ``include_background`` and ``ignore_index`` keep MONAI's names. With ``from_logits=True``
    (sigmoid) the CE term is the binary cross-entropy of every channel, where MONAI takes a
    softmax cross-entropy of several channels. nnU-Net's Dice + CE is ``DiceCELoss(
    from_logits="softmax", batch=True, include_background=False)`` minus 1. See
    ``xploss.dice_ce_loss``.

    Example:
        >>> import torch
        >>> loss = DiceCELoss(from_logits="softmax")
        >>> logits = torch.zeros(2, 3, 4, 4, requires_grad=True)
        >>> labels = torch.zeros(2, 4, 4, dtype=torch.long)
        >>> loss(logits, labels).backward()
    """


class DiceFocalLoss(RegisteredLoss, loss="dice_focal_loss"):
    """``lambda_dice·(1 - D) + lambda_focal·FL`` as an ``nn.Module``: MONAI's ``DiceFocalLoss``
    (``sigmoid=True`` is ``from_logits=True``; MONAI's ``softmax=True`` reaches its Dice only, its
    focal term stays a sigmoid one: ``DiceLoss(from_logits="softmax")`` plus
    ``FocalLoss(from_logits=True)`` here). See ``xploss.dice_focal_loss``.

    Example:
        >>> import torch
        >>> loss = DiceFocalLoss(from_logits=True, gamma=2.0)
        >>> logits = torch.zeros(2, 1, 4, 4, requires_grad=True)
        >>> loss(logits, torch.ones(2, 4, 4)).backward()
    """


class GeneralizedDiceFocalLoss(RegisteredLoss, loss="generalized_dice_focal_loss"):
    """``lambda_dice·(1 - GD) + lambda_focal·FL`` as an ``nn.Module``: MONAI's
    ``GeneralizedDiceFocalLoss``. See ``xploss.generalized_dice_focal_loss``.

    Example:
        >>> import torch
        >>> loss = GeneralizedDiceFocalLoss(from_logits="softmax")
        >>> logits = torch.zeros(2, 3, 4, 4, requires_grad=True)
        >>> loss(logits, torch.zeros(2, 4, 4, dtype=torch.long)).backward()
    """
