"""The seeds' Keras model with xploss: a small U-Net, BCE-Dice, the Dice and TPR metrics.
Runs on any Keras 3 backend (set KERAS_BACKEND to tensorflow, jax or torch).

    KERAS_BACKEND=jax python examples/keras_train.py --epochs 12
"""

from __future__ import annotations

import argparse

import keras
import numpy as np

import xploss.keras as xk


def discs(n: int, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images (n, size, size, 1) of one bright disc each, and its mask."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.2, (n, size, size, 1)).astype("float32")
    masks = np.zeros((n, size, size, 1), dtype="float32")
    for i in range(n):
        r, c = rng.integers(8, size - 8, 2)
        disc = (rows - r) ** 2 + (cols - c) ** 2 < rng.integers(4, 8) ** 2
        masks[i, ..., 0][disc] = 1
        images[i, ..., 0][disc] += 0.4
    return images, masks


def unet(size: int = 32) -> keras.Model:
    inputs = keras.Input((size, size, 1))
    c1 = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    c1 = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(c1)
    p1 = keras.layers.MaxPooling2D(2)(c1)
    c2 = keras.layers.Conv2D(16, 3, activation="relu", padding="same")(p1)
    u3 = keras.layers.Conv2DTranspose(8, 2, strides=2, padding="same")(c2)
    c3 = keras.layers.Conv2D(8, 3, activation="relu", padding="same")(
        keras.layers.concatenate([u3, c1])
    )
    return keras.Model(inputs, keras.layers.Conv2D(1, 1, activation="sigmoid")(c3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    images, masks = discs(192, seed=1)
    val_images, val_masks = discs(48, seed=2)
    seg_model = unet()
    seg_model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=xk.BCEDiceLoss(),
        metrics=["binary_accuracy", xk.DiceCoefficient(), xk.TruePositiveRate()],
    )
    seg_model.fit(
        images,
        masks,
        batch_size=16,
        epochs=args.epochs,
        verbose=2,
        validation_data=(val_images, val_masks),
    )
    result = seg_model.evaluate(val_images, val_masks, verbose=0, return_dict=True)
    print(
        f"validation Dice {result['dice_coefficient']:.4f}, TPR {result['true_positive_rate']:.4f}"
    )


if __name__ == "__main__":
    main()
