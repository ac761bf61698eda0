import subprocess
import sys

FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow", "keras", "flax", "cupy", "dask")


def test_import_xploss_imports_no_framework():
    code = f"import sys, xploss; print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
