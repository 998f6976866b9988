"""The exercise catalogue, loaded from ``exercises.toml`` beside this file.

Exercises are data so that a physiotherapist's new exercise is a new table in the TOML file,
not new code: the streaming engine reads only these fields.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from importlib import resources
from types import MappingProxyType
from typing import Literal

HeldEnd = Literal["none", "far"]
Measure = Literal["elevation", "tilt"]


@dataclass(frozen=True)
class Exercise:
    """One exercise as the engine needs it.

    Angles are thigh inclination in degrees (0 = flat, positive = knee toward the chest); for
    ``measure = "tilt"``, how far the thigh has turned from its resting pose.
    """

    id: str
    name: str
    description: str
    dose: str
    reps_per_set: int
    #: +1: a rep moves the thigh up from its resting pose; -1: down; 0: either way.
    direction: int
    #: The usual size of a rep, from the resting pose to the far end, in degrees (low, high).
    excursion_deg: tuple[float, float]
    #: Seconds a hold at the far end should last; 0 when the exercise has no target.
    hold_target_s: float = 0.0
    #: "far": pauses at the far end of a rep are holds to time; "none": they are not.
    held_end: HeldEnd = "none"
    #: Inclination range of a start pose reached by a one-way move that is not a rep.
    start_pose_deg: tuple[float, float] | None = None
    #: Inclination range of a resting pose a rep may start from part way out (knee to chest
    #: from hook-lying): a pause there followed by a clear further rise was a rest, and the rep
    #: is measured from it. A pause anywhere else on the way out (a knee lifted, then pulled in
    #: by the hands) is a hesitation, and the rep stays one rep from its real rest.
    rest_on_the_way_deg: tuple[float, float] | None = None
    #: Where nothing documents the start pose: a pose the thigh settled in at the far end and
    #: then made reps from (or stayed in far longer than any hold) was the start pose the
    #: person moved into, and the set is counted from it. False where a documented pose or a
    #: known way makes it needless.
    start_pose_from_reps: bool = False
    #: "elevation": the thigh's inclination, signed, slip-proof (the programme's exercises);
    #: "tilt": how far the thigh has turned from its last resting pose, the way its reps go once
    #: three have shown it, any way before (any exercise).
    measure: Measure = "elevation"
    in_programme: bool = True
    advanced: bool = False
    note: str = ""

    @property
    def times_holds(self) -> bool:
        return self.held_end == "far"


def _exercise_from_table(exercise_id: str, table: dict) -> Exercise:
    """One table of the catalogue as an Exercise; ValueError names the exercise and the fault."""
    known = {f.name for f in fields(Exercise)} - {"id"}
    needed = {f.name for f in fields(Exercise) if f.default is MISSING} - {"id"}
    if not isinstance(table, dict):
        raise ValueError(f"exercise {exercise_id}: must be a table")
    if unknown := sorted(set(table) - known):
        raise ValueError(f"exercise {exercise_id}: unknown field {unknown[0]!r}")
    if missing := sorted(needed - set(table)):
        raise ValueError(f"exercise {exercise_id}: missing field {missing[0]!r}")
    values = dict(table)
    try:
        values["excursion_deg"] = tuple(float(v) for v in values["excursion_deg"])
        for key in ("start_pose_deg", "rest_on_the_way_deg"):
            if key in values:
                values[key] = tuple(float(v) for v in values[key])
    except (TypeError, ValueError):
        raise ValueError(f"exercise {exercise_id}: angles must be [low, high] in degrees") from None
    exercise = Exercise(id=exercise_id, **values)
    if not isinstance(exercise.reps_per_set, int) or exercise.reps_per_set < 1:
        raise ValueError(f"exercise {exercise_id}: reps_per_set must be a whole number from 1")
    if not isinstance(exercise.hold_target_s, (int, float)) or not 0 <= exercise.hold_target_s <= 600:
        raise ValueError(f"exercise {exercise_id}: hold_target_s must be from 0 to 600")
    if exercise.direction not in (-1, 0, 1):
        raise ValueError(f"exercise {exercise_id}: direction must be -1, 0 or 1")
    if exercise.measure not in ("elevation", "tilt"):
        raise ValueError(f"exercise {exercise_id}: measure must be 'elevation' or 'tilt'")
    if exercise.held_end not in ("none", "far"):
        raise ValueError(f"exercise {exercise_id}: held_end must be 'none' or 'far'")
    if len(exercise.excursion_deg) != 2 or not 0 < exercise.excursion_deg[0] <= exercise.excursion_deg[1]:
        raise ValueError(f"exercise {exercise_id}: excursion_deg must be 0 < low <= high")
    return exercise


def load_catalogue(toml_text: str | None = None) -> dict[str, Exercise]:
    """Return every exercise by id, from ``toml_text`` or the bundled catalogue."""
    if toml_text is None:
        toml_text = resources.files(__package__).joinpath("exercises.toml").read_text("utf-8")
    tables = tomllib.loads(toml_text)
    return {exercise_id: _exercise_from_table(exercise_id, table) for exercise_id, table in tables.items()}


#: Read-only: the same for every caller in the process.
CATALOGUE: Mapping[str, Exercise] = MappingProxyType(load_catalogue())
EXERCISE_IDS: tuple[str, ...] = tuple(CATALOGUE)


def get_exercise(exercise_id: str) -> Exercise:
    """Return the exercise called ``exercise_id``; ValueError names the known ones if absent."""
    try:
        return CATALOGUE[exercise_id]
    except KeyError:
        known = ", ".join(EXERCISE_IDS)
        shown = exercise_id if len(str(exercise_id)) <= 60 else f"{str(exercise_id)[:60]}..."  # one readable line
        raise ValueError(f"unknown exercise {shown!r} (known: {known})") from None
