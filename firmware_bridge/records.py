"""Records passed between the drivers, the stream and the app. Units are in the names."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

State = Literal["calibrating", "reading", "lost", "reconnecting", "stuck"]
STATES: tuple[str, ...] = ("calibrating", "reading", "lost", "reconnecting", "stuck")


@dataclass(frozen=True)
class SampleBatch:
    """Consecutive samples from one sensor.

    ``t_s`` (N,) seconds on the stream's clock, from each sample's place in the FIFO stream;
    ``accel_g`` (N, 3) in standard gravity; ``gyro_dps`` (N, 3) in degrees per second, bias
    removed; sensor axes. ``lost_samples`` counts samples the chip made but nobody will ever
    see (overflow, disconnect, stuck data) before and inside this batch; they show as gaps in
    ``t_s``, never as invented values.
    """

    t_s: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray
    lost_samples: int = 0

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True)
class SensorStatus:
    """What a listener needs to show the user: the state and why."""

    state: State
    sensor: str | None
    address: int | None
    rate_hz: float
    bus: object = None
    message: str = ""
    lost_samples_total: int = 0
    samples_total: int = 0
    gyro_bias_dps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    calibration: Literal["pending", "measured", "remembered", "none"] = "pending"
    accel_range_g: float | None = None
    gyro_range_dps: float | None = None
    measured_rate_hz: float | None = None   # the chip's true rate, as the host clock sees it

    def as_dict(self) -> dict:
        return {
            "state": self.state, "sensor": self.sensor,
            "address": None if self.address is None else f"0x{self.address:02x}",
            "rate_hz": self.rate_hz, "bus": str(self.bus), "message": self.message,
            "lost_samples_total": self.lost_samples_total, "samples_total": self.samples_total,
            "gyro_bias_dps": list(self.gyro_bias_dps), "calibration": self.calibration,
            "accel_range_g": self.accel_range_g, "gyro_range_dps": self.gyro_range_dps,
            "measured_rate_hz": self.measured_rate_hz,
        }


@dataclass(frozen=True)
class ChipConfig:
    """What a driver actually set up, which may differ from what was asked (rates round)."""

    sensor: str
    rate_hz: float
    accel_range_g: float
    gyro_range_dps: float
    accel_g_per_lsb: float
    gyro_dps_per_lsb: float
    fifo_capacity_samples: int


@dataclass(frozen=True)
class FifoRead:
    """One poll of the FIFO: whole frames only, as raw counts.

    ``raw`` (N, 6) int: accel x, y, z then gyro x, y, z. ``overflowed`` means the chip dropped
    data and the driver has already reset the FIFO; the frames read before it are gone too.
    """

    raw: np.ndarray
    overflowed: bool = False
    dropped_samples: int = 0   # samples known lost while realigning (a lone tagged word, a broken frame)
    counted_at_s: float | None = None   # clock reading just after the count was read: the frames
                                        # read were all made before it (long bursts come later)
    carried_samples: int = 0   # the first samples of ``raw`` were read before a transfer failed;
                               # what that transfer popped unseen came after them


EMPTY_RAW = np.zeros((0, 6), dtype=np.int64)


class ImuDriver(Protocol):
    """The small interface both chip families implement; the stream knows nothing else."""

    sensor: str
    address: int
    config: ChipConfig | None

    def initialise(self, rate_hz: float) -> ChipConfig:
        """Identify the chip, reset it, configure it and start its FIFO."""

    def read_fifo(self) -> FifoRead:
        """Read every whole frame waiting, in bursts; reset the FIFO on overflow."""

    def is_running(self) -> bool:
        """False when the chip has lost its configuration (a brown-out put it to sleep)."""


@dataclass
class BusStats:
    """Traffic counters an emulated bus keeps for the benchmark."""

    transactions: int = 0
    messages: int = 0
    bytes_on_wire: int = 0   # address bytes included
    extra: dict = field(default_factory=dict)
