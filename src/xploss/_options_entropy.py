"""Options of the cross-entropy family: cross-entropy, focal loss and the compounds of a
cross-entropy term and an overlap term (``_options.py`` holds the groups they share)."""

from __future__ import annotations

from xploss._options import (
    Axes,
    Classes,
    GeneralizedWeights,
    IgnoreIndex,
    LabelSmoothing,
    LogPenalty,
    Options,
    Reduced,
    Smoothing,
    SoftLabel,
    Squared,
    Synced,
    Weighted,
    ZeroDivision,
    option,
    record,
)
from xploss._validators import exclusive_activation, flag, nonnegative, weights

CLASS_WEIGHT_DOC = "one weight per class on class_axis (or one for all); the mean is Σw·ℓ / Σw"


@record
class ExclusiveAxes(Axes):
    from_logits: bool | str = option(
        False, exclusive_activation, "False (probabilities), or True / 'softmax' (logits)"
    )


@record
class ClassWeighted(Options):
    weight: object = option(None, weights, CLASS_WEIGHT_DOC)


@record
class Exclusive(Options):
    exclusive: bool = option(
        False, flag, "probabilities of exclusive classes (the categorical form); implied by softmax"
    )

    def check_together(self) -> None:
        super().check_together()
        logits = getattr(self, "from_logits", False)
        if self.exclusive and logits in (True, "sigmoid"):
            raise ValueError(
                f"exclusive=True takes mutually exclusive classes, but from_logits={logits!r} "
                "applies a sigmoid to each channel on its own: pass from_logits='softmax' for "
                "the categorical form, or exclusive=False for the binary one."
            )


@record
class FocalFactors(Options):
    gamma: float = option(2.0, nonnegative, "the exponent of the modulating factor (1 - p_t)")
    alpha: object = option(
        None, weights, "the weight of the positives (1 - alpha of the negatives), or per class"
    )


@record
class CrossEntropyFactors(Options):
    lambda_ce: float = option(1.0, nonnegative, "the factor of the cross-entropy term")


@record
class FocalFactor(Options):
    lambda_focal: float = option(1.0, nonnegative, "the factor of the focal term")


@record
class DiceFactor(Options):
    lambda_dice: float = option(1.0, nonnegative, "the factor of the Dice term")


@record
class CrossEntropyOptions(Synced, LabelSmoothing, ClassWeighted, Reduced, IgnoreIndex,
                          ExclusiveAxes):  # fmt: skip
    """``cross_entropy``."""


@record
class FocalOptions(Synced, Weighted, Reduced, LabelSmoothing, Exclusive, FocalFactors, Classes,
                   Axes):  # fmt: skip
    """``focal_loss``."""


@record
class DiceCEOptions(CrossEntropyFactors, DiceFactor, LabelSmoothing, Exclusive, LogPenalty, Synced,
                    ZeroDivision, Weighted, Reduced, SoftLabel, Squared, Smoothing, Classes,
                    Axes):  # fmt: skip
    """``dice_ce_loss``: ``weight`` weighs the classes of both terms, as MONAI's."""


@record
class DiceFocalOptions(FocalFactor, DiceFactor, LabelSmoothing, Exclusive, FocalFactors,
                       LogPenalty, Synced, ZeroDivision, Weighted, Reduced, SoftLabel, Squared,
                       Smoothing, Classes, Axes):  # fmt: skip
    """``dice_focal_loss``."""


@record
class GeneralizedDiceFocalOptions(FocalFactor, DiceFactor, LabelSmoothing, Exclusive,
                                  FocalFactors, Weighted, Synced, Reduced, Smoothing,
                                  GeneralizedWeights, Classes, Axes):  # fmt: skip
    """``generalized_dice_focal_loss``: ``weight`` is the focal term's (as ``focal_loss``'s)."""
