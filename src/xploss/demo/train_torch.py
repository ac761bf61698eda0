"""A plain PyTorch loop with ``xploss.torch.BCEDiceLoss`` and the stateful Dice and TPR metrics."""

from __future__ import annotations

import time

import torch

import xploss.torch as xt
from xploss.demo.common import LEARNING_RATE, SHOWN, Data, ProgressBar, Run, sigmoid


def net() -> torch.nn.Module:
    """The demo's tiny segmentation net, channels-first: ``(B, 1, H, W)`` to one logit a pixel."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=2, dilation=2),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 1, 1),
    )


def channels_first(array: object) -> torch.Tensor:
    """A channels-last NumPy batch ``(B, H, W, 1)`` as a ``(B, 1, H, W)`` tensor."""
    return torch.as_tensor(array).permute(0, 3, 1, 2).contiguous()


def held_out_scores(model: torch.nn.Module, data: Data) -> tuple[float, float, torch.Tensor]:
    """The held-out Dice and TPR (pooled over every image), and the held-out logits."""
    dice = xt.DiceCoefficient(from_logits=True)
    tpr = xt.TruePositiveRate(from_logits=True)
    model.eval()
    with torch.no_grad():
        logits = model(channels_first(data.held_out_images))
    masks = channels_first(data.held_out_masks)
    dice.update(logits, masks)
    tpr.update(logits, masks)
    model.train()
    return float(dice.compute()), float(tpr.compute()), logits


def train(data: Data, epochs: int) -> Run:
    """Train the net with BCE − log(Dice) (one Dice per image) and Adam; report every step."""
    start = time.perf_counter()
    torch.manual_seed(0)
    model = net()
    loss_fn = xt.BCEDiceLoss(from_logits=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    dice = xt.DiceCoefficient(from_logits=True)  # the Dice of every batch seen this epoch
    tpr = xt.TruePositiveRate(from_logits=True)
    images, masks = channels_first(data.images), channels_first(data.masks)
    run = Run("torch", "PyTorch loop")
    for epoch in range(epochs):
        batches = data.batches(epoch)
        bar = ProgressBar(run.name, epoch + 1, epochs, len(batches))
        total = 0.0
        for step, rows in enumerate(batches, 1):
            logits = model(images[rows])
            loss = loss_fn(logits, masks[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            dice.update(logits.detach(), masks[rows])
            tpr.update(logits.detach(), masks[rows])
            bar.update(step, total / step, float(dice.compute()), float(tpr.compute()))
        held_out_dice, held_out_tpr, held_out_logits = held_out_scores(model, data)
        bar.close(held_out_dice, held_out_tpr)
        run.end_epoch(
            total / len(batches),
            float(dice.compute()),
            float(tpr.compute()),
            held_out_dice,
            held_out_tpr,
        )
        dice.reset()
        tpr.reset()
    run.predictions = sigmoid(held_out_logits[:SHOWN, 0].numpy())
    run.seconds = time.perf_counter() - start
    return run
