"""Keras ``fit`` with ``xploss.keras.BCEDiceLoss`` and the Dice and TPR metrics.

Keras runs on the backend it is configured for (``KERAS_BACKEND``; TensorFlow by default). A
callback draws the same progress bar as the other frameworks from the logs of ``fit``.
"""

from __future__ import annotations

import time
from typing import Any

import keras
import numpy as np

import xploss.keras as xk
from xploss.demo.common import BATCH_SIZE, LEARNING_RATE, SHOWN, Data, ProgressBar, Run, sigmoid


def net(size: int) -> keras.Model:
    """The demo's tiny segmentation net, channels-last: ``(B, H, W, 1)`` to one logit a pixel."""
    return keras.Sequential(
        [
            keras.Input((size, size, 1)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(16, 3, padding="same", dilation_rate=2, activation="relu"),
            keras.layers.Conv2D(1, 1),
        ]
    )


class Progress(keras.callbacks.Callback):  # type: ignore[misc]
    """Draws a ``ProgressBar`` per epoch from ``fit``'s logs and records them in a ``Run``.

    The logged loss and metrics are the running values of the epoch (Keras resets them at its
    start), the ``val_`` ones those of the held-out images after it.
    """

    def __init__(self, run: Run, epochs: int) -> None:
        super().__init__()
        self.run = run
        self.epochs = epochs
        self.bar: ProgressBar | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.bar = ProgressBar(self.run.name, epoch + 1, self.epochs, self.params["steps"])

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        assert self.bar is not None and logs is not None
        self.bar.update(batch + 1, float(logs["loss"]), float(logs["dice"]), float(logs["tpr"]))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        assert self.bar is not None and logs is not None
        values = {k: float(v) for k, v in logs.items()}
        self.bar.close(values["val_dice"], values["val_tpr"])
        self.run.end_epoch(
            values["loss"], values["dice"], values["tpr"], values["val_dice"], values["val_tpr"]
        )


def train(data: Data, epochs: int) -> Run:
    """Train the net with ``compile`` and ``fit``: BCE − log(Dice) per image, Adam."""
    start = time.perf_counter()
    keras.utils.set_random_seed(0)
    model = net(data.images.shape[1])
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=xk.BCEDiceLoss(from_logits=True),
        metrics=[
            xk.DiceCoefficient(from_logits=True, name="dice"),
            xk.TruePositiveRate(from_logits=True, name="tpr"),
        ],
    )
    run = Run("keras", f"Keras fit ({keras.backend.backend()} backend)")
    model.fit(
        data.images,
        data.masks,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_data=(data.held_out_images, data.held_out_masks),
        verbose=0,
        callbacks=[Progress(run, epochs)],
    )
    logits = keras.ops.convert_to_numpy(model(data.held_out_images[:SHOWN], training=False))
    run.predictions = sigmoid(np.asarray(logits)[..., 0])
    run.seconds = time.perf_counter() - start
    return run
