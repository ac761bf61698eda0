"""Options layer: every option of every loss and metric, typed, defaulted and validated once.

An option is a dataclass field whose metadata holds its validator; a family's record is a
frozen dataclass composed of the groups of options it takes. Records are validated when they
are built, so the core reads plain, checked Python values and never validates again. The
functional API, the adapters' signatures, reprs and configs are all derived from the records
(``_registry.py``); no option list is written anywhere else. ``_records.py`` is the machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xploss._namespace import Array
from xploss._records import Options as Options  # the machinery, re-exported for the adapters
from xploss._records import field_names as field_names
from xploss._records import option as option
from xploss._records import record as record
from xploss._records import unknown_options as unknown_options
from xploss._validators import (
    REDUCTIONS,
    WEIGHT_TYPES,
    activation,
    axis,
    callable_or_none,
    choice,
    flag,
    integer,
    nonnegative,
    optional_integer,
    positive,
    positive_integer,
    probability_threshold,
    real,
    smoothing_factor,
    weights,
)

THRESHOLD_DOC = "hard predictions: p > threshold, or the arg-max after a softmax"

# Groups of options. A family's record lists the groups it takes; a default that differs from
# the group's is redeclared in the record.


@record
class Axes(Options):
    axis: int | tuple[int, ...] | None = option(
        None, axis, "the axes summed over, as in NumPy (None: every axis)"
    )
    class_axis: int = option(-1, integer, "the class axis (sparse labels, softmax)")
    from_logits: bool | str = option(
        False, activation, "False (probabilities), True or 'sigmoid', or 'softmax'"
    )
    validate: bool = option(
        False, flag, "eagerly, raise if probabilities or targets leave [0, 1] (a pass over each)"
    )


@record
class Background(Options):
    include_background: bool = option(
        True, flag, "False leaves class 0 out (ignored, with a warning, for a single channel)"
    )


@record
class IgnoreIndex(Options):
    ignore_index: int | None = option(
        None, optional_integer, "the elements of this label (or class) are left out of every sum"
    )


@record
class Classes(IgnoreIndex, Background):
    """``include_background`` and ``ignore_index``."""


@record
class Reduced(Options):
    reduction: str = option("mean", choice(*REDUCTIONS), "'mean', 'sum', 'none' or 'per_sample'")


@record
class Weighted(Options):
    weight: Array | float | tuple[float, ...] | None = option(
        None, weights, "non-negative weights broadcast against the per-element result"
    )


@record
class Synced(Options):
    all_reduce: Callable[[Any], Any] | None = option(
        None,
        callable_or_none,
        "sums over the devices: the statistics, or the per-image values' mean",
    )


@record
class Smoothing(Options):
    smooth_nr: float = option(1e-5, nonnegative, "added to the numerator")
    smooth_dr: float = option(1e-5, nonnegative, "added to the denominator")


@record
class ZeroDivision(Options):
    zero_division: float = option(1.0, real, "the value of an exact 0/0")


@record
class SoftLabel(Options):
    soft_label: bool = option(False, flag, "the intersection sum(min(y, p)), exact for soft y")


@record
class Squared(Options):
    squared: bool = option(False, flag, "the V-Net denominator sum(y^2) + sum(p^2)")


@record
class Threshold(Options):
    threshold: float | None = option(None, probability_threshold, THRESHOLD_DOC)


@record
class LogPenalty(Options):
    log: bool = option(False, flag, "-log(S) instead of 1 - S")


@record
class TverskyWeights(Options):
    alpha: float = option(0.5, nonnegative, "the weight of the false positives")
    beta: float = option(0.5, nonnegative, "the weight of the false negatives")

    def check_together(self) -> None:
        super().check_together()
        concrete = isinstance(self.alpha, float) and isinstance(self.beta, float)
        if concrete and self.alpha == 0 and self.beta == 0:  # traced weights cannot be read
            raise ValueError(
                "alpha=0 and beta=0 weigh neither false positives nor false negatives: the "
                "Tversky index (tp + smooth_nr) / (tp + smooth_dr) would ignore every error. "
                "Give at least one of them a positive weight (alpha weighs false positives, "
                "beta false negatives; alpha = beta = 0.5 is Dice, alpha = beta = 1 is Jaccard)."
            )


@record
class LabelSmoothing(Options):
    label_smoothing: float = option(
        0.0, smoothing_factor, "ε in [0, 1]: targets y(1 - ε) + ε/K (K classes; K = 2 if binary)"
    )


@record
class PositiveWeight(Options):
    pos_weight: Array | float | tuple[float, ...] | None = option(
        None, weights, "the factor of the positive term: one, or one per class on class_axis"
    )


@record
class Focal(Options):
    gamma: float = option(0.75, positive, "the exponent of 1 - S")


@record
class CompoundWeights(Options):
    bce_weight: float = option(1.0, nonnegative, "the factor of the BCE term")
    dice_weight: float = option(1.0, nonnegative, "the factor of the Dice term")
    log_dice: bool = option(True, flag, "-log(D) (True) or 1 - D")


@record
class GeneralizedWeights(Options):
    weight_type: str = option("square", choice(*WEIGHT_TYPES), "1/R^2, 1/R or 1")


# The records of the families. Fields appear in the reverse order of the bases.


@record
class StatsOptions(SoftLabel, Threshold, Squared, Axes):
    """``overlap_stats``."""


@record
class DiceOptions(Synced, ZeroDivision, Weighted, Reduced, SoftLabel, Threshold, Squared,
                  Smoothing, Classes, Axes):  # fmt: skip
    """``dice_coefficient``, ``jaccard_index``."""


@record
class DiceLossOptions(LogPenalty, DiceOptions):
    """``dice_loss``, ``jaccard_loss``."""


@record
class TverskyOptions(Synced, ZeroDivision, Weighted, Reduced, SoftLabel, Smoothing,
                     TverskyWeights, Classes, Axes):  # fmt: skip
    """``tversky_loss``."""


@record
class FocalTverskyOptions(Focal, TverskyOptions):
    """``focal_tversky_loss``: the authors' defaults."""

    alpha: float = option(0.3, nonnegative, "the weight of the false positives")
    beta: float = option(0.7, nonnegative, "the weight of the false negatives")


@record
class RateOptions(Synced, Weighted, Reduced, ZeroDivision, Threshold, Classes, Axes):
    """``true_positive_rate``, ``precision``: hard at 0.5, 0 where undefined."""

    threshold: float | None = option(0.5, probability_threshold, THRESHOLD_DOC)
    zero_division: float = option(0.0, real, "the value of an exact 0/0")


@record
class BCEOptions(Weighted, Reduced, LabelSmoothing, PositiveWeight, Classes, Axes):
    """``binary_cross_entropy``."""


@record
class BCEDiceOptions(Synced, Weighted, Reduced, CompoundWeights, Smoothing, Classes, Axes):
    """``bce_dice_loss``."""


@record
class GeneralizedDiceOptions(Synced, Reduced, Smoothing, GeneralizedWeights, Classes, Axes):
    """``generalized_dice_loss``."""


# Stateful metrics: hard (p > 0.5) and unsmoothed by default, accumulated per class or pooled.


@record
class MetricOptions(ZeroDivision, Threshold, Axes):
    """The options every stateful metric takes (``axis`` is the adapter's)."""

    threshold: float | None = option(0.5, probability_threshold, THRESHOLD_DOC)


@record
class RateMetricOptions(MetricOptions):
    """``TruePositiveRate``, ``Precision``: 0 where undefined."""

    zero_division: float = option(0.0, real, "the value of an exact 0/0")


@record
class SmoothedMetricOptions(Smoothing, MetricOptions):
    """``DiceCoefficient``, ``JaccardIndex``: unsmoothed by default."""

    smooth_nr: float = option(0.0, nonnegative, "added to the numerator")
    smooth_dr: float = option(0.0, nonnegative, "added to the denominator")


@record
class PerClass(Options):
    """The metrics' option in Keras and Flax, whose inputs have no fixed class axis position."""

    num_classes: int | None = option(
        None, positive_integer, "None pools every axis; C keeps C sums on class_axis"
    )
