"""The same example batch through every installed backend: each loss, and the largest difference.

Run with ``python -m xploss.demo`` (``--backends numpy,torch`` to choose). It needs NumPy; the
other libraries are used when installed, and a backend asked for by name must be installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

import xploss

BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "tensorflow")
MODULES = {"array_api_strict": "array_api_strict"}


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
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=None, help=f"comma-separated, from {BACKENDS}")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("numpy") is None:
        print("the demo needs NumPy: pip install numpy", file=sys.stderr)
        return 2
    requested = args.backends.split(",") if args.backends else None
    names = requested or [n for n in BACKENDS if importlib.util.find_spec(n) is not None]
    missing = [n for n in names if n not in BACKENDS or importlib.util.find_spec(n) is None]
    if missing:
        print(f"backends not installed (or unknown): {', '.join(missing)}", file=sys.stderr)
        return 2

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
