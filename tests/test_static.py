"""Every module names only what it has: pyflakes over the project's Python finds nothing.

The demo (`scripts/demo`, serving on every interface) once crashed at start-up on a name whose
import a tidy-up had dropped: the only path that used it was one no test took. A name used but
never bound, an import or a variable left unused, is found here before anyone runs the code.
"""
from __future__ import annotations

import io

import pyflakes.api
import pyflakes.reporter

from tests.labelled import ROOT

CHECKED = ("backrep", "firmware_bridge", "signal_processing", "web", "tests", "benchmarks")


def test_pyflakes_finds_no_undefined_name_and_nothing_unused():
    out = io.StringIO()
    warnings = pyflakes.api.checkRecursive([str(ROOT / d) for d in CHECKED], pyflakes.reporter.Reporter(out, out))
    assert warnings == 0, out.getvalue()
