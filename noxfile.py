"""Sessions: ``tests`` (every backend), ``lint`` (ruff and mypy), ``demo`` (the main job)."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

# The CPU build of PyTorch; an unpinned torch pulls a multi-GB CUDA build.
TORCH = "torch==2.13.0"
# segmentation_models_pytorch's losses (tests and benchmarks compare with them); without its
# dependencies, whose torchvision does not install beside the pinned CPU torch.
SMP = "segmentation-models-pytorch==0.6.0"
# torchvision's sigmoid_focal_loss (tests compare with it). The only wheel beside the pinned CPU
# torch is a CUDA build whose compiled ops fail to load, so that `import torchvision` raises (and
# with it torchmetrics' imports): it goes into <venv>/peers, off sys.path, and the tests load
# ops/focal_loss.py alone from there.
TORCHVISION = "torchvision==0.28.0"
# nnU-Net's DC_and_CE_loss (tests compare with it): its loss modules import torch and numpy only.
NNUNET = "nnunetv2==2.8.1"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite on numpy, array-api-strict, torch, JAX and TensorFlow, eager and jitted."""
    session.install("-e", ".[test,all]", TORCH)
    session.install("--no-deps", SMP, NNUNET)
    peers = f"{session.virtualenv.location}/peers"
    session.install("--no-deps", "--upgrade", "--target", peers, TORCHVISION)
    # One worker per core, at most four (each imports PyTorch, JAX and TensorFlow); a file's
    # tests stay in one worker, in order, as they run without xdist.
    workers = min(os.cpu_count() or 1, 4)
    session.run(
        "python",
        "-m",
        "pytest",
        "src",
        "tests",
        "--doctest-modules",
        f"--numprocesses={workers}",
        "--dist=loadfile",
        *session.posargs,
        env={"XPLOSS_REQUIRE_ALL_BACKENDS": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on everything, mypy (strict) on the package, against the installed frameworks."""
    session.install("-e", ".[test,all]", TORCH, "ruff==0.17.6", "mypy")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "src")


@nox.session
def bench(session: nox.Session) -> None:
    """Timings against native code and the anchors: ``nox -s bench -- --sizes tiny`` for a smoke
    run. segmentation_models_pytorch is installed without its dependencies (its torchvision does
    not install beside the pinned CPU torch); only its losses are loaded."""
    session.install("-e", ".[all,bench]", TORCH)
    session.install("--no-deps", SMP)
    session.run("python", "-m", "benchmarks.run", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """BCE-Dice training on generated shapes in PyTorch, Flax NNX and Keras, with a progress bar
    per epoch and a PNG of the curves and predictions (``demo-output/``); then every loss on the
    same example arrays through each backend. ``nox -s demo -- --help`` lists the options."""
    session.install("-e", ".[all,demo]", TORCH)
    session.run("python", "-m", "xploss.demo", *session.posargs)
