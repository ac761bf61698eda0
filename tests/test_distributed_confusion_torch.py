"""``ConfusionMatrixMetric`` over two gloo processes fed by ``DistributedSampler``: every rank's
``compute()`` is the value of the whole dataset in one process, with ``dataset_size``; without
it, the value with the sampler's padded repeats counted; and a rank that calls no ``update()``
neither hangs nor changes the value.

The two ranks are spawned from this process (``tests/distributed/torch_confusion_ranks.py`` is
what they run) and must finish within ``DEADLINE`` seconds, or the test kills them and fails.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.multiprocessing as mp  # noqa: E402

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402
from tests.distributed import gloo  # noqa: E402
from tests.distributed import torch_confusion_ranks as ranks  # noqa: E402

DEADLINE = 35.0  # seconds for both ranks, imports included (each collective times out at 60 s)
WORLD = 2
# The per-image values of "samplewise" are summed in batches, then over the ranks, in another
# order than one sum over the dataset: floating-point addition is not associative, so the means
# of at most 7 float64 values in [-1, 1] may differ by a few units in the last place. The global
# scores are ratios of sums of integer counts: exact in float64, whatever the order.
SAMPLEWISE_ATOL = 8 * 7 * np.finfo(np.float64).eps


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("confusion_ranks")
    args = (WORLD, gloo.free_port(), ranks.rank_values, str(out))
    context = mp.start_processes(gloo._worker, args=args, nprocs=WORLD, join=False)
    stop = time.monotonic() + DEADLINE
    try:
        while not context.join(timeout=max(stop - time.monotonic(), 0.1)):
            if time.monotonic() >= stop:
                pytest.fail(f"the two ranks did not finish within {DEADLINE} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(WORLD)]


def one_process(images: list[int], config: str, n: int = 7) -> dict[str, np.ndarray]:
    """Each score of ``images`` of the dataset of ``n`` by the functional API, in one call."""
    logits, labels = ranks.data(n)
    rows = torch.tensor(images)
    options = {**ranks.FUNCTIONAL, **ranks.CONFIGS[config]}
    return {
        name: xploss.confusion_metric(labels[rows], logits[rows], metric=name, **options).numpy()
        for name in xt.ConfusionMatrixMetric(metrics=ranks.SCORES).names  # xploss names
    }


def assert_same(got: dict, want: dict, config: str, label: str) -> None:
    assert got.keys() == want.keys(), label
    for name, value in want.items():
        message = f"{label}: {config} {name}"
        if config.startswith("global"):
            np.testing.assert_array_equal(np.asarray(got[name]), value, err_msg=message)
        else:
            np.testing.assert_allclose(
                got[name], value, rtol=0, atol=SAMPLEWISE_ATOL, err_msg=message
            )


def padded_order(n: int) -> list[list[int]]:
    """The indices ``DistributedSampler`` gives each rank (what the ranks must have seen)."""
    dataset = torch.utils.data.TensorDataset(torch.arange(n))
    shards = []
    for rank in range(WORLD):
        sampler = torch.utils.data.DistributedSampler(
            dataset, num_replicas=WORLD, rank=rank, shuffle=True, seed=ranks.SEED
        )
        shards.append(list(sampler))
    return shards


@pytest.mark.parametrize("n", sorted(ranks.SIZES))
def test_the_ranks_saw_the_sampler_s_shards_with_its_repeats(results, n):
    shards = padded_order(n)
    for rank in range(WORLD):
        assert results[rank][str(n)]["seen"] == shards[rank]
    seen = [i for shard in shards for i in shard]
    assert sorted(set(seen)) == list(range(n))
    assert len(seen) == WORLD * math.ceil(n / WORLD) > n  # some image is seen twice
    if n == 1:
        assert shards == [[0], [0]]  # rank 1 holds only the repeat: an empty rank once trimmed


@pytest.mark.parametrize("config", list(ranks.CONFIGS))
@pytest.mark.parametrize("n", sorted(ranks.SIZES))
def test_dataset_size_gives_the_whole_dataset_on_every_rank(results, n, config):
    want = one_process(list(range(n)), config, n)
    for rank in range(WORLD):
        assert_same(results[rank][str(n)][f"trimmed/{config}"], want, config, f"rank {rank}")


@pytest.mark.parametrize("config", list(ranks.CONFIGS))
@pytest.mark.parametrize("n", sorted(ranks.SIZES))
def test_entries_count_the_dataset_s_classes_or_images(results, n, config):
    logits, labels = ranks.data(n)
    single = ranks.metric(config)
    single.update(logits, labels)
    want = {k: v.numpy() for k, v in single.entries().items()}
    for rank in range(WORLD):
        got = results[rank][str(n)][f"trimmed/{config}/entries"]
        assert got == {k: v.tolist() for k, v in want.items()}, (rank, config)


@pytest.mark.parametrize("config", list(ranks.CONFIGS))
@pytest.mark.parametrize("n", sorted(ranks.SIZES))
def test_without_dataset_size_the_repeats_count(results, n, config):
    shards = padded_order(n)
    want = one_process([i for shard in shards for i in shard], config, n)
    for rank in range(WORLD):
        assert_same(results[rank][str(n)][f"padded/{config}"], want, config, f"rank {rank}")
    if n == 7:  # one image counted twice changes the Dice: the trimming is needed
        whole = one_process(list(range(n)), config, n)
        assert not np.allclose(want["dice"], whole["dice"], rtol=1e-6, equal_nan=True)


def test_report_names_the_classes_and_equals_the_per_class_values(results):
    config, n = "global/macro", 7
    logits, labels = ranks.data(n)
    for rank in range(WORLD):
        report = results[rank][str(n)]["report"]
        averaged = one_process(list(range(n)), config, n)
        per_class = {
            name: xploss.confusion_metric(
                labels, logits, metric=name, average="none", **ranks.FUNCTIONAL
            ).tolist()
            for name in averaged
        }
        want = {}
        for name, value in averaged.items():
            want[name] = float(value)
            want.update(
                {f"{name}/{c}": v for c, v in zip(ranks.CLASS_NAMES, per_class[name], strict=True)}
            )
        assert report == want, rank


@pytest.mark.parametrize("config", list(ranks.CONFIGS))
def test_a_rank_without_update_adds_nothing_and_does_not_wait(results, config):
    want = one_process(list(range(ranks.IDLE_IMAGES)), config)
    for rank in range(WORLD):
        assert_same(results[rank]["idle"][config], want, config, f"rank {rank}")
        # The sum over the ranks found rank 0's classes: no "before any update" warning.
        assert results[rank]["idle"]["warnings"] == [], rank
