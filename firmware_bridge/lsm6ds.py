"""ST LSM6DS3 and LSM6DSOX driver: the second family, behind the same small interface.

Both keep accelerometer and gyroscope samples in a FIFO but mark them differently:

* LSM6DSOX (WHO_AM_I 0x6C) tags every 7-byte word with the sensor it came from and a 2-bit
  time-slot counter, so frames are assembled by tag and a lone word is dropped, never paired
  with a sample from another instant.
* LSM6DS3 (WHO_AM_I 0x69) stores 16-bit words in a fixed pattern (gyro x, y, z, accel x, y, z);
  FIFO_STATUS3/4 says where in the pattern the next word sits, which is how frames realign.
"""
from __future__ import annotations

import numpy as np

from firmware_bridge.clock import Clock
from firmware_bridge.errors import ConfigurationError, UnsupportedSensorError
from firmware_bridge.i2c import RegisterDevice, SharedBus
from firmware_bridge.ranges import RangeSetting, pick_range
from firmware_bridge.records import EMPTY_RAW, ChipConfig, FifoRead

ADDRESSES = (0x6A, 0x6B)  # SA0 low, SA0 high

# Registers common to both
WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
FIFO_STATUS1 = 0x3A
FIFO_STATUS2 = 0x3B
CTRL3_C_BDU = 0x40
CTRL3_C_IF_INC = 0x04
CTRL3_C_SW_RESET = 0x01
ODR_SHIFT = 4
FS_SHIFT = 2
FIFO_MODE_BYPASS = 0b000
FIFO_MODE_CONTINUOUS = 0b110
FIFO_STATUS2_OVERRUN = 0x40      # OVER_RUN on DS3, FIFO_OVR_IA on DSOX: full now
#: DSOX's FIFO_OVR_LATCHED: an overrun since FIFO_STATUS2 was last read. FIFO_OVR_IA alone
#: misses one during a burst that then drains the FIFO (it is clear again by the check).
DSOX_FIFO_STATUS2_OVR_LATCHED = 0x08
RESET_WAIT_S = 0.05

# LSM6DSOX
WHO_AM_I_DSOX = 0x6C
DSOX_FIFO_CTRL3 = 0x09           # BDR_GY[7:4] BDR_XL[3:0]
DSOX_FIFO_CTRL4 = 0x0A           # FIFO_MODE[2:0]
DSOX_FIFO_DATA_OUT_TAG = 0x78    # tag, then X_L..Z_H: 7 bytes a word
DSOX_WORD_BYTES = 7
DSOX_TAG_GYRO = 0x01
DSOX_TAG_ACCEL = 0x02
DSOX_FIFO_WORDS = 512            # conservative: the datasheet's 9 kB holds more

# LSM6DS3
WHO_AM_I_DS3 = 0x69
DS3_FIFO_CTRL3 = 0x08            # DEC_FIFO_GYRO[5:3] DEC_FIFO_XL[2:0]; 1 = every sample
DS3_FIFO_CTRL5 = 0x0A            # ODR_FIFO[6:3] FIFO_MODE[2:0]
DS3_FIFO_STATUS3 = 0x3C          # FIFO_PATTERN[7:0]; STATUS4 holds [9:8]
DS3_FIFO_DATA_OUT_L = 0x3E
DS3_NO_DECIMATION = 0b001
DS3_FIFO_WORDS = 4096            # 8 kB of 16-bit words
DS3_PATTERN_WORDS = 6            # gyro x, y, z, accel x, y, z

# Output data rate codes, shared by CTRL1_XL/CTRL2_G ODR and the FIFO's batch rate
ODR_CODES_HZ: dict[float, int] = {12.5: 1, 26: 2, 52: 3, 104: 4, 208: 5, 416: 6, 833: 7, 1666: 8}

ACCEL_RANGES_G: dict[float, RangeSetting] = {
    2: RangeSetting(2, 0b00, 0.061e-3), 16: RangeSetting(16, 0b01, 0.488e-3),
    4: RangeSetting(4, 0b10, 0.122e-3), 8: RangeSetting(8, 0b11, 0.244e-3),
}
GYRO_RANGES_DPS: dict[float, RangeSetting] = {
    250: RangeSetting(250, 0b00, 8.75e-3), 500: RangeSetting(500, 0b01, 17.5e-3),
    1000: RangeSetting(1000, 0b10, 35e-3), 2000: RangeSetting(2000, 0b11, 70e-3),
}
SENSORS = {WHO_AM_I_DS3: "lsm6ds3", WHO_AM_I_DSOX: "lsm6dsox"}


def odr_for(rate_hz: float) -> tuple[int, float]:
    """The slowest output rate at or above the one asked for (within 5 %)."""
    for hz, code in sorted(ODR_CODES_HZ.items()):
        if hz >= rate_hz * 0.95:
            return code, float(hz)
    raise ConfigurationError(f"LSM6DS sample rate must be at most 1666 Hz, not {rate_hz:g}")


class _Lsm6dsBase:
    #: FIFO_STATUS2 bits that say the FIFO overran.
    OVERRUN_BITS = FIFO_STATUS2_OVERRUN
    who_am_i: int = 0
    family = "lsm6ds"

    def __init__(self, bus: SharedBus, address: int, clock: Clock, *, accel_range_g: float = 4,
                 gyro_range_dps: float = 500, max_burst_bytes: int = 1020) -> None:
        self.device = RegisterDevice(bus, address)
        self.address = address
        self.clock = clock
        self.sensor = SENSORS[self.who_am_i]
        self.config: ChipConfig | None = None
        self._accel = pick_range(ACCEL_RANGES_G, accel_range_g, "accelerometer", self.sensor)
        self._gyro = pick_range(GYRO_RANGES_DPS, gyro_range_dps, "gyroscope", self.sensor)
        self.max_burst_bytes = max_burst_bytes
        self._carried: list[bytes] = []

    def _check_identity(self) -> None:
        found = self.device.read_u8(WHO_AM_I)
        if found != self.who_am_i:
            raise UnsupportedSensorError(
                f"I2C bus {self.device.bus.name}, address 0x{self.address:02x}: WHO_AM_I is "
                f"0x{found:02x}, expected 0x{self.who_am_i:02x} for {self.sensor}")

    def initialise(self, rate_hz: float) -> ChipConfig:
        code, actual_hz = odr_for(rate_hz)
        self._check_identity()
        dev = self.device
        dev.write_u8(CTRL3_C, CTRL3_C_SW_RESET)
        self.clock.sleep(RESET_WAIT_S)
        dev.write_u8(CTRL3_C, CTRL3_C_BDU | CTRL3_C_IF_INC)
        dev.write_u8(CTRL1_XL, code << ODR_SHIFT | self._accel.field << FS_SHIFT)
        dev.write_u8(CTRL2_G, code << ODR_SHIFT | self._gyro.field << FS_SHIFT)
        self._configure_fifo(code)
        self.config = ChipConfig(
            sensor=self.sensor, rate_hz=actual_hz, accel_range_g=self._accel.full_scale,
            gyro_range_dps=self._gyro.full_scale, accel_g_per_lsb=self._accel.units_per_lsb,
            gyro_dps_per_lsb=self._gyro.units_per_lsb, fifo_capacity_samples=self._capacity_frames())
        return self.config

    def _burst(self, register: int, length: int) -> None:
        """``length`` bytes in bursts of whole units; bursts already read when a later one
        fails are kept in ``_carried`` (the chip has popped them) for the next read."""
        left = length
        step = max(1, self.max_burst_bytes - self.max_burst_bytes % self._unit_bytes())
        while left > 0:
            self._carried.append(self.device.read_burst(register, min(step, left)))
            left -= step

    def _overran(self) -> bool:
        """Checked after a burst: the FIFO keeps filling while it is read, and an overrun during
        the burst shifts its head, so the words just read cannot be trusted."""
        return bool(self.device.read_u8(FIFO_STATUS2) & self.OVERRUN_BITS)

    def _restart_after_overflow(self) -> FifoRead:
        self.reset_fifo()
        return FifoRead(EMPTY_RAW, overflowed=True)

    def reset_fifo(self) -> None:
        self._carried: list[bytes] = []
        self._reset_fifo()

    def is_running(self) -> bool:
        return bool(self.device.read_u8(CTRL1_XL) >> ODR_SHIFT) and bool(
            self.device.read_u8(self._fifo_mode_register()) & 0b111)

    # filled in by each chip
    def _configure_fifo(self, code: int) -> None: ...
    def _capacity_frames(self) -> int: ...
    def _unit_bytes(self) -> int: ...
    def _fifo_mode_register(self) -> int: ...


class Lsm6dsox(_Lsm6dsBase):
    """LSM6DSOX (and LSM6DSO, same map): tagged FIFO."""

    OVERRUN_BITS = FIFO_STATUS2_OVERRUN | DSOX_FIFO_STATUS2_OVR_LATCHED

    who_am_i = WHO_AM_I_DSOX

    def _configure_fifo(self, code: int) -> None:
        self.device.write_u8(DSOX_FIFO_CTRL3, code << 4 | code)
        self.reset_fifo()

    def _reset_fifo(self) -> None:
        self.device.write_u8(DSOX_FIFO_CTRL4, FIFO_MODE_BYPASS)   # bypass empties it
        self.device.write_u8(DSOX_FIFO_CTRL4, FIFO_MODE_CONTINUOUS)
        self._pending: dict[int, tuple[int, np.ndarray]] = {}

    def _capacity_frames(self) -> int:
        return DSOX_FIFO_WORDS // 2

    def _unit_bytes(self) -> int:
        return DSOX_WORD_BYTES

    def _fifo_mode_register(self) -> int:
        return DSOX_FIFO_CTRL4

    def read_fifo(self) -> FifoRead:
        status1, status2 = self.device.read_burst(FIFO_STATUS1, 2)
        counted_at_s = self.clock.monotonic()
        if status2 & self.OVERRUN_BITS:
            return self._restart_after_overflow()
        words = (status2 & 0b11) << 8 | status1
        if not words and not self._carried:
            return FifoRead(EMPTY_RAW, counted_at_s=counted_at_s)
        carried_words = sum(len(chunk) for chunk in self._carried) // DSOX_WORD_BYTES
        carried = 0
        self._burst(DSOX_FIFO_DATA_OUT_TAG, words * DSOX_WORD_BYTES)
        if self._overran():
            return self._restart_after_overflow()
        data = np.frombuffer(b"".join(self._carried), dtype=np.uint8)
        self._carried = []
        data = data.reshape(-1, DSOX_WORD_BYTES)
        tags = data[:, 0] >> 3
        counters = (data[:, 0] >> 1) & 0b11
        values = data[:, 1:].copy().view("<i2").astype(np.int64)
        frames, dropped = [], 0
        for i, (tag, counter, value) in enumerate(zip(tags, counters, values)):
            if i == carried_words:
                carried = len(frames)
            kind = {DSOX_TAG_ACCEL: 0, DSOX_TAG_GYRO: 1}.get(int(tag))
            if kind is None:
                continue   # timestamps, temperature, sensor hub: not batched here, skip if seen
            other = self._pending.get(1 - kind)
            if other is not None and other[0] == counter:
                accel, gyro = (value, other[1]) if kind == 0 else (other[1], value)
                frames.append(np.concatenate([accel, gyro]))
                self._pending.clear()
            else:
                dropped += bool(self._pending)   # a lone word is dropped, never paired
                self._pending = {kind: (int(counter), value)}
        return FifoRead(np.array(frames, dtype=np.int64).reshape(-1, 6), dropped_samples=dropped,
                        counted_at_s=counted_at_s, carried_samples=carried)


class Lsm6ds3(_Lsm6dsBase):
    """LSM6DS3: pattern FIFO of 16-bit words."""

    who_am_i = WHO_AM_I_DS3

    def _configure_fifo(self, code: int) -> None:
        self.device.write_u8(DS3_FIFO_CTRL3, DS3_NO_DECIMATION << 3 | DS3_NO_DECIMATION)
        self._fifo_odr = code
        self.reset_fifo()

    def _reset_fifo(self) -> None:
        self.device.write_u8(DS3_FIFO_CTRL5, self._fifo_odr << 3 | FIFO_MODE_BYPASS)
        self.device.write_u8(DS3_FIFO_CTRL5, self._fifo_odr << 3 | FIFO_MODE_CONTINUOUS)

    def _capacity_frames(self) -> int:
        return DS3_FIFO_WORDS // DS3_PATTERN_WORDS

    def _unit_bytes(self) -> int:
        return 2 * DS3_PATTERN_WORDS

    def _fifo_mode_register(self) -> int:
        return DS3_FIFO_CTRL5

    def read_fifo(self) -> FifoRead:
        s1, s2, s3, s4 = self.device.read_burst(FIFO_STATUS1, 4)
        counted_at_s = self.clock.monotonic()
        if s2 & FIFO_STATUS2_OVERRUN:
            return self._restart_after_overflow()
        words = (s2 & 0x0F) << 8 | s1
        pattern = (s4 & 0b11) << 8 | s3
        skip = (DS3_PATTERN_WORDS - pattern) % DS3_PATTERN_WORDS
        dropped = 0
        if skip and words:   # mid-frame: drop the tail of the broken frame to realign
            self.device.read_burst(DS3_FIFO_DATA_OUT_L, 2 * min(skip, words))
            words -= min(skip, words)
            dropped = 1
        frames = words // DS3_PATTERN_WORDS
        if not frames and not self._carried:
            return FifoRead(EMPTY_RAW, dropped_samples=dropped, counted_at_s=counted_at_s)
        carried = sum(len(chunk) for chunk in self._carried) // (2 * DS3_PATTERN_WORDS)
        if frames:
            self._burst(DS3_FIFO_DATA_OUT_L, frames * DS3_PATTERN_WORDS * 2)
        if self._overran():
            return self._restart_after_overflow()
        data, self._carried = b"".join(self._carried), []
        values = np.frombuffer(data, dtype="<i2").astype(np.int64).reshape(-1, 6)
        return FifoRead(np.concatenate([values[:, 3:6], values[:, 0:3]], axis=1), dropped_samples=dropped,
                        counted_at_s=counted_at_s, carried_samples=carried)


DRIVERS = {WHO_AM_I_DS3: Lsm6ds3, WHO_AM_I_DSOX: Lsm6dsox}
