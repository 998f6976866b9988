"""What the engine reports: events as they happen and the state between them.

Times are in the samples' own clock (``t_s``), so replay reports times in the recording's time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["reference", "ready"]


@dataclass(frozen=True)
class Hold:
    """A finished hold: from the thigh settling at the far end to it starting back."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def as_dict(self) -> dict:
        # The duration as the difference of the times shown, so that a reader's subtraction agrees.
        start_s, end_s = round(self.start_s, 3), round(self.end_s, 3)
        return {"start_s": start_s, "end_s": end_s, "duration_s": round(end_s - start_s, 3)}


@dataclass(frozen=True)
class Event:
    """One thing that happened at ``t_s``.

    kind:
      ``reference_done``: the reference pose was taken; counting starts.
      ``rep_started``: the thigh left its resting pose on what may become a rep.
      ``rep_counted``: a rep came back; ``rep`` is the running count.
      ``hold_started``: the thigh settled at the far end.
      ``hold_ended``: it started back; ``hold`` has the span.
      ``rep_retracted``: a rep counted before the person's usual range was known turned out,
      once it was, to have been a movement abandoned well short of it; ``retracted`` is its
      number (in the count as it stood), ``rep`` the corrected count. Later reps move down one.
      ``hold_cancelled``: the pause was not the far end after all (the thigh went further, or
      settled there as a new resting pose); no hold is recorded.
    """

    kind: Literal["reference_done", "rep_started", "rep_counted", "rep_retracted", "hold_started",
                  "hold_ended", "hold_cancelled"]
    t_s: float
    rep: int = 0
    hold: Hold | None = None
    retracted: int = 0

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "t_s": round(self.t_s, 3)}
        if self.kind in ("rep_counted", "rep_retracted"):
            out["rep"] = self.rep
        if self.kind == "rep_retracted":
            out["retracted"] = self.retracted
        if self.hold is not None:
            out["hold"] = self.hold.as_dict()
        return out


@dataclass(frozen=True)
class EngineState:
    """A snapshot for the dashboard and the API: everything is a plain value."""

    exercise: str
    phase: Phase
    #: 0..1 while the reference pose is being taken.
    reference_progress: float
    reps: int
    holds: tuple[Hold, ...]
    hold_active: bool
    hold_elapsed_s: float
    hold_target_s: float
    #: Thigh inclination, degrees, 0 = flat; None before the reference pose is taken.
    angle_deg: float | None
    t_s: float | None
    rate_hz: float | None
    samples: int
    lost_samples: int

    def as_dict(self) -> dict:
        return {
            "exercise": self.exercise,
            "phase": self.phase,
            "reference_progress": round(self.reference_progress, 3),
            "reps": self.reps,
            "holds": [hold.as_dict() for hold in self.holds],
            "hold": {
                "active": self.hold_active,
                "elapsed_s": round(self.hold_elapsed_s, 2),
                "target_s": self.hold_target_s,
            },
            "angle_deg": None if self.angle_deg is None else round(self.angle_deg, 2),
            "t_s": None if self.t_s is None else round(self.t_s, 3),
            "rate_hz": None if self.rate_hz is None else round(self.rate_hz, 2),
            "samples": self.samples,
            "lost_samples": self.lost_samples,
        }
