"""Options of the clDice family: ``soft_cldice_loss`` and ``soft_dice_cldice_loss`` (MONAI's
``SoftclDiceLoss`` and ``SoftDiceclDiceLoss``, with MONAI's defaults)."""

from __future__ import annotations

from xploss._options import Axes, Classes, Options, Reduced, Smoothing, Synced, option, record
from xploss._validators import axis, flag, integer, nonnegative, smoothing_factor

SPATIAL_DOC = "the axes the soft skeleton runs over (None: every axis but axis 0 and class_axis)"


@record
class Skeleton(Options):
    spatial_axes: int | tuple[int, ...] | None = option(None, axis, SPATIAL_DOC)
    iter_: int = option(3, integer, "the soft skeleton's iterations (erosions), an int >= 0")
    smooth: float = option(1e-4, nonnegative, "added to the denominator of the harmonic mean")
    pool_classes: bool = option(
        True, flag, "sum over class_axis too: one clDice of all the classes (MONAI, the authors)"
    )

    def check_together(self) -> None:
        super().check_together()
        if self.iter_ < 0:
            raise ValueError(
                f"iter_={self.iter_!r} must be an int >= 0: the number of soft erosions of the "
                "skeleton (MONAI's default is 3)."
            )


@record
class ClDiceOptions(Synced, Reduced, Skeleton, Smoothing, Classes, Axes):
    """``soft_cldice_loss``: MONAI's smoothing of the two ratios, 1 and 1."""

    smooth_nr: float = option(1.0, nonnegative, "added to the numerators of Tprec and Tsens")
    smooth_dr: float = option(1.0, nonnegative, "added to the denominators of Tprec and Tsens")


@record
class ClDiceWeight(Options):
    alpha: float = option(
        0.5, smoothing_factor, "in [0, 1]: (1 - alpha)·Dice loss + alpha·clDice loss"
    )


@record
class DiceClDiceOptions(ClDiceWeight, ClDiceOptions):
    """``soft_dice_cldice_loss``: the Dice term takes the same smoothing (MONAI's)."""

    smooth_nr: float = option(1.0, nonnegative, "added to the numerators (Dice, Tprec, Tsens)")
    smooth_dr: float = option(1.0, nonnegative, "added to the denominators (Dice, Tprec, Tsens)")
