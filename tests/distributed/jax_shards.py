"""Four JAX host devices (``XLA_FLAGS=--xla_force_host_platform_device_count=4``, set by the
caller). Prints one JSON line: for each loss, its value and gradient on one device and under
``shard_map`` with ``all_reduce`` on equal shards (two images per device), and on empty ones (a
batch of no image, under ``vmap``); and the eager calls on arrays sharded with ``NamedSharding``
beside the same calls on unsharded arrays."""

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

assert jax.device_count() == 4, jax.devices()
key_a, key_b = jax.random.split(jax.random.PRNGKey(0))
labels = jax.random.randint(key_a, (8, 6, 6), 0, 3)
labels = labels.at[:2].set(jnp.where(labels[:2] == 2, 0, labels[:2]))  # uneven class content
logits = jax.random.normal(key_b, (8, 6, 6, 3)) * 2
onehot = jax.nn.one_hot(labels, 3)
softmax = {"from_logits": "softmax", "smooth_nr": 1e-3, "smooth_dr": 1e-3}
LOSSES = {
    # per image (the batch axis survives axis): the mean and the sum over every device's images
    "dice_per_image": lambda y, z, r: xploss.dice_loss(y, z, axis=(1, 2), all_reduce=r, **softmax),
    "dice_per_image_sum": lambda y, z, r: xploss.dice_loss(
        y, z, axis=(1, 2), reduction="sum", all_reduce=r, **softmax
    ),
    "focal_per_image": lambda y, z, r: xploss.focal_tversky_loss(
        y, z, axis=(1, 2), weight=(1.0, 2.0, 3.0), all_reduce=r, **softmax
    ),
    "gdl_per_image": lambda y, z, r: xploss.generalized_dice_loss(
        y, z, axis=(1, 2), all_reduce=r, **softmax
    ),
    "dice_coefficient_per_image": lambda y, z, r: xploss.dice_coefficient(
        y, z, axis=(1, 2), all_reduce=r, **softmax
    ),
    # the batch summed: the statistics of every device
    "dice_batch": lambda y, z, r: xploss.dice_loss(y, z, axis=(0, 1, 2), all_reduce=r, **softmax),
    # compound: every term global
    "bce_dice": lambda y, z, r: xploss.bce_dice_loss(
        jax.nn.one_hot(y, 3), z, from_logits=True, all_reduce=r
    ),
    "bce_dice_per_image": lambda y, z, r: xploss.bce_dice_loss(
        jax.nn.one_hot(y, 3), z, axis=(1, 2, 3), from_logits=True, all_reduce=r
    ),
}

mesh = Mesh(jax.devices(), ("batch",))
sharding = NamedSharding(mesh, P("batch"))


def sharded_run(loss, y, z):
    """The value every device returns, and the gradient, under shard_map with all_reduce."""

    @partial(jax.shard_map, mesh=mesh, in_specs=(P("batch"), P("batch")), out_specs=P("batch"))
    def mapped(y, z):
        return loss(y, z, xj.all_reduce("batch"))[None]  # one value per device

    values = jax.jit(mapped)(y, z)
    # Every device returns the global value, so the mean over devices is that value too.
    grad = jax.jit(jax.grad(lambda z: jnp.mean(mapped(y, z))))(z)
    return np.asarray(values).tolist(), np.asarray(grad)


def vmapped_run(loss, y, z):
    """The same with the devices as a ``vmap`` axis named "batch": XLA compiles no ``shard_map``
    over arrays of size 0, and ``vmap`` over 4 members of no image each runs the same psum."""
    y, z = (jnp.reshape(a, (4, a.shape[0] // 4, *a.shape[1:])) for a in (y, z))

    def mapped(z):
        return jax.vmap(lambda y, z: loss(y, z, xj.all_reduce("batch")), axis_name="batch")(y, z)

    grad = jax.grad(lambda z: jnp.mean(mapped(z)))(z)
    return np.asarray(mapped(z)).tolist(), np.asarray(grad).reshape(-1, *grad.shape[2:])


def one_device(loss, y, z):
    return float(loss(y, z, None)), np.asarray(jax.grad(lambda z: loss(y, z, None))(z))


result: dict[str, object] = {}
for name, loss in LOSSES.items():
    for shards, count in (("equal", 8), ("empty", 0)):
        y, z = labels[:count], logits[:count]
        single, single_grad = one_device(loss, y, z)
        if count:
            y, z = jax.device_put(y, sharding), jax.device_put(z, sharding)
        values, grad = (sharded_run if count else vmapped_run)(loss, y, z)
        result[f"{name}/{shards}"] = {
            "single": single,
            "devices": values,
            "grad_error": float(np.max(np.abs(grad - single_grad), initial=0.0)),
            "grad_scale": float(np.max(np.abs(single_grad), initial=0.0)),
        }

# Eager calls on NamedSharding arrays: class indices, a list weight, the arg-max, a Flax update.
eager = {
    "class_indices": lambda y, z: xploss.dice_loss(y, z, **softmax),
    "list_weight": lambda y, z: xploss.dice_loss(
        jax.nn.one_hot(y, 3), z, axis=(1, 2), weight=[1.0, 2.0, 3.0], **softmax
    ),
    "arg_max": lambda y, z: xploss.dice_coefficient(y, z, threshold=0.5, **softmax),
}


def flax_update(y, z):
    metric = xj.DiceCoefficient(from_logits="softmax", num_classes=3)
    metric.update(logits=z, labels=y)
    return metric.compute()


eager["flax_update"] = flax_update
sharded_labels, sharded_logits = jax.device_put(labels, sharding), jax.device_put(logits, sharding)
result["eager"] = {
    name: [float(f(labels, logits)), float(f(sharded_labels, sharded_logits))]
    for name, f in eager.items()
}
print(json.dumps(result))
