"""A session as a timeline of body movements, and the ground truth that falls out of it.

The ``Choreographer`` is written like a script of the session (``still``, ``move``, ``hold``,
...): each call appends to the plan at the current time and advances it, and the exercise
planners record labels from the times those calls return. So the labels are the plan itself,
not something measured from the signal afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from backrep.simulator.trajectory import Channel, Move, Wobble


@dataclass(frozen=True)
class Knock:
    """A short jolt of the sensor that returns it to where it was.

    A knock on the sensor shakes it along any axis of its own (``frame="sensor"``); a knock on
    the bed bounces the body along the world's vertical (``frame="world"``, ``accel_axis`` in
    world axes). The rate's axis is always in sensor axes.
    """

    t_s: float
    duration_s: float
    accel_g: float
    gyro_dps: float
    accel_axis: tuple[float, float, float]   # unit, in ``frame`` axes
    gyro_axis: tuple[float, float, float]    # unit, sensor axes
    frame: str = "sensor"


@dataclass
class Plan:
    """Everything that moves, as channels of minimum-jerk moves, plus holds and knocks."""

    duration_s: float = 0.0
    flexion_deg: Channel = field(default_factory=Channel)    # thigh inclination, deg
    abduction_deg: Channel = field(default_factory=Channel)  # knee out, deg
    axial_deg: Channel = field(default_factory=Channel)      # thigh roll about its axis, deg
    pelvis_deg: Channel = field(default_factory=Channel)     # pelvic rotation (tilts), deg
    strap_deg: Channel = field(default_factory=Channel)      # strap slip round the thigh, deg
    hip_x_m: Channel = field(default_factory=Channel)        # hip shifted on the bed, m
    hip_y_m: Channel = field(default_factory=Channel)
    hip_z_m: Channel = field(default_factory=Channel)
    wobbles: list[Wobble] = field(default_factory=list)
    knocks: list[Knock] = field(default_factory=list)


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class Choreographer:
    """Builds a ``Plan`` step by step; time only moves forward."""

    def __init__(self, start_deg: float, profile: str = "minimum_jerk") -> None:
        self.plan = Plan()
        self.profile = profile      # how this person's movements unfold (MOVEMENT_PROFILES)
        self.plan.flexion_deg.initial = start_deg
        self.t_s = 0.0
        self._flexion_deg = start_deg

    @property
    def flexion_deg(self) -> float:
        """The planned inclination at the current time (without tremor or sway)."""
        return self._flexion_deg

    def still(self, duration_s: float) -> Span:
        """Lie still (apart from breathing)."""
        span = Span(self.t_s, self.t_s + duration_s)
        self.t_s = span.end_s
        self._stretch()
        return span

    def move(self, to_deg: float, duration_s: float, pelvis_per_deg: float = 0.0) -> Span:
        """One movement of the thigh to ``to_deg``; optionally the pelvis rocks with it."""
        delta = to_deg - self._flexion_deg
        span = Span(self.t_s, self.t_s + duration_s)
        self.plan.flexion_deg.moves.append(Move(span.start_s, span.end_s, delta, self.profile))
        if pelvis_per_deg:
            self.plan.pelvis_deg.moves.append(
                Move(span.start_s, span.end_s, pelvis_per_deg * delta, self.profile))
        self._flexion_deg = to_deg
        self.t_s = span.end_s
        self._stretch()
        return span

    def hold(self, duration_s: float, wobble: Wobble) -> Span:
        """Hold still at the current pose, with the person's tremor and sway (``wobble`` is re-timed)."""
        span = Span(self.t_s, self.t_s + duration_s)
        self.plan.wobbles.append(Wobble(span.start_s, span.end_s, wobble.tremor_deg, wobble.tremor_hz,
                                        wobble.sway_deg, wobble.sway_hz, wobble.phases_rad))
        self.t_s = span.end_s
        self._stretch()
        return span

    def slip_strap(self, by_deg: float, duration_s: float) -> Span:
        """The strap turns round the thigh, carrying the sensor with it."""
        span = Span(self.t_s, self.t_s + duration_s)
        self.plan.strap_deg.moves.append(Move(span.start_s, span.end_s, by_deg, self.profile))
        self.t_s = span.end_s
        self._stretch()
        return span

    def shift(self, hip_m: tuple[float, float, float], flexion_bump_deg: float, abduction_deg: float,
              axial_deg: float, duration_s: float) -> Span:
        """Shift on the bed: the hip slides, the leg rolls and splays a little and settles there,
        the thigh lifting by ``flexion_bump_deg`` on the way and coming back down."""
        span = Span(self.t_s, self.t_s + duration_s)
        p = self.plan
        for channel, delta in ((p.hip_x_m, hip_m[0]), (p.hip_y_m, hip_m[1]), (p.hip_z_m, hip_m[2]),
                               (p.abduction_deg, abduction_deg), (p.axial_deg, axial_deg)):
            channel.moves.append(Move(span.start_s, span.end_s, delta, self.profile))
        mid_s = span.start_s + 0.5 * duration_s
        p.flexion_deg.moves.append(Move(span.start_s, mid_s, flexion_bump_deg, self.profile))
        p.flexion_deg.moves.append(Move(mid_s, span.end_s, -flexion_bump_deg, self.profile))
        self.t_s = span.end_s
        self._stretch()
        return span

    def knock(self, knock: Knock) -> None:
        """A knock at any time (it may fall inside a move or a hold); does not advance time."""
        self.plan.knocks.append(knock)

    def _stretch(self) -> None:
        self.plan.duration_s = max(self.plan.duration_s, self.t_s)


def random_wobble(rng: np.random.Generator, tremor_deg: float, tremor_hz: float, sway_deg: float,
                  sway_hz: float) -> Wobble:
    """A person's hold wobble with fresh phases (the times are set by ``Choreographer.hold``)."""
    return Wobble(0.0, 0.0, tremor_deg, tremor_hz, sway_deg, sway_hz,
                  tuple(float(x) for x in rng.uniform(0, 2 * np.pi, 5)))
