"""Drawing people and strap mountings from plausible ranges, reproducibly from a Generator."""
from __future__ import annotations

import numpy as np

from backrep.simulator.body import Mounting, Person, lateral_sign

# Per style: ranges the person's habits are drawn from. "typical" is the baseline; the others
# override some of its entries.
_TYPICAL = {
    "thigh_length_m": (0.38, 0.50), "flat_deg": (-1.0, 3.0),
    "heel_slide_deg": (35.0, 60.0), "hook_deg": (35.0, 55.0), "tilt_deg": (4.0, 8.0),
    "knee_to_chest_deg": (95.0, 130.0), "hip_flexor_start_deg": (95.0, 125.0),
    "hip_flexor_low_deg": (-25.0, 5.0), "range_spread": (0.04, 0.10),
    "move_s": (1.8, 3.2), "tilt_move_s": (2.5, 4.0), "rest_min_s": (1.5, 2.5), "rest_max_s": (3.0, 5.0),
    "hold_s": (18.5, 21.5), "hold_spread_s": (0.8, 1.8),
    "tremor_deg": (0.1, 0.35), "tremor_hz": (3.0, 10.0), "sway_deg": (0.2, 0.6), "sway_hz": (0.1, 0.4),
    "breathing_deg": (0.03, 0.12), "breathing_hz": (0.2, 0.3),
    "abduction_per_deg": (-0.08, 0.08), "axial_per_deg": (-0.12, 0.12), "pelvis_per_tilt_deg": (0.8, 1.5),
}
STYLES = {
    "typical": {},
    "stiff": {"heel_slide_deg": (20.0, 28.0), "knee_to_chest_deg": (75.0, 88.0), "tilt_deg": (3.0, 4.0),
              "hook_deg": (35.0, 42.0), "hip_flexor_start_deg": (90.0, 98.0),
              "hip_flexor_low_deg": (3.0, 10.0), "move_s": (2.8, 4.2), "hold_s": (16.5, 19.0),
              "tremor_deg": (0.3, 0.6), "sway_deg": (0.5, 1.0)},
    "fast": {"move_s": (1.0, 1.4), "tilt_move_s": (2.0, 2.4), "rest_min_s": (1.0, 1.3),
             "rest_max_s": (1.8, 2.5), "hold_s": (15.5, 18.5)},
    "slow": {"move_s": (3.8, 4.6), "tilt_move_s": (4.0, 4.8), "rest_min_s": (3.0, 4.0),
             "rest_max_s": (5.0, 6.0), "hold_s": (21.0, 24.0)},
    "wide": {"heel_slide_deg": (55.0, 65.0), "knee_to_chest_deg": (120.0, 130.0), "tilt_deg": (6.5, 8.0),
             "hip_flexor_start_deg": (115.0, 125.0), "hip_flexor_low_deg": (-25.0, -18.0)},
}


def random_person(rng: np.random.Generator, style: str, name: str) -> Person:
    """A person of the given style (``STYLES``); every number uniform in its range."""
    ranges = {**_TYPICAL, **STYLES[style]}
    values = {key: float(rng.uniform(lo, hi)) for key, (lo, hi) in ranges.items()}
    return Person(name=name, tilt_sign=int(rng.choice([-1, 1])), **values)


def random_mounting(rng: np.random.Generator, place: str, side: str) -> Mounting:
    """A strap on the front or the outer side of the thigh, the sensor in any orientation."""
    if place == "front":
        around_deg = float(rng.uniform(-20.0, 20.0))
    elif place == "side":
        around_deg = float(-90.0 * lateral_sign(side) + rng.uniform(-15.0, 15.0))
    else:
        raise ValueError(f"place must be 'front' or 'side', not {place!r}")
    axis = rng.normal(size=3)
    return Mounting(place=place, along_frac=float(rng.uniform(0.4, 0.7)),
                    offset_m=float(rng.uniform(0.04, 0.08)), around_deg=around_deg,
                    face="in" if rng.random() < 0.3 else "out", spin_deg=float(rng.uniform(0.0, 360.0)),
                    misalign_axis=tuple(float(x) for x in axis / np.linalg.norm(axis)),
                    misalign_deg=float(rng.uniform(0.0, 25.0)))
