"""Options of the distance-map losses: the boundary loss and the Hausdorff distance-transform
loss (``_options.py`` holds the groups they share)."""

from __future__ import annotations

from xploss._options import Axes, Classes, Options, Reduced, Weighted, option, record
from xploss._validators import axis, flag, nonnegative


@record
class SpatialAxes(Options):
    spatial_axes: int | tuple[int, ...] | None = option(
        None,
        axis,
        "the spatial axes of the distance transforms (None: every axis but the first and "
        "class_axis)",
    )


@record
class HausdorffFactors(Options):
    alpha: float = option(2.0, nonnegative, "the exponent of the distances")
    log: bool = option(
        False, flag, "log(1 + loss) after the reduction (MONAI's LogHausdorffDTLoss)"
    )


@record
class BoundaryOptions(Weighted, Reduced, SpatialAxes, Classes, Axes):
    """``boundary_loss``."""


@record
class HausdorffDTOptions(HausdorffFactors, Weighted, Reduced, SpatialAxes, Classes, Axes):
    """``hausdorff_dt_loss``."""
