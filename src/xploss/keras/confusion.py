"""Keras confusion-matrix metrics: one additive state of ``tp``, ``fp``, ``fn``, ``tn`` per class,
any number of scores of it, and per-class values in ``fit``'s logs and progress bar.

``result()``: each score of everything seen since the last reset, a scalar for one score, a dict
for several. ``per_class_logs=True`` adds ``"dice/tumour"`` (``class_names``, or the index) per
class, which ``fit`` logs (``val_dice/tumour`` too: Keras adds a metric's dict to the logs), so a
class never predicted shows as 0 beside a fine mean. Keys: with one score the metric's ``name``
(the score's by default) and ``"<name>/<class>"``; with several, the scores' names.

Keras variables have a static shape, so ``num_classes`` fixes the state: ``num_classes=C`` reads
``C`` classes on ``class_axis`` (channels-last; another count raises ``ValueError``);
``num_classes=None`` reads the input as one binary class without a class axis (the core's
``class_axis=None``), a trailing size-1 axis of either input dropped as Keras does, and refuses
``from_logits="softmax"`` (a softmax of one class is constant). The state is
``counts``, ``(4, C)``, and for ``aggregation_level="samplewise"`` ``images``, ``(M, 2, C + 1)``
(``xploss._confusion_state``; ``C`` without the background for ``include_background=False``):
sums, which ``MirroredStrategy``'s replicas add (Keras sums metric variables on read), in float64
where the backend has it (``xploss.keras.metrics.state_dtype``); ``result()`` is float32.

``sample_weight``, one per sample, weighs each sample's elements in the counts and, samplewise,
each image's value in the mean over the images (0 leaves the image out). ``_direction`` tells
``EarlyStopping(mode="auto")`` to maximise, or to minimise where every score is an error rate.
"""

from __future__ import annotations

import threading
import types
from typing import Any, ClassVar

import keras
from keras import ops

from xploss._confusion_report import (
    SINGLE_SCORES,
    Reporting,
    class_labels,
    direction,
    one_score,
    report,
    single_score_doc,
    without_metrics,
)
from xploss._confusion_state import ConfusionState, batch_state, state_results
from xploss._options import option, record
from xploss._options_confusion import ConfusionOptions, FBetaOptions
from xploss._registry import Adapter
from xploss._state import per_class_axes
from xploss._validators import flag, positive_integer
from xploss.keras._base import PACKAGE, Registered, labels
from xploss.keras.metrics import RESULT_DTYPE, sample_mask, state_dtype

__all__ = [
    "BalancedAccuracy",
    "ConfusionMatrixMetric",
    "FBetaScore",
    "FalseNegativeRate",
    "FalsePositiveRate",
    "MatthewsCorrCoef",
    "NegativePredictiveValue",
    "Specificity",
]


@record
class Evaluation(Reporting):
    """The Keras metric's own options."""

    num_classes: int | None = option(
        None, positive_integer, "C classes on class_axis; None: one binary class, no class axis"
    )
    per_class_logs: bool = option(False, flag, "result() adds 'name/class' values")


ADAPTER = Adapter(own=Evaluation, hidden=frozenset({"all_reduce"}))
"""``all_reduce`` is Keras' own: replicas sum the metric's variables."""


def same_rank(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Without a class axis, a trailing size-1 axis that one input has and the other lacks goes,
    as Keras' ``squeeze_or_expand_to_same_rank`` does."""
    true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
    if true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        return ops.squeeze(y_true, axis=-1), y_pred
    if pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        return y_true, ops.squeeze(y_pred, axis=-1)
    return y_true, y_pred


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConfusionMatrixMetric(Registered, keras.metrics.Metric):
    """Confusion-matrix scores of everything seen since the last reset; see the module's notes.

    ``metrics`` names the scores (``xploss.CONFUSION_SCORES`` or their aliases: ``"mcc"``,
    ``"sensitivity"``, ``"f1"``...); the other options are ``xploss.confusion_metric``'s.

    Example:
        >>> import numpy as np
        >>> metric = ConfusionMatrixMetric(
        ...     metrics=("dice", "specificity"), num_classes=3, per_class_logs=True,
        ...     class_names=("background", "liver", "tumour"), include_background=False)
        >>> labels = np.array([[0, 1, 1, 2, 2, 0]])  # (B, N): class indices
        >>> metric.update_state(labels, np.eye(3)[[[0, 1, 2, 2, 0, 0]]])  # (B, N, C)
        >>> {k: round(float(v), 4) for k, v in metric.result().items() if "dice" in k}
        {'dice': 0.5833, 'dice/liver': 0.6667, 'dice/tumour': 0.5}
    """

    score: ClassVar[str] = ""
    """A subclass's one score (``class Specificity(..., score="specificity")``): ``metrics`` is
    then no option."""

    def __init_subclass__(cls, *, score: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not score:  # a subclass of the user's: its parent's options
            return
        cls.score = score
        core = FBetaOptions if score == "f_beta" else ConfusionOptions
        cls.declare(core, ADAPTER, name=None, dtype=None)
        cls.__signature__ = without_metrics(cls.__signature__)

    def __init__(self, *, name: str | None = None, dtype: Any = None, **options: Any) -> None:
        owner = f"{type(self).__name__}()"
        if self.score:
            options = one_score(owner, self.score, options)
        core, evaluation = self.adapter.build(self.core, options, owner)
        own: Any = evaluation
        names: tuple[str, ...] = own.metrics
        super().__init__(
            name=name or (names[0] if len(names) == 1 else "confusion_matrix"), dtype=dtype
        )
        self.options, self.keras_options, self.names = core, own, names
        self._read = core if own.num_classes else core.updated({"class_axis": None})
        self._check_classes(owner)
        # EarlyStopping and ModelCheckpoint(mode="auto") read it, as for Keras' own metrics.
        self._direction = direction(names)
        state = state_dtype()  # explicit: no dtype policy changes it
        self.counts = self.add_variable((4, self._classes()), "zeros", state, name="counts")
        self.images = None
        if self.options.aggregation_level == "samplewise":
            shape = (len(names), 2, self._classes() + 1)
            self.images = self.add_variable(shape, "zeros", state, name="images")
        self._state_lock = threading.RLock()

    def _classes(self) -> int:
        """The classes of the state: ``num_classes`` (1 for None), less the background."""
        total = self.keras_options.num_classes or 1
        return total - 1 if total > 1 and not self.options.include_background else total

    def _check_classes(self, owner: str) -> None:
        total = self.keras_options.num_classes
        if total is None and self.options.from_logits == "softmax":
            raise ValueError(
                f"{owner} got from_logits='softmax' and num_classes=None: the softmax of one "
                "class is 1 whatever the logits. Give num_classes=C for C classes on "
                "class_axis, or from_logits=True (sigmoid) for one binary class."
            )
        if total is not None and self.options.class_axis is None:
            raise ValueError(
                f"{owner} got num_classes={total} and class_axis=None: C classes need their "
                "axis (num_classes=None: an input without a class axis, one class)."
            )
        self._labels = class_labels(
            self.keras_options.class_names, total or 1, self._classes(), owner
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add a batch: ``y_pred`` ``(B, ..., C)`` (or any shape with ``num_classes=None``),
        ``y_true`` one-hot, class indices ``(B, ...)``, or the mask of a single channel."""
        owner, classes = type(self).__name__, self.keras_options.num_classes
        y_pred, y_true = ops.convert_to_tensor(y_pred), ops.convert_to_tensor(y_true)
        if classes is None:
            y_true, y_pred = same_rank(y_true, y_pred)
        else:
            class_axis = self.options.class_axis
            per_class_axes(owner, classes, "y_pred", tuple(y_pred.shape), class_axis)
            y_true = labels(y_true, y_pred, class_axis)
        mask = weight = None
        if sample_weight is not None:
            mask = sample_mask(sample_weight, y_pred, owner, self.dtype)
            weight = ops.reshape(mask, (-1,))
            if classes is None:  # the core gives y_pred its class axis: the mask follows
                mask = ops.expand_dims(mask, -1)
        batch = batch_state(y_true, y_pred, self._read, mask, self.names, weight)
        with self._state_lock:
            self.counts.assign_add(ops.cast(batch.counts, self.counts.dtype))
            if self.images is not None:
                self.images.assign_add(ops.cast(batch.images, self.images.dtype))

    def result(self) -> Any:
        """The score, or ``{name: value}`` for several scores or ``per_class_logs``."""
        with self._state_lock:
            counts = ops.convert_to_tensor(self.counts.value)
            images = None if self.images is None else ops.convert_to_tensor(self.images.value)
        state = ConfusionState(counts, images)
        single = len(self.names) == 1
        keys = {score: self.name if single else score for score in self.names}
        results = state_results(state, self.names, self._read)
        values = {keys[s]: ops.cast(r.value, RESULT_DTYPE) for s, r in results.items()}
        if not self.keras_options.per_class_logs:
            return values[self.name] if single else values
        per_class = state_results(state, self.names, self._read, per_class=True)
        return report(
            values,
            {keys[score]: result.value for score, result in per_class.items()},
            self._labels,
            average=self.options.average,
            item=lambda values, index: ops.cast(values[index], RESULT_DTYPE),
        )

    def reset_state(self) -> None:
        with self._state_lock:
            super().reset_state()

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), **self.config_values()}
        if self.score:
            config.pop("metrics")
        return config


ConfusionMatrixMetric.declare(FBetaOptions, ADAPTER, name=None, dtype=None)


EXAMPLE = """        >>> metric = {made}
        >>> metric.update_state({target}, {prediction})
        >>> round(float(metric.result()), 4)"""


def _single(name: str) -> type[ConfusionMatrixMetric]:
    """The serializable class ``name`` of one score (``SINGLE_SCORES``)."""
    entry = SINGLE_SCORES[name]

    def body(namespace: dict[str, Any]) -> None:
        namespace.update(__doc__=single_score_doc(name, EXAMPLE), __module__=__name__)

    made = types.new_class(name, (ConfusionMatrixMetric,), {"score": entry.score}, body)
    registered: type[ConfusionMatrixMetric] = keras.saving.register_keras_serializable(
        package=PACKAGE
    )(made)
    return registered


Specificity = _single("Specificity")
FBetaScore = _single("FBetaScore")
BalancedAccuracy = _single("BalancedAccuracy")
MatthewsCorrCoef = _single("MatthewsCorrCoef")
NegativePredictiveValue = _single("NegativePredictiveValue")
FalsePositiveRate = _single("FalsePositiveRate")
FalseNegativeRate = _single("FalseNegativeRate")
