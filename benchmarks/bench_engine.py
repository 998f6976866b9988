"""Cost of the streaming engine per sample, beside a named baseline run in the same process.

    .venv/bin/python benchmarks/bench_engine.py [--seconds-per-case 3]

Baseline: the pure-Python ``ahrs`` package's Madgwick filter (``ahrs.filters.Madgwick.updateIMU``)
alone, one sample per call, on the same samples: the orientation step a naive design would run.
The engine does orientation, smoothing, counting and hold timing. A Raspberry Pi Zero 2 W is
about 15 times slower than a desktop core, so the last column estimates its cost.

Also measured: ``backrep replay`` throughput (read + count) over the bundled recordings.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backrep.recording import read_labels, read_recording  # noqa: E402
from backrep.replay import replay_recording  # noqa: E402
from signal_processing import Engine, get_exercise  # noqa: E402

PI_ZERO_2W_SLOWDOWN = 15.0


def engine_us_per_sample(recording, exercise: str, chunk: int) -> float:
    engine = Engine(get_exercise(exercise))
    t, a, g = recording.t_s, recording.accel_g, recording.gyro_dps
    start = time.perf_counter()
    for i in range(0, len(t), chunk):
        engine.update(t[i:i + chunk], a[i:i + chunk], g[i:i + chunk])
    engine.finish()
    return (time.perf_counter() - start) / len(t) * 1e6


def madgwick_us_per_sample(recording) -> float:
    from ahrs.filters import Madgwick
    rate_hz = recording.rate_hz
    madgwick = Madgwick(frequency=rate_hz)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    gyro_rad_s = np.radians(recording.gyro_dps)
    accel_m_s2 = recording.accel_g * 9.80665
    start = time.perf_counter()
    for i in range(len(gyro_rad_s)):
        q = madgwick.updateIMU(q, gyr=gyro_rad_s[i], acc=accel_m_s2[i])
    return (time.perf_counter() - start) / len(gyro_rad_s) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    cases = [("knee_to_chest-01-typical.csv", "knee_to_chest"),
             ("heel_slide-03-fast-knock.csv", "heel_slide"),
             ("pelvic_tilt-06-wide-1khz.csv", "pelvic_tilt"),
             # An exercise of unknown plane: "up" followed as a vector, and the reps' way learnt.
             ("knee_to_chest-01-typical.csv", "generic")]
    print(f"{'recording':34s} {'exercise':>13s} {'rate':>6s} {'chunk':>5s} {'engine us':>10s} {'madgwick us':>12s} "
          f"{'ratio':>6s} {'Pi est. us':>10s}")
    for name, exercise in cases:
        recording = read_recording(ROOT / "recordings" / name)
        rate_hz = recording.rate_hz
        chunk = max(1, int(round(rate_hz / 10)))       # the service feeds ~10 reads a second
        engine_us = statistics.median(engine_us_per_sample(recording, exercise, chunk)
                                      for _ in range(args.repeats))
        baseline_us = statistics.median(madgwick_us_per_sample(recording) for _ in range(args.repeats))
        print(f"{name:34s} {exercise:>13s} {rate_hz:6.0f} {chunk:5d} {engine_us:10.2f} {baseline_us:12.2f} "
              f"{baseline_us / engine_us:5.1f}x {engine_us * PI_ZERO_2W_SLOWDOWN:10.1f}")

    paths = sorted((ROOT / "recordings").glob("*.csv"))
    samples = 0
    start = time.perf_counter()
    for path in paths:
        recording = read_recording(path)
        replay_recording(recording, read_labels(path).exercise)
        samples += len(recording.t_s)
    elapsed_s = time.perf_counter() - start
    print(f"\nreplay (read + count) of {len(paths)} recordings: {samples} samples in {elapsed_s:.2f} s = "
          f"{samples / elapsed_s / 1000:.0f} k samples/s ({samples / elapsed_s / 100 / 60:.0f} minutes of "
          f"100 Hz recording per second)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
