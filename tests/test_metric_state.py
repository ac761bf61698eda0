"""The state of the stateful metrics (issue 16), in PyTorch and Flax NNX (Keras:
``keras_metric_state_checks.py``): a class count that changes between updates raises; a torch
``state_dict`` round-trips at any point; updates from four threads lose no count; ``compute()``
before any update is the score of empty statistics; a samplewise metric takes a batch of no image;
``forward`` returns the batch's value; an empty rank adds nothing under torch.distributed."""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from xploss._registry import METRICS

NAMES = sorted(METRICS)
AVERAGES = ["global", "samplewise"]


@pytest.fixture(scope="module")
def xt():
    pytest.importorskip("torch")
    import xploss.torch

    return xploss.torch


@pytest.fixture(scope="module")
def xj():
    pytest.importorskip("flax.nnx")
    import xploss.jax

    return xploss.jax


def torch_batch(classes=3, n=2, seed=0, size=4):
    """Probabilities ``(n, classes, size, size)`` and 0/1 targets of the same shape."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    probabilities = torch.rand(n, classes, size, size, generator=generator, dtype=torch.float64)
    targets = (torch.rand(n, classes, size, size, generator=generator) > 0.5).double()
    return probabilities, targets


def devices():
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def saved(state_dict, map_location):
    import torch

    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    buffer.seek(0)
    return torch.load(buffer, map_location=map_location)


def silently(compute):
    """``compute()`` with its before-any-update warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return compute()


# 6. The number of classes cannot change between updates.


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize(("first", "second"), [(3, 4), (1, 3), (3, 1)])
def test_torch_a_change_of_class_count_raises_naming_both_shapes(xt, average, first, second):
    metric = xt.DiceCoefficient(aggregation_level=average, reduction="none")
    metric.update(*torch_batch(first))
    held = metric.state.clone()
    rows = 3 if average == "global" else 2
    message = (
        rf"input of shape \(2, {second}, 4, 4\), with {second} classes on class_axis=1, "
        rf"but its state of shape \({rows}, {first}\) holds {first} classes"
    )
    with pytest.raises(ValueError, match=message):
        metric.update(*torch_batch(second))
    assert metric.state.equal(held)  # the failed batch added nothing
    metric.reset()
    metric.update(*torch_batch(second))  # a reset frees the class count
    assert metric.compute().shape == (second,)


@pytest.mark.parametrize(("first", "second"), [(3, 4), (1, 3)])
def test_flax_a_change_of_class_count_raises_naming_both_shapes(xj, first, second):
    import jax.numpy as jnp
    from flax import nnx

    metric = xj.DiceCoefficient(num_classes=first)
    message = (
        rf"DiceCoefficient\(num_classes={first}\) got logits of shape \(2, 4, {second}\), with "
        rf"{second} classes on class_axis=-1, but its state of shape \({first},\) holds"
    )
    logits = jnp.full((2, 4, second), 0.7)
    with pytest.raises(ValueError, match=message):
        metric.update(logits=logits, labels=jnp.ones_like(logits))
    with pytest.raises(ValueError, match=message):
        nnx.jit(lambda m, x: m.update(logits=x, labels=x))(metric, logits)


# 7. A torch metric's state_dict loads into a fresh or an updated metric, strictly.


@pytest.mark.parametrize("average", AVERAGES)
def test_torch_state_dict_round_trips_at_any_point(xt, average):
    import torch

    for device in devices():
        source = xt.JaccardIndex(aggregation_level=average, reduction="none")
        fresh = saved(source.state_dict(), device)
        into_fresh = xt.JaccardIndex(aggregation_level=average, reduction="none").to(device)
        into_fresh.load_state_dict(fresh)  # fresh -> fresh
        assert silently(into_fresh.compute).item() == 1.0
        source.update(*torch_batch(seed=1))
        updated, first = saved(source.state_dict(), device), source.compute()
        into_fresh.load_state_dict(updated)  # updated -> fresh
        assert into_fresh.state.device.type == device and into_fresh.state.dtype == torch.float64
        torch.testing.assert_close(into_fresh.compute().cpu(), source.compute(), rtol=0, atol=0)
        for metric in (source, into_fresh):  # both go on from the same state
            metric.update(*(t.to(device) for t in torch_batch(seed=2)))
        torch.testing.assert_close(into_fresh.compute().cpu(), source.compute(), rtol=0, atol=0)
        into_fresh.load_state_dict(fresh)  # fresh -> updated: a reset
        assert into_fresh.state.device.type == device
        assert silently(into_fresh.compute).shape == ()
        into_fresh.update(*(t.to(device) for t in torch_batch(classes=5)))  # no class count kept
        assert into_fresh.compute().shape == (5,)
        into_fresh.load_state_dict(updated)  # updated (5 classes) -> updated (3 classes)
        torch.testing.assert_close(into_fresh.compute().cpu(), first, rtol=0, atol=0)


def test_torch_state_dict_loads_in_a_model_with_assign_and_keeps_float64(xt):
    import torch

    model = torch.nn.ModuleDict({"dice": xt.DiceCoefficient(), "tpr": xt.TruePositiveRate()})
    for metric in model.values():
        metric.update(*torch_batch(seed=3))
    checkpoint = {key: value.float() for key, value in model.state_dict().items()}
    assert set(checkpoint) == {"dice.state", "tpr.state"}
    for assign in (False, True):
        other = torch.nn.ModuleDict({"dice": xt.DiceCoefficient(), "tpr": xt.TruePositiveRate()})
        other.load_state_dict(checkpoint, strict=True, assign=assign)
        other.half()
        for name, metric in other.items():
            assert metric.state.dtype == torch.float64, (name, assign)
            assert metric.compute().item() == pytest.approx(model[name].compute().item())
    with pytest.raises(RuntimeError, match=r"size mismatch for dice\.state"):
        macro = torch.nn.ModuleDict(
            {
                "dice": xt.DiceCoefficient(aggregation_level="samplewise"),
                "tpr": xt.TruePositiveRate(),
            }
        )
        macro.load_state_dict(checkpoint)  # a global state is no samplewise state
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "tpr.state"'):
        other.load_state_dict({"dice.state": checkpoint["dice.state"]})


# 9. Updates from several threads lose no count; the lock is no part of the module's state.


@pytest.mark.parametrize("average", AVERAGES)
def test_torch_four_threads_count_as_one(xt, average):
    import torch

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    batches = [torch_batch(seed=seed) for seed in range(4)]
    threaded = xt.Precision(aggregation_level=average, reduction="none")
    serial = xt.Precision(aggregation_level=average, reduction="none")
    updates, errors = 150, []

    def work(batch):
        try:
            for _ in range(updates):
                threaded.update(*batch)
                threaded.compute()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    try:
        threads = [threading.Thread(target=work, args=(batch,)) for batch in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert not errors, errors
    for batch in batches:
        for _ in range(updates):
            serial.update(*batch)
    if average == "global":  # sums of counts: exact in any order
        assert threaded.state.equal(serial.state)
    else:  # sums of per-image ratios, in another order; the counts are exact
        assert threaded.state[1].equal(serial.state[1])
        torch.testing.assert_close(threaded.state, serial.state, rtol=1e-12, atol=0)


def test_torch_copies_and_pickles_have_a_lock_of_their_own(xt, tmp_path):
    import torch

    metric = xt.DiceCoefficient(reduction="none")
    metric.update(*torch_batch(seed=4))
    torch.save(metric, tmp_path / "metric.pt")
    copies = [
        copy.deepcopy(metric),
        pickle.loads(pickle.dumps(metric)),
        torch.load(tmp_path / "metric.pt", weights_only=False),
    ]
    for other in copies:
        assert other._lock is not metric._lock
        assert other.state.equal(metric.state)
        other.update(*torch_batch(seed=5))
    assert not copies[0].state.equal(metric.state)  # the copies do not share the state


# 10. compute() before any update: the score of empty statistics.


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("name", NAMES)
def test_torch_compute_before_any_update_warns_and_returns_zero_division(
    xt, name, average, reduction
):
    import torch

    cls = getattr(xt, METRICS[name].class_name)
    metric = cls(aggregation_level=average, reduction=reduction, zero_division=0.25)
    message = r"compute\(\) called before any update\(\): returning zero_division=0.25"
    with pytest.warns(UserWarning, match=message):
        value = metric.compute()
    assert value.shape == () and value.item() == 0.25 and value.dtype == torch.float64
    nothing = torch.zeros(2, 3, 4, 4, dtype=torch.float64)  # no pixel, no prediction
    metric.update(nothing, nothing)
    assert torch.all(metric.compute() == 0.25)  # what a class with no pixel scores
    metric.reset()
    with pytest.warns(UserWarning, match=message):
        assert metric.compute().item() == 0.25
    with pytest.warns(UserWarning, match="returning zero_division="):
        assert cls().compute().item() == cls().zero_division  # Dice, IoU: 1; the rates: 0


def test_torch_compute_before_any_update_of_a_smoothed_metric(xt):
    metric = xt.DiceCoefficient(smooth_nr=1, smooth_dr=2)
    with pytest.warns(UserWarning, match=r"returning smooth_nr / smooth_dr = 0.5"):
        assert metric.compute().item() == 0.5


@pytest.mark.parametrize("name", NAMES)
def test_flax_compute_before_any_update_is_zero_division_silently(xj, name):
    from flax import nnx

    cls = getattr(xj, METRICS[name].class_name)
    for metric in (cls(), cls(num_classes=3), cls(zero_division=0.25, num_classes=2)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            eager = float(metric.compute())
            jitted = float(nnx.jit(lambda m: m.compute())(metric))
        assert eager == jitted == metric.zero_division
    smoothed = xj.DiceCoefficient(smooth_nr=1, smooth_dr=2)
    assert float(smoothed.compute()) == 0.5  # the score of empty statistics, as in torch


# Issue 17, point 15: a batch of no image adds nothing.


@pytest.mark.parametrize("average", AVERAGES)
def test_torch_a_batch_of_no_image_adds_nothing(xt, average):
    import torch

    metric = xt.DiceCoefficient(aggregation_level=average, reduction="none")
    probabilities, targets = torch_batch(seed=6)
    metric.update(probabilities[:0], targets[:0])
    torch.testing.assert_close(metric.compute(), torch.ones(3, dtype=torch.float64))
    metric.update(probabilities, targets)
    metric.update(probabilities[:0], targets[:0])
    alone = xt.DiceCoefficient(aggregation_level=average, reduction="none")
    alone.update(probabilities, targets)
    torch.testing.assert_close(metric.compute(), alone.compute(), rtol=0, atol=0)


# forward returns the value of the batch alone.


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("name", NAMES)
def test_torch_forward_returns_the_batch_value_and_accumulates(xt, name, average, reduction):
    import torch

    cls = getattr(xt, METRICS[name].class_name)
    metric, both = (
        cls(aggregation_level=average, reduction=reduction),
        cls(aggregation_level=average),
    )
    for seed in (7, 8):
        batch = torch_batch(seed=seed)
        alone = cls(aggregation_level=average, reduction=reduction)
        alone.update(*batch)
        value = metric(*batch)
        torch.testing.assert_close(value, alone.compute(), rtol=0, atol=0)
        both.update(*batch)
    torch.testing.assert_close(metric.compute().mean(), both.compute(), rtol=1e-12, atol=0)


# compute() under torch.distributed: a rank that saw nothing adds nothing; nothing hangs.


def test_torch_an_empty_rank_adds_nothing_and_nothing_hangs(tmp_path):
    pytest.importorskip("torch")
    from tests.distributed import torch_metric_ranks

    command = [sys.executable, "-m", "tests.distributed.torch_metric_ranks", str(tmp_path)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(command, capture_output=True, text=True, cwd=root, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    single = torch_metric_ranks.single()
    for rank in (0, 1):
        got = json.loads((tmp_path / f"rank{rank}.json").read_text())
        for name, want in single.items():
            np.testing.assert_allclose(got[name], want, rtol=1e-12, err_msg=name)
        assert got["nothing"] == 1.0 and got["nothing_warned"]
        assert "states of 3 and of 4 classes" in got["disagree"]
