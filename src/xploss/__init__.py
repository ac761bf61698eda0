"""xploss: segmentation overlap losses and metrics, written once against the array API standard.

Every function takes ``(y_true, y_pred)`` arrays of one library (NumPy, PyTorch, JAX, TensorFlow,
CuPy, Dask, array-api-strict) and returns arrays of that library; all options are keyword-only.
Importing xploss imports no framework.
"""

from xploss._compound import dice_ce_loss, dice_focal_loss, generalized_dice_focal_loss
from xploss._confusion import SCORES as _SCORES
from xploss._confusion import ConfusionStats
from xploss._deep_supervision import deep_supervision_loss
from xploss._distance_maps import distance_transform, signed_distance_map
from xploss._losses_bce import bce_dice_loss, binary_cross_entropy
from xploss._losses_cldice import soft_cldice_loss, soft_dice_cldice_loss
from xploss._losses_distance import boundary_loss, hausdorff_dt_loss
from xploss._losses_entropy import cross_entropy, focal_loss
from xploss._losses_lovasz import lovasz_hinge_loss, lovasz_softmax_loss
from xploss._losses_mcc import mcc_loss
from xploss._losses_overlap import (
    dice_loss,
    focal_tversky_loss,
    generalized_dice_loss,
    jaccard_loss,
    tversky_loss,
)
from xploss._losses_wasserstein import generalized_wasserstein_dice_loss
from xploss._metrics import dice_coefficient, jaccard_index, precision, true_positive_rate
from xploss._metrics_confusion import (
    accuracy,
    balanced_accuracy,
    confusion_metric,
    confusion_stats,
    f_beta_score,
    false_negative_rate,
    false_positive_rate,
    matthews_corrcoef,
    negative_predictive_value,
    specificity,
)
from xploss._statistics import OverlapStats, overlap_stats

CONFUSION_SCORES = tuple(_SCORES)
"""The names of the confusion-matrix scores (``confusion_metric(metric=...)``)."""

__all__ = [
    "ConfusionStats",
    "OverlapStats",
    "accuracy",
    "balanced_accuracy",
    "bce_dice_loss",
    "binary_cross_entropy",
    "boundary_loss",
    "confusion_metric",
    "confusion_stats",
    "cross_entropy",
    "deep_supervision_loss",
    "dice_ce_loss",
    "dice_coefficient",
    "dice_focal_loss",
    "dice_loss",
    "distance_transform",
    "f_beta_score",
    "false_negative_rate",
    "false_positive_rate",
    "focal_loss",
    "focal_tversky_loss",
    "generalized_dice_focal_loss",
    "generalized_dice_loss",
    "generalized_wasserstein_dice_loss",
    "hausdorff_dt_loss",
    "jaccard_index",
    "jaccard_loss",
    "lovasz_hinge_loss",
    "lovasz_softmax_loss",
    "matthews_corrcoef",
    "mcc_loss",
    "negative_predictive_value",
    "overlap_stats",
    "precision",
    "signed_distance_map",
    "soft_cldice_loss",
    "soft_dice_cldice_loss",
    "specificity",
    "true_positive_rate",
    "tversky_loss",
]

__version__ = "0.2.0"
