from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests import backends

# CI: deterministic (derandomized) and bounded; locally a little wider, still reproducible.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile("dev", max_examples=60, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _backend_params(*, compiled: bool | None, autodiff: bool = False) -> list[object]:
    params = []
    for name in backends.selected_names():
        is_compiled = name.endswith(("-compile", "-jit", "-function"))
        if compiled is not None and is_compiled != compiled:
            continue
        if autodiff and name not in backends.AUTODIFF:
            continue
        params.append(pytest.param(name, id=name))
    return params


def _load(name: str) -> backends.Backend:
    if not backends.installed(name):
        if os.environ.get("XPLOSS_REQUIRE_ALL_BACKENDS"):
            pytest.fail(f"backend {name} is required (XPLOSS_REQUIRE_ALL_BACKENDS) but missing")
        pytest.skip(f"{backends.FACTORIES[name][0]} is not installed")
    return backends.make(name)


@pytest.fixture(scope="session", params=_backend_params(compiled=None))
def backend(request: pytest.FixtureRequest) -> backends.Backend:
    """Every backend, eager and compiled."""
    return _load(request.param)


@pytest.fixture(scope="session", params=_backend_params(compiled=False))
def eager_backend(request: pytest.FixtureRequest) -> backends.Backend:
    """Every eager backend: the ones Hypothesis drives through many examples."""
    return _load(request.param)


@pytest.fixture(scope="session", params=_backend_params(compiled=None, autodiff=True))
def autodiff_backend(request: pytest.FixtureRequest) -> backends.Backend:
    """Every backend that differentiates (torch, JAX and TensorFlow, eager and compiled)."""
    return _load(request.param)


# Programs run in processes of their own by test_keras.py (one per Keras backend) and
# test_distributed.py (multi-process and multi-device), never collected or imported here.
collect_ignore = ["distributed"]
collect_ignore_glob = ["keras_*checks.py"]
