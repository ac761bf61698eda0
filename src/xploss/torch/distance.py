"""``nn.Module`` distance-map losses, declared from the registry: the axes, options and
buffers of ``xploss.torch.losses``. The distance transforms run over the spatial axes
``(2, ...)`` of ``(B, C, *spatial)`` inputs, on the inputs' device, in the same graph (no host
round trip, no graph break under ``torch.compile``)."""

from __future__ import annotations

from xploss.torch.losses import RegisteredLoss

__all__ = ["BoundaryLoss", "HausdorffDTLoss"]


class HausdorffDTLoss(RegisteredLoss, loss="hausdorff_dt_loss"):
    """Hausdorff distance-transform loss as an ``nn.Module``: MONAI's ``HausdorffDTLoss``.

    ``HausdorffDTLoss(from_logits=True, include_background=False)`` equals MONAI 1.6's
    ``HausdorffDTLoss(sigmoid=True)`` (MONAI's default leaves the background out; xploss's
    ``include_background`` is ``True``, as every loss's), values and gradients: one value per
    image and class (``batch=True``: per class), reduced by ``reduction``; ``softmax=True`` is
    ``from_logits="softmax"``, ``other_act=f`` is ``f(input)`` passed as probabilities, and
    ``to_onehot_y``, ``batch``, ``alpha`` keep their names. ``log=True`` is MONAI's
    ``LogHausdorffDTLoss``. ``reduction="none"`` gives ``(B, C)`` where MONAI gives
    ``(B, C, 1, 1)``. Any number of spatial axes (MONAI takes 2 or 3). See
    ``xploss.hausdorff_dt_loss``.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[[[1.0, -1.0], [-1.0, 1.0]]]], requires_grad=True)
        >>> target = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]]])  # (B, C, H, W)
        >>> loss = HausdorffDTLoss(from_logits=True)(logits, target)
        >>> round(loss.item(), 6)  # MONAI's published value
        0.509329
        >>> loss.backward()
    """


class BoundaryLoss(RegisteredLoss, loss="boundary_loss"):
    """Boundary loss (Kervadec et al.) as an ``nn.Module``: the mean of ``φ·p``.

    ``target`` is the signed distance map ``φ`` of ``input``'s shape, precomputed with
    ``xploss.signed_distance_map(labels, axis=(1, 2), num_classes=C, class_axis=1)`` (as the
    authors' data loader does), or labels whose ``φ`` is computed here, on the device: class
    indices ``(B, *spatial)`` (``(B, 1, *spatial)`` with ``to_onehot_y=True``), or a bool or
    integer one-hot target (``F.one_hot``'s, moved to axis 1); a floating target of
    ``input``'s shape is ``φ``. The authors'
    ``SurfaceLoss(idc=[1, ..., C - 1])`` on softmax probabilities is
    ``BoundaryLoss(include_background=False)`` on those probabilities (or
    ``from_logits="softmax"`` on the logits). See ``xploss.boundary_loss``.

    Example:
        >>> import torch
        >>> logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
        >>> labels = torch.zeros(2, 8, 8, dtype=torch.long)
        >>> labels[:, 2:5, 3:6] = 1
        >>> loss = BoundaryLoss(from_logits="softmax", include_background=False)
        >>> loss(logits, labels).backward()
    """
