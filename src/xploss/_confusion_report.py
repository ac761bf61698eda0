"""What every framework's confusion-matrix metric shows: its scores, the names of its classes,
the per-class report (``"dice/tumour"``), and the classes of one score (``Specificity``, ...).

The adapters keep the state their framework holds (``_confusion_state.py``) and take the rest
from here, so that a report reads the same in PyTorch, Keras and Flax.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypeVar

from xploss._confusion import SCORES
from xploss._confusion_state import score_names
from xploss._records import Options, option, record


class SingleScore(NamedTuple):
    score: str
    summary: str
    example: str
    """The value of the examples' batch: ``tp = 1``, ``fp = 1``, ``fn = 1``, ``tn = 2``."""


SINGLE_SCORES: dict[str, SingleScore] = {
    "Specificity": SingleScore("specificity", "Specificity ``tn / (tn + fp)``", "0.6667"),
    "FBetaScore": SingleScore(
        "f_beta", "F-beta ``(1 + β²)·tp / ((1 + β²)·tp + β²·fn + fp)`` (``beta=2``)", "0.5"
    ),
    "BalancedAccuracy": SingleScore(
        "balanced_accuracy", "Balanced accuracy ``(recall + specificity) / 2``", "0.5833"
    ),
    "MatthewsCorrCoef": SingleScore(
        "matthews_corrcoef", "Matthews correlation coefficient", "0.1667"
    ),
    "NegativePredictiveValue": SingleScore(
        "negative_predictive_value", "Negative predictive value ``tn / (tn + fn)``", "0.6667"
    ),
    "FalsePositiveRate": SingleScore(
        "false_positive_rate", "False-positive rate ``fp / (fp + tn)``", "0.3333"
    ),
    "FalseNegativeRate": SingleScore(
        "false_negative_rate", "False-negative rate ``fn / (fn + tp)``", "0.5"
    ),
}
"""The classes of one score in every framework, by class name."""

EXAMPLE_TARGET = "[1, 1, 0, 0, 0]"
EXAMPLE_PREDICTION = "[0.9, 0.3, 0.6, 0.2, 0.1]"
"""The examples' batch: ``tp = 1``, ``fp = 1``, ``fn = 1``, ``tn = 2`` at ``p > 0.5``."""


def single_score_doc(name: str, lines: str) -> str:
    """The docstring of the class ``name`` of one score; ``lines`` build ``metric`` (``{made}``),
    update it with the examples' batch (``{target}``, ``{prediction}``) and print its value."""
    entry = SINGLE_SCORES[name]
    made = "FBetaScore(beta=2.0)" if entry.score == "f_beta" else f"{name}()"
    steps = lines.format(made=made, target=EXAMPLE_TARGET, prediction=EXAMPLE_PREDICTION)
    return f"""{entry.summary} of everything seen since the last reset.

    ``ConfusionMatrixMetric``'s options but ``metrics``.

    Example:
{steps}
        {entry.example}
    """


def class_names(value: object, name: str) -> tuple[str, ...] | None:
    """None, or one str per class."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError(f"{name} must be a sequence of str, one per class; got {value!r}.")


@record
class Reporting(Options):
    """The options every stateful confusion metric adds to the core's."""

    metrics: tuple[str, ...] = option(("dice",), score_names, "the scores: names or aliases")
    class_names: tuple[str, ...] | None = option(
        None, class_names, "one name per class of the input (the background's too)"
    )


def one_score(owner: str, score: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options of a class of one score: ``metrics`` set to it, and no option of the caller's."""
    if "metrics" in options:
        raise TypeError(
            f"{owner} computes {score!r} alone: use ConfusionMatrixMetric(metrics=...) for other "
            "or several scores."
        )
    return {**options, "metrics": (score,)}


def without_metrics(signature: inspect.Signature) -> inspect.Signature:
    """A class of one score's signature: its parent's without ``metrics``."""
    return signature.replace(
        parameters=[p for p in signature.parameters.values() if p.name != "metrics"]
    )


def direction(names: tuple[str, ...]) -> str:
    """``"down"`` where every score is an error rate (lower is better), else ``"up"``."""
    return "down" if all(SCORES[name].best == 0.0 for name in names) else "up"


def class_labels(
    given: tuple[str, ...] | None, channels: int, kept: int, owner: str
) -> tuple[str, ...]:
    """The names of the ``kept`` classes of the state, out of the input's ``channels`` (one
    fewer where ``include_background=False`` left class 0 out): ``given`` (one per channel, or
    one per kept class), or the class indices."""
    first = channels - kept
    if given is None:
        return tuple(str(c) for c in range(first, channels))
    if len(given) == channels:
        return given[first:]
    if len(given) == kept:
        return given
    raise ValueError(
        f"{owner} got {len(given)} class_names {given} for an input of {channels} classes: give "
        "one name per class (the background's too)."
    )


V = TypeVar("V")


def report(
    averaged: Mapping[str, V],
    per_class: Mapping[str, Any],
    labels: tuple[str, ...],
    *,
    average: str,
    item: Callable[[Any, int], V],
    key: Callable[[str], str] = str,
) -> dict[str, V]:
    """``{"dice": value, "dice/<class>": value, ...}``: each score as averaged (left out with
    ``average="none"``, whose values are the per-class ones), then one value per class, taken by
    ``item(values, index)``; ``key`` names a score's entries."""
    values: dict[str, V] = {}
    for score, value in averaged.items():
        if average != "none":
            values[key(score)] = value
        for index, label in enumerate(labels):
            values[f"{key(score)}/{label}"] = item(per_class[score], index)
    return values
