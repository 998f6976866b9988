"""Is the hand-written inclination filter as good as the field's reference? Error against truth.

    .venv/bin/python benchmarks/bench_orientation.py

For simulated sessions the simulator knows the thigh's true inclination. Each estimator turns
the same samples into "up" in the sensor's axes; inclination is then the elevation of the same
thigh axis (the simulator's true one, so only the orientation estimate is compared):

* backrep: ``signal_processing.orientation.InclinationEstimator`` (complementary filter);
* ahrs Madgwick: ``ahrs.filters.Madgwick.updateIMU`` (pure Python), gravity from its quaternion.

Printed per session: RMS and 99th-percentile inclination error (degrees) at rest and during
movement, and each estimator's cost per sample.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backrep.simulator import simulated_session  # noqa: E402
from backrep.simulator.library import LIBRARY  # noqa: E402
from signal_processing.orientation import InclinationEstimator  # noqa: E402

CASES = ["knee_to_chest-01-typical", "hip_flexor-04-fast-knock-slip", "heel_slide-03-fast-knock",
         "knee_to_chest-07-stiff-hard"]


def ups_backrep(t, a, g, rest):
    est = InclinationEstimator()
    est.start(a[rest].mean(axis=0), g[rest].mean(axis=0))
    ups: list = []
    start = time.perf_counter()
    est.update(np.diff(t, prepend=t[0] - (t[1] - t[0])), a, g, ups)
    return np.array(ups), (time.perf_counter() - start) / len(t) * 1e6


def ups_madgwick(t, a, g, rest):
    from ahrs.filters import Madgwick
    rate_hz = 1 / np.median(np.diff(t))
    mad = Madgwick(frequency=rate_hz)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    out = np.empty_like(a)
    gyro = np.radians(g - g[rest].mean(axis=0))
    start = time.perf_counter()
    for i in range(len(t)):
        q = mad.updateIMU(q, gyr=gyro[i], acc=a[i] * 9.80665)
        w, x, y, z = q
        out[i] = (2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z)
    return out, (time.perf_counter() - start) / len(t) * 1e6


def main() -> int:
    specs = {s.name: s for s in LIBRARY}
    print(f"{'session':32s} {'estimator':12s} {'rest rms':>9s} {'rest p99':>9s} {'move rms':>9s} "
          f"{'move p99':>9s} {'us/sample':>10s}")
    for name in CASES:
        session = simulated_session(specs[name])
        s = session.samples
        t = s.t_s - session.spec.t0_s
        truth = np.interp(t, session.motion.t_s, session.motion.flexion_deg)
        speed = np.abs(np.gradient(truth, t))
        rest = t < session.truth.reference.end_s
        axis = session.mounting.thigh_axis_in_sensor()
        moving = speed > 10.0
        for label, fn in (("backrep", ups_backrep), ("ahrs Madgwick", ups_madgwick)):
            ups, cost_us = fn(t, s.accel_g, s.gyro_dps, rest)
            ups = ups / np.linalg.norm(ups, axis=1)[:, None]
            # elevation of the true thigh axis, on the branch the truth is on
            sin_el = np.clip(ups @ axis, -1, 1)
            est = np.degrees(np.arcsin(sin_el))
            est = np.where(truth > 90, 180 - est, est)
            err = np.abs(est - truth)[~rest]
            mv = moving[~rest]
            print(f"{name:32s} {label:12s} {np.sqrt(np.mean(err[~mv] ** 2)):9.2f} {np.percentile(err[~mv], 99):9.2f} "
                  f"{np.sqrt(np.mean(err[mv] ** 2)):9.2f} {np.percentile(err[mv], 99):9.2f} {cost_us:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
