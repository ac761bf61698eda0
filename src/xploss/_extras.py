"""The optional frameworks: an adapter checks for its framework before importing it, so that a
missing one is an ``ImportError`` that says which extra to install.

The check asks the import system whether the module can be found (``importlib.util.find_spec``);
it never imports the framework itself.
"""

from __future__ import annotations

import importlib.util

FRAMEWORKS = {
    "torch": "PyTorch",
    "jax": "JAX",
    "flax": "Flax",
    "keras": "Keras 3",
    "tensorflow": "TensorFlow",
}
"""The display name of each framework an adapter needs, by module name."""


def install_hint(extra: str) -> str:
    """The pip command that installs xploss with ``extra``."""
    return f'pip install "xploss[{extra}]"  (from a clone: pip install -e ".[{extra}]")'


def require(module: str, extra: str, *, needed_by: str, note: str = "") -> None:
    """Raise ``ModuleNotFoundError`` unless ``module`` can be imported.

    Args:
        module: the top-level module of the framework (``"torch"``).
        extra: the xploss extra that installs it (``"torch"``).
        needed_by: what needs it, for the message (``"xploss.torch"``).
        note: a sentence added to the message.

    Example:
        >>> require("importlib", "none", needed_by="this example")  # found: nothing happens
        >>> require("no_such_framework", "torch", needed_by="xploss.example")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ModuleNotFoundError: xploss.example needs no_such_framework, which is not installed. ...
    """
    if importlib.util.find_spec(module) is not None:
        return
    name = FRAMEWORKS.get(module, module)
    message = (
        f"{needed_by} needs {name}, which is not installed. Install xploss with the "
        f"{extra!r} extra: {install_hint(extra)}."
    )
    if note:
        message = f"{message} {note}"
    raise ModuleNotFoundError(message, name=module)
