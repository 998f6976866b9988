"""`backrep record --emulate` with a second thigh and with the LSM6DSOX family, end to end."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from backrep.recording import read_recording
from tests.labelled import ROOT

TRACE = ROOT / "recordings" / "heel_slide-01-typical.csv"


def record(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "backrep", "record", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def replay_reps(path, exercise="heel_slide"):
    out = subprocess.run([sys.executable, "-m", "backrep", "replay", str(path), "--exercise", exercise, "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    import json
    return json.loads(out.stdout)["reps"]


def test_two_thighs_on_one_bus_each_to_its_own_file_with_its_side(tmp_path):
    right, left = tmp_path / "right.csv", tmp_path / "left.csv"
    out = record(right, "--emulate", TRACE, "--speed", "200", "--second", left)
    assert out.returncode == 0, out.stderr
    a, b = read_recording(right), read_recording(left)
    assert (a.metadata["side"], b.metadata["side"]) == ("right", "left")
    assert "0x68" in out.stderr and "0x69" in out.stderr
    # read in step, the second chip started once the first had (its reset, then the gyro's settling)
    assert abs(a.t_s[0] - b.t_s[0]) < 0.2 and abs(a.t_s[-1] - b.t_s[-1]) < 0.05
    assert replay_reps(right) == replay_reps(left) == replay_reps(TRACE) == 10


def test_the_lsm6dsox_family_records_the_same_movement(tmp_path):
    out_path = tmp_path / "lsm.csv"
    out = record(out_path, "--emulate", TRACE, "--speed", "200", "--chip", "lsm6dsox")
    assert out.returncode == 0, out.stderr
    recording = read_recording(out_path)
    assert recording.metadata["sensor"] == "lsm6dsox"
    assert np.all(np.diff(recording.t_s) > 0)
    assert replay_reps(out_path) == 10


def test_chip_without_emulate_and_the_same_file_twice_are_refused(tmp_path):
    for args in ([tmp_path / "x.csv", "--chip", "lsm6ds3"],
                 [tmp_path / "x.csv", "--emulate", TRACE, "--second", tmp_path / "x.csv"]):
        out = record(*args)
        assert out.returncode == 2
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
