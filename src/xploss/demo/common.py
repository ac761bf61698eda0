"""What the three trainings share: the generated shapes, the progress bar and the record of a run.

Every framework trains the same tiny net (two 3×3 convolutions, the second dilated, and a 1×1
head giving one logit per pixel) on the same images, so their curves can be compared.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]

#: Images per training step, in every framework.
BATCH_SIZE = 16
#: Held-out images whose Dice and TPR are reported after each epoch.
HELD_OUT = 64
#: Held-out images shown in the figure.
SHOWN = 4
#: Adam's learning rate, in every framework.
LEARNING_RATE = 1e-2


def shapes(n: int, size: int = 32, seed: int = 0) -> tuple[Array, Array]:
    """Noisy images ``(n, size, size, 1)`` of one to three bright discs or rectangles, and masks.

    The shapes' brightness varies from image to image and the noise is strong enough that a
    single threshold does not segment them cleanly: the net has to learn to smooth.
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((n, size, size), dtype=bool)
    for mask in masks:
        for _ in range(rng.integers(1, 4)):
            r, c = rng.integers(5, size - 5, 2)
            if rng.random() < 0.5:
                mask |= (rows - r) ** 2 + (cols - c) ** 2 < rng.integers(3, 8) ** 2
            else:
                half_height, half_width = rng.integers(2, 7, 2)
                mask |= (abs(rows - r) <= half_height) & (abs(cols - c) <= half_width)
    brightness = rng.uniform(0.6, 1.2, (n, 1, 1))
    images = rng.normal(0.0, 0.4, masks.shape) + brightness * masks
    return images[..., None].astype(np.float32), masks[..., None].astype(np.float32)


@dataclass(frozen=True)
class Data:
    """Training and held-out images with their masks, channels-last ``(n, H, W, 1)``."""

    images: Array
    masks: Array
    held_out_images: Array
    held_out_masks: Array

    @classmethod
    def generate(cls, steps: int, size: int = 32) -> Data:
        """``steps`` batches of training images and ``HELD_OUT`` images, from fixed seeds."""
        images, masks = shapes(steps * BATCH_SIZE, size, seed=1)
        held_out_images, held_out_masks = shapes(HELD_OUT, size, seed=2)
        return cls(images, masks, held_out_images, held_out_masks)

    def batches(self, epoch: int) -> list[npt.NDArray[np.intp]]:
        """The row indices of each training batch of ``epoch``: a reshuffle per epoch, the same
        in every framework that draws its own batches."""
        order = np.random.default_rng(epoch).permutation(len(self.images))
        return [order[i : i + BATCH_SIZE] for i in range(0, len(order), BATCH_SIZE)]


@dataclass
class Run:
    """One framework's training: the values of each epoch and the figure's predictions."""

    name: str
    description: str
    loss: list[float] = field(default_factory=list)
    dice: list[float] = field(default_factory=list)
    tpr: list[float] = field(default_factory=list)
    held_out_dice: list[float] = field(default_factory=list)
    held_out_tpr: list[float] = field(default_factory=list)
    #: Foreground probabilities ``(SHOWN, H, W)`` of the first held-out images after training.
    predictions: Array = field(default_factory=lambda: np.zeros((0, 0, 0), np.float32))
    seconds: float = 0.0

    def end_epoch(
        self, loss: float, dice: float, tpr: float, held_out_dice: float, held_out_tpr: float
    ) -> None:
        """Record an epoch: its running training values and the held-out Dice and TPR."""
        self.loss.append(loss)
        self.dice.append(dice)
        self.tpr.append(tpr)
        self.held_out_dice.append(held_out_dice)
        self.held_out_tpr.append(held_out_tpr)


def sigmoid(logits: npt.NDArray[np.floating]) -> Array:
    """Foreground probabilities from logits, in NumPy (for the figure)."""
    bounded = np.clip(logits.astype(np.float64), -50.0, 50.0)  # exp stays finite; p is 0 or 1 there
    return (1.0 / (1.0 + np.exp(-bounded))).astype(np.float32)


class ProgressBar:
    """A text progress bar for one epoch, e.g.
    ``torch  epoch 3/5 [##########----------] 12/20  loss 0.312  dice 0.871  tpr 0.902``.

    On a terminal the line is redrawn after every step; written to a file or a pipe, only the
    finished line is printed, so a log holds one line per epoch and no carriage returns.
    """

    def __init__(
        self, name: str, epoch: int, epochs: int, steps: int, stream: TextIO | None = None
    ) -> None:
        self.prefix = f"{name:<6} epoch {epoch}/{epochs}"
        self.steps = steps
        self.stream = sys.stdout if stream is None else stream
        self.live = self.stream.isatty()
        self.line = ""

    def update(self, step: int, loss: float, dice: float, tpr: float) -> None:
        """Show ``step`` of ``steps`` done, with the epoch's running loss, Dice and TPR."""
        done = round(20 * step / self.steps)
        self.line = (
            f"{self.prefix} [{'#' * done}{'-' * (20 - done)}] {step}/{self.steps}"
            f"  loss {loss:.3f}  dice {dice:.3f}  tpr {tpr:.3f}"
        )
        if self.live:
            self.stream.write("\r" + self.line)
            self.stream.flush()

    def close(self, held_out_dice: float, held_out_tpr: float) -> None:
        """End the line with the held-out Dice and TPR measured after the epoch."""
        end = f"  | held-out dice {held_out_dice:.3f}  tpr {held_out_tpr:.3f}"
        self.stream.write(("\r" if self.live else "") + self.line + end + "\n")
        self.stream.flush()
