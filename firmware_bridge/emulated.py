"""Emulated chips on a fake bus: the bridge's mock pin factory.

``EmulatedBus`` has smbus2's interface to the type (``read_byte_data`` returns an int,
``read_i2c_block_data`` a ``list[int]``, ``i2c_rdwr`` fills ``smbus2.i2c_msg`` buffers), so the
real driver runs against it unchanged. Each emulated chip is a register map with the chip's
semantics: configuration registers, a FIFO that fills at the configured rate from a
recording's samples (quantised to the configured range), FIFO counts, overflow, WHO_AM_I, a
power-on state that is asleep. Time comes from an injected clock, so a simulated clock runs
minutes of sensor data in milliseconds. Faults are injected per chip (``Faults``).
"""
from __future__ import annotations

import ctypes
import errno
import os
import random
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
from smbus2 import i2c_msg

from firmware_bridge import lsm6ds as L
from firmware_bridge import mpu6050 as M
from firmware_bridge.clock import Clock, SimulatedClock
from firmware_bridge.records import BusStats

I2C_M_RD = 0x0001
SMBUS_BLOCK_MAX = 32
FAULT_ERRNOS = (errno.EREMOTEIO, errno.EIO, errno.ETIMEDOUT)


@dataclass
class Faults:
    """What goes wrong, in seconds since the emulation started.

    ``error_rate``: chance that any one transfer fails with EREMOTEIO, EIO or ETIMEDOUT.
    ``disconnects``: (start_s, duration_s): every transfer is NACKed; the chip loses power and
    comes back asleep. ``glitches``: (start_s, duration_s): every transfer is NACKed but the
    chip keeps power and keeps filling its FIFO (a loose SDA wire). ``stuck``: (start_s, duration_s): the chip repeats its last sample.
    ``stalls``: (start_s, duration_s): the first transfer after start_s takes duration_s (a
    host hiccup or clock stretching), long enough to overflow the FIFO. ``brownouts``: times
    the chip resets to its power-on state. ``bus_slowdown``: every transfer takes this many
    times its nominal time on the wire (the Pi's real clock below the nominal one).
    ``frame_write_s`` (MPU family): how long the chip takes to write a sample into its FIFO; a
    FIFO count read in that time before a sample counts the part of it written so far.
    ``part_way``: a read that fails (``error_rate``) fails part way through, as a fault on a
    real bus can: the chip had clocked out some of the bytes asked for, anything from none to
    all of them, and a FIFO pops those whether or not the host got them.
    """

    error_rate: float = 0.0
    disconnects: list[tuple[float, float]] = field(default_factory=list)
    glitches: list[tuple[float, float]] = field(default_factory=list)
    stuck: list[tuple[float, float]] = field(default_factory=list)
    stalls: list[tuple[float, float]] = field(default_factory=list)
    brownouts: list[float] = field(default_factory=list)
    bus_slowdown: float = 1.0
    frame_write_s: float = 0.0
    part_way: bool = False
    seed: int = 0


@dataclass(frozen=True)
class Trace:
    """The motion the emulated chip feels: samples in g and degrees per second.

    A recording's rate is what its chip's oscillator really ran at, which is not quite the
    nominal rate in its metadata. ``rate_hz`` is that true rate, fitted to the timestamps;
    ``nominal_rate_hz`` is the metadata's. Each sample is placed on the true-rate grid (its
    time rounded to the nearest period), so an emulated chip whose oscillator is off by the
    same fraction (the default in ``emulated_chip``) plays the trace sample for sample,
    whatever jitter the timestamps had. Across gaps (lost samples), and at other rates, the
    motion is interpolated in time.
    """

    t_s: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray
    rate_hz: float = 0.0
    nominal_rate_hz: float = 0.0

    def __post_init__(self) -> None:
        t_s = np.asarray(self.t_s, dtype=float) - float(self.t_s[0])
        object.__setattr__(self, "t_s", t_s)
        # each step is a whole number of periods (one, or more across a gap); the true rate is
        # the least-squares slope of time against that sample number
        steps = np.diff(t_s)
        rate0 = self.rate_hz or (1.0 / np.median(steps) if len(steps) else 100.0)
        number = np.concatenate([[0.0], np.cumsum(np.maximum(1.0, np.round(steps * rate0)))])
        if not self.rate_hz:
            rate = rate0
            if len(t_s) > 2:
                rate = 1.0 / np.polyfit(number, t_s, 1)[0]
            object.__setattr__(self, "rate_hz", float(rate))
        if not self.nominal_rate_hz:
            object.__setattr__(self, "nominal_rate_hz", float(self.rate_hz))
        object.__setattr__(self, "_grid_s", number / self.rate_hz)

    @classmethod
    def of(cls, recording: Any) -> "Trace":
        if isinstance(recording, Trace):
            return recording
        nominal = getattr(recording, "rate_hz", None) or 0.0
        return cls(np.asarray(recording.t_s, dtype=float), np.asarray(recording.accel_g, float),
                   np.asarray(recording.gyro_dps, float), nominal_rate_hz=float(nominal))

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1]) if len(self.t_s) else 0.0

    @property
    def clock_error(self) -> float:
        """How far the recording's oscillator ran from its nominal rate, as a fraction."""
        return self.rate_hz / self.nominal_rate_hz - 1.0

    def at(self, tau_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The motion at each time since the trace began; held at the ends."""
        grid = self._grid_s
        accel = np.stack([np.interp(tau_s, grid, self.accel_g[:, k]) for k in range(3)], axis=1)
        gyro = np.stack([np.interp(tau_s, grid, self.gyro_dps[:, k]) for k in range(3)], axis=1)
        return accel, gyro


def synthetic_trace(seconds: float = 20.0, rate_hz: float = 100.0, *, rest_s: float = 2.0,
                    raises: int = 3, seed: int = 0) -> Trace:
    """A plausible thigh trace for tests and demos: still for ``rest_s``, then ``raises`` slow
    40-degree leg raises about the x axis, with sensor noise so nothing is ever bit-identical."""
    rng = np.random.default_rng(seed)
    t_s = np.arange(int(round(seconds * rate_hz))) / rate_hz
    moving = np.clip((t_s - rest_s) / max(seconds - rest_s - 1.0, 1e-3), 0, 1)
    theta_rad = np.radians(40.0) * 0.5 * (1 - np.cos(2 * np.pi * raises * moving))
    theta_rad[t_s > seconds - 1.0] = 0.0
    rate_dps = np.degrees(np.gradient(theta_rad, t_s))
    accel_g = np.stack([np.zeros_like(t_s), np.sin(theta_rad), np.cos(theta_rad)], axis=1)
    gyro_dps = np.stack([rate_dps, np.zeros_like(t_s), np.zeros_like(t_s)], axis=1)
    accel_g += rng.normal(0, 0.002, accel_g.shape)
    gyro_dps += rng.normal(0, 0.08, gyro_dps.shape)
    return Trace(t_s, accel_g, gyro_dps, rate_hz, rate_hz)


MARKER_OFFSET = 15000
MARKER_SPAN = 30000


def marker_trace(seconds: float, rate_hz: float, accel_g_per_lsb: float, *, nominal_rate_hz: float = 0.0,
                 seed: int = 0) -> Trace:
    """A trace whose accelerometer x axis carries each sample's number in raw counts (for a chip
    at ``accel_g_per_lsb``), so a test can tell exactly which trace sample it got back: no
    duplicate, no gap, no invented value goes unseen. The other axes carry noise."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate_hz))
    t_s = np.arange(n) / rate_hz
    number = np.arange(n) % MARKER_SPAN - MARKER_OFFSET
    accel_g = np.stack([number * accel_g_per_lsb, rng.normal(0, 0.05, n), 1 + rng.normal(0, 0.05, n)], axis=1)
    gyro_dps = rng.normal(0, 20.0, (n, 3))
    return Trace(t_s, accel_g, gyro_dps, rate_hz, nominal_rate_hz or rate_hz)


def marker_numbers(accel_g: np.ndarray, accel_g_per_lsb: float) -> np.ndarray:
    """The trace sample numbers a ``marker_trace`` put in these samples."""
    return np.round(np.asarray(accel_g)[:, 0] / accel_g_per_lsb).astype(np.int64) + MARKER_OFFSET


class EmulatedChip:
    """Register-level behaviour common to both families; subclasses fill in their map."""

    sensor = "?"
    fifo_unit_bytes = 1
    fifo_capacity_units = 1024

    def __init__(self, trace: Trace, clock: Clock, faults: Faults | None = None, *,
                 rate_error: float = 0.0, gyro_bias_dps: Iterable[float] = (0.0, 0.0, 0.0)) -> None:
        self.trace = trace
        self.clock = clock
        self.faults = faults or Faults()
        self.rate_error = rate_error
        self.gyro_bias_dps = np.asarray(tuple(gyro_bias_dps), dtype=float)
        self.start_s = clock.monotonic()
        self.rng = random.Random(self.faults.seed)
        self.regs = bytearray(256)
        self.fifo = bytearray()
        self.overflows = 0
        self.samples_made = 0
        self.last_raw = np.zeros(6, dtype=np.int64)
        self._latch = b""
        self._events = sorted([(t, "brownout") for t in self.faults.brownouts]
                              + [(t, "brownout") for t, _ in self.faults.disconnects])
        self._stalls_done: set[int] = set()
        self._now_s = 0.0
        self._tick = 0            # index on the chip's own sample grid, from emulation start
        self._period_s = 0.0
        self.power_on()

    # --- time ---------------------------------------------------------------------------------
    def elapsed_s(self) -> float:
        return self.clock.monotonic() - self.start_s

    def update(self) -> None:
        """Make every sample due by now, applying brownouts at their moment."""
        now = self.elapsed_s()
        while self._events and self._events[0][0] <= now:
            when, _ = self._events.pop(0)
            self._produce_until(when)
            self.power_on()
            # asleep, but its output registers still hold the last conversion: anyone polling
            # them reads plausible, constant data and no error from the bus
            self._set_data_registers(self.last_raw)
        self._produce_until(now)

    def _produce_until(self, until_s: float) -> None:
        rate = self.rate_hz() if self.running() else 0.0
        if rate <= 0:
            self._period_s = 0.0
            self._now_s = until_s
            return
        period = 1.0 / (rate * (1.0 + self.rate_error))
        if period != self._period_s:    # (re)started: the grid's next point after now
            self._period_s = period
            self._tick = int(np.floor(self._now_s / period))
        last = int(np.floor(until_s / period + 1e-9))
        self._now_s = until_s
        if last <= self._tick:
            return
        ticks = np.arange(self._tick + 1, last + 1)
        self._tick = last
        tau = ticks * period
        accel, gyro = self.trace.at(tau)
        gyro = gyro + self.gyro_bias_dps + self.gyro_startup_dps(tau)
        raw = np.concatenate([self._quantise(accel, self.accel_g_per_lsb()),
                              self._quantise(gyro, self.gyro_dps_per_lsb())], axis=1)
        for start, length in self.faults.stuck:
            frozen = np.flatnonzero((tau >= start) & (tau < start + length))
            for k in frozen:
                raw[k] = raw[k - 1] if k > 0 else self.last_raw
        self.last_raw = raw[-1].copy()
        self.samples_made += len(raw)
        self._set_data_registers(raw[-1])
        if self.fifo_enabled():
            self._push(self.encode(raw, ticks))

    def gyro_startup_dps(self, tau_s: np.ndarray) -> np.ndarray | float:
        """The gyroscope's error while it settles after waking, at chip times ``tau_s``."""
        return 0.0

    @staticmethod
    def _quantise(values: np.ndarray, per_lsb: float) -> np.ndarray:
        return np.clip(np.round(values / per_lsb), -32768, 32767).astype(np.int64)

    def _push(self, data: bytes) -> None:
        self.fifo += data
        excess = len(self.fifo) - self.fifo_capacity_units * self.fifo_unit_bytes
        if excess > 0:   # full: the oldest data goes, in whole FIFO units (bytes on the MPU)
            del self.fifo[:excess]
            self.on_overflow(excess // self.fifo_unit_bytes)

    def _pop_unit(self) -> bytes:
        unit = bytes(self.fifo[:self.fifo_unit_bytes])
        del self.fifo[:self.fifo_unit_bytes]
        return unit.ljust(self.fifo_unit_bytes, b"\0")

    # --- bus side -----------------------------------------------------------------------------
    def read(self, register: int, length: int) -> list[int]:
        out = []
        for _ in range(length):
            out.append(self.read_register(register) & 0xFF)
            register = self.next_register(register)
        return out

    def write(self, register: int, data: bytes) -> None:
        for value in data:
            self.write_register(register, value)
            register = self.next_register(register)

    def next_register(self, register: int) -> int:
        return (register + 1) & 0xFF

    def read_register(self, register: int) -> int:
        return self.regs[register]

    def write_register(self, register: int, value: int) -> None:
        self.regs[register] = value

    def transfer_fault(self) -> tuple[OSError | None, float]:
        """An error for this transfer, if any, and how long it stalls first."""
        now = self.elapsed_s()
        stall_s = 0.0
        for i, (start, length) in enumerate(self.faults.stalls):
            if now >= start and i not in self._stalls_done:
                self._stalls_done.add(i)
                stall_s += length
        for start, length in self.faults.disconnects + self.faults.glitches:
            if start <= now < start + length:
                return OSError(errno.EREMOTEIO, "Remote I/O error"), stall_s
        if self.faults.error_rate and self.rng.random() < self.faults.error_rate:
            code = self.rng.choice(FAULT_ERRNOS)
            return OSError(code, os.strerror(code)), stall_s
        return None, stall_s

    # --- per family ---------------------------------------------------------------------------
    def power_on(self) -> None: ...
    def running(self) -> bool: ...
    def fifo_enabled(self) -> bool: ...
    def rate_hz(self) -> float: ...
    def accel_g_per_lsb(self) -> float: ...
    def gyro_dps_per_lsb(self) -> float: ...
    def encode(self, raw: np.ndarray, ticks: np.ndarray) -> bytes: ...
    def on_overflow(self, units: int) -> None: ...
    def _set_data_registers(self, raw: np.ndarray) -> None: ...


class EmulatedMpu6050(EmulatedChip):
    """MPU-6050 (or, by WHO_AM_I and FIFO size, MPU-6500 / MPU-9250)."""

    WHO_AM_I = {"mpu6050": 0x68, "mpu6500": 0x70, "mpu9250": 0x71}

    def __init__(self, trace: Trace, clock: Clock, faults: Faults | None = None, *,
                 model: str = "mpu6050", **kwargs: Any) -> None:
        self.sensor = model
        self.fifo_capacity_units = M.MODELS[self.WHO_AM_I[model]].fifo_bytes
        #: FIFO counts read while a sample was part written (``Faults.frame_write_s``).
        self.torn_counts = 0
        super().__init__(trace, clock, faults, **kwargs)

    #: Zero-rate output just after waking, within 1 dps of final by 30 ms (the product
    #: specification's typical ZRO settling time): 20 dps decaying with 7.5 ms, and settled
    #: (under 0.1 dps, put at nothing) from 40 ms.
    STARTUP_DPS = np.array([20.0, -14.0, 9.0])
    STARTUP_TAU_S = 0.0075
    STARTUP_S = 0.04

    def power_on(self) -> None:
        self._woke_s: float | None = None
        self._count_latch = 0
        self.regs = bytearray(256)
        self.regs[M.PWR_MGMT_1] = M.PWR_MGMT_1_SLEEP
        self.regs[M.WHO_AM_I] = self.WHO_AM_I[self.sensor]
        self.fifo.clear()

    def running(self) -> bool:
        return not self.regs[M.PWR_MGMT_1] & (M.PWR_MGMT_1_SLEEP | M.PWR_MGMT_1_DEVICE_RESET)

    def fifo_enabled(self) -> bool:
        return bool(self.regs[M.USER_CTRL] & M.USER_CTRL_FIFO_EN) and bool(self.regs[M.FIFO_EN])

    def _frame_bytes_being_written(self) -> int:
        """Bytes of the next sample already in the FIFO, if it is being written now."""
        write_s = self.faults.frame_write_s
        if not write_s or not self._period_s or not self.fifo_enabled():
            return 0
        ahead_s = (self._tick + 1) * self._period_s - self._now_s
        if not 0 < ahead_s < write_s:
            return 0
        frame = len(self.encode(self.last_raw[None, :], np.zeros(1, dtype=np.int64)))
        written = int(frame * (1 - ahead_s / write_s))
        if 0 < written < frame:
            self.torn_counts += 1
            return written
        return 0

    def gyro_startup_dps(self, tau_s: np.ndarray) -> np.ndarray | float:
        if self._woke_s is None:
            return 0.0
        since_s = np.maximum(np.asarray(tau_s) - self._woke_s, 0.0)
        settling = np.where(since_s < self.STARTUP_S, np.exp(-since_s / self.STARTUP_TAU_S), 0.0)
        return settling[:, None] * self.STARTUP_DPS

    def rate_hz(self) -> float:
        base = 1000.0 if self.regs[M.CONFIG] & 0b111 in range(1, 7) else 8000.0
        return base / (1 + self.regs[M.SMPLRT_DIV])

    def accel_g_per_lsb(self) -> float:
        return M.ACCEL_RANGES_G[[2, 4, 8, 16][(self.regs[M.ACCEL_CONFIG] >> 3) & 3]].units_per_lsb

    def gyro_dps_per_lsb(self) -> float:
        return M.GYRO_RANGES_DPS[[250, 500, 1000, 2000][(self.regs[M.GYRO_CONFIG] >> 3) & 3]].units_per_lsb

    def encode(self, raw: np.ndarray, ticks: np.ndarray) -> bytes:
        enabled = self.regs[M.FIFO_EN]
        columns = []   # register order: accel, temperature, gyro x, y, z
        if enabled & M.FIFO_EN_ACCEL:
            columns += [raw[:, 0], raw[:, 1], raw[:, 2]]
        if enabled & 0x80:
            columns.append(np.zeros(len(raw), dtype=np.int64))
        for bit, axis in ((M.FIFO_EN_XG, 3), (M.FIFO_EN_YG, 4), (M.FIFO_EN_ZG, 5)):
            if enabled & bit:
                columns.append(raw[:, axis])
        return np.stack(columns, axis=1).astype(">i2").tobytes()

    def on_overflow(self, units: int) -> None:
        self.overflows += 1
        self.regs[M.INT_STATUS] |= M.INT_FIFO_OFLOW

    def _set_data_registers(self, raw: np.ndarray) -> None:
        values = np.concatenate([raw[:3], [0], raw[3:]]).astype(">i2").tobytes()
        self.regs[M.ACCEL_XOUT_H:M.ACCEL_XOUT_H + 14] = values

    def next_register(self, register: int) -> int:
        return register if register == M.FIFO_R_W else (register + 1) & 0xFF

    def read_register(self, register: int) -> int:
        if register == M.FIFO_R_W:
            return self._pop_unit()[0] if self.fifo else 0xFF
        if register == M.FIFO_COUNT_H:
            self._count_latch = len(self.fifo) + self._frame_bytes_being_written()
            return self._count_latch >> 8
        if register == M.FIFO_COUNT_H + 1:
            return self._count_latch & 0xFF
        if register == M.INT_STATUS:
            value = self.regs[register]
            self.regs[register] = 0      # cleared by reading
            return value
        return self.regs[register]

    def write_register(self, register: int, value: int) -> None:
        if register == M.WHO_AM_I:
            return
        if register == M.PWR_MGMT_1 and value & M.PWR_MGMT_1_DEVICE_RESET:
            self.power_on()
            return
        if register == M.PWR_MGMT_1 and not self.running() and not value & M.PWR_MGMT_1_SLEEP:
            self._woke_s = self._now_s
        if register == M.USER_CTRL and value & M.USER_CTRL_FIFO_RESET:
            self.fifo.clear()
            value &= ~M.USER_CTRL_FIFO_RESET   # self-clearing
        self.regs[register] = value


class EmulatedLsm6ds(EmulatedChip):
    """LSM6DSOX (tagged words) or LSM6DS3 (pattern of 16-bit words)."""

    def __init__(self, trace: Trace, clock: Clock, faults: Faults | None = None, *,
                 model: str = "lsm6dsox", **kwargs: Any) -> None:
        self.sensor = model
        self.tagged = model == "lsm6dsox"
        self.fifo_unit_bytes = L.DSOX_WORD_BYTES if self.tagged else 2
        self.fifo_capacity_units = L.DSOX_FIFO_WORDS if self.tagged else L.DS3_FIFO_WORDS
        self._head_pattern = 0    # DS3: place in the pattern of the word at the FIFO's head
        self._overrun = False
        super().__init__(trace, clock, faults, **kwargs)

    def _mode_register(self) -> int:
        return L.DSOX_FIFO_CTRL4 if self.tagged else L.DS3_FIFO_CTRL5

    def power_on(self) -> None:
        self.regs = bytearray(256)
        self.regs[L.WHO_AM_I] = L.WHO_AM_I_DSOX if self.tagged else L.WHO_AM_I_DS3
        self.regs[L.CTRL3_C] = L.CTRL3_C_IF_INC
        self._clear_fifo()

    def _clear_fifo(self) -> None:
        self.fifo.clear()
        self._head_pattern = 0
        self._overrun = False

    def running(self) -> bool:
        return bool(self.regs[L.CTRL1_XL] >> 4) and bool(self.regs[L.CTRL2_G] >> 4)

    def fifo_enabled(self) -> bool:
        return self.regs[self._mode_register()] & 0b111 == L.FIFO_MODE_CONTINUOUS

    def rate_hz(self) -> float:
        by_code = {code: hz for hz, code in L.ODR_CODES_HZ.items()}
        return by_code.get(self.regs[L.CTRL1_XL] >> 4, 0.0)

    def accel_g_per_lsb(self) -> float:
        field = (self.regs[L.CTRL1_XL] >> 2) & 3
        return next(r.units_per_lsb for r in L.ACCEL_RANGES_G.values() if r.field == field)

    def gyro_dps_per_lsb(self) -> float:
        field = (self.regs[L.CTRL2_G] >> 2) & 3
        return next(r.units_per_lsb for r in L.GYRO_RANGES_DPS.values() if r.field == field)

    def encode(self, raw: np.ndarray, ticks: np.ndarray) -> bytes:
        if not self.tagged:   # gyro x, y, z, accel x, y, z, little-endian
            return np.concatenate([raw[:, 3:6], raw[:, 0:3]], axis=1).astype("<i2").tobytes()
        out = bytearray()
        for row, tick in zip(raw, ticks):
            for sensor_tag, values in ((L.DSOX_TAG_GYRO, row[3:6]), (L.DSOX_TAG_ACCEL, row[0:3])):
                tag = sensor_tag << 3 | (int(tick) & 3) << 1
                tag |= bin(tag).count("1") & 1          # TAG_PARITY: odd parity over the byte
                out.append(tag)
                out += values.astype("<i2").tobytes()
        return bytes(out)

    def on_overflow(self, units: int) -> None:
        self.overflows += 1
        self._overrun = True
        self._head_pattern = (self._head_pattern + units) % L.DS3_PATTERN_WORDS

    def _set_data_registers(self, raw: np.ndarray) -> None:
        pass   # the bridge reads these chips only through the FIFO

    def next_register(self, register: int) -> int:
        if self.tagged and register == 0x7E:
            return L.DSOX_FIFO_DATA_OUT_TAG
        if not self.tagged and register == L.DS3_FIFO_DATA_OUT_L + 1:
            return L.DS3_FIFO_DATA_OUT_L
        return (register + 1) & 0xFF

    def read_register(self, register: int) -> int:
        words = len(self.fifo) // self.fifo_unit_bytes
        if register == L.FIFO_STATUS1:
            return words & 0xFF
        if register == L.FIFO_STATUS2:
            high = (words >> 8) & (0b11 if self.tagged else 0x0F)
            if self.tagged:
                # FIFO_OVR_IA says full now; FIFO_OVR_LATCHED, an overrun since the last read
                # of this register, which clears it
                latched, self._overrun = self._overrun, False
                return (high | (L.FIFO_STATUS2_OVERRUN if words >= self.fifo_capacity_units else 0)
                        | (L.DSOX_FIFO_STATUS2_OVR_LATCHED if latched else 0))
            return high | (L.FIFO_STATUS2_OVERRUN if self._overrun else 0)
        if self.tagged and L.DSOX_FIFO_DATA_OUT_TAG <= register <= 0x7E:
            if register == L.DSOX_FIFO_DATA_OUT_TAG:
                self._latch = self._pop_unit()
            return self._latch[register - L.DSOX_FIFO_DATA_OUT_TAG] if self._latch else 0
        if not self.tagged:
            if register == L.DS3_FIFO_STATUS3:
                return self._head_pattern & 0xFF
            if register == L.DS3_FIFO_STATUS3 + 1:
                return self._head_pattern >> 8
            if register == L.DS3_FIFO_DATA_OUT_L:
                self._latch = self._pop_unit()
                self._head_pattern = (self._head_pattern + 1) % L.DS3_PATTERN_WORDS
                return self._latch[0]
            if register == L.DS3_FIFO_DATA_OUT_L + 1:
                return self._latch[1] if self._latch else 0
        return self.regs[register]

    def write_register(self, register: int, value: int) -> None:
        if register == L.WHO_AM_I:
            return
        if register == L.CTRL3_C and value & L.CTRL3_C_SW_RESET:
            self.power_on()
            return
        if register == self._mode_register() and value & 0b111 == L.FIFO_MODE_BYPASS:
            self._clear_fifo()
        self.regs[register] = value


class EmulatedBus:
    """A fake I2C bus with smbus2's interface, carrying emulated chips at their addresses.

    ``bus_hz`` is the nominal SCL clock; with a clock that can ``advance`` (the simulated one),
    every transfer also takes its time on the wire, so a slow bus really delays the reader.
    ``stats`` counts transfers and bytes on the wire (address bytes included) for the benchmark.
    """

    def __init__(self, clock: Clock, *, bus_hz: float = 400_000, name: object = "emulated") -> None:
        self.clock = clock
        self.bus_hz = bus_hz
        self.name = name
        self.chips: dict[int, EmulatedChip] = {}
        self.stats = BusStats()
        self.busy_s = 0.0
        self.closed = False

    def attach(self, address: int, chip: EmulatedChip) -> EmulatedChip:
        self.chips[address] = chip
        return chip

    def _begin(self, address: int, wire_bytes: int, messages: int,
               reading: tuple[int, int] | None = None) -> EmulatedChip:
        """One transfer's bus time and faults; ``reading``: the (register, length) it reads."""
        if self.closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        chip = self.chips.get(address)
        self.stats.transactions += 1
        self.stats.messages += messages
        self.stats.bytes_on_wire += wire_bytes
        slowdown = chip.faults.bus_slowdown if chip else 1.0
        # 9 clocks a byte (8 bits and the acknowledge), plus a start and a stop
        busy_s = (wire_bytes * 9 + 2 * messages) / self.bus_hz * slowdown
        self.busy_s += busy_s
        stall_s = 0.0
        fault = None
        if chip is not None:
            fault, stall_s = chip.transfer_fault()
        if hasattr(self.clock, "advance"):
            self.clock.advance(busy_s + stall_s)
        if chip is None:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")   # nobody acknowledged the address
        if fault is not None:
            if reading is not None and chip.faults.part_way:
                chip.update()
                register, length = reading
                chip.read(register, chip.rng.randint(0, length))
            raise fault
        chip.update()
        return chip

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        chip = self._begin(i2c_addr, 4, 2, reading=(register, 1))
        return chip.read(register, 1)[0]

    def write_byte_data(self, i2c_addr: int, register: int, value: int, force: bool | None = None) -> None:
        chip = self._begin(i2c_addr, 3, 1)
        chip.write(register, bytes([value & 0xFF]))

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int,
                            force: bool | None = None) -> list[int]:
        if length > SMBUS_BLOCK_MAX:
            raise ValueError(f"Desired block length over {SMBUS_BLOCK_MAX} bytes")
        chip = self._begin(i2c_addr, 3 + length, 2, reading=(register, length))
        return chip.read(register, length)

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int],
                             force: bool | None = None) -> None:
        chip = self._begin(i2c_addr, 2 + len(data), 1)
        chip.write(register, bytes(data))

    def write_quick(self, i2c_addr: int, force: bool | None = None) -> None:
        """The probe i2cdetect uses: an address and nothing else."""
        self._begin(i2c_addr, 1, 1)

    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int:
        """What i2cdetect-style probes use; the emulated chips answer with their pointer register."""
        chip = self._begin(i2c_addr, 2, 1)
        return chip.read(0, 1)[0]

    def i2c_rdwr(self, *i2c_msgs: i2c_msg) -> None:
        if not i2c_msgs:
            return
        addresses = {m.addr for m in i2c_msgs}
        if len(addresses) != 1:
            raise OSError(errno.EINVAL, "emulated bus: one address per combined transfer")
        wire = sum(1 + m.len for m in i2c_msgs)
        reading = None
        if (len(i2c_msgs) == 2 and not i2c_msgs[0].flags & I2C_M_RD and i2c_msgs[0].len
                and i2c_msgs[1].flags & I2C_M_RD):
            reading = (bytes(i2c_msgs[0])[0], i2c_msgs[1].len)   # a register, then its bytes
        chip = self._begin(i2c_msgs[0].addr, wire, len(i2c_msgs), reading)
        pointer = 0
        for message in i2c_msgs:
            if message.flags & I2C_M_RD:
                data = bytes(chip.read(pointer, message.len))
                ctypes.memmove(message.buf, data, len(data))
            else:
                payload = bytes(message)
                if payload:
                    pointer = payload[0]
                    if len(payload) > 1:
                        chip.write(pointer, payload[1:])

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> "EmulatedBus":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


CHIPS = {
    "mpu6050": (EmulatedMpu6050, "mpu6050"), "mpu6500": (EmulatedMpu6050, "mpu6500"),
    "mpu9250": (EmulatedMpu6050, "mpu9250"),
    "lsm6dsox": (EmulatedLsm6ds, "lsm6dsox"), "lsm6ds3": (EmulatedLsm6ds, "lsm6ds3"),
}


def emulated_chip(recording: Any, chip: str, clock: Clock, faults: Faults | None = None,
                  rate_error: float | None = None, **kwargs: Any) -> EmulatedChip:
    """An emulated chip playing ``recording``. ``rate_error``: how far its oscillator runs from
    the configured rate; by default the recording's own (``Trace.clock_error``), so a chip set
    to the recording's nominal rate makes exactly its samples."""
    trace = Trace.of(recording)
    try:
        cls, model = CHIPS[chip]
    except KeyError:
        raise ValueError(f"no emulated chip {chip!r}; choose one of {', '.join(CHIPS)}") from None
    error = trace.clock_error if rate_error is None else rate_error
    return cls(trace, clock, faults, model=model, rate_error=error, **kwargs)


def emulated_bus_from_recording(recording: Any, chip: str = "mpu6050", address: int | None = None,
                                clock: Clock | None = None, faults: Faults | None = None, *,
                                bus_hz: float = 400_000, **chip_kwargs: Any) -> EmulatedBus:
    """A fake bus with one emulated chip that plays ``recording`` (anything with ``t_s``,
    ``accel_g``, ``gyro_dps``) from the clock's present moment.

    Attach more with ``bus.attach(address, emulated_chip(...))`` (a second thigh at 0x69).
    ``chip_kwargs``: ``rate_error`` (the chip's oscillator off by this fraction),
    ``gyro_bias_dps`` (the chip's own zero-rate offset, for calibration).
    """
    clock = clock or SimulatedClock()
    if address is None:
        address = 0x68 if chip.startswith("mpu") else 0x6A
    bus = EmulatedBus(clock, bus_hz=bus_hz)
    bus.attach(address, emulated_chip(recording, chip, clock, faults, **chip_kwargs))
    return bus
