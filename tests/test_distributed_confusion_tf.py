"""``xploss.keras.ConfusionMatrixMetric`` under a 2-replica ``MirroredStrategy`` equals the same
metric on one device (``tests/distributed/tf_confusion.py``, in a process of its own)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_distributed import require, run


def test_confusion_metrics_under_mirrored_strategy_equal_one_device():
    require("tensorflow", "keras")
    result = json.loads(run("tests.distributed.tf_confusion").strip().splitlines()[-1])
    plain, mirrored, names = result["plain"], result["mirrored"], result["names"]
    assert mirrored.keys() == plain.keys()
    for prefix in ("", "val_"):
        shown = {f"{prefix}{score}/{name}" for score in ("dice", "iou") for name in names}
        assert shown | {f"{prefix}image_dice/{name}" for name in names[1:]} <= plain.keys()
    for key, value in plain.items():
        if "loss" in key or "image_dice" in key:
            # The replicas' mean loss, and per-image values summed in float32 on each replica
            # before the float64 state adds them: equal to float32 rounding.
            np.testing.assert_allclose(mirrored[key], value, rtol=1e-6, err_msg=key)
        else:  # sums of counts: exact
            assert mirrored[key] == value, key
    for key, per_class in result["functional"].items():  # the validation data's
        shown = names if key == "dice" else names[1:]
        got = [mirrored[f"val_{key}/{name}"][-1] for name in shown]
        np.testing.assert_allclose(got, per_class, rtol=1e-6, err_msg=key)
        assert mirrored[f"val_{key}"][-1] == pytest.approx(np.mean(per_class), rel=1e-6)
