"""BCE-Dice training in every installed framework, then the same batch through every backend.

``python -m xploss.demo`` trains a tiny segmentation net on generated shapes with xploss's
BCE-Dice in each installed framework (a PyTorch loop, a jitted Flax NNX step, Keras ``fit``),
with a progress bar per epoch showing the loss, Dice and TPR; writes a PNG of the training
curves and of some held-out predictions; and prints every loss of one example batch through
each backend with the largest difference between them. ``--backends`` picks the backends, and a
backend asked for by name must be installed. It needs NumPy (and matplotlib for the figure).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xploss.demo.common import Data, Run

__all__ = ["main"]


@dataclass(frozen=True)
class Requirement:
    """The modules something needs, and the command that installs them."""

    modules: tuple[str, ...]
    install: str

    def missing(self) -> list[str]:
        """The modules that cannot be imported."""
        return [m for m in self.modules if importlib.util.find_spec(m) is None]


#: The backends of the table, in column order, with what their column needs.
BACKENDS = {
    "numpy": Requirement(("numpy",), "pip install 'xploss[numpy]'"),
    "array_api_strict": Requirement(("array_api_strict",), "pip install array-api-strict"),
    "torch": Requirement(("torch",), "pip install 'xploss[torch]'"),
    "jax": Requirement(("jax",), "pip install 'xploss[jax]'"),
    "tensorflow": Requirement(("tensorflow",), "pip install 'xploss[tensorflow]'"),
}
#: The backends that also train, with what the training needs: Keras ``fit`` stands in for
#: TensorFlow and a Flax NNX step for JAX, so ``flax`` and ``keras`` are accepted as their names.
TRAINING = {
    "torch": Requirement(("torch",), "pip install 'xploss[torch]'"),
    "jax": Requirement(("jax", "flax", "optax"), "pip install 'xploss[flax]'"),
    "tensorflow": Requirement(("tensorflow", "keras"), "pip install 'xploss[tensorflow,keras]'"),
}
ALIASES = {"flax": "jax", "keras": "tensorflow"}
FIGURE = Requirement(("matplotlib",), "pip install 'xploss[demo]'")


@dataclass
class Plan:
    """What a run does: the table's backends, the backends that train, what was left out and
    why, and the problems that stop the demo (a backend asked for by name that is missing)."""

    table: list[str]
    training: list[str]
    skipped: list[str]
    problems: list[str]


def plan(requested: list[str] | None, *, train: bool) -> Plan:
    """Check what ``requested`` (``None``: every backend) needs against what is installed.

    A backend asked for by name must be installed, with its training unless ``train`` is false;
    without a request, whatever is installed is used and the rest is listed as skipped.
    """
    result = Plan([], [], [], [])
    if requested is not None:
        requested = list(dict.fromkeys(ALIASES.get(name, name) for name in requested))
    unknown = [name for name in requested or () if name not in BACKENDS]
    if unknown:
        choices = ", ".join(BACKENDS)
        result.problems.append(
            f"unknown backend {', '.join(map(repr, unknown))}: choose from {choices} "
            "(flax and keras name the jax and tensorflow trainings)"
        )
        return result
    report = result.problems if requested else result.skipped
    for name in requested or BACKENDS:
        if BACKENDS[name].missing():
            report.append(f"{name} (not installed: {BACKENDS[name].install})")
            continue
        result.table.append(name)
        if not train or name not in TRAINING:
            continue
        if missing := TRAINING[name].missing():
            report.append(
                f"{name} training ({', '.join(missing)} not installed: "
                f"{TRAINING[name].install}; or pass --no-train)"
            )
            continue
        result.training.append(name)
    return result


def trainer(name: str) -> Callable[[Data, int], Run]:
    """The ``train(data, epochs)`` function of a backend, importing its framework."""
    if name == "torch":
        from xploss.demo import train_torch

        return train_torch.train
    if name == "jax":
        from xploss.demo import train_flax

        return train_flax.train
    from xploss.demo import train_keras

    return train_keras.train


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line: backends, epochs, steps per epoch, the output folder, ``--no-train``."""
    parser = argparse.ArgumentParser(
        prog="python -m xploss.demo",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--backends",
        default=None,
        help=f"comma-separated, from {', '.join(BACKENDS)} (flax means jax, keras tensorflow); "
        "torch, jax and tensorflow also train; default: every one installed",
    )
    parser.add_argument("--epochs", type=positive, default=5, help="training epochs (%(default)s)")
    parser.add_argument(
        "--steps",
        type=positive,
        default=16,
        help="training steps per epoch, of 16 images each (%(default)s)",
    )
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        default=pathlib.Path("demo-output"),
        help="the figure's folder (%(default)s)",
    )
    parser.add_argument("--no-train", action="store_true", help="only print the table")
    return parser.parse_args(argv)


def positive(text: str) -> int:
    """An argparse type: a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status (2 when a requested backend is missing)."""
    args = parse_arguments(argv)
    requested = None
    if args.backends:
        requested = [name.strip() for name in args.backends.split(",") if name.strip()]
    if BACKENDS["numpy"].missing():
        print(f"xploss.demo needs NumPy: {BACKENDS['numpy'].install}", file=sys.stderr)
        return 2
    todo = plan(requested, train=not args.no_train)
    if todo.problems:
        for problem in todo.problems:
            print(f"xploss.demo: {problem}", file=sys.stderr)
        return 2
    if todo.skipped:
        print("skipped: " + "; ".join(todo.skipped))

    if todo.training:
        train(todo.training, args.epochs, args.steps, args.output)
        print()
    from xploss.demo.table import print_table

    print_table(todo.table)
    return 0


def train(names: list[str], epochs: int, steps: int, output: pathlib.Path) -> None:
    """Train in each framework of ``names``, print the held-out scores and write the figure."""
    from xploss.demo.common import HELD_OUT, Data

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # fewer TensorFlow notices on stderr
    data = Data.generate(steps)
    size = data.images.shape[1]
    print(
        f"BCE-Dice training: {epochs} epochs of {steps} steps on {len(data.images)} generated "
        f"{size}×{size} images; Dice and TPR on {HELD_OUT} held-out images after each epoch"
    )
    runs = [trainer(name)(data, epochs) for name in names]

    print(f"\n{'held-out, after training':<40}{'dice':>8}{'tpr':>8}{'seconds':>9}")
    for run in runs:
        label = f"{run.name:<6} {run.description}"
        dice, tpr = run.held_out_dice[-1], run.held_out_tpr[-1]
        print(f"{label:<40}{dice:>8.3f}{tpr:>8.3f}{run.seconds:>9.1f}")
    if FIGURE.missing():
        print(f"no figure: matplotlib is not installed ({FIGURE.install})", file=sys.stderr)
        return
    from xploss.demo.figure import write_figure

    output.mkdir(parents=True, exist_ok=True)
    path = output / "xploss-demo.png"
    write_figure(runs, data, path)
    print(f"figure: {path}")
