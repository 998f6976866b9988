"""Every labelled recording, simulated and real, replayed through the engine the service runs.

Simulated recordings: the exact rep count, and every hold within a second of its label.
Real recordings (UCI Physical Therapy Exercises, Yurtman & Barshan, CC BY 4.0; motions outside
the programme, counted as `generic`): exact on all but one of the 24 sets of ten, and at most
two reps out over all 240. The one is named in docs/counter.md with why.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import statistics

import pytest

from backrep.recording import read_labels, read_recording
from backrep.replay import replay_recording
from signal_processing import Engine, get_exercise
from tests.conftest import HOLD_ERRORS_S
from tests.labelled import REAL_DIR, ROOT, labelled_recordings

RECORDINGS = labelled_recordings()
SIMULATED = [p for p in RECORDINGS if p.parent != REAL_DIR]
REAL = [p for p in RECORDINGS if p.parent == REAL_DIR]
#: Real sets allowed to be miscounted, and reps out over all 240 (see docs/counter.md: a
#: "lowamp" set whose reps are smaller than the drift of its resting pose).
REAL_MISSES_ALLOWED = 1
REAL_REPS_OUT_ALLOWED = 2


@pytest.mark.parametrize("path", SIMULATED, ids=[p.name for p in SIMULATED])
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


@pytest.mark.parametrize("path", SIMULATED, ids=[p.name for p in SIMULATED])
def test_a_recording_started_a_moment_before_the_first_movement_counts_the_same(path):
    # The recorder started late: a tenth of a second of the reference pose, not a second.
    labels = read_labels(path)
    first_move_s = json.loads(path.with_suffix(".json").read_text())["reference_span"][1]
    recording = read_recording(path)
    keep = recording.t_s >= first_move_s - 0.1
    late = dataclasses.replace(recording, t_s=recording.t_s[keep], accel_g=recording.accel_g[keep],
                               gyro_dps=recording.gyro_dps[keep])
    result = replay_recording(late, labels.exercise)

    assert result.reps == labels.reps
    measured = [hold.duration_s for hold in result.holds]
    assert len(measured) == len(labels.holds_s)
    assert all(abs(m - truth) < 1.0 for m, truth in zip(measured, labels.holds_s)), measured


#: Programme sets that start with a move into a start pose, and have no strap slip: `generic`
#: measures how far the thigh turned from its rest, which a slip moves (docs/counter.md).
FROM_A_POSE = [p for p, labels in ((p, json.loads(p.with_suffix(".json").read_text())) for p in SIMULATED)
               if labels["exercise"] == "pelvic_tilt" and "slip" not in labels["confounders"]]


def test_the_library_has_pelvic_tilt_sets_to_count_from_a_pose():
    assert len(FROM_A_POSE) >= 5      # else the test below would pass on none


@pytest.mark.parametrize("path", FROM_A_POSE, ids=[p.name for p in FROM_A_POSE])
def test_pelvic_tilts_counted_as_an_exercise_outside_the_catalogue_count_every_tilt(path):
    # As `generic`, nothing says the set starts in hook-lying: the move there is no rep, and
    # the tilts from it are, every one (it used to count none until the pose was held 30 s).
    assert replay_recording(read_recording(path), "generic").reps == read_labels(path).reps


def test_real_recordings_are_counted_exactly_but_for_a_few():
    errors = {p.name: replay_recording(read_recording(p), "generic").reps - read_labels(p).reps for p in REAL}
    assert len(errors) == 24
    misses = {name: error for name, error in errors.items() if error}
    assert len(misses) <= REAL_MISSES_ALLOWED, misses
    assert sum(abs(e) for e in errors.values()) <= REAL_REPS_OUT_ALLOWED, misses


def test_real_recordings_started_a_moment_before_the_first_rep_count_the_same():
    # Cut to start half a second before the whole set's first rep began (as its replay finds
    # it): after the sensor's smoothing, a fifth of a second or less of the thigh lying still.
    errors = {}
    for path in REAL:
        recording = read_recording(path)
        engine = Engine(get_exercise("generic"))
        events = engine.update(recording.t_s, recording.accel_g, recording.gyro_dps) + engine.finish()
        first_rep_s = next(event.t_s for event in events if event.kind == "rep_started")
        keep = recording.t_s >= first_rep_s - 0.5
        late = dataclasses.replace(recording, t_s=recording.t_s[keep], accel_g=recording.accel_g[keep],
                                   gyro_dps=recording.gyro_dps[keep])
        errors[path.name] = replay_recording(late, "generic").reps - read_labels(path).reps
    misses = {name: error for name, error in errors.items() if error}
    assert len(misses) <= REAL_MISSES_ALLOWED, misses


def test_a_real_fast_set_with_samples_lost_as_the_thigh_came_down_counts_every_rep():
    # Straight-leg raises done fast (`uci-s2-e3-fast`), with a third of a second lost as the
    # thigh came down twice. Taken up afresh after the first gap, the angle seemed to rebound
    # 7 degrees and then lay still; the rest was not re-taken there because over the second
    # it looked like the slow creep of a tilt, and the next, smaller rep was not a rep
    # threshold beyond the older, higher rest: 9 of 10.
    (path,) = [p for p in REAL if p.name == "uci-s2-e3-fast.csv"]
    recording = read_recording(path)
    keep = ~(((recording.t_s >= 111.12) & (recording.t_s <= 111.44))
             | ((recording.t_s >= 113.04) & (recording.t_s <= 113.44)))
    lossy = dataclasses.replace(recording, t_s=recording.t_s[keep], accel_g=recording.accel_g[keep],
                                gyro_dps=recording.gyro_dps[keep])
    assert replay_recording(lossy, "generic").reps == read_labels(path).reps


HELD = [p for p in SIMULATED if read_labels(p).holds_s]


@pytest.mark.parametrize("path", HELD, ids=[p.name for p in HELD])
def test_the_live_hold_timer_never_shows_more_than_the_hold_is_saved_at(path):
    # The dashboard says "hold done" when the timer reaches the target: the saved hold must
    # not then fall short of it. Nor does the timer step back (by more than sway can move it).
    recording = read_recording(path)
    engine = Engine(get_exercise(read_labels(path).exercise))
    shown_s, step = 0.0, max(1, int(round(0.1 * recording.rate_hz)))
    for i in range(0, recording.samples, step):
        for event in engine.update(recording.t_s[i:i + step], recording.accel_g[i:i + step],
                                   recording.gyro_dps[i:i + step]):
            if event.kind == "hold_ended":
                assert shown_s <= event.hold.duration_s + 1e-9, (event.hold, shown_s)
            if event.kind in ("hold_started", "hold_ended", "hold_cancelled"):
                shown_s = 0.0
        state = engine.state
        if state.hold_active:
            assert state.hold_elapsed_s >= shown_s - 0.05
            shown_s = state.hold_elapsed_s


def test_hold_errors_over_the_library_have_a_median_under_half_a_second():
    errors = []
    for path in RECORDINGS:
        labels = read_labels(path)
        if not labels.holds_s:
            continue
        result = replay_recording(read_recording(path), labels.exercise)
        assert len(result.holds) == len(labels.holds_s), path.name
        errors += [abs(h.duration_s - t) for h, t in zip(result.holds, labels.holds_s)]
    assert len(errors) >= 20
    assert statistics.median(errors) < 0.5
    assert max(errors) < 1.0


def test_backrep_replay_json_counts_every_simulated_recording_exactly():
    """`backrep replay FILE... --exercise ID --json`, the interface other tools call, per exercise."""
    by_exercise: dict[str, list] = {}
    for path in SIMULATED:
        by_exercise.setdefault(read_labels(path).exercise, []).append(path)
    assert set(by_exercise) == {"heel_slide", "pelvic_tilt", "knee_to_chest", "hip_flexor"}
    for exercise, paths in by_exercise.items():
        out = subprocess.run([sys.executable, "-m", "backrep", "replay", *map(str, paths), "--exercise",
                              exercise, "--json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines()]
        assert [line["file"] for line in lines] == [str(p) for p in paths]
        assert {line["file"]: line["reps"] for line in lines} == {
            str(p): read_labels(p).reps for p in paths}
        for line, path in zip(lines, paths):
            labelled = read_labels(path).holds_s
            assert len(line["holds"]) == len(labelled)
            assert all(abs(h["duration_s"] - t) < 1.0 for h, t in zip(line["holds"], labelled))
