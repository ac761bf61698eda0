"""TensorFlow adapter: the all-reduce of the statistics over ``tf.distribute`` replicas.

TensorFlow tensors need no other adapter: the functional API takes them through the private
TensorFlow namespace, eagerly and inside ``tf.function(jit_compile=True)``.
"""

from __future__ import annotations

from xploss._extras import require

require("tensorflow", "tensorflow", needed_by="xploss.tensorflow")

import tensorflow as tf  # noqa: E402  (after the check)

from xploss._statistics import OverlapStats  # noqa: E402

__all__ = ["all_reduce"]


def all_reduce(stats: OverlapStats) -> OverlapStats:
    """Sum the statistics over the replicas of the current ``tf.distribute`` replica context.

    Pass ``all_reduce=xploss.tensorflow.all_reduce`` inside ``strategy.run`` (a custom training
    step) to get the Dice of the global batch; the sum is differentiable, its gradient is the sum
    of the replicas' gradients. Outside a strategy (one replica) it returns the statistics as
    they are. Keras' ``fit`` needs nothing: xploss' Keras losses are per sample and its metrics'
    variables are summed over replicas.

    Example:
        >>> import tensorflow as tf
        >>> import xploss
        >>> y_true = tf.constant([[1.0, 0.0], [1.0, 1.0]])
        >>> y_pred = tf.constant([[0.9, 0.2], [0.6, 0.3]])
        >>> dice = xploss.dice_coefficient(
        ...     y_true, y_pred, smooth_nr=0, smooth_dr=0, all_reduce=all_reduce
        ... )
        >>> round(float(dice), 6)  # one replica: the statistics as they are
        0.72
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return stats
    # Any statistics record: the overlap sums, or the confusion counts (four fields).
    return type(stats)(*context.all_reduce(tf.distribute.ReduceOp.SUM, list(stats)))
