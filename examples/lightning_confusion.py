"""Validate a PyTorch Lightning segmentation model with xploss' ConfusionMatrixMetric: the Dice,
specificity and MCC of the whole validation set, overall and per class, logged at the end of
each validation epoch.

python examples/lightning_confusion.py --epochs 20

Three ways to log, all exact over processes (each metric sums its counts over the ranks in
compute(), so no ``sync_dist=True`` is needed):

- ``self.log_dict(metric.report())``: every score, then one value per class ("dice/tumour");
- ``self.log("val_dice", metric.compute()["dice"])``: one score, a 0-d tensor;
- ``self.log("val_iou", as_torchmetrics(...))``: Lightning computes and resets it itself.

Under DDP, Lightning's ``DistributedSampler`` pads the validation set with repeated images so
that every rank gets as many: ``dataset_size=len(dataset)`` drops them.
"""

from __future__ import annotations

import argparse
import tempfile
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

try:  # the unified package, or the standalone one
    import lightning.pytorch as pl
except ImportError:
    import pytorch_lightning as pl

import xploss.torch as xt

CLASS_NAMES = ("background", "liver", "tumour")
SCORES = ("dice", "specificity", "mcc")


def organs(n: int, size: int = 16, seed: int = 0) -> TensorDataset:
    """Noisy images ``(n, 1, size, size)`` of a bright square (class 1) holding a brighter disc
    (class 2), and their labels ``(n, size, size)``."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images = rng.normal(0, 0.4, (n, 1, size, size)).astype(np.float32)
    labels = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        top, left = rng.integers(1, size // 2, 2)
        side = rng.integers(size // 3, size // 2)
        labels[i, top : top + side, left : left + side] = 1
        radius = side / 4
        centre = top + side / 2, left + side / 2
        labels[i][(rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < radius**2] = 2
    images[:, 0] += labels
    return TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))


class Segmenter(pl.LightningModule):
    """A small convolutional net trained with Dice + CE, validated with confusion-matrix
    scores."""

    def __init__(self, val_size: int, lr: float = 1e-2) -> None:
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1),
            torch.nn.ReLU(),
            torch.nn.Conv2d(8, 3, 1),
        )
        self.loss = xt.DiceCELoss(from_logits="softmax")
        options: dict[str, Any] = {"from_logits": "softmax", "dataset_size": val_size}
        # Child modules: Lightning moves them with the model; their state stays float64.
        self.val_metric = xt.ConfusionMatrixMetric(
            metrics=SCORES, include_background=False, class_names=CLASS_NAMES, **options
        )
        self.val_iou = xt.as_torchmetrics(xt.ConfusionMatrixMetric(metrics="iou", **options))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        images, labels = batch
        loss = self.loss(self(images), labels)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> None:
        images, labels = batch
        logits = self(images)
        self.val_metric.update(logits, labels)
        self.val_iou.update(logits, labels)
        self.log("val_iou", self.val_iou)  # computed and reset by Lightning at the epoch's end

    def on_validation_epoch_end(self) -> None:
        # The whole validation set (every rank's), then a fresh state for the next epoch; the
        # sanity check's batches are reset here too.
        self.log_dict({f"val/{name}": value for name, value in self.val_metric.report().items()})
        self.log("val_dice", self.val_metric.compute()["dice"])
        self.val_metric.reset()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class Fit(NamedTuple):
    trainer: pl.Trainer
    model: Segmenter
    val_loader: DataLoader


def main(argv: list[str] | None = None) -> Fit:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--root", default=None, help="Lightning's directory (default: a temp)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    train, val = organs(32, seed=1), organs(7, seed=2)  # 7: batches of 3, 3 and 1
    val_loader = DataLoader(val, batch_size=3)
    model = Segmenter(val_size=len(val))
    with tempfile.TemporaryDirectory() as scratch:
        trainer = pl.Trainer(
            max_epochs=args.epochs,
            accelerator="cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=args.root or scratch,
        )
        trainer.fit(model, DataLoader(train, batch_size=8, shuffle=True), val_loader)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items()}
    print(f"validation Dice {logged['val_dice']:.4f}, IoU {logged['val_iou']:.4f}")
    for name in CLASS_NAMES[1:]:  # the report's keys use xploss' names: "matthews_corrcoef"
        values = [f"{s} {logged[f'val/{s}/{name}']:.4f}" for s in model.val_metric.names]
        print(f"  {name}: " + ", ".join(values))
    return Fit(trainer, model, val_loader)


if __name__ == "__main__":
    main()
