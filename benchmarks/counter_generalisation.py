"""How the counter does on sessions it was never developed on: fresh simulated people.

    .venv/bin/python benchmarks/counter_generalisation.py [--seed 7] [--sessions 60] [--profile P]
                                                          [--count-as generic]

Draws new sessions from the simulator (all four exercises in turn; random style, rate, strap
place and side; each confounder with probability 0.35; knee to chest from hook-lying 40 % of the
time), none of them in `recordings/`, and prints every miss and the totals: sessions counted
exactly (and with every hold within a second), and hold timing errors. ``--profile`` makes every
simulated movement unfold another way (raised cosine, or steady with short ramps) instead of
minimum-jerk, which is all `recordings/` holds: the counter must not depend on it.
``--count-as generic`` counts every session as an exercise outside the catalogue, as
``backrep replay`` does a file that names none: then only the reps are judged, since a pause
at the far end of any movement is a hold there.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backrep.simulator import CONFOUNDERS, SessionSpec, simulated_session  # noqa: E402
from backrep.simulator.people import STYLES  # noqa: E402
from backrep.simulator.trajectory import MOVEMENT_PROFILES  # noqa: E402
from signal_processing import Engine, get_exercise  # noqa: E402

EXERCISES = ("heel_slide", "pelvic_tilt", "knee_to_chest", "hip_flexor")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--profile", choices=sorted(MOVEMENT_PROFILES), default="minimum_jerk")
    parser.add_argument("--count-as", choices=["generic"], default=None,
                        help="count every session as this exercise (reps judged, not holds)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    exact, hold_errors, by_exercise = 0, [], {ex: [0, 0] for ex in EXERCISES}
    for k in range(args.sessions):
        exercise = EXERCISES[k % 4]
        confounders = tuple(c for c in CONFOUNDERS if rng.random() < 0.35)
        spec = SessionSpec(f"fresh-{k}", exercise, seed=int(rng.integers(1_000_000)),
                           rate_hz=float(rng.choice([25, 50, 100, 200])), style=str(rng.choice(list(STYLES))),
                           place=str(rng.choice(["front", "side"])), side=str(rng.choice(["left", "right"])),
                           confounders=confounders,
                           from_hook=bool(exercise == "knee_to_chest" and rng.random() < 0.4),
                           movement_profile=args.profile)
        session = simulated_session(spec)
        labels = session.labels()
        engine = Engine(get_exercise(args.count_as or exercise))
        t, a, g = session.samples.t_s, session.samples.accel_g, session.samples.gyro_dps
        for i in range(0, len(t), 20):
            engine.update(t[i:i + 20], a[i:i + 20], g[i:i + 20])
        engine.finish()
        holds_judged = args.count_as is None
        errors = ([h.duration_s - truth for h, truth in zip(engine.state.holds, labels["holds_s"])]
                  if holds_judged else [])
        hold_errors += [abs(e) for e in errors]
        ok = engine.state.reps == labels["reps"] and (not holds_judged or (
            len(engine.state.holds) == len(labels["holds_s"]) and all(abs(e) < 1.0 for e in errors)))
        exact += ok
        by_exercise[exercise][0] += ok
        by_exercise[exercise][1] += 1
        if not ok:
            print(f"miss: {exercise} {spec.style} {spec.rate_hz:g} Hz {spec.place} {','.join(confounders) or '-'}"
                  f"{' from hook-lying' if spec.from_hook else ''} (seed {spec.seed}): reps {engine.state.reps} "
                  f"for {labels['reps']}, holds {[round(e, 2) for e in errors]}")
    judged = "reps only" if args.count_as else "reps, and every hold within 1 s"
    print(f"\n{exact}/{args.sessions} sessions exact ({judged}); "
          + ", ".join(f"{ex} {n}/{m}" for ex, (n, m) in by_exercise.items()))
    if hold_errors:
        print(f"{len(hold_errors)} holds: median error {np.median(hold_errors):.2f} s, "
              f"90th percentile {np.percentile(hold_errors, 90):.2f} s, worst {max(hold_errors):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
