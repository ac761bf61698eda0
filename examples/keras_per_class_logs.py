"""A mean Dice that looks fine while one class is never predicted, and the per-class logs that
show it: ``xploss.keras.ConfusionMatrixMetric(per_class_logs=True)`` in ``model.fit``.

The five-class model below cannot output its last class (its logit is pinned very low), as a
class-weighted U-Net that has collapsed onto the frequent classes: the mean Dice of the classes
reaches 0.72, and only ``dice/lesion`` (0) in the progress bar and the history says why.

    KERAS_BACKEND=jax python examples/keras_per_class_logs.py
"""

from __future__ import annotations

import argparse

import keras
import numpy as np

import xploss.keras as xk

CLASSES = ("background", "liver", "kidney", "spleen", "lesion")


def label_maps(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Label maps ``(n, 8, 8)`` with a rare last class, and noisy images that show every class
    but the last (one channel each)."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(CLASSES), (n, 8, 8), p=[0.25, 0.25, 0.2, 0.2, 0.1])
    channels = np.eye(len(CLASSES))[labels][..., :-1]
    images = channels + rng.normal(scale=0.3, size=channels.shape)
    return images.astype("float32"), labels


def collapsed_model() -> keras.Model:
    """Logits for every class; the last one is pinned at -20, so it is never the arg-max."""
    inputs = keras.Input((8, 8, len(CLASSES) - 1))
    seen = keras.layers.Conv2D(len(CLASSES) - 1, 1)(inputs)
    never = keras.ops.zeros_like(seen[..., :1]) - 20.0
    return keras.Model(inputs, keras.layers.Concatenate()([seen, never]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    images, labels = label_maps(64, seed=1)
    val_images, val_labels = label_maps(32, seed=2)
    model = collapsed_model()
    dice = xk.ConfusionMatrixMetric(
        metrics="dice",
        num_classes=len(CLASSES),
        class_names=CLASSES,
        per_class_logs=True,
        from_logits="softmax",
    )
    weights = [1.0, 1.0, 1.25, 1.25, 2.5]  # the class-weighted loss of the user's U-Net
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=xk.CrossEntropyLoss(from_logits=True, class_weight=weights),
        metrics=[dice],
    )
    history = model.fit(
        images,
        labels,
        batch_size=16,
        epochs=args.epochs,
        verbose=2,
        validation_data=(val_images, val_labels),
    ).history
    mean = history["val_dice"][-1]
    lesion = history["val_dice/lesion"][-1]
    print(f"validation Dice {mean:.4f} (the mean of the classes); dice/lesion {lesion:.4f}")
    for name in CLASSES:
        print(f"  val_dice/{name}: {history[f'val_dice/{name}'][-1]:.4f}")


if __name__ == "__main__":
    main()
