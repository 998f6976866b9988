"""``backrep record``: a trace through the emulated chip and the real driver into a recording,
end to end, and the recording replays to the same counts as the trace it came from."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backrep.record import record
from backrep.recording import RecordingWriter, read_recording
from firmware_bridge import (Faults, SimulatedClock, StreamSettings, emulated_bus_from_recording,
                             open_stream, synthetic_trace)

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = ROOT / "recordings"


def backrep(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "backrep", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def write_trace(path, trace, metadata=None):
    with RecordingWriter(path, {"rate_hz": f"{trace.rate_hz:g}", "sensor": "mpu6050",
                                "accel_range_g": "2", "gyro_range_dps": "250", **(metadata or {})}) as w:
        w.write(trace.t_s + 5.0, trace.accel_g, trace.gyro_dps)


def test_record_emulate_end_to_end_gives_the_traces_samples_to_the_chips_resolution(tmp_path):
    trace_path, out = tmp_path / "trace.csv", tmp_path / "out.csv"
    write_trace(trace_path, synthetic_trace(12, 100, rest_s=2.0, seed=4))
    result = backrep("record", out, "--emulate", trace_path, "--speed", "1000", "--side", "left")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "sensor reading" in result.stderr
    original, again = read_recording(trace_path), read_recording(out)
    meta = again.metadata
    assert meta["sensor"] == "mpu6050" and meta["rate_hz"] == "100" and meta["side"] == "left"
    assert (meta["accel_range_g"], meta["gyro_range_dps"]) == ("2", "250")   # the trace's own
    dt.datetime.fromisoformat(meta["started_at"])
    # every re-recorded sample is the trace sample made at that moment, to the chip's resolution
    index = np.searchsorted(original.t_s, again.t_s - 0.004)
    np.testing.assert_array_less(np.abs(original.t_s[index] - again.t_s), 0.004)
    # from the FIFO's start, 0.15 s after the chip's (its reset, then the gyro's settling)
    assert np.all(np.diff(index) == 1) and index[0] <= 17 and index[-1] == len(original.t_s) - 1
    np.testing.assert_array_less(np.abs(again.accel_g - original.accel_g[index]), 0.5 / 16384 + 1e-5)
    # the gyro differs by the bias measured at rest at start-up, a constant, and nothing else
    offset = original.gyro_dps[index] - again.gyro_dps
    np.testing.assert_array_less(np.abs(offset - offset.mean(axis=0)), 1 / 131 + 1e-4)
    assert np.abs(offset.mean(axis=0)).max() < 0.05   # the synthetic trace has no bias to remove


def test_record_writes_seconds_of_samples_with_side_and_gaps_for_lost_samples(tmp_path):
    trace = synthetic_trace(20, 100)
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(trace, clock=clock, faults=Faults(disconnects=[(4.0, 2.0)]))
    messages = []

    class Log:
        def write(self, text):
            messages.append(text)

        def flush(self):
            pass

    with open_stream(bus, clock=clock, settings=StreamSettings(calibrate=False)) as stream:
        summary = record(tmp_path / "r.csv", stream=stream, seconds=10.0, side="right", t_origin_s=0.0,
                         log=Log(), now=lambda: dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc))
    rec = read_recording(tmp_path / "r.csv")
    assert rec.metadata["side"] == "right" and rec.metadata["started_at"] == "2026-01-02T03:04:05+00:00"
    assert 9.8 < rec.t_s[-1] - rec.t_s[0] < 10.0
    steps = np.diff(rec.t_s)
    assert steps.max() > 2.0 and np.sum(steps > 0.015) == 1        # the unplugged spell is one gap
    assert summary["lost_samples"] == pytest.approx(steps.max() * 100, abs=3)
    assert summary["samples"] == len(rec.t_s)
    said = "".join(messages)
    assert "sensor lost" in said and "sensor reconnecting" in said and "sensor reading" in said


def test_a_bus_the_user_may_not_open_is_refused_with_the_group_to_join():
    from firmware_bridge import BusAccessError

    def refuse(number):
        raise PermissionError(13, "Permission denied")

    with pytest.raises(BusAccessError) as err:
        open_stream(1, bus_factory=refuse)
    assert isinstance(err.value, PermissionError) and err.value.errno == 13
    assert "/dev/i2c-1" in str(err.value) and "i2c group" in str(err.value)


def test_record_refuses_bad_input_in_one_line(tmp_path):
    missing = backrep("record", tmp_path / "o.csv", "--emulate", tmp_path / "nope.csv")
    assert missing.returncode == 2 and "nope.csv" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    no_bus = backrep("record", tmp_path / "o.csv", "--bus", "97", "--seconds", "1")
    assert no_bus.returncode == 2 and len(no_bus.stderr.strip().splitlines()) == 1
    assert "i2c-97" in no_bus.stderr and "backrep doctor" in no_bus.stderr
    into_dir = backrep("record", tmp_path, "--emulate", tmp_path / "nope.csv")
    assert into_dir.returncode == 2 and "directory" in into_dir.stderr
    trace = RECORDINGS / "heel_slide-01-typical.csv"
    for option, value in (("--rate-hz", "50"), ("--bus", "3")):
        ignored = backrep("record", tmp_path / "o.csv", "--emulate", trace, option, value)
        assert ignored.returncode == 2 and len(ignored.stderr.strip().splitlines()) == 1
        assert "its own rate" in ignored.stderr and not (tmp_path / "o.csv").exists()


def test_record_keeps_a_recording_already_there_unless_told_to_replace_it(tmp_path):
    trace = RECORDINGS / "heel_slide-01-typical.csv"
    kept = tmp_path / "monday.csv"
    kept.write_bytes(b"monday's session")
    again = backrep("record", kept, "--emulate", trace, "--speed", "5000")
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert kept.read_bytes() == b"monday's session"
    second = backrep("record", tmp_path / "new.csv", "--second", kept, "--emulate", trace, "--speed", "5000")
    assert second.returncode == 2 and "already exists" in second.stderr
    assert kept.read_bytes() == b"monday's session" and not (tmp_path / "new.csv").exists()
    replaced = backrep("record", kept, "--emulate", trace, "--speed", "5000", "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert read_recording(kept).samples > 1000


def test_record_refuses_a_place_it_cannot_write_in_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = backrep("record", tmp_path / "a-file" / "o.csv", "--emulate", RECORDINGS / "heel_slide-01-typical.csv")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "cannot write" in result.stderr and "a-file" in result.stderr


TYPICAL = sorted(RECORDINGS.glob("*-01-typical.csv"))
FAST = sorted(RECORDINGS.glob("hip_flexor-*-1khz.csv"))    # one at 1 kHz: they are long to replay


@pytest.mark.parametrize("trace", TYPICAL + FAST, ids=[p.stem for p in TYPICAL + FAST])
def test_a_trace_recorded_through_the_emulated_chip_replays_to_the_same_counts(trace, tmp_path):
    out = tmp_path / trace.name
    made = backrep("record", out, "--emulate", trace, "--speed", "5000")
    assert made.returncode == 0, made.stderr
    replayed = backrep("replay", "--json", trace, out, "--exercise", trace.stem.split("-")[0])
    assert replayed.returncode == 0, replayed.stderr
    before, after = (json.loads(line) for line in replayed.stdout.splitlines())
    assert after["reps"] == before["reps"]
    assert len(after["holds"]) == len(before["holds"])
    assert after["lost_samples"] == 0
    # and the samples are the trace's, to the resolution of the range it was recorded with
    original, again = read_recording(trace), read_recording(out)
    lsb_g = float(original.metadata["accel_range_g"]) / 32768
    first = int(np.flatnonzero(np.abs(original.accel_g[:300] - again.accel_g[0]).max(axis=1) < lsb_g)[0])
    index = first + np.arange(len(again.t_s))          # sample for sample from there on
    assert index[-1] == len(original.t_s) - 1
    np.testing.assert_array_less(np.abs(again.accel_g - original.accel_g[index]), 0.5 * lsb_g + 1e-5)
    # stamped where the original had them, to within its own timestamp jitter once the rate
    # is known (the original's chip ran about 1 % fast; the first second assumes the nominal rate)
    period = 1 / original.rate_hz
    error = np.abs(again.t_s - original.t_s[index])
    assert error.max() < 1.5 * period
    assert error[again.t_s > again.t_s[0] + 3].max() < 0.5 * period


def test_the_whole_library_is_represented_by_one_trace_per_exercise():
    # the parametrised test above must cover every exercise, not silently none
    assert {p.name.split("-")[0] for p in TYPICAL} == {"heel_slide", "hip_flexor", "knee_to_chest", "pelvic_tilt"}


def test_two_thighs_are_recorded_in_step_each_to_its_own_file_with_its_side(tmp_path):
    from backrep.record import record_many
    from firmware_bridge import EmulatedBus, emulated_chip, marker_numbers, marker_trace

    clock = SimulatedClock()
    traces = {0x68: marker_trace(15, 100, 1 / 8192, seed=1), 0x69: marker_trace(15, 100, 1 / 8192, seed=2)}
    bus = EmulatedBus(clock)
    for address, trace in traces.items():
        bus.attach(address, emulated_chip(trace, "mpu6050", clock))
    streams = [open_stream(bus, address=a, clock=clock, settings=StreamSettings(calibrate=False)) for a in traces]
    outs = [tmp_path / "left.csv", tmp_path / "right.csv"]
    summaries = record_many(outs, streams=streams, sides=["left", "right"], seconds=8.0, t_origin_s=0.0)
    for stream in streams:
        stream.close()
    left, right = (read_recording(p) for p in outs)
    assert (left.metadata["side"], right.metadata["side"]) == ("left", "right")
    # the second chip starts once the first has (0.15 s: its reset, then the gyro's settling)
    assert abs(left.t_s[0] - right.t_s[0]) < 0.2 and abs(left.t_s[-1] - right.t_s[-1]) < 0.015
    for rec, trace, summary in ((left, traces[0x68], summaries[0]), (right, traces[0x69], summaries[1])):
        number = marker_numbers(rec.accel_g, 1 / 8192)
        assert np.all(np.diff(number) == 1) and summary["samples"] == len(rec.t_s)
        np.testing.assert_array_less(np.abs(rec.t_s - trace.t_s[number]), 0.006)
        np.testing.assert_array_less(np.abs(rec.accel_g[:, 1] - trace.accel_g[number, 1]), 0.5 / 8192 + 1e-5)
