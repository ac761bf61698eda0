"""MkDocs hook: the figures of the site, drawn at build time from xploss itself.

``assets/dice-focal-tversky.svg`` (on the overlap losses page): the Dice, Tversky and focal
Tversky losses, with their default options, of one foreground pixel against its predicted
probability, and of a 100-pixel object against the number of missed or false-positive pixels.
The figure is added to the site's files; nothing is written into ``docs/``.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from mkdocs.structure.files import File

import xploss

FIGURE = "assets/dice-focal-tversky.svg"
LOSSES = {
    "Dice": xploss.dice_loss,
    "Tversky (α = 0.3, β = 0.7)": lambda y, p, **o: xploss.tversky_loss(
        y, p, alpha=0.3, beta=0.7, **o
    ),
    "focal Tversky (α = 0.3, β = 0.7, γ = 0.75)": xploss.focal_tversky_loss,
}


def one_pixel() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each loss of a target of one foreground pixel, against its predicted probability."""
    p = np.linspace(0.0, 1.0, 201)
    y = np.ones((p.size, 1))
    values = {name: f(y, p[:, None], axis=1, reduction="none") for name, f in LOSSES.items()}
    # the Dice loss of one pixel is 1 - 2p / (1 + p), up to the 1e-5 smoothing
    np.testing.assert_allclose(values["Dice"], 1 - 2 * p / (1 + p), atol=1e-4)
    return p, values


def errors(kind: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Each loss of a 100-pixel object in a 200-pixel image, against the number of pixels
    missed (``kind="fn"``) or predicted outside it (``kind="fp"``), the rest right."""
    wrong = np.arange(101)
    y = np.zeros((wrong.size, 200))
    y[:, :100] = 1
    p = y.copy()
    for row, k in enumerate(wrong):
        if kind == "fn":
            p[row, 100 - k : 100] = 0
        else:
            p[row, 100 : 100 + k] = 1
    return wrong, {name: f(y, p, axis=1, reduction="none") for name, f in LOSSES.items()}


def figure() -> bytes:
    plt.rcParams["svg.fonttype"] = "none"
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    p, values = one_pixel()
    for (name, v), color in zip(values.items(), ("C0", "C1", "C2"), strict=True):
        left.plot(p, v, color=color, label=name)
    left.set(
        xlabel="predicted probability p of the one foreground pixel",
        ylabel="loss",
        title="one foreground pixel",
    )
    left.legend(frameon=False, fontsize="small")
    for kind, style in (("fn", "-"), ("fp", "--")):
        wrong, values = errors(kind)
        for v, color in zip(values.values(), ("C0", "C1", "C2"), strict=True):
            right.plot(wrong, v, style, color=color)
    right.set(
        xlabel="wrong pixels (object of 100 pixels)",
        ylabel="loss",
        title="missed pixels (solid), false positives (dashed)",
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_ylim(0, 1)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue().encode()


def on_files(files, config):
    files.append(File.generated(config, FIGURE, content=figure()))
    return files
