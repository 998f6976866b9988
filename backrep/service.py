"""The service loop: source -> engine -> live state -> store, on one thread the web cannot block.

The loop thread is the only one that touches the engine and the only one that writes to the
store; the web asks it to start or stop a set through a command queue and reads what it
publishes through the ``LiveHub``. A slow tablet can only fill its own queue in the hub.

Sources are thin: ``read(timeout_s)`` returns a batch of samples (``t_s``, ``accel_g``,
``gyro_dps``, ``lost_samples``), a ``SetCue`` (scripted sources start and stop their own sets),
or None; ``status`` is a dict with at least ``state``; ``close()``.
"""
from __future__ import annotations

import concurrent.futures
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from firmware_bridge.records import SampleBatch
from backrep.live import LiveHub
from backrep.store import SetRecord, Store

log = logging.getLogger(__name__)

LEGS = ("left", "right")

SAFETY_NOTE = ("Start slowly, warm up, go only as far as is pain free, and agree the programme "
               "with a doctor or physical therapist first.")


def programme() -> dict:
    """The exercises in the programme, as the dashboard lists them, and the safety note."""
    from signal_processing import CATALOGUE

    return {
        "exercises": [
            {"id": ex.id, "name": ex.name, "description": ex.description, "dose": ex.dose,
             "reps_per_set": ex.reps_per_set, "hold_target_s": ex.hold_target_s,
             "advanced": ex.advanced, "note": ex.note}
            for ex in CATALOGUE.values() if ex.in_programme
        ],
        "legs": list(LEGS),
        "safety_note": SAFETY_NOTE,
    }


def default_engine_factory(exercise_id: str):
    from signal_processing import Engine, get_exercise

    return Engine(get_exercise(exercise_id))


def exercise_targets(exercise_id: str) -> tuple[int, float]:
    """(reps per set, hold target in seconds); ValueError for an unknown exercise."""
    from signal_processing import get_exercise

    exercise = get_exercise(exercise_id)
    return exercise.reps_per_set, exercise.hold_target_s


#: Every source hands out batches in the bridge's shape; replay and demo use the same record.
Samples = SampleBatch


@dataclass(frozen=True)
class SetCue:
    """A scripted source starting (``exercise``, ``leg``) or stopping (``exercise=None``) a set."""

    exercise: str | None
    leg: str = "right"


# -- sources --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """One recording to play as one set."""

    path: Path
    exercise: str
    leg: str


class ScriptedSource:
    """Plays recordings paced by a clock, each as one set: ``--replay`` (once) and ``--demo`` (cycling).

    ``speed`` 1 is real time. Time comes from the injected ``clock``/``sleep`` so tests can run
    it as fast as they like.
    """

    def __init__(self, segments: Iterable[Segment], *, speed: float = 1.0, cycle: bool = False,
                 pause_s: float = 0.0, chunk_s: float = 0.05, mode: str = "replay",
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 reader: Callable | None = None) -> None:
        self.segments = list(segments)
        if not self.segments:
            raise ValueError("nothing to play")
        self.speed = float(speed)
        self.cycle = cycle
        self.pause_s = pause_s
        self.chunk_s = chunk_s
        self.mode = mode
        self._clock = clock
        self._sleep = sleep
        if reader is None:
            from backrep.recording import read_recording as reader
        self._reader = reader
        self._index = -1
        self._recording = None
        self._pos = 0
        self._t0_wall = 0.0
        self._pause_until = 0.0
        self._phase = "load"  # then "playing", "pausing", ... and "finished" when not cycling
        self._state = "reading"
        self._rate_hz = None

    @property
    def finished(self) -> bool:
        return self._phase == "finished"

    @property
    def status(self) -> dict:
        return {"state": self._state, "sensor": self.mode, "rate_hz": self._rate_hz, "speed": self.speed,
                "file": None if self._recording is None else str(self._recording.path)}

    def _load_next(self) -> SetCue | None:
        self._index += 1
        if self._index >= len(self.segments):
            if not self.cycle:
                self._phase = "finished"
                self._state = "ended"
                return None
            self._index = 0
        segment = self.segments[self._index]
        self._recording = self._reader(segment.path)
        self._rate_hz = float(getattr(self._recording, "rate_hz", 0) or 0) or None
        self._pos = 0
        self._t0_wall = self._clock()
        self._phase = "playing"
        self._state = "reading"
        return SetCue(segment.exercise, segment.leg)

    def read(self, timeout_s: float = 1.0):
        if self._phase == "finished":
            self._sleep(timeout_s)
            return None
        if self._phase == "pausing":
            wait_s = self._pause_until - self._clock()
            if wait_s > 0:
                self._sleep(min(timeout_s, wait_s))
                return None
            self._phase = "load"
        if self._phase == "load":
            return self._load_next()
        rec = self._recording
        t_s = rec.t_s
        if self._pos >= len(t_s):
            # The recording is over: its set ends; pause so the summary can be read.
            last = self._index == len(self.segments) - 1 and not self.cycle
            self._phase = "finished" if last else "pausing"
            self._state = "ended" if last else "paused"
            self._pause_until = self._clock() + self.pause_s
            return SetCue(None)
        # Samples whose (sped-up) time has come; wait for the next chunk if none has.
        due_t_s = t_s[0] + (self._clock() - self._t0_wall) * self.speed
        end = int(np.searchsorted(t_s, due_t_s, side="right"))
        if end <= self._pos:
            wait_s = (t_s[self._pos] - due_t_s) / self.speed
            self._sleep(min(timeout_s, max(wait_s, self.chunk_s)))
            due_t_s = t_s[0] + (self._clock() - self._t0_wall) * self.speed
            end = int(np.searchsorted(t_s, due_t_s, side="right"))
            if end <= self._pos:
                return None
        start, self._pos = self._pos, end
        return Samples(t_s[start:end], rec.accel_g[start:end], rec.gyro_dps[start:end])

    def close(self) -> None:
        self._phase = "finished"


class SensorSource:
    """The thigh sensor through ``firmware_bridge``: a thin adapter over its stream contract."""

    mode = "sensor"

    def __init__(self, stream) -> None:
        self._stream = stream
        # States the stream passed through inside one read (a brown-out noticed and mended
        # before the read returned): the service publishes each, so none goes unseen.
        self._changes: list = []
        if hasattr(stream, "add_listener"):
            stream.add_listener(self._changes.append)

    @classmethod
    def open(cls, bus: int, address: int | None, rate_hz: float, calibration_dir: Path | None = None) -> "SensorSource":
        """Open the real sensor; the gyro bias measured at start-up is remembered in ``calibration_dir``."""
        from firmware_bridge import open_stream

        return cls(open_stream(bus, address=address, rate_hz=rate_hz, calibration_dir=calibration_dir))

    def read(self, timeout_s: float = 1.0):
        return self._stream.read(timeout_s=timeout_s)

    def status_changes(self) -> list[dict]:
        """Every status the stream moved to since the last call, oldest first."""
        changes = list(self._changes)
        del self._changes[:len(changes)]
        return [c.as_dict() if hasattr(c, "as_dict") else dict(c) for c in changes]

    @property
    def status(self) -> dict:
        status = self._stream.status
        if hasattr(status, "as_dict"):
            return status.as_dict()
        return {"state": getattr(status, "state", str(status)), "rate_hz": getattr(status, "rate_hz", None)}

    def close(self) -> None:
        self._stream.close()


#: What opening the sensor raises when it is not there, not allowed, or not supported.
SENSOR_OPEN_ERRORS = (OSError, LookupError, ValueError, ImportError)


class AwaitedSensorSource:
    """The sensor, opened once it can be: until then the state is ``absent``, with what the
    bridge found, and the opening is tried again every ``retry_s``.

    A Pi booted with the sensor unplugged (or not yet wired) used to exit, and systemd started
    it again every few seconds: the tablet could not reach the dashboard to be told why.
    """

    mode = "sensor"

    def __init__(self, opener: Callable[[], "SensorSource"], first_error: str, retry_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._opener = opener
        self._source: SensorSource | None = None
        self._why = first_error
        self.retry_s = retry_s
        self._clock, self._sleep = clock, sleep
        self._next_try_s = clock() + retry_s
        self._changes: list[dict] = []

    def read(self, timeout_s: float = 1.0):
        if self._source is None:
            if self._clock() >= self._next_try_s:
                self._try_open()
            if self._source is None:
                self._sleep(min(timeout_s, 0.1))
                return None
        return self._source.read(timeout_s=timeout_s)

    def _try_open(self) -> None:
        try:
            self._source = self._opener()
        except SENSOR_OPEN_ERRORS as exc:
            if str(exc) != self._why:
                log.warning("sensor still not there: %s", exc)
            self._why = str(exc)
            self._next_try_s = self._clock() + self.retry_s
            return
        log.info("sensor found")
        self._changes.append(self.status)

    def status_changes(self) -> list[dict]:
        changes, self._changes = self._changes, []
        more = getattr(self._source, "status_changes", None)
        return changes + (more() if more else [])

    @property
    def status(self) -> dict:
        if self._source is None:
            return {"state": "absent", "message": self._why}
        return self._source.status

    def close(self) -> None:
        if self._source is not None:
            self._source.close()


# -- the loop ---------------------------------------------------------------------------------

IDLE_HOLD = {"active": False, "elapsed_s": 0.0, "target_s": 0.0}


@dataclass
class _OpenSet:
    id: int
    exercise: str
    leg: str
    target_reps: int
    hold_target_s: float
    started_unix_s: float
    engine: object
    unsaved: bool = False     # a write for this set failed: the history has less than the count


class Service:
    """Owns the loop thread. ``start()``, ``stop()``; ``start_set``/``stop_set`` from any thread."""

    def __init__(self, source, hub: LiveHub, store: Store, *, engine_factory: Callable = default_engine_factory,
                 targets: Callable[[str], tuple[int, float]] = exercise_targets,
                 wall_clock: Callable[[], float] = time.time, state_interval_s: float = 0.1,
                 read_timeout_s: float = 0.1, trace_points: int = 0) -> None:
        self.source = source
        self.hub = hub
        self.store = store
        self._engine_factory = engine_factory
        self._targets = targets
        self._wall_clock = wall_clock
        self._state_interval_s = state_interval_s
        self._read_timeout_s = read_timeout_s
        self._commands: "queue.Queue[tuple[str, tuple, concurrent.futures.Future]]" = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._set: _OpenSet | None = None
        self._last_set: dict | None = None
        #: The last set's exercise, reps and holds as its engine counted them, shown between sets.
        self._last_count: dict = {}
        self._last_state_mono = 0.0
        self._last_sensor_state = None
        self._last_state: dict | None = None   # as last published, but for `mono_s`
        self._batch_mono_s: float | None = None
        #: Whether the history is being saved; the count carries on either way.
        self._history = {"saving": True, "error": None}
        #: Loop iterations completed: the systemd watchdog is fed only while this grows.
        self.progress = 0
        self.error: BaseException | None = None
        self.mode = getattr(source, "mode", "sensor")

    # -- lifetime ---------------------------------------------------------------------------
    def start(self) -> None:
        self._publish_state(force=True)
        self._thread = threading.Thread(target=self._run, name="sensor-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop the loop, close any open set, close the source. Safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("sensor loop did not stop within %.1f s", timeout_s)
            self._thread = None
        try:
            self.source.close()
        except Exception:  # closing a broken sensor must not stop the shutdown
            log.exception("closing the source failed")

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- commands from the web --------------------------------------------------------------
    def start_set(self, exercise: str, leg: str, timeout_s: float = 3.0) -> dict:
        """Start a set (closing any open one); returns the new set. ValueError for bad input."""
        if leg not in LEGS:
            raise ValueError(f"leg must be one of {', '.join(LEGS)}, not {leg!r}")
        self._targets(exercise)  # ValueError names the known exercises
        return self._ask("start", (exercise, leg), timeout_s)

    def stop_set(self, timeout_s: float = 3.0) -> dict | None:
        """Stop the open set; returns its summary, or None if no set was open."""
        return self._ask("stop", (), timeout_s)

    def _ask(self, name: str, args: tuple, timeout_s: float):
        if not self.alive:
            raise RuntimeError("the sensor loop is not running")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._commands.put((name, args, future))
        try:
            return future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the sensor loop did not answer within {timeout_s:g} s") from None

    # -- the loop ---------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("sensor loop started (%s)", self.mode)
        try:
            while not self._stop.is_set():
                self._do_commands()
                item = self.source.read(timeout_s=self._read_timeout_s)
                self._publish_passing_states()
                if isinstance(item, SetCue):
                    if item.exercise is None:
                        self._close_set()
                    else:
                        self._open_set(item.exercise, item.leg)
                elif item is not None and len(item.t_s):
                    self._feed(item)
                self._publish_state()
                self.progress += 1
        except BaseException as exc:  # noqa: BLE001 - reported to the process, which exits non-zero
            self.error = exc
            log.exception("sensor loop failed")
        finally:
            try:
                # A set cut short by a failing loop is marked so in the history.
                self._close_set(status="closed" if self.error is None else "interrupted")
            except Exception:
                log.exception("closing the open set failed")
            self._do_commands()
            log.info("sensor loop stopped")

    def _do_commands(self) -> None:
        while True:
            try:
                name, args, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if self._stop.is_set():
                    raise RuntimeError("the service is stopping")
                result = self._open_set(*args) if name == "start" else self._close_set()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)
            else:
                future.set_result(result)

    def _open_set(self, exercise: str, leg: str) -> dict:
        self._close_set()
        target_reps, hold_target_s = self._targets(exercise)
        engine = self._engine_factory(exercise)
        now = self._wall_clock()
        set_id = self._save(self.store.start_set, exercise=exercise, leg=leg, target_reps=target_reps,
                            hold_target_s=hold_target_s, source=self.mode, at_unix_s=now, on_failure=None)
        self._set = _OpenSet(set_id, exercise, leg, target_reps, hold_target_s, now, engine,
                             unsaved=set_id is None)
        info = self._set_info()
        log.info("set %s started: %s, %s leg", set_id, exercise, leg)
        self.hub.publish("set_started", info)
        self._publish_state(force=True)
        return info

    def _close_set(self, status: str = "closed") -> dict | None:
        if self._set is None:
            return None
        current = self._set
        if status == "closed":
            for event in current.engine.finish():
                self._record(event)
        # The set's last state (its final count, every sample it took) goes out before it closes:
        # the timed push may not have run since the last batch.
        self._publish_state(force=True)
        record = None
        if current.id is not None:
            self._save(self.store.close_set, current.id, self._wall_clock(), status=status)
            try:
                record = self.store.get_set(current.id)
            except sqlite3.Error as exc:
                log.error("cannot read set %s back from the history: %s", current.id, exc)
        self._set = None
        summary = _summary(record) if record is not None else {"id": current.id, "status": status}
        if current.unsaved or record is None:
            # the history missed some of it: the summary shows what was counted
            summary.update(_engine_summary(current))
        self._last_set = summary
        counted = current.engine.state.as_dict()
        self._last_count = {"exercise": current.exercise, "reps": counted["reps"], "holds": counted["holds"]}
        log.info("set %s stopped: %s reps", current.id, summary.get("reps"))
        self.hub.publish("set_ended", summary)
        self._publish_state(force=True)
        return summary

    def _feed(self, batch) -> None:
        self._batch_mono_s = time.monotonic()
        if self._set is None:
            return
        events = self._set.engine.update(np.asarray(batch.t_s, dtype=float), np.asarray(batch.accel_g, dtype=float),
                                         np.asarray(batch.gyro_dps, dtype=float))
        for event in events:
            self._record(event)
        if events:
            self._publish_state(force=True)

    def _record(self, event) -> None:
        """Commit a counted rep or a finished hold before anyone is told about it."""
        current = self._set
        now = self._wall_clock()
        saved = True
        if current.id is None:
            pass    # the set itself could not be saved: nothing of it can be
        elif event.kind == "rep_counted":
            saved = self._save(self.store.add_rep, current.id, event.rep, event.t_s, now) is not False
        elif event.kind == "rep_retracted":
            saved = self._save(self.store.retract_rep, current.id, event.retracted or 1) is not False
        elif event.kind == "hold_ended" and event.hold is not None:
            saved = self._save(self.store.add_hold, current.id, event.hold.start_s, event.hold.end_s, now) is not False
        if not saved:
            current.unsaved = True
        payload = event.as_dict()
        payload["set_id"] = current.id
        payload["mono_s"] = self._batch_mono_s
        self.hub.publish("engine", payload)

    def _save(self, write: Callable, *args, on_failure=False, **kwargs):
        """One write to the history. A full or read-only disk must not stop the count: the
        failure is logged once, shown in the state (``history``), and the next write tries
        again. Returns the write's result, or ``on_failure`` when it failed."""
        try:
            result = write(*args, **kwargs)
        except sqlite3.Error as exc:
            if self._history["saving"]:
                log.error("history is not being saved (%s); the count carries on", exc)
            self._history = {"saving": False, "error": str(exc)}
            self._publish_state(force=True)
            return on_failure
        if not self._history["saving"]:
            log.info("history is being saved again")
            self._history = {"saving": True, "error": None}
            self._publish_state(force=True)
        return result

    # -- state ------------------------------------------------------------------------------
    def _set_info(self) -> dict | None:
        s = self._set
        if s is None:
            return None
        return {"id": s.id, "exercise": s.exercise, "leg": s.leg, "target_reps": s.target_reps,
                "hold_target_s": s.hold_target_s, "started_unix_s": s.started_unix_s}

    def _publish_state(self, force: bool = False) -> None:
        sensor = self._sensor_status()
        now = time.monotonic()
        sensor_changed = sensor.get("state") != self._last_sensor_state
        if not (force or sensor_changed or now - self._last_state_mono >= self._state_interval_s):
            return
        self._last_sensor_state = sensor.get("state")
        self._last_state_mono = now
        state = self.snapshot(sensor)
        comparable = {k: v for k, v in state.items() if k != "mono_s"}
        if comparable == self._last_state and not force:
            self.hub.repeat_state(state)
            return
        self._last_state = comparable
        self.hub.set_state(state)

    def _publish_passing_states(self) -> None:
        """Publish the sensor states the source went through during the read and has left
        already; the state it is in now goes out as usual."""
        changes = getattr(self.source, "status_changes", None)
        if changes is None:
            return
        for status in changes()[:-1]:
            self._last_sensor_state = status.get("state")
            self._last_state_mono = time.monotonic()
            self.hub.set_state(self.snapshot(status))

    def _sensor_status(self) -> dict:
        try:
            return dict(self.source.status)
        except Exception as exc:  # a status that cannot be read is itself news
            return {"state": "lost", "message": str(exc)}

    def snapshot(self, sensor: dict | None = None) -> dict:
        """The state the dashboard shows: the engine's, plus set, sensor and last set summary."""
        if self._set is not None:
            state = self._set.engine.state.as_dict()
            state["target_reps"] = self._set.target_reps
            state["leg"] = self._set.leg
        else:
            state = {"exercise": None, "phase": "idle", "reference_progress": 0.0, "reps": 0, "holds": [],
                     "hold": dict(IDLE_HOLD), "angle_deg": None, "t_s": None, "rate_hz": None,
                     "target_reps": 0, "leg": None}
            # Between sets the count stays the last set's, as the engine left it: a tool that reads
            # the state after `serve --replay` has played its file finds the file's count there.
            state.update(self._last_count)
        state["set"] = self._set_info()
        state["last_set"] = self._last_set
        state["sensor"] = sensor if sensor is not None else self._sensor_status()
        state["mode"] = self.mode
        state["mono_s"] = self._batch_mono_s
        state["history"] = dict(self._history)
        return state


def _engine_summary(current: _OpenSet) -> dict:
    """What the engine counted in a set, in the summary's keys, and that the history lacks some."""
    state = current.engine.state.as_dict()
    holds = list(state.get("holds") or [])
    return {"exercise": current.exercise, "leg": current.leg, "reps": state.get("reps", 0), "holds": holds,
            "hold_durations_s": [h.get("duration_s") for h in holds if isinstance(h, dict)],
            "target_reps": current.target_reps, "hold_target_s": current.hold_target_s, "saved": False}


def _summary(record: SetRecord) -> dict:
    out = record.as_dict()
    out["hold_durations_s"] = [h["duration_s"] for h in out["holds"]]
    return out
