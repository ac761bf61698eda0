"""``xploss.keras.ConfusionMatrixMetric`` under a ``MirroredStrategy`` over two logical CPU
devices against the same model on one device. Prints one JSON line: the ``fit`` history of both,
with per-class logs of the training and validation data, and the functional API's values of the
plain model's validation predictions. The learning rate is 0, so both models keep the same
weights and every batch's predictions are the same on both: the metrics' counts must be too."""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import keras  # noqa: E402

import xploss  # noqa: E402
import xploss.keras as xk  # noqa: E402

NAMES = ("background", "liver", "kidney", "spleen", "lesion")
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
rng = np.random.default_rng(0)
labels = rng.integers(0, 5, (32, 8, 8))
val_labels = rng.integers(0, 5, (16, 8, 8))


def images_of(targets: np.ndarray) -> np.ndarray:
    """Noisy one-hot images: a random model reads them into imperfect predictions."""
    return (np.eye(5)[targets] + rng.normal(scale=0.8, size=(*targets.shape, 5))).astype("float32")


images, val_images = images_of(labels), images_of(val_labels)


def build() -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 5))
    hidden = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(5, 1)(hidden))
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            xk.ConfusionMatrixMetric(
                metrics=("dice", "iou", "mcc", "specificity"),
                num_classes=5,
                class_names=NAMES,
                per_class_logs=True,
                from_logits="softmax",
            ),
            xk.ConfusionMatrixMetric(
                metrics="dice",
                name="image_dice",
                num_classes=5,
                class_names=NAMES,
                per_class_logs=True,
                from_logits="softmax",
                include_background=False,
                aggregation_level="samplewise",
            ),
        ],
    )
    return model


def history(model: keras.Model) -> dict[str, list[float]]:
    """One epoch's logs: the training batches', then the validation data's (``val_``)."""
    logs = model.fit(
        images,
        labels,
        batch_size=8,
        epochs=1,
        shuffle=False,
        verbose=0,
        validation_data=(val_images, val_labels),
    ).history
    return {k: [float(x) for x in v] for k, v in logs.items()}


plain = build()
plain_history = history(plain)
with strategy.scope():
    mirrored = build()
mirrored_history = history(mirrored)
predicted = plain.predict(val_images, verbose=0)
options = {"from_logits": "softmax", "average": "none"}
functional = {
    "dice": xploss.confusion_metric(val_labels, predicted, metric="dice", **options).tolist(),
    "image_dice": xploss.confusion_metric(
        val_labels, predicted, metric="dice", include_background=False,
        aggregation_level="samplewise", **options,
    ).tolist(),
}  # fmt: skip
print(
    json.dumps(
        {
            "names": NAMES,
            "plain": plain_history,
            "mirrored": mirrored_history,
            "functional": functional,
        }
    )
)
