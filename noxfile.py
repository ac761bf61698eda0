"""Sessions: ``tests`` (every backend), ``lint`` (ruff and mypy), ``demo`` (the main job),
``package`` (builds the sdist and wheel, ``twine check``, and imports the wheel in a clean
virtual environment), ``docs`` (the documentation site, ``mkdocs build --strict``)."""

from __future__ import annotations

import os
import pathlib
import shutil
import tarfile

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


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (MkDocs Material, mkdocstrings): ``mkdocs build --strict`` into
    ``site/``; any warning (a broken link, a missing page or reference) fails it. The API pages
    are read from the source by static analysis: no framework is installed."""
    session.install("-e", ".[docs]")
    env = {"NO_MKDOCS_2_WARNING": "1"}  # Material's banner about its successor
    session.run("mkdocs", "build", "--strict", *session.posargs, env=env)


# Run by `package` in a clean virtual environment holding only the wheel and its dependencies.
CLEAN_IMPORT_CHECK = """
import importlib.metadata, importlib.util, pathlib, sys

frameworks = ("numpy", "torch", "jax", "tensorflow", "keras")
installed = [name for name in frameworks if importlib.util.find_spec(name) is not None]
assert not installed, f"the clean environment has {installed}"
import xploss

assert pathlib.Path(sys.prefix) in pathlib.Path(xploss.__file__).parents, xploss.__file__
version = importlib.metadata.version("xploss")
assert xploss.__version__ == version, (xploss.__version__, version)
required = [r for r in importlib.metadata.requires("xploss") or [] if "extra ==" not in r]
assert [r.split(">")[0].split("=")[0].strip() for r in required] == ["array-api-compat"], required
loaded = [name for name in frameworks if name in sys.modules]
assert not loaded, f"import xploss imported {loaded}"
assert callable(xploss.dice_loss)
print(f"xploss {version} from {xploss.__file__}: no framework imported")
"""
# What the sdist must not hold: virtual environments, build outputs, caches, measured results.
SDIST_JUNK = (
    *(".nox/", ".ci-venv/", ".venv/", "site/", "dist/", "build/", "demo-output/", ".ci/"),
    *("__pycache__/", ".pytest_cache/", ".hypothesis/", ".mypy_cache/", "benchmarks/results/"),
)


@nox.session
def package(session: nox.Session) -> None:
    """Builds the sdist and the wheel (the wheel from the sdist), checks both with ``twine check
    --strict`` and the sdist for build outputs and virtual environments, then installs the wheel
    in a fresh virtual environment (not this session's, which has build tools) with its one
    dependency from the package index, and imports it there: the version is the distribution's,
    and no framework is installed or imported."""
    session.install("build", "twine")
    tmp = pathlib.Path(session.create_tmp()).resolve() / "package"
    shutil.rmtree(tmp, ignore_errors=True)
    dist = tmp / "dist"
    session.run("python", "-m", "build", "--outdir", str(dist))
    built = sorted(str(path) for path in dist.iterdir())
    session.run("twine", "check", "--strict", *built)
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    junk = [name for name in names if any(f"/{j}" in f"/{name}/" for j in SDIST_JUNK)]
    if junk:
        session.error(f"the sdist holds {junk[:10]}")
    (wheel,) = dist.glob("*.whl")
    clean = tmp / "clean"
    session.run("python", "-m", "venv", str(clean))
    python = str(clean / "bin" / "python")
    session.run(python, "-m", "pip", "install", "--quiet", str(wheel), external=True)
    check = tmp / "check_clean_import.py"
    check.write_text(CLEAN_IMPORT_CHECK)
    with session.chdir(tmp):  # away from the checkout: xploss comes from the wheel
        session.run(python, str(check), external=True)
