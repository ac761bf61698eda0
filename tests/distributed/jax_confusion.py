"""Two JAX host devices (``XLA_FLAGS=--xla_force_host_platform_device_count=2``, set by the
caller). Prints one JSON line: for each configuration of ``ConfusionMatrixMetric``, the values
of the functional API on one device over the whole data (which the metric's equal,
tests/test_jax_confusion.py), the metric's on every device under ``shard_map`` with
``all_reduce`` (the state threaded through a jitted step, two global batches, every
configuration in one ``nnx.MultiMetric``), and the functional API's of each device's images
alone."""

from __future__ import annotations

import json
from functools import partial

import jax
import numpy as np
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import xploss
import xploss.jax as xj

assert jax.device_count() == 2, jax.devices()
rng = np.random.default_rng(0)  # NumPy: JAX would compile each eager operation
labels = rng.integers(0, 3, (8, 6, 6))
labels[:3] %= 2  # class 2 absent from the first images
logits = rng.normal(size=(8, 6, 6, 3)).astype(np.float32) * 2
CONFIGS = {  # the scores, and the other options
    "global_macro": (("dice", "matthews_corrcoef", "specificity"), {"from_logits": "softmax"}),
    "samplewise_macro": (
        ("dice", "balanced_accuracy"),
        {"from_logits": "softmax", "aggregation_level": "samplewise", "include_background": False},
    ),
    "samplewise_none": (
        ("iou", "precision"),
        {
            "from_logits": True,
            "aggregation_level": "samplewise",
            "average": "none",
            "empty_class": "exclude",
        },
    ),
}
STEPS = (slice(0, 4), slice(4, 8))  # two global batches of four images, two per device
mesh = Mesh(jax.devices(), ("batch",))
sharding = NamedSharding(mesh, P("batch"))


def metrics(all_reduce):
    """Every configuration in one ``nnx.MultiMetric``: one compilation for all."""
    return nnx.MultiMetric(
        **{
            config: xj.ConfusionMatrixMetric(
                metrics=names, num_classes=3, all_reduce=all_reduce, **options
            )
            for config, (names, options) in CONFIGS.items()
        }
    )


def listed(values, device):
    """``{config: {score: nested list}}`` of one device's row of ``MultiMetric.compute()``."""
    return {
        config: {score: np.asarray(v[device]).tolist() for score, v in found.items()}
        for config, found in values.items()
    }


def functional(rows):
    """The values of the functional API (NumPy) on ``rows`` of the data, on one device."""
    return {
        config: {
            name: np.asarray(
                xploss.confusion_metric(labels[rows], logits[rows], metric=name, **options)
            ).tolist()
            for name in names
        }
        for config, (names, options) in CONFIGS.items()
    }


def sharded():
    """The state threaded through a jitted ``shard_map`` step: replicated (``P()``), which
    ``shard_map`` accepts only of values that are the same on every device; and the values
    every device computes of it, one row per device."""
    graphdef, state = nnx.split(metrics(xj.all_reduce("batch")))
    specs = {"in_specs": (P(), P("batch"), P("batch")), "out_specs": (P(), P("batch"))}

    @jax.jit
    @partial(jax.shard_map, mesh=mesh, **specs)
    def step(state, y, z):
        metrics = nnx.merge(graphdef, state)
        metrics.update(logits=z, labels=y)
        return nnx.state(metrics), jax.tree.map(lambda v: v[None], metrics.compute())

    for rows in STEPS:
        y, z = jax.device_put(labels[rows], sharding), jax.device_put(logits[rows], sharding)
        state, values = step(state, y, z)
    return [listed(values, device) for device in range(2)]


# Each device's own images alone (two of each global batch): the values without all_reduce.
shards = [np.r_[2 * d : 2 * d + 2, 4 + 2 * d : 6 + 2 * d] for d in range(2)]
result = {"single": functional(slice(None)), "devices": sharded()}
result["local"] = [functional(rows) for rows in shards]
print(json.dumps(result))
