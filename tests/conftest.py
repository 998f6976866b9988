"""Shared pytest hooks: the counter's hold-timing figures are printed at the end of every run."""
from __future__ import annotations

HOLD_ERRORS_S: list[float] = []


def pytest_terminal_summary(terminalreporter):
    if not HOLD_ERRORS_S:
        return
    errors = sorted(abs(e) for e in HOLD_ERRORS_S)
    median = errors[len(errors) // 2] if len(errors) % 2 else sum(errors[len(errors) // 2 - 1:len(errors) // 2 + 1]) / 2
    terminalreporter.write_sep("-", "hold timing on the labelled recordings")
    terminalreporter.write_line(
        f"{len(errors)} holds: median error {median:.2f} s, worst {errors[-1]:.2f} s")
