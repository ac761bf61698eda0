"""``nn.Module`` losses, declared from the registry: ``loss(input, target)``, channels-first.

The modules follow PyTorch's conventions: ``forward(input, target)`` (prediction first),
channels-first tensors ``(B, C, *spatial)`` (``class_axis=1``) and, by default, one score per image
and class (the spatial axes are reduced; ``batch=True`` reduces the batch axis too). Every score is
computed by the core; a module only chooses axes and converts MONAI-style options. The
default axes are every axis but the batch and class axes, wherever ``class_axis`` puts the
classes (``class_axis=-1`` takes ``(B, *spatial, C)``); an input with no spatial axis, ``(B, C)``,
is reduced over the batch (one score per class, as ``batch=True``). ``reduction="none"``
returns the per-image, per-class values ``(B, C)`` (``(C,)`` with ``batch=True``; one per image
for the generalized Dice): the reduced axes are dropped, where MONAI keeps them as singletons,
``(B, C, 1, 1)``. A tensor ``weight`` is a buffer in the ``state_dict``, as in PyTorch's and
MONAI's losses.

MONAI users: ``sigmoid=True`` is ``from_logits=True``, ``softmax=True`` is
``from_logits="softmax"``, ``squared_pred`` is ``squared``, ``batch``, ``include_background``,
``to_onehot_y``, ``ignore_index``, ``soft_label`` and ``smooth_nr``/``smooth_dr`` keep their names;
``include_background=False`` weighs class 0 by 0 (on a single channel it is ignored, with
MONAI's warning) and takes MONAI's ``weight`` of C - 1 entries as well as C; ``ignore_index``
masks the pixels of that class in a one-hot target, as MONAI's metrics do.
``weight`` is a normalised weighted mean here (MONAI multiplies and then takes a plain mean, which
lets a weight above 1 push the loss above 1: MONAI's value is xploss's times ``mean(weight)``).
``DiceLoss(jaccard=True, smooth_nr=a, smooth_dr=b)`` is ``JaccardLoss(smooth_nr=a / 2,
smooth_dr=b / 2)``; ``TverskyLoss`` has MONAI's arguments and values.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from xploss._checks import normalize_class_axis
from xploss._options import Options, option, record
from xploss._registry import LOSSES, Adapter, Loss
from xploss._validators import flag
from xploss.torch._module import RegisteredModule

__all__ = [
    "BCEDiceLoss",
    "DiceLoss",
    "FocalTverskyLoss",
    "GeneralizedDiceLoss",
    "JaccardLoss",
    "TverskyLoss",
]


@record
class ChannelsFirst(Options):
    """What a PyTorch (MONAI) user says about the axes and the labels."""

    batch: bool = option(False, flag, "reduce the batch axis too (nnU-Net's batch Dice)")
    to_onehot_y: bool = option(False, flag, "the target is a (B, 1, *spatial) label map")


def reduced_axes(ndim: int, *, batch: bool, axis: Any, class_axis: int = 1) -> Any:
    """The explicit ``axis``, or every axis but the batch (axis 0) and the class axis, wherever
    that is: the spatial axes of ``(B, C, *spatial)`` and of ``(B, *spatial, C)``; with
    ``batch``, the batch axis too."""
    if axis is not None:
        return axis
    classes = normalize_class_axis(class_axis, (None,) * ndim)
    kept = {classes} if batch else {0, classes}
    return tuple(a for a in range(ndim) if a not in kept)


class RegisteredLoss(RegisteredModule):
    """A loss of the registry as a module: ``class DiceLoss(RegisteredLoss, loss="dice_loss")``.

    The constructor takes the core function's options (``class_axis`` defaults to 1) and the
    channels-first ones of ``ChannelsFirst``; ``forward(input, target)`` calls the core.
    """

    entry: ClassVar[Loss]

    def __init_subclass__(cls, *, loss: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if loss:
            cls.entry = LOSSES[loss]
            cls.declare(cls.entry.options, Adapter(own=ChannelsFirst, defaults={"class_axis": 1}))

    def _register_tensors(self, options: Options) -> Options:
        # Buffers in the state dict, as PyTorch's and MONAI's losses keep their weights: a
        # checkpoint with them loads strictly, and ``module.to`` moves them.
        tensors = {k: v for k, v in options.items() if isinstance(v, torch.Tensor)}
        for name, tensor in tensors.items():
            self.register_buffer(name, tensor.detach().clone())
        return options.updated(dict.fromkeys(tensors)) if tensors else options

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The loss of ``input`` (``(B, C, *spatial)``) against ``target``; ``mask`` (of the
        target's or the input's shape, or broadcasting to it) leaves out the elements where it
        is 0, or weighs them (a weight map)."""
        own, options = self.torch_options, self.options
        if own.to_onehot_y:  # MONAI's label maps carry a singleton channel: (B, 1, *spatial)
            target = target.squeeze(options.class_axis)
        # (B, C): no spatial axis to sum per image, so the sums run over the batch.
        batch = own.batch or input.ndim == 2
        axes = reduced_axes(
            input.ndim, batch=batch, axis=options.axis, class_axis=options.class_axis
        )
        changes: dict[str, Any] = {"axis": axes, **self._buffers}
        value: torch.Tensor = self.entry.compute(target, input, options.updated(changes), mask)
        return value

    def _shown_options(self) -> dict[str, Any]:
        shown = super()._shown_options()
        shown.update(self._buffers)
        return shown


class DiceLoss(RegisteredLoss, loss="dice_loss"):
    """Dice loss ``1 - D`` (or ``-log D``) as an ``nn.Module``: ``loss(input, target)``.

    ``input`` is ``(B, C, *spatial)``: probabilities, or logits with ``from_logits``. ``target``
    has the same shape, or holds class indices ``(B, *spatial)`` (``(B, 1, *spatial)`` with
    ``to_onehot_y=True``), integers or floats with integral values; for a single-channel input
    ``(B, 1, *spatial)``, a ``(B, *spatial)`` target is that channel's mask (bool, integer or
    soft). ``ignore_index`` is compared exactly whatever the target's integer dtype. One Dice
    per image and class, averaged (MONAI's default); ``batch=True`` sums the batch too
    (nnU-Net's batch Dice); ``axis`` overrides both. Every option of ``xploss.dice_loss`` is
    available.

    Example:
        >>> import torch
        >>> loss = DiceLoss(from_logits="softmax")
        >>> logits = torch.zeros(2, 3, 4, 4, requires_grad=True)
        >>> labels = torch.zeros(2, 4, 4, dtype=torch.long)
        >>> loss(logits, labels).backward()
    """


class JaccardLoss(RegisteredLoss, loss="jaccard_loss"):
    """Jaccard (soft IoU) loss ``1 - J`` (or ``-log J``) as an ``nn.Module``: ``DiceLoss``'s
    options and axes, ``xploss.jaccard_loss``'s formula.

    MONAI's ``DiceLoss(jaccard=True, smooth_nr=a, smooth_dr=b)`` is
    ``JaccardLoss(smooth_nr=a / 2, smooth_dr=b / 2)`` (MONAI doubles numerator and
    denominator); segmentation_models_pytorch's ``JaccardLoss(mode="multiclass", smooth=s)``
    is ``JaccardLoss(batch=True, smooth_nr=s, smooth_dr=s, from_logits="softmax")`` for the
    classes present in the batch. ``soft_label=True`` is Wang et al.'s Jaccard metric loss.

    Example:
        >>> import torch
        >>> loss = JaccardLoss(smooth_nr=0, smooth_dr=0)
        >>> probs = torch.tensor([[[0.9, 0.2], [0.6, 0.3]]])  # (B, C, W) = (1, 2, 2)
        >>> labels = torch.tensor([[0, 1]])  # class indices (B, W)
        >>> float(loss(probs, labels))  # 1 - mean(0.9 / 1.2, 0.3 / 1.6)
        0.53125
    """


class BCEDiceLoss(RegisteredLoss, loss="bce_dice_loss"):
    """``bce_weight·BCE - dice_weight·log D`` (or ``+ dice_weight·(1 - D)``) as an ``nn.Module``.

    The same axes and options as ``DiceLoss``; see ``xploss.bce_dice_loss``. MONAI's
    ``DiceCELoss(sigmoid=True, lambda_ce=a, lambda_dice=b)`` is
    ``BCEDiceLoss(from_logits=True, bce_weight=a, dice_weight=b, log_dice=False)``.

    Example:
        >>> import torch
        >>> loss = BCEDiceLoss(smooth_nr=0, smooth_dr=0)
        >>> probs = torch.tensor([[[0.9, 0.2, 0.6, 0.3]]])  # (B, C, W) = (1, 1, 4)
        >>> target = torch.tensor([[[1.0, 0.0, 1.0, 1.0]]])
        >>> round(float(loss(probs, target)), 4)  # BCE 0.5108 - log(Dice 0.72)
        0.8393
    """


class GeneralizedDiceLoss(RegisteredLoss, loss="generalized_dice_loss"):
    """Generalized Dice loss (Sudre et al. 2017) as an ``nn.Module``: one score per image over
    the classes on axis 1 (``batch=True``: one for the batch). See
    ``xploss.generalized_dice_loss``; MONAI's ``w_type`` is ``weight_type``.

    Example: two classes of equal volume get equal weights.

        >>> import torch
        >>> loss = GeneralizedDiceLoss(smooth_nr=0, smooth_dr=0)
        >>> probs = torch.tensor([[[0.8, 0.1], [0.2, 0.9]]])  # (B, C, W) = (1, 2, 2)
        >>> labels = torch.tensor([[0, 1]])  # class indices (B, W)
        >>> round(float(loss(probs, labels)), 4)  # 1 - 2·(0.8 + 0.9) / (2 + 2)
        0.15
    """


class TverskyLoss(RegisteredLoss, loss="tversky_loss"):
    """Tversky loss ``1 - S`` as an ``nn.Module``, with MONAI's ``TverskyLoss`` arguments.

    ``alpha`` weighs the false positives and ``beta`` the false negatives (as MONAI, smp and the
    paper; Keras 3.15 has them swapped). The axes and the other options are ``DiceLoss``'s; see
    ``xploss.tversky_loss``.

    Example:
        >>> import torch
        >>> loss = TverskyLoss(alpha=0.3, beta=0.7, smooth_nr=0, smooth_dr=0)
        >>> probs = torch.tensor([[[0.9, 0.2, 0.6, 0.3]]])  # (B, C, W) = (1, 1, 4)
        >>> target = torch.tensor([[[1.0, 0.0, 1.0, 1.0]]])
        >>> round(float(loss(probs, target)), 6)  # 1 - 1.8 / (1.8 + 0.3·0.2 + 0.7·1.2)
        0.333333
    """


class FocalTverskyLoss(RegisteredLoss, loss="focal_tversky_loss"):
    """Focal Tversky loss ``(1 - S)^gamma`` (Abraham and Khan 2019) as an ``nn.Module``.

    ``gamma`` is the exponent itself (the paper's ``1/γ``); the defaults ``alpha=0.3,
    beta=0.7, gamma=0.75`` are the authors' code. Every other keyword is ``TverskyLoss``'s; see
    ``xploss.focal_tversky_loss``. segmentation_models_pytorch's ``TverskyLoss(gamma=g)`` raises
    the mean over the classes to ``g``; this raises each image's and class's ``1 - S``.

    Example:
        >>> import torch
        >>> loss = FocalTverskyLoss(smooth_nr=0, smooth_dr=0)
        >>> probs = torch.tensor([[[0.9, 0.2, 0.6, 0.3]]])  # (B, C, W) = (1, 1, 4)
        >>> target = torch.tensor([[[1.0, 0.0, 1.0, 1.0]]])
        >>> round(float(loss(probs, target)), 6)  # (1 - 2/3)^0.75
        0.438691
    """


class BinaryCrossEntropyLoss(RegisteredLoss, loss="binary_cross_entropy"):
    """Binary cross-entropy as an ``nn.Module``, averaged per image and class, then reduced.

    ``from_logits=True`` is ``nn.BCEWithLogitsLoss`` (the stable softplus form); probabilities
    are clipped to ``[1e-7, 1 - 1e-7]`` as in Keras. See ``xploss.binary_cross_entropy``.

    Example:
        >>> import torch
        >>> loss = BinaryCrossEntropyLoss(from_logits=True)
        >>> logits = torch.tensor([[[2.0, -1.0, 0.5, -0.5]]])  # (B, C, W) = (1, 1, 4)
        >>> target = torch.tensor([[[1.0, 0.0, 1.0, 1.0]]])
        >>> expected = torch.nn.BCEWithLogitsLoss()(logits, target)
        >>> bool(torch.isclose(loss(logits, target), expected))
        True
    """
