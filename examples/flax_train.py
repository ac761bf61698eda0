"""Train a small Flax NNX segmentation net on generated discs: a jitted step with optax.

python examples/flax_train.py --steps 300
"""

from __future__ import annotations

import argparse

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

import xploss
import xploss.jax as xj


def discs(n: int, size: int = 32, seed: int = 0) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Noisy images (n, size, size, 1) of one bright disc each, and its mask."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.3, (n, size, size, 1)).astype(np.float32)
    masks = np.zeros((n, size, size, 1), dtype=np.float32)
    for i in range(n):
        r, c = rng.integers(8, size - 8, 2)
        disc = (rows - r) ** 2 + (cols - c) ** 2 < rng.integers(4, 8) ** 2
        masks[i, ..., 0][disc] = 1
        images[i, ..., 0][disc] += 1.0
    return jnp.asarray(images), jnp.asarray(masks)


class Net(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(1, 16, (3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(16, 16, (3, 3), kernel_dilation=2, rngs=rngs)
        self.head = nnx.Conv(16, 1, (1, 1), rngs=rngs)

    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        return self.head(nnx.relu(self.conv2(nnx.relu(self.conv1(x)))))


@nnx.jit
def train_step(model: Net, optimizer: nnx.Optimizer, images, masks) -> jnp.ndarray:
    def loss_fn(model: Net) -> jnp.ndarray:
        return xploss.bce_dice_loss(masks, model(images), axis=(1, 2, 3), from_logits=True)

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def eval_step(model: Net, metrics: nnx.MultiMetric, images, masks) -> None:
    metrics.update(logits=model(images), labels=masks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    model = Net(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    images, masks = discs(128, seed=1)
    val_images, val_masks = discs(32, seed=2)
    rng = np.random.default_rng(0)
    for step in range(1, args.steps + 1):
        rows = rng.integers(0, len(images), 16)
        loss = train_step(model, optimizer, images[rows], masks[rows])
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}: loss {float(loss):.4f}")
    metrics = nnx.MultiMetric(
        dice=xj.DiceCoefficient(from_logits=True), tpr=xj.TruePositiveRate(from_logits=True)
    )
    eval_step(model, metrics, val_images, val_masks)
    result = metrics.compute()
    print(f"validation Dice {float(result['dice']):.4f}, TPR {float(result['tpr']):.4f}")


if __name__ == "__main__":
    main()
