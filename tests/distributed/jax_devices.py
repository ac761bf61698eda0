"""Two JAX host devices (``XLA_FLAGS=--xla_force_host_platform_device_count=2``, set by the
caller). Prints one JSON line: single-device values, ``jit`` on arrays sharded over the batch,
``shard_map`` with ``all_reduce``, and the mean of per-device Dice."""

from __future__ import annotations

import json
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import xploss
import xploss.jax as xj

assert jax.device_count() == 2, jax.devices()
key_a, key_b = jax.random.split(jax.random.PRNGKey(0))
labels = jax.random.randint(key_a, (8, 16, 16), 0, 3)
labels = labels.at[:4].set(jnp.where(labels[:4] == 2, 0, labels[:4]))  # uneven class content
logits = jax.random.normal(key_b, (8, 16, 16, 3)) * 2
options = {"from_logits": "softmax", "smooth_nr": 0.0, "smooth_dr": 0.0}


def loss(labels, logits, all_reduce=None):
    dice = xploss.dice_loss(labels, logits, axis=(0, 1, 2), all_reduce=all_reduce, **options)
    gdl = xploss.generalized_dice_loss(labels, logits, all_reduce=all_reduce, **options)
    return dice + gdl


single = loss(labels, logits)
single_grad = jax.grad(loss, argnums=1)(labels, logits)

mesh = Mesh(jax.devices(), ("batch",))
sharding = NamedSharding(mesh, P("batch"))
sharded_labels, sharded_logits = jax.device_put(labels, sharding), jax.device_put(logits, sharding)
jitted = jax.jit(loss)(sharded_labels, sharded_logits)
jitted_grad = jax.jit(jax.grad(loss, argnums=1))(sharded_labels, sharded_logits)


@partial(jax.shard_map, mesh=mesh, in_specs=(P("batch"), P("batch")), out_specs=P())
def mapped(labels, logits):
    return loss(labels, logits, all_reduce=xj.all_reduce("batch"))


@partial(jax.shard_map, mesh=mesh, in_specs=(P("batch"), P("batch")), out_specs=P("batch"))
def per_device(labels, logits):
    return xploss.dice_coefficient(labels, logits, axis=(0, 1, 2), **options)[None]


def mapped_total(logits):
    return mapped(sharded_labels, logits)


mapped_value = jax.jit(mapped)(sharded_labels, sharded_logits)
mapped_grad = jax.jit(jax.grad(mapped_total))(sharded_logits)
global_dice = xploss.dice_coefficient(labels, logits, axis=(0, 1, 2), **options)
print(
    json.dumps(
        {
            "single": float(single),
            "jit_sharded": float(jitted),
            "shard_map": float(mapped_value),
            "jit_grad_error": float(
                np.max(np.abs(np.asarray(jitted_grad) - np.asarray(single_grad)))
            ),
            "shard_map_grad_error": float(
                np.max(np.abs(np.asarray(mapped_grad) - np.asarray(single_grad)))
            ),
            "grad_scale": float(np.max(np.abs(np.asarray(single_grad)))),
            "global_dice": float(global_dice),
            "mean_of_device_dice": float(
                jnp.mean(jax.jit(per_device)(sharded_labels, sharded_logits))
            ),
        }
    )
)
