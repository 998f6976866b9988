"""The committed test library and the dashboard demos: fixed specs, fixed seeds, one writer.

``scripts/make_recordings.py`` writes these; the tests regenerate one and compare bytes, so the
committed files are exactly what this code makes.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from backrep.recording import RecordingWriter, labels_path_for
from backrep.simulator.sessions import SessionSpec, SimulatedSession, simulated_session

UNIX_T0_S = 1_764_000_000.0   # a recording stamped with Unix time (November 2025)

ALL_CONFOUNDERS = ("knock", "slip", "abandoned", "shift", "lost", "other_leg", "exit")


def _spec(name: str, seed: int, rate_hz: float, style: str, place: str, side: str,
          confounders: tuple[str, ...] = (), **kw) -> SessionSpec:
    exercise = name.split("-")[0]
    return SessionSpec(name=name, exercise=exercise, seed=seed, rate_hz=rate_hz, style=style, place=place,
                       side=side, confounders=confounders, **kw)


LIBRARY: tuple[SessionSpec, ...] = (
    _spec("heel_slide-01-typical", 101, 100, "typical", "front", "right"),
    _spec("heel_slide-02-stiff", 102, 100, "stiff", "side", "left"),
    _spec("heel_slide-03-fast-knock", 103, 200, "fast", "front", "right", ("knock",)),
    _spec("heel_slide-04-slow-abandoned", 104, 50, "slow", "side", "right", ("abandoned",)),
    _spec("heel_slide-05-typical-lost", 105, 25, "typical", "front", "left", ("lost",)),
    _spec("heel_slide-06-wide-1khz", 106, 1000, "wide", "side", "right", reps=4),
    _spec("heel_slide-07-stiff-hard", 107, 100, "stiff", "front", "right",
          ("knock", "slip", "abandoned", "shift", "lost", "other_leg")),
    _spec("heel_slide-08-typical-otherleg-shift-exit", 108, 100, "typical", "side", "left",
          ("other_leg", "shift", "exit")),

    _spec("pelvic_tilt-01-typical", 201, 100, "typical", "front", "right"),
    _spec("pelvic_tilt-02-stiff", 202, 100, "stiff", "side", "right"),
    _spec("pelvic_tilt-03-slow-exit", 203, 50, "slow", "front", "left", ("exit",)),
    _spec("pelvic_tilt-04-fast-knock", 204, 200, "fast", "side", "right", ("knock",)),
    _spec("pelvic_tilt-05-typical-slip-lost", 205, 100, "typical", "front", "right", ("slip", "lost")),
    _spec("pelvic_tilt-06-wide-1khz", 206, 1000, "wide", "front", "left", reps=3),
    _spec("pelvic_tilt-07-stiff-hard", 207, 25, "stiff", "side", "left",
          ("knock", "slip", "abandoned", "shift", "lost", "exit")),
    _spec("pelvic_tilt-08-typical-abandoned-shift", 208, 100, "typical", "side", "right",
          ("abandoned", "shift"), t0_s=UNIX_T0_S),

    _spec("knee_to_chest-01-typical", 301, 100, "typical", "front", "right"),
    _spec("knee_to_chest-02-stiff", 302, 100, "stiff", "side", "left"),
    _spec("knee_to_chest-03-slow-slip", 303, 50, "slow", "front", "right", ("slip",)),
    _spec("knee_to_chest-04-fast-hook-knock-exit", 304, 200, "fast", "side", "right", ("knock", "exit"),
          from_hook=True),
    _spec("knee_to_chest-05-wide-otherleg", 305, 100, "wide", "front", "left", ("other_leg",),
          accel_range_g=4.0, gyro_range_dps=500.0),
    _spec("knee_to_chest-06-typical-1khz", 306, 1000, "typical", "front", "right", reps=1),
    _spec("knee_to_chest-07-stiff-hard", 307, 25, "stiff", "front", "left",
          ("knock", "slip", "abandoned", "shift", "lost", "other_leg")),
    _spec("knee_to_chest-08-typical-hook-lost-abandoned", 308, 100, "typical", "side", "right",
          ("lost", "abandoned"), from_hook=True),

    _spec("hip_flexor-01-typical", 401, 100, "typical", "front", "right"),
    _spec("hip_flexor-02-stiff", 402, 100, "stiff", "side", "left", reps=3),
    _spec("hip_flexor-03-slow-exit", 403, 50, "slow", "front", "right", ("exit",)),
    _spec("hip_flexor-04-fast-knock-slip", 404, 200, "fast", "side", "right", ("knock", "slip")),
    _spec("hip_flexor-05-wide-lost", 405, 25, "wide", "front", "left", ("lost",),
          accel_range_g=4.0, gyro_range_dps=500.0, t0_s=1234.5),
    _spec("hip_flexor-06-typical-1khz", 406, 1000, "typical", "side", "right", reps=1),
    _spec("hip_flexor-07-typical-hard", 407, 100, "typical", "front", "right", ALL_CONFOUNDERS),
    _spec("hip_flexor-08-fast-shift-otherleg", 408, 100, "fast", "side", "left", ("shift", "other_leg")),
)

DEMOS: tuple[SessionSpec, ...] = (
    SessionSpec("heel_slide", "heel_slide", 501, rate_hz=50, style="typical", place="front", side="right",
                confounders=("knock",)),
    SessionSpec("pelvic_tilt", "pelvic_tilt", 502, rate_hz=50, style="typical", place="side", side="right",
                reps=6, confounders=("shift",)),
    SessionSpec("knee_to_chest", "knee_to_chest", 503, rate_hz=50, style="typical", place="front",
                side="right", confounders=("knock",)),
    SessionSpec("hip_flexor", "hip_flexor", 504, rate_hz=50, style="typical", place="front", side="right",
                reps=3, confounders=("exit",)),
)


def labels_json(session: SimulatedSession) -> str:
    """The sidecar's text: stable key order, two-space indent, newline at the end."""
    return json.dumps(session.labels(), indent=2) + "\n"


def write_session(session: SimulatedSession, csv_path: str | os.PathLike) -> None:
    """The recording (format v1, via the project's writer) and its labels sidecar."""
    csv_path = Path(csv_path)
    s = session.samples
    with RecordingWriter(csv_path, session.metadata(), sync_every_s=float("inf")) as writer:
        writer.write(s.t_s, s.accel_g, s.gyro_dps)
    labels_path_for(csv_path).write_text(labels_json(session), encoding="utf-8")


def write_library(directory: str | os.PathLike, specs=LIBRARY, only: set[str] | None = None) -> list[Path]:
    """Simulate and write each spec to ``directory/<name>.csv``; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs:
        if only and spec.name not in only:
            continue
        path = directory / f"{spec.name}.csv"
        write_session(simulated_session(spec), path)
        written.append(path)
    return written
