"""Every xploss function on the seeds' arrays with NumPy, and the seeds' axis=[1,2,3] question.

python examples/numpy_metrics.py
"""

from __future__ import annotations

import numpy as np

import xploss

y_true = np.array([[[1, 0], [1, 1]], [[0, 0], [0, 1]]])  # two 2×2 images
y_pred = np.array([[[0.9, 0.2], [0.6, 0.3]], [[0.1, 0.4], [0.2, 0.7]]])
exact = {"smooth_nr": 0, "smooth_dr": 0}

print(
    "per-image Dice  ",
    xploss.dice_coefficient(y_true, y_pred, axis=(1, 2), reduction="none", **exact),
)
print("mean of them    ", xploss.dice_coefficient(y_true, y_pred, axis=(1, 2), **exact))
print("batch Dice      ", xploss.dice_coefficient(y_true, y_pred, **exact))
print("BCE             ", xploss.binary_cross_entropy(y_true, y_pred))
print("BCE - log(Dice) ", xploss.bce_dice_loss(y_true, y_pred, axis=(1, 2), **exact))
print("TPR per image   ", xploss.true_positive_rate(y_true, y_pred, axis=(1, 2), reduction="none"))
labels = np.array([[[0, 1], [2, 0]]])
probs = np.array([[[[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]], [[0.2, 0.2, 0.6], [0.5, 0.3, 0.2]]]])
print("generalized Dice loss", xploss.generalized_dice_loss(labels, probs, **exact))
try:
    xploss.dice_coefficient(np.arange(24).reshape(4, 6) % 2, np.full((4, 6), 0.5), axis=[1, 2, 3])
except ValueError as error:
    print("axis=[1, 2, 3] on a (4, 6) input:", error)
