"""Deep supervision as an ``nn.Module``: one loss over the outputs of several scales."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from xploss._deep_supervision import MODES, resized_target, scale_weights, target_shape


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
            targets) or ``"auto"`` (nearest for integer and bool targets, average for floating
            ones; a floating label map ``(B, 1, *spatial)`` beside a prediction of several
            channels counts as labels).

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
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, MODES))}.")
        if weights is not None:
            scale_weights(weights, len(weights))
        self.loss, self.weights, self.mode = loss, weights, mode

    def forward(
        self, input: torch.Tensor | Sequence[torch.Tensor], target: torch.Tensor
    ) -> torch.Tensor:
        outputs = [input] if isinstance(input, torch.Tensor) else list(input)
        if not outputs:
            raise ValueError("input holds no output: give one tensor per decoder scale.")
        factors = scale_weights(self.weights, len(outputs))
        mode = self.mode
        if mode == "auto" and target.ndim == outputs[0].ndim and target.shape[1] == 1:
            mode = "nearest" if outputs[0].shape[1] > 1 else "auto"  # a label map
        total: torch.Tensor | None = None
        for factor, output in zip(factors, outputs, strict=True):
            scaled = resized_target(target, target_shape(target, output, 1), mode=mode)
            term: torch.Tensor = factor * self.loss(output, scaled)
            total = term if total is None else total + term
        assert total is not None
        return total

    def extra_repr(self) -> str:
        return f"weights={self.weights}, mode={self.mode!r}"
