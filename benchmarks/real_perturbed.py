"""How the counter does on the real recordings as another subject or sensor might have made them.

    .venv/bin/python benchmarks/real_perturbed.py [--seed 1] [--per 4] [--person]

The real sets (`../shared/realdata/uci-pte`, counted as `generic`) are few, from two people and
one sensor. Each is replayed ``--per`` times, each time changed the way another recording of the
same movements could differ: the sensor strapped at any orientation, a constant gyroscope bias
(up to about 3 °/s), extra white noise, resampled to 50 or 100 Hz half the time, up to five
runs of 2-11 lost samples, and the recorder started up to a second late (into an opening rest
that is 0.64 s at the shortest, so some sets lose it). With ``--person``, each copy is first
made as another person might have moved: 0.7 to 1.4 times as fast, and over 0.7 to 1.4 times
the range (every turn "up" made from the opening rest, and every turn the gyroscope saw, scaled
alike). Each copy is counted as `backrep replay` counts a file. A set is right when every rep its labels name is counted, no more. Prints the
total and every miss with what was done to it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backrep.recording import Recording, read_recording  # noqa: E402
from backrep.replay import replay_recording  # noqa: E402
from tests.labelled import REAL_DIR  # noqa: E402
from tests.synthetic import random_mounting  # noqa: E402


def range_scaled(a, g, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The same movements over ``scale`` times the range: the accelerometer's direction turned
    ``scale`` times as far from its direction at the opening rest, about the same axis, and the
    gyroscope's readings (less their opening mean, the bias) scaled alike."""
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    u = a / norm
    rest = u[:10].mean(axis=0)
    rest /= np.linalg.norm(rest)
    c = np.clip(u @ rest, -1.0, 1.0)
    across = u - c[:, None] * rest
    across_norm = np.linalg.norm(across, axis=1, keepdims=True)
    way = np.divide(across, across_norm, out=np.zeros_like(across), where=across_norm > 1e-12)
    turned = scale * np.arccos(c)[:, None]
    bias = g[:10].mean(axis=0)
    return (np.cos(turned) * rest + np.sin(turned) * way) * norm, bias + (g - bias) * scale


def person_varied(t, a, g, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """The same set as a faster or slower person with a larger or smaller range might have done
    it, sampled at the recording's own rate."""
    speed = float(rng.uniform(0.7, 1.4))
    scale = float(rng.uniform(0.7, 1.4))
    a, g = range_scaled(a, g, scale)
    slow_t = t[0] + (t - t[0]) / speed
    period_s = float(np.median(np.diff(t)))
    tn = np.arange(slow_t[0], slow_t[-1], period_s)
    a = np.stack([np.interp(tn, slow_t, a[:, i]) for i in range(3)], axis=1)
    g = np.stack([np.interp(tn, slow_t, g[:, i] * speed) for i in range(3)], axis=1)
    return tn, a, g, f"{speed:.2f}x as fast over {scale:.2f}x the range"


def perturbed(t, a, g, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """One changed copy of a recording, and what was done to it."""
    mounting = random_mounting(rng)
    a, g = a @ mounting.T, g @ mounting.T
    bias_dps = rng.normal(0.0, 1.5, 3)
    g = g + bias_dps
    a = a + rng.normal(0.0, 0.004, a.shape)
    g = g + rng.normal(0.0, 0.3, g.shape)
    done = [f"rotated, gyro bias {np.linalg.norm(bias_dps):.1f} deg/s"]
    if rng.random() < 0.5:
        rate_hz = float(rng.choice([50.0, 100.0]))
        tn = np.arange(t[0], t[-1], 1.0 / rate_hz)
        a = np.stack([np.interp(tn, t, a[:, i]) for i in range(3)], axis=1)
        g = np.stack([np.interp(tn, t, g[:, i]) for i in range(3)], axis=1)
        t = tn
        done.append(f"{rate_hz:.0f} Hz")
    keep = np.ones(len(t), bool)
    for _ in range(int(rng.integers(0, 6))):
        start = int(rng.integers(len(t)))
        keep[start:start + int(rng.integers(2, 12))] = False
    t, a, g = t[keep], a[keep], g[keep]
    done.append(f"{int((~keep).sum())} lost")
    late_s = float(rng.uniform(0.0, 1.0))
    later = t >= t[0] + late_s
    done.append(f"started {late_s:.1f} s late")
    return t[later], a[later], g[later], ", ".join(done)


def reps_counted(t, a, g) -> int:
    """The reps `backrep replay` counts in these samples, as an exercise of unknown plane."""
    return replay_recording(Recording("perturbed", {}, t, a, g), "generic").reps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per", type=int, default=4, help="changed copies of each set")
    parser.add_argument("--person", action="store_true",
                        help="also vary the speed and range of the movements")
    args = parser.parse_args(argv)
    files = sorted(REAL_DIR.glob("*.csv"))
    if not files:
        print(f"real_perturbed: no recordings in {REAL_DIR}", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    right = total = 0
    misses = []
    for path in files:
        recording = read_recording(path)
        expected = json.loads(path.with_suffix(".json").read_text())["reps"]
        for _ in range(args.per):
            t, a, g = recording.t_s, recording.accel_g, recording.gyro_dps
            person = ""
            if args.person:
                t, a, g, person = person_varied(t, a, g, rng)
                person += ", "
            t, a, g, done = perturbed(t, a, g, rng)
            done = person + done
            reps = reps_counted(t, a, g)
            total += 1
            if reps == expected:
                right += 1
            else:
                misses.append(f"miss: {path.name}: {reps} for {expected} ({done})")
    print("\n".join(misses))
    print(f"\nseed {args.seed}: {right}/{total} sets counted exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
