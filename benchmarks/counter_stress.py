"""How the counter does on sets drawn another way than the simulator's, one condition at a time.

    .venv/bin/python benchmarks/counter_stress.py [--seed 1] [--per 6] [--condition NAME ...]

`counter_generalisation.py` draws sessions from the simulator the counter was developed beside,
and a counter can come to fit a generator's habits. These sets come from the unit tests' bare
trace model instead (`tests/synthetic.py`: exact gravity and rate, the movement's own
acceleration at the strap, any strap orientation) with a choreography of their own: reps back
to back with no rest, rests of a fraction of a second, and reps of uneven size, for all four
exercises. Each condition then pushes one thing to its edge (noise, rate, lost samples, the
sensor's offsets, pace, a hold let go early or sagging, ...), on the same draws.

A set is right when every rep is counted and, for the held exercises, every hold is timed
within a second of its planned length. Prints each condition's total and every miss.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signal_processing import Engine, get_exercise  # noqa: E402
from tests.synthetic import flexion_profile, random_mounting, thigh_trace  # noqa: E402

EXERCISES = ("heel_slide", "pelvic_tilt", "knee_to_chest", "hip_flexor")
HELD = tuple(ex for ex in EXERCISES if get_exercise(ex).times_holds)   # timed holds at the far end
KINDS = ("continuous", "short_rests", "uneven")
PROFILES = ("minimum_jerk", "raised_cosine")


@dataclass(frozen=True)
class Condition:
    """How one batch of sets is drawn; the defaults are an ordinary sensor and person."""
    name: str
    about: str
    rates_hz: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0)
    noise_g: float = 0.004
    noise_dps: float = 0.15
    lever_m: float = 0.25               # strap's distance down the thigh from the hip
    move_s: tuple[float, float] = (0.8, 2.5)   # one movement out (or back), per person
    move_spread: float = 0.25           # each movement within this fraction of the person's
    pause_max_s: float = 1.0            # pause at the far end of a rep that is not held
    sag_deg: float = 0.0                # a held far end drifts back by up to this
    let_go: bool = False                # one hold in each held set let go after 2-6 s
    lost_fraction: float = 0.0          # samples lost at random
    jitter_periods: float = 0.0         # timestamps off by up to this fraction of a period
    bias_dps: float = 0.0               # gyroscope zero-rate offset, per axis
    offset_g: float = 0.0               # accelerometer offset per axis (and 3 % scale error)
    range_g: float = 0.0                # quantised to this full scale (and 125x it in deg/s)
    hinge_deg: float = 0.0              # the thigh swings out to the side as it flexes


CONDITIONS = (
    Condition("plain", "an ordinary sensor and person"),
    Condition("let_go", "one hold in each held set let go after 2-6 s", let_go=True),
    Condition("sag", "held far ends drift back by 5-10 degrees as the arms tire", sag_deg=10.0),
    Condition("noisy_fast", "500-1000 Hz, low-pass wide open: 0.012 g and 0.3 deg/s of noise",
              rates_hz=(500.0, 1000.0), noise_g=0.012, noise_dps=0.3),
    Condition("noisy_slow", "25 Hz with 0.01 g of noise", rates_hz=(25.0,), noise_g=0.01),
    Condition("lost", "a tenth of the samples lost at random", lost_fraction=0.1),
    Condition("jitter", "timestamps off by up to 0.3 of a period", jitter_periods=0.3),
    Condition("offsets", "accelerometer offsets of 0.06 g and 3 % scale, gyro bias 3 deg/s",
              offset_g=0.06, bias_dps=3.0),
    Condition("coarse", "read at +-16 g and +-2000 deg/s full scale", range_g=16.0),
    Condition("hinge", "the thigh swings 20 degrees out as it flexes", hinge_deg=20.0),
    Condition("near_knee", "strap 0.45 m from the hip, quick movements of 1-1.4 s",
              lever_m=0.45, move_s=(1.0, 1.4)),
    Condition("slow", "movements of 3-6 s", move_s=(3.0, 6.0)),
    Condition("uneven_pace", "each movement 0.5-1.5 times the person's pace", move_spread=0.5),
    Condition("long_pauses", "pauses of up to 3 s at the far end of unheld reps", pause_max_s=3.0),
)


@dataclass(frozen=True)
class Draw:
    """One set's random choices, shared by every condition so they differ in one thing only."""
    kind: str
    exercise: str
    rate_index: int
    amplitude_deg: float
    base_deg: float
    profile: str
    seed: int


def planned_set(draw: Draw, cond: Condition, rng: np.random.Generator):
    """The set's moves as (start_s, duration_s, to_deg), its reps and its hold lengths."""
    ex = draw.exercise
    n_reps = 5 if ex in HELD else 10
    pace_s = rng.uniform(*cond.move_s)
    let_go_rep = int(rng.integers(1, n_reps)) if cond.let_go and ex in HELD else -1
    plan, holds_s, t = [], [], 3.0
    if draw.base_deg:                   # into the start pose first
        plan.append((t, 3.0, draw.base_deg))
        t += 5.0
    for k in range(n_reps):
        amp = draw.amplitude_deg * (rng.uniform(0.7, 1.3) if draw.kind == "uneven" else 1.0)
        move_s = pace_s * rng.uniform(1 - cond.move_spread, 1 + cond.move_spread)
        if ex in HELD:
            hold_s = rng.uniform(2.0, 6.0) if k == let_go_rep else rng.uniform(18.0, 22.0)
        else:
            hold_s = 0.0 if draw.kind == "continuous" else rng.uniform(0.0, cond.pause_max_s)
        rest_s = {"continuous": 0.0, "short_rests": rng.uniform(0.2, 0.6)}.get(draw.kind, rng.uniform(0.5, 3.0))
        plan.append((t, move_s, draw.base_deg + amp))
        t += move_s
        if ex in HELD:
            sag = cond.sag_deg * rng.uniform(0.5, 1.0) * np.sign(amp)
            if sag:
                plan.append((t, hold_s, draw.base_deg + amp - sag))
            holds_s.append(hold_s)
        t += hold_s
        plan.append((t, move_s, draw.base_deg))
        t += move_s + rest_s
    if draw.base_deg:                   # and out of it after
        plan.append((t + 2.0, 3.0, 0.0))
        t += 5.0
    return plan, t + 3.0, n_reps, holds_s


def sensor_samples(draw: Draw, cond: Condition, plan, end_s: float):
    """What the sensor reports through the set, with this condition's faults."""
    rng = np.random.default_rng(draw.seed)
    rate_hz = cond.rates_hz[draw.rate_index % len(cond.rates_hz)]
    t = np.arange(0.0, end_s, 1.0 / rate_hz)
    if cond.jitter_periods:
        t = t + rng.uniform(-cond.jitter_periods, cond.jitter_periods, len(t)) / rate_hz
    accel_g, gyro_dps = thigh_trace(flexion_profile(t, plan, draw.profile), t,
                                    mounting=random_mounting(rng), noise_g=cond.noise_g,
                                    noise_dps=cond.noise_dps, seed=int(rng.integers(1 << 30)),
                                    lever_m=cond.lever_m, hinge_out_deg=cond.hinge_deg)
    gyro_dps = gyro_dps + rng.uniform(-cond.bias_dps, cond.bias_dps, 3)
    if cond.offset_g:
        accel_g = accel_g * (1 + rng.uniform(-0.03, 0.03, 3)) + rng.uniform(-cond.offset_g, cond.offset_g, 3)
    if cond.range_g:
        accel_lsb, gyro_lsb = cond.range_g / 32768, 125 * cond.range_g / 32768
        accel_g, gyro_dps = np.round(accel_g / accel_lsb) * accel_lsb, np.round(gyro_dps / gyro_lsb) * gyro_lsb
    if cond.lost_fraction:
        keep = rng.random(len(t)) > cond.lost_fraction
        keep[:int(rate_hz)] = True      # the opening second is seen
        t, accel_g, gyro_dps = t[keep], accel_g[keep], gyro_dps[keep]
    return rate_hz, t, accel_g, gyro_dps


def judged(draw: Draw, cond: Condition) -> tuple[bool, str]:
    """Whether the counter gets the set right, and a line saying what it got."""
    rng = np.random.default_rng(draw.seed + 1)
    plan, end_s, n_reps, holds_s = planned_set(draw, cond, rng)
    rate_hz, t, accel_g, gyro_dps = sensor_samples(draw, cond, plan, end_s)
    engine = Engine(get_exercise(draw.exercise))
    step = max(1, int(rate_hz // 10))   # a tenth of a second at a time, as live
    for i in range(0, len(t), step):
        engine.update(t[i:i + step], accel_g[i:i + step], gyro_dps[i:i + step])
    engine.finish()
    state = engine.state
    errors = [abs(h.duration_s - want) for h, want in zip(state.holds, holds_s)]
    right = state.reps == n_reps and len(state.holds) == len(holds_s) and all(e < 1.0 for e in errors)
    line = (f"{draw.kind} {draw.exercise} {rate_hz:g} Hz {draw.amplitude_deg:+.1f} deg {draw.profile}: "
            f"reps {state.reps}/{n_reps}")
    if holds_s:
        line += f", holds {len(state.holds)}/{len(holds_s)}, worst error {max(errors, default=0.0):.2f} s"
    return right, line


def misses_under(cond: Condition, sets: list[Draw]) -> list[str]:
    """What the counter got, for each of ``sets`` it gets wrong under ``cond``."""
    return [line for ok, line in (judged(draw, cond) for draw in sets) if not ok]


def draws(seed: int, per: int) -> list[Draw]:
    rng = np.random.default_rng(seed)
    out = []
    for kind in KINDS:
        for exercise in EXERCISES:
            for _ in range(per):
                amp = {"heel_slide": rng.uniform(20, 60), "pelvic_tilt": rng.uniform(3, 8) * rng.choice([-1, 1]),
                       "knee_to_chest": rng.uniform(40, 110), "hip_flexor": -rng.uniform(80, 140)}[exercise]
                base = {"pelvic_tilt": rng.uniform(35, 55), "hip_flexor": rng.uniform(90, 125)}.get(exercise, 0.0)
                if exercise == "hip_flexor":
                    amp = max(amp, -25.0 - base)    # lowered to no more than 25 degrees below level
                out.append(Draw(kind, exercise, int(rng.integers(1 << 16)), float(amp), float(base),
                                str(rng.choice(PROFILES)), int(rng.integers(1 << 30))))
    return out


def main() -> int:
    names = [c.name for c in CONDITIONS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per", type=int, default=6, help="sets per kind and exercise (12 kinds x exercises)")
    parser.add_argument("--condition", action="append", choices=names, help="only these (repeatable)")
    args = parser.parse_args()
    sets = draws(args.seed, args.per)
    total_right = total = 0
    for cond in CONDITIONS:
        if args.condition and cond.name not in args.condition:
            continue
        misses = misses_under(cond, sets)
        right = len(sets) - len(misses)
        total_right, total = total_right + right, total + len(sets)
        print(f"{cond.name:<12} {right:>3}/{len(sets)}  {cond.about}")
        for line in misses:
            print(f"    miss: {line}")
    print(f"all conditions: {total_right}/{total} sets right (seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
