"""Whole sessions: a person doing one exercise's set, with confounders, and its ground truth.

Each exercise's planner scripts the session with a ``Choreographer`` and records labels from the
times its calls return: a rep runs from the start of the move out to the end of the move back; a
hold from the end of the move to the far end (the thigh has settled) to the start of the move
back. Only the instrumented leg's real reps are labelled; confounders are listed as events.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from backrep.simulator.body import Mounting, Person, SensorMotion, sensor_motion
from backrep.simulator.choreography import Choreographer, Knock, Plan, Span, random_wobble
from backrep.simulator.imu import ImuErrors, ImuSettings, Samples, random_errors, sampled
from backrep.simulator.people import random_mounting, random_person
from backrep.simulator.trajectory import MOVEMENT_PROFILES

EXERCISES = ("heel_slide", "pelvic_tilt", "knee_to_chest", "hip_flexor")
CONFOUNDERS = ("knock", "slip", "other_leg", "shift", "abandoned", "exit", "lost")
DEFAULT_REPS = {"heel_slide": 10, "pelvic_tilt": 8, "knee_to_chest": 5, "hip_flexor": 4}


@dataclass(frozen=True)
class SessionSpec:
    """What to simulate; everything random is drawn from ``seed``."""

    name: str
    exercise: str
    seed: int
    rate_hz: float = 100.0
    style: str = "typical"            # see people.STYLES
    place: str = "front"              # strap on the "front" or the "side" of the thigh
    side: str = "right"
    reps: int | None = None           # None: the exercise's usual dose
    confounders: tuple[str, ...] = ()
    from_hook: bool = False           # knee_to_chest: reps start from hook-lying instead of flat
    accel_range_g: float = 2.0
    gyro_range_dps: float = 250.0
    t0_s: float = 0.0                 # origin of the recording's clock
    movement_profile: str = "minimum_jerk"   # how the person's moves unfold (MOVEMENT_PROFILES)

    def __post_init__(self) -> None:
        if self.exercise not in EXERCISES:
            raise ValueError(f"unknown exercise {self.exercise!r}")
        if self.movement_profile not in MOVEMENT_PROFILES:
            raise ValueError(f"unknown movement profile {self.movement_profile!r}")
        unknown = set(self.confounders) - set(CONFOUNDERS)
        if unknown:
            raise ValueError(f"unknown confounders {sorted(unknown)}")


@dataclass
class Truth:
    """The plan's ground truth, in simulation time (0 = start of the plan)."""

    rep_spans: list[Span] = field(default_factory=list)
    hold_spans: list[Span] = field(default_factory=list)
    reference: Span | None = None
    events: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class SimulatedSession:
    spec: SessionSpec
    person: Person
    mounting: Mounting
    imu: ImuSettings
    imu_errors: ImuErrors
    plan: Plan
    truth: Truth
    motion: SensorMotion
    samples: Samples                  # t_s already in the recording's clock (t0_s added)
    lost_spans_s: list[tuple[float, float]]

    def metadata(self) -> dict[str, str]:
        """Header keys for the recording file."""
        s = self.spec
        return {"rate_hz": f"{s.rate_hz:g}", "sensor": "mpu6050", "accel_range_g": f"{s.accel_range_g:g}",
                "gyro_range_dps": f"{s.gyro_range_dps:g}", "dlpf_hz": f"{self.imu.dlpf_hz:g}",
                "side": s.side, "source": "simulated", "simulator": "backrep.simulator",
                "seed": str(s.seed), "exercise": s.exercise}

    def labels(self) -> dict:
        """The labels sidecar (shared/interfaces.md) plus what the simulation knew."""
        s, t0 = self.spec, self.spec.t0_s

        def span(sp: Span) -> list[float]:
            return [round(sp.start_s + t0, 3), round(sp.end_s + t0, 3)]

        events = [{k: (round(v + t0, 3) if k.endswith("_s") and k not in ("duration_s",) else v)
                   for k, v in e.items()} for e in self.truth.events]
        return {
            "exercise": s.exercise,
            "reps": len(self.truth.rep_spans),
            "holds_s": [round(h.duration_s, 3) for h in self.truth.hold_spans],
            "rep_spans": [span(r) for r in self.truth.rep_spans],
            "hold_spans": [span(h) for h in self.truth.hold_spans],
            "side": s.side,
            "source": "simulated",
            "name": s.name,
            "seed": s.seed,
            "rate_hz": s.rate_hz,
            "style": s.style,
            "confounders": list(s.confounders),
            "events": events,
            "reference_span": span(self.truth.reference),
            "lost_spans": [[round(a + t0, 3), round(b + t0, 3)] for a, b in self.lost_spans_s],
            "person": self.person.as_dict(),
            "mounting": self.mounting.as_dict(),
            "imu": {**asdict(self.imu), "dlpf_hz": self.imu.dlpf_hz, **self.imu_errors.as_dict()},
            **({} if s.movement_profile == "minimum_jerk" else {"movement_profile": s.movement_profile}),
        }


class _Script:
    """The person's draws for one session: rep ranges, durations, rests, holds."""

    def __init__(self, person: Person, rng: np.random.Generator) -> None:
        self.p, self.rng = person, rng

    def varied(self, value: float, lo: float, hi: float) -> float:
        return float(np.clip(value * (1.0 + self.p.range_spread * self.rng.normal()), lo, hi))

    def move_s(self, base_s: float | None = None) -> float:
        return float(np.clip((base_s or self.p.move_s) * self.rng.uniform(0.8, 1.2), 1.0, 5.0))

    def rest_s(self) -> float:
        return float(np.clip(self.rng.uniform(self.p.rest_min_s, self.p.rest_max_s), 1.0, 6.0))

    def hold_s(self) -> float:
        return float(np.clip(self.rng.normal(self.p.hold_s, self.p.hold_spread_s), 15.0, 25.0))

    def wobble(self, scale: float = 1.0):
        p = self.p
        return random_wobble(self.rng, scale * p.tremor_deg, p.tremor_hz, scale * p.sway_deg, p.sway_hz)


def _rest(c: Choreographer, s: _Script, duration_s: float, lifted: bool) -> None:
    """Wait between reps. A leg resting on the bed only breathes; a lifted one (hook-lying, knees
    hugged) also trembles and sways, at half the amplitude of a hold."""
    if lifted:
        c.hold(duration_s, s.wobble(0.5))
    else:
        c.still(duration_s)


def _rest_pose_deg(spec: SessionSpec, person: Person) -> float:
    """Where the thigh waits between reps."""
    if spec.exercise == "pelvic_tilt" or (spec.exercise == "knee_to_chest" and spec.from_hook):
        return person.hook_deg
    if spec.exercise == "hip_flexor":
        return person.hip_flexor_start_deg
    return person.flat_deg


def _far_deg(spec: SessionSpec, person: Person, s: _Script) -> float:
    """Where one rep goes."""
    p = person
    if spec.exercise == "heel_slide":
        return p.flat_deg + s.varied(p.heel_slide_deg, 20.0, 65.0)
    if spec.exercise == "pelvic_tilt":
        return p.hook_deg + p.tilt_sign * s.varied(p.tilt_deg, 3.0, 8.0)
    if spec.exercise == "knee_to_chest":
        return s.varied(p.knee_to_chest_deg, 75.0, 130.0)
    return float(np.clip(p.hip_flexor_low_deg + 4.0 * s.rng.normal(), -25.0, 10.0))


def _do_rep(c: Choreographer, spec: SessionSpec, person: Person, s: _Script, rest_deg: float,
            truth: Truth) -> None:
    far_deg = _far_deg(spec, person, s)
    if spec.exercise == "heel_slide":
        out = c.move(far_deg, s.move_s())
        back = c.move(rest_deg, s.move_s())
    elif spec.exercise == "pelvic_tilt":
        k = person.pelvis_per_tilt_deg
        out = c.move(far_deg, s.move_s(person.tilt_move_s), pelvis_per_deg=k)
        c.still(float(s.rng.uniform(0.0, 1.0)))
        back = c.move(rest_deg, s.move_s(person.tilt_move_s), pelvis_per_deg=k)
    else:
        out = c.move(far_deg, s.move_s())
        hold = c.hold(s.hold_s(), s.wobble())
        back = c.move(rest_deg, s.move_s())
        truth.hold_spans.append(hold)
    truth.rep_spans.append(Span(out.start_s, back.end_s))


def _usual_far_deg(spec: SessionSpec, person: Person) -> float:
    p = person
    return {"heel_slide": p.flat_deg + p.heel_slide_deg, "pelvic_tilt": p.hook_deg + p.tilt_sign * p.tilt_deg,
            "knee_to_chest": p.knee_to_chest_deg, "hip_flexor": p.hip_flexor_low_deg}[spec.exercise]


def _confound(kind: str, c: Choreographer, spec: SessionSpec, person: Person, s: _Script,
              rest_deg: float, truth: Truth, lifted: bool) -> None:
    """One confounder in a rest between reps; the thigh ends where it started."""
    rng = s.rng
    if kind == "abandoned":
        fraction = float(rng.uniform(0.15, 0.35))
        to_deg = rest_deg + fraction * (_usual_far_deg(spec, person) - rest_deg)
        base = person.tilt_move_s if spec.exercise == "pelvic_tilt" else person.move_s
        out = c.move(to_deg, s.move_s(0.6 * base))
        back = c.move(rest_deg, s.move_s(0.6 * base))
        truth.events.append({"kind": "abandoned", "start_s": out.start_s, "end_s": back.end_s,
                             "fraction_of_range": round(fraction, 3)})
    elif kind == "slip":
        by_deg = float(rng.choice([-1, 1]) * rng.uniform(15.0, 90.0))
        span = c.slip_strap(by_deg, float(rng.uniform(0.5, 2.0)))
        truth.events.append({"kind": "slip", "start_s": span.start_s, "end_s": span.end_s,
                             "by_deg": round(by_deg, 2)})
    elif kind == "shift":
        hip_m = (float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.05, 0.05)), float(rng.uniform(0.0, 0.01)))
        bump_deg = float(rng.uniform(2.0, 6.0))
        span = c.shift(hip_m, bump_deg, float(rng.uniform(-4, 4)), float(rng.uniform(-8, 8)),
                       float(rng.uniform(1.0, 3.0)))
        truth.events.append({"kind": "shift", "start_s": span.start_s, "end_s": span.end_s,
                             "hip_m": [round(x, 4) for x in hip_m], "lift_deg": round(bump_deg, 2)})
    _rest(c, s, s.rest_s(), lifted)


def _other_leg(c: Choreographer, spec: SessionSpec, person: Person, s: _Script, rest_deg: float,
               truth: Truth, lifted: bool) -> None:
    """The other leg's set: this thigh only rocks a few degrees with each of its reps."""
    rng = s.rng
    held = spec.exercise in ("knee_to_chest", "hip_flexor")
    sign = float(rng.choice([-1, 1]))
    for _ in range(3 if held else 5):
        rock_deg = sign * float(rng.uniform(1.0, 4.0))
        out = c.move(rest_deg + rock_deg, s.move_s())
        if held:
            c.hold(s.hold_s(), s.wobble())
        back = c.move(rest_deg, s.move_s())
        truth.events.append({"kind": "other_leg", "start_s": out.start_s, "end_s": back.end_s,
                             "rock_deg": round(rock_deg, 2)})
        _rest(c, s, s.rest_s(), lifted)


def _knocks(plan: Plan, rng: np.random.Generator, after_s: float, truth: Truth) -> None:
    for t_s in np.sort(rng.uniform(after_s, plan.duration_s - 0.2, int(rng.integers(2, 6)))):
        a, w = rng.normal(size=3), rng.normal(size=3)
        on_bed = bool(rng.random() < 0.5)
        knock = Knock(t_s=float(t_s), duration_s=float(rng.uniform(0.01, 0.05)),
                      accel_g=float(rng.uniform(1.0, 4.0)), gyro_dps=float(rng.uniform(50.0, 300.0)),
                      accel_axis=(0.0, 0.0, 1.0) if on_bed else tuple(float(x) for x in a / np.linalg.norm(a)),
                      gyro_axis=tuple(float(x) for x in w / np.linalg.norm(w)),
                      frame="world" if on_bed else "sensor")
        plan.knocks.append(knock)
        truth.events.append({"kind": "knock", "on": "bed" if on_bed else "sensor", "start_s": knock.t_s,
                             "duration_s": round(knock.duration_s, 4), "accel_g": round(knock.accel_g, 2),
                             "gyro_dps": round(knock.gyro_dps, 1)})


def _lost_spans(plan: Plan, rng: np.random.Generator, after_s: float) -> list[tuple[float, float]]:
    """2–4 separate gaps of 0.1–2 s, one in each of as many equal stretches of the session."""
    n = int(rng.integers(2, 5))
    edges = np.linspace(after_s, plan.duration_s - 0.5, n + 1)
    spans = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        length_s = float(rng.uniform(0.1, min(2.0, 0.5 * (hi - lo))))
        start_s = float(rng.uniform(lo, hi - length_s))
        spans.append((start_s, start_s + length_s))
    return spans


def planned_session(spec: SessionSpec, person: Person, rng: np.random.Generator) -> tuple[Plan, Truth]:
    """The session's movement plan and its ground truth."""
    s = _Script(person, rng)
    truth = Truth()
    c = Choreographer(person.flat_deg, spec.movement_profile)
    truth.reference = c.still(float(rng.uniform(2.0, 5.0)))
    rest_deg = _rest_pose_deg(spec, person)
    lifted = rest_deg != person.flat_deg
    if lifted:
        span = c.move(rest_deg, s.move_s(max(person.move_s, 2.5)))
        truth.events.append({"kind": "start_pose", "start_s": span.start_s, "end_s": span.end_s})
        _rest(c, s, float(rng.uniform(2.0, 4.0)), lifted)
    n_reps = spec.reps if spec.reps is not None else DEFAULT_REPS[spec.exercise]

    # Confounders that happen in a rest between reps, each in its own rest while there are enough;
    # "abandoned" twice when the set is long enough.
    in_rests = [k for k in spec.confounders if k in ("abandoned", "slip", "shift")]
    if "abandoned" in spec.confounders and n_reps >= 4:
        in_rests.append("abandoned")
    slots = rng.permutation(np.arange(max(n_reps - 1, 1)))
    slot_of = {}
    for i, kind in enumerate(in_rests):
        slot_of.setdefault(int(slots[i % len(slots)]), []).append(kind)

    for i in range(n_reps):
        _do_rep(c, spec, person, s, rest_deg, truth)
        _rest(c, s, s.rest_s(), lifted)
        if i < n_reps - 1 or n_reps == 1:   # between reps; after the only one
            for kind in slot_of.get(i, []):
                _confound(kind, c, spec, person, s, rest_deg, truth, lifted)
    if "other_leg" in spec.confounders:
        _other_leg(c, spec, person, s, rest_deg, truth, lifted)
    if "exit" in spec.confounders:
        to_deg = person.flat_deg if rest_deg != person.flat_deg else person.hook_deg
        span = c.move(to_deg, s.move_s(max(person.move_s, 2.0)))
        truth.events.append({"kind": "exit", "start_s": span.start_s, "end_s": span.end_s,
                             "to_deg": round(to_deg, 2)})
    _rest(c, s, float(rng.uniform(1.5, 3.0)), lifted=c.flexion_deg != person.flat_deg)
    if "knock" in spec.confounders:
        _knocks(c.plan, rng, truth.reference.end_s, truth)
    return c.plan, truth


def grid_hz_for(rate_hz: float) -> float:
    """The internal grid, in whole kHz: at least 4 points per output sample and 16 per period of
    the chip's low-pass, so knocks and the filter are resolved at any rate."""
    dlpf_hz = ImuSettings(rate_hz).dlpf_hz
    return 1000.0 * np.ceil(max(1000.0, 4.0 * rate_hz, 16.0 * dlpf_hz) / 1000.0)


def simulated_session(spec: SessionSpec) -> SimulatedSession:
    """Simulate one session: person, strap, plan, physics, chip. Same spec, same output."""
    person = random_person(np.random.default_rng([spec.seed, 1]), spec.style, f"{spec.style}-{spec.seed}")
    mounting = random_mounting(np.random.default_rng([spec.seed, 2]), spec.place, spec.side)
    plan, truth = planned_session(spec, person, np.random.default_rng([spec.seed, 3]))
    imu_rng = np.random.default_rng([spec.seed, 4])
    settings = ImuSettings(rate_hz=spec.rate_hz, accel_range_g=spec.accel_range_g,
                           gyro_range_dps=spec.gyro_range_dps)
    errors = random_errors(imu_rng)
    lost = _lost_spans(plan, imu_rng, truth.reference.end_s + 1.0) if "lost" in spec.confounders else []
    motion = sensor_motion(plan, person, mounting, spec.side, grid_hz_for(spec.rate_hz))
    samples = sampled(motion, settings, errors, imu_rng, lost)
    samples = Samples(samples.t_s + spec.t0_s, samples.accel_g, samples.gyro_dps)
    return SimulatedSession(spec, person, mounting, settings, errors, plan, truth, motion, samples, lost)
