"""Deep supervision as an ``nn.Module``: one loss over the outputs of several scales."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from xploss._deep_supervision import check_options, supervised_sum


class DeepSupervisionLoss(nn.Module):
    """``Σ_i w_i·loss(input_i, target at scale i)``: MONAI's ``DeepSupervisionLoss`` and
    nnU-Net's ``DeepSupervisionWrapper``.

    Args:
        loss: the loss module of one scale (``DiceCELoss(...)``, or any ``loss(input, target)``
            over channels-first tensors).
        weights: one per output, the full resolution first; by default ``1/2^i`` normalised to
            sum to 1 (nnU-Net). MONAI's ``weight_mode="exp"`` is ``(1, 0.5, 0.25, ...)``
            floored at 1/16; its ``"same"`` is ``(1, 1, ...)``.
        mode: how the target is resized to each output: ``"nearest"`` (the nearest centre,
            MONAI's ``"nearest-exact"``), ``"average"`` (the mean of each block, for soft
            targets) or ``"auto"`` (nearest for labels: integer and bool targets, and floating
            class indices or a floating label map ``(B, 1, *spatial)`` beside a prediction of
            several channels; average for other floating targets).

    ``forward(input, target)`` takes a list or tuple of ``(B, C, *spatial_i)`` outputs (or one
    tensor, the loss itself) and the full-resolution target.

    Example:
        >>> import torch
        >>> from xploss.torch import DiceCELoss
        >>> loss = DeepSupervisionLoss(DiceCELoss(from_logits="softmax"))
        >>> outputs = [torch.zeros(2, 3, 8, 8), torch.zeros(2, 3, 4, 4)]
        >>> labels = torch.zeros(2, 8, 8, dtype=torch.long)
        >>> float(loss(outputs, labels)) > 0
        True
    """

    def __init__(
        self, loss: nn.Module, *, weights: Sequence[float] | None = None, mode: str = "auto"
    ) -> None:
        super().__init__()
        check_options(weights, mode)
        self.loss, self.weights, self.mode = loss, weights, mode

    def forward(
        self, input: torch.Tensor | Sequence[torch.Tensor], target: torch.Tensor
    ) -> torch.Tensor:
        total: torch.Tensor = supervised_sum(
            self._scale_loss,
            target,
            input,
            weights=self.weights,
            mode=self.mode,
            class_axis=1,
            name="input",
        )
        return total

    def _scale_loss(self, target: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The loss of one scale: the module's ``loss(input, target)`` order."""
        value: torch.Tensor = self.loss(output, target)
        return value

    def extra_repr(self) -> str:
        return f"weights={self.weights}, mode={self.mode!r}"
