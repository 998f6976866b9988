"""Every labelled recording, simulated and real, replayed through the engine the service runs:
the exact rep count, and every hold within a second of its label."""
from __future__ import annotations

import json
import subprocess
import sys
import statistics

import pytest

from backrep.recording import read_labels, read_recording
from backrep.replay import replay_recording
from tests.conftest import HOLD_ERRORS_S
from tests.labelled import ROOT, labelled_recordings

RECORDINGS = labelled_recordings()


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_replay_counts_every_rep_and_times_every_hold(path):
    labels = read_labels(path)
    result = replay_recording(read_recording(path), labels.exercise)

    assert result.reps == labels.reps
    if labels.holds_s:
        measured = [hold.duration_s for hold in result.holds]
        assert len(measured) == len(labels.holds_s), measured
        errors = [m - truth for m, truth in zip(measured, labels.holds_s)]
        HOLD_ERRORS_S.extend(errors)
        assert max(abs(e) for e in errors) < 1.0, errors
        if labels.hold_spans:
            for hold, (start_s, end_s) in zip(result.holds, labels.hold_spans):
                assert abs(hold.start_s - start_s) < 1.0
                assert abs(hold.end_s - end_s) < 1.0
    elif labels.exercise != "generic":
        assert result.holds == ()


def test_hold_errors_over_the_library_have_a_median_under_half_a_second():
    errors = []
    for path in RECORDINGS:
        labels = read_labels(path)
        if not labels.holds_s:
            continue
        result = replay_recording(read_recording(path), labels.exercise)
        errors += [abs(h.duration_s - t) for h, t in zip(result.holds, labels.holds_s)]
    assert len(errors) >= 20
    assert statistics.median(errors) < 0.5
    assert max(errors) < 1.0


def test_backrep_replay_json_counts_every_recording_exactly():
    """`backrep replay FILE... --exercise ID --json`, the interface other tools call, per exercise."""
    by_exercise: dict[str, list] = {}
    for path in RECORDINGS:
        by_exercise.setdefault(read_labels(path).exercise, []).append(path)
    for exercise, paths in by_exercise.items():
        out = subprocess.run([sys.executable, "-m", "backrep", "replay", *map(str, paths), "--exercise",
                              exercise, "--json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines()]
        assert [line["file"] for line in lines] == [str(p) for p in paths]
        assert {line["file"]: line["reps"] for line in lines} == {
            str(p): read_labels(p).reps for p in paths}
