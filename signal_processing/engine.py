"""The streaming engine: samples in, events out. (API fixed; algorithm being written.)"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signal_processing.events import EngineState, Event, Hold
from signal_processing.exercises import Exercise


@dataclass(frozen=True)
class EngineSettings:
    """Tunables with units in their names; the defaults are the product's."""

    reference_still_s: float = 1.0


class Engine:
    """Counts reps and times holds for one exercise on one thigh, one chunk at a time.

    ``update(t_s, accel_g, gyro_dps)`` takes arrays of shape (N,), (N, 3), (N, 3) in the
    sensor's axes and returns the events those samples completed. Live and replay call exactly
    this; chunk size does not change the result.
    """

    def __init__(self, exercise: Exercise, settings: EngineSettings | None = None) -> None:
        self.exercise = exercise
        self.settings = settings or EngineSettings()
        self.reset()

    def reset(self) -> None:
        self._reps = 0
        self._holds: list[Hold] = []
        self._samples = 0
        self._last_t_s: float | None = None

    def update(self, t_s: np.ndarray, accel_g: np.ndarray, gyro_dps: np.ndarray) -> list[Event]:
        t_s = np.asarray(t_s, dtype=float)
        self._samples += len(t_s)
        if len(t_s):
            self._last_t_s = float(t_s[-1])
        return []

    def finish(self) -> list[Event]:
        return []

    @property
    def state(self) -> EngineState:
        return EngineState(
            exercise=self.exercise.id,
            phase="reference",
            reference_progress=0.0,
            reps=self._reps,
            holds=tuple(self._holds),
            hold_active=False,
            hold_elapsed_s=0.0,
            hold_target_s=self.exercise.hold_target_s,
            angle_deg=None,
            t_s=self._last_t_s,
            rate_hz=None,
            samples=self._samples,
            lost_samples=0,
        )
