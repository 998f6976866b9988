"""Smooth scalar trajectories: minimum-jerk moves, and tremor and sway during holds.

Every signal here is at least twice continuously differentiable, so the accelerations the
kinematics derive from it are finite and physical (no steps, no kinks).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def minimum_jerk_fraction(tau: np.ndarray) -> np.ndarray:
    """Fraction of a minimum-jerk move done at normalised time ``tau`` (clipped to 0..1).

    10τ³ − 15τ⁴ + 6τ⁵: zero velocity and acceleration at both ends, the shape of a
    deliberate human reach (Flash & Hogan 1985).
    """
    tau = np.clip(tau, 0.0, 1.0)
    return tau * tau * tau * (10.0 + tau * (-15.0 + 6.0 * tau))


def raised_cosine_fraction(tau: np.ndarray) -> np.ndarray:
    """Fraction of a move done at ``tau`` when its speed is half a cosine: it eases off more
    abruptly than a minimum-jerk move (finite jerk at the ends)."""
    tau = np.clip(tau, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * tau)


def ramped_fraction(tau: np.ndarray, ramp: float = 0.15) -> np.ndarray:
    """Fraction of a move done at ``tau`` at a steady speed between ramps of ``ramp`` (a fraction
    of the move) at either end: the stiffest way a person moves, stopping almost at once."""
    tau = np.clip(tau, 0.0, 1.0)
    a = 1.0 / ((1.0 - ramp) * ramp)
    return np.where(tau < ramp, 0.5 * a * tau ** 2,
                    np.where(tau > 1.0 - ramp, 1.0 - 0.5 * a * (1.0 - tau) ** 2,
                             0.5 * a * ramp ** 2 + (tau - ramp) / (1.0 - ramp)))


#: How a person's movements unfold in time, by name: the fraction of a move done at
#: normalised time tau. People are minimum-jerk movers by default; the others check that
#: nothing downstream depends on that.
MOVEMENT_PROFILES = {
    "minimum_jerk": minimum_jerk_fraction,
    "raised_cosine": raised_cosine_fraction,
    "trapezoid": ramped_fraction,
}


@dataclass(frozen=True)
class Move:
    """One change of a channel by ``delta`` between ``start_s`` and ``end_s``, shaped by one of
    ``MOVEMENT_PROFILES``."""

    start_s: float
    end_s: float
    delta: float
    profile: str = "minimum_jerk"


@dataclass
class Channel:
    """A scalar that starts at ``initial`` and changes only through its moves."""

    initial: float = 0.0
    moves: list[Move] = field(default_factory=list)

    def value_at(self, t_s: float) -> float:
        """The channel's value at one time (for planning)."""
        return float(self.values(np.array([t_s]))[0])

    def values(self, t_s: np.ndarray) -> np.ndarray:
        """The channel's value at each time."""
        out = np.full(t_s.shape, self.initial, dtype=float)
        for m in self.moves:
            out += m.delta * MOVEMENT_PROFILES[m.profile]((t_s - m.start_s) / (m.end_s - m.start_s))
        return out


@dataclass(frozen=True)
class Wobble:
    """Involuntary motion during one hold: physiological tremor plus slow postural sway.

    Amplitudes are peak degrees of thigh inclination; both fade in and out over ``ramp_s`` so
    the hold starts and ends smoothly.
    """

    start_s: float
    end_s: float
    tremor_deg: float
    tremor_hz: float
    sway_deg: float
    sway_hz: float
    phases_rad: tuple[float, ...]
    ramp_s: float = 0.6


def smooth_window(t_s: np.ndarray, start_s: float, end_s: float, ramp_s: float) -> np.ndarray:
    """1 inside [start, end], 0 outside, with minimum-jerk ramps of ``ramp_s`` inside the edges."""
    ramp_s = max(1e-3, min(ramp_s, 0.5 * (end_s - start_s)))
    up = minimum_jerk_fraction((t_s - start_s) / ramp_s)
    down = minimum_jerk_fraction((end_s - t_s) / ramp_s)
    return up * down


def wobble_deg(t_s: np.ndarray, wobbles: list[Wobble]) -> np.ndarray:
    """Summed tremor and sway of all holds, degrees, at each time."""
    out = np.zeros_like(t_s)
    for w in wobbles:
        inside = (t_s >= w.start_s) & (t_s <= w.end_s)
        if not inside.any():
            continue
        t = t_s[inside]
        env = smooth_window(t, w.start_s, w.end_s, w.ramp_s)
        p = w.phases_rad
        # Three close partials make the tremor's amplitude beat irregularly, as real tremor does.
        tremor = (np.sin(2 * np.pi * w.tremor_hz * t + p[0])
                  + 0.6 * np.sin(2 * np.pi * w.tremor_hz * 1.07 * t + p[1])
                  + 0.4 * np.sin(2 * np.pi * w.tremor_hz * 0.91 * t + p[2])) / 2.0
        sway = (np.sin(2 * np.pi * w.sway_hz * t + p[3])
                + 0.5 * np.sin(2 * np.pi * w.sway_hz * 2.3 * t + p[4])) / 1.5
        out[inside] += env * (w.tremor_deg * tremor + w.sway_deg * sway)
    return out


def breathing_deg(t_s: np.ndarray, amplitude_deg: float, rate_hz: float, phase_rad: float) -> np.ndarray:
    """Tiny ever-present rocking of the lying body by breathing, degrees."""
    return amplitude_deg * np.sin(2 * np.pi * rate_hz * t_s + phase_rad)
