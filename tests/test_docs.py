"""Every public function and class documents itself with an example that runs as a doctest
(``--doctest-modules`` runs them; this test makes sure none is missing)."""

import importlib
import inspect

import pytest

MODULES = ("xploss", "xploss.torch", "xploss.keras", "xploss.jax", "xploss.tensorflow")


def public_objects():
    for name in MODULES:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            yield f"{name}.{attribute}", getattr(module, attribute)
    for attribute, value in flax_metric_classes():
        yield f"xploss.jax.{attribute}", value


def flax_metric_classes():
    """The Flax NNX metrics, which ``xploss.jax`` loads on first use (not in its ``__all__``)."""
    flax_metrics = importlib.import_module("xploss.jax.metrics")
    return [
        (attribute, value)
        for attribute, value in vars(flax_metrics).items()
        if inspect.isclass(value)
        and value.__module__ == flax_metrics.__name__
        and attribute in flax_metrics.__all__
    ]


PUBLIC = dict(public_objects())


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_object_has_a_runnable_example(name):
    obj = PUBLIC[name]
    doc = inspect.getdoc(obj) or ""
    assert ">>>" in doc, f"{name} has no example in its docstring"
    lines = [line for line in doc.splitlines() if line.strip()]
    assert len(lines) >= 4, f"{name} documents too little: {doc!r}"


def test_lazy_flax_metrics_are_reachable_from_xploss_jax():
    import xploss.jax

    for attribute, value in flax_metric_classes():
        assert getattr(xploss.jax, attribute) is value
