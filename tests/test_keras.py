"""Runs every ``keras_*checks.py`` file once per Keras backend, in a process of its own
(``KERAS_BACKEND``): Keras picks its backend once per process."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

KERAS_BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
HERE = pathlib.Path(__file__).parent
CHECKS = sorted(str(path) for path in HERE.glob("keras_*checks.py"))


@pytest.mark.parametrize("backend", list(KERAS_BACKENDS))
def test_keras_backend(backend):
    missing = [m for m in ("keras", KERAS_BACKENDS[backend]) if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("XPLOSS_REQUIRE_ALL_BACKENDS"):
            pytest.fail(f"Keras on {backend} is required but {missing} is missing")
        pytest.skip(f"{missing} not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    assert len(CHECKS) >= 2, CHECKS
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CHECKS]
    out = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=HERE.parent, timeout=1200
    )
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-3000:]
    summary = out.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed\b", summary) and "failed" not in summary, summary
