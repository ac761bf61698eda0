"""Records: the machinery of the options layer (``_options.py`` declares the options).

An option is a dataclass field whose metadata holds its validator and a one-line description; a
record is a frozen, keyword-only dataclass of options, validated when it is built.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from xploss._validators import Check


def option(default: Any, check: Check, doc: str) -> Any:
    """A field of a record: its default, its validator and a one-line description."""
    return dataclasses.field(default=default, metadata={"check": check, "doc": doc})


R = TypeVar("R", bound="Options")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Options:
    """The base of every record: validation on construction, and ``evolve`` for calls."""

    names: ClassVar[tuple[str, ...]] = ()
    _checks: ClassVar[dict[str, Check]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._checks = {}  # filled by ``_index`` once the dataclass decorator has made the fields

    def __post_init__(self) -> None:
        index = _index(type(self))
        for name, check in index.items():
            object.__setattr__(self, name, check(getattr(self, name), name))
        self.check_together()

    def check_together(self) -> None:
        """Checks that involve several options (a record's subclass extends it)."""

    def evolve(
        self: R,
        changes: Mapping[str, object],
        *,
        owner: str = "",
        shown: Mapping[str, str] | None = None,
    ) -> R:
        """A copy with ``changes`` validated; the other options are already valid. An error
        names an option as the caller wrote it: ``shown`` maps a field to that name (Keras'
        ``class_weight`` for ``weight``)."""
        index = _index(type(self))
        unknown = [name for name in changes if name not in index]
        if unknown:
            raise unknown_options(unknown, index, owner or type(self).__name__)
        copy = object.__new__(type(self))
        state = dict(self.__dict__)
        for name, value in changes.items():
            state[name] = index[name](value, name if shown is None else shown.get(name, name))
        object.__setattr__(copy, "__dict__", state)
        copy.check_together()
        return copy

    def updated(self: R, changes: Mapping[str, object]) -> R:
        """A copy with ``changes`` that are valid already (derived from validated options, as
        an adapter's axes for the input's rank): no validation on the per-call path."""
        copy = object.__new__(type(self))
        object.__setattr__(copy, "__dict__", {**self.__dict__, **changes})
        return copy

    def items(self) -> Iterable[tuple[str, Any]]:
        return ((name, getattr(self, name)) for name in _index(type(self)))


def _index(cls: type[Options]) -> dict[str, Check]:
    if not cls._checks:
        cls._checks = {f.name: f.metadata["check"] for f in dataclasses.fields(cls)}
        cls.names = tuple(cls._checks)
    return cls._checks


def field_names(cls: type[Options]) -> tuple[str, ...]:
    _index(cls)
    return cls.names


def unknown_options(unknown: Iterable[str], valid: Iterable[str], owner: str) -> TypeError:
    """Python's own message for an unknown keyword, and the valid ones."""
    names = ", ".join(repr(u) for u in unknown)
    return TypeError(
        f"{owner} got an unexpected keyword argument {names}; "
        f"its options are: {', '.join(sorted(valid))}."
    )


def record(cls: type[R]) -> type[R]:
    """Make ``cls`` a frozen, keyword-only record of options."""
    return dataclasses.dataclass(frozen=True, kw_only=True)(cls)
