"""The PyTorch adapter, parametrized over the registry: every registered loss and metric has a
module that equals the functional core, compiles without a graph break, describes its options,
and keeps its state dtype."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import xploss.torch as xt  # noqa: E402
from xploss._registry import FUNCTIONS, LOSSES, METRICS  # noqa: E402


def batch(seed=0, shape=(2, 3, 5, 4)):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, shape[1], (shape[0], *shape[2:]), generator=generator)
    return logits, labels


def as_channels_last(x):
    return np.moveaxis(x.numpy(), 1, -1)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_module_equals_the_functional_core(name):
    entry = LOSSES[name]
    module = getattr(xt, entry.class_name)(from_logits="softmax")
    logits, labels = batch()
    expected = entry.function(
        labels.numpy(), as_channels_last(logits), axis=(1, 2), from_logits="softmax"
    )
    np.testing.assert_allclose(float(module(logits, labels)), float(expected), rtol=1e-12)
    assert entry.class_name in xt.__all__


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_module_signature_and_repr_come_from_its_record(name):
    entry = LOSSES[name]
    cls = getattr(xt, entry.class_name)
    parameters = inspect.signature(cls).parameters
    assert set(entry.options.names) <= set(parameters)
    assert {"batch", "to_onehot_y", "ignore_index"} <= set(parameters)
    assert parameters["class_axis"].default == 1
    assert "batch=True" in repr(cls(batch=True))
    with pytest.raises(TypeError, match="unexpected keyword argument 'bacth'"):
        cls(bacth=True)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_module_compiles_without_a_graph_break(name):
    entry = LOSSES[name]
    module = getattr(xt, entry.class_name)(from_logits="softmax")
    logits, labels = batch(seed=1)
    torch._dynamo.reset()  # one forward per loss class: past Dynamo's recompile limit otherwise
    compiled = torch.compile(module, fullgraph=True, dynamic=False)
    torch.testing.assert_close(compiled(logits, labels), module(logits, labels))


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_module_equals_its_functional_counterpart(name):
    entry = METRICS[name]
    metric = getattr(xt, entry.class_name)(reduction="none")
    first, second = batch(seed=2), batch(seed=3)
    for logits, labels in (first, second):
        metric.update(logits.softmax(1), labels)
    probabilities = torch.cat([first[0], second[0]]).softmax(1)
    labels = torch.cat([first[1], second[1]])
    options = {"threshold": 0.5, "zero_division": metric.zero_division}
    if "smooth_nr" in entry.options.names:
        options |= {"smooth_nr": 0.0, "smooth_dr": 0.0}
    expected = FUNCTIONS[entry.name](
        labels.numpy(), as_channels_last(probabilities), axis=(0, 1, 2), reduction="none", **options
    )
    np.testing.assert_allclose(metric.compute().numpy(), expected, rtol=1e-12)
    assert entry.class_name in xt.__all__


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_keeps_its_float64_state(name):
    metric = getattr(xt, METRICS[name].class_name)()
    logits, labels = batch(seed=4)
    metric.update(logits.softmax(1).float(), labels)
    before = metric.compute()
    for convert in (lambda m: m.half(), lambda m: m.to(torch.bfloat16), lambda m: m.float()):
        convert(metric)
        assert metric.state.dtype == torch.float64
    assert metric.compute() == before
