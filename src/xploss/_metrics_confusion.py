"""The confusion-matrix metrics as functions of arrays: sensitivity, specificity, F-beta, MCC,
balanced accuracy, ... of hard predictions, per class, averaged as TorchMetrics and MONAI do.

The statistics are ``tp``, ``fp``, ``fn`` and ``tn`` per class (``_confusion.py``), summed over
every axis but the class axis (``aggregation_level="global"``) or but the batch and class axes
(``"samplewise"``); ``_confusion_average.py`` averages their scores.
"""

from __future__ import annotations

from typing import Any

from xploss import _checks, _classes
from xploss._confusion import ConfusionStats, confusion_sums
from xploss._confusion_average import Averaged, class_average, image_mean, image_sums
from xploss._inputs import prepare
from xploss._namespace import Array, array_namespace
from xploss._options_confusion import (
    ConfusionMetricOptions,
    ConfusionOptions,
    ConfusionStatsOptions,
    FBetaOptions,
)
from xploss._registry import functional


def class_last_stats(
    y_true: Array, y_pred: Array, options: Any, mask: Array | None, *, samplewise: bool
) -> ConfusionStats:
    """The counts per class, ``(C,)``, or per image and class, ``(B, C)``; class 0 left out by
    ``include_background=False``; summed over the devices by ``options.all_reduce`` where the
    batch axis is summed."""
    changes: dict[str, Any] = {"include_background": True}
    if options.class_axis is None:  # one binary class: give it its axis
        xp = array_namespace(y_pred=y_pred)
        y_pred, changes["class_axis"] = xp.expand_dims(y_pred, axis=-1), -1
    shape = _checks.shape_of(y_pred)
    class_axis = _checks.normalize_class_axis(changes.get("class_axis", options.class_axis), shape)
    if samplewise and class_axis == 0:
        raise ValueError(
            f"aggregation_level='samplewise' takes the images on axis 0, but class_axis="
            f"{options.class_axis} is axis 0 of y_pred of shape {shape}."
        )
    kept = (0, class_axis) if samplewise else (class_axis,)
    changes["axis"] = tuple(a for a in range(len(shape)) if a not in kept)
    inputs = prepare(y_true, y_pred, options.updated(changes), mask, threshold=options.threshold)
    stats = confusion_sums(inputs)
    if not options.include_background:
        if shape[class_axis] == 1:
            _classes.warn_single_channel_background(shape)
        else:
            stats = ConfusionStats(*(s[..., 1:] for s in stats))
    if options.all_reduce is not None and not samplewise:
        stats = ConfusionStats(*options.all_reduce(stats))
    return stats


def averaged(stats: ConfusionStats, name: str, options: Any, *, samplewise: bool) -> Averaged:
    """The score ``name`` of class-last ``stats``, averaged over classes and then images."""
    xp = array_namespace(tp=stats.tp)
    per_element = class_average(stats, name, options, xp)
    if not samplewise:
        return per_element
    sums = image_sums(per_element, xp)
    if options.all_reduce is not None:
        sums = Averaged(*options.all_reduce(sums))
    return image_mean(sums, options, xp)


def confusion_score(
    y_true: Array, y_pred: Array, options: Any, mask: Array | None, name: str
) -> Array:
    samplewise = options.aggregation_level == "samplewise"
    stats = class_last_stats(y_true, y_pred, options, mask, samplewise=samplewise)
    return averaged(stats, name, options, samplewise=samplewise).value


@functional(ConfusionStatsOptions)
def confusion_stats(
    y_true: Array, y_pred: Array, options: ConfusionStatsOptions, mask: Array | None
) -> ConfusionStats:
    """The confusion counts ``tp``, ``fp``, ``fn``, ``tn`` of each class against the rest.

    Args:
        y_true: one-hot (``y_pred``'s shape), class indices (without ``class_axis``), or the
            mask of a single-channel ``y_pred``.
        y_pred: probabilities, or logits with ``from_logits``; hard predictions by ``threshold``
            (``p > threshold``; after a softmax, the arg-max). ``threshold=None`` gives soft
            counts.
        class_axis: the class axis; ``None`` for inputs without one (a binary mask and its
            probabilities of the same shape: one class).
        aggregation_level: ``"global"``: one count per class, ``(C,)``; ``"samplewise"``: per
            image (axis 0) and class, ``(B, C)``.
        include_background, ignore_index: leave class 0 out; leave out the elements of a label.
        all_reduce: sums the global counts over devices.

    Returns:
        ``ConfusionStats(tp, fp, fn, tn)``, float32 (float64 for float64 predictions).

    Example:
        >>> import numpy as np
        >>> labels = np.array([0, 1, 1, 2])
        >>> probabilities = np.eye(3)[[0, 1, 2, 2]]
        >>> [s.tolist() for s in confusion_stats(labels, probabilities)]
        [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [3.0, 2.0, 2.0]]
    """
    samplewise = options.aggregation_level == "samplewise"
    return class_last_stats(y_true, y_pred, options, mask, samplewise=samplewise)


ARGS = """
    Args:
        y_true: one-hot (``y_pred``'s shape), class indices (without ``class_axis``), or the
            mask of a single-channel ``y_pred``.
        y_pred: probabilities, or logits with ``from_logits``, made hard by ``threshold``
            (``p > 0.5``; after a softmax, the arg-max); ``threshold=None`` for soft counts.
        class_axis: the class axis (``-1``); ``None`` for inputs without one (one class).
        average: over classes: ``"micro"`` (the score of the counts summed over classes),
            ``"macro"`` (the mean of the class scores), ``"weighted"`` (their mean weighted by
            the support ``tp + fn``) or ``"none"`` (one per class).
        aggregation_level: ``"global"`` pools the counts of every image (TorchMetrics'
            default, MONAI's ``compute_sample=False``); ``"samplewise"`` averages per image,
            then over the images (axis 0).
        empty_class: a class absent from both target and prediction in an image (or in
            everything, globally): ``"zero_division"`` scores it by the formula (0/0 is
            ``zero_division``, as scikit-learn and TorchMetrics do), ``"perfect"`` gives it the
            best score, ``"exclude"`` leaves it out of the means (NaN with ``"none"``).
        zero_division: the value of a 0/0 ratio; ``float("nan")`` leaves those entries out of
            the means, as MONAI's ``ConfusionMatrixMetric``. An average of nothing is this.
        include_background: ``False`` leaves class 0 out of the classes.
        ignore_index: a label whose elements leave every count.
        mask: leaves out the elements where it is 0.
        all_reduce: sums over the devices that split the batch (the global counts, or the
            per-image values' sum and number).

    Returns:
        A 0-d array, or ``(C,)`` with ``average="none"``; float32 (float64 for float64
        predictions).
"""


def _declare(name: str, options: type, summary: str, example: str) -> Any:
    def compute(y_true: Array, y_pred: Array, options: Any, mask: Array | None) -> Array:
        return confusion_score(y_true, y_pred, options, mask, name)

    public = "f_beta_score" if name == "f_beta" else name
    compute.__name__ = compute.__qualname__ = public
    compute.__module__ = __name__
    compute.__doc__ = f"{summary}\n{ARGS}\n    Example:\n{example}"
    return functional(options)(compute)


EXAMPLE = """        >>> import numpy as np
        >>> labels = np.array([0, 0, 1, 1, 1, 2])
        >>> predicted = np.eye(3)[[0, 1, 1, 1, 2, 2]]  # one-hot predictions
"""

specificity = _declare(
    "specificity",
    ConfusionOptions,
    "Specificity (true-negative rate, selectivity): ``tn / (tn + fp)`` per class.",
    EXAMPLE + "        >>> specificity(labels, predicted, average='none').tolist()\n"
    "        [1.0, 0.6666666666666666, 0.8]",
)
negative_predictive_value = _declare(
    "negative_predictive_value",
    ConfusionOptions,
    "Negative predictive value: ``tn / (tn + fn)`` per class.",
    EXAMPLE + "        >>> negative_predictive_value(labels, predicted, average='none').tolist()\n"
    "        [0.8, 0.6666666666666666, 1.0]",
)
false_positive_rate = _declare(
    "false_positive_rate",
    ConfusionOptions,
    "False-positive rate (fall-out): ``fp / (fp + tn)`` per class, ``1 - specificity``.",
    EXAMPLE + "        >>> false_positive_rate(labels, predicted, average='none').tolist()\n"
    "        [0.0, 0.3333333333333333, 0.2]",
)
false_negative_rate = _declare(
    "false_negative_rate",
    ConfusionOptions,
    "False-negative rate (miss rate): ``fn / (fn + tp)`` per class, ``1 - recall``.",
    EXAMPLE + "        >>> false_negative_rate(labels, predicted, average='none').tolist()\n"
    "        [0.5, 0.3333333333333333, 0.0]",
)
accuracy = _declare(
    "accuracy",
    ConfusionOptions,
    "Accuracy of each class against the rest: ``(tp + tn) / (tp + fp + fn + tn)``.\n\n"
    '    ``average="micro"`` pools the classes\' counts: for exclusive classes that is\n'
    "    ``(C - 2 + 2·a) / C`` of the multi-class accuracy ``a``; the multi-class accuracy itself\n"
    "    is ``confusion_metric(metric='recall', average='micro')``.",
    EXAMPLE + "        >>> accuracy(labels, predicted, average='none').tolist()\n"
    "        [0.8333333333333334, 0.6666666666666666, 0.8333333333333334]",
)
balanced_accuracy = _declare(
    "balanced_accuracy",
    ConfusionOptions,
    "Balanced accuracy of each class against the rest: ``(recall + specificity) / 2``, defined\n"
    "    where the class has positives and negatives (scikit-learn's binary\n"
    "    ``balanced_accuracy_score``; its multi-class one is the macro-averaged recall).",
    EXAMPLE + "        >>> balanced_accuracy(labels, predicted, average='none').tolist()\n"
    "        [0.75, 0.6666666666666666, 0.9]",
)
matthews_corrcoef = _declare(
    "matthews_corrcoef",
    ConfusionOptions,
    "Matthews correlation coefficient of each class against the rest:\n"
    "    ``(tp·tn - fp·fn) / √((tp + fp)(tp + fn)(tn + fp)(tn + fn))``, in [-1, 1]; 0/0 (a\n"
    "    constant target or prediction) is ``zero_division`` (0, as scikit-learn).",
    EXAMPLE + "        >>> values = matthews_corrcoef(labels, predicted, average='none')\n"
    "        >>> [round(float(v), 4) for v in values]\n"
    "        [0.6325, 0.3333, 0.6325]",
)
f_beta_score = _declare(
    "f_beta",
    FBetaOptions,
    "F-beta score: ``(1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp)`` per class; ``beta=1`` is the\n"
    "    F1 score (the hard Dice), ``beta=2`` weighs recall more.",
    EXAMPLE + "        >>> f_beta_score(labels, predicted, beta=2.0, average='none').tolist()\n"
    "        [0.5555555555555556, 0.6666666666666666, 0.8333333333333334]",
)


@functional(ConfusionMetricOptions)
def confusion_metric(
    y_true: Array, y_pred: Array, options: ConfusionMetricOptions, mask: Array | None
) -> Array:
    """Any confusion-matrix score by its name: ``metric="specificity"``, ``"dice"``, ``"iou"``,
    ``"precision"``, ``"recall"``, ... (``xploss.CONFUSION_SCORES``; MONAI's names such as
    ``"sensitivity"``, ``"mcc"`` or ``"threat score"`` are accepted too). ``beta`` is F-beta's.

    Args:
        metric: the score's name.
        beta: F-beta's weight of recall.
        others: as in ``specificity``.

    Returns:
        A 0-d array, or ``(C,)`` with ``average="none"``.

    Example:
        >>> import numpy as np
        >>> labels = np.array([0, 0, 1, 1, 1, 2])
        >>> predicted = np.eye(3)[[0, 1, 1, 1, 2, 2]]
        >>> confusion_metric(labels, predicted, metric="dice", average="none").tolist()
        [0.6666666666666666, 0.6666666666666666, 0.6666666666666666]
        >>> float(confusion_metric(labels, predicted, metric="recall", average="micro"))
        0.6666666666666666
    """
    return confusion_score(y_true, y_pred, options, mask, options.metric)
