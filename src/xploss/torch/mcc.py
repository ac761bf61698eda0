"""``nn.Module`` Matthews correlation coefficient loss, declared from the registry: the axes and
options of ``xploss.torch.losses`` (one coefficient per image and class by default)."""

from __future__ import annotations

from xploss.torch.losses import RegisteredLoss

__all__ = ["MCCLoss"]


class MCCLoss(RegisteredLoss, loss="mcc_loss"):
    """Matthews correlation coefficient loss ``1 - MCC`` as an ``nn.Module``:
    ``loss(input, target, mask=None)``.

    ``input`` is ``(B, C, *spatial)``: probabilities, or logits with ``from_logits``. One
    coefficient per image and class, averaged; ``batch=True`` sums the batch too. For a binary
    ``(B, 1, *spatial)`` input, segmentation_models_pytorch's ``MCCLoss(eps=s)`` is
    ``MCCLoss(batch=True, smoothing=s)`` (smp sums the whole batch; its ``(B, *spatial)``
    input is ``axis=tuple(range(input.ndim))`` here). See ``xploss.mcc_loss``.

    Example:
        >>> import torch
        >>> probs = torch.tensor([[[0.5, 1.0, 0.5, 0.0]]])  # (B, C, W) = (1, 1, 4)
        >>> target = torch.tensor([[[1.0, 1.0, 0.0, 0.0]]])
        >>> round(float(MCCLoss(smoothing=0)(probs, target)), 6)  # 1 - (2.25 - 0.25) / 4
        0.5
    """
