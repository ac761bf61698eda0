"""PyTorch adapter: ``nn.Module`` losses and stateful metrics over the functional core.

The modules follow PyTorch's conventions: ``forward(input, target)`` (prediction first),
channels-first tensors ``(B, C, *spatial)`` (``class_axis=1``) and, by default, one Dice per image
and class (the spatial axes are reduced; ``batch=True`` reduces the batch axis too). Every score is
computed by the core; this module only chooses axes and converts MONAI-style options.

MONAI users: ``sigmoid=True`` is ``from_logits=True``, ``softmax=True`` is
``from_logits="softmax"``, ``squared_pred`` is ``squared``, ``batch``, ``include_background``,
``to_onehot_y``, ``ignore_index``, ``soft_label`` and ``smooth_nr``/``smooth_dr`` keep their names;
``weight`` is a normalised weighted mean here (MONAI multiplies and then takes a plain mean, which
lets a weight above 1 push the loss above 1: MONAI's value is xploss's times ``mean(weight)``).
``DiceLoss(jaccard=True, smooth_nr=a, smooth_dr=b)`` is ``JaccardLoss(smooth_nr=a / 2,
smooth_dr=b / 2)``; ``TverskyLoss`` has MONAI's arguments and values.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat.torch as compat_namespace
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from xploss import _checks
from xploss._losses import (
    bce_dice_loss,
    dice_loss,
    focal_tversky_loss,
    generalized_dice_loss,
    jaccard_loss,
    tversky_loss,
)
from xploss._namespace import register_namespace
from xploss._scores import dice_score, jaccard_score, precision_score, true_positive_score
from xploss._statistics import OverlapStats, overlap_stats

__all__ = [
    "BCEDiceLoss",
    "DiceCoefficient",
    "DiceLoss",
    "FocalTverskyLoss",
    "GeneralizedDiceLoss",
    "JaccardIndex",
    "JaccardLoss",
    "Precision",
    "TruePositiveRate",
    "TverskyLoss",
    "all_reduce",
]

# array-api-compat's namespace plus PyTorch's fused softplus, which the core uses where a
# namespace has one: one kernel instead of seven elementwise passes, about 3× faster forward and
# backward (benchmarks/results/causes.md). Above the threshold softplus(z) is z to within e^-50.
torch_namespace = types.ModuleType("xploss.torch.namespace")
vars(torch_namespace).update(vars(compat_namespace))
torch_namespace.__name__ = "xploss.torch.namespace"
torch_namespace.softplus = functools.partial(F.softplus, threshold=50.0)  # type: ignore[attr-defined]
register_namespace(torch.Tensor, torch_namespace)
register_namespace(nn.Parameter, torch_namespace)

Axis = int | tuple[int, ...] | None
ClassWeight = Sequence[float] | torch.Tensor | None


def reduced_axes(ndim: int, *, batch: bool, axis: Axis) -> Axis:
    """The explicit ``axis``, or the spatial axes of ``(B, C, *spatial)`` (and the batch axis)."""
    if axis is not None:
        return axis
    spatial = tuple(range(2, ndim))
    return (0, *spatial) if batch else spatial


class _AllReduce(torch.autograd.Function):
    """A sum over the default process group whose gradient is the sum of the gradients."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total


def all_reduce(stats: OverlapStats) -> OverlapStats:
    """Sum the statistics over every rank of the default process group, with gradients.

    Pass it as ``all_reduce=xploss.torch.all_reduce`` to make a Dice over the global batch exact
    under DistributedDataParallel. Without an initialised process group it returns ``stats``.

    Example:
        >>> import torch
        >>> loss = DiceLoss(batch=True, all_reduce=all_reduce)  # the Dice of the global batch
        >>> stats = overlap_stats(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.2]))
        >>> all_reduce(stats) is stats  # no process group: one process holds the whole batch
        True
    """
    if not (dist.is_available() and dist.is_initialized()):
        return stats
    return OverlapStats(*(_AllReduce.apply(s) for s in stats))  # type: ignore[no-untyped-call]


class _OverlapLoss(nn.Module):
    """Options shared by the losses, and the conversion of MONAI-style arguments."""

    def __init__(
        self,
        *,
        batch: bool,
        axis: Axis,
        class_axis: int,
        from_logits: bool | str,
        include_background: bool,
        to_onehot_y: bool,
        ignore_index: int | None,
        reduction: str,
        all_reduce: Callable[[OverlapStats], OverlapStats] | None,
    ) -> None:
        super().__init__()
        _checks.check_activation(from_logits)
        _checks.check_choice(reduction, "reduction", _checks.REDUCTIONS)
        _checks.check_callable(all_reduce, "all_reduce")
        self.batch = _checks.check_flag(batch, "batch")
        self.axis = axis
        self.class_axis = class_axis
        self.from_logits = from_logits
        self.include_background = _checks.check_flag(include_background, "include_background")
        self.to_onehot_y = _checks.check_flag(to_onehot_y, "to_onehot_y")
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.all_reduce = all_reduce

    def _target_and_mask(self, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.to_onehot_y:  # MONAI's label maps carry a singleton channel: (B, 1, *spatial)
            target = target.squeeze(self.class_axis)
        mask = None if self.ignore_index is None else target != self.ignore_index
        return target, mask

    def _compute_loss(
        self, loss: Callable[..., Any], input: torch.Tensor, target: torch.Tensor, **options: Any
    ) -> torch.Tensor:
        """``loss(target, input, ...)`` with the axes, mask and options every module shares."""
        target, mask = self._target_and_mask(target)
        value: torch.Tensor = loss(
            target,
            input,
            axis=reduced_axes(input.ndim, batch=self.batch, axis=self.axis),
            class_axis=self.class_axis,
            from_logits=self.from_logits,
            mask=mask,
            reduction=self.reduction,
            all_reduce=self.all_reduce,
            **options,
        )
        return value

    def _background_weight(self, input: torch.Tensor, weight: Any) -> Any:
        """Class weights with the background class (index 0) weighted 0 when it is excluded."""
        if self.include_background:
            return weight
        if isinstance(weight, torch.Tensor):
            return torch.cat([weight[:1] * 0, weight[1:]])
        classes = weight or (1.0,) * input.shape[self.class_axis]
        return (0.0, *classes[1:])

    def _common_repr(self) -> list[str]:
        parts = [f"batch={self.batch}", f"from_logits={self.from_logits!r}"]
        if self.axis is not None:
            parts.append(f"axis={self.axis}")
        if self.class_axis != 1:
            parts.append(f"class_axis={self.class_axis}")
        if not self.include_background:
            parts.append("include_background=False")
        if self.to_onehot_y:
            parts.append("to_onehot_y=True")
        if self.ignore_index is not None:
            parts.append(f"ignore_index={self.ignore_index}")
        parts.append(f"reduction={self.reduction!r}")
        return parts


def _store_weight(module: nn.Module, weight: ClassWeight) -> None:
    # A tensor becomes a buffer, so that module.to(device) moves it.
    if isinstance(weight, torch.Tensor):
        module.register_buffer("weight", weight.detach().clone(), persistent=False)
    else:
        classes = None if weight is None else tuple(float(w) for w in weight)
        module.weight = classes  # type: ignore[assignment]


class DiceLoss(_OverlapLoss):
    """Dice loss ``1 - D`` (or ``-log D``) as an ``nn.Module``: ``loss(input, target)``.

    ``input`` is ``(B, C, *spatial)``: probabilities, or logits with ``from_logits``. ``target``
    has the same shape, or holds class indices ``(B, *spatial)`` (``(B, 1, *spatial)`` with
    ``to_onehot_y=True``). One Dice per image and class, averaged (MONAI's default); ``batch=True``
    sums the batch too (nnU-Net's batch Dice); ``axis`` overrides both. Every option of
    ``xploss.dice_loss`` is available.

    Example:
        >>> import torch
        >>> loss = DiceLoss(from_logits="softmax")
        >>> logits = torch.zeros(2, 3, 4, 4, requires_grad=True)
        >>> labels = torch.zeros(2, 4, 4, dtype=torch.long)
        >>> loss(logits, labels).backward()
    """

    def __init__(
        self,
        *,
        batch: bool = False,
        axis: Axis = None,
        class_axis: int = 1,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        squared: bool = False,
        soft_label: bool = False,
        from_logits: bool | str = False,
        threshold: float | None = None,
        weight: ClassWeight = None,
        include_background: bool = True,
        to_onehot_y: bool = False,
        ignore_index: int | None = None,
        zero_division: float = 1.0,
        reduction: str = "mean",
        log: bool = False,
        all_reduce: Callable[[OverlapStats], OverlapStats] | None = None,
    ) -> None:
        super().__init__(
            batch=batch,
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            include_background=include_background,
            to_onehot_y=to_onehot_y,
            ignore_index=ignore_index,
            reduction=reduction,
            all_reduce=all_reduce,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
        self.squared = _checks.check_flag(squared, "squared")
        self.soft_label = _checks.check_flag(soft_label, "soft_label")
        self.threshold = threshold
        self.zero_division = zero_division
        self.log = _checks.check_flag(log, "log")
        _store_weight(self, weight)

    @staticmethod
    def _loss(y_true: torch.Tensor, y_pred: torch.Tensor, **options: Any) -> torch.Tensor:
        return dice_loss(y_true, y_pred, **options)  # type: ignore[no-any-return]

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._compute_loss(
            self._loss,
            input,
            target,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            squared=self.squared,
            soft_label=self.soft_label,
            threshold=self.threshold,
            weight=self._background_weight(input, self.weight),
            zero_division=self.zero_division,
            log=self.log,
        )

    def extra_repr(self) -> str:
        parts = self._common_repr()
        parts.append(f"smooth_nr={self.smooth_nr:g}, smooth_dr={self.smooth_dr:g}")
        if self.squared:
            parts.append("squared=True")
        if self.soft_label:
            parts.append("soft_label=True")
        if self.log:
            parts.append("log=True")
        return ", ".join(parts)


class JaccardLoss(DiceLoss):
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

    @staticmethod
    def _loss(y_true: torch.Tensor, y_pred: torch.Tensor, **options: Any) -> torch.Tensor:
        return jaccard_loss(y_true, y_pred, **options)  # type: ignore[no-any-return]


class BCEDiceLoss(_OverlapLoss):
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

    def __init__(
        self,
        *,
        batch: bool = False,
        axis: Axis = None,
        class_axis: int = 1,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        from_logits: bool | str = False,
        bce_weight: float = 1.0,
        dice_weight: float = 1.0,
        log_dice: bool = True,
        weight: ClassWeight = None,
        include_background: bool = True,
        to_onehot_y: bool = False,
        ignore_index: int | None = None,
        reduction: str = "mean",
        all_reduce: Callable[[OverlapStats], OverlapStats] | None = None,
    ) -> None:
        super().__init__(
            batch=batch,
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            include_background=include_background,
            to_onehot_y=to_onehot_y,
            ignore_index=ignore_index,
            reduction=reduction,
            all_reduce=all_reduce,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
        self.bce_weight = _checks.check_nonnegative(bce_weight, "bce_weight")
        self.dice_weight = _checks.check_nonnegative(dice_weight, "dice_weight")
        self.log_dice = _checks.check_flag(log_dice, "log_dice")
        _store_weight(self, weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._compute_loss(
            bce_dice_loss,
            input,
            target,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            bce_weight=self.bce_weight,
            dice_weight=self.dice_weight,
            log_dice=self.log_dice,
            weight=self._background_weight(input, self.weight),
        )

    def extra_repr(self) -> str:
        parts = self._common_repr()
        parts.append(f"smooth_nr={self.smooth_nr:g}, smooth_dr={self.smooth_dr:g}")
        parts.append(f"bce_weight={self.bce_weight:g}, dice_weight={self.dice_weight:g}")
        parts.append(f"log_dice={self.log_dice}")
        return ", ".join(parts)


class GeneralizedDiceLoss(_OverlapLoss):
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

    def __init__(
        self,
        *,
        batch: bool = False,
        axis: Axis = None,
        class_axis: int = 1,
        weight_type: str = "square",
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        from_logits: bool | str = False,
        to_onehot_y: bool = False,
        ignore_index: int | None = None,
        reduction: str = "mean",
        all_reduce: Callable[[OverlapStats], OverlapStats] | None = None,
    ) -> None:
        super().__init__(
            batch=batch,
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            include_background=True,
            to_onehot_y=to_onehot_y,
            ignore_index=ignore_index,
            reduction=reduction,
            all_reduce=all_reduce,
        )
        self.weight_type = _checks.check_choice(weight_type, "weight_type", _checks.WEIGHT_TYPES)
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._compute_loss(
            generalized_dice_loss,
            input,
            target,
            weight_type=self.weight_type,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
        )

    def extra_repr(self) -> str:
        parts = self._common_repr()
        parts.append(f"weight_type={self.weight_type!r}")
        parts.append(f"smooth_nr={self.smooth_nr:g}, smooth_dr={self.smooth_dr:g}")
        return ", ".join(parts)


class TverskyLoss(_OverlapLoss):
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

    def __init__(
        self,
        *,
        batch: bool = False,
        axis: Axis = None,
        class_axis: int = 1,
        alpha: float = 0.5,
        beta: float = 0.5,
        smooth_nr: float = 1e-5,
        smooth_dr: float = 1e-5,
        soft_label: bool = False,
        from_logits: bool | str = False,
        weight: ClassWeight = None,
        include_background: bool = True,
        to_onehot_y: bool = False,
        ignore_index: int | None = None,
        zero_division: float = 1.0,
        reduction: str = "mean",
        all_reduce: Callable[[OverlapStats], OverlapStats] | None = None,
    ) -> None:
        super().__init__(
            batch=batch,
            axis=axis,
            class_axis=class_axis,
            from_logits=from_logits,
            include_background=include_background,
            to_onehot_y=to_onehot_y,
            ignore_index=ignore_index,
            reduction=reduction,
            all_reduce=all_reduce,
        )
        self.alpha, self.beta = _checks.check_tversky_weights(alpha, beta)
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")
        self.soft_label = _checks.check_flag(soft_label, "soft_label")
        self.zero_division = zero_division
        _store_weight(self, weight)

    def _loss(self, y_true: torch.Tensor, y_pred: torch.Tensor, **options: Any) -> torch.Tensor:
        return tversky_loss(y_true, y_pred, **options)  # type: ignore[no-any-return]

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._compute_loss(
            self._loss,
            input,
            target,
            alpha=self.alpha,
            beta=self.beta,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            soft_label=self.soft_label,
            weight=self._background_weight(input, self.weight),
            zero_division=self.zero_division,
        )

    def extra_repr(self) -> str:
        parts = self._common_repr()
        parts.append(f"alpha={self.alpha:g}, beta={self.beta:g}")
        parts.append(f"smooth_nr={self.smooth_nr:g}, smooth_dr={self.smooth_dr:g}")
        if self.soft_label:
            parts.append("soft_label=True")
        return ", ".join(parts)


class FocalTverskyLoss(TverskyLoss):
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

    def __init__(
        self, *, alpha: float = 0.3, beta: float = 0.7, gamma: float = 0.75, **options: Any
    ) -> None:
        super().__init__(alpha=alpha, beta=beta, **options)
        self.gamma = _checks.check_positive(gamma, "gamma")

    def _loss(self, y_true: torch.Tensor, y_pred: torch.Tensor, **options: Any) -> torch.Tensor:
        return focal_tversky_loss(  # type: ignore[no-any-return]
            y_true, y_pred, gamma=self.gamma, **options
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, gamma={self.gamma:g}"


class _OverlapMetric(nn.Module):
    """Accumulates additive statistics per class, in float64 on the inputs' device.

    ``average="micro"`` sums ``tp``, ``Σy`` and ``Σp`` over every image seen and takes one ratio
    per class: the dataset value. ``"macro"`` averages the per-image values. ``compute`` sums the
    state over the ranks of an initialised process group first, so the value is exact under DDP.
    The class scores are then averaged (``reduction="mean"``) or returned (``"none"``).
    """

    def __init__(
        self,
        *,
        average: str,
        class_axis: int,
        from_logits: bool | str,
        threshold: float | None,
        zero_division: float,
        reduction: str,
        sync_on_compute: bool,
    ) -> None:
        super().__init__()
        self.average = _checks.check_choice(average, "average", ("micro", "macro"))
        self.reduction = _checks.check_choice(reduction, "reduction", ("mean", "none"))
        _checks.check_activation(from_logits)
        self.class_axis = class_axis
        self.from_logits = from_logits
        self.threshold = threshold
        self.zero_division = _checks.check_real(zero_division, "zero_division")
        self.sync_on_compute = bool(sync_on_compute)
        self.state: torch.Tensor | None
        self.register_buffer("state", None)

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def update(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        """Add a batch: ``input`` ``(B, C, *spatial)``, ``target`` one-hot or class indices."""
        axes = reduced_axes(input.ndim, batch=self.average == "micro", axis=None)
        stats = overlap_stats(
            target,
            input,
            axis=axes,
            class_axis=self.class_axis,
            from_logits=self.from_logits,
            threshold=self.threshold,
            mask=mask,
        )
        stats = OverlapStats(*(s.to(torch.float64) for s in stats))
        if self.average == "micro":
            batch = torch.stack(tuple(stats))  # (3, C)
        else:
            scores = self._score(stats)  # (B, C)
            count = torch.full_like(scores[:1], scores.shape[0])
            batch = torch.cat([scores.sum(0, keepdim=True), count])  # (2, C)
        self.state = batch if self.state is None else self.state + batch

    def compute(self) -> torch.Tensor:
        if self.state is None:
            raise RuntimeError(f"{type(self).__name__}.compute() called before any update()")
        state = self.state
        if self.sync_on_compute and dist.is_available() and dist.is_initialized():
            state = state.clone()
            dist.all_reduce(state, op=dist.ReduceOp.SUM)
        if self.average == "micro":
            per_class = self._score(OverlapStats(*state))
        else:
            per_class = state[0] / state[1]
        return per_class.mean() if self.reduction == "mean" else per_class

    def reset(self) -> None:
        self.state = None

    def forward(
        self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> None:
        self.update(input, target, mask)

    def extra_repr(self) -> str:
        return (
            f"average={self.average!r}, from_logits={self.from_logits!r}, "
            f"threshold={self.threshold}, reduction={self.reduction!r}"
        )


class DiceCoefficient(_OverlapMetric):
    """Stateful Dice metric: ``update(input, target)`` per batch, ``compute()``, ``reset()``.

    Hard by default (``p > 0.5``; ``threshold=None`` for soft Dice) and unsmoothed: a class that is
    empty in both target and prediction scores ``zero_division`` (1).

    Example:
        >>> import torch
        >>> metric = DiceCoefficient()
        >>> metric.update(torch.tensor([[[0.9, 0.2]]]), torch.tensor([[[1, 0]]]))
        >>> metric.update(torch.tensor([[[0.8, 0.6]]]), torch.tensor([[[1, 1]]]))
        >>> float(metric.compute())  # 2·3 / (3 + 3): the dataset value
        1.0
    """

    def __init__(
        self,
        *,
        average: str = "micro",
        class_axis: int = 1,
        from_logits: bool | str = False,
        threshold: float | None = 0.5,
        smooth_nr: float = 0.0,
        smooth_dr: float = 0.0,
        zero_division: float = 1.0,
        reduction: str = "mean",
        sync_on_compute: bool = True,
    ) -> None:
        super().__init__(
            average=average,
            class_axis=class_axis,
            from_logits=from_logits,
            threshold=threshold,
            zero_division=zero_division,
            reduction=reduction,
            sync_on_compute=sync_on_compute,
        )
        self.smooth_nr = _checks.check_nonnegative(smooth_nr, "smooth_nr")
        self.smooth_dr = _checks.check_nonnegative(smooth_dr, "smooth_dr")

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        return dice_score(  # type: ignore[no-any-return]
            stats,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            zero_division=self.zero_division,
            xp=torch_namespace,
        )


class TruePositiveRate(_OverlapMetric):
    """Stateful true-positive rate (recall): ``Σ y·[p > threshold] / Σ y`` over what was seen.

    A class with no positives scores ``zero_division`` (0). See ``DiceCoefficient``.

    Example:
        >>> import torch
        >>> metric = TruePositiveRate()
        >>> metric.update(torch.tensor([[[0.9, 0.4]]]), torch.tensor([[[1, 1]]]))
        >>> metric.update(torch.tensor([[[0.6, 0.2]]]), torch.tensor([[[1, 0]]]))
        >>> round(float(metric.compute()), 4)  # 2 of the 3 positives found
        0.6667
    """

    def __init__(
        self,
        *,
        average: str = "micro",
        class_axis: int = 1,
        from_logits: bool | str = False,
        threshold: float | None = 0.5,
        zero_division: float = 0.0,
        reduction: str = "mean",
        sync_on_compute: bool = True,
    ) -> None:
        super().__init__(
            average=average,
            class_axis=class_axis,
            from_logits=from_logits,
            threshold=threshold,
            zero_division=zero_division,
            reduction=reduction,
            sync_on_compute=sync_on_compute,
        )

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        return true_positive_score(  # type: ignore[no-any-return]
            stats, zero_division=self.zero_division, xp=torch_namespace
        )


class JaccardIndex(DiceCoefficient):
    """Stateful Jaccard index (IoU): ``tp / (Σy + Σp - tp)`` of what was seen, per class.

    ``DiceCoefficient``'s options (hard by default, ``p > 0.5``; unsmoothed; a class empty in
    both target and prediction scores ``zero_division``, 1). ``"micro"`` is the dataset IoU per
    class (TorchMetrics' ``JaccardIndex`` aggregates the same way, but takes the arg-max of
    multi-class inputs and scores an empty class 0); ``"macro"`` the mean of per-image values.

    Example:
        >>> import torch
        >>> metric = JaccardIndex()
        >>> metric.update(torch.tensor([[[0.9, 0.2]]]), torch.tensor([[[1, 0]]]))
        >>> metric.update(torch.tensor([[[0.8, 0.3]]]), torch.tensor([[[1, 1]]]))
        >>> float(metric.compute())  # tp = 2 of a union of 3
        0.6666666666666666
    """

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        return jaccard_score(  # type: ignore[no-any-return]
            stats,
            smooth_nr=self.smooth_nr,
            smooth_dr=self.smooth_dr,
            zero_division=self.zero_division,
            xp=torch_namespace,
        )


class Precision(TruePositiveRate):
    """Stateful precision: ``Σ y·[p > threshold] / Σ [p > threshold]`` over what was seen.

    A class with no positive prediction scores ``zero_division`` (0). See ``TruePositiveRate``.

    Example:
        >>> import torch
        >>> metric = Precision()
        >>> metric.update(torch.tensor([[[0.9, 0.7]]]), torch.tensor([[[1, 0]]]))
        >>> metric.update(torch.tensor([[[0.8, 0.3]]]), torch.tensor([[[1, 1]]]))
        >>> float(metric.compute())  # 2 of the 3 predicted positives
        0.6666666666666666
    """

    def _score(self, stats: OverlapStats) -> torch.Tensor:
        return precision_score(  # type: ignore[no-any-return]
            stats, zero_division=self.zero_division, xp=torch_namespace
        )
