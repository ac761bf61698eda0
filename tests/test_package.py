"""The release metadata: one version, read from ``xploss.__version__``, and a CHANGELOG section for
it. Cheap checks of the checkout; ``nox -s package`` builds the wheel and installs it in a clean
environment (``tests/test_imports.py`` checks that ``import xploss`` imports no framework)."""

from __future__ import annotations

import importlib.metadata
import pathlib
import re

import xploss

ROOT = pathlib.Path(__file__).resolve().parents[1]


def project_table() -> str:
    """The ``[project]`` table of pyproject.toml, up to the next table."""
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r"^\[project\]\n(.*?)(?=^\[)", text, re.MULTILINE | re.DOTALL)
    assert match, "pyproject.toml has no [project] table"
    return match.group(1)


def test_the_version_is_a_release_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", xploss.__version__), xploss.__version__


def test_the_installed_metadata_has_the_packages_version():
    # An editable install records the version it was installed with: reinstall
    # (`pip install -e .`) after changing `__version__`.
    assert importlib.metadata.version("xploss") == xploss.__version__


def test_pyproject_reads_the_version_from_the_package():
    project = project_table()
    assert re.search(r'^dynamic\s*=\s*\[[^\]]*"version"[^\]]*\]', project, re.MULTILINE)
    assert not re.search(r"^version\s*=", project, re.MULTILINE), "a literal version in [project]"
    text = (ROOT / "pyproject.toml").read_text()
    hatch = re.search(r"^\[tool\.hatch\.version\]\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    assert hatch and 'path = "src/xploss/__init__.py"' in hatch.group(1)


def test_the_changelog_has_a_section_for_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    version = re.escape(xploss.__version__)
    assert re.search(rf"^## \[{version}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE)
    # Newest first: the current version's section is the first release section.
    first = re.search(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE)
    assert first and first.group(1) == xploss.__version__
