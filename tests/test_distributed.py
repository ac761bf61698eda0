"""Exact global Dice across processes and devices, each group in processes of its own:
2 torch processes over gloo (uneven shards), 2 JAX host devices, a 2-replica MirroredStrategy."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).parent.parent


def run(module: str, *args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return out.stdout


def require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("XPLOSS_REQUIRE_ALL_BACKENDS"):
            pytest.fail(f"{missing} required for the distributed tests")
        pytest.skip(f"{missing} not installed")


def test_torch_two_processes_over_gloo_equal_one_process(tmp_path):
    require("torch")
    from tests.distributed import torch_gloo

    run("tests.distributed.torch_gloo", str(tmp_path))
    images, labels = torch_gloo.data()
    single = torch_gloo.step(torch_gloo.model(), images, labels, all_reduce=None)
    for rank in (0, 1):
        got = dict(np.load(tmp_path / f"rank{rank}.npz"))
        for key, want in single.items():
            np.testing.assert_allclose(got[key], want, rtol=1e-6, atol=1e-12, err_msg=key)


def test_jax_two_host_devices_equal_one_device():
    require("jax")
    flags = "--xla_force_host_platform_device_count=2"
    result = json.loads(
        run("tests.distributed.jax_devices", env={"XLA_FLAGS": flags}).strip().splitlines()[-1]
    )
    assert result["jit_sharded"] == pytest.approx(result["single"], rel=1e-6)
    assert result["shard_map"] == pytest.approx(result["single"], rel=1e-6)
    assert result["jit_grad_error"] <= 1e-5 * result["grad_scale"]
    assert result["shard_map_grad_error"] <= 1e-5 * result["grad_scale"]
    assert abs(result["mean_of_device_dice"] - result["global_dice"]) > 0.01


def test_tf_mirrored_strategy_equals_one_device():
    require("tensorflow", "keras")
    result = json.loads(run("tests.distributed.tf_mirrored").strip().splitlines()[-1])
    for loss in result["replica_losses"]:
        assert loss == pytest.approx(result["single_loss"], rel=1e-6)
    assert result["grad_error"] <= 1e-5 * result["grad_scale"]
    for key, values in result["plain_fit"].items():
        np.testing.assert_allclose(result["mirrored_fit"][key], values, rtol=1e-5, err_msg=key)
    for key, value in result["plain_eval"].items():
        assert result["mirrored_eval"][key] == pytest.approx(value, rel=1e-5), key
    assert result["mirrored_eval"]["dice_coefficient"] == pytest.approx(
        result["dataset_dice"], rel=1e-5
    )
