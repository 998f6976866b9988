"""``backrep replay`` as a user runs it: a real subprocess, its output, its exit status.

Rep counts are not asserted here: they belong to the engine's own tests over labelled recordings.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signal_processing import EXERCISE_IDS, Hold

from backrep.recording import RecordingWriter, read_recording
from backrep.replay import ReplayResult, chunk_bounds, holds_text, replay_recording, table_text
from tests.test_recording import BAD_FILES


def _backrep(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backrep", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def _good_file(tmp_path: Path, name: str, seconds: float = 3.0, rate_hz: float = 100.0,
               metadata: dict | None = None) -> str:
    n = int(seconds * rate_hz)
    t_s = 100.0 + np.arange(n) / rate_hz
    accel_g = np.tile([0.0, 0.0, 1.0], (n, 1))
    gyro_dps = np.zeros((n, 3))
    with RecordingWriter(tmp_path / name, {"rate_hz": rate_hz, "sensor": "sim", **(metadata or {})}) as writer:
        writer.write(t_s, accel_g, gyro_dps)
    return name


def _assert_one_error_line(result: subprocess.CompletedProcess, *must_contain: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backrep: error: ")
    for text in must_contain:
        assert text in lines[0]
    return lines[0]


@pytest.mark.parametrize("case, content, line, reason", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_a_bad_file_is_one_line_naming_file_and_line_and_exit_2(tmp_path, case, content, line, reason):
    (tmp_path / "bad.csv").write_bytes(content)
    result = _backrep("replay", "bad.csv", cwd=tmp_path)
    where = f"bad.csv:{line}: " if line is not None else "bad.csv: "
    _assert_one_error_line(result, f"backrep: error: {where}", reason)
    assert result.stdout == ""


@pytest.mark.parametrize("name, reason", [("absent.csv", "no such file"), ("folder", "directory")])
def test_a_missing_file_or_a_directory_is_one_line_and_exit_2(tmp_path, name, reason):
    (tmp_path / "folder").mkdir()
    result = _backrep("replay", name, "--json", cwd=tmp_path)
    _assert_one_error_line(result, f"backrep: error: {name}: ", reason)


def test_an_unknown_exercise_is_refused_before_any_file_is_read(tmp_path):
    result = _backrep("replay", "absent.csv", "--exercise", "sit_ups", cwd=tmp_path)
    line = _assert_one_error_line(result, "sit_ups")
    assert all(exercise_id in line for exercise_id in (*EXERCISE_IDS, "auto"))
    assert "absent.csv" not in line


def test_no_files_is_a_usage_error(tmp_path):
    _assert_one_error_line(_backrep("replay", cwd=tmp_path), "FILE")


@pytest.mark.parametrize("exercise, reported", [(None, "unknown"), ("auto", "unknown"),
                                                ("knee_to_chest", "knee_to_chest"), ("heel_slide", "heel_slide")])
def test_json_is_one_object_per_file_per_line_in_the_documented_shape(tmp_path, exercise, reported):
    names = [_good_file(tmp_path, "a.csv"), _good_file(tmp_path, "b.csv", seconds=2.0, rate_hz=50.0)]
    args = ["replay", *names, "--json"] + (["--exercise", exercise] if exercise else [])
    result = _backrep(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for name, line in zip(names, lines):
        obj = json.loads(line)
        assert list(obj)[:4] == ["file", "exercise", "reps", "holds"]
        assert obj["file"] == name
        assert obj["exercise"] == reported
        assert isinstance(obj["reps"], int) and obj["reps"] >= 0
        assert isinstance(obj["holds"], list)
        for hold in obj["holds"]:
            assert set(hold) == {"start_s", "end_s", "duration_s"}
            assert all(isinstance(v, (int, float)) for v in hold.values())
    first, second = (json.loads(line) for line in lines)
    assert (first["samples"], first["rate_hz"], first["lost_samples"]) == (300, 100.0, 0)
    assert (second["samples"], second["rate_hz"]) == (100, 50.0)
    assert second["duration_s"] == pytest.approx(1.98)


def test_a_labelled_recording_is_counted_as_the_exercise_it_names_unless_told_otherwise(tmp_path):
    # A physiotherapist replaying a labelled session expects it counted as the exercise it was.
    repo = Path(__file__).resolve().parent.parent / "recordings"
    for suffix in (".csv", ".json"):
        (tmp_path / f"k{suffix}").write_bytes((repo / f"knee_to_chest-01-typical{suffix}").read_bytes())
    labels = json.loads((tmp_path / "k.json").read_text())
    _good_file(tmp_path, "named.csv", metadata={"exercise": "pelvic_tilt"})
    _good_file(tmp_path, "broken.csv")
    (tmp_path / "broken.json").write_text("{not json")
    result = _backrep("replay", "k.csv", "named.csv", "broken.csv", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    k, named, broken = (json.loads(line) for line in result.stdout.splitlines())
    assert (k["exercise"], k["reps"]) == ("knee_to_chest", labels["reps"])
    assert len(k["holds"]) == len(labels["holds_s"])
    assert all(abs(h["duration_s"] - x) < 1.0 for h, x in zip(k["holds"], labels["holds_s"]))
    assert named["exercise"] == "pelvic_tilt"
    assert broken["exercise"] == "unknown"
    for told, reported in (("auto", "unknown"), ("heel_slide", "heel_slide")):
        result = _backrep("replay", "k.csv", "--json", "--exercise", told, cwd=tmp_path)
        assert json.loads(result.stdout)["exercise"] == reported


def test_without_json_a_person_reads_an_aligned_table(tmp_path):
    names = [_good_file(tmp_path, "short.csv"), _good_file(tmp_path, "a-much-longer-name.csv")]
    result = _backrep("replay", *names, "--exercise", "knee_to_chest", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["file", "exercise", "reps", "holds"]
    assert [row.split()[0] for row in rows] == names
    assert all(row.split()[1] == "knee_to_chest" for row in rows)
    assert len({line.index("exercise") if line is header else line.index("knee_to_chest")
                for line in (header, *rows)}) == 1  # the exercise column lines up


def test_good_files_are_still_reported_when_another_is_bad(tmp_path):
    _good_file(tmp_path, "one.csv")
    _good_file(tmp_path, "two.csv")
    (tmp_path / "bad.csv").write_bytes(BAD_FILES[[c[0] for c in BAD_FILES].index("time repeats")][1])
    for extra in (["--json"], []):
        result = _backrep("replay", "one.csv", "bad.csv", "absent.csv", "two.csv", *extra, cwd=tmp_path)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        errors = result.stderr.splitlines()
        assert len(errors) == 2
        assert errors[0].startswith("backrep: error: bad.csv:6: ")
        assert errors[1].startswith("backrep: error: absent.csv: ")
        reported = result.stdout
        assert "one.csv" in reported and "two.csv" in reported and "bad.csv" not in reported
        if extra:
            assert [json.loads(line)["file"] for line in reported.splitlines()] == ["one.csv", "two.csv"]


# --------------------------------------------------------------------------- the pieces


def test_files_may_follow_the_options(tmp_path):
    first, second = _good_file(tmp_path, "a.csv"), _good_file(tmp_path, "b.csv")
    result = _backrep("replay", first, "--json", second, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [first, second]
    _assert_one_error_line(_backrep("replay", first, "--json", "--jsn", cwd=tmp_path), "unrecognized", "--jsn")


def test_readings_no_sensor_makes_are_lost_samples_not_a_crash_or_a_warning(tmp_path):
    lines = ["# backrep-recording: 1", "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"]
    lines += [f"{i / 100:.2f},{'1e300' if i % 7 == 0 else '0.0'},0,1,{'1e250' if i % 5 == 0 else '0.1'},0,0"
              for i in range(3000)]
    (tmp_path / "huge.csv").write_text("\n".join(lines) + "\n")
    result = _backrep("replay", "huge.csv", "--json", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout)["reps"] == 0


def test_a_hold_lasts_the_difference_of_its_times_as_printed():
    # 21.221 - 18.272: unrounded, 2.9484 rounded to 2.948, and a reader subtracting got 2.949
    assert Hold(18.2724, 21.2208).as_dict() == {"start_s": 18.272, "end_s": 21.221, "duration_s": 2.949}


def test_result_as_dict_is_the_interface_json():
    result = ReplayResult(file="r.csv", exercise="knee_to_chest", reps=2,
                          holds=(Hold(17.8, 38.1), Hold(45.0, 64.4)), rate_hz=100.0, samples=9000,
                          lost_samples=3, duration_s=89.99)
    assert result.as_dict() == {
        "file": "r.csv", "exercise": "knee_to_chest", "reps": 2,
        "holds": [{"start_s": 17.8, "end_s": 38.1, "duration_s": 20.3},
                  {"start_s": 45.0, "end_s": 64.4, "duration_s": 19.4}],
        "rate_hz": 100.0, "samples": 9000, "lost_samples": 3, "duration_s": 89.99,
    }
    assert holds_text(result.holds) == "20.3 19.4 s"
    assert holds_text(()) == "-"
    assert "20.3 19.4 s" in table_text([result])


def test_replay_reports_the_recording_and_auto_as_unknown(tmp_path):
    rec = read_recording(tmp_path / _good_file(tmp_path, "g.csv", seconds=2.0))
    result = replay_recording(rec, "auto")
    assert (result.exercise, result.samples, result.rate_hz, result.file) == ("unknown", 200, 100.0, rec.path)
    assert replay_recording(rec, "pelvic_tilt").exercise == "pelvic_tilt"
    with pytest.raises(ValueError, match="known"):
        replay_recording(rec, "yoga")


@settings(max_examples=50, deadline=None)
@given(steps_s=st.lists(st.floats(1e-3, 3.0) | st.floats(3.0, 1e12), min_size=0, max_size=200),
       chunk_s=st.floats(0.05, 5.0))
def test_chunks_cover_every_sample_once_in_order_and_span_less_than_chunk_s(steps_s, chunk_s):
    t_s = np.concatenate(([0.0], np.cumsum(steps_s))) if steps_s else np.zeros(0)
    bounds = list(chunk_bounds(t_s, chunk_s))
    assert [i for start, end in bounds for i in range(start, end)] == list(range(len(t_s)))
    assert all(t_s[end - 1] - t_s[start] < chunk_s for start, end in bounds)


def test_a_recording_whose_clock_leaps_decades_is_replayed_with_the_gap_as_lost_samples(tmp_path):
    # A gap is lost samples, never a reason to fail; chunking by the clock's span once asked
    # for a 12 GiB array here.
    name = _good_file(tmp_path, "leap.csv", seconds=2.0)
    with RecordingWriter(tmp_path / "leap2.csv", {"rate_hz": 100.0}) as writer:
        for t0_s in (0.0, 1.7e9):
            t_s = t0_s + np.arange(200) / 100.0
            writer.write(t_s, np.tile([0.0, 0.0, 1.0], (200, 1)), np.zeros((200, 3)))
    result = _backrep("replay", "--json", name, "leap2.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    leap = json.loads(result.stdout.splitlines()[1])
    assert (leap["reps"], leap["samples"]) == (0, 400)
    assert leap["lost_samples"] == round((1.7e9 - 1.99) * 100) - 1
