"""Train a small PyTorch segmentation net on generated discs with xploss's BCE-Dice.

python examples/torch_train.py --steps 300
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import xploss.torch as xt


def discs(n: int, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy images (n, 1, size, size) of one bright disc each, and its mask."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.3, (n, 1, size, size)).astype(np.float32)
    masks = np.zeros((n, 1, size, size), dtype=np.float32)
    for i in range(n):
        r, c = rng.integers(8, size - 8, 2)
        disc = (rows - r) ** 2 + (cols - c) ** 2 < rng.integers(4, 8) ** 2
        masks[i, 0][disc] = 1
        images[i, 0][disc] += 1.0
    return torch.from_numpy(images), torch.from_numpy(masks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    torch.manual_seed(0)
    images, masks = discs(128, seed=1)
    val_images, val_masks = discs(32, seed=2)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=2, dilation=2),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 1, 1),
    )
    loss_fn = xt.BCEDiceLoss(from_logits=True)  # BCE - log(Dice), one Dice per image
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for step in range(1, args.steps + 1):
        rows = torch.randint(0, len(images), (16,))
        loss = loss_fn(net(images[rows]), masks[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0 or step == args.steps:
            print(f"step {step}: loss {loss.item():.4f}")
    dice = xt.DiceCoefficient(from_logits=True)
    tpr = xt.TruePositiveRate(from_logits=True)
    with torch.no_grad():
        logits = net(val_images)
    for metric in (dice, tpr):
        metric.update(logits, val_masks)
    print(f"validation Dice {dice.compute().item():.4f}, TPR {tpr.compute().item():.4f}")


if __name__ == "__main__":
    main()
