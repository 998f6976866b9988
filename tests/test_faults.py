"""Issue 5's faults, each injected end to end through the live service.

The sensor runs on an emulated chip over a fake bus with a simulated clock, so a minute of
exercise plays in a second of CPU and every "within a second" below is measured on that clock.
The service runs its real loop thread with its real engine and store; what the dashboard would
show is read from the hub it publishes to (the one ``/api/state`` serves) and from
``/api/state`` itself through Flask's test client.
"""
from __future__ import annotations

import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from backrep.live import LiveHub
from backrep.recording import read_labels, read_recording
from backrep.service import SensorSource, Service, SetCue
from backrep.store import Store
from firmware_bridge import Faults, SimulatedClock, StreamSettings, emulated_bus_from_recording, open_stream
from firmware_bridge import mpu6050 as M
from tests.labelled import SIMULATED_DIR
from tests.test_service import make_recording, wait_for
from tests.test_web_serve import free_port, get_json

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "backrep.service"


# -- the harness --------------------------------------------------------------------------------

class TimedHub(LiveHub):
    """The service's hub, noting each published state with the simulated time it went out."""

    def __init__(self, clock) -> None:
        super().__init__()
        self.clock = clock
        self.timeline: list[tuple[float, str, int]] = []

    def set_state(self, state: dict) -> int:
        self.timeline.append((self.clock.monotonic(), (state.get("sensor") or {}).get("state"), state.get("reps")))
        return super().set_state(state)

    def first(self, sensor_state: str, after_s: float = 0.0) -> float | None:
        return next((t for t, s, _ in self.timeline if s == sensor_state and t >= after_s), None)

    def states_after(self, after_s: float) -> list[str]:
        out: list[str] = []
        for t, s, _ in self.timeline:
            if t >= after_s and (not out or out[-1] != s):
                out.append(s)
        return out


class EmulatedSet(SensorSource):
    """The real sensor adapter over an emulated chip, playing one set: it opens the set (as the
    web's start button does, through the same ``_open_set``), plays the recording to its end on
    the simulated clock, closes the set and then idles."""

    def __init__(self, stream, clock, exercise: str, end_s: float, leg: str = "right") -> None:
        super().__init__(stream)
        self.clock = clock
        self.end_s = end_s
        self.cues = [SetCue(exercise, leg)]
        self.done = threading.Event()
        self.batches = []
        self._actions: list[tuple[float, object]] = []

    def at(self, t_s: float, action) -> None:
        """Run ``action`` on the loop's thread once the simulated clock passes ``t_s``."""
        self._actions.append((t_s, action))
        self._actions.sort(key=lambda a: a[0])

    def read(self, timeout_s: float = 1.0):
        while self._actions and self.clock.monotonic() >= self._actions[0][0]:
            self._actions.pop(0)[1]()
        if self.cues:
            return self.cues.pop(0)
        if self.done.is_set():
            time.sleep(0.005)
            return None
        if self.clock.monotonic() >= self.end_s:
            self.done.set()
            return SetCue(None)
        batch = super().read(timeout_s)
        if batch is not None:
            self.batches.append(batch)
        return batch


class Played:
    """One labelled recording played through the emulated chip and the whole service."""

    def __init__(self, path: Path, store: Store, faults: Faults | None = None, *, chip: str = "mpu6050",
                 settings: StreamSettings | None = None, exercise: str | None = None) -> None:
        self.path = path
        self.labels = read_labels(path)
        self.recording = read_recording(path)
        self.clock = SimulatedClock(sleep_jitter_s=0.002)
        self.bus = emulated_bus_from_recording(self.recording, chip=chip, clock=self.clock, faults=faults)
        self.chip = next(iter(self.bus.chips.values()))
        self.stream = open_stream(self.bus, rate_hz=self.recording.rate_hz, clock=self.clock,
                                  settings=settings or StreamSettings())
        self.hub = TimedHub(self.clock)
        self.store = store
        self.source = EmulatedSet(self.stream, self.clock, exercise or self.labels.exercise,
                                  end_s=self.chip.start_s + self.recording.t_s[-1] - self.recording.t_s[0])
        self.service = Service(self.source, self.hub, store)

    def run(self, timeout_s: float = 30.0) -> "Played":
        self.service.start()
        try:
            assert self.source.done.wait(timeout_s), "the set did not play to its end"
            wait_for(lambda: self.hub.state().get("last_set"))
        finally:
            self.service.stop()
        assert self.service.error is None
        return self

    @property
    def summary(self) -> dict:
        return self.hub.state()["last_set"]

    def samples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = self.source.batches
        return (np.concatenate([x.t_s for x in b]), np.concatenate([x.accel_g for x in b]),
                np.concatenate([x.gyro_dps for x in b]))


def api_state(hub: LiveHub, store: Store) -> dict:
    from web import create_app

    app = create_app(live=hub, store=store, controller=None)
    return app.test_client().get("/api/state").get_json()


@pytest.fixture
def store(tmp_path):
    s = Store.in_dir(tmp_path / "data")
    yield s
    s.close()


def library(name: str) -> Path:
    return SIMULATED_DIR / f"{name}.csv"


def in_rest(labels, start_s: float, length_s: float) -> bool:
    return all(end <= start_s or start_s + length_s <= begin for begin, end in labels.rep_spans)


# -- sensor unplugged mid-set ---------------------------------------------------------------------

def test_an_unplugged_sensor_shows_lost_within_a_second_keeps_the_count_and_resumes(tmp_path, store):
    # four heel slides with 16 s rests; the cable comes out 3 s into the rest after rep 2, for 10 s
    path = make_recording(tmp_path / "heel_slide.csv", "heel_slide", reps=4, hold_s=0, top_deg=45,
                          rest_s=16.0, lead_s=5.0, side="right")
    labels = read_labels(path)
    unplug_s = labels.rep_spans[1][1] + 1.5
    assert in_rest(labels, unplug_s, 10.0 + 2.5)       # the outage and the reconnect back-off
    played = Played(path, store, Faults(disconnects=[(unplug_s, 10.0)])).run()

    unplugged_at = played.chip.start_s + unplug_s
    lost_at = played.hub.first("lost", after_s=unplugged_at)
    assert lost_at is not None and lost_at - unplugged_at <= 1.0
    # lost (with "reconnecting" during each attempt) until the sensor is back, then reading
    after = played.hub.states_after(unplugged_at)
    back = after.index("reading", 1)
    assert set(after[1:back]) <= {"lost", "reconnecting"} and after[0] in ("reading", "lost")
    back_at = played.hub.first("reading", after_s=lost_at)
    assert 10.0 <= back_at - unplugged_at <= 10.0 + 2.5          # the outage plus one back-off
    # the set kept its count while the sensor was away...
    away = [reps for t, state, reps in played.hub.timeline if lost_at <= t < back_at]
    assert away and set(away) == {2}
    # ...and counting resumed: reps 3 and 4 came after the reconnect
    assert played.summary["reps"] == labels.reps == 4
    (saved,) = store.sets()
    assert saved.reps == 4 and saved.status == "closed"
    assert all(t > labels.rep_spans[1][1] + 10 for t in saved.rep_times_s[2:])
    assert api_state(played.hub, store)["sensor"]["state"] == "reading"


# -- bus errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["heel_slide-01-typical", "knee_to_chest-01-typical"])
def test_bus_errors_at_one_read_in_a_hundred_leave_the_count_exact(store, name):
    played = Played(library(name), store, Faults(error_rate=0.01, seed=5))
    counting = CountingBus.under(played.stream)
    played.run()
    assert 0.005 < counting.errors / counting.calls < 0.02       # about one transfer in a hundred failed
    assert played.summary["reps"] == played.labels.reps
    assert len(played.summary["holds"]) == len(played.labels.holds_s)
    assert played.stream.status.lost_samples_total == 0
    assert "lost" not in {s for _, s, _ in played.hub.timeline}


# -- FIFO overflow from a stalled reader -------------------------------------------------------

def test_a_fifo_overflow_leaves_a_gap_invents_nothing_and_keeps_the_count(store):
    path = library("heel_slide-01-typical")
    labels = read_labels(path)
    # the host stalls for 1.5 s in the rest after rep 5: the MPU-6050's FIFO holds 0.85 s
    stall_at = labels.rep_spans[4][1] + 0.5
    assert in_rest(labels, stall_at, 1.5 + 0.5)
    played = Played(path, store, Faults(stalls=[(stall_at, 1.5)])).run()
    assert played.chip.overflows >= 1

    t_s, accel_g, _ = played.samples()
    steps = np.diff(t_s)
    period = 1 / played.stream.config.rate_hz
    assert np.all(steps > 0.5 * period)                         # no sample twice, none out of order
    (gap,) = np.flatnonzero(steps > 3 * period)                 # one gap, where the stall was
    assert t_s[gap] <= stall_at + 0.1 and t_s[gap + 1] >= stall_at + 1.4
    lost = sum(b.lost_samples for b in played.source.batches)
    assert abs(lost - (round(steps[gap] / period) - 1)) <= 2    # the gap is the loss reported
    # every sample delivered is one the chip really made from the recording, in order (up to
    # the recording's end: the last read may bring a few made after it, of the last pose)
    per_lsb = played.stream.config.accel_g_per_lsb
    made = np.round(played.recording.accel_g / per_lsb).astype(np.int64)
    got = np.round(accel_g[t_s < played.source.end_s - 0.5 * period] / per_lsb).astype(np.int64)
    where: dict[tuple, list[int]] = {}
    for i, row in enumerate(map(tuple, made)):
        where.setdefault(row, []).append(i)
    index = -1
    for row in map(tuple, got):
        later = [i for i in where.get(row, []) if i > index]
        assert later, f"sample {row} is not one the chip made after sample {index}"
        index = later[0]
    # the gap fell in a rest: the count is the label's
    assert played.summary["reps"] == labels.reps


# -- a brown-out that puts the chip back to sleep ----------------------------------------------

class CountingBus:
    """Counts the transfers a bus carries for the driver and the errors it raises."""

    def __init__(self, bus) -> None:
        self._bus = bus
        self.calls = 0
        self.errors = 0

    @classmethod
    def under(cls, stream) -> "CountingBus":
        """Put one between ``stream``'s shared bus and the emulated bus beneath it."""
        counting = cls(stream.bus.bus)
        stream.bus.bus = counting
        return counting

    def __getattr__(self, name):
        attr = getattr(self._bus, name)
        if not callable(attr) or name in ("close",):
            return attr

        def call(*args, **kwargs):
            self.calls += 1
            try:
                return attr(*args, **kwargs)
            except OSError:
                self.errors += 1
                raise
        return call


def test_a_browned_out_chip_reads_plausible_constant_data_without_a_bus_error():
    recording = read_recording(library("heel_slide-01-typical"))
    clock = SimulatedClock()
    bus = emulated_bus_from_recording(recording, clock=clock, faults=Faults(brownouts=[5.0]))
    stream = open_stream(bus, rate_hz=100.0, clock=clock, settings=StreamSettings(calibrate=False))
    while clock.monotonic() < 4.9:
        stream.read(timeout_s=0.05)
    clock.advance(0.2)                   # the supply dips at 5.0 s; nobody has read since
    readings = []
    for _ in range(3):
        data = bus.read_i2c_block_data(0x68, M.ACCEL_XOUT_H, 14)     # no error from the bus
        readings.append(np.frombuffer(bytes(data), dtype=">i2")[:3] / 8192)
        clock.advance(0.1)
    assert all(np.array_equal(r, readings[0]) for r in readings)    # constant...
    assert 0.9 < np.linalg.norm(readings[0]) < 1.1                   # ...and plausible: about 1 g
    assert bus.read_byte_data(0x68, M.PWR_MGMT_1) & M.PWR_MGMT_1_SLEEP   # asleep: the tell
    stream.close()


def test_a_brownout_mid_set_is_noticed_the_chip_reinitialised_and_the_count_kept(store):
    path = library("heel_slide-01-typical")
    labels = read_labels(path)
    brownout_s = labels.rep_spans[5][1] + 0.5
    assert in_rest(labels, brownout_s, 1.0)
    played = Played(path, store, Faults(brownouts=[brownout_s]))
    counting = CountingBus.under(played.stream)
    played.run()

    assert counting.calls > 1000 and counting.errors == 0     # the bus never complained
    assert played.chip.regs[M.PWR_MGMT_1] == M.PWR_MGMT_1_CLKSEL_PLL_XGYRO     # awake again
    # reading, then reconnecting (or lost) while the chip is set up again, then reading
    before = [s for t, s, _ in played.hub.timeline if t < brownout_s]
    after = played.hub.states_after(brownout_s)
    assert before[-1] == "reading" and after[-1] == "reading"
    assert set(after[:-1]) and set(after[:-1]) <= {"reconnecting", "lost"}
    noticed_at = next(t for t, s, _ in played.hub.timeline if t >= brownout_s and s in ("reconnecting", "lost"))
    assert noticed_at - brownout_s <= 1.0
    assert played.stream.status.lost_samples_total < 0.6 * played.stream.config.rate_hz
    assert played.summary["reps"] == labels.reps


# -- the history's disk full or read-only ------------------------------------------------------

class FullDisk:
    """The store's SQLite connection, with writes refused while ``full`` (as SQLITE_FULL does)."""

    def __init__(self, db) -> None:
        self._db = db
        self.full = False
        self.refused = 0

    def execute(self, sql, *args):
        if self.full and sql.split()[0].upper() in ("BEGIN", "INSERT", "UPDATE", "DELETE"):
            self.refused += 1
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._db, name)


def _history_timeline(played):
    out = []
    original = played.hub.set_state

    def noting(state):
        out.append((played.clock.monotonic(), state["reps"], dict(state.get("history") or {})))
        return original(state)
    played.hub.set_state = noting
    return out


@pytest.mark.parametrize("how", ["disk full", "read-only"])
def test_a_full_or_read_only_disk_keeps_the_live_count_and_says_history_is_not_saved(store, how):
    path = library("heel_slide-01-typical")
    labels = read_labels(path)
    fails_s, recovers_s = labels.rep_spans[2][1] + 0.5, labels.rep_spans[6][1] + 0.5
    played = Played(path, store)
    history = _history_timeline(played)
    disk = FullDisk(store._db)
    store._db = disk

    def fail(on: bool):
        if how == "disk full":
            disk.full = on
        else:
            with store._lock:
                disk._db.execute(f"PRAGMA query_only = {int(on)}")
    played.source.at(fails_s, lambda: fail(True))
    played.source.at(recovers_s, lambda: fail(False))
    mid = {}
    played.source.at((fails_s + recovers_s) / 2, lambda: mid.update(api_state(played.hub, store)))
    played.run()

    assert played.service.error is None                          # nothing crashed
    assert played.summary["reps"] == labels.reps                  # the live count carried on
    # while the disk refused writes, the state said so, with the reason
    refused = [h for t, _, h in history if fails_s + 6 < t < recovers_s]
    assert refused and all(h.get("saving") is False for h in refused)
    assert ("full" if how == "disk full" else "readonly") in refused[-1]["error"].replace("read-only", "readonly")
    assert mid["history"]["saving"] is False and mid["reps"] >= 3
    # saved again once the disk recovered; the reps made meanwhile are the ones missing
    assert history[-1][2]["saving"] is True
    (saved,) = store.sets()
    in_gap = sum(1 for begin, end in labels.rep_spans if fails_s < end < recovers_s)
    assert saved.reps == labels.reps - in_gap and saved.status == "closed"


def test_a_set_started_on_a_full_disk_is_counted_live_and_leaves_nothing_half_made(store):
    path = library("heel_slide-01-typical")
    labels = read_labels(path)
    played = Played(path, store)
    history = _history_timeline(played)
    disk = FullDisk(store._db)
    store._db = disk
    disk.full = True                                    # full before the set even starts
    played.source.at(labels.rep_spans[3][1] + 0.5, lambda: setattr(disk, "full", False))
    played.run()

    assert played.service.error is None
    assert played.summary["reps"] == labels.reps and played.summary["saved"] is False
    # and the dashboard's summary reads "10 / 10", not "10 / undefined"
    assert played.summary["target_reps"] == 10 and played.summary["hold_target_s"] == 0.0
    # the set itself could not be saved, so none of its reps were: no rep without a set
    assert store.sets() == []
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM reps").fetchone() == (0,)
    assert all(h["saving"] is False for _, _, h in history[1:])   # and the state kept saying so


# -- SIGKILL mid-set, then a restart on the same data ----------------------------------------

def _serve(path: Path, data_dir: Path, port: int, speed: float, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backrep", "serve", "--replay", str(path), "--exercise",
                             read_labels(path).exercise, "--speed", str(speed), "--data-dir", str(data_dir),
                             "--port", str(port), "--host", "127.0.0.1"],
                            env=env or {**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _sessions(port: int) -> list[dict]:
    try:
        return get_json(f"http://127.0.0.1:{port}/api/sessions")["sets"]
    except OSError:
        return []


def test_sigkill_mid_set_loses_nothing_counted_and_the_set_shows_as_interrupted(tmp_path):
    path = library("knee_to_chest-01-typical")      # 5 reps, each with a 20 s hold
    data_dir = tmp_path / "data"
    port = free_port()
    first = _serve(path, data_dir, port, speed=20.0)
    try:
        seen = wait_for(lambda: next((s for s in _sessions(port) if s["reps"] >= 2), None), timeout_s=30)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=5) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert seen["status"] == "open" and seen["reps"] < read_labels(path).reps    # killed mid-set

    port = free_port()
    second = _serve(path, data_dir, port, speed=1.0)
    try:
        after = wait_for(lambda: next((s for s in _sessions(port) if s["id"] == seen["id"]), None), timeout_s=15)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=5) == 0
    assert after["status"] == "interrupted"
    assert after["rep_times_s"][:len(seen["rep_times_s"])] == seen["rep_times_s"]
    assert after["holds"][:len(seen["holds"])] == seen["holds"]
    assert after["reps"] >= seen["reps"] >= 2


# -- the watchdog ------------------------------------------------------------------------------

HUNG_SERVE = """
import sys, threading, time
from argparse import Namespace
from backrep import serve

class HungSource:
    '''A sensor whose read never returns after a while: a driver stuck in the kernel.'''
    mode = "sensor"
    status = {"state": "reading"}
    reads = 0

    def read(self, timeout_s=1.0):
        self.reads += 1
        if self.reads == 60:
            with open(sys.argv[2], "w") as out:
                out.write(repr(time.monotonic()))
            threading.Event().wait()
        time.sleep(0.02)
        return None

    def close(self):
        pass

serve.build_source = lambda args, config, data_dir=None: HungSource()
sys.exit(serve.run(Namespace(config=None, host="127.0.0.1", port=int(sys.argv[1]), demo=False, replay=None,
                             exercise=None, speed=1.0, data_dir=sys.argv[3])))
"""


def _unit_settings() -> dict[str, str]:
    return dict(line.strip().split("=", 1) for line in UNIT.read_text().splitlines()
                if "=" in line and not line.lstrip().startswith("#"))


def test_a_hung_sensor_loop_stops_the_watchdog_pings_so_systemd_restarts_it(tmp_path):
    settings = _unit_settings()
    assert settings["Restart"] in ("on-failure", "always") and float(settings["WatchdogSec"]) > 0
    # the watchdog's timeout counts as a failure for Restart=on-failure; with it, systemd
    # kills a service that stopped pinging and starts it again
    watchdog_s = 1.0
    sock_path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.05)
    script, marker, port = tmp_path / "hung.py", tmp_path / "hung-at", free_port()
    script.write_text(HUNG_SERVE)
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": str(int(watchdog_s * 1e6)),
           "PYTHONPATH": str(ROOT)}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([sys.executable, str(script), str(port), str(marker), str(tmp_path / "data")],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
    pings: list[float] = []
    try:
        deadline = time.monotonic() + 20
        hung_at = None
        while time.monotonic() < deadline:
            try:
                if sock.recv(4096) == b"WATCHDOG=1":
                    pings.append(time.monotonic())
            except socket.timeout:
                pass
            if hung_at is None and marker.exists() and marker.read_text():
                hung_at = float(marker.read_text())
            if hung_at is not None and time.monotonic() > hung_at + 3 * watchdog_s:
                break
        assert hung_at is not None, "the sensor loop never hung"
        assert proc.poll() is None                                   # the process itself looks fine...
        assert get_json(f"http://127.0.0.1:{port}/api/state")["sensor"]["state"] == "reading"
        assert [p for p in pings if p < hung_at], "no pings while the loop ran"
        # ...but the pings stopped within one watchdog period of the hang, so systemd acts
        assert not [p for p in pings if p > hung_at + watchdog_s]
        proc.send_signal(signal.SIGABRT)                              # what systemd sends then
        assert proc.wait(timeout=5) != 0                              # a failure: Restart=on-failure restarts it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()


@pytest.mark.browser
def test_the_dashboard_says_calmly_when_history_is_not_being_saved(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from backrep.service import programme
    from tests.test_dashboard_browser import CHROMIUM_ARGS, TABLET, StillSource, _watch_errors
    from tests.serving import served
    from web import create_app

    store = Store.in_dir(tmp_path)
    disk = FullDisk(store._db)
    store._db = disk
    hub = LiveHub()
    service = Service(StillSource(), hub, store)
    app = create_app({"HEARTBEAT_S": 1.0}, live=hub, store=store, controller=service, programme=programme())
    service.start()
    with served(app) as base:
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=TABLET)
                errors = _watch_errors(page)
                page.goto(base + "/")
                banner = page.locator("#history-warning")
                expect(banner).to_be_hidden()
                disk.full = True
                service.start_set("heel_slide", "left")            # the set cannot be saved...
                expect(page.locator("#live-exercise")).to_have_text("Heel slide")   # ...but it runs
                expect(banner).to_be_visible()
                expect(banner).to_have_text("History is not being saved right now (database or disk is full). "
                                            "Counting carries on.")
                # calm: a note, much smaller than the count it sits above
                size = "e => parseFloat(getComputedStyle(e).fontSize)"
                assert banner.evaluate(size) * 3 < page.locator("#reps").evaluate(size)
                disk.full = False                                   # the disk has room again
                service.stop_set()
                service.start_set("heel_slide", "left")
                expect(banner).to_be_hidden()
                assert errors == []
                browser.close()
        finally:
            hub.close_all()
            service.stop()
    store.close()
