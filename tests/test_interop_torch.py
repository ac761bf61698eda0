"""xploss' torch metrics with PyTorch Lightning and TorchMetrics: the Lightning example logs the
functional values of its validation set, and ``as_torchmetrics`` puts an xploss metric in a
``MetricCollection`` beside TorchMetrics' own, with the same value."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import xploss  # noqa: E402
import xploss.torch as xt  # noqa: E402

ROOT = pathlib.Path(__file__).parent.parent


def load_example():
    """``examples/lightning_confusion.py`` as a module (examples/ is no package)."""
    import importlib.util

    path = ROOT / "examples" / "lightning_confusion.py"
    spec = importlib.util.spec_from_file_location("lightning_confusion", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lightning_logs_the_functional_values_of_the_validation_set(tmp_path):
    pytest.importorskip("pytorch_lightning")
    example = load_example()
    fit = example.main(["--epochs", "1", "--root", str(tmp_path)])
    model = fit.model.eval()
    with torch.no_grad():  # the weights the validation epoch used: it ran after training
        logits = torch.cat([model(images) for images, _ in fit.val_loader])
    labels = torch.cat([labels for _, labels in fit.val_loader])
    assert len(labels) == 7

    def functional(name: str, **options) -> torch.Tensor:
        return xploss.confusion_metric(
            labels, logits, metric=name, from_logits="softmax", class_axis=1, **options
        )

    foreground = {"include_background": False}
    want = {"val_dice": functional("dice", **foreground), "val_iou": functional("iou")}
    for name in fit.model.val_metric.names:
        want[f"val/{name}"] = functional(name, **foreground)
        per_class = functional(name, average="none", **foreground)
        for class_name, value in zip(example.CLASS_NAMES[1:], per_class, strict=True):
            want[f"val/{name}/{class_name}"] = value
    logged = fit.trainer.callback_metrics
    assert set(want) <= set(logged), sorted(logged)
    for key, value in want.items():
        # The functional value of float32 logits is float32; the metric divides the same
        # integer counts in float64, and Lightning logs report()'s floats as float32 (a tensor
        # as it is): they may differ in float32's last bit.
        got, value = logged[key].double(), value.double()
        torch.testing.assert_close(
            got, value, rtol=1e-6, atol=1e-7, msg=lambda m, key=key: f"{key}: {m}"
        )
    assert fit.model.val_metric.counts.shape[-1] == 0  # reset at the epoch's end


def tiny_segmentation(seed: int, n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 5, 5, generator=g), torch.randint(0, 3, (n, 5, 5), generator=g)


def test_as_torchmetrics_in_a_metric_collection_equals_torchmetrics():
    from torchmetrics import MetricCollection
    from torchmetrics.classification import (
        MulticlassF1Score,
        MulticlassJaccardIndex,
        MulticlassSpecificity,
    )

    macro = {"num_classes": 3, "average": "macro"}
    options = {"from_logits": "softmax", "average": "macro"}
    collection = MetricCollection(
        {
            "f1": MulticlassF1Score(**macro),
            "jaccard": MulticlassJaccardIndex(**macro),
            "tm_specificity": MulticlassSpecificity(**macro),
            "xp_dice": xt.as_torchmetrics(xt.ConfusionMatrixMetric(metrics="dice", **options)),
            "xp_iou": xt.as_torchmetrics(xt.ConfusionMatrixMetric(metrics="iou", **options)),
            "xp": xt.as_torchmetrics(
                xt.ConfusionMatrixMetric(metrics=("specificity", "recall"), **options)
            ),
        },
        compute_groups=True,
    )
    batches = [tiny_segmentation(seed) for seed in range(3)]
    first = collection(*batches[0])  # forward: each metric's value of the batch
    torch.testing.assert_close(first["xp_dice"].float(), first["f1"])
    for logits, labels in batches[1:]:
        collection.update(logits, labels)
    # Compute groups never merge the wrapped metrics (no TorchMetrics state to compare).
    groups = [set(g) for g in collection.compute_groups.values()]
    for name in ("xp_dice", "xp_iou", "xp"):
        assert {name} in groups, groups
    got = collection.compute()
    torch.testing.assert_close(got["xp_dice"].float(), got["f1"])
    torch.testing.assert_close(got["xp_iou"].float(), got["jaccard"])
    torch.testing.assert_close(got["specificity"].float(), got["tm_specificity"])
    assert not torch.isclose(got["xp_dice"], got["xp_iou"])  # two values, not one shared
    logits = torch.cat([b[0] for b in batches])
    labels = torch.cat([b[1] for b in batches])
    want_recall = xploss.confusion_metric(labels, logits, metric="recall", class_axis=1, **options)
    torch.testing.assert_close(got["recall"].float(), want_recall)
    collection.reset()
    assert collection["xp_dice"].metric.counts.shape[-1] == 0


def test_the_adapter_delegates_and_syncs_nothing_itself():
    wrapped = xt.as_torchmetrics(xt.ConfusionMatrixMetric(metrics="dice", from_logits="softmax"))
    assert wrapped.sync_on_compute is False
    assert wrapped.dist_sync_on_step is False
    assert wrapped.full_state_update is False
    assert wrapped._defaults == {}  # no state of TorchMetrics': nothing to gather or merge
    logits, labels = tiny_segmentation(7)
    batch = wrapped(logits[:2], labels[:2])
    options = {"from_logits": "softmax", "class_axis": 1}
    torch.testing.assert_close(
        batch, xploss.confusion_metric(labels[:2], logits[:2], **options).double()
    )
    wrapped.update(logits[2:], labels[2:])
    torch.testing.assert_close(
        wrapped.compute(), xploss.confusion_metric(labels, logits, **options).double()
    )
    assert "metric.counts" in wrapped.state_dict()
    wrapped.reset()
    assert wrapped.metric.counts.shape[-1] == 0
    assert wrapped.update_count == 0


def test_as_torchmetrics_rejects_what_is_no_metric():
    with pytest.raises(TypeError, match=r"as_torchmetrics takes an xploss\.torch metric"):
        xt.as_torchmetrics(torch.nn.Linear(2, 2))


PROGRAM = """
import sys
import xploss.torch
print("torchmetrics" in sys.modules)  # importing xploss.torch does not import TorchMetrics
sys.modules["torchmetrics"] = None  # as if it were not installed
try:
    xploss.torch.as_torchmetrics(xploss.torch.ConfusionMatrixMetric())
except ImportError as error:
    print(type(error).__name__)
    print(error)
"""


def test_without_torchmetrics_as_torchmetrics_says_what_to_install():
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=True
    )
    imported, kind, message = out.stdout.strip().splitlines()
    assert imported == "False"
    assert kind == "ModuleNotFoundError"
    assert "needs TorchMetrics, which is not installed" in message
    assert "pip install torchmetrics" in message
