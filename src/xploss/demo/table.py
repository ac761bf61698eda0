"""The same example batch through every backend: each loss's value, and the largest difference.

Every backend runs the same code path, so the columns should agree to float32 rounding; the last
column shows by how much they differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import xploss

#: The array libraries of the table, in column order.
BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "tensorflow")


def example_batch(seed: int = 0) -> tuple[Any, Any, Any]:
    """A (4, 32, 32, 3) channels-last batch: one-hot discs, logits near them, and their labels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:32, :32]
    labels = np.zeros((4, 32, 32), dtype=np.int64)
    for image in range(4):
        for label in (1, 2):
            r, c, radius = rng.integers(6, 26), rng.integers(6, 26), rng.integers(3, 8)
            labels[image][(rows - r) ** 2 + (cols - c) ** 2 < radius**2] = label
    one_hot = np.eye(3)[labels]
    logits = 4 * (one_hot - 0.5) + rng.normal(0, 2, one_hot.shape)
    return labels, one_hot.astype(np.float32), logits.astype(np.float32)


def converter(name: str) -> Callable[[Any], Any]:
    """The function that turns a NumPy array into an array of the backend ``name``."""
    if name == "numpy":
        import numpy as np

        return np.asarray
    if name == "array_api_strict":
        import array_api_strict

        return array_api_strict.asarray
    if name == "torch":
        import torch

        return torch.as_tensor
    if name == "jax":
        import jax.numpy as jnp

        return jnp.asarray
    import tensorflow as tf

    return tf.convert_to_tensor  # type: ignore[no-any-return]


def quantities(labels: Any, one_hot: Any, logits: Any) -> dict[str, Any]:
    """Each loss and metric of the functional API on one batch, by name (backend arrays)."""
    per_image: dict[str, Any] = {"axis": (1, 2), "from_logits": True}
    return {
        "dice_coefficient (per image)": xploss.dice_coefficient(one_hot, logits, **per_image),
        "dice_coefficient (batch)": xploss.dice_coefficient(one_hot, logits, from_logits=True),
        "dice_loss (softmax, sparse)": xploss.dice_loss(
            labels, logits, axis=(1, 2), from_logits="softmax"
        ),
        "binary_cross_entropy": xploss.binary_cross_entropy(one_hot, logits, from_logits=True),
        "bce_dice_loss": xploss.bce_dice_loss(one_hot, logits, **per_image),
        "generalized_dice_loss": xploss.generalized_dice_loss(
            labels, logits, axis=(1, 2), from_logits="softmax"
        ),
        "true_positive_rate": xploss.true_positive_rate(one_hot, logits, **per_image),
        "precision": xploss.precision(one_hot, logits, **per_image),
        "jaccard_loss": xploss.jaccard_loss(one_hot, logits, **per_image),
        "tversky_loss (0.3, 0.7)": xploss.tversky_loss(
            one_hot, logits, alpha=0.3, beta=0.7, **per_image
        ),
        "focal_tversky_loss": xploss.focal_tversky_loss(one_hot, logits, **per_image),
        "dice_loss (soft labels)": xploss.dice_loss(
            0.9 * one_hot + 0.05, logits, soft_label=True, **per_image
        ),
        "cross_entropy (softmax, sparse)": xploss.cross_entropy(labels, logits, from_logits=True),
        "focal_loss (sigmoid, alpha 0.25)": xploss.focal_loss(
            one_hot, logits, from_logits=True, alpha=0.25
        ),
        "focal_loss (softmax, sparse)": xploss.focal_loss(labels, logits, from_logits="softmax"),
        "dice_ce_loss (softmax, sparse)": xploss.dice_ce_loss(
            labels, logits, axis=(1, 2), from_logits="softmax"
        ),
        "dice_focal_loss": xploss.dice_focal_loss(one_hot, logits, **per_image),
        "generalized_dice_focal_loss": xploss.generalized_dice_focal_loss(
            labels, logits, axis=(1, 2), from_logits="softmax"
        ),
    }


def print_table(names: Sequence[str]) -> None:
    """Compute every quantity in each backend of ``names`` and print them side by side."""
    batch = example_batch()
    table: dict[str, dict[str, float]] = {}
    for name in names:
        to_backend = converter(name)
        values = quantities(*(to_backend(a) for a in batch))
        for quantity, value in values.items():
            table.setdefault(quantity, {})[name] = float(value)

    width = max(map(len, table)) + 2
    print("the same (4, 32, 32, 3) batch through every backend (float32)\n")
    print("".join([f"{'quantity':<{width}}", *(f"{n:>18}" for n in names), f"{'max diff':>12}"]))
    for quantity, row in table.items():
        spread = max(row.values()) - min(row.values())
        cells = "".join(f"{row[n]:>18.7f}" for n in names)
        print(f"{quantity:<{width}}{cells}{spread:>12.2e}")
