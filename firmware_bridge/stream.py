"""The stream: one sensor's samples, timestamped, calibrated, and kept alive through faults.

Time: each sample's timestamp comes from its place in the FIFO stream (sample n sits n sample
periods after sample 0). The host clock is used only to estimate the chip's true rate (its
oscillator is off by a percent or two) and where sample 0 sits; it never stamps a sample, so
Linux scheduling jitter never reaches the data.

Faults: a failed transfer is retried; after ``retries`` failures in a row the sensor is
``lost`` and the chip is re-initialised with back-off until it answers (``reconnecting``
during each attempt, ``lost`` again while waiting for the next).
Samples the chip made while nobody could read them are counted as lost and appear as a gap in
``t_s``: the index of the first sample after a restart comes from the host time of the restart,
so nothing is invented and nothing repeats.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from firmware_bridge.calibration import CalibrationStore, GyroBias
from firmware_bridge.clock import Clock, MonotonicClock
from firmware_bridge.errors import BridgeError, SensorNotFoundError, UnsupportedSensorError
from firmware_bridge.i2c import SharedBus
from firmware_bridge.probe import find_sensor
from firmware_bridge.records import ChipConfig, FifoRead, SampleBatch, SensorStatus

log = logging.getLogger(__name__)

Listener = Callable[[SensorStatus], None]


@dataclass(frozen=True)
class StreamSettings:
    """How the stream behaves; defaults suit a thigh sensor at 50-200 Hz."""

    accel_range_g: float = 4            # ±4 g: a kick never clips, still 0.12 mg a count
    gyro_range_dps: float = 500         # ±500 °/s: fast leg swings stay in range
    calibrate: bool = True              # measure the gyro bias at start-up
    calibration_s: float = 1.0          # how long the sensor must lie still for that
    rest_gyro_std_dps: float = 0.6      # "still": gyro noise below this on every axis...
    rest_accel_std_g: float = 0.01      # ...and accel noise below this
    retries: int = 3                    # failed transfers in a row before the sensor is lost
    backoff_initial_s: float = 0.05     # first wait before re-initialising
    backoff_max_s: float = 2.0          # waits double up to this
    stuck_after_s: float = 1.0          # identical samples this long: the sensor is stuck
    asleep_check_s: float = 0.25        # no samples this long: ask whether the chip still runs
    rate_window_s: float = 1.0          # baseline before the host clock corrects the rate
    rate_tolerance: float = 0.1         # a rate estimate further than this from nominal is ignored
    poll_min_s: float = 0.005
    poll_max_s: float = 0.1


class SensorStream:
    """Use ``open_stream``; this is what it returns."""

    def __init__(self, bus: SharedBus, driver: Any, clock: Clock, rate_hz: float,
                 store: CalibrationStore, settings: StreamSettings) -> None:
        self.bus = bus
        self.driver = driver
        self.clock = clock
        self.requested_rate_hz = rate_hz
        self.store = store
        self.settings = settings
        self._listeners: list[Listener] = []
        self._closed = False
        self.config: ChipConfig | None = None
        self._status = SensorStatus(state="calibrating" if settings.calibrate else "reading",
                                    sensor=driver.sensor, address=driver.address, rate_hz=rate_hz,
                                    bus=bus.name)
        self._next_index = 0
        self._anchor_n = 0
        self._anchor_t = 0.0
        self._rate_hz = rate_hz
        self._segment_h = 0.0
        self._segment_count = 0
        self._pending_lost = 0
        self._lost_total = 0
        self._samples_total = 0
        self._errors = 0
        self._backoff_s = settings.backoff_initial_s
        self._next_attempt_h = 0.0
        self._last_data_h = 0.0
        self._last_row: np.ndarray | None = None
        self._run_length = 0               # identical samples in a row so far
        self._calibration: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self._bias = np.zeros(3)
        self._started = False
        self._next_poll_h = 0.0
        self._rate_ref: tuple[float, int] | None = None
        self._failed_since_data = False     # a transfer failed since the last samples came in

    # --- public -------------------------------------------------------------------------------
    @property
    def status(self) -> SensorStatus:
        return self._status

    @property
    def rate_estimate_hz(self) -> float:
        """The chip's rate as the host clock sees it; timestamps use this."""
        return self._rate_hz

    def add_listener(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def read(self, timeout_s: float = 1.0) -> SampleBatch | None:
        """The samples that arrived since the last call, waiting up to ``timeout_s`` for some.
        ``None`` if there were none; never raises for a bus fault."""
        if self._closed:
            raise BridgeError(f"I2C bus {self.bus.name}, address 0x{self.driver.address:02x}: stream is closed")
        now = self.clock.monotonic()
        deadline = now + max(0.0, timeout_s)
        if self._status.state not in ("lost", "reconnecting") and now < self._next_poll_h:
            # called again straight after a batch: let the FIFO fill instead of asking it twice
            self.clock.sleep(min(self._next_poll_h, deadline) - now)
        while True:
            batch = self._step()
            now = self.clock.monotonic()
            if batch is not None:
                self._next_poll_h = now + self._wait_s(now)
                return batch
            if now >= deadline:
                return None
            self.clock.sleep(min(self._wait_s(now), deadline - now))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.bus.close()

    def __enter__(self) -> "SensorStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- start and restart --------------------------------------------------------------------
    def start(self) -> None:
        """First initialisation: errors here reach the caller (nothing to keep alive yet)."""
        self.config = self.driver.initialise(self.requested_rate_hz)
        self._rate_hz = self.config.rate_hz
        h = self.clock.monotonic()
        self._anchor_n, self._anchor_t = 0, h + 0.5 / self._rate_hz
        self._segment_h, self._segment_count, self._last_data_h = h, 0, h
        self._rate_ref = None
        self._started = True
        remembered = self.store.load(self.config.sensor, self.bus.name, self.driver.address)
        if not self.settings.calibrate:
            self._apply_bias(remembered, "remembered" if remembered else "none")
        self._set(state="calibrating" if self.settings.calibrate else "reading",
                  sensor=self.config.sensor, rate_hz=self.config.rate_hz,
                  accel_range_g=self.config.accel_range_g, gyro_range_dps=self.config.gyro_range_dps,
                  message="")

    def _restart_segment(self, h: float) -> None:
        """The FIFO starts afresh at host time ``h``: count what the chip made meanwhile as lost."""
        predicted = self._anchor_n + (h - self._anchor_t) * self._rate_hz
        first = max(self._next_index, int(np.floor(predicted)) + 1)
        self._lose(first - self._next_index)
        self._segment_h, self._segment_count, self._last_data_h = h, 0, h
        self._rate_ref = None

    def _lose(self, samples: int) -> None:
        if samples > 0:
            self._next_index += samples
            self._pending_lost += samples
            self._lost_total += samples

    def _reinitialise(self, after: str | None = None) -> bool:
        """Initialise the chip again; ``after`` is the state to hold on success (default:
        reading, or calibrating if that was not finished)."""
        if after is None:
            self._set(state="reconnecting")
        try:
            if after is None and self._fifo_survived():
                # the chip kept power and its configuration: the FIFO holds what was made
                # meanwhile, and an overflow, if any, will be seen and counted on the next read
                self._errors = 0
                self._backoff_s = self.settings.backoff_initial_s
                self._set(state="calibrating" if self._calibrating() else "reading", message="")
                return True
            self.driver.initialise(self.requested_rate_hz)
        except (UnsupportedSensorError, OSError) as exc:
            self._schedule_retry(str(exc))
            return False
        self._restart_segment(self.clock.monotonic())
        self._errors = 0
        if after is None:
            self._backoff_s = self.settings.backoff_initial_s
            self._set(state="calibrating" if self._calibrating() else "reading", message="")
        return True

    def _fifo_survived(self) -> bool:
        """True when the chip answers and still runs as configured (it kept power): its FIFO then
        holds what was made meanwhile, and if it overflowed the flag says so on the next read."""
        return bool(self.driver.is_running())

    def _schedule_retry(self, why: str) -> None:
        now = self.clock.monotonic()
        self._next_attempt_h = now + self._backoff_s
        # between attempts the sensor is "lost" again: "reconnecting" lasts only as long as an
        # attempt, so a sensor that stays away is shown as lost, not as about to come back
        state = "lost" if self._status.state == "reconnecting" else self._status.state
        self._set(state=state, message=f"{why}; next try in {self._backoff_s:.2f} s")
        self._backoff_s = min(self.settings.backoff_max_s, self._backoff_s * 2)

    # --- the loop -----------------------------------------------------------------------------
    def _wait_s(self, now: float) -> float:
        if self._status.state in ("lost", "reconnecting"):
            return max(self.settings.poll_min_s, self._next_attempt_h - now)
        if self._errors:
            return self.settings.poll_min_s
        capacity = self.config.fifo_capacity_samples if self.config else 80
        return min(self.settings.poll_max_s, max(self.settings.poll_min_s, 0.25 * capacity / self._rate_hz))

    def _step(self) -> SampleBatch | None:
        if not self._started:
            raise BridgeError("stream not started")
        state = self._status.state
        if state in ("lost", "reconnecting"):
            if self.clock.monotonic() >= self._next_attempt_h:
                self._reinitialise()
            return None
        if state == "stuck" and self.clock.monotonic() >= self._next_attempt_h:
            # a stuck chip is re-initialised with back-off; it stays "stuck" until data moves
            if self._reinitialise(after="stuck"):
                self._next_attempt_h = self.clock.monotonic() + self._backoff_s
                self._backoff_s = min(self.settings.backoff_max_s, self._backoff_s * 2)
        try:
            h0 = self.clock.monotonic()
            fifo = self.driver.read_fifo()
            h = self.clock.monotonic()
            if fifo.overflowed:
                self._restart_segment(h)
                return None
            if not len(fifo.raw) and h - self._last_data_h > self.settings.asleep_check_s:
                if not self.driver.is_running():
                    log.warning("sensor 0x%02x on bus %s lost its configuration (brown-out?); "
                                "re-initialising", self.driver.address, self.bus.name)
                    self._set(message="the chip lost its configuration (brown-out?)")
                    self._reinitialise()
                    return None
                self._last_data_h = h
        except OSError as exc:
            self._errors += 1
            self._failed_since_data = True
            if self._errors > self.settings.retries:
                log.warning("%s", exc)
                self._set(state="lost", message=str(exc))
                self._next_attempt_h = self.clock.monotonic() + self._backoff_s
            return None
        self._errors = 0
        return self._accept(fifo, h0, h)

    def _accept(self, fifo: FifoRead, h0: float, h: float) -> SampleBatch | None:
        self._lose(fifo.dropped_samples)
        self._segment_count += fifo.dropped_samples
        raw = fifo.raw
        n = len(raw)
        if not n:
            return None
        popped = 0
        if self._failed_since_data:
            self._failed_since_data = False
            popped = self._popped_unseen(h0, n)
            self._lose_in_place(popped)
        self._last_data_h = h
        self._update_timeline(h0, fifo.counted_at_s or h, n + popped)
        self._segment_count += n + popped
        index = np.arange(self._next_index, self._next_index + n)
        index[min(fifo.carried_samples, n):] += popped      # the gap is where they were popped
        self._next_index += n + popped
        t_s = self._line_s(index)
        keep = self._not_stuck(raw)
        if not keep.all():
            self._lose_in_place(int((~keep).sum()))
            t_s, raw = t_s[keep], raw[keep]
        accel_g = raw[:, :3] * self.config.accel_g_per_lsb
        gyro_dps = raw[:, 3:] * self.config.gyro_dps_per_lsb
        if self._calibrating():
            return self._calibrate(t_s, accel_g, gyro_dps)
        return self._emit(t_s, accel_g, gyro_dps - self._bias)

    def _lose_in_place(self, samples: int) -> None:
        self._pending_lost += samples
        self._lost_total += samples

    def _emit(self, t_s: np.ndarray, accel_g: np.ndarray, gyro_dps: np.ndarray) -> SampleBatch | None:
        if not len(t_s):
            return None
        lost, self._pending_lost = self._pending_lost, 0
        self._samples_total += len(t_s)
        self._set(samples_total=self._samples_total, lost_samples_total=self._lost_total,
                  measured_rate_hz=round(self._rate_hz, 3), quiet=True)
        return SampleBatch(t_s, accel_g, gyro_dps, lost)

    def _line_s(self, index):
        """When the time line says sample number ``index`` (an int or an array) was made."""
        return self._anchor_t + (index - self._anchor_n) / self._rate_hz

    def _popped_unseen(self, h0: float, arrived: int) -> int:
        """Samples a failed transfer took from the FIFO before it failed: a fault part way
        through a burst, after the chip had clocked out whole samples that never reached us (a
        part of one is caught by the driver). The newest sample of a read that began at ``h0``
        was made no earlier than a period before it; the line, counting on from the last sample
        stamped, puts it earlier by as many periods as samples went missing. The fewest that
        bring it into that window (a quarter period allowed for the line's own error) are
        counted: one short at most, which the line's nudges then take up."""
        if self._next_index == 0:
            return 0
        period_s = 1.0 / self._rate_hz
        behind = (h0 - period_s - self._line_s(self._next_index - 1 + arrived)) / period_s
        return max(0, math.ceil(behind - 0.25))

    def _update_timeline(self, h0: float, counted_h: float, arrived: int) -> None:
        """Keep the sample-number-to-time line true to the host clock, without ever letting a
        host timestamp onto a sample.

        Rate: samples counted between two reads at least ``rate_window_s`` apart, timed by when
        each count was taken (``counted_h``). Offset: a read that started at ``h0`` and had its
        count by ``counted_h`` proves the newest sample it got was made in (h0 - one period,
        counted_h]; when the line puts it outside, the line is nudged towards that
        window (by at most 10 % of a period a read, so steps stay even). Reads land at varied
        phases of the chip's ticks, so the windows close in on the truth.
        """
        count = self._segment_count + arrived
        rate = self._rate_hz
        if self._rate_ref is None:
            self._rate_ref = (counted_h, count)
        elif counted_h - self._rate_ref[0] >= self.settings.rate_window_s:
            measured = (count - self._rate_ref[1]) / (counted_h - self._rate_ref[0])
            if abs(measured / self.config.rate_hz - 1) <= self.settings.rate_tolerance:
                rate = measured
        last = self._next_index - 1
        t_last = self._line_s(last)
        t_newest = t_last + arrived / rate
        low, high = h0 - 1.0 / rate, counted_h
        shift = min(0.0, high - t_newest) or max(0.0, low - t_newest)
        if last < 0:   # nothing stamped yet: the first read may place the line outright
            self._anchor_t += shift
            self._rate_hz = rate
            return
        limit = 0.1 / rate
        self._anchor_n, self._anchor_t = last, t_last + float(np.clip(shift, -limit, limit))
        self._rate_hz = rate

    def _not_stuck(self, raw: np.ndarray) -> np.ndarray:
        """Samples to keep: a run of identical samples longer than ``stuck_after_s`` is not data."""
        limit = max(2, int(round(self.settings.stuck_after_s * self.config.rate_hz)))
        keep = np.ones(len(raw), dtype=bool)
        previous = self._last_row
        run = self._run_length
        for k, row in enumerate(raw):
            run = run + 1 if previous is not None and np.array_equal(row, previous) else 1
            previous = row
            if run > limit:
                keep[k] = False
        self._last_row, self._run_length = previous.copy(), run
        if run > limit and self._status.state != "stuck":
            self._set(state="stuck", message=f"identical samples for {run / self.config.rate_hz:.1f} s")
            self._backoff_s = max(self._backoff_s, self.settings.stuck_after_s)
            self._next_attempt_h = self.clock.monotonic() + self._backoff_s
        elif run <= limit and self._status.state == "stuck":
            self._set(state="calibrating" if self._calibrating() else "reading", message="")
            self._backoff_s = self.settings.backoff_initial_s
        return keep

    # --- calibration --------------------------------------------------------------------------
    def _calibrating(self) -> bool:
        return self.settings.calibrate and self._status.calibration == "pending"

    def _calibrate(self, t_s, accel_g, gyro_dps) -> SampleBatch | None:
        lost, self._pending_lost = self._pending_lost, 0
        self._calibration.append((t_s, accel_g, gyro_dps, lost))
        collected = sum(len(c[0]) for c in self._calibration)
        if collected < self.settings.calibration_s * self.config.rate_hz:
            return None
        t_all = np.concatenate([c[0] for c in self._calibration])
        accel_all = np.concatenate([c[1] for c in self._calibration])
        gyro_all = np.concatenate([c[2] for c in self._calibration])
        lost_all = sum(c[3] for c in self._calibration)
        self._calibration = []
        at_rest = (gyro_all.std(axis=0).max() < self.settings.rest_gyro_std_dps
                   and accel_all.std(axis=0).max() < self.settings.rest_accel_std_g
                   and abs(np.linalg.norm(accel_all.mean(axis=0)) - 1.0) < 0.1)
        key = (self.config.sensor, self.bus.name, self.driver.address)
        if at_rest:
            bias = GyroBias(*key, tuple(float(v) for v in gyro_all.mean(axis=0)), len(gyro_all))
            self.store.save(bias)
            self._apply_bias(bias, "measured")
        else:
            remembered = self.store.load(*key)
            self._apply_bias(remembered, "remembered" if remembered else "none")
            log.info("sensor 0x%02x was moving during calibration; using %s gyro bias",
                     self.driver.address, "the remembered" if remembered else "no")
        self._set(state="stuck" if self._status.state == "stuck" else "reading")
        self._pending_lost += lost_all
        return self._emit(t_all, accel_all, gyro_all - self._bias)

    def _apply_bias(self, bias: GyroBias | None, how: str) -> None:
        self._bias = np.asarray(bias.gyro_bias_dps if bias else (0.0, 0.0, 0.0), dtype=float)
        self._set(calibration=how, gyro_bias_dps=tuple(float(v) for v in self._bias), quiet=True)

    # --- status -------------------------------------------------------------------------------
    def _set(self, quiet: bool = False, **changes: Any) -> None:
        before = self._status
        self._status = replace(before, **changes)
        if quiet or self._status.state == before.state:
            return
        for listener in list(self._listeners):
            try:
                listener(self._status)
            except Exception:   # a listener's bug must not stop the sensor
                log.exception("status listener failed")


class StreamGroup:
    """Several sensors on one bus read in step: each pass polls every one of them, so their
    batches cover the same stretch of the shared host clock."""

    def __init__(self, streams: list[SensorStream]) -> None:
        self.streams = list(streams)

    def read(self, timeout_s: float = 1.0) -> list[SampleBatch | None]:
        """One batch per sensor, in the order given, ending at about the same moment: every
        pass polls all of them, and what arrives while waiting for a slower one is merged in.
        ``None`` for a sensor that had nothing by ``timeout_s``."""
        clock = self.streams[0].clock
        deadline = clock.monotonic() + timeout_s
        batches: list[SampleBatch | None] = [None] * len(self.streams)
        while True:
            for i, stream in enumerate(self.streams):
                batch = stream.read(timeout_s=0)
                if batch is not None:
                    batches[i] = batch if batches[i] is None else _merge(batches[i], batch)
            now = clock.monotonic()
            if all(b is not None for b in batches) or now >= deadline:
                return batches
            clock.sleep(min(min(s._wait_s(now) for s in self.streams), deadline - now))

    def close(self) -> None:
        for stream in self.streams:
            stream.close()

    def __enter__(self) -> "StreamGroup":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _merge(first: SampleBatch, second: SampleBatch) -> SampleBatch:
    return SampleBatch(np.concatenate([first.t_s, second.t_s]),
                       np.concatenate([first.accel_g, second.accel_g]),
                       np.concatenate([first.gyro_dps, second.gyro_dps]),
                       first.lost_samples + second.lost_samples)


def open_bus(bus: Any = 1, bus_factory: Callable[[Any], Any] | None = None) -> SharedBus:
    """A shared bus: a number opens ``/dev/i2c-N`` (or ``bus_factory(N)``), which the returned
    object then owns; a bus object is wrapped and stays the caller's."""
    if isinstance(bus, SharedBus):
        return bus
    if isinstance(bus, (int, str)):
        if bus_factory is None:
            from smbus2 import SMBus   # only the entry point chooses the real bus
            bus_factory = SMBus
        try:
            return SharedBus(bus_factory(bus), name=bus, owns=True)
        except FileNotFoundError as exc:
            from firmware_bridge.errors import SensorNotFoundError
            raise SensorNotFoundError(
                f"I2C bus {bus}: /dev/i2c-{bus} does not exist; enable I2C (raspi-config, "
                f"Interface Options) and run `backrep doctor`") from exc
        except PermissionError as exc:
            from firmware_bridge.errors import BusAccessError
            raise BusAccessError(
                exc.errno, f"I2C bus {bus}: permission denied opening /dev/i2c-{bus}; add the user to "
                f"the i2c group (`sudo usermod -aG i2c $USER`, then log out and in)") from exc
    return SharedBus(bus, name=getattr(bus, "name", "?"), owns=False)


def open_stream(bus: Any = 1, address: int | None = None, rate_hz: float = 100.0,
                calibration_dir: Any = None, bus_factory: Callable[[Any], Any] | None = None,
                clock: Clock | None = None, settings: StreamSettings | None = None) -> SensorStream:
    """Find the sensor, configure it, start its FIFO and return a stream of its samples.

    ``bus``: a bus number, or a bus object with smbus2's interface (an ``EmulatedBus``, or a
    ``SharedBus`` shared with a second sensor). ``clock``: defaults to the host's monotonic
    clock; pass the emulated bus's clock when emulating. Raises ``SensorNotFoundError`` or
    ``UnsupportedSensorError`` when there is nothing to read; after that, faults are handled
    and reported through ``status`` and listeners, never raised.
    """
    settings = settings or StreamSettings()
    clock = clock or getattr(bus, "clock", None) or MonotonicClock()
    shared = open_bus(bus, bus_factory)
    wait_s = settings.backoff_initial_s
    try:
        for attempt in range(settings.retries + 1):
            try:   # a cable that wiggles while the sensor is first set up is tried again
                driver = find_sensor(shared, address, clock, accel_range_g=settings.accel_range_g,
                                     gyro_range_dps=settings.gyro_range_dps)
                stream = SensorStream(shared, driver, clock, rate_hz, CalibrationStore(calibration_dir),
                                      settings)
                stream.start()
                return stream
            except (SensorNotFoundError, OSError):
                if attempt == settings.retries:
                    raise
                clock.sleep(wait_s)
                wait_s *= 2
    except BaseException:
        shared.close()
        raise
    raise AssertionError("unreachable")
