"""JAX adapter: a ``psum`` all-reduce for named axes (``xploss.jax.distributed``), and Flax NNX
metrics declared from the registry (``xploss.jax.metrics``).

The functional API needs no adapter under JAX: it is pure, takes its options as Python values
(static under ``jax.jit``) and runs under ``jit``, ``grad``, ``vmap`` and ``checkpoint``. This
package adds what collectives and stateful evaluation need. Flax, an optional dependency, is
imported only when a metric is first used (``xploss.jax.DiceCoefficient``); the
confusion-matrix metrics are in ``xploss.jax.confusion`` (``xploss.jax.ConfusionMatrixMetric``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from xploss._extras import require

require("jax", "jax", needed_by="xploss.jax")

from xploss._registry import METRICS  # noqa: E402  (after the check)
from xploss.jax.distributed import all_reduce  # noqa: E402

__all__ = ["all_reduce"]  # and, importing Flax on first use, the metrics of the modules below

_CONFUSION = (
    "BalancedAccuracy",
    "ConfusionMatrixMetric",
    "FBetaScore",
    "FalseNegativeRate",
    "FalsePositiveRate",
    "MatthewsCorrCoef",
    "NegativePredictiveValue",
    "Specificity",
)
_LAZY = {
    **{entry.class_name: "metrics" for entry in METRICS.values()},
    **dict.fromkeys(_CONFUSION, "confusion"),
    "metrics": "metrics",
    "confusion": "confusion",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name = f"xploss.jax.{_LAZY[name]}"
        module = sys.modules.get(module_name)
        if module is None:  # loaded already: Flax is there, and nothing is imported
            require("flax", "flax", needed_by=f"xploss.jax.{name}")
            module = importlib.import_module(module_name)
        return module if name == _LAZY[name] else getattr(module, name)
    raise AttributeError(f"module 'xploss.jax' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
