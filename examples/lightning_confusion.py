"""A PyTorch Lightning model validated by ConfusionMatrixMetric: the Dice, specificity and MCC
of the whole validation set, per class too (``self.log_dict(metric.report())``: "dice/tumour").
Each metric sums its counts over the ranks in compute() (no ``sync_dist=True``);
``dataset_size=len(dataset)`` drops the images that ``DistributedSampler`` repeats under DDP;
``as_torchmetrics`` lets Lightning compute and reset a metric itself.
"""

from __future__ import annotations

import argparse
import tempfile
from types import SimpleNamespace

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

try:  # the unified package, or the standalone one
    import lightning.pytorch as pl
except ImportError:
    import pytorch_lightning as pl

import xploss.torch as xt

CLASS_NAMES = ("background", "liver", "tumour")


def organs(n: int, seed: int, size: int = 16) -> TensorDataset:
    """Noisy images of a bright square (class 1) around a brighter disc (class 2), labels."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    labels = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        (top, left), side = rng.integers(1, size // 2, 2), rng.integers(size // 3, size // 2)
        labels[i, top : top + side, left : left + side] = 1
        disc = (rows - top - side / 2) ** 2 + (cols - left - side / 2) ** 2 < (side / 4) ** 2
        labels[i][disc] = 2
    images = rng.normal(0, 0.4, (n, 1, size, size)).astype(np.float32) + labels[:, None]
    return TensorDataset(torch.from_numpy(images.astype(np.float32)), torch.from_numpy(labels))


class Segmenter(pl.LightningModule):  # trained with Dice + CE, validated by the counts
    def __init__(self, val_size: int) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 3, 1)
        )
        self.loss = xt.DiceCELoss(from_logits="softmax")
        shared = {"from_logits": "softmax", "dataset_size": val_size}
        scores, names = ("dice", "specificity", "mcc"), CLASS_NAMES  # float64 state, moved
        self.val_metric = xt.ConfusionMatrixMetric(  # with the model by Lightning
            metrics=scores, include_background=False, class_names=names, **shared
        )
        self.val_iou = xt.as_torchmetrics(xt.ConfusionMatrixMetric(metrics="iou", **shared))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)

    def training_step(self, batch: list[torch.Tensor], _: int) -> torch.Tensor:
        return self.loss(self(batch[0]), batch[1])

    def validation_step(self, batch: list[torch.Tensor], _: int) -> None:
        logits = self(batch[0])
        self.val_metric.update(logits, batch[1])
        self.val_iou.update(logits, batch[1])
        self.log("val_iou", self.val_iou)  # computed and reset by Lightning

    def on_validation_epoch_end(self) -> None:  # the whole validation set, then a fresh state
        self.log_dict({f"val/{name}": value for name, value in self.val_metric.report().items()})
        self.log("val_dice", self.val_metric.compute()["dice"])
        self.val_metric.reset()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def main(argv: list[str] | None = None) -> SimpleNamespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--root", default=None)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    train, val = organs(32, seed=1), organs(7, seed=2)  # 7: batches of 3, 3 and 1
    val_loader, model = DataLoader(val, batch_size=3), Segmenter(val_size=len(val))
    with tempfile.TemporaryDirectory() as scratch:
        quiet = dict.fromkeys(("enable_checkpointing", "enable_progress_bar", "logger"), False)
        root = args.root or scratch
        trainer = pl.Trainer(max_epochs=args.epochs, accelerator="cpu", default_root_dir=root,
                             enable_model_summary=False, **quiet)  # fmt: skip
        trainer.fit(model, DataLoader(train, batch_size=8, shuffle=True), val_loader)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items()}
    print(f"validation Dice {logged['val_dice']:.4f}, IoU {logged['val_iou']:.4f}")
    for key in sorted(k for k in logged if k.count("/") == 2):  # "val/dice/tumour"
        print(f"  {key}: {logged[key]:.4f}")
    return SimpleNamespace(trainer=trainer, model=model, val_loader=val_loader)


if __name__ == "__main__":
    main()
