"""``MirroredStrategy`` over two logical CPU devices. Prints one JSON line: a custom step with
``xploss.tensorflow.all_reduce`` (value and gradient) against one device, and Keras ``fit`` /
``evaluate`` with xploss losses and metrics under the strategy against the same model without."""

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
import xploss.tensorflow as xtf  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
rng = np.random.default_rng(0)
labels = rng.integers(0, 2, (8, 16, 16, 1)).astype("float32")
labels[:4] = 0  # the first replica's shard holds no foreground
logits = rng.normal(size=(8, 16, 16, 1)).astype("float32")
options = {"from_logits": True, "smooth_nr": 0.0, "smooth_dr": 0.0}


def loss_and_grad(y, z, all_reduce=None):
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = xploss.dice_loss(y, z, all_reduce=all_reduce, **options)
    return loss, tape.gradient(loss, z)


single_loss, single_grad = loss_and_grad(tf.constant(labels), tf.constant(logits))
dataset = tf.data.Dataset.from_tensor_slices((labels, logits)).batch(8)
distributed = strategy.experimental_distribute_dataset(dataset)


@tf.function
def distributed_step(batch):
    return strategy.run(lambda y, z: loss_and_grad(y, z, xtf.all_reduce), args=batch)


per_replica_loss, per_replica_grad = distributed_step(next(iter(distributed)))


def mcc(y, z, all_reduce=None):
    # The confusion counts are a record of four fields, not the overlap sums' three.
    return xploss.matthews_corrcoef(y, z, from_logits=True, threshold=0.5, all_reduce=all_reduce)


single_mcc = mcc(tf.constant(labels), tf.constant(logits))
replica_mcc = strategy.experimental_local_results(
    tf.function(lambda batch: strategy.run(lambda y, z: mcc(y, z, xtf.all_reduce), args=batch))(
        next(iter(distributed))
    )
)
losses = [float(v) for v in strategy.experimental_local_results(per_replica_loss)]
# The sum's gradient is summed over replicas: 2x the single-device gradient per replica, which
# the optimizer's mean over replicas (or Keras' loss scaling by 1/replicas) undoes.
grads = (
    np.concatenate([np.asarray(g) for g in strategy.experimental_local_results(per_replica_grad)])
    / strategy.num_replicas_in_sync
)


def build():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(1, 3, padding="same")(inputs))
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=xk.BCEDiceLoss(from_logits=True),
        metrics=[xk.DiceCoefficient(from_logits=True), xk.TruePositiveRate(from_logits=True)],
    )
    return model


images = rng.normal(size=(32, 16, 16, 1)).astype("float32")
masks = (images > 0.3).astype("float32")
plain = build()
plain_fit = plain.fit(images, masks, batch_size=8, epochs=2, shuffle=False, verbose=0).history
plain_eval = plain.evaluate(images, masks, batch_size=8, verbose=0, return_dict=True)
with strategy.scope():
    mirrored = build()
mirrored_fit = mirrored.fit(images, masks, batch_size=8, epochs=2, shuffle=False, verbose=0).history
mirrored_eval = mirrored.evaluate(images, masks, batch_size=8, verbose=0, return_dict=True)
print(
    json.dumps(
        {
            "single_loss": float(single_loss),
            "replica_losses": losses,
            "single_mcc": float(single_mcc),
            "replica_mcc": [float(v) for v in replica_mcc],
            "grad_error": float(np.max(np.abs(grads - np.asarray(single_grad)))),
            "grad_scale": float(np.max(np.abs(np.asarray(single_grad)))),
            "plain_fit": {k: [float(x) for x in v] for k, v in plain_fit.items()},
            "mirrored_fit": {k: [float(x) for x in v] for k, v in mirrored_fit.items()},
            "plain_eval": {k: float(v) for k, v in plain_eval.items()},
            "mirrored_eval": {k: float(v) for k, v in mirrored_eval.items()},
            "dataset_dice": float(
                xploss.dice_coefficient(
                    masks,
                    plain.predict(images, verbose=0),
                    from_logits=True,
                    threshold=0.5,
                    smooth_nr=0,
                    smooth_dr=0,
                )
            ),
        }
    )
)
