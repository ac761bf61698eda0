"""Options of the confusion-matrix metrics: how the per-class scores of ``tp``, ``fp``, ``fn`` and
``tn`` are averaged over classes and images, and what a class absent from an image scores."""

from __future__ import annotations

from xploss._confusion import score_name
from xploss._options import (
    THRESHOLD_DOC,
    Classes,
    Options,
    Synced,
    option,
    record,
)
from xploss._validators import (
    activation,
    choice,
    flag,
    optional_integer,
    positive,
    probability_threshold,
    real,
)

AVERAGES = ("micro", "macro", "weighted", "none")
AGGREGATIONS = ("global", "samplewise")
EMPTY_CLASSES = ("zero_division", "perfect", "exclude")


@record
class ClassInputs(Options):
    """``Axes`` without ``axis``: ``aggregation_level`` chooses the confusion metrics' sums."""

    class_axis: int | None = option(
        -1, optional_integer, "the class axis; None: no class axis (one binary class)"
    )
    from_logits: bool | str = option(
        False, activation, "False (probabilities), True or 'sigmoid', or 'softmax'"
    )
    validate: bool = option(
        False, flag, "eagerly, raise if probabilities or targets leave [0, 1] (a pass over each)"
    )


@record
class Averaging(Options):
    average: str = option(
        "macro",
        choice(*AVERAGES),
        "over classes: 'micro' (pooled counts), 'macro', 'weighted' (by support) or 'none'",
    )
    aggregation_level: str = option(
        "global",
        choice(*AGGREGATIONS),
        "'global' (counts pooled over the images) or 'samplewise' (the mean of per-image values)",
    )
    empty_class: str = option(
        "zero_division",
        choice(*EMPTY_CLASSES),
        "a class absent from target and prediction: scored by the formula, perfect, or excluded",
    )
    zero_division: float = option(0.0, real, "the value of a 0/0 ratio; NaN leaves it out of means")


@record
class ConfusionOptions(Synced, Averaging, Classes, ClassInputs):
    """The confusion-matrix metrics: hard (``p > 0.5``, or the arg-max after a softmax)."""

    threshold: float | None = option(0.5, probability_threshold, THRESHOLD_DOC)


@record
class FBetaOptions(ConfusionOptions):
    """``f_beta_score``: the confusion options and ``beta``."""

    beta: float = option(1.0, positive, "the weight of recall against precision")


@record
class ConfusionMetricOptions(FBetaOptions):
    """``confusion_metric``: any score by its name."""

    metric: str = option("dice", score_name, "the name of the score (xploss.CONFUSION_SCORES)")


@record
class ConfusionStatsOptions(Synced, Classes, ClassInputs):
    """``confusion_stats``."""

    threshold: float | None = option(0.5, probability_threshold, THRESHOLD_DOC)
    aggregation_level: str = option(
        "global",
        choice(*AGGREGATIONS),
        "'global' (one count per class) or 'samplewise' (per image)",
    )
