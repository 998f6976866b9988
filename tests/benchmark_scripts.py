"""The scripts in ``benchmarks/`` as modules, for tests that run them scaled down."""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.labelled import ROOT


def benchmark_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py``, loaded once and registered under ``name`` (dataclasses look
    their module up by name)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
