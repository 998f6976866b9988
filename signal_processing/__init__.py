"""Signal processing: thigh-IMU samples to inclination to reps and holds.

Named ``signal_processing`` rather than ``signal`` because a top-level ``signal`` package would
shadow the standard library's ``signal`` module for everything run from the project root.
Imports nothing from ``firmware_bridge``, ``web`` or ``backrep``.
"""
from signal_processing.engine import Engine, EngineSettings
from signal_processing.events import Event, EngineState, Hold
from signal_processing.exercises import CATALOGUE, EXERCISE_IDS, Exercise, get_exercise, load_catalogue

__all__ = [
    "CATALOGUE",
    "EXERCISE_IDS",
    "Engine",
    "EngineSettings",
    "EngineState",
    "Event",
    "Exercise",
    "Hold",
    "get_exercise",
    "load_catalogue",
]
