"""Exact global Dice across processes and devices, each group in processes of its own:
2 torch processes over gloo (equal, uneven and empty shards), 2 and 4 JAX host devices, a
2-replica MirroredStrategy."""

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


def run(module: str, *args: str, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        timeout=timeout,
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
    for mcc in result["replica_mcc"]:
        assert mcc == pytest.approx(result["single_mcc"], rel=1e-6)
    for key, values in result["plain_fit"].items():
        np.testing.assert_allclose(result["mirrored_fit"][key], values, rtol=1e-5, err_msg=key)
    for key, value in result["plain_eval"].items():
        assert result["mirrored_eval"][key] == pytest.approx(value, rel=1e-5), key
    assert result["mirrored_eval"]["dice_coefficient"] == pytest.approx(
        result["dataset_dice"], rel=1e-5
    )


# Issue 17: per-image values and compound terms under all_reduce are those of the whole batch on
# every device and every shard split, with the gradient of the whole batch; nothing waits.


def test_torch_all_reduce_gives_the_whole_batch_on_equal_unequal_and_empty_shards(tmp_path):
    require("torch")
    from tests.distributed import torch_shards

    run("tests.distributed.torch_shards", str(tmp_path), timeout=240)
    logits, labels = torch_shards.data()
    single = torch_shards.losses(logits, labels, None)
    for rank in (0, 1):
        got = dict(np.load(tmp_path / f"rank{rank}.npz"))
        for split, first in torch_shards.SPLITS.items():
            shard = slice(0, first) if rank == 0 else slice(first, None)
            for name in torch_shards.LOSSES:
                key = f"{split}/{name}"
                np.testing.assert_allclose(got[key], single[name], rtol=1e-10, err_msg=key)
                # Each rank's gradient is the sum of the ranks' (DDP divides it by the world).
                want = single[f"{name}/grad"][shard]
                np.testing.assert_allclose(
                    got[f"{key}/grad"] / 2, want, rtol=1e-8, atol=1e-15, err_msg=key
                )


def test_jax_all_reduce_gives_the_whole_batch_on_four_devices():
    require("jax", "flax")
    flags = "--xla_force_host_platform_device_count=4"
    output = run("tests.distributed.jax_shards", env={"XLA_FLAGS": flags}, timeout=240)
    result = json.loads(output.strip().splitlines()[-1])
    for key, found in result.items():
        if key == "eager":
            continue
        for value in found["devices"]:
            assert value == pytest.approx(found["single"], rel=1e-5, abs=1e-7), key
        assert found["grad_error"] <= 1e-5 * found["grad_scale"] + 1e-12, key
    # Eager calls on NamedSharding arrays equal those on unsharded arrays (no IndivisibleError).
    for name, (plain, sharded) in result["eager"].items():
        assert sharded == pytest.approx(plain, rel=1e-5), name
