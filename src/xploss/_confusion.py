"""Statistics and scores of the confusion-matrix metrics: ``tp``, ``fp``, ``fn`` and ``tn`` per
class, and the ratios of them that segmentation reports (sensitivity, specificity, MCC, ...).

``tn`` is counted, not assumed: it is the number of kept elements minus the other three, so a
mask or ``ignore_index`` removes elements from every count. With ``threshold=None`` the counts are
soft sums (``tn = Σ (1 - y)(1 - p)``), additive as the hard ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from xploss import _checks
from xploss._inputs import Inputs, with_nan
from xploss._namespace import Array, Namespace
from xploss._scores import safe_divide
from xploss._statistics import overlap_sums


class ConfusionStats(NamedTuple):
    """The confusion matrix of each class against the rest, summed over the reduced axes.

    Being sums, the statistics of disjoint parts of the data add up to those of the whole: a
    stateful metric keeps them, and processes add them.

    Example:
        >>> import numpy as np
        >>> from xploss import confusion_stats
        >>> y_true, y_pred = np.array([1, 0, 1, 1]), np.array([0.9, 0.8, 0.4, 0.7])
        >>> halves = [confusion_stats(y_true[i : i + 2], y_pred[i : i + 2], class_axis=None)
        ...           for i in (0, 2)]
        >>> whole = ConfusionStats(*(a + b for a, b in zip(*halves)))
        >>> [float(s[0]) for s in whole]  # tp, fp, fn, tn
        [2.0, 1.0, 1.0, 0.0]
    """

    tp: Array
    """``Σ y·p``: true positives."""
    fp: Array
    """``Σ (1 - y)·p``: false positives."""
    fn: Array
    """``Σ y·(1 - p)``: false negatives."""
    tn: Array
    """``Σ (1 - y)·(1 - p)``: true negatives."""


def confusion_sums(inputs: Inputs) -> ConfusionStats:
    """The confusion counts of prepared inputs over ``inputs.axes``; NaN inputs make them NaN."""
    tp, sum_true, sum_pred = overlap_sums(inputs)
    count = element_count(inputs, tp)
    stats = ConfusionStats(tp, sum_pred - tp, sum_true - tp, count - sum_true - sum_pred + tp)
    if inputs.nan_probes:
        stats = ConfusionStats(*with_nan(inputs, *stats))
    return stats


def element_count(inputs: Inputs, like: Array) -> Array:
    """The elements each count sums (``tp + fp + fn + tn``), in ``like``'s shape: without a mask
    a number (where the sizes are known), not a pass over ``y_pred``."""
    xp, axes, mask = inputs.xp, inputs.axes, inputs.mask
    shape = _checks.shape_of(inputs.y_pred)
    known = [d for d in (shape[a] for a in axes) if d is not None]
    if mask is None and len(known) == len(axes):
        return xp.zeros_like(like) + math.prod(known)
    return xp.sum(xp.zeros_like(inputs.y_pred) + (1 if mask is None else mask), axis=axes)


def summed_classes(stats: ConfusionStats, xp: Namespace) -> ConfusionStats:
    """The counts pooled over the classes (the last axis): ``average="micro"``."""
    return ConfusionStats(*(xp.sum(s, axis=-1) for s in stats))


# A score maps the counts to ``(value, defined)``: the value with ``zero_division`` where its
# ratio is 0/0, and where it is defined. ``best`` is what a perfect prediction scores.
ScoreFunction = Callable[[ConfusionStats, Any, Namespace], tuple[Array, Array]]


class Score(NamedTuple):
    compute: ScoreFunction
    best: float
    formula: str


def _ratio(
    numerator: Array, denominator: Array, options: Any, xp: Namespace
) -> tuple[Array, Array]:
    return safe_divide(numerator, denominator, options.zero_division, xp), denominator != 0


def dice(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(2 * s.tp, 2 * s.tp + s.fp + s.fn, options, xp)


def f_beta(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    b2 = options.beta * options.beta
    return _ratio((1 + b2) * s.tp, (1 + b2) * s.tp + b2 * s.fn + s.fp, options, xp)


def iou(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.tp, s.tp + s.fp + s.fn, options, xp)


def precision(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.tp, s.tp + s.fp, options, xp)


def recall(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.tp, s.tp + s.fn, options, xp)


def specificity(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.tn, s.tn + s.fp, options, xp)


def negative_predictive_value(
    s: ConfusionStats, options: Any, xp: Namespace
) -> tuple[Array, Array]:
    return _ratio(s.tn, s.tn + s.fn, options, xp)


def false_positive_rate(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.fp, s.fp + s.tn, options, xp)


def false_negative_rate(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.fn, s.fn + s.tp, options, xp)


def accuracy(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    return _ratio(s.tp + s.tn, s.tp + s.fp + s.fn + s.tn, options, xp)


def balanced_accuracy(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    sensitivity, has_positives = recall(s, options, xp)
    selectivity, has_negatives = specificity(s, options, xp)
    return (sensitivity + selectivity) / 2, xp.logical_and(has_positives, has_negatives)


def matthews_corrcoef(s: ConfusionStats, options: Any, xp: Namespace) -> tuple[Array, Array]:
    # A product of square roots: the product of the four margins overflows float32 from counts
    # of about 10**9.5 each.
    margins = (s.tp + s.fp, s.tp + s.fn, s.tn + s.fp, s.tn + s.fn)
    denominator = xp.sqrt(margins[0]) * xp.sqrt(margins[1]) * xp.sqrt(margins[2])
    denominator = denominator * xp.sqrt(margins[3])
    return _ratio(s.tp * s.tn - s.fp * s.fn, denominator, options, xp)


SCORES: dict[str, Score] = {
    "dice": Score(dice, 1.0, "2·tp / (2·tp + fp + fn)"),
    "f_beta": Score(f_beta, 1.0, "(1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp)"),
    "iou": Score(iou, 1.0, "tp / (tp + fp + fn)"),
    "precision": Score(precision, 1.0, "tp / (tp + fp)"),
    "recall": Score(recall, 1.0, "tp / (tp + fn)"),
    "specificity": Score(specificity, 1.0, "tn / (tn + fp)"),
    "negative_predictive_value": Score(negative_predictive_value, 1.0, "tn / (tn + fn)"),
    "false_positive_rate": Score(false_positive_rate, 0.0, "fp / (fp + tn)"),
    "false_negative_rate": Score(false_negative_rate, 0.0, "fn / (fn + tp)"),
    "accuracy": Score(accuracy, 1.0, "(tp + tn) / (tp + fp + fn + tn)"),
    "balanced_accuracy": Score(balanced_accuracy, 1.0, "(recall + specificity) / 2"),
    "matthews_corrcoef": Score(
        matthews_corrcoef, 1.0, "(tp·tn - fp·fn) / √((tp+fp)(tp+fn)(tn+fp)(tn+fn))"
    ),
}
"""Every score of the counts, by its name in xploss."""

ALIASES = {
    "f1": "dice",
    "f1_score": "dice",
    "threat_score": "iou",
    "ts": "iou",
    "csi": "iou",
    "acc": "accuracy",
    "matthews_correlation_coefficient": "matthews_corrcoef",
    "jaccard": "iou",
    "sensitivity": "recall",
    "tpr": "recall",
    "true_positive_rate": "recall",
    "ppv": "precision",
    "tnr": "specificity",
    "selectivity": "specificity",
    "npv": "negative_predictive_value",
    "fpr": "false_positive_rate",
    "fall_out": "false_positive_rate",
    "fnr": "false_negative_rate",
    "miss_rate": "false_negative_rate",
    "mcc": "matthews_corrcoef",
    "ba": "balanced_accuracy",
}
"""Other names of the scores: MONAI's short names, TorchMetrics' and scikit-learn's words."""


def score_name(name: object, option: str = "metric") -> str:
    """The xploss name of a score, from any of its names; a ValueError lists them."""
    if not isinstance(name, str):
        raise TypeError(f"{option} must be the name of a score (a str), got {name!r}.")
    key = name.lower().replace(" ", "_").replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in SCORES:
        valid = ", ".join(sorted(SCORES)) + "; also " + ", ".join(sorted(ALIASES))
        raise ValueError(f"{option}={name!r} is not a confusion-matrix score: use one of {valid}.")
    return key
