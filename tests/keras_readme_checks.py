"""The README's "From Keras 3's own losses" table, both columns evaluated on the same arrays.
Run by ``test_keras.py`` once per Keras backend, in its own process (``KERAS_BACKEND``)."""

from __future__ import annotations

import pathlib
import re

import keras
import numpy as np
import pytest
from keras import ops

import xploss
import xploss.keras as xk

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
MARKER = "**From Keras 3's own losses.**"
KERAS_VERSION = tuple(int(part) for part in keras.__version__.split(".")[:2])


def rows() -> list[tuple[str, str, str]]:
    """``(first cell, Keras code, xploss code)`` of each row of the table."""
    lines = README.split(MARKER, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    found = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first, second = (cell.strip() for cell in line.strip().strip("|").split(" | "))
        spans = [re.search(r"`([^`]+)`", cell).group(1) for cell in (first, second)]
        found.append((first, *spans))
    return found


def data(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and one-hot targets ``(2, 5, 6, C)`` (the mask of class 1 when C = 1)."""
    generator = np.random.default_rng(channels)
    classes = max(channels, 2)
    labels = generator.integers(0, classes, size=(2, 5, 6))
    logits = generator.normal(size=(2, 5, 6, classes))
    probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    onehot = np.eye(classes)[labels]
    return onehot[..., -channels:].astype("float32"), probabilities[..., -channels:].astype(
        "float32"
    )


def test_the_table_has_its_rows():
    assert len(rows()) >= 4
    assert all(keras_code.startswith("keras.losses.") for _, keras_code, _ in rows())


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(("first", "keras_code", "xploss_code"), rows(), ids=lambda v: v[:40])
def test_the_row_holds(first, keras_code, xploss_code, channels):
    if "3.15 and earlier" in first and KERAS_VERSION > (3, 15):
        # fixed upstream: Keras' alpha weighs the false positives, as xploss's
        xploss_code = xploss_code.replace("alpha=b, beta=a", "alpha=a, beta=b")
    y_true, y_pred = (ops.convert_to_tensor(x) for x in data(channels))
    names = {"keras": keras, "xploss": xploss, "xk": xk, "a": 0.3, "b": 0.7}
    names.update(y_true=y_true, y_pred=y_pred)
    theirs = ops.convert_to_numpy(eval(keras_code, names))
    ours = ops.convert_to_numpy(ops.mean(eval(xploss_code, names)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
