"""An adapter whose framework is not installed raises an ImportError that names the extra to
install. Each case runs in a fresh interpreter with the framework hidden (``sys.modules[name] =
None`` makes both ``import name`` and ``importlib.util.find_spec(name)`` act as if it were
absent)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CASES = [
    # (hidden framework, the import that needs it, the extra the message must name)
    ("torch", "import xploss.torch", "torch"),
    ("torch", "import xploss.torch.losses", "torch"),
    ("keras", "import xploss.keras", "keras"),
    ("jax", "import xploss.jax", "jax"),
    ("flax", "import xploss.jax; xploss.jax.DiceCoefficient", "flax"),
    ("flax", "from xploss.jax import TruePositiveRate", "flax"),
    ("tensorflow", "import xploss.tensorflow", "tensorflow"),
]

PROGRAM = """
import sys
sys.modules[{hidden!r}] = None  # as if it were not installed
import xploss  # the core needs no framework
try:
    {statement}
except ImportError as error:
    print(type(error).__name__)
    print(error)
else:
    print("no error")
"""


def run(hidden: str, statement: str) -> list[str]:
    code = PROGRAM.format(hidden=hidden, statement=statement)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return out.stdout.strip().splitlines()


@pytest.mark.parametrize(("hidden", "statement", "extra"), CASES, ids=[c[1] for c in CASES])
def test_a_missing_framework_names_its_extra(hidden, statement, extra):
    kind, *message = run(hidden, statement)
    assert kind == "ModuleNotFoundError", (kind, message)
    text = " ".join(message)
    assert f'pip install "xploss[{extra}]"' in text, text
    assert "not installed" in text


def test_the_check_does_not_import_the_framework():
    code = (
        "import sys\n"
        "from xploss._extras import require\n"
        "require('numpy', 'numpy', needed_by='a test')\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.strip() == "False"


def test_the_error_is_an_import_error_with_the_module_name():
    from xploss._extras import require

    with pytest.raises(ImportError, match=r'pip install "xploss\[torch\]"') as info:
        require("no_such_framework_xploss", "torch", needed_by="xploss.torch")
    assert isinstance(info.value, ModuleNotFoundError)
    assert info.value.name == "no_such_framework_xploss"
