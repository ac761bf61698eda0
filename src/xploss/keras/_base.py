"""The base of every Keras class: options from a registry record, validated once in the
constructor, read as attributes and stored by ``get_config``; and the targets' conversion."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from keras import ops

from xploss._options import Options
from xploss._registry import Adapter

PACKAGE = "xploss"
"""The package of every registered class: ``xploss>DiceLoss``, as in 0.1."""
MODULE = "xploss.keras"
"""The module of every public class, as in 0.1: the ``module`` of the configs Keras saves, the
name that ``pickle`` and ``help()`` show, and where doctest finds the examples."""


def labels(y_true: Any, y_pred: Any, class_axis: int) -> Any:
    """Targets as the core reads them, after Keras' own rank rule: a ``(B, ..., 1)`` target of
    a prediction with one axis fewer loses its last axis (``squeeze_or_expand_to_same_rank``,
    which every Keras loss and metric applies: ``(B, H, W, 1)`` masks of a squeezed
    ``(B, H, W)`` output), and a ``(B, ..., 1)`` label map of a multi-class prediction loses its
    size-1 class axis.

    Keras casts ``y_true`` to the loss dtype, so class indices arrive as floats: the core reads
    a float target without ``y_pred``'s class axis as class indices (integral values, checked
    eagerly) and, for a single-channel ``y_pred``, as that channel's mask (soft values too).
    """
    rank = len(y_pred.shape)
    if len(y_true.shape) == rank + 1 and y_true.shape[-1] == 1:
        return ops.squeeze(y_true, axis=-1)
    axis = class_axis % rank if rank else 0
    if len(y_true.shape) != rank or not rank or y_true.shape[axis] != 1:
        return y_true
    if y_pred.shape[axis] in (1, None):
        return y_true
    return ops.squeeze(y_true, axis=axis)


class Registered:
    """Validates its keyword options into ``self.options`` (the core's record) and
    ``self.keras_options`` (the adapter's) once; a subclass declares them with ``declare``.

    The options read as attributes, by the names the class shows (``loss.class_weight``,
    ``metric.num_classes``), as in 0.1; ``config_values`` is what ``get_config`` stores.
    """

    adapter: ClassVar[Adapter]
    core: ClassVar[type[Options]]
    options: Any
    """The core's record (an ``Options``): what the core function reads."""
    keras_options: Any
    """The adapter's record, or None."""

    @classmethod
    def declare(cls, core: type[Options], adapter: Adapter, **keras: Any) -> None:
        """Take ``core``'s options as ``adapter`` shows them, and Keras' own keywords
        (``name``, ``reduction``, ``dtype``, with their defaults) for the signature."""
        cls.core, cls.adapter = core, adapter
        cls.__module__ = MODULE
        keyword = inspect.Parameter.KEYWORD_ONLY
        extra = [inspect.Parameter(name, keyword, default=value) for name, value in keras.items()]
        cls.__signature__ = adapter.signature(core, *extra)  # type: ignore[attr-defined]

    def _set_options(self, given: dict[str, Any]) -> None:
        core, own = self.adapter.build(self.core, given, f"{type(self).__name__}()")
        self.options, self.keras_options = core, own

    def config_values(self) -> dict[str, Any]:
        """Every option the class shows, by its names: the options part of ``get_config``."""
        return self.adapter.values(self.options, self.keras_options)

    def __getattr__(self, name: str) -> Any:
        # Only for names that are no attribute: the options, as 0.1's attributes.
        if self.__dict__.get("options") is not None and not name.startswith("_"):
            values = self.config_values()
            if name in values:
                return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
