"""The README's table "From scikit-learn, TorchMetrics and MONAI": both columns evaluated on
random label maps, so every row is a checked equality and a new row without a check fails."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
torchmetrics = pytest.importorskip("torchmetrics")
monai_metrics = pytest.importorskip("monai.metrics")

import monai  # noqa: E402
import sklearn  # noqa: E402

import xploss  # noqa: E402

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
MARKER = "**From scikit-learn, TorchMetrics and MONAI**"


def rows() -> list[tuple[str, str]]:
    lines = README.split(MARKER, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    found = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        peer, ours = (re.findall(r"`([^`]+)`", cell)[0] for cell in line.split("|")[1:3])
        found.append((peer, ours))
    return found


def names(seed: int, classes: int = 4) -> dict[str, object]:
    """Label maps ``(2, 6, 7)`` of ``classes`` classes, flat and one-hot, in every library."""
    rng = np.random.default_rng(seed)
    y_img = rng.integers(0, classes, (2, 6, 7))
    # Mostly right, so that no score is trivially 0; class 3 never predicted in image 0.
    p_img = np.where(rng.random((2, 6, 7)) < 0.6, y_img, rng.integers(0, classes, (2, 6, 7)))
    p_img[0][p_img[0] == 3] = 0
    y, p = y_img.ravel(), p_img.ravel()
    onehot = np.eye(classes)
    return {
        "np": np,
        "xploss": xploss,
        "sklearn": sklearn,
        "torchmetrics": torchmetrics,
        "monai": monai,
        "C": classes,
        "y": y,
        "p": p,
        "P": onehot[p],
        "yt": torch.from_numpy(y),
        "pt": torch.from_numpy(p),
        "Y": np.moveaxis(onehot[y_img], -1, 1),
        "PB": np.moveaxis(onehot[p_img], -1, 1),
    }


def peer_value(code: str, space: dict[str, object]) -> np.ndarray:
    value = eval(code, space)
    if isinstance(value, monai_metrics.ConfusionMatrixMetric):
        as_tensor = {k: torch.from_numpy(space[k]) for k in ("PB", "Y")}
        value(y_pred=as_tensor["PB"], y=as_tensor["Y"])
        value = value.aggregate()[0]
        value = value.reshape(()) if value.numel() == 1 else value  # MONAI's "mean" is (1,)
    if isinstance(value, torch.Tensor):
        value = value.numpy()
    return np.asarray(value, dtype=np.float64)


def test_the_table_has_its_rows():
    peers = [peer for peer, _ in rows()]
    assert len(peers) >= 16
    for library in ("sklearn.", "torchmetrics.", "monai."):
        assert any(library in peer for peer in peers), library


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("peer", "ours"), rows(), ids=lambda code: code[:60])
def test_the_row_holds(peer, ours, seed):
    space = names(seed)
    expected = peer_value(peer, space)
    got = np.asarray(eval(ours, space), dtype=np.float64)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_a_row_can_fail():
    """The comparison sees a wrong mapping: macro is not weighted on these label maps."""
    space = names(0)
    macro = xploss.confusion_metric(space["y"], space["P"], metric="dice", average="macro")
    weighted = sklearn_metrics.f1_score(space["y"], space["p"], average="weighted")
    assert abs(float(macro) - weighted) > 1e-3
