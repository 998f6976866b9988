"""What ``pip install .`` (a wheel, not the editable install the scripts use) carries.

The exercise catalogue is data read when `signal_processing` is imported; left out of the
wheel's package data, every non-editable install failed at its first import, and no test saw
it, since the tests run from the source tree.
"""
from __future__ import annotations

import tomllib

from tests.labelled import ROOT

PACKAGES = ("backrep", "firmware_bridge", "signal_processing", "web")


def _shipped(package: str, patterns: list[str]) -> set:
    return {p for pattern in patterns for p in (ROOT / package).glob(pattern) if p.is_file()}


def test_every_file_in_the_packages_ships_in_the_wheel():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    data = setuptools["package-data"]
    for package in PACKAGES:
        shipped = _shipped(package, data.get(package, []))
        files = {p for p in (ROOT / package).rglob("*")
                 if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}
        assert files - shipped == set(), f"{package}: add to [tool.setuptools.package-data]"
