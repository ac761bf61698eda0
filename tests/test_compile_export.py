"""Compiled and exported graphs (issue 17): ``torch.compile(dynamic=True, fullgraph=True)`` traces
every loss and the functional API without a graph break, a warning or a recompilation for a new
size; ``torch.export`` with ``torch.export.Dim`` sizes and ``jax.export`` with a symbolic batch
keep the sizes symbolic and give the eager values at other sizes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.test_distributed import require
from xploss._registry import LOSSES

SOFTMAX = {"from_logits": "softmax"}
# The exact distance transform builds a table per spatial axis from its size: these losses need
# known spatial sizes (a new size is a new graph), and say so where they are symbolic.
STATIC_SIZES = {"boundary_loss", "hausdorff_dt_loss"}


def torch_batch(batch=2, height=5, width=4, classes=3, seed=0):
    import torch

    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, classes, height, width, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, classes, (batch, height, width), generator=generator)
    return logits, labels


def traced_without_warning(fn, *args):
    """``fn(*args)``, recording the warnings; torch's own deprecation notices are no concern."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = fn(*args)
    found = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
    assert not found, [f"{w.category.__name__}: {w.message}" for w in found]
    return value


def compiled_once(fn, calls, graphs=1):
    """Compile ``fn`` with dynamic shapes and a full graph; every call equals the eager one, and
    the sizes after the first are traced by the same graph."""
    import torch
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(fn, dynamic=True, fullgraph=True)
    for args in calls:
        got = traced_without_warning(compiled, *args)
        torch.testing.assert_close(got, fn(*args), rtol=1e-10, atol=1e-12)
    assert counters["stats"]["unique_graphs"] == graphs, dict(counters["stats"])


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_torch_compile_dynamic_full_graph_with_class_indices(name):
    require("torch")
    import xploss.torch as xt

    module = getattr(xt, LOSSES[name].class_name)(**SOFTMAX)
    calls = [torch_batch(), torch_batch(3, 6, 4, seed=1)]
    compiled_once(module, calls, graphs=len(calls) if name in STATIC_SIZES else 1)


def test_torch_compile_dynamic_functional_api_with_a_traced_option():
    """Float class indices (MONAI's label maps), the arg-max of a hard Dice, and a smoothing
    that Dynamo passes as a symbolic float."""
    require("torch")
    import xploss

    def dice(logits, labels, smooth):
        return xploss.dice_coefficient(
            labels.double(), logits, class_axis=1, threshold=0.5, smooth_nr=smooth, **SOFTMAX
        ) + xploss.dice_loss(labels, logits, class_axis=1, smooth_dr=smooth, **SOFTMAX)

    first, second = torch_batch(), torch_batch(4, 3, 7, seed=2)
    compiled_once(dice, [(*first, 0.5), (*second, 0.25)])


def test_torch_compile_static_full_graph_without_warning():
    require("torch")
    import torch

    import xploss.torch as xt

    torch._dynamo.reset()
    module = xt.DiceLoss(ignore_index=2, **SOFTMAX)
    compiled = torch.compile(module, dynamic=False, fullgraph=True)
    logits, labels = torch_batch()
    torch.testing.assert_close(
        traced_without_warning(compiled, logits, labels), module(logits, labels)
    )


def test_torch_deep_supervision_compiles_to_one_graph_of_its_scales():
    """The target resized per scale by index arithmetic on Python ints: no graph break."""
    require("torch")
    import torch

    import xploss.torch as xt

    torch._dynamo.reset()
    loss = xt.DeepSupervisionLoss(xt.DiceCELoss(**SOFTMAX))
    full, _ = torch_batch(height=8, width=8)
    half, _ = torch_batch(height=4, width=4, seed=1)
    labels = torch.randint(0, 3, (2, 8, 8), generator=torch.Generator().manual_seed(2))
    compiled = torch.compile(loss, dynamic=False, fullgraph=True)
    torch.testing.assert_close(compiled([full, half], labels), loss([full, half], labels))


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_torch_export_with_dynamic_sizes(name):
    require("torch")
    import torch
    from torch.export import Dim

    import xploss.torch as xt

    module = getattr(xt, LOSSES[name].class_name)(**SOFTMAX)
    b, h, w = Dim("b"), Dim("h"), Dim("w")
    shapes = ({0: b, 2: h, 3: w}, {0: b, 1: h, 2: w})
    if name in STATIC_SIZES:
        with pytest.raises(ValueError, match=r"whose size is unknown .* known size"):
            torch.export.export(module, torch_batch(), dynamic_shapes=shapes)
        shapes = ({0: b}, {0: b})  # a symbolic batch: the distance tables need the image sizes
    exported = torch.export.export(module, torch_batch(), dynamic_shapes=shapes)
    other = torch_batch(5, 5, 4, seed=3) if name in STATIC_SIZES else torch_batch(5, 3, 6, seed=3)
    for args in (torch_batch(), other):
        torch.testing.assert_close(exported.module()(*args), module(*args), rtol=1e-10, atol=0)


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("axis", [None, (1, 2)], ids=["batch", "per-image"])
def test_jax_export_with_a_symbolic_batch(name, axis):
    require("jax")
    import jax
    import jax.numpy as jnp
    from jax import export

    loss = LOSSES[name].function

    def fn(labels, logits):
        return loss(labels, logits, axis=axis, **SOFTMAX)

    (batch,) = export.symbolic_shape("b")
    specs = (
        jax.ShapeDtypeStruct((batch, 5, 4), jnp.int32),
        jax.ShapeDtypeStruct((batch, 5, 4, 3), jnp.float32),
    )
    exported = export.export(jax.jit(fn))(*specs)
    for size in (2, 5):
        logits, labels = torch_batch(size, seed=size)
        labels = jnp.asarray(labels.numpy(), dtype=jnp.int32)
        logits = jnp.asarray(np.moveaxis(logits.numpy(), 1, -1), dtype=jnp.float32)
        np.testing.assert_allclose(
            exported.call(labels, logits), fn(labels, logits), rtol=1e-5, atol=1e-7
        )
