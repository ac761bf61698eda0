"""The state of every stateful confusion-matrix metric, whatever the framework that holds it.

One additive state serves many scores: ``counts``, ``(4, C)``, the ``tp``, ``fp``, ``fn``, ``tn``
of each class over everything seen; and for ``aggregation_level="samplewise"`` ``images``,
``(M, 2, C + 1)``, for each of the ``M`` scores the sum over the images of the per-image values
and their number: per class in the first ``C`` columns, the ``average`` in the last. Both are sums:
batches, devices and processes combine by adding them. A framework adds ``batch_state``'s arrays
to its own and reads the results with ``state_results``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from xploss._confusion import ConfusionStats, score_name
from xploss._confusion_average import Averaged, class_average, image_mean, image_sums
from xploss._metrics_confusion import class_last_stats
from xploss._namespace import Array, Namespace, array_namespace


class ConfusionState(NamedTuple):
    counts: Array
    """``(4, C)``: ``tp``, ``fp``, ``fn``, ``tn`` per class."""
    images: Array | None
    """``(M, 2, C + 1)`` (samplewise) or None."""


def score_names(metrics: object, option: str = "metrics") -> tuple[str, ...]:
    """The xploss names of ``metrics``, a name or a sequence of names, without repeats."""
    if not isinstance(metrics, (str, list, tuple)):
        raise TypeError(f"{option} must be a score's name or a sequence of them, got {metrics!r}.")
    given = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not given:
        raise ValueError(f"{option}=() names no score: give at least one (e.g. 'dice').")
    names = tuple(score_name(m, option) for m in given)
    return tuple(dict.fromkeys(names))


def batch_state(
    y_true: Array,
    y_pred: Array,
    options: Any,
    mask: Array | None,
    names: tuple[str, ...],
    image_weight: Array | None = None,
) -> ConfusionState:
    """What a batch adds to the state (in the accumulation dtype of its predictions);
    ``image_weight``, one per image, weighs each image's values in the samplewise sums."""
    samplewise = options.aggregation_level == "samplewise"
    stats = class_last_stats(y_true, y_pred, options, mask, samplewise=samplewise)
    xp = array_namespace(tp=stats.tp)
    if not samplewise:
        return ConfusionState(xp.stack(stats), None)
    counts = xp.stack([xp.sum(s, axis=0) for s in stats])
    per_score = [xp.stack(_image_sums(stats, name, options, xp, image_weight)) for name in names]
    return ConfusionState(counts, xp.stack(per_score))


def _image_sums(
    stats: ConfusionStats, name: str, options: Any, xp: Namespace, weight: Array | None
) -> tuple[Array, Array]:
    """``(2, C + 1)``: the per-class sums, then the ``average``'s."""
    per_class = class_average(stats, name, options.updated({"average": "none"}), xp)
    per_class = image_sums(per_class, xp, weight)
    averaged = image_sums(class_average(stats, name, options, xp), xp, weight)
    if options.average == "none":  # one column more, so that every layout is (2, C + 1)
        averaged = Averaged(xp.sum(averaged.value)[None], xp.sum(averaged.count)[None])
    else:
        averaged = Averaged(averaged.value[None], averaged.count[None])
    return (
        xp.concat([per_class.value, averaged.value]),
        xp.concat([per_class.count, averaged.count]),
    )


def state_results(
    state: ConfusionState, names: tuple[str, ...], options: Any, *, per_class: bool = False
) -> dict[str, Averaged]:
    """Each score of the state, as ``options.average`` says, or per class with ``per_class``
    (``average="none"``: what the per-class reports show)."""
    xp = array_namespace(counts=state.counts)
    chosen = options.updated({"average": "none"}) if per_class else options
    results = {}
    for index, name in enumerate(names):
        if state.images is None:
            stats = ConfusionStats(*(state.counts[i, ...] for i in range(4)))
            results[name] = class_average(stats, name, chosen, xp)
            continue
        sums, counts = state.images[index, 0, ...], state.images[index, 1, ...]
        if per_class or options.average == "none":
            sums, counts = sums[:-1], counts[:-1]
        else:
            sums, counts = sums[-1], counts[-1]
        results[name] = image_mean(Averaged(sums, counts), chosen, xp)
    return results
