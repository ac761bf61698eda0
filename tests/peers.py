"""The peers' code that the tests compare with, loaded where the package's own import fails."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pathlib
import sys
import types

import pytest


def smp_losses(module: str | None = None) -> types.ModuleType:
    """segmentation_models_pytorch's ``losses`` package (or its ``module``) without smp's
    ``__init__``, which imports its encoders, whose dependencies ``nox -s tests`` does not
    install beside the pinned CPU torch."""
    spec = importlib.util.find_spec("segmentation_models_pytorch")
    if spec is None or not spec.submodule_search_locations:
        if os.environ.get("XPLOSS_REQUIRE_ALL_BACKENDS"):
            pytest.fail("segmentation_models_pytorch is not installed (nox -s tests installs it)")
        pytest.skip("segmentation_models_pytorch is not installed")
    package = types.ModuleType("_smp_losses")
    package.__path__ = [str(pathlib.Path(spec.submodule_search_locations[0]) / "losses")]
    sys.modules.setdefault("_smp_losses", package)
    return importlib.import_module("_smp_losses" if module is None else f"_smp_losses.{module}")
