"""``nn.Module`` Lovász losses, declared from the registry: the axes and options of
``xploss.torch.losses``.

The default axes are ``RegisteredLoss``'s, every axis but the batch and class axes: one ranking
per image and channel for the hinge (Berman's per-class loss; smp's multilabel mode ranks the
channels of an image together, ``axis=(1, 2, 3)``), one per image for the softmax, whose classes
are never ranked together. ``batch=True`` ranks the batch together: smp's ``per_image=False``.
"""

from __future__ import annotations

from xploss.torch.losses import RegisteredLoss

__all__ = ["LovaszHingeLoss", "LovaszSoftmaxLoss"]


class LovaszHingeLoss(RegisteredLoss, loss="lovasz_hinge_loss"):
    """Lovász hinge loss as an ``nn.Module``: ``loss(input, target, mask=None)``, ``input`` the
    logits ``(B, C, *spatial)`` (probabilities with ``from_logits=False``).

    One ranking per image and channel, averaged; ``batch=True`` ranks each channel over the
    batch. segmentation_models_pytorch's ``LovaszLoss("binary")`` on ``(B, 1, H, W)`` logits is
    ``LovaszHingeLoss(batch=True)`` (its default ``per_image=False``) or ``LovaszHingeLoss()``
    (``per_image=True``); its ``"multilabel"`` mode ranks an image's channels together:
    ``axis=(0, 1, 2, 3)`` (``per_image=False``) or ``axis=(1, 2, 3)`` (``per_image=True``).
    ``ignore_index`` is smp's. See ``xploss.lovasz_hinge_loss``.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[[2.0, 0.0]]], requires_grad=True)  # (B, C, W) = (1, 1, 2)
        >>> target = torch.tensor([[[1.0, 0.0]]])
        >>> loss = LovaszHingeLoss()(logits, target)  # the background's hinge 1, times J = 1/2
        >>> loss.item()
        0.5
        >>> loss.backward()
        >>> logits.grad[0, 0, 1].item()  # d/dz of (1 + z)·1/2 at the background's logit
        0.5
    """


class LovaszSoftmaxLoss(RegisteredLoss, loss="lovasz_softmax_loss"):
    """Lovász-softmax loss as an ``nn.Module``: ``loss(input, target, mask=None)``, ``input``
    the probabilities ``(B, C, *spatial)`` (logits with ``from_logits=True``), ``target`` class
    indices ``(B, *spatial)`` or one-hot.

    One ranking per image (each class on its own, the classes present averaged), then the mean
    over the images; ``batch=True`` ranks the whole batch. segmentation_models_pytorch's
    ``LovaszLoss("multiclass", per_image=p, ignore_index=i)`` is ``LovaszSoftmaxLoss(
    from_logits=True, batch=not p, ignore_index=i)``. See ``xploss.lovasz_softmax_loss``.

    Example:
        >>> import torch
        >>> probs = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]])  # (B, C, W) = (1, 2, 3)
        >>> labels = torch.tensor([[0, 0, 1]])  # element 1 is wrong: 1 - IoU = 1/2 per class
        >>> float(LovaszSoftmaxLoss()(probs, labels))
        0.5
    """
