"""``backrep replay``: run recordings through the same engine the live service runs.

Counts come from ``signal_processing.Engine`` fed in chunks of about ``chunk_s`` seconds, the
way the live service feeds it, so a replayed file and the live session agree.
"""
from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from signal_processing import EXERCISE_IDS, Engine, Hold, get_exercise

from backrep.errors import InputFileError, UsageError
from backrep.recording import Recording, labels_path_for, read_recording

AUTO = "auto"
#: What ``auto`` counts with, and what it reports as the exercise.
AUTO_COUNTS_WITH = "generic"
AUTO_REPORTS = "unknown"


@dataclass(frozen=True)
class ReplayResult:
    """What one recording gave; ``as_dict()`` is the ``--json`` line of shared/interfaces.md."""

    file: str
    exercise: str
    reps: int
    holds: tuple[Hold, ...]
    rate_hz: float | None
    samples: int
    lost_samples: int
    duration_s: float

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "exercise": self.exercise,
            "reps": self.reps,
            "holds": [hold.as_dict() for hold in self.holds],
            "rate_hz": None if self.rate_hz is None or not math.isfinite(self.rate_hz) else round(self.rate_hz, 2),
            "samples": self.samples,
            "lost_samples": self.lost_samples,
            "duration_s": round(self.duration_s, 3),
        }


def checked_exercise_id(exercise_id: str) -> str:
    """``exercise_id`` when it is a known exercise or ``auto``; UsageError naming the known ids."""
    if exercise_id == AUTO or exercise_id in EXERCISE_IDS:
        return exercise_id
    known = ", ".join((*EXERCISE_IDS, AUTO))
    raise UsageError(f"unknown exercise {exercise_id!r} (known: {known})")


def exercise_named_by(recording: Recording) -> str | None:
    """The exercise the recording names itself, if it names a known one: its metadata's
    ``exercise`` key, else its sidecar labels' (``x.json`` beside ``x.csv``, shared/interfaces.md).

    What replay counts with when no ``--exercise`` is given: a physiotherapist replaying a
    labelled session expects it counted as the exercise it was, not as an unknown one. A sidecar
    that cannot be read, or names no known exercise, names none; the samples are the input.
    """
    named = recording.metadata.get("exercise")
    if named in EXERCISE_IDS:
        return named
    try:
        labels = json.loads(labels_path_for(recording.path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    named = labels.get("exercise") if isinstance(labels, dict) else None
    return named if named in EXERCISE_IDS else None


def chunk_bounds(t_s: np.ndarray, chunk_s: float) -> Iterator[tuple[int, int]]:
    """Index ranges holding about ``chunk_s`` seconds of samples each, cut on the recording's
    clock. Each chunk starts at a sample, so a gap of days in the clock costs nothing."""
    start, n = 0, len(t_s)
    while start < n:
        end = max(start + 1, int(np.searchsorted(t_s, t_s[start] + chunk_s, side="left")))
        yield start, end
        start = end


def replay_recording(recording: Recording, exercise_id: str, chunk_s: float = 1.0) -> ReplayResult:
    """Feed ``recording`` through a fresh engine for ``exercise_id`` (or ``auto``) and finish it."""
    if not chunk_s > 0:
        raise ValueError(f"chunk_s must be positive, got {chunk_s}")
    exercise_id = checked_exercise_id(exercise_id)
    counted_as = AUTO_COUNTS_WITH if exercise_id == AUTO else exercise_id
    engine = Engine(get_exercise(counted_as))
    for start, end in chunk_bounds(recording.t_s, chunk_s):
        engine.update(recording.t_s[start:end], recording.accel_g[start:end], recording.gyro_dps[start:end])
    engine.finish()
    state = engine.state
    return ReplayResult(
        file=recording.path,
        exercise=AUTO_REPORTS if exercise_id == AUTO else exercise_id,
        reps=state.reps,
        holds=tuple(state.holds),
        rate_hz=recording.rate_hz,
        samples=recording.samples,
        lost_samples=recording.lost_samples,
        duration_s=recording.duration_s,
    )


def holds_text(holds: tuple[Hold, ...]) -> str:
    """Hold lengths for a person: ``20.1 19.4 s``, or ``-`` when there were none."""
    if not holds:
        return "-"
    return " ".join(f"{hold.duration_s:.1f}" for hold in holds) + " s"


def table_text(results: list[ReplayResult]) -> str:
    """An aligned table, one row per file."""
    header = ("file", "exercise", "reps", "holds")
    rows = [(r.file, r.exercise, str(r.reps), holds_text(r.holds)) for r in results]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    lines = []
    for file, exercise, reps, holds in (header, *rows):
        lines.append(f"{file:<{widths[0]}}  {exercise:<{widths[1]}}  {reps:>{widths[2]}}  {holds}")
    return "\n".join(lines)


def run(args) -> int:
    """``backrep replay FILE [FILE ...] [--exercise ID|auto] [--json]``.

    Without ``--exercise`` each file is counted as the exercise it names (`exercise_named_by`),
    or as ``auto`` when it names none.

    A bad file is one line on stderr; the other files are still reported, and the exit status
    is 2 at the end if any file was bad.
    """
    exercise_id = None if args.exercise is None else checked_exercise_id(args.exercise)
    results: list[ReplayResult] = []
    any_bad = False
    for path in args.files:
        try:
            recording = read_recording(path)
            result = replay_recording(recording, exercise_id or exercise_named_by(recording) or AUTO)
        except InputFileError as exc:
            any_bad = True
            sys.stdout.flush()
            print(f"backrep: error: {exc}", file=sys.stderr, flush=True)
            continue
        if args.json:
            print(json.dumps(result.as_dict()), flush=True)
        else:
            results.append(result)
    if results:
        print(table_text(results))
    return 2 if any_bad else 0
