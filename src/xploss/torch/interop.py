"""xploss metrics inside TorchMetrics: ``as_torchmetrics(metric)`` gives a ``torchmetrics.Metric``
that a ``MetricCollection`` (or Lightning's ``self.log(name, metric)``) takes.

The adapter delegates ``update``, ``forward``, ``compute`` and ``reset`` to the xploss metric
and holds no state of its own. The xploss metric sums its state over the process group in its
own ``compute()`` (exactly, and with ``dataset_size`` for ``DistributedSampler``'s repeats), so
TorchMetrics must not sync anything: ``sync_on_compute=False``, ``dist_sync_on_step=False`` and no
``_sync_dist``. With no state of TorchMetrics', a ``MetricCollection``'s compute groups never merge
it with another metric (two metrics share a group only if they hold equal states).

TorchMetrics is imported on the first call: xploss does not depend on it.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    import torchmetrics

__all__ = ["as_torchmetrics"]


def as_torchmetrics(metric: nn.Module) -> torchmetrics.Metric:
    """``metric`` (``ConfusionMatrixMetric``, ``DiceCoefficient``, ...) as a
    ``torchmetrics.Metric``, for a ``MetricCollection``.

    ``update``, ``forward`` (the batch's value), ``compute`` and ``reset`` are the xploss
    metric's; its ``compute()`` of several scores is a dict, which a collection flattens into one
    entry per score. The xploss metric is a child module: ``.to(device)`` and ``state_dict``
    reach it.

    Raises:
        ModuleNotFoundError: TorchMetrics is not installed.
        TypeError: ``metric`` is not a module with ``update``, ``compute`` and ``reset``.

    Example:
        >>> import torch
        >>> from torchmetrics import MetricCollection
        >>> from xploss.torch import ConfusionMatrixMetric
        >>> collection = MetricCollection(
        ...     {"val": as_torchmetrics(ConfusionMatrixMetric(metrics=("dice", "recall")))}
        ... )
        >>> collection.update(torch.tensor([[[0.9, 0.2, 0.7]]]), torch.tensor([[1, 0, 0]]))
        >>> {k: round(float(v), 4) for k, v in collection.compute().items()}
        {'dice': 0.6667, 'recall': 1.0}
    """
    if importlib.util.find_spec("torchmetrics") is None:
        raise ModuleNotFoundError(
            "xploss.torch.as_torchmetrics needs TorchMetrics, which is not installed (xploss "
            "does not depend on it): pip install torchmetrics.",
            name="torchmetrics",
        )
    missing = [m for m in ("update", "compute", "reset") if not callable(getattr(metric, m, None))]
    if not isinstance(metric, nn.Module) or missing:
        raise TypeError(
            "as_torchmetrics takes an xploss.torch metric (an nn.Module with update, compute "
            f"and reset), got {type(metric).__name__}"
            + (f" without {', '.join(missing)}." if missing else ".")
        )
    return _adapter_class()(metric)


@functools.cache
def _adapter_class() -> Callable[[nn.Module], torchmetrics.Metric]:
    """The ``torchmetrics.Metric`` subclass, defined once TorchMetrics is imported."""
    import torchmetrics

    class XplossMetric(torchmetrics.Metric):
        """A TorchMetrics view of an xploss metric, ``self.metric``; see ``as_torchmetrics``."""

        # No state of TorchMetrics': forward is the xploss metric's, which returns the batch's
        # value and adds the batch to the state in one pass.
        full_state_update = False
        is_differentiable = False
        higher_is_better = None

        def __init__(self, metric: nn.Module) -> None:
            # The xploss metric sums its own state over the ranks: TorchMetrics syncs nothing.
            super().__init__(sync_on_compute=False, dist_sync_on_step=False)
            self.metric: Any = metric  # an xploss metric: update, forward, compute, reset

        def update(
            self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
        ) -> None:
            self.metric.update(input, target, mask)

        def compute(self) -> Any:
            return self.metric.compute()

        def forward(
            self, input: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
        ) -> Any:
            # What TorchMetrics' wrapped update does, then the xploss metric's forward.
            self._computed = None
            self._update_count += 1
            self._forward_cache = self.metric(input, target, mask)
            return self._forward_cache

        def reset(self) -> None:
            super().reset()
            self.metric.reset()

        def _sync_dist(self, *args: Any, **kwargs: Any) -> None:
            """Nothing to gather: the xploss metric's compute() sums its state over the ranks."""

        def __repr__(self) -> str:
            return f"{type(self).__name__}({self.metric!r})"

    XplossMetric.__module__ = __name__
    return XplossMetric
