"""Every script in examples/ runs end to end on a short run."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent


@pytest.mark.parametrize(
    ("script", "args", "env"),
    [
        ("numpy_metrics.py", [], {}),
        ("torch_train.py", ["--steps", "30"], {}),
        ("flax_train.py", ["--steps", "30"], {}),
        ("keras_train.py", ["--epochs", "1"], {"KERAS_BACKEND": "jax"}),
        ("keras_train.py", ["--epochs", "1"], {"KERAS_BACKEND": "torch"}),
        ("keras_train.py", ["--epochs", "1"], {"KERAS_BACKEND": "tensorflow"}),
        ("keras_per_class_logs.py", ["--epochs", "2"], {"KERAS_BACKEND": "jax"}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_example_runs(script, args, env):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **env},
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    expected = (
        "axis=[1, 2, 3] on a (4, 6) input" if script == "numpy_metrics.py" else ("validation Dice")
    )
    assert expected in out.stdout
    if script == "keras_per_class_logs.py":  # the class never predicted, in the logs
        assert "dice/lesion 0.0000" in out.stdout and "val_dice/lesion: 0.0000e+00" in out.stdout
