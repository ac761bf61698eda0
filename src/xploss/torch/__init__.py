"""PyTorch adapter: ``nn.Module`` losses, stateful metrics and a DDP all-reduce, declared from
the registry over the functional core (``xploss.torch.losses``, ``.metrics``, ``.distributed``).
"""

from xploss._extras import require

require("torch", "torch", needed_by="xploss.torch")

from xploss.torch._namespace import torch_namespace  # noqa: E402  (after the check)
from xploss.torch.cldice import SoftclDiceLoss, SoftDiceclDiceLoss  # noqa: E402
from xploss.torch.confusion import (  # noqa: E402
    BalancedAccuracy,
    ConfusionMatrixMetric,
    FalseNegativeRate,
    FalsePositiveRate,
    FBetaScore,
    MatthewsCorrCoef,
    NegativePredictiveValue,
    Specificity,
)
from xploss.torch.deep_supervision import DeepSupervisionLoss  # noqa: E402
from xploss.torch.distance import BoundaryLoss, HausdorffDTLoss  # noqa: E402
from xploss.torch.distributed import all_reduce  # noqa: E402
from xploss.torch.entropy import (  # noqa: E402
    CrossEntropyLoss,
    DiceCELoss,
    DiceFocalLoss,
    FocalLoss,
    GeneralizedDiceFocalLoss,
)
from xploss.torch.interop import as_torchmetrics  # noqa: E402  (imports TorchMetrics on use)
from xploss.torch.losses import (  # noqa: E402
    BCEDiceLoss,
    BinaryCrossEntropyLoss,
    DiceLoss,
    FocalTverskyLoss,
    GeneralizedDiceLoss,
    JaccardLoss,
    TverskyLoss,
    reduced_axes,
)
from xploss.torch.lovasz import LovaszHingeLoss, LovaszSoftmaxLoss  # noqa: E402
from xploss.torch.mcc import MCCLoss  # noqa: E402
from xploss.torch.metrics import DiceCoefficient, JaccardIndex, Precision, TruePositiveRate  # noqa: E402
from xploss.torch.wasserstein import GeneralizedWassersteinDiceLoss  # noqa: E402

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
    "all_reduce",
    "as_torchmetrics",
]

# torch_namespace and reduced_axes were public names of the 0.1 module.
_ = (torch_namespace, reduced_axes)
