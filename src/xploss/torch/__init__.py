"""PyTorch adapter: ``nn.Module`` losses, stateful metrics and a DDP all-reduce, declared from
the registry over the functional core (``xploss.torch.losses``, ``.metrics``, ``.distributed``).
"""

from xploss.torch._namespace import torch_namespace
from xploss.torch.distributed import all_reduce
from xploss.torch.losses import (
    BCEDiceLoss,
    BinaryCrossEntropyLoss,
    DiceLoss,
    FocalTverskyLoss,
    GeneralizedDiceLoss,
    JaccardLoss,
    TverskyLoss,
    reduced_axes,
)
from xploss.torch.metrics import DiceCoefficient, JaccardIndex, Precision, TruePositiveRate

__all__ = [
    "BCEDiceLoss",
    "BinaryCrossEntropyLoss",
    "DiceCoefficient",
    "DiceLoss",
    "FocalTverskyLoss",
    "GeneralizedDiceLoss",
    "JaccardIndex",
    "JaccardLoss",
    "Precision",
    "TruePositiveRate",
    "TverskyLoss",
    "all_reduce",
]

# torch_namespace and reduced_axes were public names of the 0.1 module.
_ = (torch_namespace, reduced_axes)
