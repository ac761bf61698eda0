"""``nn.Module`` generalized Wasserstein Dice loss, declared from the registry: MONAI's
``GeneralizedWassersteinDiceLoss`` with its arguments, the distance matrix a buffer."""

from __future__ import annotations

from typing import Any

import torch

from xploss._options import Options
from xploss.torch.losses import RegisteredLoss, reduced_axes

__all__ = ["GeneralizedWassersteinDiceLoss"]


class GeneralizedWassersteinDiceLoss(RegisteredLoss, loss="generalized_wasserstein_dice_loss"):
    """Generalized Wasserstein Dice loss (Fidon et al. 2017) as an ``nn.Module``: one score per
    image of ``(B, C, *spatial)`` (``batch=True``: one for the batch), then ``reduction``.

    ``GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode=w, from_logits="softmax")``
    equals MONAI's ``GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode=w)``, whose
    input is always logits; ``reduction="none"`` is its ``(B,)``. As in MONAI a ``(B, C)`` input
    is scored row by row. ``target`` holds class indices ``(B, *spatial)`` (``(B, 1, *spatial)``
    with ``to_onehot_y=True``) or one-hot or soft targets of the input's shape. ``dist_matrix``
    (a ``(C, C)`` tensor, NumPy array or nested list; a list becomes a tensor of the default
    dtype) is the buffer ``dist_matrix`` in the ``state_dict``, so ``module.to`` moves it. See
    ``xploss.generalized_wasserstein_dice_loss``.

    Example:
        >>> import torch
        >>> M = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.5, 0.0]]
        >>> loss = GeneralizedWassersteinDiceLoss(dist_matrix=M, from_logits="softmax")
        >>> logits = 1000 * torch.eye(3).reshape(1, 3, 3)  # (B, C, W): every pixel right
        >>> float(loss(logits, torch.tensor([[0, 1, 2]])))
        0.0
    """

    def _register_tensors(self, options: Options) -> Options:
        matrix = getattr(options, "dist_matrix", None)
        if isinstance(matrix, tuple):  # validated rows: a buffer, as a tensor matrix is
            tensor = torch.tensor(matrix, dtype=torch.get_default_dtype())
            options = options.updated({"dist_matrix": tensor})
        elif matrix is not None and not isinstance(matrix, torch.Tensor):  # NumPy, as MONAI
            options = options.updated({"dist_matrix": torch.as_tensor(matrix)})
        return super()._register_tensors(options)

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The loss of ``input`` (``(B, C, *spatial)``) against ``target``; ``mask`` leaves out
        the elements where it is 0, or weighs them. Unlike the Dice modules, a ``(B, C)`` input
        is not pooled over the batch: MONAI scores each row."""
        own, options = self.torch_options, self.options
        if own.to_onehot_y:
            target = target.squeeze(options.class_axis)
        axes = reduced_axes(
            input.ndim, batch=own.batch, axis=options.axis, class_axis=options.class_axis
        )
        changes: dict[str, Any] = {"axis": axes, **self._buffers}
        value: torch.Tensor = self.entry.compute(target, input, options.updated(changes), mask)
        return value
