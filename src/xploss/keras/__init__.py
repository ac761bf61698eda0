"""Keras 3 adapter (TensorFlow, JAX and PyTorch backends): losses and stateful metrics, declared
from the registry over the functional core (``xploss.keras.losses``, ``.metrics``), and the
confusion-matrix metrics with per-class logs (``.confusion``).

The losses return one value per sample (every non-batch axis reduced), so Keras' ``reduction``
and ``sample_weight`` work as documented. The metrics accumulate the additive statistics, so the
logged value is the Dice (or TPR) of everything seen since the last reset, not an average of
batch values. Every class is registered for serialization (``xploss>DiceLoss``, ...) with a
complete ``get_config``: a saved ``.keras`` model reloads without ``custom_objects``, models saved
by xploss 0.1 included. The formulas are the core's; the tensors of each backend go through their
own namespace.

Keras casts ``y_true`` to the loss dtype, so class indices arrive as floats: ``y_true`` with one
axis fewer than ``y_pred`` (or a size-1 class axis where ``y_pred`` has several classes) is read
as class indices. A ``(B, ..., 1)`` target of a prediction with one axis fewer loses its last
axis, as in every Keras loss and metric.
"""

from xploss._extras import require

require(
    "keras",
    "keras",
    needed_by="xploss.keras",
    note="Keras also needs a backend: the tensorflow, jax or torch extra (xploss[keras,jax]).",
)

from xploss.keras.cldice import SoftclDiceLoss, SoftDiceclDiceLoss  # noqa: E402
from xploss.keras.confusion import (  # noqa: E402  (after the check)
    BalancedAccuracy,
    ConfusionMatrixMetric,
    FalseNegativeRate,
    FalsePositiveRate,
    FBetaScore,
    MatthewsCorrCoef,
    NegativePredictiveValue,
    Specificity,
)
from xploss.keras.distance import BoundaryLoss, HausdorffDTLoss  # noqa: E402
from xploss.keras.entropy import (  # noqa: E402
    CrossEntropyLoss,
    DeepSupervisionLoss,
    DiceCELoss,
    DiceFocalLoss,
    FocalLoss,
    GeneralizedDiceFocalLoss,
)
from xploss.keras.losses import (  # noqa: E402
    BCEDiceLoss,
    BinaryCrossEntropyLoss,
    DiceLoss,
    FocalTverskyLoss,
    GeneralizedDiceLoss,
    JaccardLoss,
    TverskyLoss,
)
from xploss.keras.lovasz import LovaszHingeLoss, LovaszSoftmaxLoss  # noqa: E402
from xploss.keras.mcc import MCCLoss  # noqa: E402
from xploss.keras.metrics import DiceCoefficient, JaccardIndex, Precision, TruePositiveRate  # noqa: E402
from xploss.keras.wasserstein import GeneralizedWassersteinDiceLoss  # noqa: E402

__all__ = [
    "BCEDiceLoss",
    "BalancedAccuracy",
    "BinaryCrossEntropyLoss",
    "BoundaryLoss",
    "ConfusionMatrixMetric",
    "CrossEntropyLoss",
    "DeepSupervisionLoss",
    "DiceCELoss",
    "DiceCoefficient",
    "DiceFocalLoss",
    "DiceLoss",
    "FBetaScore",
    "FalseNegativeRate",
    "FalsePositiveRate",
    "FocalLoss",
    "FocalTverskyLoss",
    "GeneralizedDiceFocalLoss",
    "GeneralizedDiceLoss",
    "GeneralizedWassersteinDiceLoss",
    "HausdorffDTLoss",
    "JaccardIndex",
    "JaccardLoss",
    "LovaszHingeLoss",
    "LovaszSoftmaxLoss",
    "MCCLoss",
    "MatthewsCorrCoef",
    "NegativePredictiveValue",
    "Precision",
    "SoftDiceclDiceLoss",
    "SoftclDiceLoss",
    "Specificity",
    "TruePositiveRate",
    "TverskyLoss",
]
