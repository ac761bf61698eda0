"""The base of every module: options from a registry record, read as attributes and shown by
``repr``; and the lock of a stateful module, which no copy shares."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from torch import nn

from xploss._options import Options
from xploss._registry import Adapter, describe


class RegisteredModule(nn.Module):
    """Validates its keyword options into ``self.options`` (the core's record) and
    ``self.torch_options`` (the adapter's) once, in the constructor."""

    adapter: ClassVar[Adapter]
    core: ClassVar[type[Options]]
    options: Any
    torch_options: Any

    @classmethod
    def declare(cls, core: type[Options], adapter: Adapter) -> None:
        cls.core, cls.adapter = core, adapter
        cls.__signature__ = adapter.signature(core)  # type: ignore[attr-defined]

    def __init__(self, **options: Any) -> None:
        super().__init__()
        core, own = self.adapter.build(self.core, options, f"{type(self).__name__}()")
        self.options, self.torch_options = self._register_tensors(core), own

    def _register_tensors(self, options: Options) -> Options:
        """Tensor options become buffers (so that ``module.to`` moves them), out of ``options``."""
        return options

    def __getattr__(self, name: str) -> Any:
        # Buffers first, then the options read as attributes, as in 0.1 (``loss.smooth_nr``).
        try:
            return super().__getattr__(name)
        except AttributeError:
            for options in ("options", "torch_options"):
                record = self.__dict__.get(options)
                if record is not None and name in record.__dict__:
                    return record.__dict__[name]
            raise

    def _shown_options(self) -> dict[str, Any]:
        return self.adapter.values(self.options, self.torch_options)

    def extra_repr(self) -> str:
        return describe(self._shown_options(), self.adapter.defaults_of(self.core))


class Locked(nn.Module):
    """A module with ``self._lock``, a re-entrant lock of its own that is no part of its state:
    ``copy.deepcopy``, ``pickle`` and ``torch.save(module)`` give the copy a new one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()  # type: ignore[no-untyped-call]
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # type: ignore[no-untyped-call]
        self._lock = threading.RLock()
