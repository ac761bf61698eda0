"""A jitted Flax NNX + optax step with ``xploss.bce_dice_loss`` and the ``xploss.jax`` metrics."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax  # type: ignore[import-untyped]
from flax import nnx

import xploss
import xploss.jax as xj
from xploss.demo.common import LEARNING_RATE, SHOWN, Data, ProgressBar, Run, sigmoid


class Net(nnx.Module):
    """The demo's tiny segmentation net, channels-last: ``(B, H, W, 1)`` to one logit a pixel."""

    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(1, 16, (3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(16, 16, (3, 3), kernel_dilation=2, rngs=rngs)
        self.head = nnx.Conv(16, 1, (1, 1), rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(nnx.relu(self.conv2(nnx.relu(self.conv1(x)))))


def overlap_metrics() -> nnx.MultiMetric:
    """The mean loss and the pooled Dice and TPR of every batch passed to ``update``."""
    return nnx.MultiMetric(  # type: ignore[no-untyped-call]
        loss=nnx.metrics.Average("loss"),
        dice=xj.DiceCoefficient(from_logits=True),
        tpr=xj.TruePositiveRate(from_logits=True),
    )


@nnx.jit
def train_step(
    model: Net,
    optimizer: nnx.Optimizer[Net],
    metrics: nnx.MultiMetric,
    images: jax.Array,
    masks: jax.Array,
) -> None:
    """One Adam step on BCE − log(Dice) (one Dice per image); the metrics see the batch."""

    def loss_fn(model: Net) -> tuple[jax.Array, jax.Array]:
        logits = model(images)
        return xploss.bce_dice_loss(masks, logits, axis=(1, 2, 3), from_logits=True), logits

    (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
    optimizer.update(model, grads)
    metrics.update(logits=logits, labels=masks, loss=loss)


@nnx.jit
def predict(model: Net, images: jax.Array) -> jax.Array:
    """The net's logits, jitted."""
    return model(images)


def train(data: Data, epochs: int) -> Run:
    """Train the net with a jitted NNX step and Adam; report every step."""
    start = time.perf_counter()
    model = Net(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(LEARNING_RATE), wrt=nnx.Param)
    metrics = overlap_metrics()
    held_out_masks = jnp.asarray(data.held_out_masks)
    run = Run("flax", "Flax NNX, jitted step")
    for epoch in range(epochs):
        batches = data.batches(epoch)
        bar = ProgressBar(run.name, epoch + 1, epochs, len(batches))
        for step, rows in enumerate(batches, 1):
            images, masks = jnp.asarray(data.images[rows]), jnp.asarray(data.masks[rows])
            train_step(model, optimizer, metrics, images, masks)
            values = {k: float(v) for k, v in metrics.compute().items()}
            bar.update(step, values["loss"], values["dice"], values["tpr"])
        logits = predict(model, jnp.asarray(data.held_out_images))
        dice, tpr = xj.DiceCoefficient(from_logits=True), xj.TruePositiveRate(from_logits=True)
        dice.update(logits=logits, labels=held_out_masks)
        tpr.update(logits=logits, labels=held_out_masks)
        scores = {"dice": float(dice.compute()), "tpr": float(tpr.compute())}
        bar.close(scores["dice"], scores["tpr"])
        run.end_epoch(values["loss"], values["dice"], values["tpr"], scores["dice"], scores["tpr"])
        metrics.reset()
    run.predictions = sigmoid(np.asarray(logits[:SHOWN, ..., 0]))
    run.seconds = time.perf_counter() - start
    return run
