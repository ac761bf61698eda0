"""The registry: every loss and metric with its core function and its options record.

``functional`` turns a core function ``compute(y_true, y_pred, options, mask)`` into the public
function ``name(y_true, y_pred, *, mask=None, **options)``, whose signature, defaults and
validation come from the record. ``LOSSES`` and ``METRICS`` are what the adapters declare their
classes from and what the tests are parametrized over: a new entry is covered everywhere.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from xploss._namespace import Array, Namespace
from xploss._options import Options

Compute = Callable[[Array, Array, Any, Any], Array]
"""``compute(y_true, y_pred, options, mask)``: a core function over a validated record."""


class Functional(Protocol):
    """A public function: ``f(y_true, y_pred, *, mask=None, **options)``."""

    __name__: str

    def __call__(
        self, y_true: Array, y_pred: Array, *, mask: Array | None = ..., **options: Any
    ) -> Array: ...


@dataclasses.dataclass(frozen=True)
class Loss:
    """A loss: its public function, core function and options record."""

    name: str
    """The functional name, ``"dice_loss"``; adapters name their class ``class_name``."""
    class_name: str
    options: type[Options]
    compute: Compute
    function: Functional


@dataclasses.dataclass(frozen=True)
class Metric:
    """A stateful metric: a ratio of the accumulated statistics, and its options record."""

    name: str
    """The functional counterpart, ``"dice_coefficient"``."""
    class_name: str
    options: type[Options]
    score: Callable[[Any, Any, Namespace], Array]
    """``score(stats, options, xp)``."""
    higher_is_better: bool = True
    """A score (Dice, IoU, TPR, precision): what a framework's early stopping or checkpointing
    maximises (Keras' ``_direction``); a new error metric registers ``False``."""


LOSSES: dict[str, Loss] = {}
METRICS: dict[str, Metric] = {}
FUNCTIONS: dict[str, Functional] = {}


def functional(
    options: type[Options], *, loss: str | None = None
) -> Callable[[Compute], Functional]:
    """Make ``compute`` public: keyword options validated into ``options``, a signature and a
    docstring for ``help()``; register it (as the loss ``loss`` when named)."""

    def decorate(compute: Compute) -> Functional:
        name = compute.__name__
        defaults = options()
        owner = f"{name}()"

        def public(
            y_true: Array, y_pred: Array, *, mask: Array | None = None, **changes: Any
        ) -> Array:
            chosen = defaults.evolve(changes, owner=owner) if changes else defaults
            return compute(y_true, y_pred, chosen, mask)

        # Rebuilt on the core module's globals so that doctest finds it there and runs its
        # example (doctest matches a function to its module by ``__globals__``).
        function = types.FunctionType(
            public.__code__, compute.__globals__, name, None, public.__closure__
        )
        function.__kwdefaults__ = {"mask": None}
        function.__doc__ = compute.__doc__
        function.__module__ = compute.__module__
        function.__qualname__ = name
        function.__signature__ = signature(options, defaults)  # type: ignore[attr-defined]
        function.compute = compute  # type: ignore[attr-defined]
        function.options = options  # type: ignore[attr-defined]
        public_function: Functional = function
        FUNCTIONS[name] = public_function
        if loss is not None:
            LOSSES[name] = Loss(name, loss, options, compute, public_function)
        return public_function

    return decorate


def signature(options: type[Options], defaults: Options) -> inspect.Signature:
    array = inspect.Parameter.POSITIONAL_OR_KEYWORD
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("y_true", array, annotation="Array"),
        inspect.Parameter("y_pred", array, annotation="Array"),
        inspect.Parameter("mask", keyword, default=None, annotation="Array | None"),
    ]
    parameters += [
        inspect.Parameter(f.name, keyword, default=getattr(defaults, f.name), annotation=f.type)
        for f in dataclasses.fields(options)
    ]
    return inspect.Signature(parameters, return_annotation="Array")


def register_metric(
    name: str, class_name: str, options: type[Options], *, higher_is_better: bool = True
) -> Callable[[Callable[[Any, Any, Namespace], Array]], Callable[[Any, Any, Namespace], Array]]:
    """Register ``score(stats, options, xp)`` as the stateful metric ``class_name``."""

    def decorate(
        score: Callable[[Any, Any, Namespace], Array],
    ) -> Callable[[Any, Any, Namespace], Array]:
        METRICS[name] = Metric(name, class_name, options, score, higher_is_better)
        return score

    return decorate


@dataclasses.dataclass(frozen=True)
class Adapter:
    """How a framework presents a record: the options it adds, hides, renames or re-defaults.

    ``own`` is the adapter's own record (``batch``, ``include_background``, ...). ``fixed`` sets
    core options the framework decides (Keras' per-sample reduction) and hides them; ``hidden``
    hides options the framework has no use for; ``renamed`` maps the adapter's name of a core
    option to the core's (Keras' ``class_weight`` is ``weight``); ``defaults`` changes a core
    default (channels-first ``class_axis=1`` in PyTorch).
    """

    own: type[Options] | None = None
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fixed: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def core_names(self, core: type[Options]) -> list[str]:
        """The core options the framework shows, by the framework's names."""
        back = {v: k for k, v in self.renamed.items()}
        return [
            back.get(f.name, f.name)
            for f in dataclasses.fields(core)
            if f.name not in self.fixed and f.name not in self.hidden
        ]

    def build(
        self, core: type[Options], given: Mapping[str, Any], owner: str
    ) -> tuple[Options, Options | None]:
        """The core and the adapter's records from the keyword arguments of a constructor."""
        own_names = () if self.own is None else tuple(f.name for f in dataclasses.fields(self.own))
        shown = self.core_names(core)
        unknown = [k for k in given if k not in shown and k not in own_names]
        if unknown:
            from xploss._options import unknown_options

            raise unknown_options(unknown, [*shown, *own_names], owner)
        changes = {**self.defaults, **self.fixed}
        changes.update((self.renamed.get(k, k), v) for k, v in given.items() if k not in own_names)
        names = {v: k for k, v in self.renamed.items()}  # errors name class_weight, not weight
        core_record = core().evolve(changes, owner=owner, shown=names)
        own_record = None
        if self.own is not None:
            own_record = self.own().evolve(
                {k: v for k, v in given.items() if k in own_names}, owner=owner
            )
        return core_record, own_record

    def values(self, core: Options, own: Options | None) -> dict[str, Any]:
        """Every option the framework shows, by its names: its repr and its config."""
        shown = {
            name: getattr(core, self.renamed.get(name, name))
            for name in self.core_names(type(core))
        }
        if own is not None:
            shown.update(own.items())
        return shown

    def defaults_of(self, core: type[Options]) -> dict[str, Any]:
        defaults = core()
        values = {n: getattr(defaults, self.renamed.get(n, n)) for n in self.core_names(core)}
        values.update({self.renamed.get(k, k): v for k, v in self.defaults.items()})
        if self.own is not None:
            values.update(self.own().items())
        return values

    def signature(self, core: type[Options], *extra: inspect.Parameter) -> inspect.Signature:
        keyword = inspect.Parameter.KEYWORD_ONLY
        parameters = [
            inspect.Parameter(name, keyword, default=value)
            for name, value in self.defaults_of(core).items()
        ]
        return inspect.Signature([*parameters, *extra])


def describe(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """``name=value`` for every real-valued option and every other option that differs from its
    default (an ``extra_repr``)."""
    parts = []
    for name, value in values.items():
        default = defaults.get(name, inspect.Parameter.empty)
        if type(value) is float or default is inspect.Parameter.empty or _differs(value, default):
            parts.append(f"{name}={_short(value)}")
    return ", ".join(parts)


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError, RuntimeError):  # arrays: element-wise comparisons
        return True


def _short(value: Any) -> str:
    if type(value) is float:
        return f"{value:g}"
    if callable(value):
        return getattr(value, "__qualname__", type(value).__name__)
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, (int, float)):
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    return repr(value)
