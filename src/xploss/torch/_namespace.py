"""The array namespace of PyTorch tensors that the core uses, registered on import.

array-api-compat's namespace plus PyTorch's fused softplus, softmax and log-softmax, which the
core uses where a namespace has them: one kernel instead of seven elementwise passes, about 3×
faster forward and backward (benchmarks/results/causes.md). Above the threshold softplus(z) is z to
within e^-50.
"""

from __future__ import annotations

import functools
import types

import array_api_compat.torch as compat_namespace
import torch
import torch.nn.functional as F
from torch import nn

from xploss._namespace import register_namespace

torch_namespace = types.ModuleType("xploss.torch.namespace")
vars(torch_namespace).update(vars(compat_namespace))
torch_namespace.__name__ = "xploss.torch.namespace"
torch_namespace.softplus = functools.partial(F.softplus, threshold=50.0)  # type: ignore[attr-defined]
torch_namespace.log_softmax = lambda x, axis: torch.log_softmax(x, dim=axis)  # type: ignore[attr-defined]
torch_namespace.softmax = lambda x, axis: torch.softmax(x, dim=axis)  # type: ignore[attr-defined]
# gather: take_along_dim broadcasts, which fixes every size under torch.compile(dynamic=True).
torch_namespace.take_along_axis = lambda x, i, /, *, axis=-1: torch.gather(x, axis, i)  # type: ignore[attr-defined]
# cumsum: array-api-compat's goes through a cached helper that Dynamo warns about (the Lovász sort).
torch_namespace.cumulative_sum = lambda x, /, *, axis=None, dtype=None: torch.cumsum(  # type: ignore[attr-defined]
    x, dim=0 if axis is None else axis, dtype=dtype
)
register_namespace(torch.Tensor, torch_namespace)
register_namespace(nn.Parameter, torch_namespace)
