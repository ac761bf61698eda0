"""One PNG: the training curves of every framework, and held-out inputs, targets, predictions."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import xploss
from xploss.demo.common import SHOWN, Data, Run


def write_figure(runs: Sequence[Run], data: Data, path: pathlib.Path) -> None:
    """Write the figure to ``path`` (PNG), drawn with the non-interactive Agg canvas.

    Top: the training loss of each epoch, and the training and held-out Dice. Below, for the
    first held-out images: the input, the target, and each framework's foreground probability,
    titled with that image's Dice (``p > 0.5``).
    """
    rows = 2 + len(runs)
    figure = Figure(figsize=(2.0 * SHOWN, 3.0 + 2.0 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    parts = figure.subfigures(2, 1, height_ratios=[3.0, 2.0 * rows], squeeze=False)
    loss_axes, dice_axes = parts[0, 0].subplots(1, 2)
    for index, run in enumerate(runs):
        color = f"C{index}"
        epochs = range(1, len(run.loss) + 1)
        loss_axes.plot(epochs, run.loss, "o-", color=color, label=run.description)
        dice_axes.plot(epochs, run.dice, "o--", color=color, alpha=0.6)
        dice_axes.plot(epochs, run.held_out_dice, "o-", color=color, label=run.name)
    loss_axes.set(title="training loss: BCE − log(Dice)", xlabel="epoch")
    dice_axes.set(title="Dice: training (dashed), held-out (solid)", xlabel="epoch")
    loss_axes.legend(fontsize="small")
    dice_axes.legend(fontsize="small")
    for axes in (loss_axes, dice_axes):
        axes.grid(alpha=0.3)
        axes.set_xlim(0.75, max(len(run.loss) for run in runs) + 0.25)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))

    images = data.held_out_images[:SHOWN, ..., 0]
    targets = data.held_out_masks[:SHOWN, ..., 0]
    grid = parts[1, 0].subplots(rows, SHOWN, squeeze=False)
    labels = ["input", "target", *(run.name for run in runs)]
    for column in range(SHOWN):
        panels = grid[:, column]
        panels[0].imshow(images[column], cmap="gray")
        panels[1].imshow(targets[column], cmap="gray", vmin=0, vmax=1)
        for axes, run in zip(panels[2:], runs, strict=True):
            prediction = run.predictions[column]
            dice = xploss.dice_coefficient(
                targets[column], prediction, threshold=0.5, smooth_nr=0, smooth_dr=0
            )
            axes.imshow(prediction, cmap="magma", vmin=0, vmax=1)
            axes.set_title(f"Dice {float(dice):.3f}", fontsize="small")
        for axes, label in zip(panels, labels, strict=True):
            axes.set_xticks([])
            axes.set_yticks([])
            if column == 0:
                axes.set_ylabel(label)
    figure.suptitle("xploss demo: BCE-Dice training on generated shapes")
    figure.savefig(path, dpi=100)
