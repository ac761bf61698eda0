"""xploss: segmentation overlap losses and metrics, written once against the array API standard.

Every function takes ``(y_true, y_pred)`` arrays of one library (NumPy, PyTorch, JAX, TensorFlow,
CuPy, Dask, array-api-strict) and returns arrays of that library; all options are keyword-only.
Importing xploss imports no framework.
"""

from xploss._compound import dice_ce_loss, dice_focal_loss, generalized_dice_focal_loss
from xploss._deep_supervision import deep_supervision_loss
from xploss._losses_bce import bce_dice_loss, binary_cross_entropy
from xploss._losses_entropy import cross_entropy, focal_loss
from xploss._losses_overlap import (
    dice_loss,
    focal_tversky_loss,
    generalized_dice_loss,
    jaccard_loss,
    tversky_loss,
)
from xploss._metrics import dice_coefficient, jaccard_index, precision, true_positive_rate
from xploss._statistics import OverlapStats, overlap_stats

__all__ = [
    "OverlapStats",
    "bce_dice_loss",
    "binary_cross_entropy",
    "cross_entropy",
    "deep_supervision_loss",
    "dice_ce_loss",
    "dice_coefficient",
    "dice_focal_loss",
    "dice_loss",
    "focal_loss",
    "focal_tversky_loss",
    "generalized_dice_focal_loss",
    "generalized_dice_loss",
    "jaccard_index",
    "jaccard_loss",
    "overlap_stats",
    "precision",
    "true_positive_rate",
    "tversky_loss",
]

__version__ = "0.1.0"
