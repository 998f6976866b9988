"""MPU-6050 family driver (MPU-6050, MPU-6500, MPU-9250), written from the register map.

Samples come only through the FIFO: the chip clocks them in at its own rate, the host drains
whole 12-byte frames (accel x, y, z, gyro x, y, z, big-endian int16) in ``i2c_rdwr`` bursts.
Polling the data registers on a host timer would miss and repeat samples whenever Linux
schedules late; the FIFO keeps every sample and its place in the stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_bridge.clock import Clock
from firmware_bridge.errors import ConfigurationError, UnsupportedSensorError
from firmware_bridge.i2c import RegisterDevice, SharedBus
from firmware_bridge.ranges import RangeSetting, pick_range
from firmware_bridge.records import EMPTY_RAW, ChipConfig, FifoRead

ADDRESSES = (0x68, 0x69)  # AD0 low, AD0 high

# Register map (MPU-6000/MPU-6050 Register Map and Descriptions rev 4.2; same addresses on 6500/9250)
SMPLRT_DIV = 0x19
CONFIG = 0x1A
GYRO_CONFIG = 0x1B
ACCEL_CONFIG = 0x1C
ACCEL_CONFIG2 = 0x1D       # MPU-6500/9250 only: accelerometer low-pass
FIFO_EN = 0x23
INT_ENABLE = 0x38
INT_STATUS = 0x3A
ACCEL_XOUT_H = 0x3B        # 14 data registers 0x3B..0x48: accel, temperature, gyro
USER_CTRL = 0x6A
PWR_MGMT_1 = 0x6B
FIFO_COUNT_H = 0x72
FIFO_R_W = 0x74
WHO_AM_I = 0x75

PWR_MGMT_1_DEVICE_RESET = 0x80
PWR_MGMT_1_SLEEP = 0x40
PWR_MGMT_1_CLKSEL_PLL_XGYRO = 0x01   # the gyro's PLL: far steadier than the 8 MHz RC oscillator
USER_CTRL_FIFO_EN = 0x40
USER_CTRL_FIFO_RESET = 0x04
FIFO_EN_XG = 0x40
FIFO_EN_YG = 0x20
FIFO_EN_ZG = 0x10
FIFO_EN_ACCEL = 0x08
INT_FIFO_OFLOW = 0x10                # INT_STATUS and INT_ENABLE bit 4
RANGE_SHIFT = 3                      # FS_SEL / AFS_SEL sit in bits 4:3

FRAME_BYTES = 12                     # accel then gyro, in register order
INTERNAL_RATE_HZ = 1000.0            # gyro output rate with the low-pass on
RESET_WAIT_S = 0.1
#: The gyroscope's zero-rate output settles to within 1 dps of final 30 ms (typical) after
#: power-on (MPU-6000/6050 product specification, section 6.1): the FIFO starts after this.
GYRO_SETTLE_S = 0.05

ACCEL_RANGES_G: dict[float, RangeSetting] = {
    2: RangeSetting(2, 0, 1 / 16384), 4: RangeSetting(4, 1, 1 / 8192),
    8: RangeSetting(8, 2, 1 / 4096), 16: RangeSetting(16, 3, 1 / 2048),
}
GYRO_RANGES_DPS: dict[float, RangeSetting] = {
    250: RangeSetting(250, 0, 1 / 131), 500: RangeSetting(500, 1, 1 / 65.5),
    1000: RangeSetting(1000, 2, 1 / 32.8), 2000: RangeSetting(2000, 3, 1 / 16.4),
}
# DLPF_CFG -> gyro bandwidth in Hz; the widest below half the sample rate is chosen
DLPF_BANDWIDTH_HZ: dict[int, float] = {1: 188, 2: 98, 3: 42, 4: 20, 5: 10, 6: 5}


@dataclass(frozen=True)
class Model:
    sensor: str
    fifo_bytes: int
    has_accel_config2: bool


MODELS: dict[int, Model] = {
    0x68: Model("mpu6050", 1024, False),
    0x70: Model("mpu6500", 512, True),
    0x71: Model("mpu9250", 512, True),
    # Boards sold as MPU-6050 (GY-521 and the like) often carry look-alikes that answer
    # otherwise, with the same registers: 0x72 as a 6050, 0x73 (MPU-9255) and 0x98 as the
    # 6500 family (a FIFO of 512 bytes, the smaller and so the safe size).
    0x72: Model("mpu6050", 1024, False),
    0x73: Model("mpu9255", 512, True),
    0x98: Model("mpu6500", 512, True),
}


def sample_rate_divider(rate_hz: float) -> tuple[int, float]:
    """SMPLRT_DIV for a rate, and the rate the chip will really run at (1 kHz / (1 + div))."""
    if not INTERNAL_RATE_HZ / 256 <= rate_hz <= INTERNAL_RATE_HZ:
        raise ConfigurationError(f"MPU-6050 sample rate must be from 3.9 to 1000 Hz, not {rate_hz:g}")
    divider = min(255, max(0, round(INTERNAL_RATE_HZ / rate_hz) - 1))
    return divider, INTERNAL_RATE_HZ / (1 + divider)


def dlpf_setting(rate_hz: float) -> int:
    fitting = [cfg for cfg, bw in DLPF_BANDWIDTH_HZ.items() if bw <= rate_hz / 2]
    return min(fitting) if fitting else max(DLPF_BANDWIDTH_HZ)


def identify(who_am_i: int, address: int, bus_name: object) -> Model:
    model = MODELS.get(who_am_i)
    if model is None:
        known = ", ".join(f"0x{k:02x} {m.sensor}" for k, m in MODELS.items())
        raise UnsupportedSensorError(
            f"I2C bus {bus_name}, address 0x{address:02x}: WHO_AM_I is 0x{who_am_i:02x}, not an "
            f"MPU-6050 family chip ({known}); check the board's part number, or pass --address "
            f"for the sensor you mean")
    return model


class Mpu6050:
    """Driver for one MPU-6050-family chip. ``bus`` is a ``SharedBus``; nothing here opens one."""

    family = "mpu6050"

    def __init__(self, bus: SharedBus, address: int, clock: Clock, *, accel_range_g: float = 4,
                 gyro_range_dps: float = 500, max_burst_bytes: int = 1020) -> None:
        self.device = RegisterDevice(bus, address)
        self.address = address
        self.clock = clock
        self.sensor = "mpu6050"
        self.model: Model | None = None
        self.config: ChipConfig | None = None
        self._accel = pick_range(ACCEL_RANGES_G, accel_range_g, "accelerometer", "MPU-6050")
        self._gyro = pick_range(GYRO_RANGES_DPS, gyro_range_dps, "gyroscope", "MPU-6050")
        self.max_burst_frames = max(1, max_burst_bytes // FRAME_BYTES)
        self._overflow_pending = False
        self._carried: list[bytes] = []

    def identify(self) -> Model:
        self.model = identify(self.device.read_u8(WHO_AM_I), self.address, self.device.bus.name)
        self.sensor = self.model.sensor
        return self.model

    def initialise(self, rate_hz: float) -> ChipConfig:
        divider, actual_hz = sample_rate_divider(rate_hz)
        model = self.identify()
        dev = self.device
        dev.write_u8(PWR_MGMT_1, PWR_MGMT_1_DEVICE_RESET)
        self.clock.sleep(RESET_WAIT_S)
        dev.write_u8(PWR_MGMT_1, PWR_MGMT_1_CLKSEL_PLL_XGYRO)   # wakes it: SLEEP cleared
        dlpf = dlpf_setting(actual_hz)
        dev.write_u8(SMPLRT_DIV, divider)
        dev.write_u8(CONFIG, dlpf)
        dev.write_u8(GYRO_CONFIG, self._gyro.field << RANGE_SHIFT)
        dev.write_u8(ACCEL_CONFIG, self._accel.field << RANGE_SHIFT)
        if model.has_accel_config2:
            dev.write_u8(ACCEL_CONFIG2, dlpf)
        dev.write_u8(INT_ENABLE, INT_FIFO_OFLOW)
        dev.write_u8(FIFO_EN, FIFO_EN_XG | FIFO_EN_YG | FIFO_EN_ZG | FIFO_EN_ACCEL)
        self.clock.sleep(GYRO_SETTLE_S)     # (woken above: no sample before the gyro settles)
        self.reset_fifo()
        dev.read_u8(INT_STATUS)   # clears a stale overflow flag
        self._overflow_pending = False
        self._carried = []
        self.config = ChipConfig(
            sensor=model.sensor, rate_hz=actual_hz, accel_range_g=self._accel.full_scale,
            gyro_range_dps=self._gyro.full_scale, accel_g_per_lsb=self._accel.units_per_lsb,
            gyro_dps_per_lsb=self._gyro.units_per_lsb,
            fifo_capacity_samples=model.fifo_bytes // FRAME_BYTES)
        return self.config

    def reset_fifo(self) -> None:
        self.device.write_u8(USER_CTRL, USER_CTRL_FIFO_RESET)
        self.device.write_u8(USER_CTRL, USER_CTRL_FIFO_EN)

    def read_fifo(self) -> FifoRead:
        """Whole frames waiting in the FIFO: count, one burst per 85 frames, then INT_STATUS.

        The overflow flag is read after the data, because the FIFO keeps filling during a long
        burst: if it overflowed at any point since the last poll, the head moved by whole bytes
        and what was just read cannot be trusted, so it is dropped and the FIFO restarted.
        """
        if self._overflow_pending:          # an earlier reset did not go through
            return self._restart_after_overflow()
        count, counted_at_s = self._fifo_count()
        if count % FRAME_BYTES:
            # Part of a frame: one being written as the count was read (whole microseconds
            # later), or bytes a failed burst popped (missing for good). A second look tells.
            count, counted_at_s = self._fifo_count()
        frames = 0 if count % FRAME_BYTES else count // FRAME_BYTES
        chunks = self._carried      # read before a transfer failed: popped, so kept, not re-read
        carried = sum(len(chunk) for chunk in chunks) // FRAME_BYTES
        while frames > 0:
            take = min(frames, self.max_burst_frames)
            chunks.append(self.device.read_burst(FIFO_R_W, take * FRAME_BYTES))
            frames -= take
        # INT_STATUS clears when read: remember an overflow until the reset has gone through
        if self.device.read_u8(INT_STATUS) & INT_FIFO_OFLOW or count % FRAME_BYTES:
            # (a partial frame means a byte went missing: a failed burst that still popped data)
            self._overflow_pending = True
            return self._restart_after_overflow()
        self._carried = []
        if not chunks:
            return FifoRead(EMPTY_RAW, counted_at_s=counted_at_s)
        raw = np.frombuffer(b"".join(chunks), dtype=">i2").reshape(-1, 6).astype(np.int64)
        return FifoRead(raw, counted_at_s=counted_at_s, carried_samples=carried)

    def _fifo_count(self) -> tuple[int, float]:
        """Bytes in the FIFO, and when they were counted."""
        high, low = self.device.read_burst(FIFO_COUNT_H, 2)
        return ((high << 8) | low) & 0x1FFF, self.clock.monotonic()

    def _restart_after_overflow(self) -> FifoRead:
        self._carried = []
        self.reset_fifo()
        self._overflow_pending = False
        return FifoRead(EMPTY_RAW, overflowed=True)

    def is_running(self) -> bool:
        power = self.device.read_u8(PWR_MGMT_1)
        user = self.device.read_u8(USER_CTRL)
        return not power & PWR_MGMT_1_SLEEP and bool(user & USER_CTRL_FIFO_EN)

    def read_data_registers(self) -> np.ndarray:
        """One sample by polling the 14 data registers: the old way, kept for the benchmark."""
        data = self.device.read_burst(ACCEL_XOUT_H, 14)
        values = np.frombuffer(data, dtype=">i2").astype(np.int64)
        return np.concatenate([values[0:3], values[4:7]])
