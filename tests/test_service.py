"""The service loop with fake sources and engines, the scripted sources, and a recording maker.

``make_recording`` writes a small labelled recording of a thigh rotating about one axis, so the
web, service and browser tests need no simulator; the count it labels is what the real engine
must reach (those tests pass once the engine counts).
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from backrep.live import LiveHub
from backrep.simulator.trajectory import minimum_jerk_fraction
from backrep.service import AwaitedSensorSource, Samples, ScriptedSource, Segment, Service, SetCue
from backrep.store import Store
from signal_processing.events import EngineState, Event, Hold
from web.api import LIVE_NAMED_EVENTS as NAMED

RATE_HZ = 100.0


def make_recording(path: Path, exercise: str = "knee_to_chest", reps: int = 3, hold_s: float = 20.0,
                   top_deg: float = 100.0, move_s: float = 2.5, rest_s: float = 3.0, lead_s: float = 4.0,
                   side: str = "left", seed: int = 1) -> Path:
    """Write ``path`` (format v1) and its ``.json`` labels; returns ``path``."""
    pieces = [np.zeros(int(lead_s * RATE_HZ))]
    rep_spans, hold_spans = [], []
    t = lead_s
    for _ in range(reps):
        up = top_deg * minimum_jerk_fraction(np.linspace(0.0, 1.0, int(move_s * RATE_HZ)))
        start = t
        pieces.append(up)
        t += move_s
        if hold_s:
            pieces.append(np.full(int(hold_s * RATE_HZ), top_deg))
            hold_spans.append([round(t, 2), round(t + hold_s, 2)])
            t += hold_s
        pieces.append(up[::-1])
        t += move_s
        rep_spans.append([round(start, 2), round(t, 2)])
        pieces.append(np.zeros(int(rest_s * RATE_HZ)))
        t += rest_s
    angle_deg = np.concatenate(pieces)
    t_s = np.arange(len(angle_deg)) / RATE_HZ
    rng = np.random.default_rng(seed)
    theta = np.radians(angle_deg)
    accel_g = np.column_stack([np.sin(theta), np.zeros_like(theta), np.cos(theta)])
    accel_g += rng.normal(0, 0.003, accel_g.shape)
    gyro_dps = np.zeros((len(t_s), 3))
    gyro_dps[:, 1] = -np.gradient(angle_deg, t_s)
    gyro_dps += rng.normal(0, 0.15, gyro_dps.shape)
    lines = ["# backrep-recording: 1", f"# rate_hz: {RATE_HZ:g}", "# sensor: synthetic", f"# side: {side}",
             "t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps"]
    for i in range(len(t_s)):
        a, g = accel_g[i], gyro_dps[i]
        lines.append(f"{t_s[i]:.4f},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},{g[0]:.4f},{g[1]:.4f},{g[2]:.4f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    labels = {"exercise": exercise, "reps": reps, "holds_s": [hold_s] * reps if hold_s else [],
              "rep_spans": rep_spans, "hold_spans": hold_spans, "side": side, "source": "synthetic"}
    path.with_suffix(".json").write_text(json.dumps(labels), encoding="utf-8")
    return path


# -- fakes ------------------------------------------------------------------------------------

class FakeEngine:
    """Engine-shaped: counts a rep every ``every`` samples and a 2 s hold before each rep."""

    def __init__(self, exercise_id: str = "knee_to_chest", every: int = 50) -> None:
        self.exercise_id = exercise_id
        self.every = every
        self.samples = 0
        self.reps = 0
        self.holds: list[Hold] = []
        self.last_t_s = None

    def update(self, t_s, accel_g, gyro_dps):
        events = []
        for t in t_s:
            self.samples += 1
            self.last_t_s = float(t)
            if self.samples % self.every == 0:
                hold = Hold(float(t) - 2.0, float(t) - 0.5)
                self.holds.append(hold)
                events.append(Event("hold_ended", float(t), hold=hold))
                self.reps += 1
                events.append(Event("rep_counted", float(t), rep=self.reps))
        return events

    def finish(self):
        return []

    @property
    def state(self) -> EngineState:
        return EngineState(exercise=self.exercise_id, phase="ready", reference_progress=1.0, reps=self.reps,
                           holds=tuple(self.holds), hold_active=False, hold_elapsed_s=0.0, hold_target_s=20.0,
                           angle_deg=12.0, t_s=self.last_t_s, rate_hz=100.0, samples=self.samples, lost_samples=0)


class ListSource:
    """Hands out prepared items, then None; records that it was closed."""

    mode = "sensor"

    def __init__(self, items, pace_s: float = 0.0, endless: bool = False) -> None:
        self.items = list(items)
        self.closed = False
        self.pace_s = pace_s
        self.endless = endless
        self.served = 0

    def read(self, timeout_s: float = 1.0):
        if self.endless and not self.items:
            self.items.append(batch(self.served * 10, 10))
        if self.items:
            time.sleep(self.pace_s)
            item = self.items.pop(0)
            if not isinstance(item, SetCue):
                self.served += 1
            return item
        time.sleep(min(timeout_s, 0.01))
        return None

    @property
    def status(self) -> dict:
        return {"state": "reading", "rate_hz": 100.0}

    def close(self) -> None:
        self.closed = True


def batch(start: int, n: int) -> Samples:
    t_s = (np.arange(start, start + n)) / RATE_HZ
    return Samples(t_s, np.tile([0.0, 0.0, 1.0], (n, 1)), np.zeros((n, 3)))


def wait_for(predicate, timeout_s: float = 5.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def store(tmp_path):
    s = Store.in_dir(tmp_path)
    yield s
    s.close()


def make_service(source, store, hub=None, **kwargs) -> Service:
    return Service(source, hub or LiveHub(), store, engine_factory=lambda ex: FakeEngine(ex),
                   targets=lambda ex: (5, 20.0), **kwargs)


# -- the loop -----------------------------------------------------------------------------------

def test_scripted_set_is_counted_stored_and_published(store):
    hub = LiveHub()
    listener = hub.subscribe(events=NAMED)
    source = ListSource([SetCue("knee_to_chest", "left"), batch(0, 120), batch(120, 40), SetCue(None)])
    service = make_service(source, store, hub)
    service.start()
    try:
        wait_for(lambda: hub.state().get("last_set"))
    finally:
        service.stop()
    state = hub.state()
    assert state["set"] is None
    assert state["last_set"]["reps"] == 3 and state["last_set"]["status"] == "closed"
    assert state["last_set"]["hold_durations_s"] == [1.5, 1.5, 1.5]
    (saved,) = store.sets()
    assert (saved.exercise, saved.leg, saved.reps, saved.status) == ("knee_to_chest", "left", 3, "closed")
    messages = []
    while not listener.queue.empty():
        messages.append(listener.queue.get())
    kinds = [m.split("\n")[0] for m in messages]
    assert "event: set_started" in kinds and "event: set_ended" in kinds
    assert sum('"kind":"rep_counted"' in m for m in messages) == 3
    ids = [int(line.removeprefix("id: ")) for m in messages for line in m.split("\n") if line.startswith("id: ")]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert source.closed


def test_an_idle_service_keeps_its_reconnect_ring_for_what_changed(store):
    # A tablet away for a while reconnects with Last-Event-ID and is sent what it missed from the
    # ring: an unchanged state repeated ten times a second once pushed a set out of it in 25 s.
    hub = LiveHub(ring_size=16)
    source = ListSource([SetCue("knee_to_chest", "left"), batch(0, 120), SetCue(None)])
    service = make_service(source, store, hub, state_interval_s=0.005)
    listener = hub.subscribe()
    service.start()
    try:
        wait_for(lambda: hub.state().get("last_set"))
        last_id = hub.last_event_id
        wait_for(lambda: listener.queue.qsize() > 40)       # the idle state, still pushed
    finally:
        service.stop()
    assert hub.last_event_id <= last_id + 1                 # + the state as the loop stopped
    back = hub.subscribe(last_event_id=0, events=NAMED)
    missed = [back.queue.get() for _ in range(back.queue.qsize())]
    assert any(m.startswith("event: set_ended") for m in missed)


def test_each_rep_is_in_the_store_before_it_is_announced(store):
    """A client that hears of rep n can already read rep n from the history."""
    hub = LiveHub()
    seen_in_store = []

    class CheckingHub(LiveHub):
        def publish(self, event, payload):
            if event == "engine" and payload["kind"] == "rep_counted":
                (current,) = store.sets()
                seen_in_store.append((payload["rep"], current.reps))
            return super().publish(event, payload)

    hub = CheckingHub()
    source = ListSource([SetCue("knee_to_chest", "right"), batch(0, 200)])
    service = make_service(source, store, hub)
    service.start()
    try:
        wait_for(lambda: len(seen_in_store) == 4)
    finally:
        service.stop()
    assert seen_in_store == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_start_and_stop_from_another_thread(store):
    source = ListSource([], pace_s=0.005, endless=True)
    service = make_service(source, store)
    service.start()
    try:
        started = service.start_set("heel_slide", "right")
        assert started["exercise"] == "heel_slide" and started["leg"] == "right"
        wait_for(lambda: service.hub.state()["reps"] >= 1)
        summary = service.stop_set()
        assert summary["id"] == started["id"] and summary["status"] == "closed" and summary["reps"] >= 1
        assert service.stop_set() is None
        with pytest.raises(ValueError):
            service.start_set("heel_slide", "middle")
    finally:
        service.stop()


def test_starting_a_set_closes_the_open_one(store):
    service = make_service(ListSource([]), store)
    service.start()
    try:
        first = service.start_set("heel_slide", "left")
        second = service.start_set("heel_slide", "right")
    finally:
        service.stop()
    statuses = {s.id: s.status for s in store.sets()}
    assert statuses == {first["id"]: "closed", second["id"]: "closed"}


def test_a_slow_client_is_dropped_and_the_loop_keeps_every_sample(store):
    hub = LiveHub(queue_size=16)
    slow = hub.subscribe(events=NAMED)   # never reads
    fast = hub.subscribe(events=NAMED)   # reads everything, on its own thread
    n_batches = 100
    drained = []

    def drain():
        while (message := fast.queue.get()) is not None:
            drained.append(message)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    source = ListSource([SetCue("knee_to_chest", "left")] + [batch(i * 10, 10) for i in range(n_batches)],
                        pace_s=0.002)
    service = make_service(source, store, hub, state_interval_s=0.0)
    service.start()
    try:
        wait_for(lambda: hub.state().get("samples") == n_batches * 10)
    finally:
        service.stop()
        fast.queue.put(None)
        reader.join(2)
    assert slow.dropped and not fast.dropped
    assert hub.state()["last_set"]["reps"] == n_batches * 10 // 50
    assert sum('"kind":"rep_counted"' in m for m in drained) == n_batches * 10 // 50, (len(drained), drained[:2])


def test_the_loop_counts_its_progress_and_reports_a_crash(store):
    ok = make_service(ListSource([]), store)
    ok.start()
    wait_for(lambda: ok.progress > 3)
    ok.stop()
    class BreaksAfterASet(ListSource):
        def read(self, timeout_s=1.0):
            if not self.items:
                raise OSError("bus gone")
            return super().read(timeout_s)

    broken = make_service(BreaksAfterASet([SetCue("heel_slide", "left"), batch(0, 60)]), store)
    broken.start()
    wait_for(lambda: broken.error is not None and not broken.alive)
    broken.stop()
    assert isinstance(broken.error, OSError)
    (record,) = store.sets()
    assert record.status == "interrupted" and record.reps == 1  # the rep before the failure is kept


# -- scripted sources -----------------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_replay_source_plays_every_sample_once_at_speed(tmp_path):
    path = make_recording(tmp_path / "k.csv", reps=1, hold_s=2.0)
    from backrep.recording import read_recording

    recording = read_recording(path)
    clock = FakeClock()
    source = ScriptedSource([Segment(path, "knee_to_chest", "left")], speed=10.0, clock=clock, sleep=clock.sleep)
    assert source.read() == SetCue("knee_to_chest", "left")
    got = []
    while True:
        item = source.read(timeout_s=0.1)
        if isinstance(item, SetCue):
            assert item.exercise is None
            break
        if item is not None:
            got.append(item.t_s)
    assert np.array_equal(np.concatenate(got), recording.t_s)
    # Played at 10x: the wall clock moved about a tenth of the recording's length.
    assert clock.now == pytest.approx(recording.t_s[-1] / 10, abs=0.2)
    assert source.read() is None and source.finished and source.status["state"] == "ended"


def test_demo_source_cycles_through_its_recordings(tmp_path):
    a = make_recording(tmp_path / "heel_slide.csv", "heel_slide", reps=1, hold_s=0, lead_s=1, rest_s=0.5)
    b = make_recording(tmp_path / "knee.csv", "knee_to_chest", reps=1, hold_s=1, lead_s=1, rest_s=0.5)
    clock = FakeClock()
    source = ScriptedSource([Segment(a, "heel_slide", "left"), Segment(b, "knee_to_chest", "right")],
                            speed=50.0, cycle=True, pause_s=1.0, mode="demo", clock=clock, sleep=clock.sleep)
    cues = []
    for _ in range(2000):
        item = source.read(timeout_s=0.1)
        if isinstance(item, SetCue):
            cues.append(item)
        if len(cues) == 5:
            break
    assert cues == [SetCue("heel_slide", "left"), SetCue(None), SetCue("knee_to_chest", "right"), SetCue(None),
                    SetCue("heel_slide", "left")]


def test_sensor_source_over_an_emulated_chip_counts_a_set_started_from_the_web(tmp_path, store):
    """The real bridge (driver, FIFO, stream) on an emulated MPU-6050 playing a labelled recording."""
    from backrep.recording import read_labels, read_recording
    from backrep.service import SensorSource
    from firmware_bridge import ScaledClock, emulated_bus_from_recording, open_stream

    path = make_recording(tmp_path / "heel_slide.csv", "heel_slide", reps=4, hold_s=0, top_deg=45, lead_s=10)
    # Real time 20x faster, so the set opens well before the first rep comes round.
    bus = emulated_bus_from_recording(read_recording(path), clock=ScaledClock(20.0))
    source = SensorSource(open_stream(bus=bus, rate_hz=100.0, calibration_dir=tmp_path / "cal"))
    hub = LiveHub()
    service = Service(source, hub, store)
    service.start()
    try:
        service.start_set("heel_slide", "left")
        assert hub.state()["sensor"]["state"] in {"calibrating", "reading"}
        wait_for(lambda: hub.state()["reps"] >= read_labels(path).reps, timeout_s=30)
        summary = service.stop_set()
    finally:
        service.stop()
    assert summary["reps"] == read_labels(path).reps
    assert hub.state()["sensor"]["state"] == "reading"


class RetractingEngine(FakeEngine):
    """Counts like FakeEngine, then takes the first rep back after the third, as the real
    engine does when the first turns out to have been an abandoned movement."""

    def update(self, t_s, accel_g, gyro_dps):
        events = super().update(t_s, accel_g, gyro_dps)
        if self.reps >= 3 and not getattr(self, "retracted", False) and any(
                e.kind == "rep_counted" for e in events):
            self.retracted = True
            self.reps -= 1
            self.holds.pop(0)
            events.append(Event("rep_retracted", float(t_s[-1]), rep=self.reps, retracted=1))
        return events


def test_a_retracted_rep_leaves_the_history_too(store):
    hub = LiveHub()
    source = ListSource([SetCue("generic", "left"), batch(0, 160), SetCue(None)])
    service = Service(source, hub, store, engine_factory=lambda ex: RetractingEngine(ex),
                      targets=lambda ex: (10, 0.0))
    service.start()
    try:
        wait_for(lambda: hub.state().get("last_set"))
    finally:
        service.stop()
    assert hub.state()["last_set"]["reps"] == 2
    (saved,) = store.sets()
    assert saved.reps == 2 and len(saved.holds) == 2


def test_a_sensor_plugged_in_after_start_up_is_taken_up():
    now = [0.0]
    tries = []
    sensor = ListSource([batch(0, 10)])

    def opener():
        tries.append(now[0])
        if len(tries) < 3:
            raise FileNotFoundError("no /dev/i2c-1")
        return sensor

    source = AwaitedSensorSource(opener, "no /dev/i2c-1", retry_s=5.0, clock=lambda: now[0], sleep=lambda s: None)
    assert source.status == {"state": "absent", "message": "no /dev/i2c-1"}
    for t_s in (1.0, 5.0, 7.0, 10.0, 14.0):
        now[0] = t_s
        assert source.read(timeout_s=0.1) is None
    assert tries == [5.0, 10.0] and source.status["state"] == "absent"
    now[0] = 15.0
    got = source.read(timeout_s=0.1)
    assert tries == [5.0, 10.0, 15.0] and got is not None and len(got.t_s) == 10
    assert source.status["state"] == "reading"
    assert [c["state"] for c in source.status_changes()] == ["reading"]
    source.close()
    assert sensor.closed
