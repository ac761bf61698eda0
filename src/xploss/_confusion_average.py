"""Averaging of the confusion-matrix scores: over classes (``average``), over images
(``aggregation_level``), and the policy for a class absent from an image (``empty_class``).

Formulas, for per-class scores ``s_c`` of the counts and ``v_c`` = 1 where the score enters the
means (0 where ``empty_class="exclude"`` leaves out an empty class, or where a ratio is 0/0 and
``zero_division`` is NaN, MONAI's convention):

- ``"micro"``: the score of the counts summed over the classes;
- ``"macro"``: ``Σ v_c·s_c / Σ v_c``;
- ``"weighted"``: ``Σ v_c·n_c·s_c / Σ v_c·n_c`` with the support ``n_c = tp_c + fn_c``;
- ``"none"``: ``s_c``, NaN where ``v_c = 0``.

``"global"`` takes them of the counts summed over every image; ``"samplewise"`` of each image's
counts, then the mean over the images whose average had an entry (per class for ``"none"``).
An average of nothing (every entry left out) is ``zero_division``. The validity comes from the
counts, never from ``isnan`` of the values, so a NaN input stays NaN.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from xploss._confusion import SCORES, ConfusionStats, summed_classes
from xploss._namespace import Array, Namespace


class Averaged(NamedTuple):
    """A reported value and the number of entries it averages (MONAI's ``not_nans``)."""

    value: Array
    count: Array


def class_scores(
    stats: ConfusionStats, name: str, options: Any, xp: Namespace
) -> tuple[Array, Array]:
    """Each element's score and whether it enters the means, after the ``empty_class`` policy."""
    score = SCORES[name]
    value, defined = score.compute(stats, options, xp)
    undefined_leaves = _is_nan(options.zero_division)
    valid = defined if undefined_leaves else xp.ones_like(defined)
    if options.empty_class != "zero_division":
        empty = (stats.tp + stats.fp + stats.fn) == 0
        if options.empty_class == "perfect":
            value = xp.where(empty, xp.full_like(value, score.best), value)
            valid = xp.logical_or(valid, empty)
        else:
            valid = xp.logical_and(valid, xp.logical_not(empty))
    return value, valid


def class_average(stats: ConfusionStats, name: str, options: Any, xp: Namespace) -> Averaged:
    """The average over the classes, the last axis of ``stats``, by ``options.average``."""
    if options.average == "micro":
        value, valid = class_scores(summed_classes(stats, xp), name, options, xp)
        return _selected(value, valid, options, xp)
    value, valid = class_scores(stats, name, options, xp)
    if options.average == "none":
        shown = xp.where(valid, value, xp.full_like(value, math.nan))
        return Averaged(shown, _counted(valid, value, xp))
    entries = _counted(valid, value, xp)
    weight = entries * (stats.tp + stats.fn) if options.average == "weighted" else entries
    total = xp.sum(weight * xp.where(valid, value, xp.zeros_like(value)), axis=-1)
    weights = xp.sum(weight, axis=-1)
    count = xp.sum(entries, axis=-1)
    if _is_nan(options.zero_division):  # a weighted mean of no support is 0/0 too: left out
        count = xp.where(weights == 0, xp.zeros_like(count), count)
    return Averaged(_mean(total, weights, options, xp), count)


def image_sums(per_image: Averaged, xp: Namespace, weight: Array | None = None) -> Averaged:
    """The sum over the images (the first axis) of the averages that had an entry, and their
    number: sums, which devices add before ``image_mean`` divides. ``weight``, one per image
    (Keras' ``sample_weight``), makes them the weighted sum and the sum of the weights."""
    entered = per_image.count > 0
    kept = xp.where(entered, per_image.value, xp.zeros_like(per_image.value))
    counted = _counted(entered, per_image.value, xp)
    if weight is not None:
        weight = xp.astype(xp.reshape(weight, (-1,) + (1,) * (counted.ndim - 1)), counted.dtype)
        counted = counted * weight
        kept = kept * counted
    return Averaged(xp.sum(kept, axis=0), xp.sum(counted, axis=0))


def image_mean(sums: Averaged, options: Any, xp: Namespace) -> Averaged:
    """The mean over the images of ``image_sums``; ``zero_division`` where none had an entry."""
    return Averaged(_mean(sums.value, sums.count, options, xp), sums.count)


def _mean(total: Array, count: Array, options: Any, xp: Namespace) -> Array:
    safe = xp.where(count == 0, xp.ones_like(count), count)
    return xp.where(count == 0, xp.zeros_like(total) + options.zero_division, total / safe)


def _selected(value: Array, valid: Array, options: Any, xp: Namespace) -> Averaged:
    fill = xp.zeros_like(value) + options.zero_division
    return Averaged(xp.where(valid, value, fill), _counted(valid, value, xp))


def _counted(valid: Array, like: Array, xp: Namespace) -> Array:
    return xp.astype(valid, like.dtype)


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
